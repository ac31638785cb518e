"""Retraining: time from "retrain" to the promoted model live, and memory during training.

    .venv/app/bin/python benchmarks/retrain.py [--runs 3] [--model models/admissions.tar.gz]

On a throw-away copy of the project (the real ``config.yml``, data, held-out set, crisis tables
and test stories), with a live model (``--model``, or one trained here with the real config),
it starts real Rasa (JWT auth) and action servers, then ``--runs`` times: adds two new
examples through the app's writer, runs the whole retraining (snapshot, validate, fine-tune,
evaluate, gate) with promotion, and measures the wall time until the Rasa server reports the
new model — while another conversation keeps chatting (its slowest turn is recorded). It also
times model swaps alone (promote/rollback, ``PUT /model``). Peak memory is the largest
resident set of the ``rasa train`` process (``wait4`` rusage). Figures go to
``benchmarks/results/retrain.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from admissions.db import migrate  # noqa: E402
from admissions.db.engine import create_engine  # noqa: E402
from admissions.training import history, nludata, pipeline, promote  # noqa: E402
from tests.training import servers  # noqa: E402

NEW_EXAMPLES = [
    ("ask_cost", "what would the evening sessions set me back"),
    ("request_human", "put me through to someone from admissions"),
    ("inform_cost", "i'm covered under my wife's employer plan"),
    ("not_ready", "i think i need a few more weeks before i decide"),
    ("ask_program_info", "what happens on a normal day in the day program"),
    ("ready_to_start", "i'd like to get going this week if there's room"),
]


class Chatter(threading.Thread):
    """A visitor chatting once a second; records the slowest turn and any failure."""

    def __init__(self, stack: servers.Stack) -> None:
        super().__init__(daemon=True)
        self.stack, self.sender = stack, f"bench-{uuid.uuid4().hex[:8]}"
        self.stop = threading.Event()
        self.turns, self.failures, self.slowest = 0, 0, 0.0

    def run(self) -> None:
        lines = ["hi", "what does it cost", "I work nights", "thanks", "ok"]
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                if not self.stack.say(self.sender, lines[self.turns % len(lines)]):
                    self.failures += 1
            except Exception:  # noqa: BLE001 - counted, not raised
                self.failures += 1
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.turns += 1
            self.stop.wait(1.0)


async def _one_run(stack: servers.Stack, settings: Any, engine: Any, i: int) -> dict[str, Any]:
    writer = nludata.DataWriter(
        settings.nlu_dir, settings.domain, settings.heldout_dir, settings.work_dir / "data.lock"
    )
    for intent, text in NEW_EXAMPLES[2 * i : 2 * i + 2]:
        writer.append(intent, [text])
    async with engine.begin() as conn:
        run_id = await history.create_run(conn, "benchmark", True)
    before = stack.status()["model_file"]
    chatter = Chatter(stack)
    chatter.start()
    started = time.monotonic()
    status = await pipeline.run(settings, engine, run_id)
    elapsed = time.monotonic() - started
    chatter.stop.set()
    chatter.join(timeout=60)
    async with engine.connect() as conn:
        row = await history.get_run(conn, run_id)
    assert row is not None
    report = pipeline.report_of(row) or {}
    steps = {s["name"]: s["seconds"] for s in history.loads(row.steps) or []}
    now = stack.status()["model_file"]
    gate = report.get("gate", {})
    return {
        "run": run_id,
        "status": status,
        "promoted": now != before,
        "seconds_to_live" if now != before else "seconds_to_decision": round(elapsed, 1),
        "steps": steps,
        "mode": row.mode,
        "peak_training_rss_mb": round((row.peak_rss_kb or 0) / 1024),
        "macro_f1": [
            (report.get("baseline") or {}).get("heldout", {}).get("macro_f1"),
            report.get("candidate", {}).get("heldout", {}).get("macro_f1"),
        ],
        "gate_failures": [c["summary"] for c in gate.get("checks", []) if not c["passed"]],
        "chat_turns_meanwhile": chatter.turns,
        "chat_failures": chatter.failures,
        "slowest_chat_turn_seconds": round(chatter.slowest, 2),
    }


async def _swaps(stack: servers.Stack, settings: Any, engine: Any, n: int) -> dict[str, Any]:
    """Time ``PUT /model`` swaps between the live model and the newest candidate, with a visitor
    chatting meanwhile. (The mechanism promotion uses; a gate-refused candidate is loaded here
    only to time the swap, and the live model is put back.)"""
    async with engine.connect() as conn:
        models = await history.list_models(conn)
        current = await history.live(conn)
    assert current is not None
    others = [m["row"] for m in models if m["row"].id != current.id]
    if not others:
        return {"seconds": []}
    server = promote.server_for(settings)
    chatter = Chatter(stack)
    chatter.start()
    times = []
    for path in [others[0].file, current.file] * n:
        started = time.monotonic()
        await server.load_model(str(Path(path).resolve()))
        assert (await server.status())["model_file"] == Path(path).name
        times.append(round(time.monotonic() - started, 2))
    chatter.stop.set()
    chatter.join(timeout=60)
    return {
        "seconds": times,
        "chat_turns_meanwhile": chatter.turns,
        "chat_failures": chatter.failures,
        "slowest_chat_turn_seconds": round(chatter.slowest, 2),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    tmp = Path(tempfile.mkdtemp(prefix="retrain-bench-"))
    try:
        root = servers.make_project(tmp / "project", diet_epochs=80, ted_epochs=40)
        shutil.copyfile(ROOT / "config.yml", root / "config.yml")  # the production config
        baseline_seconds = None
        if args.model:
            shutil.copyfile(args.model, root / "models" / "admissions.tar.gz")
        else:
            t = time.monotonic()
            servers.train(root)
            baseline_seconds = round(time.monotonic() - t, 1)
        with servers.stack(root) as stack:
            settings = stack.settings()
            if args.max_intent_drop is not None:
                settings = settings.with_changes(max_intent_f1_drop=args.max_intent_drop)
            migrate.upgrade(settings.app_db_url)
            engine = create_engine(settings.app_db_url)
            try:
                runs = [await _one_run(stack, settings, engine, i) for i in range(args.runs)]
                swaps = await _swaps(stack, settings, engine, 3)
            finally:
                await engine.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    live = [r["seconds_to_live"] for r in runs if "seconds_to_live" in r]
    decided = [r.get("seconds_to_live") or r.get("seconds_to_decision") for r in runs]
    swap_median = statistics.median(swaps["seconds"]) if swaps["seconds"] else None
    decision = statistics.median(decided)
    return {
        "machine": f"{platform.node()} {platform.machine()}, Python {platform.python_version()}",
        "config": "config.yml (production: DIET 80 epochs, TED 40; fine-tune epoch fraction "
        f"{settings.epoch_fraction})",
        "gate": {
            "max_macro_f1_drop": settings.max_macro_f1_drop,
            "max_intent_f1_drop": settings.max_intent_f1_drop,
            "min_crisis_recall": settings.min_crisis_recall,
        },
        "baseline_full_training_seconds": baseline_seconds,
        "runs": runs,
        "promoted_runs": len(live),
        "median_seconds_retrain_to_live": statistics.median(live) if live else None,
        "median_seconds_retrain_to_gate_decision": decision,
        "median_seconds_model_swap": swap_median,
        "estimated_seconds_retrain_to_live": round(decision + swap_median, 1)
        if swap_median is not None
        else None,
        "swaps": swaps,
        "peak_training_rss_mb": max(r["peak_training_rss_mb"] for r in runs),
    }


def main() -> int:
    """Parse arguments, run, write ``benchmarks/results/retrain.json``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", type=Path, help="start from this live model (same domain)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "retrain.json"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument(
        "--max-intent-drop", type=float, help="gate: per-intent F1 drop allowed (default 0.03)"
    )
    args = parser.parse_args()
    args.runs = max(1, min(args.runs, 3))
    figures = asyncio.run(main_async(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
