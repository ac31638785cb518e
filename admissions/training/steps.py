"""The steps of one retraining run, read top to bottom in the order they run: snapshot,
validate (beside the training), train, evaluate, gate, promote. Each is one function over a
``Run`` (what the run knows so far); ``pipeline`` holds the lock, sets the ``Run`` up, starts
the steps that overlap and turns a failure into the run's ``explanation``.

Every Rasa command gives way to the serving processes (idle scheduling class, paused during
chat turns: ``rasacli.run_in_background``). The data snapshot, progress rows, commands and the
early-started candidate process live in ``snapshot``, ``progress``, ``rasacli`` and
``promote``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db import audit
from admissions.training import (
    evaluate,
    gate,
    history,
    promote,
    rasa_process,
    rasacli,
    serving,
    snapshot,
)
from admissions.training.progress import Progress
from admissions.training.settings import TrainingSettings

_FINETUNE_REFUSED = ("Cannot finetune",)


class RunFailed(RuntimeError):
    """A step failed; the message is the explanation staff see."""


@dataclass
class Run:
    """One run's context: set up by ``pipeline``, filled in by the steps."""

    settings: TrainingSettings
    engine: AsyncEngine
    run_id: int
    progress: Progress
    run_dir: Path
    auto_promote: bool
    by: str
    fingerprints: dict[str, str] = field(default_factory=dict)
    baseline: Any = None  # the live model's row: the model to beat, and to fine-tune from
    baseline_metrics: dict[str, Any] | None = None
    baseline_task: asyncio.Task[dict[str, Any]] | None = None
    protected: list[str] = field(default_factory=list)  # crisis examples that must stay crisis
    mode: str = "full"
    peak_rss_kb: int = 0
    prepare_task: asyncio.Task[serving.Prepared] | None = None
    candidate_metrics: dict[str, Any] = field(default_factory=dict)
    stories_note: str = ""
    explanation: str = ""

    @property
    def snap(self) -> Path:
        """The frozen copy of data, domain and config this run trains on."""
        return self.run_dir / "snapshot"

    @property
    def candidate_file(self) -> Path:
        """Where the training writes the new model."""
        return self.run_dir / "model" / "candidate.tar.gz"

    async def audit(self, result: str, **detail: Any) -> None:
        """An audit row for this run's end."""
        await audit.write(
            self.engine,
            username=self.by,
            action="retrain_finished",
            result=result,
            detail={"run": self.run_id, **detail},
        )


# ----- helpers ----------------------------------------------------------------------------------
def _same_dialogue(candidate: Path, live: Path) -> bool:
    try:
        return evaluate.dialogue_digest(candidate) == evaluate.dialogue_digest(live)
    except (OSError, tarfile.TarError):
        return False


async def background(args: list[str], ctx: Run, log: str) -> rasacli.CommandResult:
    """A Rasa command of this run that gives way to the serving processes."""
    serving_file = ctx.settings.serving_file
    return await asyncio.to_thread(
        rasacli.run_in_background,
        args,
        ctx.settings,
        ctx.run_dir / log,
        lambda: rasa_process.serving_pids(serving_file),
    )


def _validation_problems(result: rasacli.CommandResult) -> str:
    lines = [
        line
        for line in result.tail(200).splitlines()
        if any(w in line for w in ("ERROR", "Error", "error", "UserWarning", "conflict", "Invalid"))
    ]
    return "\n".join(lines[-15:]) or result.tail(15)


async def _settle(*tasks: asyncio.Task[Any] | None) -> None:
    """Wait for tasks that are being given up (their errors do not matter any more)."""
    for task in tasks:
        if task is not None:
            with contextlib.suppress(BaseException):
                await task


# ----- the steps ----------------------------------------------------------------------------------
async def step_snapshot(ctx: Run) -> None:
    """1. The run trains on a frozen copy, so edits made meanwhile wait for the next run."""
    t = await ctx.progress.start("snapshot")
    ctx.fingerprints = await asyncio.to_thread(snapshot.snapshot, ctx.settings, ctx.snap)
    leaks = snapshot.leaked_heldout(ctx.settings, ctx.snap / "data" / "nlu")
    if leaks:
        raise RunFailed(
            "These training examples are also in the held-out test set, which the model must "
            "never be trained on; remove them from data/nlu:\n"
            + "\n".join(f"- {t}" for t in leaks[:20])
        )
    await ctx.progress.finish("snapshot", t)


async def load_baseline(ctx: Run) -> None:
    """The live model: the baseline to beat, and where fine-tuning starts from. Its
    evaluation (when missing or made on other test sets) starts beside the training."""
    settings, engine = ctx.settings, ctx.engine
    baseline_id = await promote.adopt_live(settings, engine)
    if baseline_id is not None:
        async with engine.connect() as conn:
            ctx.baseline = await history.get_model(conn, baseline_id)
    baseline = ctx.baseline
    ctx.protected = (
        history.loads(baseline.crisis_examples) if baseline is not None else None
    ) or history.crisis_examples(ctx.snap / "data" / "nlu")
    await ctx.progress.save(baseline_id=baseline_id)
    ctx.baseline_metrics = history.loads(baseline.metrics) if baseline is not None else None
    if baseline is not None and (
        not ctx.baseline_metrics
        or ctx.baseline_metrics.get("fingerprint") != evaluate.fingerprint(settings, ctx.protected)
    ):
        ctx.baseline_task = asyncio.create_task(
            asyncio.to_thread(
                evaluate.evaluate,
                settings,
                Path(baseline.file),
                ctx.run_dir / "eval-live",
                ctx.protected,
            )
        )


async def train(ctx: Run) -> rasacli.CommandResult:
    """Fine-tune from the live model when possible (``auto`` falls back to a full training
    when Rasa refuses to fine-tune, e.g. after a config change), else train from scratch."""
    settings, out = ctx.settings, ctx.run_dir / "model"
    finetune_from = None
    if ctx.baseline is not None and settings.mode in ("auto", "finetune"):
        finetune_from = Path(ctx.baseline.file)
    ctx.mode = "finetune" if finetune_from else "full"
    args = rasacli.train_args(settings, ctx.snap, out, finetune_from)
    result = await background(args, ctx, "train.log")
    ctx.peak_rss_kb = result.peak_rss_kb
    if not result.ok and finetune_from is not None and settings.mode == "auto":
        log_text = result.log.read_text(errors="replace")
        if any(marker in log_text for marker in _FINETUNE_REFUSED):
            ctx.mode = "full"
            args = rasacli.train_args(settings, ctx.snap, out, None)
            result = await background(args, ctx, "train-full.log")
            ctx.peak_rss_kb = max(ctx.peak_rss_kb, result.peak_rss_kb)
    return result


async def finish_validation(
    ctx: Run,
    validation: asyncio.Task[rasacli.CommandResult],
    training: asyncio.Task[rasacli.CommandResult],
    started: float,
) -> None:
    """2. ``rasa data validate`` ran beside the training (which skips Rasa's own validation);
    on problems the training and the live model's evaluation are stopped."""
    result = await validation
    if result.returncode == 127 or not result.ok:
        rasacli.stop_all()
        await _settle(training, ctx.baseline_task)
    if result.returncode == 127:
        raise RunFailed(
            f"The Rasa command was not found at {ctx.settings.rasa_bin}: create the assistant "
            "environment first (make setup). The live model was not changed."
        )
    if not result.ok:
        raise RunFailed(
            "The training data has problems, so nothing was trained (the live model is "
            "unchanged). `rasa data validate` said:\n" + _validation_problems(result)
        )
    await ctx.progress.finish("validate", started)


async def step_train(ctx: Run, training: asyncio.Task[rasacli.CommandResult]) -> None:
    """3. Wait for the training started beside the validation."""
    t = await ctx.progress.start("train")
    await ctx.progress.save(mode=ctx.mode)
    result = await training
    if not result.ok or not ctx.candidate_file.exists():
        if ctx.baseline_task is not None:
            ctx.baseline_task.cancel()
        why = "it ran out of time" if result.timed_out else f"exit status {result.returncode}"
        if result.returncode in (-9, 137):
            why = "it was killed (probably out of memory)"
        raise RunFailed(
            f"Training failed ({why}); the live model is unchanged. The end of its output:\n"
            + result.tail(20)
        )
    note = f"{ctx.mode}, peak memory {ctx.peak_rss_kb // 1024} MB"
    if result.paused_seconds:
        note += f", paused {result.paused_seconds:.0f} s for chat turns"
    await ctx.progress.finish("train", t, note=note)
    await ctx.progress.save(mode=ctx.mode, peak_rss_kb=ctx.peak_rss_kb)


async def step_evaluate(ctx: Run) -> None:
    """4. Evaluate the candidate (and finish the live model's evaluation).

    The test stories are intent-level, so they depend on the dialogue model alone (policies
    and domain): when that is byte-for-byte the live model's (only NLU data changed and Rasa
    restored the policies from its training cache), the live model's story result holds and
    they are not run again.
    """
    settings, baseline = ctx.settings, ctx.baseline
    t = await ctx.progress.start("evaluate")
    same_dialogue = baseline is not None and await asyncio.to_thread(
        _same_dialogue, ctx.candidate_file, Path(baseline.file)
    )
    if same_dialogue and ctx.baseline_task is not None:
        await _store_baseline_metrics(ctx)
    current = evaluate.fingerprint(settings, ctx.protected)
    carried = (ctx.baseline_metrics or {}).get("stories") if same_dialogue else None
    if carried is not None and (ctx.baseline_metrics or {}).get("fingerprint") != current:
        carried = None  # the test stories changed since: run them
    ctx.candidate_metrics = await asyncio.to_thread(
        functools.partial(
            evaluate.evaluate,
            settings,
            ctx.candidate_file,
            ctx.run_dir / "eval-candidate",
            ctx.protected,
            stories=carried is None,
        )
    )
    if carried is not None:
        ctx.candidate_metrics["stories"] = {
            **carried,
            "carried_over": "same dialogue model as the live one (policies and domain)",
        }
        ctx.stories_note = "test stories carried over: same dialogue model"
    if ctx.baseline_task is not None:
        await _store_baseline_metrics(ctx)
    await ctx.progress.finish("evaluate", t, note=ctx.stories_note)


async def _store_baseline_metrics(ctx: Run) -> None:
    assert ctx.baseline_task is not None and ctx.baseline is not None
    ctx.baseline_metrics = await ctx.baseline_task
    ctx.baseline_task = None
    async with ctx.engine.begin() as conn:
        await history.set_metrics(conn, ctx.baseline.id, ctx.baseline_metrics)


async def step_gate(ctx: Run) -> tuple[gate.GateResult, int]:
    """5. The quality gate; the candidate goes into the model history either way."""
    settings = ctx.settings
    t = await ctx.progress.start("gate")
    rules = gate.GateRules(
        max_macro_f1_drop=settings.max_macro_f1_drop,
        max_intent_f1_drop=settings.max_intent_f1_drop,
        min_crisis_recall=settings.min_crisis_recall,
        min_intent_error_increase=settings.min_intent_error_increase,
    )
    verdict = gate.check(ctx.baseline_metrics, ctx.candidate_metrics, rules)
    archived, sha, size = await asyncio.to_thread(history.archive, settings, ctx.candidate_file)
    async with ctx.engine.begin() as conn:
        candidate_id = await history.register_model(
            conn,
            sha256=sha,
            file=str(archived),
            size_bytes=size,
            origin="trained",
            trained_by=ctx.by,
            run_id=ctx.run_id,
            mode=ctx.mode,
            fingerprints=ctx.fingerprints,
            metrics=ctx.candidate_metrics,
            crisis_examples=history.crisis_examples(ctx.snap / "data" / "nlu"),
            gate_passed=verdict.passed,
        )
    report = {
        "baseline": ctx.baseline_metrics,
        "candidate": ctx.candidate_metrics,
        "gate": verdict.as_dict(),
        "intents": gate.intent_deltas(ctx.baseline_metrics or {}, ctx.candidate_metrics),
        "mode": ctx.mode,
        "peak_rss_kb": ctx.peak_rss_kb,
    }
    ctx.explanation = explanation = (
        "The new model passed the quality gate."
        if verdict.passed
        else "The new model did not pass the quality gate, so it was not put live:\n"
        + "\n".join(f"- {r}" for r in verdict.reasons())
    )
    ctx.candidate_file.unlink(missing_ok=True)  # archived in models/history
    await ctx.progress.finish("gate", t, status="done" if verdict.passed else "failed")
    await ctx.progress.save(candidate_id=candidate_id, report=report, explanation=explanation)
    await ctx.audit("ok", model=candidate_id, gate_passed=verdict.passed, mode=ctx.mode)
    return verdict, candidate_id


async def step_promote(ctx: Run, verdict: gate.GateResult, candidate_id: int) -> str:
    """6. Put the candidate live (runs that promote, when the gate passed); finish the run."""
    status, explanation = ("passed" if verdict.passed else "rejected"), ctx.explanation
    if ctx.auto_promote:
        t = await ctx.progress.start("promote")
        if not verdict.passed:
            await ctx.progress.finish("promote", t, status="skipped")
        else:
            try:
                await promote.go_live(
                    ctx.settings,
                    ctx.engine,
                    candidate_id,
                    by=ctx.by,
                    action="promote",
                    audit_as="model_promote",
                    offline=ctx.settings.promote_offline,
                    prepared=await promote.prepared_or_none(ctx.prepare_task),
                )
            except promote.PromotionError as exc:
                await ctx.progress.finish("promote", t, status="failed")
                explanation += f"\nIt could not be put live: {exc}"
            else:
                await ctx.progress.finish("promote", t)
                explanation += " It is now live."
    await ctx.progress.save(
        status=status, finished_at=history.now(), explanation=explanation, step=None
    )
    return status
