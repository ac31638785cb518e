"""The quality gate: may a newly trained model replace the live one? Pure functions.

A candidate passes only when, compared with the live model on the same held-out set:
1. macro-F1 drops by at most ``max_macro_f1_drop`` (0.005 = half a percentage point);
2. no intent's F1 drops by more than ``max_intent_f1_drop`` (0.03 = three points) through
   more than noise: the drop counts when that intent also gets at least
   ``min_intent_error_increase`` (2) more held-out messages wrong than the live model did.
   With 17-34 held-out messages per intent one message flipping moves an intent's F1 by 3-6
   points, and retraining on the same data flips single messages by chance; a rule that fired
   on one message would refuse good models at random. Set it to 1 for the literal rule. When
   either model's metrics lack the error counts, the F1 drop alone decides;
3. the crisis tables keep ``min_crisis_recall`` (100 %) and no protected crisis example the live
   model recognised is missed;
4. every test story passes.
Without a live model to compare with (the very first model), 1 and 2 are skipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

EPSILON = 1e-9


@dataclass(frozen=True)
class GateRules:
    """The gate's limits (fractions of 1: 0.005 is 0.5 points of F1)."""

    max_macro_f1_drop: float = 0.005
    max_intent_f1_drop: float = 0.03
    min_crisis_recall: float = 1.0
    min_intent_error_increase: int = 2


@dataclass
class Check:
    """One rule's outcome, in words staff can read."""

    name: str
    passed: bool
    summary: str
    details: list[str] = field(default_factory=list)


@dataclass
class GateResult:
    """Every check and whether the candidate may be promoted."""

    passed: bool
    checks: list[Check]

    def reasons(self) -> list[str]:
        """Why it failed (empty when it passed)."""
        return [c.summary for c in self.checks if not c.passed]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}


def points(value: float) -> str:
    """0.9347 -> "93.5"."""
    return f"{value * 100:.1f}"


def intent_deltas(baseline: dict[str, Any], candidate: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-intent rows for the report: support, before/after P/R/F1 and the F1 change."""
    before = baseline.get("heldout", {}).get("per_intent", {}) if baseline else {}
    after = candidate.get("heldout", {}).get("per_intent", {})
    rows = []
    for intent in sorted(set(before) | set(after)):
        b, a = before.get(intent), after.get(intent)
        rows.append(
            {
                "intent": intent,
                "support": (a or b or {}).get("support", 0),
                "before": b,
                "after": a,
                "delta_f1": round(a["f1"] - b["f1"], 4) if a and b else None,
            }
        )
    return rows


def _more_errors(before: dict[str, Any], after: dict[str, Any] | None) -> int | None:
    """How many more held-out messages the candidate gets wrong for one intent (None: unknown)."""
    if after is None:
        return int(before.get("support", 0)) or None  # the intent vanished: all of them
    if "errors" not in before or "errors" not in after:
        return None
    return int(after["errors"]) - int(before["errors"])


def check(
    baseline: dict[str, Any] | None, candidate: dict[str, Any], rules: GateRules
) -> GateResult:
    """Apply the rules to the candidate's metrics (and the live model's, when there is one)."""
    checks: list[Check] = []
    if baseline is not None:
        checks.append(_macro_f1_check(baseline, candidate, rules))
        checks.append(_intent_f1_check(baseline, candidate, rules))
    checks += _crisis_checks(baseline, candidate, rules)
    checks.append(_stories_check(candidate))
    return GateResult(all(c.passed for c in checks), checks)


def _macro_f1_check(baseline: dict[str, Any], candidate: dict[str, Any], rules: GateRules) -> Check:
    """Rule 1: held-out macro-F1 drops by at most ``max_macro_f1_drop``."""
    before, after = baseline["heldout"], candidate["heldout"]
    drop = before["macro_f1"] - after["macro_f1"]
    return Check(
        "macro_f1",
        drop <= rules.max_macro_f1_drop + EPSILON,
        f"Held-out macro-F1 {points(before['macro_f1'])} → {points(after['macro_f1'])}"
        + (
            f" (a drop of {points(drop)} points; at most "
            f"{points(rules.max_macro_f1_drop)} allowed)."
            if drop > rules.max_macro_f1_drop + EPSILON
            else "."
        ),
    )


def _intent_f1_check(
    baseline: dict[str, Any], candidate: dict[str, Any], rules: GateRules
) -> Check:
    """Rule 2: no intent's F1 drops by more than ``max_intent_f1_drop`` beyond noise."""
    dropped: list[str] = []
    noise: list[str] = []
    for row in intent_deltas(baseline, candidate):
        b, a = row["before"], row["after"]
        if b is None:
            continue
        a_f1 = a["f1"] if a else 0.0
        if b["f1"] - a_f1 <= rules.max_intent_f1_drop + EPSILON:
            continue
        more_errors = _more_errors(b, a)
        if more_errors is not None and more_errors < rules.min_intent_error_increase:
            noise.append(
                f"{row['intent']}: F1 {points(b['f1'])} → {points(a_f1)}, but only "
                f"{more_errors} more held-out message(s) wrong: within noise"
            )
            continue
        dropped.append(
            f"{row['intent']}: F1 {points(b['f1'])} → {points(a_f1)} "
            f"(−{points(b['f1'] - a_f1)} points"
            + (f", {more_errors} more messages wrong)" if more_errors is not None else ")")
        )
    return Check(
        "intent_f1",
        not dropped,
        f"No intent lost more than {points(rules.max_intent_f1_drop)} points of F1"
        + (
            f" beyond noise ({len(noise)} dropped with fewer than "
            f"{rules.min_intent_error_increase} more messages wrong)."
            if noise
            else "."
        )
        if not dropped
        else f"{len(dropped)} intent(s) lost more than "
        f"{points(rules.max_intent_f1_drop)} points of F1.",
        dropped + noise,
    )


def _crisis_checks(
    baseline: dict[str, Any] | None, candidate: dict[str, Any], rules: GateRules
) -> list[Check]:
    """Rule 3: the crisis tables' recall, and no protected crisis example lost."""
    crisis = candidate["crisis"]
    recall_ok = crisis["recall"] >= rules.min_crisis_recall - EPSILON
    recall = Check(
        "crisis_recall",
        recall_ok,
        f"Crisis tables: {points(crisis['recall'])} % of {crisis['positives']} danger "
        "messages recognised"
        + ("." if recall_ok else f" (must be {points(rules.min_crisis_recall)} %)."),
        [f"not recognised as crisis: {t}" for t in crisis["missed"]],
    )
    known_missed = set(baseline["crisis"].get("protected_missed", [])) if baseline else set()
    lost = [t for t in crisis.get("protected_missed", []) if t not in known_missed]
    protected = Check(
        "crisis_protected",
        not lost,
        f"All {crisis.get('protected', 0)} protected crisis examples still recognised."
        if not lost
        else f"{len(lost)} message(s) the live model treats as a crisis would no longer be.",
        [f"no longer a crisis: {t}" for t in lost],
    )
    return [recall, protected]


def _stories_check(candidate: dict[str, Any]) -> Check:
    """Rule 4: every test story passes."""
    stories = candidate["stories"]
    return Check(
        "stories",
        not stories["failed"] and stories["passed"] == stories["total"],
        f"Test stories: {stories['passed']} of {stories['total']} pass.",
        [f"failed: {name}" for name in stories["failed"]],
    )
