"""The closed-loop load of `make bench-load` (and of ``prod_bench``): simulated visitors
replaying whole assessments over Rasa's REST channel, loopback only, each sending its next
message when the previous reply arrived; and the figures of one configuration (turns/s and
latency percentiles of acknowledged turns, errors, degraded replies).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import aiohttp

from benchmarks import long_conversation
from benchmarks.rasa_rest import Rasa

SENDER_PREFIX = "load-"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0-100")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Turn:
    """One message a simulated visitor sent and what came of it."""

    target: str  # "admissions" or "stock"
    visitors: int  # concurrent visitors of the configuration
    sender: str
    text: str
    ok: bool  # acknowledged: the POST returned 200 with a JSON list
    status: str  # HTTP status, or the exception's class name
    ms: float  # latency
    end: float  # seconds from the configuration's start to the reply
    degraded: bool = False  # answered with one of this assistant's failure notices
    round: int = 0  # with --rounds: the round (``end`` counts from its start)


def summarise(turns: list[Turn], duration: float) -> dict[str, Any]:
    """Turns/s, latency percentiles and errors of one configuration."""
    ok = [t.ms for t in turns if t.ok]
    ends: dict[int, float] = {}
    for t in turns:
        ends[t.round] = max(ends.get(t.round, 0.0), t.end)
    elapsed = sum(ends.values()) or duration
    senders = {t.sender for t in turns}

    def ms(q: float) -> float | None:
        value = percentile(ok, q)
        return None if value is None else round(value, 1)

    return {
        "turns": len(ok),
        "conversations": len(senders),
        "elapsed_s": round(elapsed, 2),
        "turns_per_s": round(len(ok) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "p99_ms": ms(99),
        "max_ms": round(max(ok), 1) if ok else None,
        "mean_ms": round(sum(ok) / len(ok), 1) if ok else None,
        "errors": sum(not t.ok for t in turns),
        "error_kinds": dict(Counter(t.status for t in turns if not t.ok)),
        "degraded": sum(t.degraded for t in turns),
    }


def _notices() -> set[str]:
    """This assistant's failure notices (a 200 answer that says the turn went wrong)."""
    try:
        from rasa_addons import replies
    except ImportError:  # pragma: no cover - run outside the assistant environment
        return set()
    return {
        replies.action_failed(),
        replies.storage_unavailable(),
        replies.not_recorded(),
        replies.context_lost(),
        replies.internal_error(),
    }


async def _one_visitor(
    session: aiohttp.ClientSession,
    url: str,
    scripts: list[list[str]],
    first: int,
    deadline: float,
    start: float,
    label: str,
    notices: set[str],
    turns: list[Turn],
) -> None:
    target, visitors, number = label.split(":")
    index = first
    while time.perf_counter() < deadline:
        script = scripts[index % len(scripts)]
        index += 1
        sender = f"{SENDER_PREFIX}{target}-c{visitors}-v{number}-{uuid.uuid4().hex[:10]}"
        for text in script:
            if time.perf_counter() >= deadline:
                break
            t0 = time.perf_counter()
            ok, degraded, status = False, False, ""
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as resp:
                    status = str(resp.status)
                    body = await resp.json(content_type=None) if resp.status == 200 else None
                    ok = isinstance(body, list)
                    degraded = ok and any((m.get("text") or "") in notices for m in body or [])
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                status = type(exc).__name__
            t1 = time.perf_counter()
            turns.append(
                Turn(
                    target,
                    int(visitors),
                    sender,
                    text,
                    ok,
                    status,
                    (t1 - t0) * 1000,
                    t1 - start,
                    degraded,
                )
            )


async def run_load(
    base_url: str,
    target: str,
    scripts: list[list[str]],
    visitors: int,
    duration: float,
    timeout: float,
) -> list[Turn]:
    """``visitors`` closed-loop visitors replaying ``scripts`` for ``duration`` seconds."""
    if urlparse(base_url).hostname not in LOOPBACK:
        raise ValueError(f"bench-load only runs against loopback, not {base_url}")
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    notices = _notices() if target == "admissions" else set()
    turns: list[Turn] = []
    connector = aiohttp.TCPConnector(limit=visitors)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        start = time.perf_counter()
        deadline = start + duration
        await asyncio.gather(
            *(
                _one_visitor(
                    session,
                    url,
                    scripts,
                    i * max(1, len(scripts) // visitors),
                    deadline,
                    start,
                    f"{target}:{visitors}:{i}",
                    notices,
                    turns,
                )
                for i in range(visitors)
            )
        )
    return turns


def long_runs(
    urls: Mapping[str, str],
    targets: list[str],
    scripts: list[list[str]],
    turns: int,
    timeout: float,
) -> dict[str, list[Turn]]:
    """One ``turns``-long conversation per assistant, one assistant after the other."""
    runs: dict[str, list[Turn]] = {}
    for target in targets:
        print(f"==> {target}, one conversation of {turns} turns", flush=True)
        url = urls[target].rstrip("/") + "/webhooks/rest/webhook"
        start = time.perf_counter()
        sender, played = asyncio.run(
            long_conversation.play(url, scripts, turns, SENDER_PREFIX, timeout)
        )
        runs[target] = [
            Turn(target, 0, sender, text, ok, status, ms, time.perf_counter() - start, False)
            for text, ok, status, ms in played
        ]
    return runs


def warm_up(base_url: str, script: list[str]) -> None:
    """One untimed conversation, so first-call costs stay out of the figures."""
    rasa = Rasa(base_url)
    sender = f"warmup-{uuid.uuid4().hex[:10]}"
    for text in script:
        rasa.say(sender, text)
