"""No message text, names or phone numbers in any log of any process, at the default log level.

A real conversation carries canary strings (a name, a phone number, a marker in free text)
through a real action server, Rasa server (project tracker store and REST channel) and the
staff app, including the failure paths that log: a frozen action server, a database outage
(spooled turn and a refused conversation), over-long and oversized messages, broken JSON, a
crisis message. Staff then read the transcript, the callback queue and the CSV export. Every
log file of every process is then searched for the canaries.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from harness import ROOT, Outage, Proc, Stack, free_port, start

APP_PY = ROOT / ".venv" / "app" / "bin" / "python"
FIRST_NAME, SURNAME = "Ottoline", "Pemberton-Quist"
PHONE = "917-555-0142"
MARKER = "CANARYxq7"
CANARIES = [FIRST_NAME, SURNAME, PHONE, "9175550142", "555-0142", "555 0142", MARKER]
PASSWORD = "privacy test password 1"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Proc | None]]:
    """Action server, Rasa server and (when its environment exists) the staff app."""
    tmp = tmp_path_factory.mktemp("privacy")
    stack = Stack(tmp)
    web: Proc | None = None
    try:
        stack.start_actions()
        stack.start_rasa()
        stack.warm_actions()
        if APP_PY.exists():
            web = _start_web(stack, tmp)
        yield stack, web
    finally:
        if web is not None:
            web.stop()
        stack.stop()


def _start_web(stack: Stack, tmp: Path) -> Proc:
    port = free_port()
    env = {
        k: v for k, v in stack.env.items() if k not in ("PYTHONPATH", "LOG_LEVEL", "VIRTUAL_ENV")
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "TRACKER_DB_URL": f"sqlite:///{stack.db_path}",
            "APP_DB_URL": f"sqlite:///{tmp / 'admissions.db'}",
            "ADMISSIONS_WEB_PORT": str(port),
            "VAR_DIR": str(tmp),
            "RASA_URL": stack.url,
            "RETENTION_INTERVAL_MINUTES": "0",
        }
    )
    cli = [str(APP_PY), "-m", "admissions.web.cli"]
    for args, stdin in (
        (["migrate"], None),
        (
            ["create-user", "--username", "privacy", "--role", "admissions", "--password-stdin"],
            PASSWORD + "\n",
        ),
    ):
        done = subprocess.run(
            cli + args,
            cwd=ROOT,
            env=env,
            input=stdin,
            text=True,
            capture_output=True,
            timeout=120,
            check=False,
        )
        (tmp / "web-cli.log").open("a").write(done.stdout + done.stderr)
        assert done.returncode == 0, done.stderr[-2000:]
    web = start("web", [str(APP_PY), "-m", "admissions.web"], env, tmp / "web.log")
    web.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    Stack._wait(web, f"{web.url}/staff/health", 120)  # type: ignore[attr-defined]
    return web


def _converse(stack: Stack) -> str:
    """The canary conversation, through every path that logs; returns its id."""
    sender = f"privacy-{uuid.uuid4().hex[:10]}"
    script = [
        "hi",
        f"I relapsed last week {MARKER}, my wife says I need help",
        "please call me back",
        "yes",
        FIRST_NAME,
        PHONE,
        "weekday mornings",
        "yes",
        "no",
        f"my full name is {FIRST_NAME} {SURNAME} and my cell is {PHONE}",
    ]
    for text in script:
        assert stack.say(sender, text).status == 200
    assert stack.actions is not None
    stack.actions.signal(signal.SIGSTOP)  # custom action failures log
    try:
        reply = stack.say(sender, f"I work nights at the docks, {FIRST_NAME} here {MARKER}")
        assert reply.mentions("technical problem")
    finally:
        stack.actions.signal(signal.SIGCONT)
    with Outage(stack.db_path, "lock").down():  # tracker store failures log
        assert stack.say(sender, f"still there? {MARKER} {PHONE}").acknowledged
        assert stack.say(f"privacy-new-{uuid.uuid4().hex[:6]}", f"{FIRST_NAME} {MARKER}").refused
    stack.wait_spool_empty(30)
    assert stack.say(sender, f"{MARKER} " * 600 + PHONE).refused  # over 2,000 characters
    big = json.dumps({"sender": sender, "message": f"{MARKER} {PHONE} " * 2000}).encode()
    assert stack.post_raw(big)[0] == 413
    assert stack.post_raw(f'{{"sender": "{sender}", "message": "{MARKER}'.encode())[0] == 400
    assert stack.post_raw(json.dumps({"sender": sender, "message": [MARKER]}).encode())[0] == 400
    crisis = stack.say(sender, f"I want to kill myself, this is {FIRST_NAME} {MARKER}")
    assert crisis.mentions("988")
    return sender


def _staff_reads(web: Proc, sender: str) -> None:
    """Staff sign in and read what the visitor wrote."""
    url = web.url  # type: ignore[attr-defined]
    session = requests.Session()
    page = session.get(f"{url}/staff/login", timeout=30)
    token = CSRF_RE.search(page.text)
    assert token, "login form without CSRF token"
    signed_in = session.post(
        f"{url}/staff/login",
        data={"csrf_token": token.group(1), "username": "privacy", "password": PASSWORD},
        timeout=30,
    )
    assert signed_in.status_code == 200 and "/staff/login" not in signed_in.url
    transcript = session.get(f"{url}/staff/conversations/{sender}", timeout=30)
    assert transcript.status_code == 200 and MARKER in transcript.text
    for path in (
        "/staff/conversations",
        "/staff/callbacks",
        f"/staff/conversations/{sender}/export.csv",
        f"/staff/conversations?q={MARKER}",
    ):
        session.get(f"{url}{path}", timeout=30)


def test_no_personal_data_in_any_log(everything: tuple[Stack, Proc | None]) -> None:
    stack, web = everything
    sender = _converse(stack)
    if web is not None:
        _staff_reads(web, sender)
    time.sleep(1)  # let the processes flush
    logs = sorted(p for p in stack.tmp.rglob("*.log") if p.is_file())
    names = {p.name for p in logs}
    assert {"rasa.log", "actions.log"} <= names
    if web is not None:
        assert "web.log" in names
    leaks = []
    for log in logs:
        text = log.read_text(errors="replace")
        for canary in CANARIES:
            for line in text.splitlines():
                if canary.lower() in line.lower():
                    leaks.append(f"{log.name}: {line[:200]}")
    assert not leaks, "\n".join(leaks)
    rasa_log = (stack.tmp / "rasa.log").read_text(errors="replace")
    assert "Rasa server is up and running" in rasa_log  # the default (INFO) level was logging
    assert "tracker database unavailable" in rasa_log
    assert "exceeded its 5.0 s budget" in rasa_log
    if web is not None:  # the staff app's access log was on, and saw the transcript read
        assert f"GET /staff/conversations/{sender} 200" in (stack.tmp / "web.log").read_text()
    with contextlib.suppress(KeyError):
        assert os.environ["LOG_LEVEL"] in ("", "INFO")
