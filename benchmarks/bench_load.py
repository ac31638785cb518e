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
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp

from benchmarks import long_conversation, servers
from benchmarks.conversation import Conversation
from benchmarks.rasa_rest import Rasa
from benchmarks.visitor import Visitor, load_visitors

ROOT = servers.ROOT
OUT = ROOT / "benchmarks" / "results"
SENDER_PREFIX = "load-"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# ----- pure parts ----------------------------------------------------------------------------
def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks; None when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not within 0-100")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Turn:
    """One message a simulated visitor sent and what came of it."""

    target: str  # "admissions" or "stock"
    visitors: int  # concurrent visitors of the configuration
    sender: str
    text: str
    ok: bool  # acknowledged: the POST returned 200 with a JSON list
    status: str  # HTTP status, or the exception's class name
    ms: float  # latency
    end: float  # seconds from the configuration's start to the reply
    degraded: bool = False  # answered with one of this assistant's failure notices
    round: int = 0  # with --rounds: the round (``end`` counts from its start)


def summarise(turns: list[Turn], duration: float) -> dict[str, Any]:
    """Turns/s, latency percentiles and errors of one configuration."""
    ok = [t.ms for t in turns if t.ok]
    ends: dict[int, float] = {}
    for t in turns:
        ends[t.round] = max(ends.get(t.round, 0.0), t.end)
    elapsed = sum(ends.values()) or duration
    senders = {t.sender for t in turns}

    def ms(q: float) -> float | None:
        value = percentile(ok, q)
        return None if value is None else round(value, 1)

    return {
        "turns": len(ok),
        "conversations": len(senders),
        "elapsed_s": round(elapsed, 2),
        "turns_per_s": round(len(ok) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "p99_ms": ms(99),
        "max_ms": round(max(ok), 1) if ok else None,
        "mean_ms": round(sum(ok) / len(ok), 1) if ok else None,
        "errors": sum(not t.ok for t in turns),
        "error_kinds": dict(Counter(t.status for t in turns if not t.ok)),
        "degraded": sum(t.degraded for t in turns),
    }


def reconcile(turns: Iterable[Turn], stored: Mapping[str, list[str]]) -> dict[str, int]:
    """Compare the turns sent with the user messages stored, per (conversation, text).

    ``missing``: acknowledged turns not stored; ``duplicated``: stored more often than sent;
    ``unacknowledged_stored``: turns that failed for the client but were stored (allowed).
    """
    attempted: Counter[tuple[str, str]] = Counter()
    acked: Counter[tuple[str, str]] = Counter()
    for t in turns:
        attempted[(t.sender, t.text)] += 1
        acked[(t.sender, t.text)] += t.ok
    kept = Counter((sender, text) for sender, texts in stored.items() for text in texts)
    return {
        "acknowledged": sum(acked.values()),
        "stored": sum(kept[k] for k in attempted),
        "missing": sum(max(0, acked[k] - kept[k]) for k in acked),
        "duplicated": sum(max(0, kept[k] - attempted[k]) for k in kept),
        "unacknowledged_stored": sum(
            max(0, min(kept[k], attempted[k]) - acked[k]) for k in attempted
        ),
    }


def stored_user_texts(db: Path, prefix: str = SENDER_PREFIX) -> dict[str, list[str]]:
    """Each conversation's stored user messages (``events`` rows of type ``user``), in order.

    A message said once can be stored twice: when a visitor confirms Rasa's "Did you mean …?"
    (two-stage fallback), Rasa rewinds and stores the original message again with the confirmed
    intent. That second row, a ``user`` row after a ``rewind`` row with the text of an earlier
    message, is a re-reading, not a turn, and is not counted (the staff transcript merges it the
    same way).
    """
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT sender_id, type_name, data FROM events WHERE type_name IN ('user', 'rewind') "
            "AND sender_id LIKE ? ORDER BY id",
            (prefix + "%",),
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[str]] = {}
    rewound: set[str] = set()
    for sender, kind, data in rows:
        if kind == "rewind":
            rewound.add(sender)
            continue
        text = str(json.loads(data).get("text") or "")
        said = out.setdefault(sender, [])
        if sender in rewound and text in said:
            rewound.discard(sender)
            continue
        rewound.discard(sender)
        said.append(text)
    return out


def pick_visitors(visitors: list[Visitor], count: int) -> list[Visitor]:
    """``count`` visitors taken in turn from each kind, leaving out expected crises."""
    by_kind: dict[str, list[Visitor]] = {}
    for v in visitors:
        if not v.expect_crisis:
            by_kind.setdefault(v.kind, []).append(v)
    picked: list[Visitor] = []
    while len(picked) < count and any(by_kind.values()):
        for group in by_kind.values():
            if group and len(picked) < count:
                picked.append(group.pop(0))
    return picked


# ----- scripts: what each visitor says in a whole assessment ----------------------------------
class _Recorder(Rasa):
    """Rasa's REST channel, remembering what was sent (button taps as their payloads)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.sent: list[str] = []

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """Send and remember one message."""
        self.sent.append(text)
        return super().say(sender, text)


def _digest(paths: Iterable[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def scripts_for(url: str, count: int, code: str = "tree", log: Any = print) -> list[dict[str, Any]]:
    """Messages of ``count`` whole assessments, recorded against ``url`` or from the cache.

    The cache is keyed by the model, the visitor files, the simulator and ``code`` (the server
    code: "tree", or the commit of a snapshot).
    """
    files = [servers.MODEL, *sorted((ROOT / "benchmarks" / "visitors").glob("*.yml"))]
    files += [ROOT / "benchmarks" / name for name in ("conversation.py", "visitor.py")]
    cache = servers.CACHE / f"scripts-{_digest(files, f'{count}:{code}')}.json"
    if cache.exists():
        return list(json.loads(cache.read_text()))
    log(f"==> recording {count} whole assessments (once per model and visitor files)")
    scripts = []
    for visitor in pick_visitors(load_visitors(), count):
        rasa = _Recorder(url)
        outcome = Conversation(visitor, rasa).run()
        scripts.append({"visitor": visitor.name, "success": outcome.success, "messages": rasa.sent})
        log(f"    {visitor.name}: {len(rasa.sent)} messages, success={outcome.success}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(scripts, indent=1) + "\n")
    return scripts


# ----- load --------------------------------------------------------------------------------
def _notices() -> set[str]:
    """This assistant's failure notices (a 200 answer that says the turn went wrong)."""
    try:
        from rasa_addons import replies
    except ImportError:  # pragma: no cover - run outside the assistant environment
        return set()
    return {
        replies.action_failed(),
        replies.storage_unavailable(),
        replies.not_recorded(),
        replies.context_lost(),
        replies.internal_error(),
    }


async def _one_visitor(
    session: aiohttp.ClientSession,
    url: str,
    scripts: list[list[str]],
    first: int,
    deadline: float,
    start: float,
    label: str,
    notices: set[str],
    turns: list[Turn],
) -> None:
    target, visitors, number = label.split(":")
    index = first
    while time.perf_counter() < deadline:
        script = scripts[index % len(scripts)]
        index += 1
        sender = f"{SENDER_PREFIX}{target}-c{visitors}-v{number}-{uuid.uuid4().hex[:10]}"
        for text in script:
            if time.perf_counter() >= deadline:
                break
            t0 = time.perf_counter()
            ok, degraded, status = False, False, ""
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as resp:
                    status = str(resp.status)
                    body = await resp.json(content_type=None) if resp.status == 200 else None
                    ok = isinstance(body, list)
                    degraded = ok and any((m.get("text") or "") in notices for m in body or [])
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                status = type(exc).__name__
            t1 = time.perf_counter()
            turns.append(
                Turn(
                    target,
                    int(visitors),
                    sender,
                    text,
                    ok,
                    status,
                    (t1 - t0) * 1000,
                    t1 - start,
                    degraded,
                )
            )


async def run_load(
    base_url: str,
    target: str,
    scripts: list[list[str]],
    visitors: int,
    duration: float,
    timeout: float,
) -> list[Turn]:
    """``visitors`` closed-loop visitors replaying ``scripts`` for ``duration`` seconds."""
    if urlparse(base_url).hostname not in LOOPBACK:
        raise ValueError(f"bench-load only runs against loopback, not {base_url}")
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    notices = _notices() if target == "admissions" else set()
    turns: list[Turn] = []
    connector = aiohttp.TCPConnector(limit=visitors)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        start = time.perf_counter()
        deadline = start + duration
        await asyncio.gather(
            *(
                _one_visitor(
                    session,
                    url,
                    scripts,
                    i * max(1, len(scripts) // visitors),
                    deadline,
                    start,
                    f"{target}:{visitors}:{i}",
                    notices,
                    turns,
                )
                for i in range(visitors)
            )
        )
    return turns


def _long_runs(
    urls: Mapping[str, str],
    targets: list[str],
    scripts: list[list[str]],
    turns: int,
    timeout: float,
) -> dict[str, list[Turn]]:
    """One ``turns``-long conversation per assistant, one assistant after the other."""
    runs: dict[str, list[Turn]] = {}
    for target in targets:
        print(f"==> {target}, one conversation of {turns} turns", flush=True)
        url = urls[target].rstrip("/") + "/webhooks/rest/webhook"
        start = time.perf_counter()
        sender, played = asyncio.run(
            long_conversation.play(url, scripts, turns, SENDER_PREFIX, timeout)
        )
        runs[target] = [
            Turn(target, 0, sender, text, ok, status, ms, time.perf_counter() - start, False)
            for text, ok, status, ms in played
        ]
    return runs


def warm_up(base_url: str, script: list[str]) -> None:
    """One untimed conversation, so first-call costs stay out of the figures."""
    rasa = Rasa(base_url)
    sender = f"warmup-{uuid.uuid4().hex[:10]}"
    for text in script:
        rasa.say(sender, text)


# ----- report ------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """nproc, memory, CPU model and load average of this machine."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "platform": platform.platform()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    info["python"] = platform.python_version()
    return info


def git_commit() -> str:
    """HEAD, with "+ uncommitted changes" when the tracked files differ from it (read only)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True,
            text=True, check=True,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "diff", "--quiet", "HEAD", "--"], cwd=ROOT,
            capture_output=True,
        ).returncode  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def _python() -> str:
    exe = Path(sys.executable)
    return str(exe.relative_to(ROOT)) if exe.is_relative_to(ROOT) else str(exe)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


def markdown(report: dict[str, Any]) -> str:
    """The human-readable report."""
    m, meta = report["machine"], report["meta"]
    lines = [
        "# Load benchmark (`make bench-load`)",
        "",
        f"- date: {meta['date']}",
        f"- command: `{meta['command']}`",
        f"- git commit: {meta['commit']}; servers ran from the {meta['code']}",
        f"- machine: {m.get('cpu', '?')}, {m['nproc']} cores (nproc), "
        f"{m.get('memory_gib', '?')} GiB, {m['platform']}",
        f"- load average before / after: {meta['load_before']} / {meta['load_after']}",
        f"- duration per configuration: {meta['duration_s']} s"
        + (f" in {meta['rounds']} alternating rounds" if meta.get("rounds", 1) > 1 else "")
        + ", closed loop, loopback only; "
        f"{len(report['scripts'])} whole-assessment scripts "
        f"({meta['mean_script_turns']} messages on average; "
        f"{sum(s['success'] for s in report['scripts'])} of them reached the expected "
        "recommendation when recorded)",
        f"- this assistant: `{meta['model']}` (sha256 {meta['model_sha256']})"
        + (
            f"; stock: `rasa init` trained with Rasa {meta['rasa']}, Rasa's SQL tracker store "
            "on SQLite"
            if any(c["target"] == "stock" for c in report["configurations"])
            else ""
        )
        + (f"; baseline: {meta['baseline']}, same model" if meta.get("baseline") else ""),
    ]
    if meta.get("note"):
        lines.append(f"- note: {meta['note']}")
    lines += [
        "",
        "| assistant | visitors | turns | turns/s | p50 | p95 | p99 | max | errors | degraded |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report["configurations"]:
        lines.append(
            f"| {c['target']} | {c['visitors']} | {c['turns']} | {c['turns_per_s']} | "
            f"{_fmt(c['p50_ms'])} | {_fmt(c['p95_ms'])} | {_fmt(c['p99_ms'])} | "
            f"{_fmt(c['max_ms'])} | {c['errors']} | {c['degraded']} |"
        )
    for versus, title in (
        ("stock", "this assistant / stock"),
        ("baseline", f"this assistant / baseline: {meta.get('baseline')}"),
    ):
        chosen = [r for r in report["ratios"] if r.get("versus", "stock") == versus]
        if not chosen:
            continue
        lines += ["", f"## Ratios ({title}, same visitor count, same run)", ""]
        for r in chosen:
            lines.append(
                f"- {r['visitors']} visitors: turns/s ×{r['turns_per_s']}, p50 ×{r['p50']}, "
                f"p95 ×{r['p95']}"
            )
    lines += [
        "",
        "## Reconciliation (tracker databases after the servers stopped)",
        "",
        "| assistant | acknowledged | stored | missing | duplicated | unacknowledged but stored |",
        "|---|---|---|---|---|---|",
    ]
    for target, r in report["reconciliation"].items():
        lines.append(
            f"| {target} | {r['acknowledged']} | {r['stored']} | {r['missing']} | "
            f"{r['duplicated']} | {r['unacknowledged_stored']} |"
        )
    if report.get("long_conversation"):
        lines += [
            "",
            "## One long conversation (median of 11 turns around each)",
            "",
            "| assistant | turns | around turn 10 | around the last turn | ratio |",
            "|---|---|---|---|---|",
        ]
        for target, r in report["long_conversation"].items():
            lines.append(
                f"| {target} | {r['turns']} | {_fmt(r['early_ms'])} | {_fmt(r['late_ms'])} | "
                f"×{r['ratio']} |"
            )
    if report.get("spool_files"):
        lines.append(f"\nSpool files left unreplayed: {report['spool_files']}")
    return "\n".join(lines) + "\n"


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def main(argv: list[str] | None = None) -> int:
    """Run every configuration, reconcile the databases and write the report."""
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
    args = parser.parse_args(argv)
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
    model_sha = _digest([servers.MODEL], "")  # before anyone can swap it
    try:
        stock_dir = servers.stock_project() if "stock" in targets else None
    except (RuntimeError, subprocess.SubprocessError) as exc:
        print(f"error: could not make the stock assistant: {exc}", file=sys.stderr)
        return 2

    all_turns: list[Turn] = []
    long_report: dict[str, Any] = {}
    baseline = None
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        code, code_label = ROOT, "tree"
        if args.head:
            code = tmp / "code"
            code_label = servers.head_snapshot(code)
        try:
            with contextlib.ExitStack() as stack:
                urls = {
                    "admissions": stack.enter_context(servers.admissions_servers(tmp, code=code))
                }
                if stock_dir is not None:
                    urls["stock"] = stack.enter_context(servers.stock_server(tmp, stock_dir))
                if "baseline" in targets:
                    (tmp / "baseline").mkdir()
                    base_code = args.baseline_code
                    if base_code is None:
                        base_code = tmp / "baseline" / "code"
                        baseline = "committed code at " + servers.head_snapshot(base_code)
                    else:
                        baseline = f"the tree in {base_code}"
                    urls["baseline"] = stack.enter_context(
                        servers.admissions_servers(tmp / "baseline", code=base_code.resolve())
                    )
                print(f"==> servers up: {urls}", flush=True)
                scripts = scripts_for(urls["admissions"], args.scripts, code_label)
                messages = [s["messages"] for s in scripts]
                for target in targets:
                    warm_up(urls[target], messages[0])
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
                                run_load(
                                    urls[target], target, messages, count, seconds, args.timeout
                                )
                            )
                            for turn in played:
                                turn.round = n
                            all_turns += played
                if args.long:
                    long_runs = _long_runs(urls, targets, messages, args.long, args.timeout)
                    for target, turns in long_runs.items():
                        all_turns += turns
                        long_report[target] = long_conversation.summary(
                            [t.ms for t in turns if t.ok]
                        )
        except RuntimeError as exc:
            print(f"error: the servers could not start: {exc}", file=sys.stderr)
            return 2
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

    configurations = []
    for count in counts:
        for target in targets:
            turns = [t for t in all_turns if t.target == target and t.visitors == count]
            configurations.append(
                {"target": target, "visitors": count, **summarise(turns, args.duration)}
            )
    by = {(c["target"], c["visitors"]): c for c in configurations}
    ratios = [
        {
            "visitors": n,
            "versus": "stock",
            "turns_per_s": _ratio(by[("admissions", n)]["turns_per_s"], by[("stock", n)]["turns_per_s"]),
            "p50": _ratio(by[("admissions", n)]["p50_ms"], by[("stock", n)]["p50_ms"]),
            "p95": _ratio(by[("admissions", n)]["p95_ms"], by[("stock", n)]["p95_ms"]),
        }
        for n in counts
        if ("stock", n) in by
    ]  # fmt: skip
    ratios += [
        {
            "visitors": n,
            "versus": "baseline",
            "turns_per_s": _ratio(by[("admissions", n)]["turns_per_s"], by[("baseline", n)]["turns_per_s"]),
            "p50": _ratio(by[("admissions", n)]["p50_ms"], by[("baseline", n)]["p50_ms"]),
            "p95": _ratio(by[("admissions", n)]["p95_ms"], by[("baseline", n)]["p95_ms"]),
        }
        for n in counts
        if ("baseline", n) in by
    ]  # fmt: skip
    now = datetime.now(timezone.utc)
    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "command": os.environ.get("BENCH_COMMAND")
        or " ".join([_python(), "-m benchmarks.bench_load", *(argv or sys.argv[1:])]),
        "commit": git_commit(),
        "code": "working tree"
        if code_label == "tree"
        else f"committed code at {code_label} (git archive HEAD)",
        "model": str(servers.MODEL.relative_to(ROOT)),
        "model_sha256": model_sha,
        "rasa": servers.rasa_version(),
        "duration_s": args.duration,
        "rounds": rounds,
        "baseline": baseline,
        "mean_script_turns": round(sum(map(len, messages)) / len(messages), 1),
        "load_before": load_before,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.monotonic() - started, 1),
        "note": args.note,
    }
    report = {
        "meta": meta,
        "machine": machine(),
        "configurations": configurations,
        "ratios": ratios,
        "reconciliation": reconciliation,
        "long_conversation": long_report,
        "spool_files": spool_files,
        "scripts": [
            {"visitor": s["visitor"], "messages": len(s["messages"]), "success": s["success"]}
            for s in scripts
        ],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"bench-load-{now.strftime('%Y-%m-%d-%H%M')}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    stem.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))
    print(f"-> {stem}.md ({meta['seconds']} s)")
    # Only this assistant's losses fail the run; the stock bot's (Rasa's own SQL store) are reported.
    lost = sum(r["missing"] + r["duplicated"] for t, r in reconciliation.items() if t != "stock")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
