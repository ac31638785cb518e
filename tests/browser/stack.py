"""Real processes for the browser tests: Rasa (JWT-protected API), the action server and the web
app, each on a free loopback port, logs in a temp folder. Standard library only (the app
environment has no ``requests``)."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from admissions.web.chat_rasa import jwt_hs256
from scripts import stack as launch
from scripts.stack import TEST_CLOCK as CLOCK
from scripts.stack import Process, free_port, start
from scripts.stack import wait_http as wait_until_up

# BROWSER_MODEL: a model trained elsewhere (a domain change tried before `make train`);
# ADMISSIONS_MODEL (the launcher's) does the same for every suite.
MODEL = Path(os.environ.get("BROWSER_MODEL") or launch.MODEL)


def http(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, Any]:
    """One JSON request with urllib: (status, decoded body or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


@dataclass
class Stack:
    """Rasa + actions + the web app, running."""

    tmp: Path
    rasa_url: str
    app_url: str
    jwt_secret: str
    actions_port: int = 0
    processes: list[Process] = field(default_factory=list)

    def admin_headers(self) -> dict[str, str]:
        """Authorization for Rasa's API as an admin (tests read any tracker with it)."""
        now = int(time.time())
        token = jwt_hs256(
            self.jwt_secret, {"user": {"username": "tests", "role": "admin"}, "exp": now + 300}
        )
        return {"Authorization": f"Bearer {token}"}

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        """A conversation's tracker from Rasa's HTTP API."""
        status, data = http(
            "GET",
            f"{self.rasa_url}/conversations/{conversation_id}/tracker",
            headers=self.admin_headers(),
        )
        assert status == 200, data
        return dict(data)

    def stop(self) -> None:
        """Stop every process, newest first."""
        for proc in reversed(self.processes):
            proc.stop()


def app_env(tmp: Path, port: int, rasa_url: str, jwt_secret: str) -> dict[str, str]:
    """Environment of one web app process."""
    return launch.web_env(tmp, port, rasa_url, jwt_secret, {"CHAT_SECRET": secrets.token_hex(32)})


def start_app(tmp: Path, rasa_url: str, jwt_secret: str, name: str = "app") -> tuple[Process, str]:
    """The real web app (``python -m admissions.web``) talking to ``rasa_url``."""
    port = free_port()
    proc = start(
        name,
        launch.web_argv(sys.executable),
        app_env(tmp, port, rasa_url, jwt_secret),
        tmp / f"{name}.log",
    )
    return proc, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def running_rasa(tmp: Path) -> Iterator[Stack]:
    """Rasa (API behind a JWT secret) and the action server, started in parallel."""
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}: run `make train`")
    rasa_port, actions_port = free_port(), free_port()
    jwt_secret = secrets.token_hex(32)
    env = launch.sqlite_env(tmp, actions_port, {"ADMISSIONS_CLOCK": CLOCK})
    env.pop("VIRTUAL_ENV", None)
    rasa_url = f"http://127.0.0.1:{rasa_port}"
    stack = Stack(tmp, rasa_url, "", jwt_secret, actions_port)
    try:
        actions = start("actions", launch.actions_argv(actions_port), env, tmp / "actions.log")
        stack.processes.append(actions)
        rasa_argv = launch.rasa_argv(rasa_port, MODEL, jwt_secret=jwt_secret)
        rasa = start("rasa", rasa_argv, env, tmp / "rasa.log")
        stack.processes.append(rasa)
        yield stack
    finally:
        stack.stop()


def wait_for_rasa(stack: Stack) -> None:
    """Block until the action server and Rasa (model loaded) answer."""
    actions, rasa = stack.processes[0], stack.processes[1]
    wait_until_up(actions, f"http://127.0.0.1:{stack.actions_port}/health", 120)
    wait_until_up(rasa, f"{stack.rasa_url}/status", 240, headers=stack.admin_headers())
    # The first message after a start is slow (TensorFlow warms up, the action server is
    # called for the first time): send one so that the tests measure a running service.
    sender = f"warm-up-{secrets.token_hex(8)}"
    for message in ("hi", "/ready_to_start", "I have Aetna"):
        status, _ = http(
            "POST",
            f"{stack.rasa_url}/webhooks/rest/webhook",
            {"sender": sender, "message": message},
            timeout=120,
        )
        assert status == 200, f"Rasa did not answer the warm-up message:\n{rasa.tail()}"


@contextlib.contextmanager
def running_stack(tmp: Path) -> Iterator[Stack]:
    """Rasa, the action server and the web app, started in parallel; waits until each answers."""
    with running_rasa(tmp) as stack:
        app, stack.app_url = start_app(tmp, stack.rasa_url, stack.jwt_secret)
        stack.processes.append(app)
        wait_until_up(app, f"{stack.app_url}/staff/health", 60)
        wait_for_rasa(stack)
        yield stack
