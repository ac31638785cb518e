"""Run the Rasa CLI of the assistant environment (``.venv/rasa``) as a subprocess.

Each command runs in its own process group with its output in a log file; we keep its exit
status, wall time and peak memory (``ru_maxrss`` from ``wait4``). Nothing here imports rasa.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_running: set[int] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True)
class CommandResult:
    """How a Rasa command ended."""

    args: tuple[str, ...]
    returncode: int
    seconds: float
    peak_rss_kb: int
    log: Path
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        """Exit status 0 and no timeout."""
        return self.returncode == 0 and not self.timed_out

    def tail(self, lines: int = 40) -> str:
        """The end of the command's output, without progress-bar noise."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        keep = []
        for raw in text.replace("\r", "\n").splitlines():
            line = raw.rstrip()
            if not line or "it/s]" in line or "s/it]" in line or "Warning" in line:
                continue
            keep.append(_strip_ansi(line))
        return "\n".join(keep[-lines:])


def _strip_ansi(text: str) -> str:
    out, skip = [], False
    for ch in text:
        if ch == "\x1b":
            skip = True
            continue
        if skip:
            if ch.isalpha():
                skip = False
            continue
        out.append(ch)
    return "".join(out)


def rasa_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for Rasa commands: ours, quiet TensorFlow, no telemetry, no app secrets."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RASA_JWT_SECRET", "RASA_AUTH_TOKEN", "APP_DB_URL", "VIRTUAL_ENV")
    }
    env.update(
        {
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def thread_limits(threads: int) -> dict[str, str]:
    """Environment that keeps TensorFlow (and OpenMP/BLAS) to ``threads`` compute threads.

    Rasa reads ``TF_INTRA_OP_PARALLELISM_THREADS`` / ``TF_INTER_OP_PARALLELISM_THREADS`` at
    start-up (``rasa.utils.tensorflow.environment``); one inter-op thread is enough for DIET/TED.
    """
    n = str(max(1, threads))
    return {
        "TF_INTRA_OP_PARALLELISM_THREADS": n,
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "OMP_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
    }


def niced(args: Sequence[str], nice: int) -> list[str]:
    """``args`` run through ``nice -n N`` (low CPU priority) when N > 0 and ``nice`` exists."""
    if nice <= 0:
        return list(args)
    tool = shutil.which("nice")
    return [tool, "-n", str(min(nice, 19)), *args] if tool else list(args)


def set_autogroup_nice(pid: int, nice: int) -> bool:
    """Give the session ``pid`` leads a CPU weight of ``nice`` (Linux autogroups).

    With ``kernel.sched_autogroup_enabled`` (the default on desktop and many server kernels)
    every session is its own scheduling group and a process's nice value only counts inside
    its group: a ``nice 19`` training in its own session would still get as much CPU as the
    serving Rasa process in another. ``/proc/<pid>/autogroup`` sets the group's own nice.
    """
    try:
        with open(f"/proc/{pid}/autogroup", "w") as handle:
            handle.write(str(nice))
        return True
    except OSError:
        return False


def run(
    args: Sequence[str],
    *,
    cwd: Path,
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 3600.0,
    nice: int = 0,
) -> CommandResult:
    """Run ``args`` to completion (blocking); returns status, time and peak RSS.

    ``nice`` > 0: its session's scheduling group gets that nice value too (see
    ``set_autogroup_nice``; pass ``niced(args, nice)`` for the process itself).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    timed_out = threading.Event()
    with log.open("wb") as handle:
        try:
            popen = subprocess.Popen(
                list(args),
                cwd=cwd,
                env=dict(env) if env is not None else rasa_env(),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            handle.write(f"could not start {args[0]}: {exc}\n".encode())
            return CommandResult(tuple(args), 127, 0.0, 0, log)
        with _running_lock:
            _running.add(popen.pid)
        if nice > 0:
            set_autogroup_nice(popen.pid, min(nice, 19))

        def expire() -> None:
            timed_out.set()
            _kill_group(popen.pid)

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(popen.pid, 0)
        finally:
            timer.cancel()
            with _running_lock:
                _running.discard(popen.pid)
        popen.returncode = os.waitstatus_to_exitcode(status)
    return CommandResult(
        tuple(args),
        int(popen.returncode),
        time.monotonic() - started,
        int(usage.ru_maxrss),
        log,
        timed_out.is_set(),
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def stop_all() -> None:
    """Stop every Rasa command this process started (on SIGTERM of the training job)."""
    with _running_lock:
        pids = list(_running)
    for pid in pids:
        _kill_group(pid)
