"""The tracker database goes down mid-conversation and comes back: nothing acknowledged is lost.

"Down" for SQLite: another process holds an exclusive lock, or the file is moved away
(see ``harness.Outage``). During the outage known conversations go on (history from the
store's cache, turns fsync'd to the spool); a conversation the store cannot load is refused
with a plain reply, never answered from an empty history. Afterwards the database holds every
acknowledged turn exactly once, with the replies the visitor saw.
"""

from __future__ import annotations

import time
import uuid

import pytest
from harness import Ledger, Outage, Stack, assert_reconciled, converse, record


@pytest.mark.parametrize("kind", ["lock", "moved"])
def test_outage_mid_conversation(healthy: Stack, kind: str) -> None:
    """Turns during the outage are answered with their history and replayed afterwards."""
    stack, ledger = healthy, Ledger()
    senders = [f"db-{kind}-{uuid.uuid4().hex[:8]}-{i}" for i in range(4)]
    converse(stack, ledger, senders, range(0, 2))
    outage = Outage(stack.db_path, kind)
    with outage.down():
        during = converse(stack, ledger, senders, range(2, 5))
        assert all(t.reply.acknowledged for t in ledger.turns), "a known conversation was refused"
        spooled = len(stack.spool_files())
        newcomer = stack.say(f"db-{kind}-new-{uuid.uuid4().hex[:8]}", "hello", ledger=ledger)
        assert newcomer.refused and newcomer.mentions("833-820-2922")
    started = time.monotonic()
    replay_seconds = stack.wait_spool_empty(30)
    after = converse(stack, ledger, senders, range(5, 7))
    figures = ledger.reconcile(stack.db_path)
    figures.update(
        outage=kind,
        conversations=len(senders),
        spool_files_during_outage=spooled,
        replay_seconds=round(replay_seconds, 2),
        reply_seconds_max_during_outage=round(max(during), 2),
        reply_seconds_max_after=round(max(after), 2),
        newcomer_refused=newcomer.refused,
    )
    record(f"database_outage_{kind}", figures)
    assert_reconciled(figures)
    assert spooled == len(senders)
    assert max(during) < 10
    assert time.monotonic() - started < 60
    slots = stack.tracker(senders[0])["slots"]
    assert slots["payer"], "a fact told during the outage was lost"


def test_outage_then_kill9_then_restart_while_down(healthy: Stack) -> None:
    """Double fault: spooled turns survive ``kill -9``; a restart during the outage refuses
    (plainly) what it cannot load, and replays the spool once the database is back."""
    stack, ledger = healthy, Ledger()
    senders = [f"db-kill-{uuid.uuid4().hex[:8]}-{i}" for i in range(3)]
    converse(stack, ledger, senders, range(0, 2))
    outage = Outage(stack.db_path, "lock")
    outage.begin()
    try:
        converse(stack, ledger, senders, range(2, 4))
        assert len(stack.spool_files()) == len(senders)
        stack.kill_rasa()
        started = time.monotonic()
        stack.start_rasa()  # must start although the database is down
        restart_seconds = time.monotonic() - started
        refused = stack.say(senders[0], "are you still there?", ledger=ledger)
        assert refused.refused, refused.texts
    finally:
        outage.end()
    replay_seconds = stack.wait_spool_empty(30)
    converse(stack, ledger, senders, range(4, 6))
    figures = ledger.reconcile(stack.db_path)
    figures.update(
        conversations=len(senders),
        restart_seconds_while_down=round(restart_seconds, 1),
        replay_seconds=round(replay_seconds, 2),
    )
    record("database_outage_kill9_restart_while_down", figures)
    assert_reconciled(figures)
    assert figures["turns_refused"] == 1
    assert stack.tracker(senders[0])["slots"]["payer"]
