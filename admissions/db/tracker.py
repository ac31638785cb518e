"""Rasa's SQL tracker store table, described exactly as Rasa 3.6 creates it.

The app only *reads* this table (and deletes whole conversations in the retention purge,
recording each in ``purged_senders``).
``event_row`` reproduces how ``SQLTrackerStore.save`` turns an event dict into a row, so
fixtures, synthetic data and recorded conversations look exactly like Rasa's own writes.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

tracker_metadata = sa.MetaData()

events = sa.Table(
    "events",
    tracker_metadata,
    sa.Column("id", sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

# Conversations the purge deleted: Rasa's tracker store (rasa_addons/tracker_store.py) refuses
# to write them again, so a turn in progress during the purge cannot bring one back.
# Created by the tracker store or by the first purge (not part of Rasa's own schema).
purged_senders = sa.Table(
    "purged_senders",
    sa.MetaData(),
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("purged_at", sa.Float, nullable=False),
)
# pg_advisory_xact_lock(PURGE_LOCK_SPACE, hashtext(sender_id)), also taken by the tracker store
PURGE_LOCK_SPACE = 15013


def event_data(raw: str | None) -> dict[str, Any]:
    """An ``events`` row's ``data`` as a dict (empty when missing or unreadable)."""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def event_row(sender_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` writes for ``event`` (a dict)."""
    parse_data = event.get("parse_data") or {}
    intent = (parse_data.get("intent") or {}).get("name")
    return {
        "sender_id": sender_id,
        "type_name": event["event"],
        "timestamp": event.get("timestamp"),
        "intent_name": intent,
        "action_name": event.get("name"),
        "data": json.dumps(event),
    }


def create_tracker_schema(connection: sa.Connection) -> None:
    """Create the ``events`` table as Rasa would (tests, benchmarks, synthetic data only)."""
    tracker_metadata.create_all(connection, checkfirst=True)
