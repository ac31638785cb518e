"""Deterministic crisis safety net: finds messages that signal danger now.

The crisis phrases live in ``admissions/understanding/patterns/crisis.yml`` (entity-ruler
patterns, label ``crisis``, ``id`` = category) together with the context rules used here.
Every candidate span is judged in its sentence and set aside (a ``Dismissal``) when it is

* ``negated`` - "I'm not suicidal", "never thought of killing myself", "no thoughts of self
  harm", "suicidal thoughts? no". A short contrast restores it ("I'm not suicidal but my
  sister is"); a negated call for help is still one ("I don't want to call 911");
* an ``idiom`` - "take my life back", "don't want to live like this", "shoot him a text",
  "I can't wake up early";
* ``not_now`` - an acute event (overdose, medical emergency, withdrawal danger) that the
  sentence puts in the past, a vague future or a habit: "I had seizures last time I quit",
  "my friend died of an overdose", "I'm worried about seizures when I stop drinking".
  A "now" in the sentence wins: "I quit two days ago and now I'm seeing things";
* ``informational`` - a general question with no specific person and nothing about now that
  names an overdose, narcan, withdrawal seizures, hallucinations or the DTs ("what are the
  signs of an overdose?", "how do you know if someone overdosed?"). The same question about a
  person ("how do I know if my son is overdosing?") is a crisis, and so is every state of a
  person ("not breathing", "won't wake up", "hallucinating"), question or not.

When in doubt the net errs toward safety: the crisis reply is a check-in with 911 / 988 /
SAMHSA, not an accusation. So suicide, self-harm and violence are never informational and are
not dismissed as history - a past attempt is the strongest sign of future risk - with one
exception: someone else's suicide dated in the past ("my cousin took his own life in 2015")
is bereavement. Past or feared withdrawal seizures and DTs are not an emergency now; the
assessment routes them to medical detox. Ordinary withdrawal ("I get the shakes in the
morning") has no crisis pattern at all.

Rasa-free: the pipeline component in ``rasa_addons/crisis_guard.py`` is a thin adapter.
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
    straighten,
)

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

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

NEGATED = "negated"
IDIOM = "idiom"
NOT_NOW = "not_now"
INFORMATIONAL = "informational"

_THIRD_PERSON = frozenset({"his", "her", "their", "himself", "herself", "themselves", "themself"})
# Words that end an elliptical clause: "but my sister is", "but he does", "but she is too".
_ELLIPSIS_ENDS = frozenset(
    {"is", "'s", "s", "are", "'re", "was", "were", "does", "did", "has", "have", "too", "also"}
)
_SENTENCE_ENDS = frozenset({".", "!", "?", "!!", "?!", "!?", "..."})
_YEAR = re.compile(r"^(19|20)\d\d$")
_PLACEHOLDERS = frozenset({"<num>", "<year>"})  # the pattern elements that are not words


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


# ----------------------------------------------------------------------------- loading

Seq = tuple[str, ...]


@dataclass(frozen=True)
class _Benign:
    contains: frozenset[str]
    unless: frozenset[str]
    last: frozenset[str]
    unless_before: tuple[Seq, ...]
    after: tuple[Seq, ...]
    before: tuple[Seq, ...]


@dataclass(frozen=True)
class _Context:
    negation_cues: frozenset[str]
    negation_window: int
    negation_breakers: frozenset[str]
    never_negated: frozenset[str]
    clause_breaks: frozenset[str]
    post_negations: tuple[Seq, ...]
    contrast_subjects: frozenset[str]
    benign: tuple[_Benign, ...]
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
def _context() -> _Context:
    try:
        return _load_context()
    except KeyError as exc:
        raise PatternError(f"{CRISIS_FILE.name}: 'context:' needs {exc}") from exc


def _load_context() -> _Context:
    raw = _read_crisis_file(CRISIS_FILE).get("context")
    if not isinstance(raw, dict):
        raise PatternError(f"{CRISIS_FILE}: expected a top-level 'context:' mapping")
    check_scalars(raw, f"{CRISIS_FILE.name} context")
    nlp = crisis_pipeline()
    benign = tuple(
        _Benign(
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
    return _Context(
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
    word (``_token_matches`` compares words for equality), so ``_Judge.idioms`` tries it at
    those positions only instead of at every position: the same matches, fewer comparisons.
    """
    starts: dict[str, list[int]] = {}
    anywhere: list[int] = []
    for n, (_, seq) in enumerate(idioms):
        if not seq or seq[0] in _PLACEHOLDERS:
            anywhere.append(n)
        else:
            starts.setdefault(seq[0], []).append(n)
    return {word: tuple(ns) for word, ns in starts.items()}, tuple(anywhere)


# ----------------------------------------------------------------------------- public API


@lru_cache(maxsize=1)
def _safe_contexts() -> tuple[re.Pattern[str] | None, tuple[tuple[str, re.Pattern[str]], ...]]:
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


def safe_context(text: str) -> str | None:
    """The name of the ordinary context the message is in ("activity_injury", ...), or None.

    For messages where the net found no crisis phrase: the guard uses it to overrule a
    classifier that says `crisis` about "I hurt myself at the gym" (see ``safe_contexts`` in
    crisis.yml). A message that says something is happening now never has a safe context.
    """
    lowered = straighten(text).lower()
    now, contexts = _safe_contexts()
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


# ----------------------------------------------------------------------------- judging


def _kind_of(value: str, nlp: Language) -> str:
    for ent in nlp(value).ents:
        if ent.label_ == CRISIS_LABEL and ent.ent_id_:
            return str(ent.ent_id_)
    return UNKNOWN_KIND


def _sentences(doc: Doc) -> list[int]:
    """Sentence number of every token (split after . ! ? and at line breaks)."""
    ids: list[int] = []
    n = 0
    for tok in doc:
        if tok.is_space and "\n" in tok.text:
            n += 1
            ids.append(n)
            continue
        ids.append(n)
        if tok.text in _SENTENCE_ENDS or (tok.is_punct and set(tok.text) <= set(".!?")):
            n += 1
    return ids


def _token_matches(word: str, tok_is_num: bool, pattern: str) -> bool:
    if pattern == "<num>":
        return tok_is_num
    if pattern == "<year>":
        return bool(_YEAR.match(word))
    return word == pattern


def _seq_at(words: list[str], nums: list[bool], i: int, seq: Seq) -> bool:
    if i < 0 or i + len(seq) > len(words):
        return False
    return all(_token_matches(words[i + k], nums[i + k], p) for k, p in enumerate(seq))


def _contains_seq(words: list[str], nums: list[bool], lo: int, hi: int, seq: Seq) -> bool:
    return any(_seq_at(words, nums, i, seq) for i in range(lo, hi - len(seq) + 1))


class _Judge:
    """Judges candidate spans of one doc against the context rules."""

    def __init__(self, doc: Doc, ctx: _Context) -> None:
        self.doc = doc
        self.ctx = ctx
        self.words = [straighten(t.lower_) for t in doc]
        self.nums = [bool(t.like_num) for t in doc]
        self.sent = _sentences(doc)

    def sentence_bounds(self, i: int) -> tuple[int, int]:
        """Token range [lo, hi) of the sentence holding token ``i``."""
        lo = i
        while lo > 0 and self.sent[lo - 1] == self.sent[i]:
            lo -= 1
        hi = i
        while hi < len(self.words) and self.sent[hi] == self.sent[i]:
            hi += 1
        return lo, hi

    def verdict(self, start: int, end: int, kind: str) -> str | None:
        """Reason to dismiss the span [start, end), or None when it is a real signal."""
        if self._benign(start, end):
            return IDIOM
        if self._negated(start, end):
            return NEGATED
        lo, hi = self.sentence_bounds(start)
        if kind in ACUTE_KINDS:
            if self._informational(start, end, lo, hi):
                return INFORMATIONAL
            if self._not_now(start, end, kind, lo, hi):
                return NOT_NOW
        elif kind == "suicide" and set(self.words[start:end]) & _THIRD_PERSON:
            if self._not_now(start, end, kind, lo, hi):
                return NOT_NOW  # someone else's death in the past: bereavement
        return None

    def _benign(self, start: int, end: int) -> bool:
        span_words = set(self.words[start:end])
        for rule in self.ctx.benign:
            if not span_words & rule.contains or span_words & rule.unless:
                continue
            if rule.last and self.words[end - 1] not in rule.last:
                continue
            lo, _ = self.sentence_bounds(start)
            if any(_contains_seq(self.words, self.nums, lo, start, s) for s in rule.unless_before):
                continue
            if any(_seq_at(self.words, self.nums, end, seq) for seq in rule.after):
                return True
            if any(_seq_at(self.words, self.nums, start - len(seq), seq) for seq in rule.before):
                return True
        return False

    def _negated(self, start: int, end: int) -> bool:
        ctx = self.ctx
        if set(self.words[start:end]) & ctx.never_negated:
            return False
        negated = False
        lo = max(0, start - ctx.negation_window)
        for k in range(start - 1, lo - 1, -1):
            word = self.words[k]
            if word in ctx.clause_breaks or self.sent[k] != self.sent[start]:
                break
            if word in ctx.negation_cues:
                between = self.words[k + 1 : start]
                negated = not any(w in ctx.negation_breakers for w in between)
                break
        if not negated:
            negated = self._post_negated(end)
        if negated and self._contrast_follows(end):
            return False
        return negated

    def _post_negated(self, end: int) -> bool:
        """ "was suicidal, not anymore" / "suicidal thoughts? no" / "self harm: none"."""
        words, n = self.words, len(self.words)
        hi = min(n, end + 5)
        if any(_contains_seq(words, self.nums, end, hi, s) for s in self.ctx.post_negations):
            return True
        for k in range(end, hi):
            if words[k] not in {"?", ":", "-", "=", "—", "–"}:
                continue
            j = k + 1
            while j < n and self.doc[j].is_punct:
                j += 1
            answer_ends = j + 1 >= n or self.doc[j + 1].is_punct or self.doc[j + 1].is_space
            return j < n and words[j] in {"no", "none", "nope", "never", "nah"} and answer_ends
        return False

    def _contrast_follows(self, end: int) -> bool:
        """ "I'm not suicidal but my sister is": a short contrast that names someone else."""
        _, hi = self.sentence_bounds(end - 1)
        for k in range(end, hi):
            if self.words[k] not in {"but", "though", "however"}:
                continue
            rest = [
                w for j, w in enumerate(self.words[k + 1 : hi], k + 1) if not self.doc[j].is_punct
            ]
            return (
                0 < len(rest) <= 5
                and any(w in self.ctx.contrast_subjects for w in rest[:2])
                and rest[-1] in _ELLIPSIS_ENDS
            )
        return False

    def _has_now(self, lo: int, hi: int) -> bool:
        return any(_contains_seq(self.words, self.nums, lo, hi, s) for s in self.ctx.now_markers)

    def _informational(self, start: int, end: int, lo: int, hi: int) -> bool:
        ctx = self.ctx
        span_text = " ".join(self.words[start:end])
        if not ctx.informational_terms.search(span_text):
            return False
        opener = next(
            (
                self.words[k]
                for k in range(lo, hi)
                if not (self.doc[k].is_punct or self.doc[k].is_space)
            ),
            "",
        )
        is_question = "?" in self.words[lo:hi] or opener in ctx.question_openers
        if not is_question:
            return False
        personal = any(w in ctx.personal_words for w in self.words[lo:hi])
        return not personal and not self._has_now(lo, hi)

    def _not_now(self, start: int, end: int, kind: str, lo: int, hi: int) -> bool:
        ctx = self.ctx
        words, nums = self.words, self.nums
        if kind == "overdose" and any(
            _contains_seq(words, nums, lo, hi, s) for s in ctx.overdose_outcome_markers
        ):
            return True  # "died of an overdose": final, whatever else the sentence says
        if self._has_now(lo, hi):
            return False
        if any(_contains_seq(words, nums, lo, hi, s) for s in ctx.not_now_markers):
            return True
        for k in range(lo, hi):
            if words[k] in ctx.not_now_final_markers and (k + 1 >= hi or self.doc[k + 1].is_punct):
                return True
        span_text = " ".join(words[start:end])
        return (
            kind == "withdrawal_danger"
            and bool(ctx.informational_terms.search(span_text))
            and any(_contains_seq(words, nums, lo, hi, s) for s in ctx.withdrawal_risk_markers)
        )

    def idioms(self) -> tuple[str, ...]:
        """Figurative phrases present anywhere in the doc ("this job is killing me")."""
        ctx, words, nums = self.ctx, self.words, self.nums
        found: set[int] = set()
        for i, word in enumerate(words):
            for k in ctx.idiom_starts.get(word, ()):
                if k not in found and _seq_at(words, nums, i, ctx.idioms[k][1]):
                    found.add(k)
        for k in ctx.idioms_anywhere:
            if _contains_seq(words, nums, 0, len(words), ctx.idioms[k][1]):
                found.add(k)
        return tuple(ctx.idioms[k][0] for k in sorted(found))  # in the file's order


def _screen_spans(doc: Doc, spans: Iterable[tuple[int, int, str]], text: str) -> Screening:
    judge = _Judge(doc, _context())
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
