"""Rasa server processes and the serving file that says which one serves.

Split out of ``serving`` (the swap): starting a Rasa server from the recorded launch recipe,
stopping it, its CPU priority, and reading / writing the serving file atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from admissions.training.rasacli import niced, set_autogroup_nice, set_normal_priority, thread_ids

# The environment a Rasa process is started with: these names from the starter's environment
# (never the app's secrets), plus the ``launch.env`` recorded in the serving file.
_ENV_NAMES = re.compile(
    r"PATH|HOME|USER|LOGNAME|LANG|LC_\w+|TZ|TMPDIR|VAR_DIR|ACTIONS_PORT|TRACKER_\w+|"
    r"SPACY_PIPELINE|FACILITY_FILE|ADMISSIONS_\w+|TF_\w+|OMP_NUM_THREADS|PYTHON\w*|"
    r"RASA_JWT_SECRET_FILE|RASA_TELEMETRY_ENABLED|RASA_CACHE_DIRECTORY|SQLALCHEMY_\w+|"
    r"CHAT_IDLE_\w+|PG\w+"
)
LOAD_NICE = 19  # and the idle scheduling class (rasacli.niced) until it takes over


# ----- the serving file -------------------------------------------------------------------------
def read_state(path: Path) -> dict[str, Any] | None:
    """The serving file's content, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("url") else None


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    """Replace the serving file atomically (readers see the old or the new one), mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def live_state(path: Path | None) -> dict[str, Any] | None:
    """The serving file's content while the process it names runs (a file left behind by a
    ``make run`` that was killed does not count), else None."""
    state = read_state(path) if path is not None else None
    if state is None or not alive(int(state.get("pid") or 0)):
        return None
    return state


def serving_pids(path: Path) -> list[int]:
    """The Rasa processes serving or draining now (from the serving file), if any."""
    state = read_state(path)
    if state is None:
        return []
    pids = [
        int(state.get("pid") or 0),
        *(int(d.get("pid") or 0) for d in state.get("draining") or []),
    ]
    return [p for p in pids if p]


def current_url(path: Path | None, default: str) -> str:
    """The serving Rasa's URL from the serving file (while that process runs), else ``default``."""
    state = live_state(path)
    return str(state["url"]) if state else default


# ----- processes --------------------------------------------------------------------------------
def alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs (a zombie counts as ended)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _is_rasa_on(pid: int, port: int) -> bool:
    """Whether ``pid`` is a Rasa server on ``port`` (never signal a recycled pid)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return alive(pid)  # no /proc: trust the recorded pid
    text = b" ".join(args)
    return b"rasa" in text and str(port).encode() in args


def port_free(host: str, port: int) -> bool:
    """Whether nothing listens on ``host:port``."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) != 0


def can_raise_priority() -> bool:
    """Whether we may lower a process's nice value again (root / CAP_SYS_NICE)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def set_nice(pid: int, nice: int) -> bool:
    """Set the nice value of every thread of ``pid`` (Linux niceness is per thread) and of
    the session's scheduling group (``rasacli.set_autogroup_nice``; ``pid`` leads it).
    ``nice`` 0 also leaves the idle scheduling class (``rasacli.set_normal_priority``)."""
    if nice == 0:
        return set_normal_priority(pid)
    set_autogroup_nice(pid, nice)
    ok = True
    for tid in thread_ids(pid):
        try:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        except ProcessLookupError:
            continue
        except OSError:
            ok = False
    return ok


def start_process(launch: Mapping[str, Any], port: int, model: str, nice: int = 0) -> int:
    """Start a Rasa server from the ``launch`` recipe on ``port`` with ``model``; its pid.

    It runs in its own session (Ctrl-C in a terminal does not reach it; ``stop`` does), with
    its output appended to ``<log_dir>/rasa-<port>.log``. ``nice`` > 0: it starts at low CPU
    priority (loading TensorFlow and the model must not slow the serving process); the caller
    raises it with ``set_nice(pid, 0)`` before it serves anyone.
    """
    argv = [str(a).replace("{port}", str(port)).replace("{model}", model) for a in launch["argv"]]
    if nice > 0:
        argv = niced(argv, nice)  # nice (and chrt) exec: same pid
    env = {k: v for k, v in os.environ.items() if _ENV_NAMES.fullmatch(k)}
    env.update({str(k): str(v) for k, v in (launch.get("env") or {}).items()})
    log_dir = Path(launch.get("log_dir") or ".")
    log_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_dir / f"rasa-{port}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        popen = subprocess.Popen(
            argv,
            cwd=launch.get("cwd") or None,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        os.close(fd)
    if nice > 0:  # its session is its own scheduling group: lower the group too
        set_autogroup_nice(popen.pid, nice)
    # Reap it when it ends if we are still around (the web app); otherwise init does.
    threading.Thread(target=popen.wait, daemon=True, name=f"reap-rasa-{popen.pid}").start()
    return popen.pid


def stop(pid: int | None, port: int, timeout: float = 30.0) -> None:
    """SIGTERM the Rasa server ``pid`` (its process group), SIGKILL after ``timeout``."""
    if not pid or not alive(pid) or not _is_rasa_on(pid, port):
        return

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.2)
    send(signal.SIGKILL)


def _log_tail(launch: Mapping[str, Any], port: int, chars: int = 1500) -> str:
    path = Path(launch.get("log_dir") or ".") / f"rasa-{port}.log"
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""
