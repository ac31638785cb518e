"""Real processes for the fault tests: action server, Rasa server, a SQLite "outage", a ledger.

Everything runs on loopback, in a temporary directory, with the project's tracker store
(``rasa_addons.tracker_store.DurableSQLTrackerStore``) and REST channel
(``rasa_addons.channels.GuardedRestInput``) configured in generated ``endpoints.yml`` /
``credentials.yml`` copies. Every process is started in its own process group and only
those groups are ever signalled.

What "the database is down" means for SQLite here (``Outage``):

* ``lock``: another process holds ``BEGIN EXCLUSIVE`` on the file (rollback-journal mode):
  every read and write from Rasa fails with "database is locked" after the busy timeout;
* ``moved``: the file is renamed away (as if its volume were unmounted): opening it fails
  (the store opens SQLite with ``mode=rw``, so no empty database is created in its place).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from rasa_addons import replies  # noqa: E402
from scripts.stack import (  # noqa: E402
    MODEL,
    RASA_BIN,
    RASA_PYTHON,
    TEST_CLOCK,
    actions_argv,
    free_port,
    rasa_argv,
    sqlite_env,
    start,
    wait_http,
    write_config,
)
from scripts.stack import Process as Proc  # noqa: E402

BIN, PYTHON = RASA_BIN, RASA_PYTHON
RESULTS = ROOT / "benchmarks" / "results" / "faults.json"
PROFILE = os.environ.get("FAULTS_PROFILE", "quick")
FULL = PROFILE == "full"

# Texts the REST channel adds itself: never recorded as bot events.
CHANNEL_NOTES = {
    replies.not_recorded(),
    replies.context_lost(),
    replies.storage_unavailable(),
    replies.internal_error(),
    replies.too_long(2000),
}
REFUSALS = {replies.storage_unavailable(), replies.too_long(2000)}


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Reply:
    """What the client saw for one request."""

    status: int  # HTTP status, or 0 when the connection failed / timed out
    messages: list[dict[str, Any]]
    seconds: float

    @property
    def texts(self) -> list[str]:
        """The reply texts, in order."""
        return [m.get("text") or "" for m in self.messages]

    @property
    def bot_texts(self) -> list[str]:
        """Texts the dialogue produced (the channel's own notes left out)."""
        return [t for t in self.texts if t not in CHANNEL_NOTES]

    @property
    def refused(self) -> bool:
        """Answered, but deliberately not processed (too long, or history unavailable)."""
        return self.status == 200 and any(t in REFUSALS for t in self.texts)

    @property
    def acknowledged(self) -> bool:
        """Processed and answered: the turn must be in the database."""
        return self.status == 200 and not self.refused

    def mentions(self, needle: str) -> bool:
        """Whether any reply text contains ``needle``."""
        return any(needle in t for t in self.texts)


@dataclass
class Turn:
    """One message sent, and what came back."""

    sender: str
    text: str
    reply: Reply


@dataclass
class Ledger:
    """Every message sent in a scenario, to reconcile with the database afterwards."""

    turns: list[Turn] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, turn: Turn) -> None:
        """Record a turn (thread-safe)."""
        with self.lock:
            self.turns.append(turn)

    def reconcile(self, db_path: Path) -> dict[str, Any]:
        """Compare the database with what was sent and acknowledged."""
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        figures = {
            "turns_sent": len(self.turns),
            "turns_acknowledged": 0,
            "turns_refused": 0,
            "turns_failed": 0,
            "acknowledged_missing": 0,
            "acknowledged_duplicated": 0,
            "acknowledged_reply_mismatch": 0,
            "refused_but_recorded": 0,
            "failed_recorded": 0,
            "failed_absent": 0,
            "duplicated_events": 0,
            "events_in_db": 0,
        }
        by_sender: dict[str, list[Turn]] = {}
        for turn in self.turns:
            by_sender.setdefault(turn.sender, []).append(turn)
        for sender, turns in by_sender.items():
            rows = con.execute(
                "SELECT type_name, timestamp, data FROM events WHERE sender_id = ? ORDER BY id",
                (sender,),
            ).fetchall()
            figures["events_in_db"] += len(rows)
            seen = set()
            for type_name, timestamp, data in rows:
                if (type_name, timestamp, data) in seen:
                    figures["duplicated_events"] += 1
                seen.add((type_name, timestamp, data))
            events = [(t, json.loads(d)) for t, _, d in rows]
            users = [i for i, (t, _) in enumerate(events) if t == "user"]
            for turn in turns:
                at = [i for i in users if events[i][1].get("text") == turn.text.strip()]
                if turn.reply.acknowledged:
                    figures["turns_acknowledged"] += 1
                    if not at:
                        figures["acknowledged_missing"] += 1
                        continue
                    if len(at) > 1:
                        figures["acknowledged_duplicated"] += len(at) - 1
                    start = at[0]
                    end = next((i for i in users if i > start), len(events))
                    said = [e.get("text") or "" for t, e in events[start:end] if t == "bot"]
                    if said != turn.reply.bot_texts:
                        figures["acknowledged_reply_mismatch"] += 1
                elif turn.reply.refused:
                    figures["turns_refused"] += 1
                    if at:
                        figures["refused_but_recorded"] += 1
                else:
                    figures["turns_failed"] += 1
                    figures["failed_recorded" if at else "failed_absent"] += 1
                    if len(at) > 1:
                        figures["acknowledged_duplicated"] += len(at) - 1
        con.close()
        return figures


class Outage:
    """Make the SQLite tracker database unavailable, then bring it back."""

    def __init__(self, db_path: Path, kind: str = "lock") -> None:
        """``kind`` is ``lock`` (exclusive lock from another process) or ``moved``."""
        self.db_path = db_path
        self.kind = kind
        self._locker: subprocess.Popen[str] | None = None

    def begin(self) -> None:
        """Take the database down."""
        if self.kind == "lock":
            code = (
                "import sqlite3, sys\n"
                "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)\n"
                "c.execute('BEGIN EXCLUSIVE')\n"
                "print('locked', flush=True)\n"
                "sys.stdin.read()\n"
                "c.execute('ROLLBACK')\n"
            )
            self._locker = subprocess.Popen(
                [str(PYTHON), "-c", code, str(self.db_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            assert self._locker.stdout is not None
            assert self._locker.stdout.readline().strip() == "locked"
        else:
            os.rename(self.db_path, self.db_path.with_suffix(".away"))

    def end(self) -> None:
        """Bring the database back."""
        if self.kind == "lock":
            if self._locker is not None:
                assert self._locker.stdin is not None
                self._locker.stdin.close()
                self._locker.wait(timeout=30)
                self._locker = None
        else:
            away = self.db_path.with_suffix(".away")
            if away.exists():
                os.rename(away, self.db_path)

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The database is down inside the ``with`` block."""
        self.begin()
        try:
            yield
        finally:
            self.end()


class Stack:
    """An action server and a Rasa server on a fresh SQLite tracker store."""

    def __init__(self, tmp: Path, extra_env: dict[str, str] | None = None) -> None:
        """Prepare ports, config files and the environment (nothing started yet)."""
        if not MODEL.exists():
            raise RuntimeError(f"no trained model at {MODEL}: run `make train`")
        self.tmp = tmp
        self.db_path = tmp / "tracker.db"
        self.spool_dir = tmp / "spool"
        self.rasa_port, self.actions_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.endpoints, self.credentials = write_config(tmp)
        self.env = sqlite_env(
            tmp, self.actions_port, {"PYTHONPATH": str(ROOT), "ADMISSIONS_CLOCK": TEST_CLOCK}
        )
        self.env.pop("LOG_LEVEL", None)
        self.env.update(extra_env or {})
        self.rasa: Proc | None = None
        self.actions: Proc | None = None
        self.http = requests.Session()

    # ---------------------------------------------------------------- processes
    def start_actions(self) -> None:
        """Start the action server and wait for its health check."""
        self.actions = start(
            "actions", actions_argv(self.actions_port), self.env, self.tmp / "actions.log"
        )
        self._wait(self.actions, f"http://127.0.0.1:{self.actions_port}/health", 120)

    def stop_actions(self) -> None:
        """Stop the action server."""
        if self.actions is not None:
            self.actions.stop()
            self.actions = None

    def start_rasa(self) -> None:
        """Start the Rasa server and wait until it answers."""
        argv = rasa_argv(self.rasa_port, MODEL, self.endpoints, self.credentials)
        self.rasa = start("rasa", argv, self.env, self.tmp / "rasa.log")
        self._wait(self.rasa, f"{self.url}/status", 300)

    def kill_rasa(self) -> None:
        """``kill -9`` the Rasa server."""
        assert self.rasa is not None
        self.rasa.kill9()
        self.rasa = None
        self.http = requests.Session()

    def stop(self) -> None:
        """Stop everything that is running."""
        if self.rasa is not None:
            self.rasa.stop()
            self.rasa = None
        self.stop_actions()

    _wait = staticmethod(wait_http)

    def warm_actions(self, timeout: float = 120) -> None:
        """Wait until a real turn runs a custom action (models loaded in the action server)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.say(f"warm-{time.monotonic_ns()}", "I work 9-5 monday to friday")
            if reply.status == 200 and not reply.mentions("technical problem"):
                return
            time.sleep(1)
        raise RuntimeError("the action server never answered in time")

    # ---------------------------------------------------------------- requests
    def say(
        self, sender: str, text: str, timeout: float = 60, ledger: Ledger | None = None
    ) -> Reply:
        """Send one message over the REST channel; never raises."""
        started = time.monotonic()
        try:
            r = self.http.post(
                f"{self.url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                timeout=timeout,
            )
            messages = r.json() if r.status_code == 200 else []
            reply = Reply(
                r.status_code,
                messages if isinstance(messages, list) else [],
                time.monotonic() - started,
            )
        except (requests.RequestException, ValueError):
            reply = Reply(0, [], time.monotonic() - started)
        if ledger is not None:
            ledger.add(Turn(sender, text, reply))
        return reply

    def post_raw(
        self, body: bytes, headers: dict[str, str] | None = None, timeout: float = 60
    ) -> tuple[int, bytes, float]:
        """POST arbitrary bytes to the REST webhook: (status, body, seconds); status 0 = failed."""
        started = time.monotonic()
        try:
            r = requests.post(
                f"{self.url}/webhooks/rest/webhook",
                data=body,
                headers=headers or {"Content-Type": "application/json"},
                timeout=timeout,
            )
            return r.status_code, r.content, time.monotonic() - started
        except requests.RequestException:
            return 0, b"", time.monotonic() - started

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker from Rasa's HTTP API."""
        r = requests.get(f"{self.url}/conversations/{sender}/tracker", timeout=30)
        r.raise_for_status()
        return dict(r.json())

    def spool_files(self) -> list[Path]:
        """Spool files waiting to be replayed."""
        return sorted(self.spool_dir.glob("*.jsonl")) if self.spool_dir.exists() else []

    def wait_spool_empty(self, timeout: float = 30) -> float:
        """Seconds until the spool is empty (fails after ``timeout``)."""
        started = time.monotonic()
        while self.spool_files():
            if time.monotonic() - started > timeout:
                raise AssertionError(f"spool not replayed in {timeout}s: {self.spool_files()}")
            time.sleep(0.1)
        return time.monotonic() - started

    def log_text(self) -> str:
        """Everything the Rasa server logged so far."""
        path = self.tmp / "rasa.log"
        return path.read_text(errors="replace") if path.exists() else ""


SCRIPT = [
    "hi there",
    "I want help to stop drinking",
    "I have Aetna through my job",
    "I work 9-5 monday to friday",
    "I'm free weekday evenings after 5",
    "yes that's right",
    "yes I drink every day",
    "no withdrawal symptoms",
    "yes I relapsed last year",
    "no my home is safe",
    "what does the evening program look like",
    "how much will it cost me",
    "thanks for the help",
]


def converse(stack: Stack, ledger: Ledger, senders: list[str], turns: range) -> list[float]:
    """Each sender says ``SCRIPT[i]`` for i in ``turns`` (round-robin); reply times."""
    seconds = []
    for i in turns:
        for sender in senders:
            reply = stack.say(sender, SCRIPT[i], ledger=ledger)
            seconds.append(reply.seconds)
    return seconds


def assert_reconciled(figures: dict[str, Any]) -> None:
    """0 missing, 0 duplicated, replies as seen, nothing refused yet recorded."""
    assert figures["acknowledged_missing"] == 0, figures
    assert figures["acknowledged_duplicated"] == 0, figures
    assert figures["duplicated_events"] == 0, figures
    assert figures["acknowledged_reply_mismatch"] == 0, figures
    assert figures["refused_but_recorded"] == 0, figures


def record(section: str, figures: dict[str, Any]) -> None:
    """Merge one scenario's figures into benchmarks/results/faults.json (per profile)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(RESULTS.read_text())
    except (FileNotFoundError, ValueError):
        data = {}
    profile = data.setdefault(PROFILE, {})
    profile[section] = figures
    profile["_updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(f"\n[faults:{PROFILE}] {section}: {json.dumps(figures, sort_keys=True)}", file=sys.stderr)
