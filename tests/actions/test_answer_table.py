"""The answer-interpretation table: every reply read next to the question it answers.

Rows live in ``answer_table.yml`` (question asked, reply, expected value). Each runs through
the real ``action_extract_facts`` on a real tracker, with the intent set to ``nlu_fallback``
(or the button's payload): the interpreter of the pending question must get the answer right
whatever the intent classifier guessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.facts import ActionExtractFacts
from admissions import describe
from admissions.profile import WorkSchool

TABLE = yaml.safe_load((Path(__file__).parent / "answer_table.yml").read_text())
_PICTURES = {"busy": "busy_schedule", "free": "availability", "care_away": "care_away"}


def _rows() -> list[Any]:
    rows: list[Any] = []

    def add(group: dict[str, Any], before: dict[str, Any], reply: str, expected: Any) -> None:
        mode = "loved-one" if group.get("loved_one") else "self"
        rows.append(
            pytest.param(
                group["question"],
                before,
                bool(group.get("loved_one")),
                reply,
                expected,
                id=f"{group['question']}-{mode}-{reply}",
            )
        )

    for group in TABLE["groups"]:
        before = group.get("before", {})
        for reply in group.get("yes_replies", []):
            add(group, before, reply, True)
        for reply in group.get("no_replies", []):
            add(group, before, reply, False)
        for reply, expected in group.get("rows", []):
            add(group, before, reply, expected)
        for block in group.get("relative", []):
            for reply, expected in block["rows"]:
                add(group, block["before"], reply, expected)
    return rows


ROWS = _rows()


def test_the_table_is_large_enough() -> None:
    """The issue asks for at least 300 rows."""
    assert len(ROWS) >= 300


def _check(slots: dict[str, Any], key: str, want: Any) -> None:
    kind, _, day = key.rpartition("_")
    if kind in _PICTURES and day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        picture = slots.get(_PICTURES[kind]) or {}
        assert picture.get(day) == want, f"{_PICTURES[kind]}[{day}]: {picture}"
    elif want is None:
        assert slots.get(key) is None, f"{key} = {slots.get(key)!r}"
    elif key == "work_school":  # data, checked in the words the summary shows it in
        said = describe.work_school(WorkSchool.from_slot(slots.get(key)))
        assert said == want, f"{key} = {slots.get(key)!r} ({said!r}), wanted {want!r}"
    else:
        assert slots.get(key) == want, f"{key} = {slots.get(key)!r}, wanted {want!r}"


@pytest.mark.parametrize(("question", "before", "loved_one", "reply", "expected"), ROWS)
async def test_reply_read_next_to_its_question(
    make_tracker, domain, question, before, loved_one, reply, expected
) -> None:
    """One row of the table."""
    slots_before = {"requested_slot": question, **before}
    if loved_one:
        slots_before["visitor_role"] = "loved_one"
    intent = reply[1:] if reply.startswith("/") else "nlu_fallback"
    tracker = make_tracker(reply, intent, slots_before, active_loop="assessment_form")
    events = await ActionExtractFacts().run(CollectingDispatcher(), tracker, domain)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    if expected == "clarify":
        assert slots.get("clarify"), f"no follow-up: {slots}"
        assert slots.get(question) is None
    elif expected == "none":
        assert slots.get(question) is None and not slots.get("clarify"), slots
    elif isinstance(expected, dict):
        for key, want in expected.items():
            _check(slots, key, want)
    else:
        assert question in slots, f"{question} not filled: {slots}"
        assert slots[question] == expected, f"{question} = {slots[question]!r}"
