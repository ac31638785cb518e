"""Retraining: time from "retrain" to the promoted model live, and what a visitor chatting
meanwhile notices.

    .venv/app/bin/python benchmarks/retrain.py [--runs 1] [--swaps 2] [--model models/admissions.tar.gz]

On a throw-away copy of the project (the real ``config.yml``, data, held-out set, crisis tables
and test stories), with a live model (``--model``, or one trained here with the real config),
it starts real Rasa (JWT auth, through ``admissions.training.serving`` as ``make run`` does)
and action servers, then:

1. **no retraining**: visitors chat once a second for ``--quiet-seconds`` (a new visitor
   every 25 turns, in every window: Rasa's turn time grows with the conversation's length);
   their turn times are the baseline (p95, slowest);
2. ``--runs`` times: adds two new examples through the app's writer and runs the whole
   retraining (snapshot, validate, train, evaluate, gate) with promotion — a process swap —
   measuring the wall time until the chat proxy's serving file names the new process
   (``seconds_to_live``) while visitors keep chatting (p95 and slowest turn, also per step);
3. ``--swaps`` model swaps alone (a second Rasa process, smoke conversation, switch, drain),
   alternating between the live model and the newest candidate, with the visitor chatting.

Peak memory is the largest resident set of the ``rasa train`` process (``wait4`` rusage).
``cpu_others_share``: the share of all CPUs used by processes this benchmark did not start
(other users of a shared machine); two windows' chat figures compare only when it is close.
Figures go to ``benchmarks/results/retrain.json`` and ``--md`` (a Markdown summary).
The chat loop, the switch watcher and the CPU accounting are in ``retrain_chat``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from admissions.db import migrate  # noqa: E402
from admissions.db.engine import create_engine  # noqa: E402
from admissions.training import history, nludata, pipeline, serving  # noqa: E402
from benchmarks.retrain_chat import Chatter, CpuWindow, Watcher, quiet_window  # noqa: E402
from scripts import retrain_stack as servers  # noqa: E402

NEW_EXAMPLES = [
    ("ask_cost", "what would the evening sessions set me back"),
    ("request_human", "put me through to someone from admissions"),
    ("inform_cost", "i'm covered under my wife's employer plan"),
    ("not_ready", "i think i need a few more weeks before i decide"),
    ("ask_program_info", "what happens on a normal day in the day program"),
    ("ready_to_start", "i'd like to get going this week if there's room"),
]


async def _watch_steps(
    engine: Any, run_id: int, stop: asyncio.Event, marks: list[tuple[float, str | None]]
) -> None:
    """Note when the run's current step changes (polls its row twice a second)."""
    last: Any = object()
    while not stop.is_set():
        async with engine.connect() as conn:
            row = await history.get_run(conn, run_id)
        step = row.step if row is not None else None
        if step != last:
            marks.append((time.monotonic(), step))
            last = step
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass


async def _one_run(stack: servers.Stack, settings: Any, engine: Any, i: int) -> dict[str, Any]:
    writer = nludata.DataWriter(
        settings.nlu_dir, settings.domain, settings.heldout_dir, settings.work_dir / "data.lock"
    )
    for intent, text in NEW_EXAMPLES[2 * i : 2 * i + 2]:
        writer.append(intent, [text])
    async with engine.begin() as conn:
        run_id = await history.create_run(conn, "benchmark", True)
    before = stack.status()["model_file"]
    chatter, watcher, cpu = Chatter(stack), Watcher(stack), CpuWindow()
    chatter.start()
    watcher.start()
    started = time.monotonic()
    marks: list[tuple[float, str | None]] = []
    stop_watching = asyncio.Event()
    step_watch = asyncio.create_task(_watch_steps(engine, run_id, stop_watching, marks))
    status = await pipeline.run(settings, engine, run_id)
    elapsed = time.monotonic() - started
    stop_watching.set()
    await step_watch
    chatter.stop.set()
    watcher.stop.set()
    chatter.join(timeout=60)
    watcher.join(timeout=10)
    async with engine.connect() as conn:
        row = await history.get_run(conn, run_id)
    assert row is not None
    report = pipeline.report_of(row) or {}
    steps = {s["name"]: s["seconds"] for s in history.loads(row.steps) or []}
    notes = {s["name"]: s.get("note") for s in history.loads(row.steps) or [] if s.get("note")}
    now = stack.status()["model_file"]
    gate = report.get("gate", {})
    live = watcher.switched is not None and now != before
    figures: dict[str, Any] = {
        "run": run_id,
        "status": status,
        "promoted": live,
        "seconds_to_live" if live else "seconds_to_decision": round(
            (watcher.switched - started) if live and watcher.switched else elapsed, 1
        ),
        "seconds_until_old_process_stopped": round(elapsed, 1),
        "steps": steps,
        "notes": notes,
        "mode": row.mode,
        "peak_training_rss_mb": round((row.peak_rss_kb or 0) / 1024),
        "macro_f1": [
            (report.get("baseline") or {}).get("heldout", {}).get("macro_f1"),
            report.get("candidate", {}).get("heldout", {}).get("macro_f1"),
        ],
        "crisis_recall": report.get("candidate", {}).get("crisis", {}).get("recall"),
        "gate_failures": [c["summary"] for c in gate.get("checks", []) if not c["passed"]],
    }
    figures.update(chatter.figures())
    figures.update(cpu.figures())
    figures["chat_by_step"] = chatter.by_step(marks)
    return figures


async def _swaps(stack: servers.Stack, settings: Any, engine: Any, n: int) -> dict[str, Any]:
    """Time process swaps (``serving.swap``: second process, smoke conversation, switch,
    drain, stop) between the live model and the newest other one, with a visitor chatting.
    (The mechanism promotion and rollback use; the history is not changed, and the last swap
    puts the live model back.)"""
    async with engine.connect() as conn:
        models = await history.list_models(conn)
        current = await history.live(conn)
    assert current is not None
    others = [m["row"] for m in models if m["row"].id != current.id]
    if not others or n < 1:
        return {"seconds_to_switch": []}
    chatter, cpu = Chatter(stack), CpuWindow()
    chatter.start()
    to_switch, total = [], []
    # There and back: an even number of swaps, so the live model serves again at the end.
    for path in [others[0].file, current.file] * max(1, (n + 1) // 2):
        result = await serving.swap(
            settings.serving_file,
            Path(path),
            jwt_secret=settings.rasa_jwt_secret,
            tracker_db_url=settings.tracker_db_url,
            drain_seconds=settings.drain_seconds,
        )
        assert stack.status()["model_file"] == Path(path).name
        to_switch.append(round(result.seconds_to_switch, 1))
        total.append(round(result.seconds_total, 1))
    chatter.stop.set()
    chatter.join(timeout=60)
    return {
        "seconds_to_switch": to_switch,
        "seconds_total": total,
        **chatter.figures(),
        **cpu.figures(),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    tmp = Path(tempfile.mkdtemp(prefix="retrain-bench-"))
    load_before = os.getloadavg()
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
                stack.say("bench-warm-up", "hi")
                quiet = quiet_window(stack, args.quiet_seconds)
                runs = [await _one_run(stack, settings, engine, i) for i in range(args.runs)]
                swaps = await _swaps(stack, settings, engine, args.swaps)
            finally:
                await engine.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    live = [r["seconds_to_live"] for r in runs if "seconds_to_live" in r]
    retraining_p95 = [r["chat_p95_seconds"] for r in runs if r["chat_p95_seconds"] is not None]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "load_average_at_start": [round(x, 1) for x in load_before],
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "config": "config.yml (production: DIET 80 epochs, TED 40; fine-tune epoch fraction "
        f"{settings.epoch_fraction}); training and evaluation at nice {settings.nice}"
        + (" in the idle scheduling class, paused during chat turns" if settings.nice >= 19 else "")
        + f", {settings.tf_threads} TensorFlow threads; a new visitor every "
        f"{Chatter.TURNS_PER_VISITOR} chat turns",
        "gate": {
            "max_macro_f1_drop": settings.max_macro_f1_drop,
            "max_intent_f1_drop": settings.max_intent_f1_drop,
            "min_crisis_recall": settings.min_crisis_recall,
        },
        "baseline_full_training_seconds": baseline_seconds,
        "no_retraining": quiet,
        "runs": runs,
        "promoted_runs": len(live),
        "median_seconds_retrain_to_live": statistics.median(live) if live else None,
        "chat_p95_no_retraining_seconds": quiet["chat_p95_seconds"],
        "chat_p95_during_retraining_seconds": max(retraining_p95) if retraining_p95 else None,
        "p95_ratio_retraining_vs_none": round(max(retraining_p95) / quiet["chat_p95_seconds"], 2)
        if retraining_p95 and quiet["chat_p95_seconds"]
        else None,
        "slowest_chat_turn_during_retraining_seconds": max(
            (r["slowest_chat_turn_seconds"] for r in runs), default=None
        ),
        "swaps": swaps,
        "slowest_chat_turn_during_swaps_seconds": swaps.get("slowest_chat_turn_seconds"),
        "peak_training_rss_mb": max(r["peak_training_rss_mb"] for r in runs),
    }


def markdown(figures: dict[str, Any]) -> str:
    """A short Markdown summary of the figures against the targets."""

    def ok(value: float | None, limit: float) -> str:
        return "—" if value is None else ("met" if value <= limit else "**missed**")

    live = figures["median_seconds_retrain_to_live"]
    ratio = figures["p95_ratio_retraining_vs_none"]
    swap_slowest = figures["slowest_chat_turn_during_swaps_seconds"]
    lines = [
        f"# Retraining and model swaps ({figures['date']})",
        "",
        f"Machine: {figures['machine']}; load average at start "
        f"{figures['load_average_at_start']}, at end {figures['load_average_at_end']}.",
        f"Config: {figures['config']}.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| retrain → promoted model live (median) | {live} s | ≤ 180 s: {ok(live, 180)} |",
        f"| chat p95, no retraining | {figures['chat_p95_no_retraining_seconds']} s | |",
        f"| chat p95, during retraining | {figures['chat_p95_during_retraining_seconds']} s "
        f"(×{ratio}) | ≤ 2×: {ok(ratio, 2)} |",
        f"| CPU used by other users (no retraining / retraining) | "
        f"{figures['no_retraining'].get('cpu_others_share')} / "
        f"{max((r.get('cpu_others_share') or 0 for r in figures['runs']), default=None)} "
        "of all CPUs | comparable only if close |",
        f"| slowest chat turn during retraining | "
        f"{figures['slowest_chat_turn_during_retraining_seconds']} s | |",
        f"| slowest chat turn during swaps | {swap_slowest} s | ≤ 1 s: {ok(swap_slowest, 1)} |",
        f"| swaps: seconds to switch | {figures['swaps'].get('seconds_to_switch')} | |",
        f"| peak training memory | {figures['peak_training_rss_mb']} MB | |",
        "",
        "Runs:",
        "",
    ]
    for run in figures["runs"]:
        lines.append(f"- `{json.dumps(run, sort_keys=True)}`")
    lines += ["", "Chat during each step of the runs (turns that started in it):", ""]
    lines += ["| run | step | turns | p95 | slowest |", "|---|---|---|---|---|"]
    for run in figures["runs"]:
        for step, f in (run.get("chat_by_step") or {}).items():
            lines.append(f"| {run['run']} | {step} | {f['turns']} | {f['p95']} s | {f['max']} s |")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Parse arguments, run, write ``benchmarks/results/retrain.json`` (and ``--md``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--swaps", type=int, default=2, help="model swaps alone (0-6)")
    parser.add_argument("--quiet-seconds", type=float, default=60.0)
    parser.add_argument("--model", type=Path, help="start from this live model (same domain)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "retrain.json"
    )
    parser.add_argument("--md", type=Path, help="also write a Markdown summary here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project")
    parser.add_argument(
        "--max-intent-drop", type=float, help="gate: per-intent F1 drop allowed (default 0.03)"
    )
    args = parser.parse_args()
    args.runs = max(1, min(args.runs, 3))
    args.swaps = max(0, min(args.swaps, 6))
    figures = asyncio.run(main_async(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    if args.md:
        args.md.parent.mkdir(parents=True, exist_ok=True)
        args.md.write_text(markdown(figures))
    print(json.dumps({k: v for k, v in figures.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
