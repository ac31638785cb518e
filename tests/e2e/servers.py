"""Start real Rasa and action servers for end-to-end tests (no mocks)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from scripts.stack import (
    MODEL,
    Process,
    actions_argv,
    free_port,
    rasa_argv,
    sqlite_env,
    start,
    wait_http,
)


@dataclass
class Stack:
    """A running Rasa server (and maybe action server) for one test module."""

    rasa_url: str
    actions_port: int
    tmp: Path
    env: dict[str, str]
    rasa: Process
    actions: Process | None

    def start_actions(self) -> None:
        """(Re)start the action server on its port."""
        self.actions = start(
            "actions", actions_argv(self.actions_port), self.env, self.tmp / "actions.log"
        )
        wait_http(self.actions, f"http://127.0.0.1:{self.actions_port}/health", 90)

    def stop_actions(self) -> None:
        """Stop the action server (it stays down until start_actions)."""
        if self.actions is not None:
            self.actions.stop()
            self.actions = None

    def say(self, sender: str, text: str, timeout: float = 60) -> list[dict]:
        """Send one message over the REST channel and return the bot's replies."""
        r = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=timeout,
        )
        r.raise_for_status()
        return list(r.json())

    def tracker(self, sender: str) -> dict:
        """The conversation's tracker from Rasa's HTTP API."""
        r = requests.get(f"{self.rasa_url}/conversations/{sender}/tracker", timeout=30)
        r.raise_for_status()
        return dict(r.json())


@contextlib.contextmanager
def stack(
    tmp: Path, with_actions: bool = True, extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """A Rasa server on the trained model, with or without a running action server."""
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}: run `make train`")
    rasa_port, actions_port = free_port(), free_port()
    env = sqlite_env(tmp, actions_port, extra_env)
    rasa = start("rasa", rasa_argv(rasa_port), env, tmp / "rasa.log")
    s = Stack(f"http://127.0.0.1:{rasa_port}", actions_port, tmp, env, rasa, None)
    try:
        if with_actions:
            s.start_actions()
        wait_http(rasa, f"{s.rasa_url}/status", 240)
        yield s
    finally:
        s.stop_actions()
        rasa.stop()
