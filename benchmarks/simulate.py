"""`make simulate`: scripted visitors talk to the real assistant over REST; task success is scored.

Each visitor (``benchmarks/visitors/*.yml``) says hello, then answers whatever the bot asks: the
topic of the bot's question (who-for, readiness, payment, work, caregiving, free time, the four
screening questions, a read-back confirmation, a near-miss "could you make it work") is detected
from its text, and the visitor's reply for that topic is sent. So a visitor still works when the
bot asks in another order, skips a question it already knows the answer to, or asks a new one.

The visitors and their file format are in ``visitor``, one conversation in ``conversation``,
the report in ``simulate_report``; this module starts the servers and plays every visitor.

Success: the expected ``recommended_program``, no crisis reply unless expected, no goodbye before
the end. Also counted: visitor turns and re-asks ("didn't catch", "Let's make this easier",
"Did you mean", "didn't quite get/understand"). Writes ``results/simulate/summary.{json,md}``.
Exit status 0 whatever the visitors' results; 2 when the servers could not start.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import signal
import sys
import tempfile
import time
import urllib.error
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.conversation import Conversation, Outcome
from benchmarks.rasa_rest import Rasa
from benchmarks.simulate_report import markdown, summarise, table, write_transcripts
from benchmarks.visitor import Visitor, load_visitors, problems

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "admissions.tar.gz"
OUT = ROOT / "results" / "simulate"
# Tuesday 2026-12-01, 2 PM in New York: the admissions line is open, replies are deterministic.
CLOCK = "2026-12-01T19:00:00+00:00"


# ----- servers ------------------------------------------------------------------------------
@contextlib.contextmanager
def local_servers(tmp: Path) -> Iterator[str]:
    """A Rasa server + action server on free loopback ports, fresh SQLite tracker, fixed clock."""
    from benchmarks.servers import admissions_servers  # the launcher's start-up, no tests/

    with admissions_servers(tmp) as url:
        yield url


def _python() -> str:
    exe = Path(sys.executable)
    return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else str(exe)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_all(rasa: Rasa, visitors: list[Visitor]) -> list[Outcome]:
    """Play every visitor in turn, printing one line each."""
    outcomes: list[Outcome] = []
    for i, visitor in enumerate(visitors, 1):
        try:
            outcome = Conversation(visitor, rasa).run()
        except (OSError, urllib.error.URLError, ValueError) as exc:
            outcome = Outcome(visitor.name, visitor.kind, visitor.expect, None, False,
                              f"error: {exc}", 0, 0, 0, 0, False, False, [], [], "", "", [])  # fmt: skip
        mark = "ok  " if outcome.success else "FAIL"
        print(f"[{i:>3}/{len(visitors)}] {mark} {visitor.name}: {outcome.reason or outcome.got}",
              flush=True)  # fmt: skip
        outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    """Run the simulation and write the report; 2 when the servers could not start."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="an already running Rasa server, e.g. http://127.0.0.1:5005")
    parser.add_argument("--jwt-secret", help="its --jwt-secret (default: var/rasa_jwt_secret)")
    parser.add_argument("--only", help="run only these visitors (names, comma-separated)")
    parser.add_argument("--transcripts", type=Path, help="write one transcript per visitor here")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on SIGTERM too

    visitors = load_visitors()
    bad = problems(visitors)
    if bad:
        print("visitor files have problems:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 2
    if args.only:
        names = set(args.only.split(","))
        unknown = names - {v.name for v in visitors}
        if unknown:
            print(f"no visitor named {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        visitors = [v for v in visitors if v.name in names]
    started = time.monotonic()
    model_sha = _sha256(MODEL)[:12] if MODEL.exists() else "missing"  # before a retrain can swap it
    if args.url:
        secret = args.jwt_secret or os.environ.get("RASA_JWT_SECRET")
        secret_file = ROOT / "var" / "rasa_jwt_secret"
        if not secret and secret_file.exists():
            secret = secret_file.read_text().strip()
        outcomes = run_all(Rasa(args.url, secret), visitors)
        target = args.url
    else:
        if not MODEL.exists():
            print(f"no trained model at {MODEL}: run `make train`", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="simulate-") as tmp:
            try:
                with local_servers(Path(tmp)) as url:
                    print(f"==> servers up at {url}; {len(visitors)} visitors", flush=True)
                    outcomes = run_all(Rasa(url), visitors)
            except RuntimeError as exc:
                print(f"error: the servers could not start: {exc}", file=sys.stderr)
                return 2
        target = f"own servers on loopback, fresh SQLite tracker, ADMISSIONS_CLOCK={CLOCK}"
    summary = summarise(outcomes)
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()})",
        "command": " ".join([_python(), "-m benchmarks.simulate", *(argv or sys.argv[1:])]),
        "model": str(MODEL.relative_to(ROOT)),
        "model_sha256": model_sha,
        "target": target,
        "seconds": round(time.monotonic() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps({**meta, **summary}, indent=2) + "\n")
    (args.out / "summary.md").write_text(markdown(summary, meta))
    if args.transcripts:
        write_transcripts(args.transcripts, outcomes, visitors)
    print(table(summary))
    print(f"-> {args.out / 'summary.md'} ({meta['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
