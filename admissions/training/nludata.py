"""Rasa NLU training data as staff see it (intents, example counts) and the writer that
appends accepted examples to ``data/nlu/*.yml`` (and removes them again when the visitor they
came from is forgotten), one writer at a time.

The writer checks and cleans the examples here; the byte-for-byte edits of a file, verified
before the file is replaced, are in ``nluedit``; what counts as the same message and how an
example is cleaned are in ``nlutext`` (its names are importable from here too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from admissions.training import locks, nluedit
from admissions.training.files import read_yaml
from admissions.training.nlutext import (
    MAX_EXAMPLE_LENGTH,
    ExampleProblem,
    clean_example,
    example_lines,
    normalise,
    text_key,
)

__all__ = [
    "MAX_EXAMPLE_LENGTH",
    "NEW_INTENTS_FILE",
    "NOT_TRAINABLE",
    "AppendResult",
    "DataFileError",
    "DataWriter",
    "ExampleProblem",
    "IntentBlock",
    "clean_example",
    "domain_intents",
    "heldout_texts",
    "intent_counts",
    "known_texts",
    "load_blocks",
    "normalise",
    "text_key",
    "trainable_intents",
]

NEW_INTENTS_FILE = "staff_added.yml"
NOT_TRAINABLE = frozenset({"nlu_fallback"})
_YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class IntentBlock:
    """One ``- intent:`` item of an NLU file."""

    intent: str
    file: Path
    examples: list[str] = field(default_factory=list)


def _nlu_files(nlu_dir: Path) -> list[Path]:
    if not nlu_dir.is_dir():
        return []
    return sorted(p for p in nlu_dir.rglob("*") if p.suffix in _YAML_SUFFIXES and p.is_file())


class DataFileError(ValueError):
    """A training data file that is not valid YAML; the message names the file and line."""


def _load(path: Path) -> dict[str, Any]:
    try:
        data = read_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" near line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it cannot be read"
        raise DataFileError(
            f"The training data file {path.name} is not valid YAML{where} ({problem}). "
            "Fix that file (check the indentation of the lines there) and retrain."
        ) from None
    return data if isinstance(data, dict) else {}


def load_blocks(nlu_dir: Path) -> list[IntentBlock]:
    """Every intent item of every NLU file, in file order."""
    blocks = []
    for path in _nlu_files(nlu_dir):
        for item in _load(path).get("nlu") or []:
            if isinstance(item, dict) and isinstance(item.get("intent"), str):
                blocks.append(
                    IntentBlock(item["intent"], path, example_lines(item.get("examples")))
                )
    return blocks


def intent_counts(nlu_dir: Path) -> dict[str, int]:
    """Number of training examples per intent."""
    counts: dict[str, int] = {}
    for block in load_blocks(nlu_dir):
        counts[block.intent] = counts.get(block.intent, 0) + len(block.examples)
    return counts


def domain_intents(domain: Path) -> list[str]:
    """The intents the domain declares (the only ones an example may be labelled with)."""
    paths = sorted(domain.rglob("*.yml")) if domain.is_dir() else [domain]
    out: list[str] = []
    for path in paths:
        for item in _load(path).get("intents") or []:
            name = item if isinstance(item, str) else next(iter(item), None)
            if isinstance(name, str) and name not in out:
                out.append(name)
    return out


def trainable_intents(domain: Path) -> list[str]:
    """Domain intents staff may label examples with (not ``nlu_fallback``)."""
    return [i for i in domain_intents(domain) if i not in NOT_TRAINABLE]


def known_texts(nlu_dir: Path) -> dict[str, str]:
    """normalised example text -> its intent, over the training data."""
    return {normalise(t): b.intent for b in load_blocks(nlu_dir) for t in b.examples}


def heldout_texts(heldout_dir: Path) -> set[str]:
    """Normalised texts of the held-out test set (never to be trained on)."""
    if heldout_dir.is_file():
        blocks = [
            IntentBlock(i["intent"], heldout_dir, example_lines(i.get("examples")))
            for i in _load(heldout_dir).get("nlu") or []
            if isinstance(i, dict) and isinstance(i.get("intent"), str)
        ]
    else:
        blocks = load_blocks(heldout_dir)
    return {normalise(t) for b in blocks for t in b.examples}


@dataclass(frozen=True)
class AppendResult:
    """What an append did: the file written and the examples added / already present."""

    file: Path | None
    added: tuple[str, ...]
    present: tuple[str, ...]


class DataWriter:
    """Appends accepted examples to the NLU files, one writer at a time (a file lock)."""

    def __init__(self, nlu_dir: Path, domain: Path, heldout_dir: Path, lock_file: Path) -> None:
        """Where the data, the domain, the held-out set and the lock file are."""
        self.nlu_dir = nlu_dir
        self.domain = domain
        self.heldout_dir = heldout_dir
        self.lock_file = lock_file

    def check(self, intent: str, texts: Sequence[str]) -> list[str]:
        """Clean and check examples for ``intent``; raises ``ExampleProblem`` with the reason."""
        if intent not in trainable_intents(self.domain):
            raise ExampleProblem(f"{intent!r} is not an intent of the assistant.")
        known = known_texts(self.nlu_dir)
        heldout = heldout_texts(self.heldout_dir)
        cleaned: list[str] = []
        for raw in texts:
            text = clean_example(raw)
            key = normalise(text)
            if key in heldout:
                raise ExampleProblem(
                    "This sentence is in the held-out test set, which the model must never be "
                    "trained on (it measures the model honestly). Ignore it instead."
                )
            other = known.get(key)
            if other is not None and other != intent:
                raise ExampleProblem(
                    f"This sentence is already a training example of {other!r}. A sentence can "
                    "have only one intent; ask an engineer if that label is wrong."
                )
            if key not in {normalise(c) for c in cleaned}:
                cleaned.append(text)
        return cleaned

    def append(self, intent: str, texts: Sequence[str]) -> AppendResult:
        """Write ``texts`` as examples of ``intent`` (checked first; present ones skipped)."""
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, not one string")
        with locks.hold(self.lock_file, wait=True):
            cleaned = self.check(intent, texts)
            known = known_texts(self.nlu_dir)
            present = tuple(t for t in cleaned if normalise(t) in known)
            new = [t for t in cleaned if normalise(t) not in known]
            if not new:
                return AppendResult(None, (), present)
            path = next((b.file for b in load_blocks(self.nlu_dir) if b.intent == intent), None)
            if path is None:
                path = self.nlu_dir / NEW_INTENTS_FILE
                nluedit.append_new_intent(path, intent, new)
            else:
                nluedit.append_to_block(path, intent, new)
            return AppendResult(path, tuple(new), present)

    def remove(self, intent: str, texts: Sequence[str]) -> int:
        """Take ``texts`` out of ``intent``'s examples (forget-me, retention); how many went."""
        wanted = {normalise(t) for t in texts}
        removed = 0
        with locks.hold(self.lock_file, wait=True):
            for block in load_blocks(self.nlu_dir):
                if block.intent == intent and wanted & {normalise(e) for e in block.examples}:
                    removed += nluedit.remove_from_block(block.file, intent, wanted)
        return removed
