"""Two Rasa processes, one PostgreSQL: two messages of one conversation at the same instant,
one to each process, 1,000 times: 0 lost, 0 duplicated, order kept.

The stack is production mode as ``make prod-demo`` runs it, from the shipped
``endpoints.prod.yml``: ``DurableSQLTrackerStore`` on PostgreSQL and ``PostgresLockStore``
(a PostgreSQL advisory lock per conversation, held for the whole turn), one action server,
two ``rasa run`` processes, each with its own spool directory. For every pair, two threads
wait on a barrier and then post one message each, one to each Rasa process (which one gets
which text alternates). Afterwards the ``events`` table is reconciled with what the clients
saw (``harness.Ledger``), and each conversation is checked for order:

* ``acknowledged_missing`` / ``acknowledged_duplicated`` / ``duplicated_events``: 0;
* ``acknowledged_reply_mismatch``: 0 (each turn's bot events follow its user event and are
  the replies that visitor got: the two turns never interleave);
* ``out_of_order``: 0 (within a conversation, rows in insertion order have non-decreasing
  timestamps: the database order is the order the turns ran);
* ``interleaved``: 0 (a user event is never followed by another user event before the first
  turn's ``action_listen``);
* ``sessions_started_twice``: 0 (the second turn saw the first one's history: without a
  shared lock both turns start from an empty tracker and each opens a session).

The control run with Rasa's in-memory lock store (per process) on 200 pairs: 0 lost and 0
duplicated rows (the tracker store's idempotent writes), but 145 conversations out of order and
188 with both turns of a pair processed without the other's history (two session starts).

``TWO_PROCESS_PAIRS`` (default 1,000 in ``make faults``, 200 in ``make test``; 1,000 take 200-270 s of messages on 2 cores shared with other
work, load average 9-10, plus 1-2 minutes to start the servers) and
``TWO_PROCESS_LOCK_STORE=in_memory`` (Rasa's per-process lock store instead: the control run,
which shows what the test catches) change the run. Figures go to
``benchmarks/results/faults.json`` under ``two_processes``.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
from harness import (
    FULL,
    MODEL,
    ROOT,
    Ledger,
    Reply,
    Turn,
    assert_reconciled,
    record,
)

from scripts.stack import (
    TEST_CLOCK,
    TEST_CREDENTIALS,
    Process,
    actions_argv,
    free_port,
    rasa_argv,
    server_env,
    start,
    wait_http,
    write_config,
)

PAIR = ("I want help to stop drinking", "I have Aetna through my job")
# `make faults` (the full profile) sends 1,000 pairs; `make test` 200, which is enough to catch
# the fault: the in-memory control run on 200 pairs put 145 conversations out of order.
PAIRS = int(os.environ.get("TWO_PROCESS_PAIRS") or (1000 if FULL else 200))
PARALLEL = 8  # pairs in flight: 16 requests, 8 at each process
LOCK_STORE = os.environ.get("TWO_PROCESS_LOCK_STORE", "postgres")
IN_MEMORY = 'lock_store:\n  type: "in_memory"\n'


class TwoRasa:
    """One action server and two Rasa servers sharing one PostgreSQL database."""

    def __init__(self, tmp: Path, db_url: str) -> None:
        """Prepare ports, the endpoints file and the environment (nothing started yet)."""
        if not MODEL.exists():
            raise RuntimeError(f"no trained model at {MODEL}: run `make train`")
        self.tmp, self.db_url = tmp, db_url
        self.actions_port = free_port()
        self.ports = [free_port(), free_port()]
        self.urls = [f"http://127.0.0.1:{p}" for p in self.ports]
        endpoints = (ROOT / "endpoints.prod.yml").read_text()
        if LOCK_STORE == "in_memory":
            endpoints = endpoints[: endpoints.index("lock_store:")] + IN_MEMORY
        self.endpoints, self.credentials = write_config(tmp, endpoints, TEST_CREDENTIALS)
        self.env = server_env(
            {
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                "TRACKER_DB_URL": db_url,
                "PYTHONPATH": str(ROOT),
                "ADMISSIONS_CLOCK": TEST_CLOCK,
            }
        )
        self.env.pop("LOG_LEVEL", None)
        self.procs: list[Process] = []
        self.local = threading.local()

    def start(self) -> None:
        """Start the action server and both Rasa servers; wait until they answer."""
        actions = start(
            "actions", actions_argv(self.actions_port), self.env, self.tmp / "actions.log"
        )
        self.procs.append(actions)
        for i, port in enumerate(self.ports):
            env = dict(self.env, TRACKER_SPOOL_DIR=str(self.tmp / f"spool-{i}"))
            argv = rasa_argv(port, MODEL, self.endpoints, self.credentials)
            self.procs.append(start(f"rasa-{i}", argv, env, self.tmp / f"rasa-{i}.log"))
        wait_http(actions, f"http://127.0.0.1:{self.actions_port}/health", 120)
        for proc, url in zip(self.procs[1:], self.urls, strict=True):
            wait_http(proc, f"{url}/status", 300)
        for url in self.urls:
            self.warm(url)

    def stop(self) -> None:
        """Stop every process this stack started."""
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()

    def warm(self, url: str, timeout: float = 120) -> None:
        """Wait until a real turn on ``url`` runs a custom action."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.say(url, f"warm-{uuid.uuid4().hex[:8]}", "I work 9-5 monday to friday")
            if reply.status == 200 and not reply.mentions("technical problem"):
                return
            time.sleep(1)
        raise RuntimeError(f"{url}: the action server never answered in time")

    def say(
        self, url: str, sender: str, text: str, ledger: Ledger | None = None, timeout: float = 120
    ) -> Reply:
        """Send one message over the REST channel; never raises."""
        http = getattr(self.local, "http", None)
        if http is None:
            http = self.local.http = requests.Session()
        started = time.monotonic()
        try:
            r = http.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                timeout=timeout,
            )
            body = r.json() if r.status_code == 200 else []
            reply = Reply(
                r.status_code, body if isinstance(body, list) else [], time.monotonic() - started
            )
        except (requests.RequestException, ValueError):
            reply = Reply(0, [], time.monotonic() - started)
        if ledger is not None:
            ledger.add(Turn(sender, text, reply))
        return reply

    def spooled(self) -> int:
        """Spool files still waiting to be replayed, over both processes."""
        return sum(
            1
            for i in range(2)
            for p in (self.tmp / f"spool-{i}").glob("*.jsonl")
            if p.stat().st_size
        )


@pytest.fixture(scope="module")
def two_rasa(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[TwoRasa]:
    """The suite's scratch PostgreSQL, one action server, two Rasa servers."""
    stack = TwoRasa(tmp_path_factory.mktemp("two-processes"), pg_url)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def snapshot(db_url: str, senders: set[str], path: Path) -> list[tuple[Any, ...]]:
    """Copy the conversations' rows (insertion order) from PostgreSQL into a SQLite file for
    ``Ledger.reconcile``; returns them."""
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT id, sender_id, type_name, timestamp, data FROM events"
            " WHERE sender_id = ANY(%s) ORDER BY id",
            (sorted(senders),),
        )
        rows = cur.fetchall()
    lite = sqlite3.connect(path)
    lite.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT,"
        " timestamp REAL, data TEXT)"
    )
    lite.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    lite.commit()
    lite.close()
    return rows


def order_figures(rows: list[tuple[Any, ...]]) -> dict[str, int]:
    """Conversations stored out of order, with interleaved turns, or with two session starts."""
    by_sender: dict[str, list[tuple[str, float, dict[str, Any]]]] = {}
    for _, sender, type_name, timestamp, data in rows:
        by_sender.setdefault(sender, []).append((type_name, timestamp, json.loads(data)))
    out_of_order = interleaved = started_twice = 0
    for events in by_sender.values():
        started_twice += sum(t == "session_started" for t, _, _ in events) > 1
        stamps = [t for _, t, _ in events]
        out_of_order += any(b < a for a, b in itertools.pairwise(stamps))
        open_turn = False
        for type_name, _, data in events:
            if type_name == "user":
                interleaved += open_turn
                open_turn = True
            elif type_name == "action" and data.get("name") == "action_listen":
                open_turn = False
    return {
        "out_of_order": out_of_order,
        "interleaved": interleaved,
        "sessions_started_twice": started_twice,
    }


def test_simultaneous_pairs_across_two_processes(two_rasa: TwoRasa) -> None:
    """Every pair's two messages, one to each process, are answered and stored once, in order."""
    stack, ledger = two_rasa, Ledger()
    run = uuid.uuid4().hex[:8]

    def pair(i: int) -> None:
        sender = f"two-{run}-{i}"
        barrier = threading.Barrier(2)
        urls = stack.urls if i % 2 == 0 else stack.urls[::-1]

        def send(url: str, text: str) -> None:
            barrier.wait()
            stack.say(url, sender, text, ledger=ledger)

        threads = [
            threading.Thread(target=send, args=(url, text))
            for url, text in zip(urls, PAIR, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(pair, range(PAIRS)))
    elapsed = time.monotonic() - started
    for _ in range(600):
        if not stack.spooled():
            break
        time.sleep(0.1)
    senders = {t.sender for t in ledger.turns}
    with tempfile.TemporaryDirectory() as tmp:
        rows = snapshot(stack.db_url, senders, Path(tmp) / "events.db")
        figures = ledger.reconcile(Path(tmp) / "events.db")
    figures.update(order_figures(rows))
    seconds = sorted(t.reply.seconds for t in ledger.turns)
    figures.update(
        lock_store=LOCK_STORE,
        rasa_processes=2,
        pairs=PAIRS,
        pairs_in_flight=PARALLEL,
        elapsed_seconds=round(elapsed, 1),
        turns_per_second=round(len(seconds) / elapsed, 1),
        reply_seconds_p50=round(statistics.median(seconds), 2),
        reply_seconds_p95=round(seconds[int(len(seconds) * 0.95) - 1], 2),
        reply_seconds_max=round(seconds[-1], 2),
        non_200=sum(t.reply.status != 200 for t in ledger.turns),
        spool_files_left=stack.spooled(),
    )
    record("two_processes" if LOCK_STORE == "postgres" else "two_processes_in_memory", figures)
    assert_reconciled(figures)
    assert figures["out_of_order"] == 0, figures
    assert figures["interleaved"] == 0, figures
    assert figures["sessions_started_twice"] == 0, figures
    assert figures["turns_acknowledged"] == 2 * PAIRS
    assert figures["non_200"] == 0
    assert figures["spool_files_left"] == 0
