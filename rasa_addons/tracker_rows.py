"""The tracker store's rows: Rasa's ``events`` table, events as rows and back, and the row cache.

Part of ``DurableSQLTrackerStore`` (``rasa_addons/tracker_store.py``, where the design is
described). Nothing here touches the database: this is the mapping every other part shares.

* The tables: Rasa's ``events`` (its columns and meaning unchanged, the staff app reads it)
  plus ``event_key``, and ``purged_senders``, the staff app's tombstones.
* The idempotency key of an event, ``<type>:<timestamp>:<n>`` (``event_keys``), the row Rasa
  would write for an event (``row_for``), and a conversation's last session (``latest_session``).
* ``TrackerCache``: recently used conversations as rows, each with the database ``Mark`` the
  rows match when it is known.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from rasa_addons.spool import EventRow

SESSION_STARTED = SessionStarted.type_name
KEY_INDEX = "ix_events_sender_event_key"

_metadata = sa.MetaData()
events_table = sa.Table(
    "events",
    _metadata,
    sa.Column("id", sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
    sa.Column("event_key", sa.String(80)),
)
# Conversations the staff app purged: never written again (also in admissions/db/tracker.py).
purged_table = sa.Table(
    "purged_senders",
    _metadata,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("purged_at", sa.Float, nullable=False),
)

# (number of rows, highest id) of one conversation in the events table
Mark = tuple[int, int | None]


def event_keys(pairs: Iterable[tuple[str, float | None]]) -> list[str]:
    """Idempotency keys for a conversation's events, given (type name, timestamp) in order."""
    seen: dict[tuple[str, str], int] = {}
    keys = []
    for type_name, timestamp in pairs:
        stamp = repr(float(timestamp)) if timestamp is not None else "none"
        n = seen.get((type_name, stamp), 0)
        seen[(type_name, stamp)] = n + 1
        keys.append(f"{type_name}:{stamp}:{n}")
    return keys


def row_for(event: Event, key: str) -> EventRow:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` would write for ``event``."""
    data = event.as_dict()
    parse_data = data.get("parse_data") or {}
    intent = (parse_data.get("intent") or {}).get(INTENT_NAME_KEY) if parse_data else None
    return EventRow(
        key=key,
        type_name=event.type_name,
        timestamp=data.get("timestamp"),
        intent_name=intent,
        action_name=data.get("name"),
        data=json.dumps(data),
    )


def row_values(sender_id: str, row: EventRow) -> dict[str, Any]:
    """The column values that insert ``row`` into the events table."""
    return {
        "sender_id": sender_id,
        "type_name": row.type_name,
        "timestamp": row.timestamp,
        "intent_name": row.intent_name,
        "action_name": row.action_name,
        "data": row.data,
        "event_key": row.key,
    }


def rows_from_table(result: Sequence[Any]) -> list[EventRow]:
    """Rows selected from the events table, in order; a row stored before the ``event_key``
    column existed gets the key computed from its place in ``result``."""
    computed = event_keys((r.type_name, r.timestamp) for r in result)
    return [
        EventRow(
            key=r.event_key or key,
            type_name=r.type_name,
            timestamp=r.timestamp,
            intent_name=r.intent_name,
            action_name=r.action_name,
            data=r.data,
        )
        for r, key in zip(result, computed, strict=True)
    ]


def latest_session(rows: list[EventRow]) -> list[EventRow]:
    """The rows from the last ``session_started`` on (all rows when there is none)."""
    for index in range(len(rows) - 1, -1, -1):
        if rows[index].type_name == SESSION_STARTED:
            return rows[index:]
    return rows


def tracker_from_rows(
    domain: Domain | None, sender_id: str, rows: list[EventRow]
) -> DialogueStateTracker | None:
    """The tracker the rows describe (None without a domain or without rows)."""
    if not domain or not rows:
        return None
    events = [json.loads(r.data) for r in rows]
    return DialogueStateTracker.from_dict(sender_id, events, domain.slots)


class TrackerCache:
    """Recently used conversations (last session, as rows), bounded by count and bytes.

    An entry may carry a ``Mark``: the conversation's (row count, highest id) in the database
    when the cached rows were exactly its last session there. While the database still shows
    that mark, the cached rows are what a read would return, and the new events of a turn are
    all a write has to insert.
    """

    def __init__(self, max_conversations: int, max_bytes: int) -> None:
        """An empty cache with the given bounds."""
        self.max_conversations = max(1, max_conversations)
        self.max_bytes = max(1, max_bytes)
        self._items: OrderedDict[str, tuple[list[EventRow], int, Mark | None]] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        """Number of cached conversations."""
        return len(self._items)

    def __contains__(self, sender_id: object) -> bool:
        """Whether a conversation is cached."""
        return sender_id in self._items

    def get(self, sender_id: str) -> list[EventRow] | None:
        """The cached rows, or None (marks the conversation recently used)."""
        item = self._items.get(sender_id)
        if item is None:
            return None
        self._items.move_to_end(sender_id)
        return item[0]

    def mark(self, sender_id: str) -> Mark | None:
        """The database mark the cached rows match, or None (unknown, or not in the cache)."""
        item = self._items.get(sender_id)
        return None if item is None else item[2]

    def drop(self, sender_id: str) -> None:
        """Forget a conversation."""
        old = self._items.pop(sender_id, None)
        if old is not None:
            self.bytes -= old[1]

    def put(self, sender_id: str, rows: list[EventRow], mark: Mark | None = None) -> None:
        """Cache rows for a conversation (and the database mark they match, if known),
        evicting the least recently used beyond the bounds."""
        old = self._items.pop(sender_id, None)
        if old is not None:
            self.bytes -= old[1]
        size = sum(len(r.data) + 64 for r in rows) + 64
        self._items[sender_id] = (rows, size, mark)
        self.bytes += size
        while len(self._items) > 1 and (
            len(self._items) > self.max_conversations or self.bytes > self.max_bytes
        ):
            _, (_, evicted, _) = self._items.popitem(last=False)
            self.bytes -= evicted
