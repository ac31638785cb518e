"""Put a model live: load it into the running Rasa server (``PUT /model``, no restart), then
make it the live file for the next start, then record it. Also: adopt a live model trained
outside the app, so it can be compared against and rolled back to.

Order matters for safety: the server loads the new model first. If that fails nothing else
changes — the server keeps serving the old model and ``models/admissions.tar.gz`` stays. Rasa
swaps its agent only after the new one has loaded, so conversations in progress carry on (their
state lives in the tracker store; the lock store is handed over).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.training import history, locks
from admissions.training.rasa_api import RasaError, RasaServer
from admissions.training.settings import TrainingSettings
from admissions.web import audit

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


def server_for(settings: TrainingSettings) -> RasaServer:
    """The Rasa server client with the configured credentials."""
    return RasaServer(
        settings.rasa_url,
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
            again = await history.model_by_sha(conn, sha)
            if again is not None:
                model_id = int(again.id)
            else:
                model_id = await history.add_model(
                    conn,
                    file=str(archived),
                    sha256=sha,
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
) -> Promotion:
    """Promote (gate passed) or roll back to (was live before) model ``model_id``.

    ``audit_as``: write an audit row under this action (CLI and background jobs; web requests
    are audited by their route). ``offline``: no Rasa server is running (``make run`` before it
    starts one): only the live file changes. Raises ``PromotionError`` and changes nothing on
    failure.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with locks.hold(settings.work_dir / "promote.lock"):
            result = await _go_live(
                settings, engine, model_id, by=by, action=action, offline=offline
            )
    except locks.Busy:
        error = PromotionError("Another promotion or rollback is in progress; try again shortly.")
        await _audit(engine, audit_as, by, address, "invalid", model_id, str(error))
        raise error from None
    except PromotionError as exc:
        await _audit(engine, audit_as, by, address, "error", model_id, str(exc))
        raise
    seconds = loop.time() - started
    promotion = Promotion(model_id, result[0], action, seconds, result[1])
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


async def _go_live(
    settings: TrainingSettings,
    engine: AsyncEngine,
    model_id: int,
    *,
    by: str,
    action: str,
    offline: bool = False,
) -> tuple[int | None, str | None]:
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
    loaded = ""
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
    await asyncio.to_thread(history.copy_atomic, path, settings.live_model)
    # From now on `make run` / `make train` retrain this installation through the gate too.
    await asyncio.to_thread(settings.gated_marker.write_text, model.sha256 + "\n")
    async with engine.begin() as conn:
        await history.add_event(conn, model_id, action, by, current.id if current else None)
    return (current.id if current else None), loaded or None
