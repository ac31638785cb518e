"""``scripts/run.sh`` (what ``make run`` starts), for real: issue 15 #9, #11 and #13.

One system per module: the action server, Rasa and the web app started by the script on free
ports with a fresh ``var/`` (made under the common umask 022, with a file left readable by an
older version). Then:

* #11: no process the script started, nor anything ``ps`` lists, carries the Rasa JWT secret on
  its command line, and Rasa still enforces it;
* #9: everything under ``var/`` is owner-only, and the loose file was named and fixed at start;
* #13: a conversation purged by the staff app's own code *while its turn is in progress* (the
  action server frozen mid-turn) does not come back when the turn ends.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
import requests

from tests.procs import ROOT, free_port

APP_PY = ROOT / ".venv" / "app" / "bin" / "python"
pytestmark = pytest.mark.skipif(
    not (ROOT / "models" / "admissions.tar.gz").exists() or not APP_PY.exists(),
    reason="needs the trained model and both environments (make setup train)",
)
READY = "The admissions assistant is running."


@dataclass
class System:
    """The processes run.sh started and where they keep their files."""

    script: subprocess.Popen[bytes]
    var: Path
    log: Path
    rasa_url: str
    web_url: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (run.sh starts each server in its own session)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    tmp = tmp_path_factory.mktemp("run")
    var = tmp / "var"
    old = os.umask(0o022)  # as most shells: what `make run` used to leave world-readable
    try:
        (var / "logs").mkdir(parents=True)
        (var / "logs" / "rasa.log.1").write_text("an old log line\n")
    finally:
        os.umask(old)
    ports = {name: free_port() for name in ("RASA_PORT", "ACTIONS_PORT", "WEB_PORT")}
    env = dict(os.environ)
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        {
            "VAR_DIR": str(var),
            "TRACKER_DB_PATH": str(var / "tracker.db"),
            "TRACKER_DB_URL": f"sqlite:///{var / 'tracker.db'}",
            "APP_DB_URL": f"sqlite:///{var / 'admissions.db'}",
            "FACILITY_FILE": str(ROOT / "facility.yml"),
            "SPACY_PIPELINE": str(ROOT / "build" / "spacy" / "admissions_en"),
            "RETENTION_INTERVAL_MINUTES": "0",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "ADMISSIONS_CLOCK": "2026-12-01T19:00:00+00:00",
        }
    )
    for name in ("RASA_JWT_SECRET", "CHAT_SECRET"):
        env.pop(name, None)
    log = tmp / "run.out"
    with log.open("wb") as out:
        script = subprocess.Popen(
            ["scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=0o022,
        )
    running = System(
        script,
        var,
        log,
        f"http://127.0.0.1:{ports['RASA_PORT']}",
        f"http://127.0.0.1:{ports['WEB_PORT']}",
    )
    try:
        deadline = time.monotonic() + 420
        while READY not in running.output():
            if script.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"run.sh did not come up:\n{running.output()[-4000:]}")
            time.sleep(1)
        yield running
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGTERM)  # run.sh stops what it started
            try:
                script.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(script.pid, signal.SIGKILL)
                script.wait(timeout=10)


# ---------------------------------------------------------------- issue 15 #11
def test_no_command_line_carries_the_jwt_secret(system: System) -> None:
    secret = (system.var / "rasa_jwt_secret").read_text().strip()
    assert len(secret) >= 32
    started = {pid: cmdline(pid) for pid in descendants(system.script.pid)}
    leaking = {pid: line for pid, line in started.items() if secret in line}
    assert not leaking, f"secret on the command line of {sorted(leaking)}"
    for server in ("rasa_addons.serve run", "run actions", "admissions.web"):
        assert any(server in line for line in started.values()), started
    listing = subprocess.run(
        ["ps", "-eww", "-o", "pid=,args="], capture_output=True, text=True, check=True
    )
    shown = [line for line in listing.stdout.splitlines() if secret in line]
    assert not shown, shown
    # ...and Rasa still has it: its API refuses a request without a token signed with it
    assert requests.get(f"{system.rasa_url}/status", timeout=10).status_code == 401
    forged = jwt.encode({"user": {"username": "t", "role": "admin"}}, "wrong", algorithm="HS256")
    token = jwt.encode({"user": {"username": "t", "role": "admin"}}, secret, algorithm="HS256")
    for bearer, status in ((forged, 401), (token, 200)):
        got = requests.get(
            f"{system.rasa_url}/status", headers={"Authorization": f"Bearer {bearer}"}, timeout=10
        )
        assert got.status_code == status


# ---------------------------------------------------------------- issue 15 #9
def test_everything_under_var_is_owner_only(system: System) -> None:
    reply = requests.post(
        f"{system.rasa_url}/webhooks/rest/webhook",
        json={"sender": "modes", "message": "hi"},
        timeout=60,
    )
    assert reply.status_code == 200
    requests.get(f"{system.web_url}/", timeout=30)  # the app's chat secret and database
    paths = [system.var, *system.var.rglob("*")]
    names = {p.relative_to(system.var).as_posix() for p in paths[1:]}
    assert {"tracker.db", "admissions.db", "rasa_jwt_secret", "logs/rasa.log"} <= names, names
    loose = {
        p.relative_to(system.var).as_posix() or ".": oct(stat.S_IMODE(p.stat().st_mode))
        for p in paths
        if p.exists() and stat.S_IMODE(p.stat().st_mode) & 0o077
    }
    assert not loose, f"readable by other local users: {loose}"
    out = system.output()
    assert "could be read by other local users" in out and "logs/rasa.log.1" in out


# ---------------------------------------------------------------- issue 15 #13
PURGER = """
import asyncio, sys
from admissions.db import transcripts
from admissions.db.engine import create_engine

async def main(url, sender):
    engine = create_engine(url, foreign_keys=False)
    print("ready", flush=True)
    sys.stdin.readline()
    async with engine.begin() as conn:
        deleted = await transcripts.delete_conversation(conn, sender)
    print(deleted, flush=True)
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def rows_for(var: Path, sender: str) -> int:
    con = sqlite3.connect(var / "tracker.db")
    try:
        return int(
            con.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]
        )
    finally:
        con.close()


def test_a_conversation_purged_during_its_turn_does_not_come_back(system: System) -> None:
    sender = "purged-mid-turn"
    hook = f"{system.rasa_url}/webhooks/rest/webhook"
    first = requests.post(hook, json={"sender": sender, "message": "hi"}, timeout=60)
    assert first.status_code == 200 and rows_for(system.var, sender) > 0
    server = [p for p in descendants(system.script.pid) if "run actions" in cmdline(p)]
    frozen = server + [child for p in server for child in descendants(p)]
    assert frozen
    purger = subprocess.Popen(  # the staff app's purge, loaded and waiting for its cue
        [str(APP_PY), "-c", PURGER, f"sqlite:///{system.var / 'tracker.db'}", sender],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert purger.stdout is not None and purger.stdin is not None
    assert purger.stdout.readline().strip() == "ready"
    replies: list[requests.Response] = []
    turn = threading.Thread(
        target=lambda: replies.append(
            requests.post(
                hook,
                json={"sender": sender, "message": "I work nights and have two kids"},
                timeout=60,
            )
        )
    )
    for pid in frozen:  # the turn will hang on its first custom action
        os.kill(pid, signal.SIGSTOP)
    try:
        turn.start()
        time.sleep(1.5)
        assert turn.is_alive(), "the turn ended before the purge"
        purger.stdin.write("go\n")
        purger.stdin.flush()
        deleted = int(purger.stdout.readline())
        assert turn.is_alive(), "the purge did not run during the turn"
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        purger.wait(timeout=30)
    turn.join(timeout=60)
    assert replies and replies[0].status_code == 200
    assert deleted > 0
    time.sleep(2)  # and nothing is written back later (spool replay, background task)
    assert rows_for(system.var, sender) == 0
    con = sqlite3.connect(system.var / "tracker.db")
    assert con.execute(
        "SELECT count(*) FROM purged_senders WHERE sender_id = ?", (sender,)
    ).fetchone() == (1,)
    con.close()
    json.dumps(replies[0].json())  # the visitor got an answer, not an error page
