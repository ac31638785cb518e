"""After a load run, with the servers stopped: every acknowledged turn (a user message whose
POST returned 200) must be stored in the tracker database exactly once."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from admissions.web.rereading import Rereading
from benchmarks.load_driver import SENDER_PREFIX, Turn


def reconcile(turns: Iterable[Turn], stored: Mapping[str, list[str]]) -> dict[str, int]:
    """Compare the turns sent with the user messages stored, per (conversation, text).

    ``missing``: acknowledged turns not stored; ``duplicated``: stored more often than sent;
    ``unacknowledged_stored``: turns that failed for the client but were stored (allowed).
    """
    attempted: Counter[tuple[str, str]] = Counter()
    acked: Counter[tuple[str, str]] = Counter()
    for t in turns:
        attempted[(t.sender, t.text)] += 1
        acked[(t.sender, t.text)] += t.ok
    kept = Counter((sender, text) for sender, texts in stored.items() for text in texts)
    return {
        "acknowledged": sum(acked.values()),
        "stored": sum(kept[k] for k in attempted),
        "missing": sum(max(0, acked[k] - kept[k]) for k in acked),
        "duplicated": sum(max(0, kept[k] - attempted[k]) for k in kept),
        "unacknowledged_stored": sum(
            max(0, min(kept[k], attempted[k]) - acked[k]) for k in attempted
        ),
    }


def stored_user_texts(db: Path, prefix: str = SENDER_PREFIX) -> dict[str, list[str]]:
    """Each conversation's stored user messages (``events`` rows of type ``user``), in order.

    A message said once can be stored twice: when a visitor confirms Rasa's "Did you mean …?"
    (two-stage fallback), Rasa rewinds and stores the original message again with the confirmed
    intent. That second row is a re-reading, not a turn, and is not counted; the rule is the
    one the widget's history and the staff transcript use (``admissions.web.rereading``), so
    bot rows are read too (after the default fallback's "Sorry, ..." and its rewind, the same
    words again are a new message).
    """
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT sender_id, type_name, data FROM events "
            "WHERE type_name IN ('user', 'bot', 'rewind') AND sender_id LIKE ? ORDER BY id",
            (prefix + "%",),
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    readers: dict[str, Rereading] = {}
    for sender, kind, data in rows:
        reader = readers.setdefault(sender, Rereading())
        said = out.setdefault(sender, [])
        if kind == "rewind":
            reader.rewind()
        elif kind == "bot":
            reader.assistant()
        else:
            text = str(json.loads(data).get("text") or "")
            if not reader.visitor(text):
                said.append(text)
    return out
