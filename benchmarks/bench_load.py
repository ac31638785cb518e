"""`make bench-load`: closed-loop load over Rasa's REST channel, beside a stock `rasa init` bot.

Both assistants run in the same run on this machine, on loopback only: this one (Rasa + action
server, ``models/admissions.tar.gz``, fresh SQLite tracker store, fixed clock, as
``make simulate``) and a stock ``rasa init`` assistant trained once with the project's own Rasa
(cached under ``build/bench-load/stock-rasa-<version>/``) with Rasa's own SQL tracker store.

Each simulated visitor replays a whole assessment in free text: the messages one of the scripted
visitors of ``benchmarks/visitors/`` sent when it played a whole conversation with this assistant
(recorded once per model and visitor files, cached under ``build/bench-load/``). The stock
assistant gets the same messages and answers whatever it answers. Closed loop: each visitor sends
its next message when the previous reply arrived, starting a new conversation (a new sender id)
after the last message of a script, until the time is up (``--duration`` per configuration);
turns in flight then finish.

Reported per configuration (assistant x concurrent visitors): turns/s (acknowledged turns over
the time to the last reply), p50/p95/p99/max latency of acknowledged turns, errors (non-200,
timeouts, connection errors) and degraded replies (this assistant's "something went wrong"
notices). Afterwards, with the servers stopped, the tracker databases are reconciled: every
acknowledged turn (a user message whose POST returned 200) must be stored exactly once.
Results: ``benchmarks/results/bench-load-<date>.{md,json}`` with the machine, command, date and
git commit. Exit status 1 when a turn was lost or duplicated, 2 when the servers could not start.

The scripts are made in ``load_scripts``, the load in ``load_driver``, the reconciliation in
``load_reconcile``, the report in ``load_report``; this module is the command: it starts the
servers, plays every configuration and writes the report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import load_report, long_conversation, servers
from benchmarks.load_driver import Turn, long_runs, run_load, warm_up
from benchmarks.load_reconcile import reconcile, stored_user_texts
from benchmarks.load_scripts import digest, scripts_for

ROOT = servers.ROOT
OUT = ROOT / "benchmarks" / "results"


def _python() -> str:
    exe = Path(sys.executable)
    return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else str(exe)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per configuration")
    parser.add_argument("--visitors", default="1,10", help="concurrent visitors, comma-separated")
    parser.add_argument(
        "--targets",
        default="admissions,stock",
        help="admissions, optionally with stock and/or baseline (this assistant from the "
        "committed code, git archive HEAD, or from --baseline-code: before/after in one run)",
    )
    parser.add_argument(
        "--baseline-code",
        type=Path,
        help="source tree for the baseline target instead of the committed code",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="split each configuration's time into this many rounds, the targets taking turns "
        "(A B A B ...), so a machine whose speed drifts affects both alike",
    )
    parser.add_argument("--scripts", type=int, default=12, help="whole assessments to replay")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per request")
    parser.add_argument("--note", default="", help="a remark for the report (e.g. contention)")
    parser.add_argument(
        "--head",
        action="store_true",
        help="run this assistant from the committed code (git archive HEAD), not the work tree",
    )
    parser.add_argument(
        "--long",
        type=int,
        default=0,
        help="then one conversation of this many turns per assistant: turn N against turn 10",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    return parser


@dataclass
class Measured:
    """What one run measured, read back once the servers stopped."""

    turns: list[Turn]
    scripts: list[dict[str, Any]]
    code_label: str  # "tree", or the commit the servers ran from
    baseline: str | None  # the baseline's code, when it ran
    long_report: dict[str, Any]
    reconciliation: dict[str, dict[str, int]]
    spool_files: int


def _start_servers(
    stack: contextlib.ExitStack,
    tmp: Path,
    code: Path,
    targets: list[str],
    stock_dir: Path | None,
    baseline_code: Path | None,
) -> tuple[dict[str, str], str | None]:
    """Every target's servers (stopped when ``stack`` closes): their URLs and the baseline."""
    baseline = None
    urls = {"admissions": stack.enter_context(servers.admissions_servers(tmp, code=code))}
    if stock_dir is not None:
        urls["stock"] = stack.enter_context(servers.stock_server(tmp, stock_dir))
    if "baseline" in targets:
        (tmp / "baseline").mkdir()
        base_code = baseline_code
        if base_code is None:
            base_code = tmp / "baseline" / "code"
            baseline = "committed code at " + servers.head_snapshot(base_code)
        else:
            baseline = f"the tree in {base_code}"
        urls["baseline"] = stack.enter_context(
            servers.admissions_servers(tmp / "baseline", code=base_code.resolve())
        )
    return urls, baseline


def _play(
    args: argparse.Namespace,
    urls: dict[str, str],
    targets: list[str],
    counts: list[int],
    rounds: int,
    messages: list[list[str]],
) -> list[Turn]:
    """Every configuration: per visitor count, ``rounds`` rounds, the targets taking turns."""
    all_turns: list[Turn] = []
    for count in counts:
        for n in range(rounds):
            for target in targets:
                seconds = args.duration / rounds
                print(
                    f"==> {target}, {count} visitors, {seconds:g} s"
                    + (f" (round {n + 1} of {rounds})" if rounds > 1 else ""),
                    flush=True,
                )
                played = asyncio.run(
                    run_load(urls[target], target, messages, count, seconds, args.timeout)
                )
                for turn in played:
                    turn.round = n
                all_turns += played
    return all_turns


def _measure(
    args: argparse.Namespace,
    targets: list[str],
    counts: list[int],
    rounds: int,
    stock_dir: Path | None,
) -> Measured | None:
    """Start the servers, play, stop them and reconcile; None when they could not start."""
    all_turns: list[Turn] = []
    long_report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        code, code_label = ROOT, "tree"
        if args.head:
            code = tmp / "code"
            code_label = servers.head_snapshot(code)
        try:
            with contextlib.ExitStack() as stack:
                urls, baseline = _start_servers(
                    stack, tmp, code, targets, stock_dir, args.baseline_code
                )
                print(f"==> servers up: {urls}", flush=True)
                scripts = scripts_for(urls["admissions"], args.scripts, code_label)
                messages = [s["messages"] for s in scripts]
                for target in targets:
                    warm_up(urls[target], messages[0])
                all_turns += _play(args, urls, targets, counts, rounds, messages)
                if args.long:
                    runs = long_runs(urls, targets, messages, args.long, args.timeout)
                    for target, turns in runs.items():
                        all_turns += turns
                        long_report[target] = long_conversation.summary(
                            [t.ms for t in turns if t.ok]
                        )
        except RuntimeError as exc:
            print(f"error: the servers could not start: {exc}", file=sys.stderr)
            return None
        dbs = {
            "admissions": tmp / "tracker.db",
            "stock": tmp / "stock.db",
            "baseline": tmp / "baseline" / "tracker.db",
        }
        reconciliation = {
            t: reconcile([x for x in all_turns if x.target == t], stored_user_texts(dbs[t]))
            for t in targets
        }
        spool_files = len([p for p in (tmp / "spool").glob("*.jsonl") if p.stat().st_size])
    return Measured(
        all_turns, scripts, code_label, baseline, long_report, reconciliation, spool_files
    )


def main(argv: list[str] | None = None) -> int:
    """Run every configuration, reconcile the databases and write the report."""
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on SIGTERM too
    counts = [int(n) for n in args.visitors.split(",") if n.strip()]
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not set(targets) <= {"admissions", "stock", "baseline"} or "admissions" not in targets:
        print("--targets: admissions, optionally with stock and/or baseline", file=sys.stderr)
        return 2
    rounds = max(1, args.rounds)
    if not servers.MODEL.exists():
        print(f"no trained model at {servers.MODEL}: run `make train`", file=sys.stderr)
        return 2
    started = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()]
    model_sha = digest([servers.MODEL], "")  # before anyone can swap it
    try:
        stock_dir = servers.stock_project() if "stock" in targets else None
    except (RuntimeError, subprocess.SubprocessError) as exc:
        print(f"error: could not make the stock assistant: {exc}", file=sys.stderr)
        return 2
    measured = _measure(args, targets, counts, rounds, stock_dir)
    if measured is None:
        return 2
    configurations = load_report.configurations(measured.turns, counts, targets, args.duration)
    messages = [s["messages"] for s in measured.scripts]
    now = datetime.now(timezone.utc)
    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "command": os.environ.get("BENCH_COMMAND")
        or " ".join([_python(), "-m benchmarks.bench_load", *(argv or sys.argv[1:])]),
        "commit": load_report.git_commit(),
        "code": "working tree"
        if measured.code_label == "tree"
        else f"committed code at {measured.code_label} (git archive HEAD)",
        "model": str(servers.MODEL.relative_to(ROOT)),
        "model_sha256": model_sha,
        "rasa": servers.rasa_version(),
        "duration_s": args.duration,
        "rounds": rounds,
        "baseline": measured.baseline,
        "mean_script_turns": round(sum(map(len, messages)) / len(messages), 1),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.monotonic() - started, 1),
        "note": args.note,
    }
    report = {
        "meta": meta,
        "machine": load_report.machine(),
        "configurations": configurations,
        "ratios": load_report.ratios(configurations, counts),
        "reconciliation": measured.reconciliation,
        "long_conversation": measured.long_report,
        "spool_files": measured.spool_files,
        "scripts": [
            {"visitor": s["visitor"], "messages": len(s["messages"]), "success": s["success"]}
            for s in measured.scripts
        ],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"bench-load-{now.strftime('%Y-%m-%d-%H%M')}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(load_report.markdown(report))
    print(load_report.markdown(report))
    print(f"-> {stem}.md ({meta['seconds']} s)")
    # Only this assistant's losses fail the run; the stock bot's (Rasa's own SQL store) are reported.
    reconciliation = measured.reconciliation
    lost = sum(r["missing"] + r["duplicated"] for t, r in reconciliation.items() if t != "stock")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
