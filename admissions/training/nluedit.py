"""Round-trip-safe edits of one NLU file: append examples to an intent's ``examples: |`` block
(or a new intent item), remove examples from it. ``nludata.DataWriter`` decides what to write
and holds the lock; these functions only change the text.

The edits work on text, not a re-dumped YAML tree: an append finds the intent's block and
inserts ``- text`` lines after its last line, so comments, quoting, blank lines, key order and
every other file stay byte-for-byte as they were. Before the file is replaced (atomically) the
new text is parsed again and must equal the old data plus (or minus) exactly those examples;
anything else aborts the write.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from admissions.training.files import read_yaml
from admissions.training.nlutext import ExampleProblem, example_lines, normalise

_EXAMPLES_LINE = re.compile(r"^(\s*)examples:\s*\|[1-9]?[+-]?[1-9]?\s*(#.*)?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _intent_line(intent: str) -> re.Pattern[str]:
    name = re.escape(intent)
    return re.compile(rf"""^(\s*)-\s+intent:\s*(?:{name}|"{name}"|'{name}')\s*(#.*)?$""")


def _read_exact(path: Path) -> str:
    """The file's text with its own line endings (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def append_to_block(path: Path, intent: str, texts: Sequence[str]) -> None:
    """Add ``texts`` after the last line of ``intent``'s ``examples: |`` block in ``path``."""
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


def remove_from_block(path: Path, intent: str, wanted: set[str]) -> int:
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
    before = read_yaml(original) or {}
    after = read_yaml(new_content) or {}
    expected = [dict(i) if isinstance(i, dict) else i for i in before.get("nlu") or []]
    for item in expected:
        if isinstance(item, dict) and item.get("intent") == intent:
            kept = [e for e in example_lines(item.get("examples")) if normalise(e) not in wanted]
            item["examples"] = kept
    got = [dict(i) if isinstance(i, dict) else i for i in after.get("nlu") or []]
    for item in got:
        if isinstance(item, dict) and item.get("intent") == intent:
            item["examples"] = example_lines(item.get("examples"))
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


def append_new_intent(path: Path, intent: str, texts: Sequence[str]) -> None:
    """Add an ``intent`` item with ``texts`` at the end of ``path`` (created when missing)."""
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
    before = read_yaml(old) if old else None
    after = read_yaml(new)
    before = before if isinstance(before, dict) else {}
    if not isinstance(after, dict):
        raise ExampleProblem(f"Writing {path.name} would break it; nothing was written.")
    expected_items = [dict(i) if isinstance(i, dict) else i for i in before.get("nlu") or []]
    for item in expected_items:
        if isinstance(item, dict) and item.get("intent") == intent:
            item["examples"] = example_lines(item.get("examples")) + list(texts)
            break
    else:
        expected_items.append({"intent": intent, "examples": list(texts)})
    got_items = [dict(i) if isinstance(i, dict) else i for i in after.get("nlu") or []]
    for item in got_items:
        if isinstance(item, dict) and item.get("intent") == intent:
            item["examples"] = example_lines(item.get("examples"))
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
