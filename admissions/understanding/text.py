"""Small token-level helpers shared by the extractors: cleaning, sentences, negation, numbers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Doc

MAX_CHARS = 2000

NEGATORS = frozenset(
    {"no", "not", "n't", "nt", "never", "without", "zero", "none", "cannot", "nor", "neither"}
)
SENTENCE_ENDS = frozenset({".", "!", "?", ";", "…", "!!", "??", "?!", "...", "\n"})
SEPARATORS = frozenset({",", "and", "&", "or", "but", "plus", "also", "then", "/", ";", "so"})

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "once": 1,
    "two": 2,
    "twice": 2,
    "couple": 2,
    "three": 3,
    "few": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# C0/C1 control characters except tab, newline and carriage return (what a stored message keeps)
_STORED_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Curly quotes, apostrophes and hyphens become straight ones, one character for one, so that
# "don’t" matches like "don't" and character offsets stay those of the original text.
_QUOTES = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201b": "'",
        "\u02bc": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2011": "-",
        "\u2010": "-",
    }
)


def sanitize(value: str) -> str:
    """A message as it may be stored: control characters removed, broken UTF-16 halves replaced.

    The chat channel applies this at the door; ``clean_text`` builds on it for parsing.
    """
    text = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = _STORED_CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def straighten(text: str) -> str:
    """Straight quotes and hyphens, one character for one (offsets are kept)."""
    return text.translate(_QUOTES)


def clean_text(text: object, limit: int = MAX_CHARS) -> str:
    """Make any input safe and quick to parse: text only, no control chars, at most ``limit``."""
    if not isinstance(text, str):
        return ""
    text = sanitize(text[: limit * 4]).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    text = "".join(
        ch if ch == "\n" or not unicodedata.category(ch).startswith("C") else " " for ch in text
    )
    text = straighten(unicodedata.normalize("NFKC", text))
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit]
    return text


def sentence_ids(doc: Doc) -> list[int]:
    """A sentence number per token, splitting at ``. ! ? ;`` and line breaks."""
    ids: list[int] = []
    current = 0
    for token in doc:
        ids.append(current)
        if token.text in SENTENCE_ENDS or "\n" in token.text:
            current += 1
    return ids


def lower_tokens(doc: Doc) -> list[str]:
    """The lowercase text of each token."""
    return [t.lower_ for t in doc]


def preceded_by(
    words: list[str],
    sent: list[int],
    start: int,
    targets: Collection[str],
    filler: Collection[str],
    window: int = 4,
) -> bool:
    """True when a word in ``targets`` comes just before ``start``, skipping ``filler`` words."""
    i = start - 1
    steps = 0
    while i >= 0 and steps < window and sent[i] == sent[start]:
        word = words[i]
        if word in targets:
            return True
        if word not in filler:
            return False
        i -= 1
        steps += 1
    return False


def numbers_in(text: str) -> list[float]:
    """Every number in ``text``: digits ("3", "2.5", "3x", "4hrs") and words ("three", "twice")."""
    found = [float(n) for n in _NUMBER.findall(text)]
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _NUMBER_WORDS and word not in {"a", "an"}:
            found.append(float(_NUMBER_WORDS[word]))
    return found


def words(text: str) -> frozenset[str]:
    """A word set written as one space-separated string (keeps long word lists compact)."""
    return frozenset(text.split())
