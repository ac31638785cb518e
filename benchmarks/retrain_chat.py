"""What a visitor chatting during `make bench-retrain` notices, and how busy the machine was
meanwhile: the chat loop (``Chatter``), the switch of the serving process (``Watcher``), the
quiet baseline window, and the CPU accounting that tells this benchmark's work from other
users' on a shared machine. Linux only (``/proc``)."""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from typing import Any

from scripts import retrain_stack as servers


def p95(values: list[float]) -> float | None:
    """The 95th percentile (nearest rank) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 2)


def _busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``; steal counts as busy)."""
    with open("/proc/stat") as handle:
        v = [int(x) for x in handle.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def _our_cpu_seconds() -> float:
    """CPU seconds used by this benchmark and every process it started (Rasa, actions,
    training, tests), alive or reaped."""
    procs: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += procs.get(pid, (0, 0))[1]
        todo += [child for child, (parent, _) in procs.items() if parent == pid]
    return total / os.sysconf("SC_CLK_TCK")


class CpuWindow:
    """How busy the machine was during a window, and how much of that was someone else's
    work (other users of a shared machine): the chat figures of two windows only compare
    when ``others_share`` is about the same."""

    def __init__(self) -> None:
        self.wall, self.busy, self.ours = time.monotonic(), _busy_cpu_seconds(), _our_cpu_seconds()

    def figures(self) -> dict[str, float]:
        """Busy share of all CPUs, and the share used by processes outside this benchmark."""
        capacity = (time.monotonic() - self.wall) * (os.cpu_count() or 1)
        busy = _busy_cpu_seconds() - self.busy
        others = max(0.0, busy - (_our_cpu_seconds() - self.ours))
        return {
            "cpu_busy_share": round(busy / capacity, 2) if capacity else 0.0,
            "cpu_others_share": round(others / capacity, 2) if capacity else 0.0,
        }


class Chatter(threading.Thread):
    """Visitors chatting once a second; records every turn's time and any failure.

    Turns go to whichever Rasa process serves when the turn starts (``stack.rasa_url`` reads
    the serving file, as the chat proxy does), one at a time, as the proxy sends them.
    A new visitor starts every ``TURNS_PER_VISITOR`` turns, in every window alike: Rasa's
    turn time grows with the length of the conversation (it loads and replays the whole
    tracker), so one endless conversation made the long retraining window look up to ten
    times slower than the one-minute window without retraining when it was not.
    """

    TURNS_PER_VISITOR = 25

    def __init__(self, stack: servers.Stack) -> None:
        super().__init__(daemon=True)
        self.stack, self.sender = stack, f"bench-{uuid.uuid4().hex[:8]}"
        self.stop = threading.Event()
        self.turns, self.failures = 0, 0
        self.times: list[float] = []
        self.started: list[float] = []  # monotonic start of each turn (same order as times)
        self.switched_at: list[float] = []  # monotonic times the serving URL changed

    @property
    def slowest(self) -> float:
        """The slowest turn so far."""
        return max(self.times, default=0.0)

    def run(self) -> None:
        lines = ["hi", "what does it cost", "I work nights", "thanks", "ok"]
        url = self.stack.rasa_url
        while not self.stop.is_set():
            if self.turns and self.turns % self.TURNS_PER_VISITOR == 0:
                self.sender = f"bench-{uuid.uuid4().hex[:8]}"
            started = time.monotonic()
            try:
                if not self.stack.say(self.sender, lines[self.turns % len(lines)]):
                    self.failures += 1
            except Exception:  # noqa: BLE001 - counted, not raised
                self.failures += 1
            self.times.append(time.monotonic() - started)
            self.started.append(started)
            self.turns += 1
            self.stop.wait(1.0)
            if self.stack.rasa_url != url:
                url = self.stack.rasa_url
                self.switched_at.append(time.monotonic())

    def by_step(self, marks: list[tuple[float, str | None]]) -> dict[str, dict[str, Any]]:
        """p95, slowest and count of the turns that started during each step of a run
        (``marks``: monotonic time each step began), to see which step slows the chat."""
        out: dict[str, dict[str, Any]] = {}
        for i, (begin, step) in enumerate(marks):
            end = marks[i + 1][0] if i + 1 < len(marks) else math.inf
            times = [d for t, d in zip(self.started, self.times, strict=False) if begin <= t < end]
            if times:
                name = step or "after"
                key = name if name not in out else f"{name}#{i}"
                out[key] = {"turns": len(times), "p95": p95(times), "max": round(max(times), 2)}
        return out

    def figures(self) -> dict[str, Any]:
        """Turns, failures, p95 and slowest turn."""
        return {
            "chat_turns": self.turns,
            "chat_failures": self.failures,
            "chat_p95_seconds": p95(self.times),
            "slowest_chat_turn_seconds": round(self.slowest, 2),
        }


class Watcher(threading.Thread):
    """Notes when the serving file first names another process (the switch)."""

    def __init__(self, stack: servers.Stack) -> None:
        super().__init__(daemon=True)
        self.stack, self.stop = stack, threading.Event()
        self.url = stack.rasa_url
        self.switched: float | None = None

    def run(self) -> None:
        while not self.stop.is_set() and self.switched is None:
            if self.stack.rasa_url != self.url:
                self.switched = time.monotonic()
            self.stop.wait(0.1)


def quiet_window(stack: servers.Stack, seconds: float) -> dict[str, Any]:
    """The same chat with nothing else going on: the baseline."""
    chatter, cpu = Chatter(stack), CpuWindow()
    chatter.start()
    time.sleep(seconds)
    chatter.stop.set()
    chatter.join(timeout=60)
    return {**chatter.figures(), **cpu.figures()}
