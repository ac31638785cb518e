"""Schedule items grouped into segments: days and times that belong together, and whose they are.

A new segment starts when days follow a completed days+times pair (or times follow one), after
"and"/"or" between times and days ("evenings and weekends"), or when the cue changes; see
``schedule_reader`` for the whole reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from admissions.understanding.schedule_items import Item, Message
from admissions.understanding.text import SEPARATORS

_CONJUNCTIONS = {"and", "or", "&", "plus", "also"}


@dataclass
class Segment:
    """Days and times that belong together, with whose time they are."""

    sentence: int
    polarity: str | None = None
    days: list[Item] = field(default_factory=list)
    times: list[Item] = field(default_factory=list)
    caps: list[Item] = field(default_factory=list)
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


class Segmenter(Message):
    """Groups a message's items into segments (the second step of the schedule reader)."""

    def segments(self, items: list[Item]) -> list[Segment]:
        """Group items into segments of days + times sharing one polarity."""
        result: list[Segment] = []
        seg: Segment | None = None
        for item in items:
            sentence = self.sent[item.start]
            if seg is None or seg.sentence != sentence:
                if seg is not None:
                    result.append(seg)
                seg = Segment(sentence)
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
                seg = Segment(sentence, polarity=seg.polarity, evidence=set(seg.evidence))
                seg.days = grouped
            elif after_other and (complete or joined):
                moved = self._trailing_days(seg) if item.kind == "time" else []
                result.append(seg)
                seg = Segment(sentence, polarity=seg.polarity, days=moved)
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

    def _apply_cue(self, seg: Segment, cue: Item, result: list[Segment]) -> Segment:
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
        return Segment(seg.sentence, polarity=cue.value, evidence=evidence)

    def _last_day_group(self, seg: Segment) -> list[Item]:
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

    def _trailing_days(self, seg: Segment) -> list[Item]:
        """Days after a break that belong to the next times: "..., and Monday after 4"."""
        if not seg.times:  # "free all week, days and evenings": no times yet, nothing trails
            return []
        last_time = max(t.end for t in seg.times)
        trailing = [d for d in seg.days if d.start >= last_time]
        for j in range(1, len(trailing)):
            between = self.words[trailing[j - 1].end : trailing[j].start]
            if any(w in SEPARATORS for w in between):
                moved = trailing[j:]
                seg.days = [d for d in seg.days if d not in moved]
                return moved
        return []
