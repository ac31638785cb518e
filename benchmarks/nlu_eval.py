"""`make eval`: the trained model on data it never saw.

1. Intent classification on the held-out set ``tests/nlu/`` (``rasa test nlu``): per-intent
   precision/recall/F1 and a confusion-matrix image.
2. The crisis tables (``tests/admissions/crisis_cases.yml``) through the whole NLU pipeline
   (DIET + the deterministic CrisisGuard): recall on danger messages, false alarms on the rest.
3. Everyday requests that have nothing to do with treatment (``tests/oos/everyday_oos.yml``,
   written for this project, never trained on): the share rejected (``out_of_scope``, or
   ``nlu_fallback``, which asks "did you mean...?"), and any that got the crisis intent.

Writes ``<out>/summary.json`` and ``<out>/summary.md``; exits 1 when a target is missed
(macro-F1 >= 0.95, every intent >= 0.90, crisis recall 100 %, false alarms <= 3 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "admissions.tar.gz"
CASES = ROOT / "tests" / "admissions" / "crisis_cases.yml"
EVERYDAY = ROOT / "tests" / "oos" / "everyday_oos.yml"
TARGETS = {
    "macro_f1": 0.95,
    "min_intent_f1": 0.90,
    "crisis_recall": 1.0,
    "false_alarm_rate": 0.03,
    "everyday_rejected": 0.90,
}
REJECTED = {"out_of_scope", "nlu_fallback"}


def intent_eval(out: Path) -> dict[str, Any]:
    """Run ``rasa test nlu`` on the held-out set and summarise its intent report."""
    cmd = [
        str(ROOT / ".venv/rasa/bin/rasa"), "test", "nlu", "--model", str(MODEL),
        "--nlu", str(ROOT / "tests/nlu"), "--out", str(out),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    report = json.loads((out / "intent_report.json").read_text())
    per_intent = {
        name: {k: round(v[k], 4) for k in ("precision", "recall", "f1-score", "support")}
        for name, v in report.items()
        if isinstance(v, dict)
        and "support" in v
        and name not in ("macro avg", "weighted avg", "micro avg")
    }
    return {
        "examples": int(report["macro avg"]["support"]),
        "accuracy": round(report.get("accuracy", 0.0), 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "min_intent_f1": min(v["f1-score"] for v in per_intent.values()),
        "per_intent": per_intent,
        "confusion_matrix": str((out / "intent_confusion_matrix.png").relative_to(ROOT)),
    }


def _quiet_rasa() -> None:
    """Rasa's structured log prints every DEBUG line (each parsed test sentence) to stdout
    until it is configured, which `rasa` commands do and direct API calls don't: warnings only."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


async def crisis_eval() -> dict[str, Any]:
    """Parse every crisis-table message with the trained model's NLU pipeline."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    cases = yaml.safe_load(CASES.read_text())
    missed, alarms = [], []
    for case in cases["positive"]:
        parsed = await agent.parse_message(case["text"])
        if parsed["intent"]["name"] != "crisis":
            missed.append(case["text"])
    for text in cases["negative"]:
        parsed = await agent.parse_message(text)
        if parsed["intent"]["name"] == "crisis":
            alarms.append(text)
    n_pos, n_neg = len(cases["positive"]), len(cases["negative"])
    return {
        "positives": n_pos,
        "negatives": n_neg,
        "crisis_recall": round(1 - len(missed) / n_pos, 4),
        "false_alarm_rate": round(len(alarms) / n_neg, 4),
        "missed": missed,
        "false_alarms": alarms,
    }


async def everyday_eval() -> dict[str, Any]:
    """Parse every held-out everyday request: how many are rejected as out of scope."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(MODEL))
    data = yaml.safe_load(EVERYDAY.read_text())
    texts = [
        line[2:].strip()
        for block in data["nlu"]
        for line in str(block["examples"]).splitlines()
        if line.startswith("- ")
    ]
    accepted: list[dict[str, str]] = []
    for text in texts:
        intent = (await agent.parse_message(text))["intent"]["name"]
        if intent not in REJECTED:
            accepted.append({"text": text, "intent": intent})
    return {
        "examples": len(texts),
        "rejected_rate": round(1 - len(accepted) / max(1, len(texts)), 4),
        "crisis": [a["text"] for a in accepted if a["intent"] == "crisis"],
        "accepted": accepted,
    }


def main() -> int:
    """Run both evaluations and write the summary files."""
    global MODEL  # one model for the three evaluations, --model picks another
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "eval")
    parser.add_argument(
        "--model", type=Path, default=MODEL, help="a model to compare (default: the live one)"
    )
    args = parser.parse_args()
    MODEL = args.model.resolve()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    _quiet_rasa()
    started = time.monotonic()
    summary: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()}, Python {platform.python_version()}",
        "model": str(MODEL.relative_to(ROOT)) if MODEL.is_relative_to(ROOT) else str(MODEL),
        "intents": intent_eval(args.out),
        "crisis": asyncio.run(crisis_eval()),
        "everyday": asyncio.run(everyday_eval()),
    }
    summary["seconds"] = round(time.monotonic() - started, 1)
    checks = {
        "macro_f1": summary["intents"]["macro_f1"] >= TARGETS["macro_f1"],
        "min_intent_f1": summary["intents"]["min_intent_f1"] >= TARGETS["min_intent_f1"],
        "crisis_recall": summary["crisis"]["crisis_recall"] >= TARGETS["crisis_recall"],
        "false_alarm_rate": summary["crisis"]["false_alarm_rate"] <= TARGETS["false_alarm_rate"],
        "everyday_rejected": summary["everyday"]["rejected_rate"] >= TARGETS["everyday_rejected"],
    }
    summary["targets"] = TARGETS
    summary["passed"] = checks
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    lines = [
        "# NLU evaluation (held-out set, never trained on)",
        "",
        f"macro-F1 **{summary['intents']['macro_f1']:.3f}** on {summary['intents']['examples']} "
        f"examples; lowest intent F1 {summary['intents']['min_intent_f1']:.3f}; "
        f"crisis recall {summary['crisis']['crisis_recall']:.1%} of {summary['crisis']['positives']}; "
        f"false alarms {summary['crisis']['false_alarm_rate']:.1%} of {summary['crisis']['negatives']}.",
        f"Everyday out-of-scope requests rejected: {summary['everyday']['rejected_rate']:.1%} of "
        f"{summary['everyday']['examples']} (crisis replies: {len(summary['everyday']['crisis'])}).",
        "",
        "| intent | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
    ]
    for name, v in sorted(
        summary["intents"]["per_intent"].items(), key=lambda kv: kv[1]["f1-score"]
    ):
        lines.append(
            f"| {name} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1-score']:.3f} | {v['support']} |"
        )
    lines += ["", f"Confusion matrix: `{summary['intents']['confusion_matrix']}`"]
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:4]))
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'MISS'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
