"""One retraining run: snapshot the data, validate, train, evaluate, apply the quality gate,
and (when asked and the gate passed) promote. Progress goes to the run's database row.

Only one run at a time (a lock file shared by the web app and the command line). A run never
touches the live model unless it promotes at the very end; any failure before that leaves the
live model as it was and says why in the run's ``explanation``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import shutil
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.training import (
    evaluate,
    gate,
    history,
    locks,
    nludata,
    promote,
    rasacli,
    serving,
)
from admissions.training.settings import TrainingSettings
from admissions.web import audit

logger = logging.getLogger(__name__)

STEPS: tuple[tuple[str, str], ...] = (
    ("snapshot", "Copy the training data"),
    ("validate", "Check the training data (rasa data validate)"),
    ("train", "Train the model"),
    ("evaluate", "Test it: held-out set, crisis tables, test stories"),
    ("gate", "Quality gate"),
    ("promote", "Put it live"),
)
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
class Progress:
    """The run's steps and their state, written to the database as they change."""

    engine: AsyncEngine
    run_id: int
    steps: list[dict[str, Any]]
    echo: bool = False

    @classmethod
    def new(
        cls, engine: AsyncEngine, run_id: int, promote_step: bool, echo: bool = False
    ) -> Progress:
        """All steps pending (the promote step only when the run promotes)."""
        steps = [
            {"name": name, "label": label, "status": "pending", "seconds": None}
            for name, label in STEPS
            if name != "promote" or promote_step
        ]
        return cls(engine, run_id, steps, echo)

    def _step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.steps if s["name"] == name)

    async def save(self, **values: Any) -> None:
        """Store the steps (and other run columns)."""
        async with self.engine.begin() as conn:
            await history.update_run(conn, self.run_id, steps=self.steps, **values)

    async def start(self, name: str) -> float:
        """Mark ``name`` running."""
        step = self._step(name)
        step["status"] = "running"
        if self.echo:
            print(f"==> {step['label']}", flush=True)
        await self.save(step=name)
        return time.monotonic()

    async def finish(self, name: str, started: float, status: str = "done", note: str = "") -> None:
        """Mark ``name`` done / failed / skipped with its duration."""
        step = self._step(name)
        step["status"] = status
        step["seconds"] = round(time.monotonic() - started, 1)
        if note:
            step["note"] = note
        if self.echo:
            extra = f"; {note}" if note else ""
            print(f"    {status} in {step['seconds']} s{extra}", flush=True)
        await self.save()

    async def fail_running(self) -> None:
        """Mark whatever was running as failed."""
        for step in self.steps:
            if step["status"] == "running":
                step["status"] = "failed"
        await self.save()


def _training_args(
    settings: TrainingSettings, snap: Path, out: Path, finetune_from: Path | None
) -> list[str]:
    args = [
        str(settings.rasa_bin),
        "train",
        "--config",
        str(snap / "config.yml"),
        "--domain",
        str(snap / "domain.yml"),
        "--data",
        str(snap / "data"),
        "--out",
        str(out),
        "--fixed-model-name",
        "candidate",
        # `rasa data validate` checks the same snapshot alongside: don't validate twice.
        "--skip-validation",
    ]
    if finetune_from is not None:
        args += ["--finetune", str(finetune_from), "--epoch-fraction", str(settings.epoch_fraction)]
    return args


def _copy_domain(source: Path, target: Path) -> None:
    if source.is_dir():  # a domain split over files: Rasa takes the folder (any name)
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)


def _same_dialogue(candidate: Path, live: Path) -> bool:
    try:
        return evaluate.dialogue_digest(candidate) == evaluate.dialogue_digest(live)
    except (OSError, tarfile.TarError):
        return False


def snapshot(settings: TrainingSettings, snap: Path) -> dict[str, str]:
    """Copy data, domain and config into the run folder; returns their fingerprints."""
    if snap.exists():
        shutil.rmtree(snap)
    snap.mkdir(parents=True)
    shutil.copytree(
        settings.data_dir, snap / "data", ignore=shutil.ignore_patterns(".*", "*.tmp", "*.md")
    )
    _copy_domain(settings.domain, snap / "domain.yml")
    shutil.copyfile(settings.config, snap / "config.yml")
    return {
        "data": nludata.snapshot_fingerprint([snap / "data"]),
        "domain": nludata.snapshot_fingerprint([snap / "domain.yml"]),
        "config": nludata.snapshot_fingerprint([snap / "config.yml"]),
    }


def leaked_heldout(settings: TrainingSettings, nlu_dir: Path) -> list[str]:
    """Training examples that are also in the held-out test set (must be none)."""
    heldout = nludata.heldout_texts(settings.heldout_dir)
    return sorted(
        {
            t
            for b in nludata.load_blocks(nlu_dir)
            for t in b.examples
            if nludata.normalise(t) in heldout
        }
    )


async def _run_cmd(args: list[str], settings: TrainingSettings, log: Path) -> rasacli.CommandResult:
    """Run a Rasa command at low CPU priority with few TensorFlow threads: serving first."""
    return await asyncio.to_thread(
        rasacli.run,
        rasacli.niced(args, settings.nice),
        cwd=settings.project,
        log=log,
        env=rasacli.rasa_env({**settings.rasa_env, **rasacli.thread_limits(settings.tf_threads)}),
        timeout=settings.step_timeout_seconds,
        nice=settings.nice,
    )


def _validation_problems(result: rasacli.CommandResult) -> str:
    lines = [
        line
        for line in result.tail(200).splitlines()
        if any(w in line for w in ("ERROR", "Error", "error", "UserWarning", "conflict", "Invalid"))
    ]
    return "\n".join(lines[-15:]) or result.tail(15)


async def run(
    settings: TrainingSettings, engine: AsyncEngine, run_id: int, *, echo: bool = False
) -> str:
    """Carry out run ``run_id`` (a queued row); returns its final status."""
    try:
        with locks.hold(lock_path(settings)):
            return await _run_locked(settings, engine, run_id, echo)
    except locks.Busy:
        async with engine.begin() as conn:
            await history.update_run(
                conn,
                run_id,
                status="refused",
                finished_at=history.now(),
                explanation="Another training is running. Only one runs at a time: wait for it "
                "to finish, then start again.",
            )
        return "refused"


async def _run_locked(
    settings: TrainingSettings, engine: AsyncEngine, run_id: int, echo: bool
) -> str:
    async with engine.connect() as conn:
        row = await history.get_run(conn, run_id)
    if row is None:
        raise RunFailed(f"no training run {run_id}")
    by = row.requested_by
    if row.status != "queued":
        raise RunFailed(f"training run {run_id} is {row.status}, not queued")
    progress = Progress.new(engine, run_id, bool(row.auto_promote), echo)
    await progress.save(status="running", started_at=history.now(), pid=os.getpid())
    run_dir = settings.work_dir / f"run-{run_id}"
    await audit.write(
        engine, username=by, action="retrain_started", result="ok", detail={"run": run_id}
    )
    try:
        status = await _steps(
            settings, engine, run_id, progress, run_dir, bool(row.auto_promote), by
        )
    except (RunFailed, evaluate.EvaluationError, nludata.DataFileError) as exc:
        await progress.fail_running()
        await progress.save(status="failed", finished_at=history.now(), explanation=str(exc))
        await audit.write(
            engine,
            username=by,
            action="retrain_finished",
            result="error",
            detail={"run": run_id, "error": str(exc)[:300]},
        )
        return "failed"
    except Exception as exc:
        logger.exception("training run %s failed", run_id)
        await progress.fail_running()
        explanation = (
            f"The training job stopped with an unexpected error ({type(exc).__name__}: {exc}). "
            "The live model was not changed. Details are in the log: "
            f"{run_dir / 'run.log'}"
        )
        await progress.save(status="failed", finished_at=history.now(), explanation=explanation)
        await audit.write(
            engine,
            username=by,
            action="retrain_finished",
            result="error",
            detail={"run": run_id, "error": type(exc).__name__},
        )
        return "failed"
    return status


async def _steps(
    settings: TrainingSettings,
    engine: AsyncEngine,
    run_id: int,
    progress: Progress,
    run_dir: Path,
    auto_promote: bool,
    by: str,
) -> str:
    snap = run_dir / "snapshot"
    # 1. snapshot: the run trains on a frozen copy, so edits made meanwhile wait for the next run
    t = await progress.start("snapshot")
    fingerprints = await asyncio.to_thread(snapshot, settings, snap)
    leaks = leaked_heldout(settings, snap / "data" / "nlu")
    if leaks:
        raise RunFailed(
            "These training examples are also in the held-out test set, which the model must "
            "never be trained on; remove them from data/nlu:\n"
            + "\n".join(f"- {t}" for t in leaks[:20])
        )
    await progress.finish("snapshot", t)

    # 2. validate, while the training (which skips Rasa's own validation) already runs
    t_validate = await progress.start("validate")
    validate_task = asyncio.create_task(
        _run_cmd(
            [
                str(settings.rasa_bin),
                "data",
                "validate",
                "--data",
                str(snap / "data"),
                "--domain",
                str(snap / "domain.yml"),
                "--config",
                str(snap / "config.yml"),
            ],
            settings,
            run_dir / "validate.log",
        )
    )

    # The live model: the baseline to beat, and where fine-tuning starts from.
    baseline_id = await promote.adopt_live(settings, engine)
    baseline = None
    if baseline_id is not None:
        async with engine.connect() as conn:
            baseline = await history.get_model(conn, baseline_id)
    protected = (
        history.loads(baseline.crisis_examples) if baseline is not None else None
    ) or history.crisis_examples(snap / "data" / "nlu")
    await progress.save(baseline_id=baseline_id)
    baseline_metrics = history.loads(baseline.metrics) if baseline is not None else None
    baseline_task: asyncio.Task[dict[str, Any]] | None = None
    if baseline is not None and (
        not baseline_metrics
        or baseline_metrics.get("fingerprint") != evaluate.fingerprint(settings, protected)
    ):
        # Evaluate the live model while the candidate trains (same test sets, same day).
        baseline_task = asyncio.create_task(
            asyncio.to_thread(
                evaluate.evaluate, settings, Path(baseline.file), run_dir / "eval-live", protected
            )
        )

    # 3. train: fine-tune from the live model when possible, otherwise from scratch
    out = run_dir / "model"
    finetune_from = None
    if baseline is not None and settings.mode in ("auto", "finetune"):
        finetune_from = Path(baseline.file)
    mode = "finetune" if finetune_from else "full"
    train_task = asyncio.create_task(
        _run_cmd(
            _training_args(settings, snap, out, finetune_from), settings, run_dir / "train.log"
        )
    )
    result = await validate_task
    if result.returncode == 127 or not result.ok:
        rasacli.stop_all()  # the training (and the live model's evaluation) alongside
        for task in (train_task, baseline_task):
            if task is not None:
                with contextlib.suppress(BaseException):
                    await task
    if result.returncode == 127:
        raise RunFailed(
            f"The Rasa command was not found at {settings.rasa_bin}: create the assistant "
            "environment first (make setup). The live model was not changed."
        )
    if not result.ok:
        raise RunFailed(
            "The training data has problems, so nothing was trained (the live model is "
            "unchanged). `rasa data validate` said:\n" + _validation_problems(result)
        )
    await progress.finish("validate", t_validate)
    t = await progress.start("train")
    await progress.save(mode=mode)
    result = await train_task
    peak = result.peak_rss_kb
    if not result.ok and finetune_from is not None and settings.mode == "auto":
        log_text = result.log.read_text(errors="replace")
        if any(marker in log_text for marker in _FINETUNE_REFUSED):
            mode = "full"
            await progress.save(mode=mode)
            result = await _run_cmd(
                _training_args(settings, snap, out, None), settings, run_dir / "train-full.log"
            )
            peak = max(peak, result.peak_rss_kb)
    candidate_file = out / "candidate.tar.gz"
    if not result.ok or not candidate_file.exists():
        if baseline_task is not None:
            baseline_task.cancel()
        why = "it ran out of time" if result.timed_out else f"exit status {result.returncode}"
        if result.returncode in (-9, 137):
            why = "it was killed (probably out of memory)"
        raise RunFailed(
            f"Training failed ({why}); the live model is unchanged. The end of its output:\n"
            + result.tail(20)
        )
    await progress.finish("train", t, note=f"{mode}, peak memory {peak // 1024} MB")
    await progress.save(peak_rss_kb=peak)

    # A run that promotes starts the candidate's Rasa process now, while it is evaluated
    # (low CPU priority while loading): if the gate passes, the swap only has to switch.
    prepare_task: asyncio.Task[serving.Prepared] | None = None
    if (
        auto_promote
        and not settings.promote_offline
        and serving.live_state(settings.serving_file) is not None
    ):
        early, _, _ = await asyncio.to_thread(history.archive, settings, candidate_file)
        prepare_task = asyncio.create_task(
            serving.prepare(
                settings.serving_file,
                early,
                jwt_secret=settings.rasa_jwt_secret,
                start_timeout=settings.start_timeout_seconds,
            )
        )
    try:
        return await _evaluate_gate_promote(
            settings,
            engine,
            run_id,
            progress,
            run_dir,
            auto_promote,
            by,
            baseline,
            baseline_metrics,
            baseline_task,
            protected,
            candidate_file,
            fingerprints,
            mode,
            peak,
            prepare_task,
        )
    finally:
        await _drop_prepared(prepare_task)


async def _prepared(task: asyncio.Task[serving.Prepared] | None) -> serving.Prepared | None:
    """The process prepared during evaluation, or None if it did not come up."""
    if task is None:
        return None
    try:
        return await task
    except Exception as exc:  # noqa: BLE001 - the swap starts a fresh process instead
        logger.warning("the candidate's Rasa process did not come up early (%s)", exc)
        return None


async def _drop_prepared(task: asyncio.Task[serving.Prepared] | None) -> None:
    """Stop a process prepared for a promotion that did not happen (never the serving one)."""
    if task is None:
        return
    if not task.done():
        task.cancel()
    with contextlib.suppress(BaseException):
        prepared = await task
        await serving.abandon(prepared)


async def _evaluate_gate_promote(
    settings: TrainingSettings,
    engine: AsyncEngine,
    run_id: int,
    progress: Progress,
    run_dir: Path,
    auto_promote: bool,
    by: str,
    baseline: Any,
    baseline_metrics: dict[str, Any] | None,
    baseline_task: asyncio.Task[dict[str, Any]] | None,
    protected: list[str],
    candidate_file: Path,
    fingerprints: dict[str, str],
    mode: str,
    peak: int,
    prepare_task: asyncio.Task[serving.Prepared] | None,
) -> str:
    """Steps 4-6: evaluate the trained candidate, gate it, promote it when asked."""
    snap = run_dir / "snapshot"

    # 4. evaluate the candidate (and finish the live model's evaluation). The test stories are
    # intent-level, so they depend on the dialogue model alone (policies + domain): when that
    # is byte-for-byte the live model's (only NLU data changed and Rasa restored the policies
    # from its training cache), the live model's story result holds and is not run again.
    t = await progress.start("evaluate")
    same_dialogue = baseline is not None and await asyncio.to_thread(
        _same_dialogue, candidate_file, Path(baseline.file)
    )
    if same_dialogue and baseline_task is not None:
        baseline_metrics = await baseline_task
        baseline_task = None
        async with engine.begin() as conn:
            await history.set_metrics(conn, baseline.id, baseline_metrics)  # type: ignore[union-attr]
    carried = (baseline_metrics or {}).get("stories") if same_dialogue else None
    if carried is not None and (baseline_metrics or {}).get("fingerprint") != (
        evaluate.fingerprint(settings, protected)
    ):
        carried = None  # the test stories changed since: run them
    candidate_metrics = await asyncio.to_thread(
        functools.partial(
            evaluate.evaluate,
            settings,
            candidate_file,
            run_dir / "eval-candidate",
            protected,
            stories=carried is None,
        )
    )
    if carried is not None:
        candidate_metrics["stories"] = {
            **carried,
            "carried_over": "same dialogue model as the live one (policies and domain)",
        }
    if baseline_task is not None:
        baseline_metrics = await baseline_task
        async with engine.begin() as conn:
            await history.set_metrics(conn, baseline.id, baseline_metrics)  # type: ignore[union-attr]
    note = "test stories carried over: same dialogue model" if carried is not None else ""
    await progress.finish("evaluate", t, note=note)

    # 5. gate
    t = await progress.start("gate")
    rules = gate.GateRules(
        max_macro_f1_drop=settings.max_macro_f1_drop,
        max_intent_f1_drop=settings.max_intent_f1_drop,
        min_crisis_recall=settings.min_crisis_recall,
        min_intent_error_increase=settings.min_intent_error_increase,
    )
    verdict = gate.check(baseline_metrics, candidate_metrics, rules)
    archived, sha, size = await asyncio.to_thread(history.archive, settings, candidate_file)
    async with engine.begin() as conn:
        known = await history.model_by_sha(conn, sha)
        if known is not None:
            candidate_id = int(known.id)
        else:
            candidate_id = await history.add_model(
                conn,
                file=str(archived),
                sha256=sha,
                size_bytes=size,
                origin="trained",
                trained_by=by,
                run_id=run_id,
                mode=mode,
                fingerprints=fingerprints,
                metrics=candidate_metrics,
                crisis_examples=history.crisis_examples(snap / "data" / "nlu"),
                gate_passed=verdict.passed,
            )
    report = {
        "baseline": baseline_metrics,
        "candidate": candidate_metrics,
        "gate": verdict.as_dict(),
        "intents": gate.intent_deltas(baseline_metrics or {}, candidate_metrics),
        "mode": mode,
        "peak_rss_kb": peak,
    }
    status = "passed" if verdict.passed else "rejected"
    explanation = (
        "The new model passed the quality gate."
        if verdict.passed
        else "The new model did not pass the quality gate, so it was not put live:\n"
        + "\n".join(f"- {r}" for r in verdict.reasons())
    )
    candidate_file.unlink(missing_ok=True)  # archived in models/history
    await progress.finish("gate", t, status="done" if verdict.passed else "failed")
    await progress.save(candidate_id=candidate_id, report=report, explanation=explanation)
    await audit.write(
        engine,
        username=by,
        action="retrain_finished",
        result="ok",
        detail={"run": run_id, "model": candidate_id, "gate_passed": verdict.passed, "mode": mode},
    )

    # 6. promote (optional)
    if auto_promote:
        t = await progress.start("promote")
        if not verdict.passed:
            await progress.finish("promote", t, status="skipped")
        else:
            try:
                await promote.go_live(
                    settings,
                    engine,
                    candidate_id,
                    by=by,
                    action="promote",
                    audit_as="model_promote",
                    offline=settings.promote_offline,
                    prepared=await _prepared(prepare_task),
                )
            except promote.PromotionError as exc:
                await progress.finish("promote", t, status="failed")
                explanation += f"\nIt could not be put live: {exc}"
            else:
                await progress.finish("promote", t)
                explanation += " It is now live."
    await progress.save(
        status=status, finished_at=history.now(), explanation=explanation, step=None
    )
    return status


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
            await history.update_run(
                conn,
                row.id,
                status="failed",
                finished_at=history.now(),
                explanation="The training job stopped before it finished (the process ended or "
                "the machine restarted). The live model was not changed. Start it again.",
            )


def report_of(row: Any) -> dict[str, Any] | None:
    """A run row's report as a dict."""
    return json.loads(row.report) if row is not None and row.report else None
