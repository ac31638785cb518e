"""The crisis net's rule knowledge, loaded from ``patterns/crisis.yml``: phrases and context.

The entity-ruler patterns (label ``crisis``, ``id`` = category) become the crisis-only spaCy
pipeline; the ``context:`` section (negation cues, idioms, "not now" markers …) becomes a
``Context`` the judge reads; ``safe_contexts:`` the ordinary contexts that overrule a
classifier-only crisis. Each is read once and cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from admissions.understanding import (
    PATTERN_DIR,
    PatternError,
    build_pipeline,
    check_scalars,
    load_patterns,
    read_pattern_file,
)

if TYPE_CHECKING:
    from spacy.language import Language

CRISIS_LABEL = "crisis"
CRISIS_FILE = PATTERN_DIR / "crisis.yml"

# Most urgent first: when a message holds several signals, the first kind here is reported.
KINDS: tuple[str, ...] = (
    "medical_emergency",
    "overdose",
    "withdrawal_danger",
    "violence",
    "suicide",
    "self_harm",
)
ACUTE_KINDS = frozenset({"medical_emergency", "overdose", "withdrawal_danger"})
UNKNOWN_KIND = "unspecified"

PLACEHOLDERS = frozenset({"<num>", "<year>"})  # the pattern elements that are not words


Seq = tuple[str, ...]


@dataclass(frozen=True)
class Benign:
    """One rule of ``context.benign``: when a crisis phrase is harmless in its words."""

    contains: frozenset[str]
    unless: frozenset[str]
    last: frozenset[str]
    unless_before: tuple[Seq, ...]
    after: tuple[Seq, ...]
    before: tuple[Seq, ...]


@dataclass(frozen=True)
class Context:
    """The ``context:`` rules of crisis.yml, as the judge reads them."""

    negation_cues: frozenset[str]
    negation_window: int
    negation_breakers: frozenset[str]
    never_negated: frozenset[str]
    clause_breaks: frozenset[str]
    post_negations: tuple[Seq, ...]
    contrast_subjects: frozenset[str]
    benign: tuple[Benign, ...]
    not_now_markers: tuple[Seq, ...]
    not_now_final_markers: frozenset[str]
    overdose_outcome_markers: tuple[Seq, ...]
    withdrawal_risk_markers: tuple[Seq, ...]
    now_markers: tuple[Seq, ...]
    informational_terms: re.Pattern[str]
    question_openers: frozenset[str]
    personal_words: frozenset[str]
    idioms: tuple[tuple[str, Seq], ...]
    # where each idiom can start (speed only, see ``_idiom_index``): its first word -> the
    # idioms' positions in ``idioms``; idioms that start with a placeholder are tried anywhere
    idiom_starts: Mapping[str, tuple[int, ...]]
    idioms_anywhere: tuple[int, ...]


def _read_crisis_file(path: Path) -> dict[str, Any]:
    return read_pattern_file(path)


def crisis_patterns(path: Path = CRISIS_FILE) -> list[dict[str, Any]]:
    """Return the entity-ruler patterns of the crisis file (label ``crisis`` only)."""
    patterns = load_patterns(files=[path])
    for n, pattern in enumerate(patterns, 1):
        if pattern.get("label") != CRISIS_LABEL:
            raise PatternError(f"{path.name} pattern {n}: every entry needs label '{CRISIS_LABEL}'")
        if pattern.get("id") not in KINDS:
            raise PatternError(f"{path.name} pattern {n}: id must be one of {', '.join(KINDS)}")
    return patterns


@lru_cache(maxsize=1)
def crisis_pipeline() -> Language:
    """Return the cached in-memory pipeline that the safety net runs on every message.

    Built by the one builder (``admissions.understanding.pipeline.build``) from the crisis file
    alone, so that a longer span of another label (a schedule or payer phrase) can never
    shadow a crisis phrase.
    """
    nlp: Language = build_pipeline(patterns=crisis_patterns())  # checked: label, kinds
    return nlp


def _seqs(nlp: Language, items: Iterable[Any]) -> tuple[Seq, ...]:
    out: list[Seq] = []
    for item in items:
        words: list[str] = []
        for part in str(item).lower().split():
            if part.startswith("<") and part.endswith(">"):
                words.append(part)  # placeholder such as <num> or <year>
            else:
                words.extend(t.lower_ for t in nlp.make_doc(part))
        out.append(tuple(words))
    return tuple(out)


def _words(items: Iterable[Any]) -> frozenset[str]:
    return frozenset(str(i).lower() for i in items)


@lru_cache(maxsize=1)
def context() -> Context:
    """The judge's context rules from crisis.yml, read once (a missing key is named)."""
    try:
        return _load_context()
    except KeyError as exc:
        raise PatternError(f"{CRISIS_FILE.name}: 'context:' needs {exc}") from exc


def _load_context() -> Context:
    raw = _read_crisis_file(CRISIS_FILE).get("context")
    if not isinstance(raw, dict):
        raise PatternError(f"{CRISIS_FILE}: expected a top-level 'context:' mapping")
    check_scalars(raw, f"{CRISIS_FILE.name} context")
    nlp = crisis_pipeline()
    benign = tuple(
        Benign(
            contains=_words(rule.get("contains", [])),
            unless=_words(rule.get("unless", [])),
            last=_words(rule.get("last", [])),
            unless_before=_seqs(nlp, rule.get("unless_before", [])),
            after=_seqs(nlp, rule.get("after", [])),
            before=_seqs(nlp, rule.get("before", [])),
        )
        for rule in raw.get("benign", [])
    )
    idioms = tuple(zip(map(str, raw["idioms"]), _seqs(nlp, raw["idioms"]), strict=True))
    idiom_starts, idioms_anywhere = _idiom_index(idioms)
    return Context(
        negation_cues=_words(raw["negation_cues"]),
        negation_window=int(raw["negation_window"]),
        negation_breakers=_words(raw["negation_breakers"]),
        never_negated=_words(raw["never_negated"]),
        clause_breaks=_words(raw["clause_breaks"]),
        post_negations=_seqs(nlp, raw["post_negations"]),
        contrast_subjects=_words(raw["contrast_subjects"]),
        benign=benign,
        not_now_markers=_seqs(nlp, raw["not_now_markers"]),
        not_now_final_markers=_words(raw["not_now_final_markers"]),
        overdose_outcome_markers=_seqs(nlp, raw["overdose_outcome_markers"]),
        withdrawal_risk_markers=_seqs(nlp, raw["withdrawal_risk_markers"]),
        now_markers=_seqs(nlp, raw["now_markers"]),
        informational_terms=re.compile(str(raw["informational_terms"])),
        question_openers=_words(raw["question_openers"]),
        personal_words=_words(raw["personal_words"]),
        idioms=idioms,
        idiom_starts=idiom_starts,
        idioms_anywhere=idioms_anywhere,
    )


def _idiom_index(
    idioms: Sequence[tuple[str, Seq]],
) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """Idioms by their first word, and those that start with a placeholder (or are empty).

    An idiom whose first element is a plain word can only match where the message has that
    word (``_token_matches`` compares words for equality), so ``Judge.idioms`` tries it at
    those positions only instead of at every position: the same matches, fewer comparisons.
    """
    starts: dict[str, list[int]] = {}
    anywhere: list[int] = []
    for n, (_, seq) in enumerate(idioms):
        if not seq or seq[0] in PLACEHOLDERS:
            anywhere.append(n)
        else:
            starts.setdefault(seq[0], []).append(n)
    return {word: tuple(ns) for word, ns in starts.items()}, tuple(anywhere)


@lru_cache(maxsize=1)
def safe_contexts() -> tuple[re.Pattern[str] | None, tuple[tuple[str, re.Pattern[str]], ...]]:
    """The "now" markers and the named ordinary contexts of ``safe_contexts:`` in crisis.yml."""
    raw = _read_crisis_file(CRISIS_FILE).get("safe_contexts") or {}
    if not isinstance(raw, dict) or not isinstance(raw.get("contexts", {}), dict):
        raise PatternError(f"{CRISIS_FILE.name}: 'safe_contexts:' needs a 'contexts:' mapping")
    try:
        now = re.compile(str(raw["now_markers"])) if raw.get("now_markers") else None
        contexts = tuple(
            (str(name), re.compile(str(rx))) for name, rx in (raw.get("contexts") or {}).items()
        )
    except re.error as exc:
        raise PatternError(
            f"{CRISIS_FILE.name} safe_contexts: bad regular expression: {exc}"
        ) from exc
    return now, contexts
