"""Two messages for the same conversation at the same instant, many times: 0 lost, 0 duplicated.

Rasa's in-memory lock store serialises the two turns (the second waits up to 1 s between
polls); the tracker store's idempotent writes make each turn land exactly once, with its own
replies right after it. ``pairs`` is 16 in ``make test`` and 1,000 in ``make faults``.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from harness import FULL, Ledger, Stack, assert_reconciled, record

PAIR = ("I want help to stop drinking", "I have Aetna through my job")


def test_simultaneous_pairs(healthy: Stack) -> None:
    """Both messages of every pair are answered and recorded once, turns not interleaved."""
    stack, ledger = healthy, Ledger()
    pairs = 1000 if FULL else 16
    parallel = 8
    run = uuid.uuid4().hex[:8]

    def pair(i: int) -> None:
        sender = f"pair-{run}-{i}"
        barrier = threading.Barrier(2)

        def send(text: str) -> None:
            barrier.wait()
            stack.say(sender, text, ledger=ledger, timeout=120)

        threads = [threading.Thread(target=send, args=(text,)) for text in PAIR]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    started = time.monotonic()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(pair, range(pairs)))
    elapsed = time.monotonic() - started
    stack.wait_spool_empty(60)
    figures = ledger.reconcile(stack.db_path)
    seconds = sorted(t.reply.seconds for t in ledger.turns)
    figures.update(
        pairs=pairs,
        pairs_in_flight=parallel,
        elapsed_seconds=round(elapsed, 1),
        reply_seconds_p50=round(statistics.median(seconds), 2),
        reply_seconds_p95=round(seconds[int(len(seconds) * 0.95) - 1], 2),
        reply_seconds_max=round(seconds[-1], 2),
        non_200=sum(t.reply.status != 200 for t in ledger.turns),
    )
    record("concurrent_pairs", figures)
    assert_reconciled(figures)
    assert figures["turns_acknowledged"] == 2 * pairs
    assert figures["non_200"] == 0
