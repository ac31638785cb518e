"""The CRM webhook sender: completed handoff packets go from the durable outbox to the CRM.

Every ``interval_seconds`` the job (1) scans the tracker store for conversations whose step
ended (``handoff_packet_complete`` set to true), oldest completion first, and enqueues each
packet once, as it stood at that moment; (2) sends the oldest pending packet, and the next,
until none is due. A failure (no connection, a timeout, any status but 2xx) is retried after
``retry_seconds``, doubled each time up to ``retry_max_seconds``, and dead-lettered after
``max_attempts``; a packet waiting for its retry holds back the later ones, so the CRM
receives them in order of completion. A 2xx marks the packet delivered in the same
transaction as its disclosure audit row: it is not sent again. A packet whose visitor asked
to be forgotten before it went out is withdrawn, never sent.

Logs carry counts, statuses and packet ids only; never a packet's content.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db import audit, outbox, transcripts
from admissions.handoff import envelope, packet, signature
from admissions.web.keys import APP_DB, FACILITY, OUTBOX, SETTINGS, TRACKER_DB
from admissions.web.settings import WebhookSettings

logger = logging.getLogger(__name__)
ACTOR = "system:crm-webhook"
LEASE = timedelta(minutes=2)
FULL_SCAN_SECONDS = 600.0  # rescan every completion now and then (rows committed out of order)


def recipient(url: str) -> str:
    """The receiver as the audit trail names it: scheme, host and port (no credentials)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


class Outbox:
    """Scans for completed packets and delivers them, one process-wide instance per app."""

    def __init__(
        self,
        tracker_db: AsyncEngine,
        app_db: AsyncEngine,
        settings: WebhookSettings,
        facility: str,
        *,
        settle_seconds: float = 5.0,
    ) -> None:
        """``settle_seconds``: a completion is enqueued only once it is this old, so a turn
        still being written cannot complete earlier than one already sent."""
        self.tracker_db, self.app_db, self.settings = tracker_db, app_db, settings
        self.facility = facility
        self.settle_seconds = settle_seconds
        self.cursor = 0  # tracker event id up to which completions were looked at
        self.full_scan_at = 0.0
        self.wake = asyncio.Event()

    async def scan(self) -> int:
        """Enqueue the packets of newly completed steps; returns how many."""
        if time.monotonic() - self.full_scan_at >= FULL_SCAN_SECONDS:
            self.cursor, self.full_scan_at = 0, time.monotonic()
        async with self.tracker_db.connect() as conn:
            if not await transcripts.tracker_ready(conn):
                return 0
            top = await outbox.max_event_id(conn)
            found = await outbox.completions(conn, self.cursor)
        limit = time.time() - self.settle_seconds
        unsettled = [c.event_id for c in found if c.timestamp > limit]
        settled = [c for c in found if c.timestamp <= limit]
        added = 0
        for completion in settled:
            added += await self._enqueue(completion.conversation_id)
        self.cursor = max(self.cursor, (min(unsettled) - 1) if unsettled else top)
        if added:
            logger.info("outbox: %d packet(s) enqueued", added)
        return added

    async def _enqueue(self, conversation_id: str) -> int:
        async with self.app_db.connect() as conn:
            if await outbox.known(conn, [conversation_id]):
                return 0
        async with self.tracker_db.connect() as conn:
            if await outbox.forgotten(conn, [conversation_id]):
                return 0
            events = await transcripts.conversation_events(conn, conversation_id)
        sent = packet.as_sent(conversation_id, events)
        if sent is None:
            return 0
        completion, record = sent
        new = outbox.NewPacket(
            conversation_id=conversation_id,
            packet_id=record["packet_id"],
            completion_event_id=completion.event_id,
            completed_at=datetime.fromtimestamp(completion.timestamp, timezone.utc),
            body=envelope.body(record, self.facility),
        )
        async with self.app_db.begin() as conn:
            if await outbox.known(conn, [conversation_id]):
                return 0
            await outbox.enqueue(conn, new)
        return 1

    async def next_due(self) -> float | None:
        """Seconds until the oldest pending packet is due (0: now), None when none waits."""
        async with self.app_db.connect() as conn:
            row = await outbox.head(conn)
        if row is None:
            return None
        due = row.next_attempt_at or datetime.now(timezone.utc)
        return max(0.0, (due - datetime.now(timezone.utc)).total_seconds())

    async def deliver_one(self, session: aiohttp.ClientSession) -> bool:
        """Send the oldest pending packet if it is due; True when an attempt was made."""
        async with self.app_db.begin() as conn:
            row = await outbox.head(conn)
            now = datetime.now(timezone.utc)
            if row is None or (row.next_attempt_at is not None and row.next_attempt_at > now):
                return False
            if not await outbox.claim(conn, row.id, LEASE):
                return False
        async with self.tracker_db.connect() as conn:
            if await outbox.forgotten(conn, [row.conversation_id]):
                async with self.app_db.begin() as app:
                    await outbox.withdraw(app, row.id)
                logger.info("outbox: packet %s withdrawn (forget me)", row.packet_id)
                return True
        body = (row.body or "").encode()
        ok, outcome = await self._post(session, body, row.packet_id)
        attempt = row.attempts + 1
        async with self.app_db.begin() as conn:
            if ok:
                await outbox.delivered(conn, row.id, outcome)
            else:
                give_up = attempt >= self.settings.max_attempts
                retry = (
                    None if give_up else now + timedelta(seconds=self.settings.retry_delay(attempt))
                )
                await outbox.failed(conn, row.id, outcome, retry)
            await audit.insert(
                conn,
                username=ACTOR,
                action="disclosure",
                result="ok" if ok else "error",
                conversation_id=row.conversation_id,
                detail={
                    "recipient": recipient(self.settings.url),
                    "packet_id": row.packet_id,
                    "attempt": attempt,
                    "outcome": outcome,
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                    "notice": envelope.NOTICE_CITATION,
                },
            )
        logger.info("outbox: packet %s attempt %d: %s", row.packet_id, attempt, outcome)
        return True

    async def _post(
        self, session: aiohttp.ClientSession, body: bytes, idempotency_key: str
    ) -> tuple[bool, str]:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            signature.HEADER: signature.sign(self.settings.secret, body, int(time.time())),
        }
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        try:
            async with session.post(
                self.settings.url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                await response.content.read(4096)
                return 200 <= response.status < 300, f"HTTP {response.status}"
        except TimeoutError:
            return False, "timed out"
        except aiohttp.ClientError as exc:
            return False, f"no answer ({type(exc).__name__})"

    async def run(self, stop: asyncio.Event) -> None:
        """Scan and deliver until ``stop`` is set."""
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                wait = self.settings.interval_seconds
                try:
                    await self.scan()
                    while not stop.is_set() and await self.deliver_one(session):
                        pass
                    due = await self.next_due()
                    if due is not None:
                        wait = min(wait, max(due, 0.01))
                except Exception:  # engines hide parameters: no packet value reaches the log
                    logger.exception("outbox: round failed")
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self.wake), timeout=wait)


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def outbox_job(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: run the sender while a CRM webhook is configured."""
    settings = app[SETTINGS].webhook
    if not settings.enabled:
        yield
        return
    sender = Outbox(app[TRACKER_DB], app[APP_DB], settings, app[FACILITY].name)
    app[OUTBOX] = sender
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop), name="crm-outbox")
    yield
    stop.set()
    await task


def wake(app: web.Application) -> None:
    """Ask the sender to look again now (after an admin's resend)."""
    sender = app.get(OUTBOX)
    if isinstance(sender, Outbox):
        sender.wake.set()
