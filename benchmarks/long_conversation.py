"""One long conversation for `make bench-load LONG=300`: does turn 300 cost what turn 10 does?

A visitor who stays in one chat for hundreds of messages grows one tracker. Every turn reads and
writes that tracker, so a store that works in O(whole tracker) gets slower turn by turn. This
sends ``turns`` messages under one sender id, one after the other (cycling through the recorded
whole-assessment scripts), and compares the median latency around turn 10 with the median around
the last turn. Medians of eleven turns each, not single turns: one turn is too noisy to judge.
Pure timing over REST; the turns are added to ``bench_load``'s reconciliation like any other.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import aiohttp

WINDOW = 5  # turns either side of the one compared


def window_median(latencies: list[float], turn: int) -> float | None:
    """Median latency (ms) of turns ``turn - WINDOW .. turn + WINDOW`` (1-based, clipped)."""
    lo, hi = max(0, turn - 1 - WINDOW), min(len(latencies), turn + WINDOW)
    chosen = latencies[lo:hi]
    return round(statistics.median(chosen), 1) if chosen else None


def summary(latencies: list[float], early: int = 10) -> dict[str, Any]:
    """Turn ``early`` against the last turn, as window medians and their ratio."""
    last = len(latencies)
    a, b = window_median(latencies, early), window_median(latencies, last - WINDOW)
    return {
        "turns": last,
        "early_turn": early,
        "early_ms": a,
        "late_turn": last,
        "late_ms": b,
        "ratio": round(b / a, 2) if a and b else None,
    }


async def play(
    url: str, scripts: list[list[str]], turns: int, sender_prefix: str, timeout: float
) -> tuple[str, list[tuple[str, bool, str, float]]]:
    """Send ``turns`` messages in one conversation; (sender, [(text, ok, status, ms)])."""
    sender = f"{sender_prefix}long-{uuid.uuid4().hex[:10]}"
    flat = [text for script in scripts for text in script] or ["hi"]
    played: list[tuple[str, bool, str, float]] = []
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        for n in range(turns):
            text = flat[n % len(flat)]
            t0 = time.perf_counter()
            ok, status = False, ""
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as resp:
                    status = str(resp.status)
                    ok = resp.status == 200 and isinstance(await resp.json(content_type=None), list)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                status = type(exc).__name__
            played.append((text, ok, status, (time.perf_counter() - t0) * 1000))
    return sender, played
