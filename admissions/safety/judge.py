"""Judging a crisis phrase in its sentence: a real signal, or set aside and why.

``Judge`` reads one doc against the ``Context`` rules (``admissions.safety.patterns``) and
gives each candidate span a verdict: ``None`` (a signal) or the reason it is set aside
(``negated``, ``idiom``, ``not_now``, ``informational``); see the package docstring.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from admissions.safety.patterns import ACUTE_KINDS, Context, Seq
from admissions.understanding import straighten

if TYPE_CHECKING:
    from spacy.tokens import Doc

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


def contains_seq(words: list[str], nums: list[bool], lo: int, hi: int, seq: Seq) -> bool:
    return any(_seq_at(words, nums, i, seq) for i in range(lo, hi - len(seq) + 1))


class Judge:
    """Judges candidate spans of one doc against the context rules."""

    def __init__(self, doc: Doc, ctx: Context) -> None:
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
            if any(contains_seq(self.words, self.nums, lo, start, s) for s in rule.unless_before):
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
        if any(contains_seq(words, self.nums, end, hi, s) for s in self.ctx.post_negations):
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
        return any(contains_seq(self.words, self.nums, lo, hi, s) for s in self.ctx.now_markers)

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
            contains_seq(words, nums, lo, hi, s) for s in ctx.overdose_outcome_markers
        ):
            return True  # "died of an overdose": final, whatever else the sentence says
        if self._has_now(lo, hi):
            return False
        if any(contains_seq(words, nums, lo, hi, s) for s in ctx.not_now_markers):
            return True
        for k in range(lo, hi):
            if words[k] in ctx.not_now_final_markers and (k + 1 >= hi or self.doc[k + 1].is_punct):
                return True
        span_text = " ".join(words[start:end])
        return (
            kind == "withdrawal_danger"
            and bool(ctx.informational_terms.search(span_text))
            and any(contains_seq(words, nums, lo, hi, s) for s in ctx.withdrawal_risk_markers)
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
            if contains_seq(words, nums, 0, len(words), ctx.idioms[k][1]):
                found.add(k)
        return tuple(ctx.idioms[k][0] for k in sorted(found))  # in the file's order
