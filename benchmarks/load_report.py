"""The report of `make bench-load` (``benchmarks/results/bench-load-<date>.{md,json}``): the
figures per configuration, the ratios to the stock and baseline assistants, the machine and
the commit it ran on, and the Markdown of it all (``prod_bench`` uses the machine, commit and
latency format too)."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from benchmarks import servers
from benchmarks.load_driver import Turn, summarise

ROOT = servers.ROOT


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


def fmt(value: float | None) -> str:
    """A latency for the tables ("–" when there is none)."""
    return "–" if value is None else f"{value:,.0f} ms"


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def configurations(
    turns: list[Turn], counts: list[int], targets: list[str], duration: float
) -> list[dict[str, Any]]:
    """The figures of each (visitor count, assistant), in that order."""
    rows = []
    for count in counts:
        for target in targets:
            chosen = [t for t in turns if t.target == target and t.visitors == count]
            rows.append({"target": target, "visitors": count, **summarise(chosen, duration)})
    return rows


def ratios(rows: list[dict[str, Any]], counts: list[int]) -> list[dict[str, Any]]:
    """This assistant over the stock one, then over the baseline, per visitor count."""
    by = {(c["target"], c["visitors"]): c for c in rows}
    out = []
    for versus in ("stock", "baseline"):
        out += [
            {
                "visitors": n,
                "versus": versus,
                "turns_per_s": _ratio(
                    by[("admissions", n)]["turns_per_s"], by[(versus, n)]["turns_per_s"]
                ),
                "p50": _ratio(by[("admissions", n)]["p50_ms"], by[(versus, n)]["p50_ms"]),
                "p95": _ratio(by[("admissions", n)]["p95_ms"], by[(versus, n)]["p95_ms"]),
            }
            for n in counts
            if (versus, n) in by
        ]
    return out


def markdown(report: dict[str, Any]) -> str:
    """The human-readable report."""
    lines = _heading(report)
    lines += [
        "",
        "| assistant | visitors | turns | turns/s | p50 | p95 | p99 | max | errors | degraded |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in report["configurations"]:
        lines.append(
            f"| {c['target']} | {c['visitors']} | {c['turns']} | {c['turns_per_s']} | "
            f"{fmt(c['p50_ms'])} | {fmt(c['p95_ms'])} | {fmt(c['p99_ms'])} | "
            f"{fmt(c['max_ms'])} | {c['errors']} | {c['degraded']} |"
        )
    lines += _ratio_sections(report)
    lines += _reconciliation_table(report)
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
                f"| {target} | {r['turns']} | {fmt(r['early_ms'])} | {fmt(r['late_ms'])} | "
                f"×{r['ratio']} |"
            )
    if report.get("spool_files"):
        lines.append(f"\nSpool files left unreplayed: {report['spool_files']}")
    return "\n".join(lines) + "\n"


def _heading(report: dict[str, Any]) -> list[str]:
    """Title, date, command, commit, machine, load, duration, the assistants and the note."""
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
    return lines


def _ratio_sections(report: dict[str, Any]) -> list[str]:
    """One list of ratios per assistant compared with (stock, baseline), when it ran."""
    meta = report["meta"]
    lines: list[str] = []
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
    return lines


def _reconciliation_table(report: dict[str, Any]) -> list[str]:
    """Acknowledged, stored, missing and duplicated turns per assistant."""
    lines = [
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
    return lines
