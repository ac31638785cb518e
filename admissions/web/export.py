"""CSV and JSON exports of transcripts, with spreadsheet formula injection neutralised."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from admissions.web.transcript import Transcript

CSV_COLUMNS: tuple[str, ...] = (
    "conversation_id",
    "reference_code",
    "time_utc",
    "speaker",
    "text",
    "intent",
    "confidence",
    "entities",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value: str) -> str:
    """Prefix a quote when a spreadsheet would read the cell as a formula (OWASP advice).

    Leading spaces are looked through, since some spreadsheets strip them first.
    """
    stripped = value.lstrip(" ")
    if stripped.startswith(_FORMULA_START) or value.startswith(_FORMULA_START):
        return "'" + value
    return value


def iso_utc(ts: float | None) -> str:
    """Unix seconds as ISO 8601 UTC."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def csv_rows(transcript: Transcript) -> Iterable[list[str]]:
    """One CSV row per message of the conversation."""
    for turn in transcript.turns:
        if turn.kind == "session":
            continue
        entities = json.dumps(
            [{"entity": e.entity, "value": e.value} for e in turn.entities], ensure_ascii=False
        )
        yield [
            transcript.conversation_id,
            transcript.reference_code or "",
            iso_utc(turn.timestamp),
            turn.kind,
            turn.text,
            turn.intent or "",
            "" if turn.confidence is None else f"{turn.confidence:.3f}",
            entities if turn.entities else "",
        ]


def csv_text(rows: Iterable[list[str]], *, header: bool = False) -> str:
    """Render rows (optionally with the header) as CSV text, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def json_document(transcript: Transcript) -> dict[str, Any]:
    """One conversation as a JSON-ready dict: messages with NLU details, final slots."""
    return {
        "conversation_id": transcript.conversation_id,
        "reference_code": transcript.reference_code,
        "started_at_utc": iso_utc(transcript.started_at),
        "crisis_detected": transcript.crisis_ever,
        "slots": transcript.slots,
        "messages": [
            {
                "time_utc": iso_utc(t.timestamp),
                "speaker": t.kind,
                "text": t.text,
                "intent": t.intent,
                "confidence": t.confidence,
                "entities": [{"entity": e.entity, "value": e.value} for e in t.entities],
                "buttons": t.buttons,
            }
            for t in transcript.turns
            if t.kind != "session"
        ],
    }


def safe_filename(text: str) -> str:
    """A file-name-safe rendering of a conversation id."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:60]
    return cleaned or "conversation"
