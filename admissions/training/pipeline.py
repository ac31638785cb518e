"""One retraining run: snapshot the data, validate, train, evaluate, apply the quality gate,
and (when asked and the gate passed) promote. Progress goes to the run's database row.

Only one run at a time (a lock file shared by the web app and the command line). A run never
touches the live model unless it promotes at the very end; any failure before that leaves the
live model as it was and says why in the run's ``explanation``.

Each step is one function over a ``Run`` (what the run knows so far). Steps overlap where
they can: validation and the live model's evaluation run beside the training, and a run that
promotes starts the candidate's Rasa process while the candidate is evaluated. Every Rasa
command gives way to the serving processes (idle scheduling class, paused during chat
turns: ``rasacli.run_in_background``). The steps stay in one module (about 480 lines), read
top to bottom in the order they run; the data snapshot, progress rows, commands and the
early-started candidate process live in ``snapshot``, ``progress``, ``rasacli`` and
``promote``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
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
    locks,
    nludata,
    promote,
    rasa_process,
    rasacli,
    serving,
    snapshot,
)
from admissions.training.progress import STEPS, Progress
from admissions.training.settings import TrainingSettings

__all__ = ["STEPS", "Progress", "RunFailed", "busy", "lock_path", "reap_stale", "report_of", "run"]

logger = logging.getLogger(__name__)

_FINETUNE_REFUSED = ("Cannot finetune",)


class RunFailed(RuntimeError):
    """A step failed; the message is the explanation staff see."""


def lock_path(settings: TrainingSettings) -> Path:
    """The lock every retraining holds while it runs."""
    return settings.work_dir / "retrain.lock"


def busy(settings: TrainingSettings) -> bool:
    """Whether a retraining is running now."""
    return locks.is_held(lock_path(settings))


@dataclass
class Run:
    """One run's context: set up by ``_run_locked``, filled in by the steps."""

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


async def _background(args: list[str], ctx: Run, log: str) -> rasacli.CommandResult:
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


# ----- the run ----------------------------------------------------------------------------------
async def run(
    settings: TrainingSettings, engine: AsyncEngine, run_id: int, *, echo: bool = False
) -> str:
    """Carry out run ``run_id`` (a queued row); returns its final status."""
    try:
        with locks.hold(lock_path(settings)):
            return await _run_locked(settings, engine, run_id, echo)
    except locks.Busy:
        async with engine.begin() as conn:
            await history.fail_run(
                conn,
                run_id,
                "Another training is running. Only one runs at a time: wait for it "
                "to finish, then start again.",
                status="refused",
            )
        return "refused"


async def _run_locked(
    settings: TrainingSettings, engine: AsyncEngine, run_id: int, echo: bool
) -> str:
    async with engine.connect() as conn:
        row = await history.get_run(conn, run_id)
    if row is None:
        raise RunFailed(f"no training run {run_id}")
    if row.status != "queued":
        raise RunFailed(f"training run {run_id} is {row.status}, not queued")
    progress = Progress.new(engine, run_id, bool(row.auto_promote), echo)
    await progress.save(status="running", started_at=history.now(), pid=os.getpid())
    ctx = Run(
        settings,
        engine,
        run_id,
        progress,
        settings.work_dir / f"run-{run_id}",
        bool(row.auto_promote),
        row.requested_by,
    )
    await audit.write(
        engine, username=ctx.by, action="retrain_started", result="ok", detail={"run": run_id}
    )
    try:
        return await _steps(ctx)
    except (RunFailed, evaluate.EvaluationError, nludata.DataFileError) as exc:
        await progress.fail(str(exc))
        await ctx.audit("error", error=str(exc)[:300])
    except Exception as exc:
        logger.exception("training run %s failed", run_id)
        await progress.fail(
            f"The training job stopped with an unexpected error ({type(exc).__name__}: {exc}). "
            "The live model was not changed. Details are in the log: "
            f"{ctx.run_dir / 'run.log'}"
        )
        await ctx.audit("error", error=type(exc).__name__)
    return "failed"


async def _steps(ctx: Run) -> str:
    await step_snapshot(ctx)
    t_validate = await ctx.progress.start("validate")
    validation = asyncio.create_task(
        _background(rasacli.validate_args(ctx.settings, ctx.snap), ctx, "validate.log")
    )
    await load_baseline(ctx)
    training = asyncio.create_task(_train(ctx))
    await finish_validation(ctx, validation, training, t_validate)
    await step_train(ctx, training)
    settings = ctx.settings
    if (
        ctx.auto_promote
        and not settings.promote_offline
        and serving.live_state(settings.serving_file) is not None
    ):
        ctx.prepare_task = promote.prepare_early(settings, ctx.candidate_file)
    try:
        await step_evaluate(ctx)
        verdict, candidate_id = await step_gate(ctx)
        return await step_promote(ctx, verdict, candidate_id)
    finally:
        await promote.drop_prepared(ctx.prepare_task)


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


async def _train(ctx: Run) -> rasacli.CommandResult:
    """Fine-tune from the live model when possible (``auto`` falls back to a full training
    when Rasa refuses to fine-tune, e.g. after a config change), else train from scratch."""
    settings, out = ctx.settings, ctx.run_dir / "model"
    finetune_from = None
    if ctx.baseline is not None and settings.mode in ("auto", "finetune"):
        finetune_from = Path(ctx.baseline.file)
    ctx.mode = "finetune" if finetune_from else "full"
    args = rasacli.train_args(settings, ctx.snap, out, finetune_from)
    result = await _background(args, ctx, "train.log")
    ctx.peak_rss_kb = result.peak_rss_kb
    if not result.ok and finetune_from is not None and settings.mode == "auto":
        log_text = result.log.read_text(errors="replace")
        if any(marker in log_text for marker in _FINETUNE_REFUSED):
            ctx.mode = "full"
            args = rasacli.train_args(settings, ctx.snap, out, None)
            result = await _background(args, ctx, "train-full.log")
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


# ----- after the run ----------------------------------------------------------------------------
async def reap_stale(settings: TrainingSettings, engine: AsyncEngine) -> None:
    """Mark runs whose job died (machine restart, kill -9) as failed."""
    async with engine.connect() as conn:
        active = await history.active_runs(conn)
    if not active or busy(settings):
        return
    for row in active:
        age = (history.now() - row.requested_at).total_seconds()
        if row.status == "queued" and age < 120:
            continue  # its job may still be starting
        if row.status == "running" and history.process_alive(row.pid):
            continue
        async with engine.begin() as conn:
            await history.fail_run(
                conn,
                row.id,
                "The training job stopped before it finished (the process ended or "
                "the machine restarted). The live model was not changed. Start it again.",
            )


def report_of(row: Any) -> dict[str, Any] | None:
    """A run row's report as a dict."""
    return json.loads(row.report) if row is not None and row.report else None
