"""The inbox's conversation signals (re-asks, read-back "Change it", corrections, callback-form
privacy) read from a PostgreSQL tracker store, as in production.

Runs only when ``STAFF_TEST_POSTGRES_URL`` names an empty scratch database (``make test-training``
starts one); every table it creates is dropped again.
"""

from __future__ import annotations

import os
import time

import pytest

from admissions.db import migrate
from admissions.db.engine import create_engine
from admissions.training import inbox
from tests.web.fixtures import Conversation, create_tracker_store, write
from tests.web.test_training_signals import ask, loop

URL = os.environ.get("STAFF_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set STAFF_TEST_POSTGRES_URL to run on PostgreSQL")


async def test_signals_on_postgres(pg):
    tracker = create_tracker_store(URL)
    conv = Conversation("pg-signals", start=time.time() - 600)
    loop(conv, "assessment_form")
    ask(conv, "screen_withdrawal", "Do you get withdrawal?", 1)
    conv.visitor("I get the shakes in the morning", intent="ready_to_start", confidence=0.89)
    ask(conv, "screen_withdrawal", "Sorry, I didn't catch that. Do you get withdrawal?", 2)
    ask(conv, "work_school", "Do you work?", 1)
    conv.visitor("i work days", intent="inform_work_school", confidence=0.97)
    conv.slot("work_school", {"from": 540})
    conv.visitor("actually nights", intent="inform_work_school", confidence=0.97)
    conv.slot("work_school", {"from": 1320})
    loop(conv, "callback_form")
    ask(conv, "callback_name", "What name should we ask for?", 1)
    conv.visitor("it's Jessica", intent="inform", confidence=0.2)
    write(tracker, conv)
    tracker.dispose()
    migrate.upgrade(URL)
    engine = create_engine(URL)
    try:
        async with engine.connect() as t, engine.connect() as a:
            items = await inbox.inbox(t, a, 0.6, 100)
    finally:
        await engine.dispose()
    assert [(i.text, i.reasons) for i in items] == [
        ("i work days", [inbox.CORRECTED]),
        ("I get the shakes in the morning", [inbox.REASKED]),
    ]
