"""Start real Rasa and action servers for end-to-end tests (no mocks)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.procs import Process, free_port, start, wait_http

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "rasa" / "bin"
MODEL = ROOT / "models" / "admissions.tar.gz"


def _env(tmp: Path, actions_port: int, extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ACTIONS_PORT": str(actions_port),
            "TRACKER_DB_PATH": str(tmp / "tracker.db"),
            "FACILITY_FILE": str(ROOT / "facility.yml"),
            "SPACY_PIPELINE": str(ROOT / "build" / "spacy" / "admissions_en"),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SANIC_HOST": "127.0.0.1",  # the action server listens on loopback only
        }
    )
    env.update(extra or {})
    return env


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
            "actions",
            [
                str(BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(self.actions_port),
            ],
            self.env,
            self.tmp / "actions.log",
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
    env = _env(tmp, actions_port, extra_env)
    rasa = start(
        "rasa",
        [
            str(BIN / "rasa"),
            "run",
            "--model",
            str(MODEL),
            "--enable-api",
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        ],
        env,
        tmp / "rasa.log",
    )
    s = Stack(f"http://127.0.0.1:{rasa_port}", actions_port, tmp, env, rasa, None)
    try:
        if with_actions:
            s.start_actions()
        wait_http(rasa, f"{s.rasa_url}/status", 240)
        yield s
    finally:
        s.stop_actions()
        rasa.stop()
