"""Work/school hours and free time from the schedule spans the entity ruler found.

A sentence is read left to right as a list of items: day sets, times, capacity statements
("3 days a week"), shifts, and cue words that say whose time it is:

* work: "I work", "my shift", "classes", a shift name, a work/school status;
* free: "free", "available", "off", "can", "works for me", "I don't work weekends";
* unavailable: "can't", "busy", "not available", "no good", "mondays don't work";
* care: "I take care of my mom in the mornings", "I watch my grandkids on tuesdays";
* someone else's: "my husband works nights", "my kids are in school until 3" (ignored).

Items group into segments, each one set of days with one set of times; a new segment starts
when days follow a completed days+times pair (or times follow one), after "and"/"or" between
times and days ("evenings and weekends"), or when the cue changes. Unavailable and care time
count as busy but are not described as work; a bare "at 3" in a care sentence is a moment,
not a window. A segment with no cue is free time (or what the visitor was asked about) unless
the sentence is about substance use ("I drink every day"), is only "every day"/"daily", or
reads as a story ("I sat with my kids all day"). See admissions/understanding/clock.py for how
times and days become windows.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from admissions.profile import WEEKDAYS, Hours, WeeklyPicture, Window, WorkSchool
from admissions.understanding.clock import (
    SHIFT_HINTS,
    TOD_HINTS,
    WEEKDAYS_ONLY,
    WORK_DAY,
    Hint,
    Span,
    add_windows,
    days_from_spec,
    intersect,
    parse_time_phrase,
    place,
    shift_span,
    time_of_day_span,
)
from admissions.understanding.text import (
    NEGATORS,
    SEPARATORS,
    lower_tokens,
    numbers_in,
    preceded_by,
    sentence_ids,
    words,
)

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.tokens import Span as EntSpan

WORK, FREE, UNAVAILABLE = "work", "free", "unavailable"
CARE = "care"  # hours spent caring for someone: busy, but a bare "at 3" is only a moment
OTHER = "other"  # someone else's hours ("my husband works nights"): ignored

_FREE_CUES = words(
    "free available availability avail open flexible off able prefer preferably best "
    "only ideally can could come attend fine ok okay good"
)
_WORK_CUES = words(
    "work works working workin worked wrk wrking job jobs shift shifts employed office "
    "commute internship gig duty"
)
_STUDY_CUES = {"class", "classes", "lectures", "lecture", "clinicals", "labs"}
_UNAVAILABLE_CUES = words(
    "busy unavailable booked occupied cannot bad hard tough impossible difficult"
)
_WORK_FREE_AFTER = {"for", "best", "well", "fine", "great", "ok", "okay", "better", "perfectly"}
_WORK_FREE_BEFORE = {"would", "could", "might", "that", "it", "this", "which", "should", "'d"}
_WORK_SKIP_BEFORE = {"off", "after", "before", "from", "of", "to"}
_NOT = {"not", "n't", "nt", "never", "no"}
_NEGATED_CAN = {"ca", "can", "could", "wo", "would"}
_REFINE_FILLER = words(
    "like around say usually ideally maybe roughly about - are is best good better work works "
    "for me great fine"
)
_DAY_FILLER = {"on", "the", "any", "including", "really", "usually", "also", "just", "in", ","}
_DAY_NEGATORS = NEGATORS | {"except", "excluding", "besides", "minus", "than", "exept"}
_ANYTHING = {"anything", "anytime", "any", "day", "everything", "all", "anyday", "whenever"}
_AMBIGUOUS_DAYS = {"sat", "sun", "wed", "sats", "suns", "tu", "thr", "tr", "mw", "mons", "thrus"}
_DAY_PREV_OK = words(
    "on every this next until till and or & / - – , free off work but except not no thru through to"
)
_FIRST_PERSON = {"i", "me", "we", "us", "myself", "im", "i'm", "'m"}
_THIRD_PERSON = {"he", "she", "they", "hes", "shes", "he's", "she's", "theyre", "they're"}
_DROP_OFF_VERBS = {"pick", "picking", "picks", "drop", "dropping", "drops", "grab", "get"}
_STORY_WORDS = 1  # an uncued schedule in a sentence with more other words is a story
_STORY_WORDS_WITH_CLOCK = 3
_PLAIN_WORDS = words(
    "and or on at in the a from to but not except any every most all day days both "
    "either too really mostly usually probably maybe like around about pretty much are "
    "is for me um uh hmm well so just of week each per then also sometimes generally "
    "typically normally ish hours hrs"
)
_CONJUNCTIONS = {"and", "or", "&", "plus", "also"}
_NURSE_SHIFTS = re.compile(r"\b(8|10|12)'?s\b")
_START_VERBS = {"start", "starts", "begin", "begins", "in", "clock", "get", "go", "gets", "goes"}
_END_WORDS = {
    "finish", "finishes", "end", "ends", "off", "done", "close", "closing", "out", "leave",
    "home", "til", "till", "until",
}  # fmt: skip
_DAY_CONNECT = {"-", "–", "—", "to", "thru", "through", "till", "til", "until", "'til"}
_UNITS_AFTER_TIME = words(
    "year years yr yrs yo month months week weeks day days minute minutes min mins time "
    "times x kid kids child children drink drinks beer beers shot shots pill pills mg "
    "people percent % dollars bucks k grand point points of miles lbs pounds grams g "
    "bags bottles cans sessions hours hrs"
)
_SHIFT_WORDS = {"shift", "shifts", "day", "days", "night", "nights", "overnight", "overnights"}
_RATE_WORDS = {"a", "per", "each", "every", "/", "at"}
_SUBSTANCE = words(
    "drink drinks drank drunk drinking use using used high smoke smoking relapse "
    "relapsed sober clean craving cravings withdrawal withdrawals detox hangover seizure "
    "seizures pills shoot snort alcohol beer wine vodka liquor weed meth heroin fentanyl "
    "fent opioids opiates oxy percs xanax benzos coke cocaine crack dope kratom suboxone "
    "methadone nod dose"
)
_SCHEDULE_LABELS = words(
    "weekday day_range time time_range time_of_day days_per_week hours_per_day shift work_status"
)
# work_status ids of studying, as ``WorkSchool.study`` values
_STUDY_STATUS = {
    "full_time_student": "full_time",
    "part_time_student": "part_time",
    "student": "student",
}
_JOB_STATUS = ("full_time", "part_time", "works")  # the more specific first


@dataclass
class _Item:
    """One schedule element of a sentence, in token order."""

    kind: str  # days | time | cue | cap | shift
    start: int
    end: int
    value: str = ""  # day spec, time text, time-of-day id, cue polarity, cap label, shift id
    label: str = ""  # for times: time / time_range / time_of_day
    excluded: bool = False
    number: float | None = None
    evidence: str = ""  # for cues: job | study


@dataclass
class _Segment:
    """Days and times that belong together, with whose time they are."""

    sentence: int
    polarity: str | None = None
    days: list[_Item] = field(default_factory=list)
    times: list[_Item] = field(default_factory=list)
    caps: list[_Item] = field(default_factory=list)
    shifts: list[str] = field(default_factory=list)
    evidence: set[str] = field(default_factory=set)
    last: str = ""
    last_end: int = 0

    def has_content(self) -> bool:
        """True once any day, time, capacity or shift is in the segment."""
        return bool(self.days or self.times or self.caps or self.shifts)

    def positive_days(self) -> bool:
        """True when the segment names days (not only excluded ones)."""
        return any(not d.excluded for d in self.days)


@dataclass
class ScheduleFacts:
    """Schedule findings of one message."""

    busy: WeeklyPicture | None = None
    free: WeeklyPicture | None = None
    work_school: WorkSchool | None = None


@dataclass
class _Built:
    """A finished segment: polarity, days, spans and how explicit they were."""

    polarity: str
    days: list[str]
    spans: list[Span]
    days_explicit: bool
    times_explicit: bool
    caps: dict[str, float]
    shifts: list[str]
    evidence: set[str]
    tod_names: list[str]  # time-of-day ids, when the times were only such words


def _cue_at(words: list[str], i: int) -> tuple[str, str] | None:
    """The polarity (and evidence kind) a word signals, or None."""
    word = words[i]
    prev = words[i - 1] if i > 0 else ""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if word in _NEGATED_CAN and nxt in {"n't", "nt", "not"}:
        return (UNAVAILABLE, "")
    if word in _UNAVAILABLE_CUES:
        return (UNAVAILABLE, "")
    if word in {"free", "available", "open", "able", "good"} and prev in _NOT:
        return (UNAVAILABLE, "")
    before_prev = words[i - 2] if i > 1 else ""
    if word in {"work", "works"} and prev in _NOT and before_prev in {"does", "do", "will", "wo"}:
        return (UNAVAILABLE, "")  # "wednesdays don't work"
    if word in {"work", "works"}:
        if nxt in _WORK_FREE_AFTER or prev in _WORK_FREE_BEFORE:
            if prev in {"n't", "nt", "not"}:
                return (UNAVAILABLE, "")
            return (FREE, "")
        if prev in _WORK_SKIP_BEFORE:
            return None
    if word in _WORK_CUES:
        return (WORK, "job")
    if word in _STUDY_CUES:
        return (WORK, "study")
    if word in _FREE_CUES:
        if word == "off" and prev in _GET and nxt not in {"work", "of"}:
            return None  # "I start at 7 and get off at 3:30": the end of the shift
        return (FREE, "")
    return None


_GET = {"get", "gets", "got", "getting", "clock", "clocks"}


def _ends_shift(words: list[str]) -> bool:
    """Do these words say the end of a shift ("get off", "finish", "done")?"""
    return any(w in {"finish", "finishes", "done", "close", "closing"} for w in words) or any(
        a in _GET and b in {"off", "out"} for a, b in itertools.pairwise(words)
    )


class _Reader:
    """Reads one parsed message into schedule items and segments."""

    def __init__(self, doc: Doc, asked_about: str | None) -> None:
        self.doc = doc
        self.words = lower_tokens(doc)
        self.sent = sentence_ids(doc)
        self.asked_about = asked_about if asked_about in {WORK, FREE} else None
        self.ents: list[EntSpan] = sorted(doc.ents, key=lambda e: e.start)
        self.in_ent = [False] * len(doc)
        for ent in self.ents:
            for k in range(ent.start, ent.end):
                self.in_ent[k] = True
        self.relation_at = [False] * len(doc)
        self.child_at = [False] * len(doc)
        for ent in self.ents:
            if ent.label_ == "care_relation" and ent.ent_id_ != "none":
                for k in range(ent.start, ent.end):
                    self.relation_at[k] = True
                    self.child_at[k] = ent.ent_id_ in {"child", "infant", "grandchild"}
        self.statuses: list[str] = []
        self.none_status = False

    # ------------------------------------------------------------------ items
    def items(self) -> list[_Item]:
        """Every schedule item of the message, in order."""
        found: list[_Item] = []
        seen_child: set[int] = set()
        for ent in self.ents:
            label, value = ent.label_, ent.ent_id_
            if label == "care_relation" and value in {"child", "infant"}:
                seen_child.add(self.sent[ent.start])
            if label == "care_duty" and value in {"care", "caregiver", "depends"}:
                found.append(_Item("cue", ent.start, ent.end, CARE))
            if label not in _SCHEDULE_LABELS:
                continue
            if label in {"weekday", "day_range"}:
                if not self._day_ok(ent):
                    continue
                found.append(_Item("days", ent.start, ent.end, value or "", label))
            elif label in {"time", "time_range"}:
                if self._time_ok(ent):
                    found.append(_Item("time", ent.start, ent.end, ent.text, label))
            elif label == "time_of_day":
                if ent.start > 0 and self.words[ent.start - 1] == "good":
                    continue  # "Good evening." greets; it is not a time
                found.append(_Item("time", ent.start, ent.end, value, label))
            elif label in {"days_per_week", "hours_per_day"}:
                cap = self._cap(ent)
                if cap is not None:
                    found.append(_Item("cap", ent.start, ent.end, label, number=cap))
                shift_length = _NURSE_SHIFTS.search(ent.text.lower())
                if label == "days_per_week" and shift_length:  # "three 12s a week"
                    hours = float(shift_length.group(1))
                    found.append(_Item("cap", ent.start, ent.end, "hours_per_day", number=hours))
            elif label == "shift":
                polarity = OTHER if self._someone_else(ent.start) else WORK
                found.append(_Item("cue", ent.start, ent.end, polarity, evidence="job"))
                found.append(_Item("shift", ent.start, ent.end, value))
            elif label == "work_status":
                self._status(ent, value, found, self.sent[ent.start] in seen_child)
        for i in range(len(self.words)):
            if self.in_ent[i]:
                continue
            cue = _cue_at(self.words, i)
            if cue is None and self.words[i] in _DROP_OFF_VERBS:
                if any(self.child_at[i + 1 : i + 4]):  # "I pick my kids up at 3"
                    cue = (CARE, "")
            if cue:
                polarity = OTHER if self._someone_else(i) else cue[0]
                found.append(_Item("cue", i, i + 1, polarity, evidence=cue[1]))
        for item in list(found):
            before = self.words[item.start - 1] if item.start > 0 else ""
            if item.label == "time_of_day" and before in {"every", "each"}:
                # "every morning until 1:30" names its days: all of them
                found.append(_Item("days", item.start - 1, item.start, "mon-sun", "day_range"))
        found.sort(key=lambda it: (it.start, it.kind != "cue"))
        return self._join_day_ranges(self._mark_exclusions(found))

    def _someone_else(self, i: int) -> bool:
        """True when the words before ``i`` make someone else the subject ("my husband works")."""
        for k in range(i - 1, max(-1, i - 6), -1):
            if self.sent[k] != self.sent[i]:
                return False
            if self.words[k] in _FIRST_PERSON:
                return False
            if self.relation_at[k] or self.words[k] in _THIRD_PERSON:
                return True
        return False

    def _day_ok(self, ent: EntSpan) -> bool:
        """Reject day words that are probably ordinary words ("I sat down", "the sun")."""
        if ent.text.lower() not in _AMBIGUOUS_DAYS:
            return True
        prev = self.words[ent.start - 1] if ent.start > 0 else ""
        if ent.start > 0 and self.doc[ent.start - 1].ent_type_ in {"weekday", "day_range"}:
            return True  # "fri sat sun"
        nxt = self.doc[ent.end] if ent.end < len(self.doc) else None
        next_is_schedule = nxt is not None and (
            nxt.ent_type_ in {"weekday", "day_range", "time", "time_range", "time_of_day"}
            or nxt.lower_ in {"/", "-", "–", "&", ","}
        )
        return prev in _DAY_PREV_OK or next_is_schedule

    def _time_ok(self, ent: EntSpan) -> bool:
        """Reject number phrases that are not clock times ("after 5 years", "$9-10")."""
        nxt = self.words[ent.end] if ent.end < len(self.words) else ""
        prev = self.words[ent.start - 1] if ent.start > 0 else ""
        return nxt not in _UNITS_AFTER_TIME and prev not in {"$", "#", "number", "scale", "rate"}

    def _cap(self, ent: EntSpan) -> float | None:
        """The number of a capacity statement, or None when it is not one."""
        words = self.words[ent.start : ent.end]
        numbers = numbers_in(ent.text)
        if not numbers:
            return None
        value = max(numbers)
        if ent.label_ == "days_per_week":
            days = [n for n in numbers if 1 <= n <= 7]
            return max(days) if days else None
        if not any(w in _RATE_WORDS for w in words):
            nxt = self.words[ent.end] if ent.end < len(self.words) else ""
            nxt_ent = ent.end < len(self.doc) and self.doc[ent.end].ent_type_ == "shift"
            if "-" not in ent.text and nxt not in _SHIFT_WORDS and not nxt_ent:
                return None
        return value if 0 < value <= 24 else None

    def _status(self, ent: EntSpan, value: str, found: list[_Item], child_first: bool) -> None:
        """Record a work/school status; it also acts as a work cue."""
        if value == "none":
            nxt = [e for e in self.ents if ent.end <= e.start <= ent.end + 2]
            before = [e for e in self.ents if ent.start - 3 <= e.end <= ent.start]
            follows = self.words[ent.end] if ent.end < len(self.words) else ""
            if any(e.label_ in _SCHEDULE_LABELS for e in before) or follows == "for":
                # "mondays don't work (for me)", "that's not working for me"
                found.append(_Item("cue", ent.start, ent.end, UNAVAILABLE))
            elif any(e.label_ in _SCHEDULE_LABELS for e in nxt):
                found.append(_Item("cue", ent.start, ent.end, FREE))  # "don't work weekends"
            else:
                self.none_status = True
            return
        if (value in _STUDY_STATUS and child_first) or self._someone_else(ent.start):
            # "my kids are in school until 3", "my wife works from home"
            found.append(_Item("cue", ent.start, ent.end, OTHER))
            return
        self.statuses.append(value)
        kind = "study" if value in _STUDY_STATUS else "job"
        found.append(_Item("cue", ent.start, ent.end, WORK, evidence=kind))

    def _mark_exclusions(self, items: list[_Item]) -> list[_Item]:
        """Flag days said as exceptions: "not fridays", "except sunday", "anything but mon"."""
        previous: _Item | None = None
        for item in items:
            if item.kind != "days":
                if item.kind != "cue":
                    previous = None
                continue
            targets = set(_DAY_NEGATORS)
            if item.start >= 2 and self.words[item.start - 2] in _ANYTHING:
                targets.add("but")
            if item.start >= 1 and self.words[item.start - 1] == "but":
                before = self.words[item.start - 2] if item.start >= 2 else ""
                if before in _ANYTHING or before in {"day", "days", "week"}:
                    targets.add("but")
            item.excluded = preceded_by(
                self.words, self.sent, item.start, targets, _DAY_FILLER, window=4
            )
            if (
                not item.excluded
                and previous is not None
                and previous.excluded
                and all(w in SEPARATORS for w in self.words[previous.end : item.start])
            ):
                item.excluded = True
            previous = item
        return items

    def _join_day_ranges(self, items: list[_Item]) -> list[_Item]:
        """Join "mon" "-" "fri" (two weekday items) into one day range "mon-fri"."""
        out: list[_Item] = []
        for item in items:
            if (
                item.kind == "days"
                and out
                and out[-1].kind == "days"
                and out[-1].label == "weekday"
                and item.label == "weekday"
                and 1 <= item.start - out[-1].end <= 2
                and all(w in _DAY_CONNECT for w in self.words[out[-1].end : item.start])
            ):
                first = out.pop()
                out.append(
                    _Item(
                        "days",
                        first.start,
                        item.end,
                        f"{first.value}-{item.value}",
                        "day_range",
                        excluded=first.excluded,
                    )
                )
                continue
            out.append(item)
        return out

    # --------------------------------------------------------------- segments
    def segments(self, items: list[_Item]) -> list[_Segment]:
        """Group items into segments of days + times sharing one polarity."""
        result: list[_Segment] = []
        seg: _Segment | None = None
        for item in items:
            sentence = self.sent[item.start]
            if seg is None or seg.sentence != sentence:
                if seg is not None:
                    result.append(seg)
                seg = _Segment(sentence)
            if item.kind == "cue":
                seg = self._apply_cue(seg, item, result)
                continue
            complete = seg.positive_days() and bool(seg.times)
            joined = any(w in _CONJUNCTIONS for w in self.words[seg.last_end : item.start])
            after_other = (item.kind == "days" and seg.last == "time") or (
                item.kind == "time" and seg.last == "days" and seg.positive_days()
            )
            grouped = (
                self._last_day_group(seg)
                if item.kind == "time" and seg.last == "days" and not seg.times
                else []
            )
            if item.kind == "days" and item.excluded:
                pass
            elif grouped:
                # "monday and tuesday, and saturday mornings": mornings are Saturday's only
                seg.days = [d for d in seg.days if d not in grouped]
                result.append(seg)
                seg = _Segment(sentence, polarity=seg.polarity, evidence=set(seg.evidence))
                seg.days = grouped
            elif after_other and (complete or joined):
                moved = self._trailing_days(seg) if item.kind == "time" else []
                result.append(seg)
                seg = _Segment(sentence, polarity=seg.polarity, days=moved)
            if item.kind == "days":
                seg.days.append(item)
            elif item.kind == "time":
                seg.times.append(item)
            elif item.kind == "cap":
                seg.caps.append(item)
            elif item.kind == "shift":
                seg.shifts.append(item.value)
            if item.kind in {"days", "time"}:
                seg.last = item.kind
            seg.last_end = item.end
        if seg is not None:
            result.append(seg)
        return [s for s in result if s.has_content()]

    def _apply_cue(self, seg: _Segment, cue: _Item, result: list[_Segment]) -> _Segment:
        """Give the segment the cue's polarity, or close it and start a new one."""
        evidence = {cue.evidence} if cue.evidence else set()
        if not seg.has_content():
            seg.polarity = cue.value
            seg.evidence |= evidence
            return seg
        if seg.polarity is None:
            between = self.words[seg.last_end : cue.start]
            if not any(w in SEPARATORS for w in between):
                seg.polarity = cue.value
                seg.evidence |= evidence
                return seg
        elif seg.polarity == cue.value and (
            not evidence or not seg.evidence or evidence <= seg.evidence
        ):
            seg.evidence |= evidence
            return seg
        result.append(seg)
        return _Segment(seg.sentence, polarity=cue.value, evidence=evidence)

    def _last_day_group(self, seg: _Segment) -> list[_Item]:
        """The days after ", and" when the days before it were already joined by "and".

        "monday and tuesday, and saturday mornings" -> [saturday]: the time that follows is
        only the last group's. An Oxford-comma list ("monday, tuesday, and wednesday
        evenings") has no inner "and" before the comma, so the time is all three days'.
        """
        days = [d for d in seg.days if not d.excluded]
        for j in range(len(days) - 1, 0, -1):
            between = self.words[days[j - 1].end : days[j].start]
            if "," in between and any(w in _CONJUNCTIONS for w in between):
                before = self.words[days[0].end : days[j - 1].start]
                if any(w in _CONJUNCTIONS for w in before):
                    return [d for d in seg.days if d.start >= days[j].start]
                return []
        return []

    def _trailing_days(self, seg: _Segment) -> list[_Item]:
        """Days after a break that belong to the next times: "..., and Monday after 4"."""
        last_time = max(t.end for t in seg.times)
        trailing = [d for d in seg.days if d.start >= last_time]
        for j in range(1, len(trailing)):
            between = self.words[trailing[j - 1].end : trailing[j].start]
            if any(w in SEPARATORS for w in between):
                moved = trailing[j:]
                seg.days = [d for d in seg.days if d not in moved]
                return moved
        return []

    def _uncued_ok(self, seg: _Segment) -> bool:
        """Whether a segment without any cue may count as free time."""
        if self.asked_about is not None:
            return True
        tokens = [
            t
            for t, s in zip(self.doc, self.sent, strict=True)
            if s == seg.sentence and not (t.is_punct or t.is_space)
        ]
        if {t.lower_ for t in tokens} & _SUBSTANCE:
            return False
        other_words = [
            t
            for t in tokens
            if not self.in_ent[t.i] and not t.like_num and t.lower_ not in _PLAIN_WORDS
        ]
        only_every_day = (
            not seg.times
            and not seg.caps
            and all(d.value == "mon-sun" and not d.excluded for d in seg.days)
        )
        if only_every_day:  # "yes every day", "daily" answer how often, not when
            return False
        has_clock = any(t.label in {"time", "time_range"} for t in seg.times)
        # "I sat with my kids all day" is a story, not availability
        return len(other_words) <= (_STORY_WORDS_WITH_CLOCK if has_clock else _STORY_WORDS)

    # ------------------------------------------------------------------ build
    def build(self, seg: _Segment, work_end: int | None, work_days: list[str]) -> _Built | None:
        """Turn a segment into days and spans (or None when it says nothing usable)."""
        polarity = seg.polarity
        if polarity == OTHER:
            return None
        if polarity is None:
            if not self._uncued_ok(seg):
                return None
            polarity = self.asked_about or FREE
        if polarity == CARE:
            seg.times = [t for t in seg.times if t.label != "time"]  # "at 3" is a moment
            if not seg.times and not seg.positive_days():
                return None
            polarity = UNAVAILABLE
        work = polarity == WORK
        caps: dict[str, float] = {}
        for cap in seg.caps:
            if cap.number is not None:
                caps[cap.value] = max(caps.get(cap.value, 0.0), cap.number)
        if work:
            seg.times = self._start_and_end(seg.times)
        tods = {t.value for t in seg.times if t.label == "time_of_day"}
        hint = self._hint(set(), seg.shifts if work else [])
        spans = self._spans(seg, hint, work, work_end)
        times_explicit = bool(spans)
        tod_only = all(t.label == "time_of_day" for t in seg.times)
        tod_names = [t.value for t in seg.times] if tod_only else []
        if not spans and seg.shifts and work:
            span = shift_span(seg.shifts[0], caps.get("hours_per_day"))
            spans = [span] if span else []
        positive: set[str] = set()
        excluded: set[str] = set()
        for item in seg.days:
            (excluded if item.excluded else positive).update(days_from_spec(item.value))
        days_explicit = bool(positive or excluded)
        if positive:
            days = [d for d in WEEKDAYS if d in positive - excluded]
        elif work and "days_per_week" in caps and not excluded:
            days = []
        else:
            if work or "weeknight" in tods:
                base: list[str] = list(WEEKDAYS_ONLY)
            elif "after_work" in tods:
                base = work_days or list(WEEKDAYS_ONLY)
            else:
                base = list(WEEKDAYS)
            days = [d for d in base if d not in excluded]
        if not spans and days_explicit:
            all_day = time_of_day_span("all_day")
            spans = [WORK_DAY if polarity == WORK else all_day] if all_day else []
        if not spans:
            days = []
        return _Built(
            polarity,
            days,
            spans,
            days_explicit,
            times_explicit,
            caps,
            list(seg.shifts),
            seg.evidence,
            tod_names,
        )

    def _start_and_end(self, times: list[_Item]) -> list[_Item]:
        """Join a shift's start and end said apart into one range.

        "I start at 2 in the afternoon and finish at 10:30" is 14:00-22:30 and "from 2 in the
        afternoon till close, which is usually around 11" 14:00-23:00: the second time is the
        end of the first, not a morning time of its own.
        """
        clocks = [t for t in times if t.label == "time"]
        if len(clocks) == 1 and not any(t.label == "time_range" for t in times):
            only = clocks[0]
            anchor, *rest = only.value.lower().split()
            said_before = self.words[max(0, only.start - 3) : only.start]
            if anchor in {"at", "around", "about", "by"} and rest and _ends_shift(said_before):
                # "I get off at 5": work ends then (not "from 5 on")
                ends = _Item("time", only.start, only.end, f"until {' '.join(rest)}", "time")
                return [ends if t is only else t for t in times]
        if len(clocks) != 2 or any(t.label == "time_range" for t in times):
            return times
        first, second = clocks
        start_anchor, *start_rest = first.value.lower().split()
        end_anchor, *end_rest = second.value.lower().split()
        before_first = self.words[max(0, first.start - 6) : first.start]
        between = self.words[first.end : second.start]
        said_start = start_anchor in {"from", "starting", "start"} or (
            start_anchor == "at" and any(w in _START_VERBS for w in before_first)
        )
        said_end = end_anchor in {"until", "till", "til", "'til"} or (
            end_anchor in {"at", "around", "about", "by"} and any(w in _END_WORDS for w in between)
        )
        if not (said_start and said_end and start_rest and end_rest) or len(between) > 12:
            return times
        inside = [t for t in times if first.start < t.start < second.start]
        if any(t.label != "time_of_day" for t in inside):
            return times
        meridiem = self._hint({t.value for t in inside}, [])
        start_text = " ".join(start_rest) + (f" {meridiem}" if meridiem else "")
        text = f"{start_text} to {' '.join(end_rest)}"
        joined = _Item("time", first.start, second.end, text, "time_range")
        return [t for t in times if t not in (first, second, *inside)] + [joined]

    @staticmethod
    def _hint(tods: set[str], shifts: list[str]) -> Hint:
        """An am/pm hint from the segment's time-of-day words and shifts."""
        hints = {TOD_HINTS[t] for t in tods if t in TOD_HINTS}
        hints |= {SHIFT_HINTS[s] for s in shifts if s in SHIFT_HINTS}
        return hints.pop() if len(hints) == 1 else None

    @classmethod
    def _refines(cls, group: list[_Item], item: _Item, between: list[str], work: bool) -> bool:
        """A clock time after a comma that narrows the time-of-day word before it.

        "evenings, after 8" is 20:00-22:00 and "mornings, like 9 to 12" 09:00-12:00, not two
        separate windows. Only across a comma (fillers allowed: "like", "are best"), only
        after time-of-day words, and only when the time, read with their am/pm, overlaps
        them ("evenings, 10 to 2" stays two windows).
        """
        if item.label == "time_of_day" or any(t.label != "time_of_day" for t in group):
            return False
        if not between or any(w != "," and w not in _REFINE_FILLER for w in between):
            return False
        tods = {t.value for t in group}
        hint = cls._hint(tods, [])
        span = parse_time_phrase(item.value, hint, work)
        return span is not None and any(
            (tod := time_of_day_span(t, work)) is not None and intersect(tod, span) is not None
            for t in tods
        )

    def _spans(self, seg: _Segment, hint: Hint, work: bool, work_end: int | None) -> list[Span]:
        """Spans of the segment's times; adjacent times narrow each other."""
        groups: list[list[_Item]] = []
        for item in seg.times:
            between = self.words[groups[-1][-1].end : item.start] if groups else []
            if groups and (
                not any(w in SEPARATORS for w in between)
                or self._refines(groups[-1], item, between, work)
            ):
                groups[-1].append(item)
            else:
                groups.append([item])
        spans: list[Span] = []
        word_only: list[Span] = []  # spans from time-of-day words alone ("overnight")
        for group in groups:
            group_tods = {t.value for t in group if t.label == "time_of_day"}
            local_hint = self._hint(group_tods, []) or hint
            current: Span | None = None
            clock = False  # is ``current`` from a clock time (more exact than "evenings")?
            for item in group:
                is_clock = item.label != "time_of_day"
                if not is_clock:
                    span = time_of_day_span(item.value, work)
                    if item.value == "after_work" and work_end is not None and work_end < 1320:
                        span = (work_end, 1320)
                else:
                    span = parse_time_phrase(item.value, local_hint, work)
                if span is None:
                    continue
                narrowed = intersect(current, span) if current else span
                if narrowed and clock != is_clock:
                    # "evenings, 5 to 11" is 17:00-23:00: the word gave am/pm, the clock the
                    # hours; a clock time is never cut to a time-of-day word's default edges
                    narrowed = current if clock else span
                current = narrowed or span
                clock = clock or is_clock
            if current:
                spans.append(current)
                if not clock:
                    word_only.append(current)
        clocks = [sp for sp in spans if sp not in word_only]
        # "overnight security, 10 pm to 6 am": the clock times say which hours the word meant
        return [
            sp for sp in spans if sp not in word_only or not any(intersect(sp, c) for c in clocks)
        ]


def _hours(segments: list[_Built]) -> tuple[Hours, ...]:
    """The days and times of work or school segments, as said (explicit parts only)."""
    blocks: list[Hours] = []
    for b in segments:
        days = tuple(b.days) if b.days_explicit else ()
        spans: tuple[Span, ...] = ()
        named: tuple[str, ...] = ()
        if b.times_explicit:
            named = tuple(b.tod_names)
            spans = () if named else tuple(b.spans)
        block = Hours(days, spans, named)
        if (days or spans or named) and block not in blocks:
            blocks.append(block)
    return tuple(blocks)


def _work_school(built: list[_Built], statuses: list[str], none_status: bool) -> WorkSchool | None:
    """Work and school as data, or None when the message says nothing about them."""
    work = [b for b in built if b.polarity == WORK]
    study_status = next((_STUDY_STATUS[s] for s in _STUDY_STATUS if s in statuses), None)
    job_status = [s for s in statuses if s in _JOB_STATUS]

    def is_study(b: _Built) -> bool:
        if b.evidence:
            return "study" in b.evidence and "job" not in b.evidence
        return bool(study_status) and not job_status

    study = [b for b in work if is_study(b)]
    jobs = [b for b in work if not is_study(b)]
    if study_status is None and study:
        study_status = "student"
    shifts = [s for b in jobs for s in b.shifts]
    if not (job_status or jobs) and not study_status:
        return WorkSchool() if none_status else None
    job = next((s for s in _JOB_STATUS if s in job_status), "works") if job_status or jobs else None
    hours = max((b.caps.get("hours_per_day", 0.0) for b in jobs), default=0.0)
    days_per_week = max((b.caps.get("days_per_week", 0.0) for b in jobs), default=0.0)
    return WorkSchool(
        job=job,
        study=study_status,
        shift=(shifts[0] if shifts else "") if (shifts or hours) and job else None,
        shift_hours=(hours or None) if job else None,
        days_per_week=(days_per_week or None) if job else None,
        job_hours=_hours(jobs) if job else (),
        study_hours=_hours(study) if study_status else (),
    )


def read_schedule(doc: Doc, asked_about: str | None = None) -> ScheduleFacts:
    """Busy hours, free time and a work/school description from a parsed message."""
    reader = _Reader(doc, asked_about)
    segments = reader.segments(reader.items())
    built: list[_Built] = []
    work_end: int | None = None
    work_days: list[str] = []
    for seg in sorted(segments, key=lambda s: s.polarity != WORK):
        one = reader.build(seg, work_end, work_days)
        if one is None:
            continue
        built.append(one)
        if one.polarity == WORK and one.spans and one.days:
            ends = [e for _, e in one.spans if e <= 1440]
            if ends:
                work_end = max(ends + ([work_end] if work_end else []))
            work_days = sorted(set(work_days) | set(one.days), key=WEEKDAYS.index)
    facts = ScheduleFacts()
    for polarity_group, attr in (((WORK, UNAVAILABLE), "busy"), ((FREE,), "free")):
        group = [b for b in built if b.polarity in polarity_group]
        if not group:
            continue
        windows: dict[str, list[Window]] = {}
        for b in group:
            add_windows(windows, place(b.days, b.spans))
        days_cap = max((b.caps.get("days_per_week", 0.0) for b in group), default=0.0)
        hours_cap = max((b.caps.get("hours_per_day", 0.0) for b in group), default=0.0)
        picture = WeeklyPicture(
            windows=windows,
            max_days=int(days_cap) if days_cap else None,
            max_hours=float(hours_cap) if hours_cap else None,
        )
        if not picture.is_empty():
            setattr(facts, attr, picture)
    facts.work_school = _work_school(built, reader.statuses, reader.none_status)
    if facts.work_school is not None and facts.work_school.is_none() and facts.busy is None:
        facts.busy = WeeklyPicture()
    return facts
