"""Forget-me and retention reach the retraining data too (issue 15 #5): the examples trainers
accepted from a purged conversation leave ``data/nlu``, its decisions and flags go, and every
other byte of the training data stays as it was."""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from admissions.db.models import MODEL_EVENTS, MODELS, NLU_DECISIONS, NLU_FLAGS
from admissions.db.tracker import events
from tests.web.conftest import REPO, audit_rows
from tests.web.fixtures import Conversation, write

DAY = 86400.0
FORGET = "do u guys take the blue card thing"
OLD = "is the night group ok for moms"
KEPT = "hiya there folks"


@pytest.fixture
def data(training_sandbox: Path) -> Path:
    """A copy of the repo's training data for the app to write into."""
    shutil.copytree(REPO / "data", training_sandbox / "data")
    return training_sandbox / "data" / "nlu"


def _snapshot(nlu: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(nlu.glob("*.yml"))}


def _event_id(tracker, sender: str) -> int:
    with tracker.connect() as conn:
        return conn.execute(
            sa.select(events.c.id).where(events.c.sender_id == sender, events.c.type_name == "user")
        ).scalar_one()


async def test_purged_conversations_leave_the_training_data(sign_in, tracker, data, app_db):
    now = time.time()
    write(
        tracker,
        Conversation("conv-forget", start=now - 3600).visitor(FORGET, "nlu_fallback", 0.3),
        Conversation("conv-old", start=now - 100 * DAY).visitor(OLD, "nlu_fallback", 0.3),
        Conversation("conv-kept", start=now - 3600).visitor(KEPT, "nlu_fallback", 0.3),
    )
    before = _snapshot(data)
    trainer = await sign_in("tina", "trainer")
    for sender, intent, text in (
        ("conv-forget", "ask_cost", FORGET),
        ("conv-old", "ask_cost", OLD),
        ("conv-kept", "greet", KEPT),
    ):
        url = f"/staff/training/inbox/{_event_id(tracker, sender)}"
        accepted = await trainer.post(url, {"action": "accept", "intent": intent, "text": text})
        assert accepted.status == 303, await accepted.text()
    written = b"".join(_snapshot(data).values()).decode()
    assert all(f"- {t}\n" in written for t in (FORGET, OLD, KEPT))
    with app_db.begin() as conn:
        conn.execute(
            NLU_FLAGS.insert().values(
                event_id=_event_id(tracker, "conv-forget"),
                conversation_id="conv-forget",
                flagged_by="ann",
                flagged_at=sa.func.now(),
            )
        )
    # the visitor asks to be forgotten; the old conversation is past RETENTION_DAYS
    write(tracker, Conversation("conv-forget", start=now - 60).slot("forget_requested", True))
    admin = await sign_in("ada", "admin")
    assert (await admin.post("/staff/retention/run")).status == 303

    after = _snapshot(data)
    text = b"".join(after.values()).decode()
    assert f"- {FORGET}\n" not in text and f"- {OLD}\n" not in text
    assert f"- {KEPT}\n" in text
    # every file but the kept example's is byte for byte what it was before
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"basics.yml"}
    assert (
        after["basics.yml"].decode().replace(f"    - {KEPT}\n", "") == before["basics.yml"].decode()
    )
    with app_db.connect() as conn:
        decisions = conn.execute(sa.select(NLU_DECISIONS.c.conversation_id)).scalars().all()
        flags = conn.execute(sa.select(sa.func.count()).select_from(NLU_FLAGS)).scalar_one()
    assert decisions == ["conv-kept"] and flags == 0
    purges = {
        r.conversation_id: json.loads(r.detail) for r in audit_rows(app_db) if r.action == "purge"
    }
    assert purges["conv-forget"]["examples"] == 1 and purges["conv-old"]["examples"] == 1
    assert FORGET not in json.dumps(purges) and OLD not in json.dumps(purges)


async def test_model_files_that_may_hold_purged_sentences_are_pruned(
    sign_in, tracker, data, app_db, training_sandbox
):
    now = time.time()
    write(
        tracker, Conversation("conv-forget", start=now - 3600).visitor(FORGET, "nlu_fallback", 0.3)
    )
    trainer = await sign_in("tina", "trainer")
    url = f"/staff/training/inbox/{_event_id(tracker, 'conv-forget')}"
    accepted = await trainer.post(url, {"action": "accept", "intent": "ask_cost", "text": FORGET})
    assert accepted.status == 303
    history = training_sandbox / "models" / "history"
    history.mkdir(parents=True)
    stamp = datetime.now(timezone.utc)
    made = {
        "old": stamp - timedelta(days=200),  # past RETENTION_DAYS
        "before": stamp - timedelta(days=1),  # trained before the sentence was accepted
        "after": stamp,  # trained since: may hold it
        "live": stamp,  # holds it too, but is live: kept (retrain to drop it)
    }
    ids = {}
    with app_db.begin() as conn:
        for name, created in made.items():
            (history / f"{name}.tar.gz").write_bytes(name.encode())
            ids[name] = conn.execute(
                MODELS.insert().values(
                    file=str(history / f"{name}.tar.gz"),
                    sha256=name.ljust(64, "0"),
                    size_bytes=len(name),
                    created_at=created,
                    origin="trained",
                    trained_by="tina",
                )
            ).inserted_primary_key[0]
        conn.execute(
            MODEL_EVENTS.insert().values(
                model_id=ids["live"], action="promote", by="tina", at=stamp
            )
        )
    write(tracker, Conversation("conv-forget", start=now - 60).slot("forget_requested", True))
    admin = await sign_in("ada", "admin")
    assert (await admin.post("/staff/retention/run")).status == 303
    assert sorted(p.name for p in history.iterdir()) == ["before.tar.gz", "live.tar.gz"]
    (row,) = [r for r in audit_rows(app_db) if r.action == "model_prune"]
    assert sorted(json.loads(row.detail)["files"]) == ["after.tar.gz", "old.tar.gz"]
    with app_db.connect() as conn:  # their rows stay as history
        assert conn.execute(sa.select(sa.func.count()).select_from(MODELS)).scalar_one() == 4
