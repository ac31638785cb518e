"""Rasa NLU training data as staff see it (intents, example counts) and the round-trip-safe
writer that appends accepted examples to ``data/nlu/*.yml`` (and removes them again when the
visitor they came from is forgotten).

The writer edits text, not a re-dumped YAML tree: it finds the intent's ``examples: |`` block
and inserts ``- text`` lines after the block's last line, so comments, quoting, blank lines,
key order and every other file stay byte-for-byte as they were. Before the file is replaced
(atomically) the new text is parsed again and must equal the old data plus exactly the new
examples; anything else aborts the write.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from admissions.training import locks

MAX_EXAMPLE_LENGTH = 300
NEW_INTENTS_FILE = "staff_added.yml"
NOT_TRAINABLE = frozenset({"nlu_fallback"})
_YAML_SUFFIXES = (".yml", ".yaml")
# Characters YAML may not hold (PyYAML's reader refuses them) and other invisible controls.
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


class ExampleProblem(ValueError):
    """Why an example cannot be written (shown to staff as is)."""


@dataclass
class IntentBlock:
    """One ``- intent:`` item of an NLU file."""

    intent: str
    file: Path
    examples: list[str] = field(default_factory=list)


_EDGE_PUNCTUATION = " \t.,!?;:…\"'“”‘’()"


def normalise(text: str) -> str:
    """What counts as "the same message": case-folded, single-spaced, trimmed, without
    punctuation at either end ("Hello!" is "hello")."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return folded.strip(_EDGE_PUNCTUATION) or folded


def text_key(text: str) -> str:
    """SHA-256 of the normalised text: how the inbox de-duplicates and remembers decisions."""
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def clean_example(text: str) -> str:
    """The text as it will be written: one line, printable, no Rasa entity markup.

    Square brackets become round ones (``[x](entity)`` is Rasa's entity syntax; entities come
    from the project's spaCy patterns, not from annotations). Raises ``ExampleProblem``.
    """
    text = _NON_PRINTABLE.sub(" ", unicodedata.normalize("NFC", text))
    text = " ".join(text.replace("[", "(").replace("]", ")").split())
    if not text:
        raise ExampleProblem("The example is empty.")
    if len(text) > MAX_EXAMPLE_LENGTH:
        raise ExampleProblem(f"Keep examples under {MAX_EXAMPLE_LENGTH} characters.")
    if text.startswith("/"):
        raise ExampleProblem("Button payloads (text starting with /) are not examples.")
    return text


def _examples(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    out = []
    for line in value.splitlines():
        stripped = line.strip()
        if stripped.startswith("- "):
            out.append(stripped[2:].strip())
        elif stripped == "-":
            out.append("")
    return out


def _nlu_files(nlu_dir: Path) -> list[Path]:
    if not nlu_dir.is_dir():
        return []
    return sorted(p for p in nlu_dir.rglob("*") if p.suffix in _YAML_SUFFIXES and p.is_file())


class DataFileError(ValueError):
    """A training data file that is not valid YAML; the message names the file and line."""


def _load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
                blocks.append(IntentBlock(item["intent"], path, _examples(item.get("examples"))))
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
            IntentBlock(i["intent"], heldout_dir, _examples(i.get("examples")))
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
                _append_new_intent(path, intent, new)
            else:
                _append_to_block(path, intent, new)
            return AppendResult(path, tuple(new), present)

    def remove(self, intent: str, texts: Sequence[str]) -> int:
        """Take ``texts`` out of ``intent``'s examples (forget-me, retention); how many went."""
        wanted = {normalise(t) for t in texts}
        removed = 0
        with locks.hold(self.lock_file, wait=True):
            for block in load_blocks(self.nlu_dir):
                if block.intent == intent and wanted & {normalise(e) for e in block.examples}:
                    removed += _remove_from_block(block.file, intent, wanted)
        return removed


_EXAMPLES_LINE = re.compile(r"^(\s*)examples:\s*\|[1-9]?[+-]?[1-9]?\s*(#.*)?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _intent_line(intent: str) -> re.Pattern[str]:
    name = re.escape(intent)
    return re.compile(rf"""^(\s*)-\s+intent:\s*(?:{name}|"{name}"|'{name}')\s*(#.*)?$""")


def _read_exact(path: Path) -> str:
    """The file's text with its own line endings (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def _append_to_block(path: Path, intent: str, texts: Sequence[str]) -> None:
    original = _read_exact(path)
    newline = "\r\n" if "\r\n" in original else "\n"
    lines = original.splitlines(keepends=True)
    bare = [line.rstrip("\r\n") for line in lines]
    start = next((i for i, line in enumerate(bare) if _intent_line(intent).match(line)), None)
    if start is None:
        raise ExampleProblem(f"Could not find the {intent!r} block in {path.name}.")
    item_indent = _indent(bare[start])
    examples_at = None
    for i in range(start + 1, len(bare)):
        if bare[i].strip() and _indent(bare[i]) <= item_indent:
            break  # the next list item or key
        if _EXAMPLES_LINE.match(bare[i]):
            examples_at = i
            break
    if examples_at is None:
        raise ExampleProblem(
            f"The {intent!r} block in {path.name} has no `examples: |` block to add to."
        )
    key_indent = _indent(bare[examples_at])
    block_indent = None
    last = examples_at
    for i in range(examples_at + 1, len(bare)):
        if not bare[i].strip():
            continue
        if block_indent is None:
            block_indent = _indent(bare[i])
            if block_indent <= key_indent:
                block_indent = None
                break
        if _indent(bare[i]) < block_indent:
            break
        last = i
    prefix = " " * (block_indent if block_indent is not None else key_indent + 2)
    insert = [f"{prefix}- {text}{newline}" for text in texts]
    if not lines[last].endswith(("\n", "\r")):
        lines[last] += newline
    new_content = "".join(lines[: last + 1] + insert + lines[last + 1 :])
    _verify(original, new_content, intent, texts, path)
    _replace(path, new_content)


def _remove_from_block(path: Path, intent: str, wanted: set[str]) -> int:
    """Drop the ``- text`` lines of ``intent``'s examples whose normalised text is wanted."""
    original = _read_exact(path)
    lines = original.splitlines(keepends=True)
    bare = [line.rstrip("\r\n") for line in lines]
    start = next((i for i, line in enumerate(bare) if _intent_line(intent).match(line)), None)
    if start is None:
        return 0
    item_indent = _indent(bare[start])
    drop: set[int] = set()
    in_examples = False
    key_indent = 0
    for i in range(start + 1, len(bare)):
        line = bare[i]
        if line.strip() and _indent(line) <= item_indent:
            break  # the next list item
        if _EXAMPLES_LINE.match(line):
            in_examples, key_indent = True, _indent(line)
            continue
        if in_examples and line.strip() and _indent(line) <= key_indent:
            in_examples = False  # another key of the same item
        stripped = line.strip()
        if in_examples and stripped.startswith("- ") and normalise(stripped[2:]) in wanted:
            drop.add(i)
    if not drop:
        return 0
    new_content = "".join(line for i, line in enumerate(lines) if i not in drop)
    before = yaml.safe_load(original) or {}
    after = yaml.safe_load(new_content) or {}
    expected = [dict(i) if isinstance(i, dict) else i for i in before.get("nlu") or []]
    for item in expected:
        if isinstance(item, dict) and item.get("intent") == intent:
            kept = [e for e in _examples(item.get("examples")) if normalise(e) not in wanted]
            item["examples"] = kept
    got = [dict(i) if isinstance(i, dict) else i for i in after.get("nlu") or []]
    for item in got:
        if isinstance(item, dict) and item.get("intent") == intent:
            item["examples"] = _examples(item.get("examples"))
    others_same = {k: v for k, v in before.items() if k != "nlu"} == {
        k: v for k, v in after.items() if k != "nlu"
    }
    if not others_same or got != expected:
        raise ExampleProblem(
            f"Removing examples from {path.name} would change more than intended; "
            "nothing was written."
        )
    _replace(path, new_content)
    return len(drop)


def _append_new_intent(path: Path, intent: str, texts: Sequence[str]) -> None:
    if path.exists():
        original = _read_exact(path)
    else:
        original = (
            'version: "3.1"\n\n'
            "# Examples staff added in the admissions app for intents that had no examples\n"
            "# file yet. Move them to the topic file when convenient.\n"
            "nlu:\n"
        )
    body = f"- intent: {intent}\n  examples: |\n" + "".join(f"    - {t}\n" for t in texts)
    sep = "" if original.endswith("\n") else "\n"
    new_content = original + sep + body
    _verify(original if path.exists() else "", new_content, intent, texts, path)
    _replace(path, new_content)


def _verify(old: str, new: str, intent: str, texts: Sequence[str], path: Path) -> None:
    """The new text must parse to the old data plus exactly ``texts`` under ``intent``."""
    before = yaml.safe_load(old) if old else None
    after = yaml.safe_load(new)
    before = before if isinstance(before, dict) else {}
    if not isinstance(after, dict):
        raise ExampleProblem(f"Writing {path.name} would break it; nothing was written.")
    expected_items = [dict(i) if isinstance(i, dict) else i for i in before.get("nlu") or []]
    for item in expected_items:
        if isinstance(item, dict) and item.get("intent") == intent:
            item["examples"] = _examples(item.get("examples")) + list(texts)
            break
    else:
        expected_items.append({"intent": intent, "examples": list(texts)})
    got_items = [dict(i) if isinstance(i, dict) else i for i in after.get("nlu") or []]
    for item in got_items:
        if isinstance(item, dict) and item.get("intent") == intent:
            item["examples"] = _examples(item.get("examples"))
            break
    other_before = {k: v for k, v in before.items() if k != "nlu"}
    other_after = {k: v for k, v in after.items() if k != "nlu"}
    if (old and other_before != other_after) or got_items != expected_items:
        raise ExampleProblem(
            f"Writing {path.name} would change more than intended; nothing was written."
        )


def _replace(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def snapshot_fingerprint(paths: Iterable[Path]) -> str:
    """SHA-256 over the names and bytes of files (data, domain, config, test sets)."""
    digest = hashlib.sha256()
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if not path.exists():
                continue
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
