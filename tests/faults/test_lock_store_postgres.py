"""``PostgresLockStore`` on a real PostgreSQL server: exclusion, order, timeouts, cancellation,
and a dead database.

Two store instances stand for two Rasa processes: each has its own connections, so to
PostgreSQL they are as separate as two processes (the two-process test with real Rasa servers
is ``test_two_processes.py``).
"""

from __future__ import annotations

import asyncio
import time

import psycopg2
import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_addons.lock_store import LOCK_SPACE, PostgresLockStore
from tests.procs import free_port


def advisory_locks_held(url: str) -> int:
    """Advisory locks of our lock space granted right now (any session)."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s"
            " AND granted",
            (LOCK_SPACE,),
        )
        return int(cur.fetchone()[0])


def test_created_from_the_endpoints_file(pg_url: str) -> None:
    """Rasa builds it from ``lock_store: type: rasa_addons.lock_store.PostgresLockStore``."""
    config = EndpointConfig(
        url=pg_url, type="rasa_addons.lock_store.PostgresLockStore", max_connections=3
    )
    store = LockStore.create(config)
    assert isinstance(store, PostgresLockStore)
    assert store.max_connections == 3


def test_two_stores_never_overlap_and_keep_arrival_order(pg_url: str) -> None:
    """200 turns of one conversation over two 'processes': one at a time; each process's turns
    in their arrival order, and while one turn runs, turns arriving alternately from the two
    processes queue in PostgreSQL in arrival order (a process puts one waiter per conversation
    in the server's queue; its next one waits in-process)."""

    async def scenario() -> tuple[int, list[int]]:
        stores = [PostgresLockStore(url=pg_url), PostgresLockStore(url=pg_url)]
        for store in stores:  # connected already, as in a running server
            async with store.lock("warm-up"):
                pass
        inside, overlaps, order = 0, 0, []

        async def turn(i: int) -> None:
            nonlocal inside, overlaps
            async with stores[i % 2].lock("one-visitor"):
                inside += 1
                overlaps += inside > 1
                order.append(i)
                await asyncio.sleep(0.002)
                inside -= 1

        tasks = []
        for i in range(200):
            tasks.append(asyncio.create_task(turn(i)))
            await asyncio.sleep(0.002)
        await asyncio.gather(*tasks)
        for store in stores:
            store.close()
        return overlaps, order

    overlaps, order = asyncio.run(scenario())
    assert overlaps == 0
    assert len(order) == 200
    for parity in (0, 1):
        mine = [i for i in order if i % 2 == parity]
        assert mine == sorted(mine)
    assert advisory_locks_held(pg_url) == 0


def test_queued_turns_from_two_processes_run_in_arrival_order(pg_url: str) -> None:
    """While a turn runs, 20 turns arrive alternately at two 'processes': they run in order."""

    async def scenario() -> list[int]:
        a, b = PostgresLockStore(url=pg_url), PostgresLockStore(url=pg_url)
        order: list[int] = []

        async def turn(i: int) -> None:
            async with (a if i % 2 else b).lock("queued"):
                order.append(i)
                await asyncio.sleep(0.01)

        async with a.lock("queued"):
            tasks = []
            for i in range(20):
                tasks.append(asyncio.create_task(turn(i)))
                await asyncio.sleep(0.03)
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(scenario()) == list(range(20))


def test_other_conversations_do_not_wait(pg_url: str) -> None:
    """A long turn of one conversation does not hold up another conversation."""

    async def scenario() -> float:
        a, b = PostgresLockStore(url=pg_url), PostgresLockStore(url=pg_url)
        async with a.lock("slow-visitor"):
            started = time.monotonic()
            async with b.lock("other-visitor"):
                return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.5


def test_waiting_too_long_is_a_lock_error(pg_url: str) -> None:
    """A turn waits at most ``wait_timeout`` for another turn of its conversation."""

    async def scenario() -> float:
        holder = PostgresLockStore(url=pg_url)
        waiter = PostgresLockStore(url=pg_url, wait_timeout=1)
        async with holder.lock("stuck"):
            started = time.monotonic()
            with pytest.raises(LockError):
                async with waiter.lock("stuck"):
                    pass
            waited = time.monotonic() - started
        async with waiter.lock("stuck"):  # free again, and the pooled connection still works
            pass
        return waited

    waited = asyncio.run(scenario())
    assert 0.9 < waited < 3
    assert advisory_locks_held(pg_url) == 0


def test_cancelled_waiter_and_cancelled_holder_leave_no_lock(pg_url: str) -> None:
    """Cancelling a task that waits for, or holds, the lock releases everything."""

    async def scenario() -> None:
        a, b = PostgresLockStore(url=pg_url), PostgresLockStore(url=pg_url)
        entered = asyncio.Event()

        async def hold_forever(store: PostgresLockStore) -> None:
            async with store.lock("cancel-me"):
                entered.set()
                await asyncio.sleep(3600)

        holder = asyncio.create_task(hold_forever(a))
        await entered.wait()
        waiter = asyncio.create_task(hold_forever(b))
        await asyncio.sleep(0.3)  # b now waits inside pg_advisory_lock
        waiter.cancel()
        holder.cancel()
        for task in (waiter, holder):
            with pytest.raises(asyncio.CancelledError):
                await task
        for _ in range(50):  # the cancel and close run in a thread
            if advisory_locks_held(pg_url) == 0:
                break
            await asyncio.sleep(0.1)
        started = time.monotonic()
        async with PostgresLockStore(url=pg_url, wait_timeout=5).lock("cancel-me"):
            assert time.monotonic() - started < 1

    asyncio.run(scenario())
    assert advisory_locks_held(pg_url) == 0


def test_dead_database_clear_error_or_local_only(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing listening: ``fail`` raises a LockError naming the server, quickly; ``local``
    (the default) serves the turn with an in-process lock and says so once at ERROR."""
    dead = f"postgresql://admissions:secret-pw@127.0.0.1:{free_port()}/admissions"

    async def scenario() -> tuple[str, float, dict[str, int]]:
        strict = PostgresLockStore(url=dead, on_unavailable="fail")
        started = time.monotonic()
        with pytest.raises(LockError) as raised:
            async with strict.lock("visitor"):
                pass
        seconds = time.monotonic() - started
        lenient = PostgresLockStore(url=dead)
        for _ in range(3):
            async with lenient.lock("visitor"):
                pass
        return str(raised.value), seconds, lenient.stats

    with caplog.at_level("DEBUG", logger="rasa_addons.lock_store"):
        message, seconds, stats = asyncio.run(scenario())
    assert "127.0.0.1" in message and "unavailable" in message
    assert "secret-pw" not in message and "secret-pw" not in caplog.text
    assert seconds < 3
    assert stats["local_only"] == 3
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2  # one per store: once per outage, not once per turn
