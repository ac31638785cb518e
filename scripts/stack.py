"""How the stack is started: one place for the command lines, environments and default ports of
the Rasa server, the action server and the web app, plus the small process helpers.

Standard library only, Python 3.10+: ``scripts/run.sh`` (``make run``), every test harness (both
environments: ``.venv/rasa`` on 3.10 and ``.venv/app`` on 3.12) and the benchmarks use it.
Import it as ``scripts.stack`` with the repository root on ``sys.path``; run.sh calls it as a
script (``python scripts/stack.py argv rasa --port 5005``) for the same command lines.

``ADMISSIONS_MODEL`` chooses the model every started Rasa server loads (default
``models/admissions.tar.gz``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RASA_BIN = ROOT / ".venv" / "rasa" / "bin"
RASA_PYTHON = RASA_BIN / "python"
APP_PYTHON = ROOT / ".venv" / "app" / "bin" / "python"
MODEL = Path(os.environ.get("ADMISSIONS_MODEL") or ROOT / "models" / "admissions.tar.gz")
SPACY_PIPELINE = ROOT / "build" / "spacy" / "admissions_en"
FACILITY_FILE = ROOT / "facility.yml"
# Default ports of `make run` (each overridable by the environment variable of that name).
PORTS = {"RASA_PORT": 5005, "ACTIONS_PORT": 5055, "WEB_PORT": 8080}
RASA_ALT_OFFSET = 100  # RASA_ALT_PORT defaults to RASA_PORT + 100 (the port a model swap uses)
# A weekday afternoon in New York (the admissions line is open): tests' and benchmarks' clock.
TEST_CLOCK = "2026-12-01T19:00:00+00:00"


def port(name: str) -> int:
    """A `make run` port: the environment variable ``name`` or its default."""
    if name == "RASA_ALT_PORT":
        fallback = port("RASA_PORT") + RASA_ALT_OFFSET
    else:
        fallback = PORTS[name]
    return int(os.environ.get(name) or fallback)


# ---------------------------------------------------------------- command lines
def rasa_argv(
    rasa_port: int | str,
    model: Path | str = MODEL,
    endpoints: Path | str = "endpoints.yml",
    credentials: Path | str = "credentials.yml",
    jwt_secret: str | None = None,
    serve: bool = False,
) -> list[str]:
    """``rasa run`` on loopback with the HTTP API.

    ``serve``: through ``rasa_addons.serve`` (the JWT secret read from ``RASA_JWT_SECRET_FILE``,
    never on the command line, HS256), as ``make run`` does; otherwise plain ``rasa run``, with
    ``--jwt-secret`` when ``jwt_secret`` is given.
    """
    head = [str(RASA_PYTHON), "-m", "rasa_addons.serve"] if serve else [str(RASA_BIN / "rasa")]
    argv = [*head, "run", "--enable-api", "--interface", "127.0.0.1"]
    argv += ["--endpoints", str(endpoints), "--credentials", str(credentials)]
    if serve:
        argv += ["--jwt-method", "HS256"]
    elif jwt_secret is not None:
        argv += ["--jwt-secret", jwt_secret, "--jwt-method", "HS256"]
    return [*argv, "--model", str(model), "--port", str(rasa_port)]


def actions_argv(actions_port: int | str) -> list[str]:
    """``rasa run actions`` (bound to loopback by ``SANIC_HOST`` in :func:`server_env`)."""
    return [
        str(RASA_BIN / "rasa"),
        "run",
        "actions",
        "--actions",
        "actions",
        "--port",
        str(actions_port),
    ]


def web_argv(python: Path | str = APP_PYTHON) -> list[str]:
    """The staff/demo web app (its port and URLs come from the environment: :func:`web_env`)."""
    return [str(python), "-m", "admissions.web"]


# ---------------------------------------------------------------- environments
def server_env(extra: dict[str, str] | None = None, **changes: str) -> dict[str, str]:
    """This process's environment plus what every Rasa and action server needs."""
    env = dict(os.environ)
    env.update(
        {
            "FACILITY_FILE": str(FACILITY_FILE),
            "SPACY_PIPELINE": str(SPACY_PIPELINE),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SANIC_HOST": "127.0.0.1",  # rasa_sdk binds 0.0.0.0 by default: loopback only
        }
    )
    env.update(extra or {})
    env.update(changes)
    return env


def sqlite_env(tmp: Path, actions_port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """:func:`server_env` for a Rasa + action server pair on a fresh SQLite tracker in ``tmp``."""
    db = tmp / "tracker.db"
    return server_env(
        {
            "ACTIONS_PORT": str(actions_port),
            "TRACKER_DB_PATH": str(db),
            "TRACKER_DB_URL": f"sqlite:///{db}",
            **(extra or {}),
        }
    )


def web_env(
    tmp: Path, web_port: int, rasa_url: str, jwt_secret: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment of one web app process on ``tmp``'s SQLite databases."""
    env = dict(os.environ)
    env.pop("VAR_DIR", None)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "ADMISSIONS_WEB_HOST": "127.0.0.1",
            "ADMISSIONS_WEB_PORT": str(web_port),
            "TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.db'}",
            "APP_DB_URL": f"sqlite:///{tmp / f'admissions-{web_port}.db'}",
            "RETENTION_INTERVAL_MINUTES": "0",
            "FACILITY_FILE": str(FACILITY_FILE),
            "RASA_URL": rasa_url,
            "RASA_JWT_SECRET": jwt_secret,
        }
    )
    env.update(extra or {})
    return env


# The harnesses' own endpoints file: the project's tracker store on SQLite, in-memory locks.
TEST_ENDPOINTS = """\
action_endpoint:
  url: http://127.0.0.1:${ACTIONS_PORT}/webhook

tracker_store:
  type: rasa_addons.tracker_store.DurableSQLTrackerStore
  dialect: "sqlite"
  db: ${TRACKER_DB_PATH}

lock_store:
  type: "in_memory"
nlg: {type: rasa_addons.nlg.FacilityNLG}
"""

# The guarded REST channel with the limits the fault tests rely on.
TEST_CREDENTIALS = """\
rasa_addons.channels.GuardedRestInput:
  max_message_chars: 2000
  max_body_bytes: 16384
"""


def write_config(
    folder: Path, endpoints: str = TEST_ENDPOINTS, credentials: str = TEST_CREDENTIALS
) -> tuple[Path, Path]:
    """Write ``endpoints.yml`` and ``credentials.yml`` into ``folder``; their paths."""
    (folder / "endpoints.yml").write_text(endpoints)
    (folder / "credentials.yml").write_text(credentials)
    return folder / "endpoints.yml", folder / "credentials.yml"


# ---------------------------------------------------------------- processes
def _ephemeral_low() -> int:
    """The lowest port the kernel gives outgoing connections (Linux: 32768 unless configured)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """An unused TCP port on loopback, from below the kernel's ephemeral range.

    A server is started on the port seconds after it is picked (Rasa: 10-20 s). A port from the
    ephemeral range (what binding port 0 gives) can meanwhile become the local port of any
    outgoing connection -- `make test` runs suites side by side, all making HTTP and database
    connections -- and the server then fails with "address already in use" (seen). Below that
    range only another picker could take it; SystemRandom, so that seeded tests never pick alike.
    """
    high = _ephemeral_low() - 1
    low = max(1024, high - 12000)
    pick = random.SystemRandom()
    for _ in range(100):
        port = pick.randint(low, high)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # a crowded range: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    """A started server process (its own process group) and its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        """The process id (also its process group id)."""
        return self.popen.pid

    def alive(self) -> bool:
        """Whether it is still running."""
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Send a signal to its process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def kill9(self) -> None:
        """SIGKILL the process group and reap it."""
        self.signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (after SIGCONT, in case a test froze it), SIGKILL after ``timeout`` s."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def tail(self, chars: int = 3000) -> str:
        """The end of the log, for failure messages."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def start(name: str, args: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> Process:
    """Start ``args`` (from the repo root) in its own process group, output appended to ``log``."""
    handle = log.open("ab")
    popen = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Process(name, popen, log)


def wait_http(
    proc: Process, url: str, timeout: float, headers: dict[str, str] | None = None
) -> None:
    """Wait until ``url`` answers 200, or fail with the end of the process log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            if not url.startswith("http://"):
                raise ValueError(f"not a loopback HTTP URL: {url}")
            request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - http only
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        time.sleep(0.4)
    raise RuntimeError(f"{proc.name} did not start in {timeout}s:\n{proc.tail()}")


def stop(*procs: Process | None) -> None:
    """Stop the processes, last first (``None`` entries are skipped)."""
    for proc in reversed(procs):
        if proc is not None:
            proc.stop()


def start_actions(
    tmp: Path, env: dict[str, str], actions_port: int, timeout: float = 120
) -> Process:
    """An action server on ``actions_port``, logging to ``tmp/actions.log``; waits for health."""
    proc = start("actions", actions_argv(actions_port), env, tmp / "actions.log")
    wait_http(proc, f"http://127.0.0.1:{actions_port}/health", timeout)
    return proc


# ---------------------------------------------------------------- for run.sh
def main(argv: list[str] | None = None) -> int:
    """``settings``: shell assignments of the ports and ``ADMISSIONS_MODEL``;
    ``argv rasa|actions|web``: that server's command line, NUL-separated."""
    parser = argparse.ArgumentParser(prog="scripts/stack.py", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("settings")
    cmd = sub.add_parser("argv")
    cmd.add_argument("server", choices=["rasa", "actions", "web"])
    cmd.add_argument("--port", default="")
    cmd.add_argument("--model", default=str(MODEL))
    cmd.add_argument("--serve", action="store_true", help="rasa through rasa_addons.serve")
    args = parser.parse_args(argv)
    if args.command == "settings":
        for name in (*PORTS, "RASA_ALT_PORT"):
            print(f"{name}={port(name)}")
        print(f"ADMISSIONS_MODEL={shlex.quote(str(MODEL))}")
        return 0
    if args.server == "rasa":
        out = rasa_argv(args.port or port("RASA_PORT"), args.model, serve=args.serve)
    elif args.server == "actions":
        out = actions_argv(args.port or port("ACTIONS_PORT"))
    else:
        out = web_argv()
    sys.stdout.write("".join(f"{a}\0" for a in out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
