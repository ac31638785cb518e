"""`make eval-seeds`: how much of the held-out score is the training data, how much luck.

DIET starts from random weights. With 17-34 held-out messages per intent, one message moves an
intent's F1 by 2-6 points, so a single trained model can pass or miss "no intent below 0.90"
by chance. This trains NLU-only models on ``data/nlu`` with several DIET ``random_seed`` values
(everything else as in ``config.yml``), tests each on ``tests/nlu/`` and reports, per seed, the
macro-F1 and the lowest intents, and, per intent, the lowest F1 over the seeds. Judge a data or
config change by this spread, not by one seed.

Writes ``<out>/seeds.json`` and ``<out>/seeds.md``. About 2.5 minutes per seed on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RASA = ROOT / ".venv" / "rasa" / "bin" / "rasa"
MIN_INTENT_F1 = 0.90
AVERAGES = ("macro avg", "weighted avg", "micro avg")


def config_with_seed(config: str, seed: int) -> str:
    """``config.yml`` with the DIETClassifier's ``random_seed`` replaced (the first one)."""
    diet = config.index("name: DIETClassifier")
    match = re.compile(r"random_seed:\s*\d+").search(config, diet)
    if match is None:
        raise SystemExit("config.yml: DIETClassifier has no random_seed to vary")
    return config[: match.start()] + f"random_seed: {seed}" + config[match.end() :]


def one_seed(seed: int, work: Path) -> dict[str, Any]:
    """Train with ``seed``, test on the held-out set, return the scores and the errors."""
    config = work / f"config-{seed}.yml"
    config.write_text(config_with_seed((ROOT / "config.yml").read_text(), seed))
    started = time.monotonic()
    train = [str(RASA), "train", "nlu", "--config", str(config), "--nlu", str(ROOT / "data/nlu")]
    train += ["--out", str(work), "--fixed-model-name", f"seed-{seed}"]
    subprocess.run(train, check=True, cwd=ROOT, capture_output=True)
    seconds = time.monotonic() - started
    out = work / f"out-{seed}"
    test = [str(RASA), "test", "nlu", "--model", str(work / f"seed-{seed}.tar.gz")]
    test += ["--nlu", str(ROOT / "tests/nlu"), "--out", str(out)]
    subprocess.run(test, check=True, cwd=ROOT, capture_output=True)
    report = json.loads((out / "intent_report.json").read_text())
    errors_file = out / "intent_errors.json"
    errors = json.loads(errors_file.read_text()) if errors_file.exists() else []
    return {
        "seed": seed,
        "train_seconds": round(seconds),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "per_intent": {
            name: round(v["f1-score"], 4)
            for name, v in report.items()
            if isinstance(v, dict) and "support" in v and name not in AVERAGES
        },
        "errors": [
            {"intent": e["intent"], "predicted": e["intent_prediction"]["name"], "text": e["text"]}
            for e in errors
        ],
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per intent, the lowest F1 over the seeds; the messages wrong in most seeds."""
    intents = sorted(runs[0]["per_intent"])
    lowest = {name: min(r["per_intent"].get(name, 0.0) for r in runs) for name in intents}
    counts: dict[tuple[str, str, str], int] = {}
    for run in runs:
        for e in run["errors"]:
            key = (e["intent"], e["predicted"], e["text"])
            counts[key] = counts.get(key, 0) + 1
    return {
        "seeds": [r["seed"] for r in runs],
        "macro_f1": [r["macro_f1"] for r in runs],
        "lowest_intent_f1": [min(r["per_intent"].values()) for r in runs],
        "seeds_with_every_intent_at_target": sum(
            min(r["per_intent"].values()) >= MIN_INTENT_F1 for r in runs
        ),
        "lowest_f1_per_intent": lowest,
        "wrong_in_most_seeds": [
            {"intent": k[0], "predicted": k[1], "text": k[2], "seeds": n}
            for k, n in sorted(counts.items(), key=lambda kv: -kv[1])
            if n * 2 > len(runs)
        ],
    }


def markdown(summary: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    """The report a trainer reads."""
    lines = [
        "# Held-out intent scores over DIET seeds",
        "",
        f"{summary['seeds_with_every_intent_at_target']} of {len(runs)} seeds have every intent "
        f"at F1 >= {MIN_INTENT_F1:.2f}.",
        "",
        "| seed | macro-F1 | lowest intents | training |",
        "|---|---|---|---|",
    ]
    for r in runs:
        low = sorted(r["per_intent"].items(), key=lambda kv: kv[1])[:3]
        names = ", ".join(f"{n} {f:.3f}" for n, f in low)
        lines.append(f"| {r['seed']} | {r['macro_f1']:.3f} | {names} | {r['train_seconds']} s |")
    lines += ["", "Lowest F1 of each intent over the seeds:", ""]
    for name, f1 in sorted(summary["lowest_f1_per_intent"].items(), key=lambda kv: kv[1]):
        lines.append(f"- {name}: {f1:.3f}")
    if summary["wrong_in_most_seeds"]:
        lines += [
            "",
            "Held-out messages wrong in most seeds (what to write more data about, in your own "
            "words; never copy these lines into data/nlu):",
            "",
        ]
        for e in summary["wrong_in_most_seeds"]:
            lines.append(f"- {e['intent']} → {e['predicted']} ({e['seeds']}×): {e['text']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Train and test one model per seed; write the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="42,1,2,7", help="comma-separated DIET seeds")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "eval")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="nlu-seeds-") as tmp:
        for seed in seeds:
            run = one_seed(seed, Path(tmp))
            low = min(run["per_intent"].items(), key=lambda kv: kv[1])
            print(f"seed {seed}: macro-F1 {run['macro_f1']:.3f}, lowest {low[0]} {low[1]:.3f}")
            runs.append(run)
    summary = summarise(runs)
    summary["machine"] = f"{platform.node()} {platform.machine()}, {platform.processor()}"
    (args.out / "seeds.json").write_text(json.dumps({"summary": summary, "runs": runs}, indent=2))
    report = markdown(summary, runs)
    (args.out / "seeds.md").write_text(report)
    print(report)
    return 0 if summary["seeds_with_every_intent_at_target"] == len(runs) else 1


if __name__ == "__main__":
    sys.exit(main())
