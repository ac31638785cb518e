"""The tracker store through database outages and purges made elsewhere.

Part of ``DurableSQLTrackerStore`` (``rasa_addons/tracker_store.py``, where the design is
described), as the mixin ``StoreHealth``:

* **Bounded waits.** Database calls run on one worker thread (``_on_db``), spool file calls on
  another (``_on_io``), never on Rasa's event loop; a call that outlives twice the database
  timeout plus 5 s is abandoned.
* **Back-off.** After a failure the database is skipped (``db_available``) for 0.5 s doubling to
  5 s (``rasa_addons/backoff.py``), so an outage costs a turn at most one timeout; the first
  failure of an outage is logged as a warning, later ones at debug level.
* **The background task** (``replay_pending`` every ``replay_interval`` seconds): reads new
  tombstones, then replays spooled turns into the database, or, with nothing spooled during
  a back-off, probes the database so the back-off ends once it is back.
* **Tombstones.** A purged conversation is forgotten here (``purged``, the cache, notices and
  its spool), so it is never served from memory nor written again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from rasa_addons.backoff import Backoff
from rasa_addons.spool import Spool
from rasa_addons.tracker_db import ConversationPurged, EventsDatabase
from rasa_addons.tracker_rows import TrackerCache

# one logger for the whole tracker store, as before it was split into modules
logger = logging.getLogger("rasa_addons.tracker_store")

T = TypeVar("T")


class StoreHealth:
    """Worker threads, back-off, spool replay and tombstones of ``DurableSQLTrackerStore``."""

    # set by DurableSQLTrackerStore.__init__
    db: EventsDatabase
    spool: Spool
    cache: TrackerCache
    stats: dict[str, int]
    _notices: OrderedDict[str, str]

    def _init_health(self, db_timeout: float) -> None:
        """Threads, back-off and tombstone state (no database call yet)."""
        self.db_timeout = db_timeout
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="tracker-db")
        self._io_thread = ThreadPoolExecutor(1, thread_name_prefix="tracker-spool")
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.purged: OrderedDict[str, None] = OrderedDict()  # tombstones seen by this process
        self.tombstone_interval = 2.0
        self._tombstones_read_at = 0.0  # monotonic time of the last read of the table
        self._tombstones_since = 0.0  # newest purged_at seen
        self.backoff = Backoff()
        self._background: asyncio.Task | None = None
        self.replay_interval = 0.5

    # ------------------------------------------------------------------ threads and locks
    async def _on_db(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._db_thread, fn, *args)
        return await asyncio.wait_for(future, self.db_timeout * 2 + 5)

    async def _on_io(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._io_thread, fn, *args)

    def _lock_for(self, sender_id: str) -> asyncio.Lock:
        lock = self._locks.get(sender_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[sender_id] = lock
        return lock

    # ------------------------------------------------------------------ back-off
    def db_available(self) -> bool:
        """False during the back-off after a database failure."""
        return self.backoff.available()

    def _db_failed(self, exc: BaseException, what: str) -> None:
        self.stats["db_failures"] += 1
        first = self.backoff.failed()
        log = logger.warning if first else logger.debug
        log(
            "tracker database unavailable (%s during %s); using the cache and the spool",
            type(exc).__name__,
            what,
        )

    def _db_ok(self) -> None:
        if self.backoff.recovered():
            logger.info("tracker database reachable again")

    # ------------------------------------------------------------------ tombstones
    def _mark_purged(self, sender_id: str) -> None:
        """Remember a purged id and drop its cached session (in memory only)."""
        self.purged[sender_id] = None
        self.purged.move_to_end(sender_id)
        while len(self.purged) > 100_000:
            self.purged.popitem(last=False)
        self.cache.drop(sender_id)
        self._notices.pop(sender_id, None)

    def _forget_now(self, sender_id: str) -> None:
        """Drop everything of a purged conversation, spool included (blocking)."""
        self._mark_purged(sender_id)
        if self.spool.has(sender_id):
            self.spool.clear(sender_id)

    async def _forget(self, sender_id: str) -> None:
        """Drop everything of a purged conversation, spool included."""
        self._mark_purged(sender_id)
        if self.spool.has(sender_id):
            await self._on_io(self.spool.clear, sender_id)

    async def refresh_tombstones(self, force: bool = False) -> int:
        """Read tombstones recorded since the last read; forget those conversations here."""
        now = time.monotonic()
        if not force and now - self._tombstones_read_at < self.tombstone_interval:
            return 0
        self._tombstones_read_at = now
        rows = await self._on_db(self.db.read_tombstones, self._tombstones_since)
        fresh = 0
        for sender_id, purged_at in rows:
            self._tombstones_since = max(self._tombstones_since, purged_at)
            if sender_id not in self.purged:
                fresh += 1
                await self._forget(sender_id)
        return fresh

    # ------------------------------------------------------------------ spool replay
    def _replay_all_now(self) -> int:
        """Replay every spooled conversation synchronously (start-up, before serving)."""
        total = 0
        for sender_id in self.spool.senders():
            rows = self.spool.read(sender_id)
            try:
                total += self.db.write_rows(sender_id, rows)
            except ConversationPurged:
                self._forget_now(sender_id)
                self.stats["purged_skipped"] += 1
                continue
            self.spool.clear(sender_id)
        self.stats["replayed_rows"] += total
        return total

    def _start_background(self) -> None:
        if self._background is None or self._background.done():
            self._background = asyncio.get_running_loop().create_task(self._replay_forever())

    async def _replay_forever(self) -> None:
        while True:
            await asyncio.sleep(self.replay_interval)
            try:
                await self.replay_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the replayer alive
                logger.warning("tracker spool replay failed (%s)", type(exc).__name__)

    async def replay_pending(self) -> int:
        """Write spooled rows to the database if it is reachable; returns rows written."""
        if not self.db_available():
            return 0
        try:
            await self.refresh_tombstones()
        except Exception as exc:  # noqa: BLE001
            self._db_failed(exc, "tombstones")
            return 0
        senders = self.spool.senders()
        if not senders:
            if self.backoff.active:
                try:
                    await self._on_db(self.db.probe)
                except Exception as exc:  # noqa: BLE001
                    self._db_failed(exc, "probe")
                    return 0
                self._db_ok()
            return 0
        written = 0
        for sender_id in senders:
            async with self._lock_for(sender_id):
                rows = await self._on_io(self.spool.read, sender_id)
                try:
                    written += await self._on_db(self.db.write_rows, sender_id, rows)
                except ConversationPurged:
                    await self._forget(sender_id)
                    self.stats["purged_skipped"] += 1
                    continue
                except Exception as exc:  # noqa: BLE001
                    self._db_failed(exc, "replay")
                    break
                await self._on_io(self.spool.clear, sender_id)
                self._db_ok()
        if written:
            self.stats["replayed_rows"] += written
            logger.info("tracker store: replayed %d spooled events into the database", written)
        return written
