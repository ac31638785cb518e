"""One training example's text: what counts as the same message (``normalise``, ``text_key``),
how a message is cleaned before it is written (``clean_example``) and how the examples of an
``examples: |`` block are read (``example_lines``). No files: ``nludata`` reads the data,
``nluedit`` edits it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

MAX_EXAMPLE_LENGTH = 300
# Characters YAML may not hold (PyYAML's reader refuses them) and other invisible controls.
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


class ExampleProblem(ValueError):
    """Why an example cannot be written (shown to staff as is)."""


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


def example_lines(value: Any) -> list[str]:
    """The examples of an ``examples: |`` block's text, one per ``- `` line."""
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
