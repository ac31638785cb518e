"""The items of a message's schedule: days, times, capacities, shifts and cues, in token order.

:class:`Message` is the parsed message as every step of the schedule reader sees it (tokens,
sentences, entities); :class:`ItemReader` finds the items the entity ruler's spans stand for,
keeping out day words that are ordinary words ("I sat down"), numbers that are not clock times
("after 5 years"), and cues about someone else ("my husband works nights"); it marks days said
as exceptions ("except sunday") and joins "mon - fri" into one range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from admissions.understanding.schedule_cues import (
    CARE,
    FREE,
    OTHER,
    STUDY_STATUS,
    UNAVAILABLE,
    WORK,
    cue_at,
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
_NURSE_SHIFTS = re.compile(r"\b(8|10|12)'?s\b")
_DAY_CONNECT = {"-", "–", "—", "to", "thru", "through", "till", "til", "until", "'til"}
_UNITS_AFTER_TIME = words(
    "year years yr yrs yo month months week weeks day days minute minutes min mins time "
    "times x kid kids child children drink drinks beer beers shot shots pill pills mg "
    "people percent % dollars bucks k grand point points of miles lbs pounds grams g "
    "bags bottles cans sessions hours hrs"
)
_SHIFT_WORDS = {"shift", "shifts", "day", "days", "night", "nights", "overnight", "overnights"}
_RATE_WORDS = {"a", "per", "each", "every", "/", "at"}
_SCHEDULE_LABELS = words(
    "weekday day_range time time_range time_of_day days_per_week hours_per_day shift work_status"
)


@dataclass
class Item:
    """One schedule element of a sentence, in token order."""

    kind: str  # days | time | cue | cap | shift
    start: int
    end: int
    value: str = ""  # day spec, time text, time-of-day id, cue polarity, cap label, shift id
    label: str = ""  # for times: time / time_range / time_of_day
    excluded: bool = False
    number: float | None = None
    evidence: str = ""  # for cues: job | study


class Message:
    """One parsed message as the schedule reader sees it: tokens, sentences and entities.

    Each step of the reader extends it (:class:`ItemReader`, ``schedule_segments.Segmenter``,
    ``schedule_spans.SpanBuilder``); ``schedule_reader`` joins the three into one object, so a
    message is tokenised once and every step reads the same lists.
    """

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


class ItemReader(Message):
    """Reads a message into schedule items (the first step of the schedule reader)."""

    def __init__(self, doc: Doc, asked_about: str | None) -> None:
        super().__init__(doc, asked_about)
        self.relation_at = [False] * len(doc)
        self.child_at = [False] * len(doc)
        for ent in self.ents:
            if ent.label_ == "care_relation" and ent.ent_id_ != "none":
                for k in range(ent.start, ent.end):
                    self.relation_at[k] = True
                    self.child_at[k] = ent.ent_id_ in {"child", "infant", "grandchild"}
        self.statuses: list[str] = []
        self.none_status = False

    def items(self) -> list[Item]:
        """Every schedule item of the message, in order."""
        found: list[Item] = []
        seen_child: set[int] = set()
        for ent in self.ents:
            label, value = ent.label_, ent.ent_id_
            if label == "care_relation" and value in {"child", "infant"}:
                seen_child.add(self.sent[ent.start])
            if label == "care_duty" and value in {"care", "caregiver", "depends"}:
                found.append(Item("cue", ent.start, ent.end, CARE))
            if label not in _SCHEDULE_LABELS:
                continue
            if label in {"weekday", "day_range"}:
                if not self._day_ok(ent):
                    continue
                found.append(Item("days", ent.start, ent.end, value or "", label))
            elif label in {"time", "time_range"}:
                if self._time_ok(ent):
                    found.append(Item("time", ent.start, ent.end, ent.text, label))
            elif label == "time_of_day":
                if ent.start > 0 and self.words[ent.start - 1] == "good":
                    continue  # "Good evening." greets; it is not a time
                found.append(Item("time", ent.start, ent.end, value, label))
            elif label in {"days_per_week", "hours_per_day"}:
                cap = self._cap(ent)
                if cap is not None:
                    found.append(Item("cap", ent.start, ent.end, label, number=cap))
                shift_length = _NURSE_SHIFTS.search(ent.text.lower())
                if label == "days_per_week" and shift_length:  # "three 12s a week"
                    hours = float(shift_length.group(1))
                    found.append(Item("cap", ent.start, ent.end, "hours_per_day", number=hours))
            elif label == "shift":
                polarity = OTHER if self._someone_else(ent.start) else WORK
                found.append(Item("cue", ent.start, ent.end, polarity, evidence="job"))
                found.append(Item("shift", ent.start, ent.end, value))
            elif label == "work_status":
                self._status(ent, value, found, self.sent[ent.start] in seen_child)
        for i in range(len(self.words)):
            if self.in_ent[i]:
                continue
            cue = cue_at(self.words, i)
            if cue is None and self.words[i] in _DROP_OFF_VERBS:
                if any(self.child_at[i + 1 : i + 4]):  # "I pick my kids up at 3"
                    cue = (CARE, "")
            if cue:
                polarity = OTHER if self._someone_else(i) else cue[0]
                found.append(Item("cue", i, i + 1, polarity, evidence=cue[1]))
        for item in list(found):
            before = self.words[item.start - 1] if item.start > 0 else ""
            if item.label == "time_of_day" and before in {"every", "each"}:
                # "every morning until 1:30" names its days: all of them
                found.append(Item("days", item.start - 1, item.start, "mon-sun", "day_range"))
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

    def _status(self, ent: EntSpan, value: str, found: list[Item], child_first: bool) -> None:
        """Record a work/school status; it also acts as a work cue."""
        if value == "none":
            nxt = [e for e in self.ents if ent.end <= e.start <= ent.end + 2]
            before = [e for e in self.ents if ent.start - 3 <= e.end <= ent.start]
            follows = self.words[ent.end] if ent.end < len(self.words) else ""
            if any(e.label_ in _SCHEDULE_LABELS for e in before) or follows == "for":
                # "mondays don't work (for me)", "that's not working for me"
                found.append(Item("cue", ent.start, ent.end, UNAVAILABLE))
            elif any(e.label_ in _SCHEDULE_LABELS for e in nxt):
                found.append(Item("cue", ent.start, ent.end, FREE))  # "don't work weekends"
            else:
                self.none_status = True
            return
        if (value in STUDY_STATUS and child_first) or self._someone_else(ent.start):
            # "my kids are in school until 3", "my wife works from home"
            found.append(Item("cue", ent.start, ent.end, OTHER))
            return
        self.statuses.append(value)
        kind = "study" if value in STUDY_STATUS else "job"
        found.append(Item("cue", ent.start, ent.end, WORK, evidence=kind))

    def _mark_exclusions(self, items: list[Item]) -> list[Item]:
        """Flag days said as exceptions: "not fridays", "except sunday", "anything but mon"."""
        previous: Item | None = None
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

    def _join_day_ranges(self, items: list[Item]) -> list[Item]:
        """Join "mon" "-" "fri" (two weekday items) into one day range "mon-fri"."""
        out: list[Item] = []
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
                    Item(
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
