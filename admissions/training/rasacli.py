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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from admissions.training.settings import TrainingSettings
from admissions.training.yielding import Yielder

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
    paused_seconds: float = 0.0  # paused while a serving process answered a turn

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


IDLE_NICE = 19  # at this nice value commands also run in the kernel's idle scheduling class


def niced(args: Sequence[str], nice: int) -> list[str]:
    """``args`` run at low CPU priority: ``nice -n N`` when N > 0, and at N >= 19 also the
    idle scheduling class (``chrt --idle 0``, Linux ``SCHED_IDLE``) when ``chrt`` exists.

    ``nice 19`` alone still gets a share of the CPU when a serving process wants it (weight 15
    against 1024) and does not always give way at once; a ``SCHED_IDLE`` process runs only on
    CPU time nobody else wants and is preempted as soon as a normal process wakes up.
    """
    if nice <= 0:
        return list(args)
    out = list(args)
    tool = shutil.which("nice")
    if tool:
        out = [tool, "-n", str(min(nice, 19)), *out]
    chrt = shutil.which("chrt")
    if nice >= IDLE_NICE and chrt:
        out = [chrt, "--idle", "0", *out]  # chrt and nice exec: the pid stays the command's
    return out


def thread_ids(pid: int) -> list[int]:
    """The threads of ``pid`` (Linux priorities are per thread); ``[pid]`` without /proc."""
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return [pid]


def set_normal_priority(pid: int) -> bool:
    """Put every thread of ``pid`` back in the normal scheduling class at nice 0 (the
    reverse of ``niced``; needs root or CAP_SYS_NICE)."""
    ok = True
    for tid in thread_ids(pid):
        try:
            if hasattr(os, "sched_setscheduler"):
                os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
            os.setpriority(os.PRIO_PROCESS, tid, 0)
        except ProcessLookupError:
            continue
        except OSError:
            ok = False
    set_autogroup_nice(pid, 0)
    return ok


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
    yield_to: Callable[[], list[int]] | None = None,
) -> CommandResult:
    """Run ``args`` to completion (blocking); returns status, time and peak RSS.

    ``nice`` > 0: its session's scheduling group gets that nice value too (see
    ``set_autogroup_nice``; pass ``niced(args, nice)`` for the process itself).
    ``yield_to``: the pids of the serving processes; the command pauses while they work
    (``yielding.Yielder``).
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
        yielder = Yielder(popen.pid, yield_to) if yield_to is not None else None
        if yielder is not None:
            yielder.start()
        try:
            _, status, usage = os.wait4(popen.pid, 0)
        finally:
            timer.cancel()
            if yielder is not None:
                yielder.stop()
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
        round(yielder.paused_seconds, 1) if yielder is not None else 0.0,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
        os.killpg(pid, signal.SIGCONT)  # if it was paused for a chat turn
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def train_args(
    settings: TrainingSettings, snap: Path, out: Path, finetune_from: Path | None
) -> list[str]:
    """``rasa train`` on a run's snapshot into ``out/candidate.tar.gz`` (fine-tuning
    ``finetune_from`` for ``settings.epoch_fraction`` of the epochs when given)."""
    args = [
        str(settings.rasa_bin),
        "train",
        "--config",
        str(snap / "config.yml"),
        "--domain",
        str(snap / "domain.yml"),
        "--data",
        str(snap / "data"),
        "--out",
        str(out),
        "--fixed-model-name",
        "candidate",
        # `rasa data validate` checks the same snapshot alongside: don't validate twice.
        "--skip-validation",
    ]
    if finetune_from is not None:
        args += ["--finetune", str(finetune_from), "--epoch-fraction", str(settings.epoch_fraction)]
    return args


def validate_args(settings: TrainingSettings, snap: Path) -> list[str]:
    """``rasa data validate`` on a run's snapshot."""
    return [
        str(settings.rasa_bin),
        "data",
        "validate",
        "--data",
        str(snap / "data"),
        "--domain",
        str(snap / "domain.yml"),
        "--config",
        str(snap / "config.yml"),
    ]


def run_in_background(
    args: Sequence[str],
    settings: TrainingSettings,
    log: Path,
    yield_to: Callable[[], list[int]] | None = None,
) -> CommandResult:
    """Run a Rasa command so that serving comes first: idle scheduling class (``niced``),
    few TensorFlow threads, and paused while a process of ``yield_to()`` (the serving Rasa:
    ``rasa_process.serving_pids``) answers a turn."""
    return run(
        niced(args, settings.nice),
        cwd=settings.project,
        log=log,
        env=rasa_env({**settings.rasa_env, **thread_limits(settings.tf_threads)}),
        timeout=settings.step_timeout_seconds,
        nice=settings.nice,
        yield_to=yield_to if settings.nice > 0 else None,
    )


def stop_all() -> None:
    """Stop every Rasa command this process started (on SIGTERM of the training job)."""
    with _running_lock:
        pids = list(_running)
    for pid in pids:
        _kill_group(pid)
