"""Profile whole assessments on both servers: wall-clock step timers plus py-spy samples.

    .venv/rasa/bin/python -m benchmarks.profile_turns [--repeat 5] [--rate 200]

Starts this assistant's Rasa + action server as ``make bench-load`` does, each under
``benchmarks.turn_timer`` (timers on the steps of a turn, no server code changed), plays one
untimed warm-up assessment, then attaches ``py-spy record`` (it must be installed in
``.venv/rasa``; root or CAP_SYS_PTRACE) to both processes and plays the first recorded
whole-assessment script ``--repeat`` times, one visitor, each time in a new conversation.
Writes to ``benchmarks/results/profile-<date>/``: the timers of the measured turns only
(``timers-*.json``), py-spy's collapsed stacks (``*.collapsed.gz``), and ``summary.md`` with the
per-turn table and the top functions; the reading goes in ``profile-<date>.md`` beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import servers
from benchmarks.load_driver import percentile
from benchmarks.load_scripts import scripts_for
from benchmarks.rasa_rest import Rasa

OUT = servers.ROOT / "benchmarks" / "results"
PY_SPY = servers.BIN / "py-spy"
# Inclusive py-spy samples of these frames (substring of "function (file)"), per server.
AREAS = {
    "rasa": {
        "SpacyNLP (Rasa's spaCy run)": "spacy_utils.py",
        "crisis guard": "crisis_guard.py",
        "DIET / TED / other TensorFlow": "tensorflow",
        "policy prediction (graph)": "_predict_next_with_tracker",
        "NLU parse (graph)": "_parse_message_with_graph",
        "tracker store (ours)": "tracker_store.py",
        "SQLAlchemy / sqlite": "sqlalchemy",
        "tracker.copy / deepcopy": "deepcopy",
        "tracker featurization (policies)": "featurizer",
        "event (de)serialisation (as_dict / from_parameters / json)": "as_dict",
        "action server HTTP client": "endpoints.py",
        "Sanic / asyncio event loop": "asyncio",
    },
    "actions": {
        "spaCy (any call)": "language.py",
        "admissions extraction": "admissions/extract",
        "actions/": "actions/",
        "tracker from JSON (rasa_sdk Tracker)": "interfaces.py",
        "json": "json",
        "Sanic / asyncio event loop": "asyncio",
    },
}


def read_collapsed(path: Path) -> Counter[str]:
    """py-spy's raw output: one ``frame;frame;... count`` line per distinct stack."""
    stacks: Counter[str] = Counter()
    if not path.exists():
        return stacks
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def top_functions(stacks: Counter[str], n: int = 25) -> tuple[list[tuple[str, int]], ...]:
    """(self samples, inclusive samples) of the ``n`` heaviest functions."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, count in stacks.items():
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return own.most_common(n), inclusive.most_common(n)


def area_samples(stacks: Counter[str], areas: dict[str, str]) -> dict[str, int]:
    """Samples whose stack contains each area's substring (areas overlap)."""
    return {
        name: sum(c for s, c in stacks.items() if needle in s) for name, needle in areas.items()
    }


def _delta(before: dict[str, list[float]], after: dict[str, list[float]]) -> dict[str, list[float]]:
    out = {}
    for name, (calls, seconds) in after.items():
        b_calls, b_seconds = before.get(name, [0, 0.0])
        if calls - b_calls:
            out[name] = [calls - b_calls, seconds - b_seconds]
    return out


def _timers(directory: Path, name: str) -> dict[str, list[float]]:
    path = directory / f"timers-{name}.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="whole assessments to profile")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--head", action="store_true", help="run the committed code (git archive)")
    parser.add_argument(
        "--code", type=Path, help="run the servers from this source tree (default: this one)"
    )
    parser.add_argument(
        "--long",
        type=int,
        default=0,
        help="profile the last 20 turns of one LONG-turn conversation instead (turn cost growth)",
    )
    parser.add_argument(
        "--timers-only",
        action="store_true",
        help="wall-clock step timers without py-spy samples (py-spy is not a project dependency)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Profile, then write the timers, stacks and a summary."""
    args = _parser().parse_args(argv)
    if not args.timers_only and not PY_SPY.exists():
        print(
            f"py-spy is not installed: {PY_SPY} (pip install py-spy), or use --timers-only",
            file=sys.stderr,
        )
        return 2
    stamp = datetime.now(timezone.utc)
    out = args.out / f"profile-{stamp.strftime('%Y-%m-%d')}"
    out.mkdir(parents=True, exist_ok=True)
    os.environ["TURN_TIMER_DIR"] = str(out)
    profiled = _profile(args, out)
    summary = _summary(args, stamp, profiled)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(summary_md(out, summary))
    print((out / "summary.md").read_text())
    for collapsed in out.glob("*.collapsed"):  # keep the results small
        subprocess.run(["gzip", "-9f", str(collapsed)], check=False)
    return 0


@dataclass
class Profiled:
    """What the measured turns gave, read once the servers stopped."""

    latencies: list[float]  # client-side ms per measured turn
    seconds: float  # time to play them
    script: dict[str, Any]  # the recorded whole assessment played
    label: str  # where the servers' code came from: "tree", "tree:DIR" or a commit
    spy_logs: dict[str, str]  # the end of each py-spy's log


def _wrap(_name: str, cmd: list[str]) -> list[str]:
    """A server's command, run under ``turn_timer``."""
    return [
        str(servers.BIN / "python"),
        str(Path(__file__).with_name("turn_timer.py")),
        *cmd[1:],
    ]


def _profile(args: argparse.Namespace, out: Path) -> Profiled:
    """Start the servers under the timers, warm up, attach py-spy and play the measured turns."""
    with tempfile.TemporaryDirectory(prefix="profile-") as tmp_name:
        tmp = Path(tmp_name)
        procs: list[servers.Process] = []
        code, label = servers.ROOT, "tree"
        if args.head:
            code = tmp / "code"
            label = servers.head_snapshot(code)
        elif args.code:
            code, label = args.code.resolve(), f"tree:{args.code}"
        with servers.admissions_servers(tmp, wrap=_wrap, started=procs, code=code) as url:
            scripts = scripts_for(url, 12, "tree" if label.startswith("tree") else label)
            script = scripts[0]
            rasa = Rasa(url)
            for text in script["messages"]:  # warm-up, not measured
                rasa.say(f"warmup-{uuid.uuid4().hex[:8]}", text)
            long_sender = f"profile-long-{uuid.uuid4().hex[:10]}"
            flat = [text for s in scripts for text in s["messages"]]
            measured_long = flat[(args.long - 20) % len(flat) :] + flat
            for n in range(max(0, args.long - 20)):  # grow one tracker, not measured
                rasa.say(long_sender, flat[n % len(flat)])
            time.sleep(1)
            before = {p.name: _timers(out, p.name) for p in procs}
            spies = [] if args.timers_only else _spies(procs, out, tmp, args.rate)
            time.sleep(2)  # py-spy attached
            started = time.perf_counter()
            runs = (
                [(long_sender, measured_long[:20])]
                if args.long
                else [
                    (f"profile-{uuid.uuid4().hex[:10]}", script["messages"])
                    for _ in range(args.repeat)
                ]
            )
            latencies = _play(rasa, runs)
            played = time.perf_counter() - started
            time.sleep(1)
            for spy in spies:
                spy.send_signal(signal.SIGINT)
            for spy in spies:
                spy.wait(timeout=60)
            after = {p.name: _timers(out, p.name) for p in procs}
            for name in before:
                (out / f"timers-{name}.json").write_text(
                    json.dumps(_delta(before[name], after[name]), indent=1, sort_keys=True) + "\n"
                )
            spy_logs = {
                p.name: (tmp / f"py-spy-{p.name}.log").read_text()[-500:]
                for p in procs
                if (tmp / f"py-spy-{p.name}.log").exists()
            }
    return Profiled(latencies, played, script, label, spy_logs)


def _spies(
    procs: list[servers.Process], out: Path, tmp: Path, rate: int
) -> list[subprocess.Popen[bytes]]:
    """``py-spy record`` attached to each server process, writing collapsed stacks to ``out``."""
    return [
        subprocess.Popen(
            [
                str(PY_SPY),
                "record",
                "--pid",
                str(p.popen.pid),
                "--rate",
                str(rate),
                "--nonblocking",
                "--format",
                "raw",
                "-o",
                str(out / f"{p.name}.collapsed"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=(tmp / f"py-spy-{p.name}.log").open("wb"),
        )
        for p in procs
    ]


def _play(rasa: Rasa, runs: list[tuple[str, list[str]]]) -> list[float]:
    """Send every run's messages in its conversation; the client-side ms of each turn."""
    latencies: list[float] = []
    for sender, messages in runs:
        for text in messages:
            t0 = time.perf_counter()
            rasa.say(sender, text)
            latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


def _summary(args: argparse.Namespace, stamp: datetime, profiled: Profiled) -> dict[str, Any]:
    """``summary.json``: what was played, on which code, and the client-side figures."""
    latencies, script, label = profiled.latencies, profiled.script, profiled.label
    turns = len(latencies)
    return {
        "date": stamp.strftime("%Y-%m-%d %H:%M UTC"),
        "script": f"turns {args.long - 19}-{args.long} of one conversation"
        if args.long
        else script["visitor"],
        "messages_per_assessment": len(script["messages"]),
        "repeat": args.repeat,
        "code": "working tree"
        if label == "tree"
        else (
            f"tree in {label[5:]}" if label.startswith("tree:") else f"committed code at {label}"
        ),
        "turns": turns,
        "seconds": round(profiled.seconds, 1),
        "client_p50_ms": round(percentile(latencies, 50) or 0, 1),
        "client_mean_ms": round(sum(latencies) / turns, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "py_spy": profiled.spy_logs,
    }


def summary_md(out: Path, summary: dict[str, Any]) -> str:
    """Per-turn timers and the top functions of each server."""
    turns = summary["turns"]
    lines = [
        f"# Profile data ({summary['date']})",
        "",
        f"{summary['repeat']} × the whole assessment of `{summary['script']}` "
        f"({summary['messages_per_assessment']} messages) = {turns} turns in "
        f"{summary['seconds']} s, one visitor, servers from the {summary['code']}; "
        f"client-side p50 {summary['client_p50_ms']} ms, "
        f"mean {summary['client_mean_ms']} ms; load average {summary['load_average']}.",
    ]
    for name in ("rasa", "actions"):
        timers = _timers(out, name)
        lines += [
            "",
            f"## {name}: wall-clock timers per turn (nested; mean over {turns} turns)",
            "",
            "| step | calls / turn | ms / turn | ms / call |",
            "|---|---|---|---|",
        ]
        for step, (calls, seconds) in sorted(timers.items(), key=lambda kv: -kv[1][1]):
            lines.append(
                f"| {step} | {calls / turns:.2f} | {seconds * 1000 / turns:.1f} | "
                f"{seconds * 1000 / calls:.2f} |"
            )
        stacks = read_collapsed(out / f"{name}.collapsed")
        total = sum(stacks.values()) or 1
        lines += [
            "",
            f"### {name}: py-spy, {total} samples (active CPU, idle excluded)",
            "",
            "| area (stack contains) | samples | share |",
            "|---|---|---|",
        ]
        for area, count in area_samples(stacks, AREAS[name]).items():
            lines.append(f"| {area} | {count} | {count / total:.0%} |")
        own, inclusive = top_functions(stacks)
        lines += ["", "Top functions, self samples:", ""]
        lines += [f"- {count / total:.1%} {frame}" for frame, count in own[:15]]
        lines += ["", "Top functions, inclusive samples:", ""]
        lines += [f"- {count / total:.1%} {frame}" for frame, count in inclusive[:25]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
