"""CSV and JSON exports of transcripts, with spreadsheet formula injection neutralised.

Times are ISO 8601 in the facility's time zone with its offset (``2026-12-01T23:04:05-05:00``),
as the pages show them, so a reader never has to convert from UTC.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from admissions.web.transcript import Transcript

CSV_COLUMNS: tuple[str, ...] = (
    "conversation_id",
    "reference_code",
    "time",
    "speaker",
    "text",
    "intent",
    "confidence",
    "entities",
    "button_payload",
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


def iso_local(ts: float | None, tz: ZoneInfo) -> str:
    """Unix seconds as ISO 8601 in ``tz`` with its UTC offset."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).astimezone(tz).isoformat(timespec="seconds")


def _speaker(kind: str) -> str:
    return "visitor" if kind == "opened" else kind


def csv_rows(transcript: Transcript, tz: ZoneInfo) -> Iterable[list[str]]:
    """One CSV row per message of the conversation (a tapped button as its title)."""
    for turn in transcript.turns:
        if turn.kind == "session":
            continue
        entities = json.dumps(
            [{"entity": e.entity, "value": e.value} for e in turn.entities], ensure_ascii=False
        )
        yield [
            transcript.conversation_id,
            transcript.reference_code or "",
            iso_local(turn.timestamp, tz),
            _speaker(turn.kind),
            turn.text,
            turn.intent or "",
            "" if turn.confidence is None else f"{turn.confidence:.3f}",
            entities if turn.entities else "",
            turn.payload or "",
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


def json_document(transcript: Transcript, tz: ZoneInfo) -> dict[str, Any]:
    """One conversation as a JSON-ready dict: messages with NLU details, final slots."""
    return {
        "conversation_id": transcript.conversation_id,
        "reference_code": transcript.reference_code,
        "time_zone": tz.key,
        "started_at": iso_local(transcript.started_at, tz),
        "crisis_detected": transcript.crisis_ever,
        "slots": transcript.slots,
        "messages": [
            {
                "time": iso_local(t.timestamp, tz),
                "speaker": _speaker(t.kind),
                "text": t.text,
                "button_payload": t.payload,
                "crisis": t.crisis,
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


def file_name(transcript: Transcript, fmt: str) -> str:
    """The download's name: the conversation's code ("conversation-K7F-2Q.csv") when it has
    one, which is what staff search and quote; else its id."""
    code = transcript.reference_code
    if code and safe_filename(code) == code:
        return f"conversation-{code}.{fmt}"
    return f"conversation-{safe_filename(transcript.conversation_id)}.{fmt}"
