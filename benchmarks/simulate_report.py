"""The report of `make simulate`: the summary (``summary.json``), its Markdown
(``summary.md``), the terminal table and the per-visitor transcripts."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.conversation import Outcome
from benchmarks.visitor import Visitor


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """Success rate, mean turns, mean re-asks, per-kind figures and the failures."""
    n = len(outcomes) or 1
    kinds: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        k = kinds.setdefault(o.kind, {"visitors": 0, "success": 0, "reasks": 0})
        k["visitors"] += 1
        k["success"] += int(o.success)
        k["reasks"] += o.reasks
    return {
        "visitors": len(outcomes),
        "success": sum(o.success for o in outcomes),
        "success_rate": round(sum(o.success for o in outcomes) / n, 4),
        "mean_turns": round(sum(o.turns for o in outcomes) / n, 2),
        "mean_reasks": round(sum(o.reasks for o in outcomes) / n, 3),
        "mean_silent_repeats": round(sum(o.repeats for o in outcomes) / n, 3),
        "readback_changes": sum(o.readback_changes for o in outcomes),
        "wrong_crisis": sum(o.crisis for o in outcomes),
        "early_goodbye": sum(o.goodbye for o in outcomes),
        "by_kind": kinds,
        "failures": [
            {
                "name": o.name,
                "kind": o.kind,
                "reason": o.reason,
                "expected": o.expected,
                "got": o.got,
                "reasks": o.reask_turns,
                "last_visitor": o.last_visitor,
                "last_bot": o.last_bot,
                "understood": o.understood,
            }
            for o in outcomes
            if not o.success
        ],
        "conversations": [
            {k: v for k, v in asdict(o).items() if k not in ("transcript", "last_bot")}
            for o in outcomes
        ],
    }


def markdown(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """The human-readable report."""
    lines = [
        "# Simulated visitors (`make simulate`)",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        f"- command: `{meta['command']}`",
        f"- model: `{meta['model']}` (sha256 {meta['model_sha256']})",
        f"- target: {meta['target']}",
        "",
        f"**Success {summary['success']}/{summary['visitors']} ({summary['success_rate']:.0%})**, "
        f"mean turns {summary['mean_turns']}, mean re-asks {summary['mean_reasks']} per "
        f"conversation (targets: success ≥ 95 %, re-asks ≤ 0.3); questions repeated without "
        f"saying so {summary['mean_silent_repeats']} per conversation; read-backs the visitor "
        f"corrected {summary['readback_changes']}; wrong crisis replies "
        f"{summary['wrong_crisis']}, early goodbyes {summary['early_goodbye']}.",
        "",
        "| kind | visitors | success | re-asks |",
        "|---|---|---|---|",
    ]
    for kind, k in summary["by_kind"].items():
        lines.append(f"| {kind} | {k['visitors']} | {k['success']} | {k['reasks']} |")
    lines += ["", "## Failures", ""]
    if not summary["failures"]:
        lines.append("None.")
    for f in summary["failures"]:
        lines.append(f"- **{f['name']}** ({f['kind']}): {f['reason']}")
        for r in f["reasks"][:3]:
            lines.append(f"  - re-ask after “{r['visitor']}”: {r['bot'][:200]}")
        if f["understood"] and f["got"] is not None:
            lines.append(f"  - the bot understood: {f['understood'][:400]}")
        else:
            said = " / ".join(f["last_bot"])[:300]
            lines.append(f"  - last turn: “{f['last_visitor']}” → {said}")
    return "\n".join(lines) + "\n"


def table(summary: dict[str, Any]) -> str:
    """A short table for the terminal."""
    rows = [f"{'kind':<15}{'visitors':>9}{'success':>9}{'re-asks':>9}"]
    for kind, k in summary["by_kind"].items():
        rows.append(f"{kind:<15}{k['visitors']:>9}{k['success']:>9}{k['reasks']:>9}")
    rows.append(
        f"{'all':<15}{summary['visitors']:>9}{summary['success']:>9}"
        f"{round(summary['mean_reasks'] * summary['visitors']):>9}"
    )
    rows.append(
        f"success {summary['success_rate']:.1%}  mean turns {summary['mean_turns']}  "
        f"mean re-asks {summary['mean_reasks']}"
    )
    rows += [f"FAIL {f['name']}: {f['reason']}" for f in summary["failures"]]
    return "\n".join(rows)


def write_transcripts(directory: Path, outcomes: list[Outcome], visitors: list[Visitor]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    by_name = {v.name: v for v in visitors}
    for o in outcomes:
        v = by_name[o.name]
        head = [
            f"# {o.name} ({o.kind}) — expected {o.expected}, got {o.got}: "
            f"{'OK' if o.success else 'FAIL ' + o.reason}",
            f"# why: {v.why}",
            "",
        ]
        (directory / f"{o.name}.txt").write_text("\n".join(head + o.transcript) + "\n")
