"""Screening a message: what the net found (signals, dismissals, idioms) and the public calls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from admissions.safety.judge import IDIOM, NEGATED, Judge
from admissions.safety.patterns import (
    CRISIS_LABEL,
    KINDS,
    UNKNOWN_KIND,
    context,
    crisis_pipeline,
    safe_contexts,
)
from admissions.understanding import straighten

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span


@dataclass(frozen=True)
class CrisisSignal:
    """A phrase that signals danger now: its category and where it sits in the message."""

    kind: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Dismissal:
    """A crisis phrase set aside in context, and why (negated, idiom, not_now, informational)."""

    kind: str
    text: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Screening:
    """Everything the safety net found in one message."""

    signals: tuple[CrisisSignal, ...] = ()
    dismissals: tuple[Dismissal, ...] = ()
    idioms: tuple[str, ...] = ()

    @property
    def signal(self) -> CrisisSignal | None:
        """The most urgent signal (see ``KINDS``), earliest first among equals, or None."""
        if not self.signals:
            return None
        rank = {kind: n for n, kind in enumerate(KINDS)}
        return min(self.signals, key=lambda s: (rank.get(s.kind, len(KINDS)), s.start))

    @property
    def figurative(self) -> bool:
        """True when the message only uses crisis words negated or as idioms, with no signal."""
        if self.signals or not (self.dismissals or self.idioms):
            return False
        return all(d.reason in (NEGATED, IDIOM) for d in self.dismissals)

    @property
    def set_aside(self) -> bool:
        """True when every crisis phrase was explained away (negation, idiom, past, question)."""
        return not self.signals and bool(self.dismissals or self.idioms)


def safe_context(text: str) -> str | None:
    """The name of the ordinary context the message is in ("activity_injury", ...), or None.

    For messages where the net found no crisis phrase: the guard uses it to overrule a
    classifier that says `crisis` about "I hurt myself at the gym" (see ``safe_contexts`` in
    crisis.yml). A message that says something is happening now never has a safe context.
    """
    lowered = straighten(text).lower()
    now, contexts = safe_contexts()
    if now is not None and now.search(lowered):
        return None
    for name, rx in contexts:
        if rx.search(lowered):
            return name
    return None


def screen(text: str, nlp: Language | None = None) -> Screening:
    """Screen one message: crisis signals, dismissed (harmless) phrases and idioms."""
    nlp = nlp or crisis_pipeline()
    doc = nlp(straighten(text))
    spans = [ent for ent in doc.ents if ent.label_ == CRISIS_LABEL]
    return _screen_spans(doc, [(s.start, s.end, s.ent_id_ or UNKNOWN_KIND) for s in spans], text)


def detect_crisis(text: str, nlp: Language | None = None) -> CrisisSignal | None:
    """Return the most urgent crisis signal in ``text``, or None when there is none.

    ``nlp`` is any pipeline whose entity ruler holds the crisis patterns (the project's built
    pipeline qualifies); by default the cached crisis-only pipeline is used.
    """
    return screen(text, nlp).signal


def screen_entities(
    text: str,
    entities: Sequence[Mapping[str, Any] | Span],
    nlp: Language | None = None,
) -> Screening:
    """Judge crisis entities already found by a pipeline (Rasa entity dicts or spaCy spans).

    Rasa dicts (``{"entity": "crisis", "value", "start", "end", ...}``) carry no category, so
    it is recovered from the matched value; spans keep theirs in ``ent_id_``. Entities of other
    labels are ignored. Only the given spans are judged: no new phrases are searched for.
    """
    nlp = nlp or crisis_pipeline()
    span_objs = [e for e in entities if not isinstance(e, Mapping)]
    dicts = [e for e in entities if isinstance(e, Mapping)]
    results: list[Screening] = []
    if span_objs:
        docs: dict[int, tuple[Doc, list[tuple[int, int, str]]]] = {}
        for span in span_objs:
            if span.label_ != CRISIS_LABEL:
                continue
            entry = docs.setdefault(id(span.doc), (span.doc, []))
            entry[1].append((span.start, span.end, span.ent_id_ or _kind_of(span.text, nlp)))
        for doc, found in docs.values():
            source = text if len(doc.text) == len(text) else doc.text
            results.append(_screen_spans(doc, found, source))
    crisis_dicts = [d for d in dicts if d.get("entity") == CRISIS_LABEL]
    if crisis_dicts:
        doc = nlp.make_doc(straighten(text))
        found = []
        for ent in crisis_dicts:
            span = doc.char_span(int(ent["start"]), int(ent["end"]), alignment_mode="expand")
            if span is None:
                continue
            kind = str(ent.get("kind") or ent.get("id") or _kind_of(str(ent.get("value")), nlp))
            found.append((span.start, span.end, kind))
        results.append(_screen_spans(doc, found, text))
    return Screening(
        signals=tuple(s for r in results for s in r.signals),
        dismissals=tuple(d for r in results for d in r.dismissals),
        idioms=tuple(i for r in results for i in r.idioms),
    )


def signal_from_entities(
    text: str,
    entities: Sequence[Mapping[str, Any] | Span],
    nlp: Language | None = None,
) -> CrisisSignal | None:
    """Return the most urgent crisis signal among already-extracted crisis entities."""
    return screen_entities(text, entities, nlp).signal


def _kind_of(value: str, nlp: Language) -> str:
    for ent in nlp(value).ents:
        if ent.label_ == CRISIS_LABEL and ent.ent_id_:
            return str(ent.ent_id_)
    return UNKNOWN_KIND


def _screen_spans(doc: Doc, spans: Iterable[tuple[int, int, str]], text: str) -> Screening:
    judge = Judge(doc, context())
    signals: list[CrisisSignal] = []
    dismissals: list[Dismissal] = []
    for start, end, kind in sorted(set(spans)):
        span = doc[start:end]
        s_char, e_char = span.start_char, span.end_char
        matched = text[s_char:e_char]
        reason = judge.verdict(start, end, kind)
        if reason is None:
            signals.append(CrisisSignal(kind, matched, s_char, e_char))
        else:
            dismissals.append(Dismissal(kind, matched, s_char, e_char, reason))
    return Screening(tuple(signals), tuple(dismissals), judge.idioms())
