"""Put a model live without making a visitor wait, roll back the same way, and adopt a live
model trained outside the app.

A swap starts the model in a **second Rasa process** that shares the tracker store, checks it
with a smoke conversation (a crisis message must get the crisis reply), switches the chat
proxy to it and lets the old process drain before stopping it (``serving.swap``). Only then
is it recorded live and copied to ``models/admissions.tar.gz`` (so a restart keeps it). If the
new process does not come up healthy, nothing changes: the old one keeps serving.

Without a serving file (a Rasa server this app did not start) the old way remains: ``PUT
/model`` on that server, which pauses its conversations while the model loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db import audit
from admissions.training import history, locks, serving
from admissions.training.rasa_api import RasaError, RasaServer
from admissions.training.settings import TrainingSettings

logger = logging.getLogger(__name__)

ADOPTED_BY = "outside the app"


class PromotionError(RuntimeError):
    """Why a model could not go live (plain words; nothing was changed)."""


@dataclass(frozen=True)
class Promotion:
    """What a promotion or rollback did."""

    model_id: int
    previous_id: int | None
    action: str
    seconds: float
    server_model_file: str | None
    seconds_to_switch: float | None = None  # when new turns went to the new process


def server_for(settings: TrainingSettings) -> RasaServer:
    """The serving Rasa server (from the serving file, else ``RASA_URL``), authenticated."""
    return RasaServer(
        serving.current_url(settings.serving_file, settings.rasa_url),
        jwt_secret=settings.rasa_jwt_secret,
        auth_token=settings.rasa_auth_token,
    )


async def adopt_live(settings: TrainingSettings, engine: AsyncEngine) -> int | None:
    """Make sure the live model file is in the history; returns its model id (None: no file).

    A live file the database does not know (first use, or ``make train`` since) is archived
    and recorded as adopted, with the crisis examples of the current data as its protected set.
    """
    path = settings.live_model
    if not path.exists():
        return None
    sha = await asyncio.to_thread(history.sha256_file, path)
    async with engine.begin() as conn:
        current = await history.live(conn)
        if current is not None and current.sha256 == sha:
            return current.id
        known = await history.model_by_sha(conn, sha)
    if known is not None:
        model_id = int(known.id)
    else:
        archived, sha, size = await asyncio.to_thread(history.archive, settings, path)
        protected = history.crisis_examples(settings.nlu_dir)
        async with engine.begin() as conn:
            model_id = await history.register_model(
                conn,
                sha256=sha,
                file=str(archived),
                size_bytes=size,
                origin="adopted",
                trained_by=ADOPTED_BY,
                crisis_examples=protected,
            )
    async with engine.begin() as conn:
        current = await history.live(conn)
        if current is None or current.id != model_id:
            await history.add_event(
                conn, model_id, "adopt", ADOPTED_BY, current.id if current else None
            )
    return model_id


async def go_live(
    settings: TrainingSettings,
    engine: AsyncEngine,
    model_id: int,
    *,
    by: str,
    action: str = "promote",
    audit_as: str | None = None,
    address: str | None = None,
    offline: bool = False,
    prepared: serving.Prepared | None = None,
) -> Promotion:
    """Promote (gate passed) or roll back to (was live before) model ``model_id``.

    ``audit_as``: write an audit row under this action (CLI and background jobs; web requests
    are audited by their route). ``offline``: no Rasa server is running (``make run`` before it
    starts one): only the live file changes. Raises ``PromotionError`` and changes nothing on
    failure. ``prepared``: a Rasa process that already loaded this model (the retraining
    runner starts it during evaluation); used if it still runs, stopped on failure.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with locks.hold(lock_path(settings)):
            result = await _go_live(
                settings,
                engine,
                model_id,
                by=by,
                action=action,
                offline=offline,
                prepared=prepared,
            )
    except BaseException as exc:
        if prepared is not None:  # not put in service: stop it (never the serving one)
            await serving.abandon(prepared)
        if isinstance(exc, locks.Busy):
            error = PromotionError(
                "Another promotion or rollback is in progress; try again shortly."
            )
            await _audit(engine, audit_as, by, address, "invalid", model_id, str(error))
            raise error from None
        if isinstance(exc, PromotionError):
            await _audit(engine, audit_as, by, address, "error", model_id, str(exc))
        raise
    seconds = loop.time() - started
    promotion = Promotion(model_id, result[0], action, seconds, result[1], result[2])
    await _audit(engine, audit_as, by, address, "ok", model_id, None, promotion)
    return promotion


async def _audit(
    engine: AsyncEngine,
    action: str | None,
    by: str,
    address: str | None,
    result: str,
    model_id: int,
    error: str | None,
    promotion: Promotion | None = None,
) -> None:
    if action is None:
        return
    detail: dict[str, object] = {"model": model_id}
    if promotion is not None:
        detail.update(previous=promotion.previous_id, seconds=round(promotion.seconds, 1))
    if error:
        detail["error"] = error[:300]
    await audit.write(
        engine, username=by, action=action, result=result, address=address, detail=detail
    )


async def check(
    settings: TrainingSettings, engine: AsyncEngine, model_id: int, action: str
) -> tuple[Any, history.LiveModel | None]:
    """Whether model ``model_id`` may go live by ``action``: (its row, the live model), or
    ``PromotionError`` saying why not. Quick: no Rasa server is asked anything."""
    if action not in ("promote", "rollback"):
        raise PromotionError(f"unknown action {action!r}")
    await adopt_live(settings, engine)
    async with engine.connect() as conn:
        model = await history.get_model(conn, model_id)
        current = await history.live(conn)
        was_live = any(e.model_id == model_id for e in await history.model_events(conn, 10_000))
    if model is None:
        raise PromotionError("There is no such model.")
    if current is not None and current.id == model_id:
        raise PromotionError("That model is already live.")
    if action == "promote" and not model.gate_passed:
        raise PromotionError(
            "This model did not pass the quality gate, so it cannot be promoted. "
            "Fix the training data and retrain."
        )
    if action == "rollback" and not was_live:
        raise PromotionError(
            "Only a model that was live before can be rolled back to; promote new models instead."
        )
    path = Path(model.file)
    if not path.exists():
        raise PromotionError(f"The model file {path.name} is missing from {path.parent}.")
    if await asyncio.to_thread(history.sha256_file, path) != model.sha256:
        raise PromotionError(f"The model file {path.name} has changed since it was recorded.")
    return model, current


async def _go_live(
    settings: TrainingSettings,
    engine: AsyncEngine,
    model_id: int,
    *,
    by: str,
    action: str,
    offline: bool = False,
    prepared: serving.Prepared | None = None,
) -> tuple[int | None, str | None, float | None]:
    model, current = await check(settings, engine, model_id, action)
    path = Path(model.file)
    loaded = ""
    switched: float | None = None
    previous = current.id if current else None

    async def record() -> None:
        await asyncio.to_thread(history.copy_atomic, path, settings.live_model)
        # From now on `make run` / `make train` retrain this installation through the gate too.
        await asyncio.to_thread(settings.gated_marker.write_text, model.sha256 + "\n")
        async with engine.begin() as conn:
            await history.add_event(conn, model_id, action, by, previous)

    if not offline and serving.live_state(settings.serving_file) is not None:
        try:
            swap = await serving.swap(
                settings.serving_file,
                path,
                jwt_secret=settings.rasa_jwt_secret,
                tracker_db_url=settings.tracker_db_url,
                drain_seconds=settings.drain_seconds,
                start_timeout=settings.start_timeout_seconds,
                on_switch=record,
                prepared=prepared,
                load_nice=load_nice(settings),
            )
        except serving.SwapError as exc:
            raise PromotionError(
                f"The new Rasa server did not come up healthy, so the live model is "
                f"unchanged: {exc}."
            ) from None
        return previous, path.name, swap.seconds_to_switch
    if not offline:
        server = server_for(settings)
        try:
            await server.load_model(str(path.resolve()))
            status = await server.status()
        except RasaError as exc:
            raise PromotionError(
                f"The Rasa server did not load the model, so the live model is unchanged: {exc}."
            ) from None
        loaded = str(status.get("model_file") or "")
        if loaded and Path(loaded).name != path.name:
            raise PromotionError(
                f"The Rasa server reports model {Path(loaded).name} after loading {path.name}."
            )
    await record()
    return previous, loaded or None, switched


# ----- a candidate's process prepared while it is evaluated -----------------------------------
def prepare_early(settings: TrainingSettings, candidate: Path) -> asyncio.Task[serving.Prepared]:
    """Start the candidate's Rasa process now, in the background (idle scheduling class while
    it loads): if the gate passes, the swap only has to switch. The file is archived first, so
    the process loads the file that will be recorded."""

    async def prepare() -> serving.Prepared:
        early, _, _ = await asyncio.to_thread(history.archive, settings, candidate)
        return await serving.prepare(
            settings.serving_file,
            early,
            jwt_secret=settings.rasa_jwt_secret,
            start_timeout=settings.start_timeout_seconds,
            load_nice=load_nice(settings),
        )

    return asyncio.create_task(prepare())


async def prepared_or_none(task: asyncio.Task[serving.Prepared] | None) -> serving.Prepared | None:
    """The process prepared early, or None if it did not come up (the swap starts one)."""
    if task is None:
        return None
    try:
        return await task
    except Exception as exc:  # noqa: BLE001 - the swap starts a fresh process instead
        logger.warning("the candidate's Rasa process did not come up early (%s)", exc)
        return None


async def drop_prepared(task: asyncio.Task[serving.Prepared] | None) -> None:
    """Stop a process prepared for a promotion that did not happen (never the serving one)."""
    if task is None:
        return
    if not task.done():
        task.cancel()
    with contextlib.suppress(BaseException):
        prepared = await task
        await serving.abandon(prepared)


def load_nice(settings: TrainingSettings) -> int:
    """How a swapped-in Rasa process loads: in the idle class and paused during chat turns,
    as the retraining's own commands run (``TRAINING_NICE``, default 19); with
    ``TRAINING_NICE=0`` (the end-to-end tests inside `make test`, whose other suites would
    keep an idle-class load waiting for minutes) at normal priority."""
    return serving.LOAD_NICE if settings.nice > 0 else 0


def lock_path(settings: TrainingSettings) -> Path:
    """Held while a promotion or rollback swaps the serving model."""
    return settings.work_dir / "promote.lock"
