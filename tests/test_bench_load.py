"""`make bench-load`: percentiles and the reconciliation of acknowledged turns (no servers, no timing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from benchmarks.load_driver import Turn, percentile, summarise
from benchmarks.load_reconcile import reconcile, stored_user_texts
from benchmarks.load_scripts import pick_visitors
from benchmarks.visitor import load_visitors
from rasa_addons.tracker_store import DurableSQLTrackerStore

ROOT = Path(__file__).resolve().parents[1]


def turn(sender: str, text: str, ok: bool = True, ms: float = 100.0) -> Turn:
    return Turn("admissions", 1, sender, text, ok, "200" if ok else "500", ms, ms / 1000)


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summary_counts_only_acknowledged_turns_in_latency() -> None:
    turns = [turn("a", "hi", ms=100), turn("a", "me", ms=300), turn("b", "hi", ok=False, ms=5)]
    summary = summarise(turns, duration=1.0)
    assert summary["turns"] == 2
    assert summary["errors"] == 1
    assert summary["error_kinds"] == {"500": 1}
    assert summary["p50_ms"] == 200.0
    assert summary["conversations"] == 2


def test_reconcile_finds_missing_duplicated_and_tolerates_unacknowledged() -> None:
    turns = [
        turn("a", "hi"),
        turn("a", "me"),
        turn("a", "yes"),
        turn("a", "yes"),  # said twice: both must be stored
        turn("b", "hi"),
        turn("b", "aetna", ok=False),  # failed for the client: stored or not, both fine
    ]
    stored = {"a": ["hi", "me", "me", "yes"], "b": ["hi", "aetna"], "c": ["stray"]}
    result = reconcile(turns, stored)
    assert result["acknowledged"] == 5
    assert result["missing"] == 1  # the second "yes"
    assert result["duplicated"] == 2  # the second "me", and a conversation never sent
    assert result["unacknowledged_stored"] == 1


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def test_reconcile_reads_a_tracker_written_by_the_projects_store(
    tmp_path: Path, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Turns saved through DurableSQLTrackerStore (twice: idempotent) reconcile to 0 lost."""
    monkeypatch.setenv("TRACKER_DB_TIMEOUT", "0.5")
    db = tmp_path / "tracker.db"

    async def write() -> None:
        store = DurableSQLTrackerStore(domain=domain, db=str(db), spool_dir=str(tmp_path / "s"))
        tracker = DialogueStateTracker("load-admissions-c1-v0-x", domain.slots)
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        for text in ("hi", "me", "aetna"):
            tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
            tracker.update(BotUttered("ok"))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
        await store.save(tracker)  # saving again writes nothing new
        other = DialogueStateTracker("sim-not-a-load-sender", domain.slots)
        other.update(UserUttered("ignored"))
        await store.save(other)

    asyncio.run(write())
    stored = stored_user_texts(db)
    assert stored == {"load-admissions-c1-v0-x": ["hi", "me", "aetna"]}
    sent = [turn("load-admissions-c1-v0-x", t) for t in ("hi", "me", "aetna", "sober")]
    result = reconcile(sent, stored)
    assert (result["missing"], result["duplicated"]) == (1, 0)


def test_a_message_reread_after_did_you_mean_counts_once(
    tmp_path: Path, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visitor confirms "Did you mean …?" (its button sends the intent): Rasa 3.6's two-stage
    fallback rewinds that message and stores it again as the clarification. That is one message
    sent, not a duplicate; a real repeat still counts, and so does the same text again after
    the default fallback's "Sorry" and its rewind."""
    monkeypatch.setenv("TRACKER_DB_TIMEOUT", "0.5")
    db = tmp_path / "tracker.db"
    sender = "load-admissions-c1-v0-y"

    async def write() -> None:
        store = DurableSQLTrackerStore(domain=domain, db=str(db), spool_dir=str(tmp_path / "s"))
        tracker = DialogueStateTracker(sender, domain.slots)
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered("self pay maybe", {"name": "nlu_fallback", "confidence": 0.3}))
        tracker.update(ActionExecuted("action_two_stage_fallback"))
        tracker.update(BotUttered("Did you mean you'd pay yourself?"))
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered("/inform", {"name": "inform", "confidence": 1.0}))
        tracker.update(UserUtteranceReverted())
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered("/inform", {"name": "inform", "confidence": 1.0}))
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered("yes", {"name": "affirm", "confidence": 1.0}))
        tracker.update(BotUttered("Sorry, I didn't quite get that."))
        tracker.update(UserUtteranceReverted())
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered("yes", {"name": "affirm", "confidence": 1.0}))
        await store.save(tracker)

    asyncio.run(write())
    stored = stored_user_texts(db)
    assert stored == {sender: ["self pay maybe", "/inform", "yes", "yes"]}
    sent = [turn(sender, t) for t in ("self pay maybe", "/inform", "yes", "yes")]
    result = reconcile(sent, stored)
    assert (result["missing"], result["duplicated"]) == (0, 0)


def test_scripts_come_from_every_kind_and_leave_out_expected_crises() -> None:
    visitors = load_visitors()
    picked = pick_visitors(visitors, 12)
    assert len(picked) == 12
    assert len({v.kind for v in picked}) == len({v.kind for v in visitors})
    assert not any(v.expect_crisis for v in picked)


def test_long_conversation_compares_medians_around_turn_10_and_the_last_turn() -> None:
    """A tracker that grows must not slow the visitor down: turn 300 is judged against turn 10
    by the median of eleven turns around each, so one slow turn does not decide it."""
    from benchmarks.long_conversation import summary

    latencies = [50.0] * 300
    latencies[9] = 5000.0  # one stall near turn 10 is outvoted
    for n in range(289, 300):
        latencies[n] = 70.0
    report = summary(latencies)
    assert (report["early_ms"], report["late_ms"], report["ratio"]) == (50.0, 70.0, 1.4)
    assert report["turns"] == 300
