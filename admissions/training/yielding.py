"""Training gives way to chat: a background command is paused while a serving Rasa process
is answering a visitor, and resumed as soon as it is idle again.

Why: low CPU priority is not enough. With training and evaluation in the idle scheduling
class (``rasacli.niced``) a chat turn still took up to ten times longer while TensorFlow
trained or evaluated beside it (``benchmarks/retrain.py``, per step): on two cores the
processes share caches, memory bandwidth and (on VMs) hyperthread siblings, which no
scheduler priority divides. The only thing that leaves the serving process the machine is
not running beside it while it works, and a turn is short (0.2-0.3 s), so pausing costs the
training little.

``Yielder`` watches the serving processes' CPU time (``/proc/<pid>/schedstat``: time on and
waiting for a CPU, in ns) every ``interval`` seconds; when one of them used more than
``busy_ns`` since the last look it stops the command's process group (SIGSTOP), and continues
it (SIGCONT) after ``quiet`` seconds without such use. Under chat that never pauses, the
command still runs ``min_run`` seconds after every ``max_pause`` seconds of pause, so a
retraining always finishes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable


def cpu_ns(pid: int) -> int:
    """Nanoseconds process ``pid`` (its main thread) spent on, or waiting for, a CPU."""
    try:
        with open(f"/proc/{pid}/schedstat") as handle:
            on_cpu, waiting, _ = handle.read().split()
        return int(on_cpu) + int(waiting)
    except (OSError, ValueError):
        return 0


class Yielder(threading.Thread):
    """Pause process group ``pgid`` while any process of ``watch()`` is busy (see module)."""

    def __init__(
        self,
        pgid: int,
        watch: Callable[[], list[int]],
        *,
        interval: float = 0.03,
        busy_ns: int = 3_000_000,
        quiet: float = 0.1,
        max_pause: float = 3.0,
        min_run: float = 0.5,
    ) -> None:
        """Watch ``watch()`` (re-read every second) on behalf of process group ``pgid``."""
        super().__init__(daemon=True, name=f"yield-{pgid}")
        self.pgid, self.watch = pgid, watch
        self.interval, self.busy_ns, self.quiet = interval, busy_ns, quiet
        self.max_pause, self.min_run = max_pause, min_run
        self.done = threading.Event()
        self.paused_seconds = 0.0
        self.pauses = 0

    def _signal(self, sig: int) -> bool:
        try:
            os.killpg(self.pgid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def run(self) -> None:
        """Until ``stop()``: pause and resume the process group as the serving load says."""
        pids: list[int] = []
        last: dict[int, int] = {}
        refreshed = 0.0
        paused_at: float | None = None
        last_busy = 0.0
        running_since = time.monotonic()
        try:
            while not self.done.wait(self.interval):
                now = time.monotonic()
                if now - refreshed >= 1.0:
                    pids, refreshed = [p for p in self.watch() if p], now
                busy = False
                for pid in pids:
                    used = cpu_ns(pid)
                    if pid in last and used - last[pid] > self.busy_ns:
                        busy = True
                    last[pid] = used
                if busy:
                    last_busy = now
                if paused_at is None:
                    if busy and now - running_since >= self.min_run:
                        if not self._signal(signal.SIGSTOP):
                            return
                        paused_at, self.pauses = now, self.pauses + 1
                elif now - last_busy >= self.quiet or now - paused_at >= self.max_pause:
                    self._signal(signal.SIGCONT)
                    self.paused_seconds += now - paused_at
                    paused_at, running_since = None, now
        finally:
            if paused_at is not None:
                self.paused_seconds += time.monotonic() - paused_at
            self._signal(signal.SIGCONT)  # never leave it stopped

    def stop(self) -> None:
        """Stop watching; the process group is left running."""
        self.done.set()
        with contextlib.suppress(RuntimeError):
            self.join(timeout=5)
