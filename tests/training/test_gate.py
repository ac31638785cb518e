"""The quality gate's rules, on hand-made metrics."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from admissions.training.gate import GateRules, check, intent_deltas

RULES = GateRules(max_macro_f1_drop=0.005, max_intent_f1_drop=0.03, min_crisis_recall=1.0)


def metrics(
    f1: dict[str, float],
    *,
    recall: float = 1.0,
    missed: list[str] | None = None,
    protected_missed: list[str] | None = None,
    failed: list[str] | None = None,
) -> dict[str, Any]:
    per_intent = {k: {"precision": v, "recall": v, "f1": v, "support": 20} for k, v in f1.items()}
    return {
        "heldout": {"macro_f1": sum(f1.values()) / len(f1), "per_intent": per_intent},
        "crisis": {
            "positives": 100,
            "recall": recall,
            "missed": missed or [],
            "protected": 10,
            "protected_missed": protected_missed or [],
        },
        "stories": {"total": 19, "passed": 19 - len(failed or []), "failed": failed or []},
    }


BASE = metrics({"greet": 0.95, "ask_cost": 0.90, "crisis": 0.97, "deny": 0.92})


def names(result: Any) -> dict[str, bool]:
    return {c.name: c.passed for c in result.checks}


def test_same_quality_passes() -> None:
    result = check(BASE, copy.deepcopy(BASE), RULES)
    assert result.passed and result.reasons() == []
    assert names(result) == dict.fromkeys(
        ["macro_f1", "intent_f1", "crisis_recall", "crisis_protected", "stories"], True
    )


def test_macro_f1_may_drop_half_a_point_not_more() -> None:
    ok = metrics({"greet": 0.95, "ask_cost": 0.90, "crisis": 0.97, "deny": 0.90})  # -0.5 pt
    assert check(BASE, ok, RULES).passed
    bad = metrics({"greet": 0.95, "ask_cost": 0.90, "crisis": 0.97, "deny": 0.899})  # -0.525
    result = check(BASE, bad, RULES)
    assert not result.passed and names(result)["macro_f1"] is False
    assert "drop of 0.5 points" in result.reasons()[0]


@pytest.mark.parametrize(("after", "passes"), [(0.87, True), (0.869, False), (0.5, False)])
def test_no_intent_may_lose_more_than_three_points(after: float, passes: bool) -> None:
    candidate = metrics({"greet": 0.95, "ask_cost": after, "crisis": 0.99, "deny": 0.99})
    result = check(BASE, candidate, RULES)
    assert names(result)["intent_f1"] is passes
    if not passes:
        assert any("ask_cost" in d for c in result.checks for d in c.details)


def with_errors(m: dict[str, Any], **errors: int) -> dict[str, Any]:
    m = copy.deepcopy(m)
    for name, per in m["heldout"]["per_intent"].items():
        per["errors"] = errors.get(name, 0)
    return m


def test_a_drop_from_one_flipped_message_is_noise_not_a_refusal() -> None:
    """goodbye has 17 held-out messages: one more wrong costs ~3.4 F1 points by itself."""
    candidate = metrics({"greet": 0.95, "ask_cost": 0.86, "crisis": 0.97, "deny": 0.96})
    result = check(with_errors(BASE, ask_cost=2), with_errors(candidate, ask_cost=3), RULES)
    assert names(result)["intent_f1"] is True
    intent_check = next(c for c in result.checks if c.name == "intent_f1")
    assert "beyond noise (1 dropped with fewer than 2 more messages wrong)" in intent_check.summary
    assert any("ask_cost" in d and "within noise" in d for d in intent_check.details)


def test_a_drop_of_two_more_messages_is_refused() -> None:
    candidate = metrics({"greet": 0.95, "ask_cost": 0.86, "crisis": 0.97, "deny": 0.96})
    result = check(with_errors(BASE, ask_cost=2), with_errors(candidate, ask_cost=4), RULES)
    assert names(result)["intent_f1"] is False
    assert any("2 more messages wrong" in d for c in result.checks for d in c.details)


def test_the_literal_rule_is_one_setting_away() -> None:
    strict = GateRules(min_intent_error_increase=1)
    candidate = metrics({"greet": 0.95, "ask_cost": 0.86, "crisis": 0.97, "deny": 0.96})
    result = check(with_errors(BASE, ask_cost=2), with_errors(candidate, ask_cost=3), strict)
    assert names(result)["intent_f1"] is False


def test_an_intent_missing_from_the_candidate_counts_as_zero() -> None:
    candidate = metrics({"greet": 0.99, "ask_cost": 0.99, "crisis": 0.99})
    assert names(check(BASE, candidate, RULES))["intent_f1"] is False


def test_crisis_recall_must_stay_at_100_percent() -> None:
    candidate = metrics(
        {"greet": 0.95, "ask_cost": 0.90, "crisis": 0.97, "deny": 0.92},
        recall=0.99,
        missed=["i'm not safe at home right now"],
    )
    result = check(BASE, candidate, RULES)
    assert not result.passed and names(result)["crisis_recall"] is False
    assert "not recognised as crisis: i'm not safe at home right now" in result.checks[2].details


def test_protected_crisis_examples_may_not_be_lost() -> None:
    candidate = metrics(
        {"greet": 0.95, "ask_cost": 0.90, "crisis": 0.97, "deny": 0.92},
        protected_missed=["i have the rope ready"],
    )
    assert names(check(BASE, candidate, RULES))["crisis_protected"] is False
    # ...unless the live model missed it too (not a regression)
    base = copy.deepcopy(BASE)
    base["crisis"]["protected_missed"] = ["i have the rope ready"]
    assert names(check(base, candidate, RULES))["crisis_protected"] is True


def test_every_test_story_must_pass() -> None:
    candidate = metrics(
        {"greet": 0.95, "ask_cost": 0.90, "crisis": 0.97, "deny": 0.92}, failed=["crisis mid-form"]
    )
    result = check(BASE, candidate, RULES)
    assert not result.passed and "Test stories: 18 of 19 pass." in result.reasons()


def test_first_model_is_judged_on_crisis_and_stories_only() -> None:
    weak = metrics({"greet": 0.2, "ask_cost": 0.1, "crisis": 0.9, "deny": 0.1})
    result = check(None, weak, RULES)
    assert result.passed
    assert set(names(result)) == {"crisis_recall", "crisis_protected", "stories"}


def test_report_rows_show_before_after_and_change() -> None:
    candidate = metrics({"greet": 0.97, "ask_cost": 0.80, "crisis": 0.97, "new_intent": 0.9})
    rows = {r["intent"]: r for r in intent_deltas(BASE, candidate)}
    assert rows["greet"]["delta_f1"] == pytest.approx(0.02)
    assert rows["ask_cost"]["delta_f1"] == pytest.approx(-0.10)
    assert rows["deny"]["after"] is None and rows["deny"]["delta_f1"] is None
    assert rows["new_intent"]["before"] is None
