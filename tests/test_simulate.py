"""`make simulate`: the visitor files are well formed and the simulator reads the bot right (no servers)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.conversation import Conversation, detect_topic, is_crisis, is_goodbye, is_reask
from benchmarks.visitor import KINDS, Visitor, load_visitors, problems

ROOT = Path(__file__).resolve().parents[1]
VISITORS = load_visitors()
SLOT_TOPICS = {
    "readiness": "readiness",
    "payment": "payment",
    "work_school": "work",
    "caregiving": "caregiving",
    "availability": "availability",
    "screen_daily_use": "daily_use",
    "screen_withdrawal": "withdrawal",
    "screen_relapse": "relapse",
    "screen_home_unsafe": "home",
}


def _norm(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\][({][^)}]*[)}]", r"\1", text)
    return " ".join(re.sub(r"[^a-z0-9:' ]", " ", text.lower()).split())


def _responses() -> dict[str, dict[str, Any]]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    return {name: variants[-1] for name, variants in domain["responses"].items()}


def test_every_visitor_file_is_well_formed() -> None:
    """Names unique, kinds and expected programs valid, every expectation explained."""
    assert problems(VISITORS) == []


def test_there_are_enough_visitors_of_every_kind() -> None:
    """At least 60 visitors; every kind has at least 3; every program is expected somewhere."""
    assert len(VISITORS) >= 60
    kinds = Counter(v.kind for v in VISITORS)
    assert {k: kinds[k] for k in KINDS if kinds[k] < 3} == {}
    expected = Counter(v.expect for v in VISITORS)
    assert all(expected[p] >= 5 for p in ("op", "iop", "php", "residential")), expected


def test_no_visitor_copies_a_training_example() -> None:
    """Replies of three words or more are not training examples (one-word answers can't differ)."""
    training: set[str] = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for line in path.read_text().splitlines():
            match = re.match(r"\s*- (.+)$", line)
            if match:
                training.add(_norm(match.group(1)))
    copied = [
        (v.name, m)
        for v in VISITORS
        for m in v.messages()
        if len(m.split()) >= 3 and _norm(m) in training
    ]
    assert copied == [], "reword these visitor turns (or take them out of data/nlu/)"


def test_todays_questions_are_recognised_in_both_voices() -> None:
    """Every assessment question, first ask and re-asks, self and loved one, maps to its topic."""
    from actions.questions import QUESTIONS, render

    for slot, topic in SLOT_TOPICS.items():
        if slot not in QUESTIONS:
            continue
        for attempt in (1, 2, 3):
            for loved_one in (False, True):
                text, buttons = render(slot, attempt, loved_one)
                replies = [{"text": text, "buttons": buttons}]
                assert detect_topic(replies) == topic, (slot, attempt, loved_one, text)
                assert is_reask(replies) == (attempt > 1)


@pytest.mark.parametrize(
    "text, topic",
    [
        ("The IOP morning track runs 9 AM–1 PM, Monday to Thursday. "
         "Could you be free until 1 PM on those days?", "near_miss"),
        ("The IOP evening track runs 5:30–9:30 PM on Monday, Tuesday and Thursday. "
         "Could they also make it on Thursday? Then it could fit.", "near_miss"),
        ("So you're free Monday–Friday, 8 AM–3 PM. Did I get that right?", "confirm"),
        ("Just to check: did you mean you're saying goodbye?", "did_you_mean"),
        ("Sorry, I didn't quite understand. Could you say that another way?", None),
    ],
)  # fmt: skip
def test_new_questions_are_recognised(text: str, topic: str | None) -> None:
    """Near-miss, read-back and "Did you mean" questions get their own topics."""
    assert detect_topic([{"text": text}]) == topic


def test_greeting_goodbye_and_crisis_are_told_apart() -> None:
    """The greeting names 988 but is no crisis reply; goodbye and crisis replies are recognised."""
    responses = _responses()
    greeting = [responses["utter_greet"]]
    assert detect_topic(greeting) == "who_for"
    assert not is_crisis(greeting) and not is_goodbye(greeting)
    assert is_crisis([responses["utter_crisis"]])
    assert is_goodbye([responses["utter_goodbye"]]) and not is_crisis([responses["utter_goodbye"]])


class FakeBot:
    """A stand-in for Rasa that asks a fixed list of questions, one per message, then scores."""

    def __init__(self, questions: list[str], result: str) -> None:
        """Ask ``questions`` in order; set ``recommended_program`` to ``result`` at the end."""
        self.questions = questions
        self.result = result
        self.heard: list[str] = []

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Answer with the next question, or the fit and handoff once none are left."""
        self.heard.append(text)
        if len(self.heard) <= len(self.questions):
            return [{"text": self.questions[len(self.heard) - 1]}]
        return [{"text": "Mention code ABC-12 so they can find this chat."}]

    def slots(self, sender: str) -> dict[str, Any]:
        """Only the contract slots."""
        done = len(self.heard) > len(self.questions)
        return {"recommended_program": self.result if done else None, "crisis_detected": False}


@pytest.mark.parametrize("result, success", [("iop", True), ("op", False)])
def test_a_visitor_answers_what_is_asked_in_any_order(result: str, success: bool) -> None:
    """Replies follow the question asked (order, re-ask, read-back); the final slot decides."""
    visitor = Visitor(
        name="t",
        kind="terse",
        expect="iop",
        why="test visitor for the simulator",
        answers={"payment": ["how much?", "aetna"], "availability": "after 5", "default": "ok"},
        retry={"availability": "evenings after 5"},
    )
    bot = FakeBot(
        [
            "Hi, I want help for myself?",
            "When are you usually free for treatment?",
            "Sorry, I didn't catch that. When are you usually free for treatment?",
            "How would you pay for treatment?",
            "How would you pay for treatment?",
            "So you're free weekdays after 5. Did I get that right?",
        ],
        result,
    )
    outcome = Conversation(visitor, bot).run()
    assert bot.heard == ["hi", "ok", "after 5", "evenings after 5", "how much?", "aetna", "yes"]
    assert (outcome.success, outcome.reasks, outcome.repeats, outcome.turns) == (success, 1, 0, 7)
    assert outcome.reason == ("" if success else "expected iop, got op")
