"""A schedule segment turned into days and time spans (the last step of the schedule reader).

Cue-less segments count as free time only when the sentence is not a story or about substance
use; a work segment's start and end said apart are joined ("start at 2 ... finish at 10:30");
clock times narrow the time-of-day words next to them ("evenings, after 8"). See
``admissions/understanding/clock.py`` for how a time phrase becomes a span.
"""

from __future__ import annotations

from dataclasses import dataclass

from admissions.profile import WEEKDAYS
from admissions.understanding.clock import (
    SHIFT_HINTS,
    TOD_HINTS,
    WEEKDAYS_ONLY,
    WORK_DAY,
    Hint,
    Span,
    days_from_spec,
    intersect,
    parse_time_phrase,
    shift_span,
    time_of_day_span,
)
from admissions.understanding.schedule_cues import CARE, FREE, OTHER, UNAVAILABLE, WORK, ends_shift
from admissions.understanding.schedule_items import Item, Message
from admissions.understanding.schedule_segments import Segment
from admissions.understanding.text import SEPARATORS, words

_REFINE_FILLER = words(
    "like around say usually ideally maybe roughly about - are is best good better work works "
    "for me great fine"
)
_STORY_WORDS = 1  # an uncued schedule in a sentence with more other words is a story
_STORY_WORDS_WITH_CLOCK = 3
_PLAIN_WORDS = words(
    "and or on at in the a from to but not except any every most all day days both "
    "either too really mostly usually probably maybe like around about pretty much are "
    "is for me um uh hmm well so just of week each per then also sometimes generally "
    "typically normally ish hours hrs"
)
_START_VERBS = {"start", "starts", "begin", "begins", "in", "clock", "get", "go", "gets", "goes"}
_END_WORDS = {
    "finish", "finishes", "end", "ends", "off", "done", "close", "closing", "out", "leave",
    "home", "til", "till", "until",
}  # fmt: skip
_SUBSTANCE = words(
    "drink drinks drank drunk drinking use using used high smoke smoking relapse "
    "relapsed sober clean craving cravings withdrawal withdrawals detox hangover seizure "
    "seizures pills shoot snort alcohol beer wine vodka liquor weed meth heroin fentanyl "
    "fent opioids opiates oxy percs xanax benzos coke cocaine crack dope kratom suboxone "
    "methadone nod dose"
)


@dataclass
class Built:
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


class SpanBuilder(Message):
    """Builds a segment's days and spans (the last step of the schedule reader)."""

    def _uncued_ok(self, seg: Segment) -> bool:
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

    def build(self, seg: Segment, work_end: int | None, work_days: list[str]) -> Built | None:
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
        return Built(
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

    def _start_and_end(self, times: list[Item]) -> list[Item]:
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
            if anchor in {"at", "around", "about", "by"} and rest and ends_shift(said_before):
                # "I get off at 5": work ends then (not "from 5 on")
                ends = Item("time", only.start, only.end, f"until {' '.join(rest)}", "time")
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
        joined = Item("time", first.start, second.end, text, "time_range")
        return [t for t in times if t not in (first, second, *inside)] + [joined]

    @staticmethod
    def _hint(tods: set[str], shifts: list[str]) -> Hint:
        """An am/pm hint from the segment's time-of-day words and shifts."""
        hints = {TOD_HINTS[t] for t in tods if t in TOD_HINTS}
        hints |= {SHIFT_HINTS[s] for s in shifts if s in SHIFT_HINTS}
        return hints.pop() if len(hints) == 1 else None

    @classmethod
    def _refines(cls, group: list[Item], item: Item, between: list[str], work: bool) -> bool:
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

    def _spans(self, seg: Segment, hint: Hint, work: bool, work_end: int | None) -> list[Span]:
        """Spans of the segment's times; adjacent times narrow each other."""
        groups: list[list[Item]] = []
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
