"""Throughput of the production demo: every Rasa process (nginx pool) against the first alone.

Run by ``scripts/prod-demo.sh`` when ``PROD_BENCH=SECONDS`` is set, against the servers it
started; in the assistant environment (``.venv/rasa``). The load is ``make bench-load``'s
(``benchmarks/load_driver.py``): closed-loop visitors replaying whole assessments over Rasa's
REST channel, loopback only. Both sides go through nginx (the pool, and a server block that
proxies to the first Rasa process alone), in the same run, alternating ``--rounds`` times
(1, pool, 1, pool, ...), so drifting load from other work on the machine hits both.
Afterwards every acknowledged turn is looked up in PostgreSQL: it must be stored exactly once.
Writes ``benchmarks/results/prod-<date>.{md,json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg2

from benchmarks import load_report
from benchmarks.load_driver import Turn, run_load, summarise, warm_up
from benchmarks.load_reconcile import reconcile
from benchmarks.load_scripts import scripts_for

ROOT = Path(__file__).resolve().parents[1]


def stored_user_texts(db_url: str, senders: set[str]) -> dict[str, list[str]]:
    """Each conversation's stored user messages, from PostgreSQL."""
    with psycopg2.connect(db_url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT sender_id, data FROM events WHERE type_name = 'user' AND sender_id = ANY(%s)"
            " ORDER BY id",
            (sorted(senders),),
        )
        rows = cur.fetchall()
    out: dict[str, list[str]] = {}
    for sender, data in rows:
        out.setdefault(sender, []).append(str(json.loads(data).get("text") or ""))
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", required=True, help="nginx URL of every Rasa process")
    parser.add_argument("--one", required=True, help="nginx URL of the first Rasa process")
    parser.add_argument("--processes", type=int, required=True)
    parser.add_argument("--duration", type=float, default=60, help="seconds per configuration")
    parser.add_argument("--visitors", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scripts", type=int, default=12)
    parser.add_argument("--db", required=True, help="tracker database URL (password: PGPASSFILE)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    return parser


def _play(
    args: argparse.Namespace, messages: list[list[str]], labels: dict[str, str]
) -> tuple[dict[str, list[Turn]], list[dict[str, Any]]]:
    """The alternating rounds (1, pool, 1, pool, ...): every turn, and each side's figures."""
    turns: dict[str, list[Turn]] = {"one": [], "pool": []}
    elapsed = {"one": 0.0, "pool": 0.0}
    for round_ in range(args.rounds):
        for key, url in (("one", args.one), ("pool", args.pool)):
            print(f"==> round {round_ + 1}: {labels[key]}, {args.visitors} visitors", flush=True)
            done = asyncio.run(
                run_load(url, key, messages, args.visitors, args.duration / args.rounds, 60)
            )
            turns[key] += done
            elapsed[key] += max((t.end for t in done), default=args.duration / args.rounds)
    # Per configuration: the rounds' turns over the rounds' time (each to its last reply).
    rows = []
    for key in ("one", "pool"):
        summary = summarise(turns[key], elapsed[key])
        summary["elapsed_s"] = round(elapsed[key], 2)
        summary["turns_per_s"] = round(sum(t.ok for t in turns[key]) / elapsed[key], 2)
        rows.append({"configuration": labels[key], **summary})
    return turns, rows


def main(argv: list[str] | None = None) -> int:
    """Measure, reconcile, write the report."""
    args = _parser().parse_args(argv)
    load_before = [round(x, 2) for x in os.getloadavg()]
    scripts = scripts_for(args.pool, args.scripts)
    messages = [s["messages"] for s in scripts]
    for url in (args.one, args.pool):
        warm_up(url, messages[0])
    labels = {"one": "1 Rasa process", "pool": f"{args.processes} Rasa processes"}
    turns, rows = _play(args, messages, labels)
    senders = {t.sender for ts in turns.values() for t in ts}
    stored = stored_user_texts(args.db, senders)
    reconciliation = reconcile([t for ts in turns.values() for t in ts], stored)
    now = datetime.now(timezone.utc)
    report: dict[str, Any] = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "command": os.environ.get("BENCH_COMMAND")
        or f"PROD_BENCH={args.duration:g} PROD_BENCH_VISITORS={args.visitors} make prod-demo",
        "commit": load_report.git_commit(),
        "machine": load_report.machine(),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "processes": args.processes,
        "visitors": args.visitors,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "configurations": rows,
        "reconciliation": reconciliation,
    }
    one, pool = rows
    ratio = round(pool["turns_per_s"] / one["turns_per_s"], 2) if one["turns_per_s"] else None
    report["throughput_ratio"] = ratio
    lines = _markdown(report, args, len(messages))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"prod-{now.strftime('%Y-%m-%d')}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"-> {stem}.md")
    return 1 if reconciliation["missing"] or reconciliation["duplicated"] else 0


def _markdown(report: dict[str, Any], args: argparse.Namespace, scripts: int) -> list[str]:
    """The report's lines."""
    m, rows, ratio = report["machine"], report["configurations"], report["throughput_ratio"]
    lines = [
        f"# Production demo: {args.processes} Rasa processes against 1 (`make prod-demo`)",
        "",
        f"- date: {report['date']}",
        f"- command: `{report['command']}`",
        f"- git commit: {report['commit']}",
        f"- machine: {m.get('cpu', '?')}, {m['nproc']} cores (nproc), "
        f"{m.get('memory_gib', '?')} GiB, {m['platform']}",
        f"- load average before / after: {report['load_before']} / {report['load_after']}",
        "- stack: PostgreSQL 127.0.0.1 (tracker store + PostgresLockStore + app tables), nginx "
        f"(least_conn pool), {args.processes} `rasa run` processes, 1 action server, web app",
        f"- load: `benchmarks/bench_load.py`'s closed loop, {args.visitors} visitors replaying "
        f"{scripts} whole assessments; {args.duration:g} s per configuration in "
        f"{args.rounds} alternating rounds; both through nginx",
        "",
        "| configuration | turns | turns/s | p50 | p95 | p99 | max | errors | degraded |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    fmt = load_report.fmt
    for r in rows:
        lines.append(
            f"| {r['configuration']} | {r['turns']} | {r['turns_per_s']} | {fmt(r['p50_ms'])} | "
            f"{fmt(r['p95_ms'])} | {fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | {r['errors']} | "
            f"{r['degraded']} |"
        )
    lines += [
        "",
        f"Throughput ratio ({args.processes} processes / 1): ×{ratio}",
        "",
        "Reconciliation (PostgreSQL `events`): "
        + ", ".join(f"{k} {v}" for k, v in report["reconciliation"].items()),
        "",
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
