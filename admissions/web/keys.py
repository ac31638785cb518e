"""Typed keys for what the app and each request carry (aiohttp ``AppKey`` / ``RequestKey``),
and the two small types requests carry: the signed-in user and the request's audit record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db.summaries import SummaryIndex
from admissions.facility import Facility
from admissions.training.settings import TrainingSettings
from admissions.web.denials import DenialLimiter
from admissions.web.settings import Settings


@dataclass(frozen=True)
class CurrentUser:
    """The staff member behind a valid session."""

    id: int
    username: str
    roles: frozenset[str]
    session_hash: str
    csrf_token: str

    def has_role(self, *roles: str) -> bool:
        """True when the user holds any of ``roles``."""
        return bool(self.roles.intersection(roles))


@dataclass
class AuditContext:
    """The one audit record a request writes: handlers add the conversation id and detail."""

    action: str
    conversation_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    written: bool = False


SETTINGS = web.AppKey("settings", Settings)
FACILITY = web.AppKey("facility", Facility)
APP_DB = web.AppKey("app_db", AsyncEngine)
TRACKER_DB = web.AppKey("tracker_db", AsyncEngine)
RETENTION_TASK = web.AppKey("retention_task", asyncio.Task[None])
SUMMARIES = web.AppKey("summaries", SummaryIndex)
TRAINING = web.AppKey("training", TrainingSettings)
PASSWORD_SLOTS = web.AppKey("password_slots", asyncio.Semaphore)  # Argon2 checks at once
AUDIT_KEY = web.AppKey("audit_key", bytes)  # keys the hashes of unknown usernames in the log
DENIALS = web.AppKey("denials", DenialLimiter)  # caps audit rows of anonymous refusals
OUTBOX = web.AppKey("outbox", object)  # the CRM webhook sender (admissions.web.outbox.Outbox)

USER = web.RequestKey("user", CurrentUser)
AUDIT = web.RequestKey("audit", AuditContext)
STALE_SESSION = web.RequestKey("stale_session", bool)
