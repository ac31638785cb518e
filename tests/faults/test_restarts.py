"""``kill -9`` of the Rasa server between turns, during a turn, and under load.

Between turns nothing is lost and the conversation goes on with its slots. During a turn at
most that turn is lost, and the visitor can tell (the request fails); a turn is recorded
whole or not at all, never twice.
"""

from __future__ import annotations

import random
import signal
import threading
import time
import uuid

import pytest
from harness import FULL, SCRIPT, Ledger, Stack, assert_reconciled, converse, record


def test_kill9_between_turns(healthy: Stack) -> None:
    """The conversation continues after the restart with everything it knew."""
    stack, ledger = healthy, Ledger()
    senders = [f"kill-between-{uuid.uuid4().hex[:8]}-{i}" for i in range(3)]
    converse(stack, ledger, senders, range(0, 4))
    before = {s: stack.tracker(s)["slots"] for s in senders}
    stack.kill_rasa()
    started = time.monotonic()
    stack.start_rasa()
    restart_seconds = time.monotonic() - started
    after_restart = {s: stack.tracker(s)["slots"] for s in senders}
    converse(stack, ledger, senders, range(4, 6))
    figures = ledger.reconcile(stack.db_path)
    figures.update(conversations=len(senders), restart_seconds=round(restart_seconds, 1))
    record("kill9_between_turns", figures)
    assert_reconciled(figures)
    assert figures["turns_failed"] == 0
    assert after_restart == before
    assert all(before[s]["payer"] for s in senders)


def test_kill9_during_a_turn(healthy: Stack) -> None:
    """A turn in flight when Rasa dies fails visibly and is not half-recorded."""
    stack, ledger = healthy, Ledger()
    sender = f"kill-during-{uuid.uuid4().hex[:8]}"
    converse(stack, ledger, [sender], range(0, 3))
    assert stack.actions is not None
    stack.actions.signal(signal.SIGSTOP)  # holds the next turn inside its custom action call
    try:
        worker = threading.Thread(
            target=stack.say, args=(sender, SCRIPT[3]), kwargs={"ledger": ledger, "timeout": 30}
        )
        worker.start()
        time.sleep(1.5)
        stack.kill_rasa()
        worker.join(30)
    finally:
        stack.actions.signal(signal.SIGCONT)
    stack.start_rasa()
    converse(stack, ledger, [sender], range(4, 6))
    figures = ledger.reconcile(stack.db_path)
    record("kill9_during_turn", figures)
    assert_reconciled(figures)
    assert figures["turns_failed"] == 1  # the visitor saw the failure
    assert figures["failed_recorded"] + figures["failed_absent"] == 1


@pytest.mark.skipif(not FULL, reason="make faults (FAULTS_PROFILE=full) only")
def test_kill9_under_load(healthy: Stack) -> None:
    """Killed at a random moment while conversations are mid-flight: acknowledged turns all
    survive; each in-flight turn is either fully recorded or absent."""
    stack, ledger = healthy, Ledger()
    senders = [f"kill-load-{uuid.uuid4().hex[:8]}-{i}" for i in range(12)]
    stop = threading.Event()

    def chat(sender: str) -> None:
        for text in SCRIPT:
            if stop.is_set():
                return
            reply = stack.say(sender, text, ledger=ledger, timeout=30)
            if reply.status == 0:
                return

    threads = [threading.Thread(target=chat, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    time.sleep(random.uniform(2.0, 5.0))
    stack.kill_rasa()
    stop.set()
    for t in threads:
        t.join(60)
    stack.start_rasa()
    figures = ledger.reconcile(stack.db_path)
    figures.update(conversations=len(senders))
    record("kill9_under_load", figures)
    assert_reconciled(figures)
    assert figures["turns_acknowledged"] > 0
