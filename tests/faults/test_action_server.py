"""The action server stopped or frozen (SIGSTOP): a useful reply within 10 s, never silence.

Every custom action has a 5 s budget (``rasa_addons.action_budget``); a failed one becomes a
reply with the admissions number and a suggestion to try again. The crisis reply is a static
response: it arrives even with the action server frozen, without waiting out the budget.
"""

from __future__ import annotations

import signal
import time
import uuid

import pytest
from harness import SCRIPT, Ledger, Stack, assert_reconciled, converse, record

PHONE = "833-820-2922"
CRISIS = "i want to kill myself"


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_action_server_down(healthy: Stack, how: str) -> None:
    """Turns that need a custom action get the fallback reply in time; crisis still works."""
    stack, ledger = healthy, Ledger()
    sender = f"actions-{how}-{uuid.uuid4().hex[:8]}"
    converse(stack, ledger, [sender], range(0, 1))
    assert stack.actions is not None
    if how == "stopped":
        stack.stop_actions()
    else:
        stack.actions.signal(signal.SIGSTOP)
    try:
        needs_action = [stack.say(sender, SCRIPT[i], ledger=ledger, timeout=30) for i in (1, 2)]
        crisis = stack.say(f"{sender}-crisis", CRISIS, ledger=ledger, timeout=30)
    finally:
        if how == "stopped":
            stack.start_actions()
        else:
            stack.actions.signal(signal.SIGCONT)
    started, probe = time.monotonic(), 0
    while True:  # a restarted action server first loads its models (Rasa warms it up)
        probe += 1
        recovered = stack.say(f"{sender}-probe-{probe}", SCRIPT[3], ledger=ledger, timeout=30)
        if not recovered.mentions("technical problem") or time.monotonic() - started > 60:
            break
        time.sleep(1)
    recovery_seconds = time.monotonic() - started
    figures = ledger.reconcile(stack.db_path)
    figures.update(
        action_server=how,
        reply_seconds_max=round(max(r.seconds for r in needs_action), 2),
        crisis_reply_seconds=round(crisis.seconds, 2),
        fallback_replies=sum(r.mentions("technical problem") for r in needs_action),
        recovered=not recovered.mentions("technical problem"),
        recovery_seconds=round(recovery_seconds, 1),
    )
    record(f"action_server_{how}", figures)
    assert_reconciled(figures)
    for reply in needs_action:
        assert reply.status == 200 and reply.seconds < 10
        assert reply.mentions(PHONE), reply.texts
    assert figures["fallback_replies"] >= 1
    assert all(n in " ".join(crisis.texts) for n in ("911", "988", PHONE))
    assert crisis.seconds < 3
    assert figures["recovered"]
