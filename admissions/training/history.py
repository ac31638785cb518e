"""Model history and training runs in the app database; model files under ``models/history``.

Every model the app trains, and every live model it finds that it did not train (``make
train``), is copied to ``models/history/<time>-<sha12>.tar.gz`` and recorded with its SHA-256,
evaluation metrics, who trained it and when. Which model is live is the latest row of
``staff_model_events`` (promote, rollback or adopt), checked against the live file's hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from admissions.db.models import MODEL_EVENTS, MODELS, TRAINING_RUNS
from admissions.training.nludata import load_blocks
from admissions.training.rasa_process import alive
from admissions.training.settings import TrainingSettings

ACTIVE_STATUSES = ("queued", "running")
FINISHED_STATUSES = ("passed", "rejected", "failed", "refused")


def now() -> datetime:
    """Timezone-aware UTC now."""
    return datetime.now(timezone.utc)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def copy_atomic(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` so readers only ever see the old or the whole new file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def archive(settings: TrainingSettings, source: Path) -> tuple[Path, str, int]:
    """Copy a model archive into the history folder; returns (path, sha256, size)."""
    sha = sha256_file(source)
    existing = sorted(settings.history_dir.glob(f"*-{sha[:12]}.tar.gz"))
    for path in existing:
        if sha256_file(path) == sha:
            return path, sha, path.stat().st_size
    stamp = now().strftime("%Y%m%dT%H%M%SZ")
    target = settings.history_dir / f"{stamp}-{sha[:12]}.tar.gz"
    copy_atomic(source, target)
    return target, sha, target.stat().st_size


def crisis_examples(nlu_dir: Path, intent: str = "crisis") -> list[str]:
    """The examples labelled ``crisis`` in a training data folder."""
    return sorted({t for b in load_blocks(nlu_dir) if b.intent == intent for t in b.examples})


def loads(text: str | None) -> Any:
    """JSON column to value (None stays None)."""
    return json.loads(text) if text else None


# ----- models ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LiveModel:
    """The live model as the database records it."""

    id: int
    sha256: str
    file: str
    event_at: datetime


async def live(conn: AsyncConnection) -> LiveModel | None:
    """The model of the latest promote/rollback/adopt event."""
    e, m = MODEL_EVENTS, MODELS
    row = (
        await conn.execute(
            sa.select(m.c.id, m.c.sha256, m.c.file, e.c.at)
            .join(m, m.c.id == e.c.model_id)
            .order_by(e.c.id.desc())
            .limit(1)
        )
    ).first()
    return LiveModel(row.id, row.sha256, row.file, row.at) if row else None


async def prune_files(
    conn: AsyncConnection, *, older_than: datetime, trained_since: datetime | None = None
) -> list[str]:
    """Delete the files of models that are not live and were made before ``older_than`` (their
    data may hold expired conversations) or since ``trained_since`` (they may hold a forgotten
    visitor's sentence); their rows stay as history. Returns the file names deleted."""
    current = await live(conn)
    condition = MODELS.c.created_at < older_than
    if trained_since is not None:
        condition = sa.or_(condition, MODELS.c.created_at >= trained_since)
    rows = await conn.execute(sa.select(MODELS.c.id, MODELS.c.file).where(condition))
    deleted = []
    for row in rows:
        path = Path(row.file)
        if (current is not None and row.id == current.id) or not path.is_file():
            continue
        path.unlink()
        deleted.append(path.name)
    return deleted


async def get_model(conn: AsyncConnection, model_id: int) -> sa.Row[Any] | None:
    """One model row."""
    return (await conn.execute(sa.select(MODELS).where(MODELS.c.id == model_id))).first()


async def model_by_sha(conn: AsyncConnection, sha: str) -> sa.Row[Any] | None:
    """The model row with this archive hash."""
    return (await conn.execute(sa.select(MODELS).where(MODELS.c.sha256 == sha))).first()


async def add_model(conn: AsyncConnection, **values: Any) -> int:
    """Record a model; JSON columns may be given as values."""
    for key in ("fingerprints", "metrics", "crisis_examples"):
        if key in values and not isinstance(values[key], (str, type(None))):
            values[key] = json.dumps(values[key], sort_keys=True)
    values.setdefault("created_at", now())
    result = await conn.execute(MODELS.insert().values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def register_model(conn: AsyncConnection, *, sha256: str, **values: Any) -> int:
    """The id of the model with this archive hash; recorded first (``add_model``) if new."""
    known = await model_by_sha(conn, sha256)
    if known is not None:
        return int(known.id)
    return await add_model(conn, sha256=sha256, **values)


async def set_metrics(conn: AsyncConnection, model_id: int, metrics: dict[str, Any]) -> None:
    """Store (or refresh) a model's evaluation."""
    await conn.execute(
        sa.update(MODELS)
        .where(MODELS.c.id == model_id)
        .values(metrics=json.dumps(metrics, sort_keys=True))
    )


async def add_event(
    conn: AsyncConnection, model_id: int, action: str, by: str, previous_id: int | None
) -> None:
    """Record that a model went live."""
    await conn.execute(
        MODEL_EVENTS.insert().values(
            model_id=model_id, action=action, by=by[:64], previous_id=previous_id, at=now()
        )
    )


async def list_models(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every model, newest first, with its last promotion and whether it was ever live."""
    models = list(await conn.execute(sa.select(MODELS).order_by(MODELS.c.id.desc())))
    events = list(await conn.execute(sa.select(MODEL_EVENTS).order_by(MODEL_EVENTS.c.id)))
    current = events[-1].model_id if events else None
    out = []
    for row in models:
        mine = [e for e in events if e.model_id == row.id]
        last = mine[-1] if mine else None
        out.append(
            {
                "row": row,
                "metrics": loads(row.metrics),
                "live": row.id == current,
                "was_live": bool(mine),
                "went_live_at": last.at if last else None,
                "went_live_by": last.by if last else None,
                "went_live_how": last.action if last else None,
            }
        )
    return out


async def model_events(conn: AsyncConnection, limit: int = 50) -> list[sa.Row[Any]]:
    """Recent promote / rollback / adopt events, newest first."""
    e = MODEL_EVENTS
    return list(await conn.execute(sa.select(e).order_by(e.c.id.desc()).limit(limit)))


# ----- runs -----------------------------------------------------------------------------------
async def create_run(conn: AsyncConnection, requested_by: str, auto_promote: bool) -> int:
    """A queued training run."""
    result = await conn.execute(
        TRAINING_RUNS.insert().values(
            requested_by=requested_by[:64],
            requested_at=now(),
            status="queued",
            auto_promote=auto_promote,
            steps="[]",
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def get_run(conn: AsyncConnection, run_id: int) -> sa.Row[Any] | None:
    """One run."""
    return (
        await conn.execute(sa.select(TRAINING_RUNS).where(TRAINING_RUNS.c.id == run_id))
    ).first()


async def update_run(conn: AsyncConnection, run_id: int, **values: Any) -> None:
    """Change a run (JSON columns may be given as values)."""
    for key in ("steps", "report"):
        if key in values and not isinstance(values[key], (str, type(None))):
            values[key] = json.dumps(values[key], sort_keys=True)
    await conn.execute(
        sa.update(TRAINING_RUNS).where(TRAINING_RUNS.c.id == run_id).values(**values)
    )


async def fail_run(
    conn: AsyncConnection, run_id: int, explanation: str, status: str = "failed", **values: Any
) -> None:
    """Finish a run that did not get to the gate: ``failed`` (or ``refused``), and why."""
    await update_run(
        conn, run_id, status=status, finished_at=now(), explanation=explanation, **values
    )


async def list_runs(conn: AsyncConnection, limit: int = 50) -> list[sa.Row[Any]]:
    """Recent runs, newest first."""
    t = TRAINING_RUNS
    return list(await conn.execute(sa.select(t).order_by(t.c.id.desc()).limit(limit)))


async def active_runs(conn: AsyncConnection) -> list[sa.Row[Any]]:
    """Runs queued or running."""
    t = TRAINING_RUNS
    return list(await conn.execute(sa.select(t).where(t.c.status.in_(ACTIVE_STATUSES))))


def process_alive(pid: int | None) -> bool:
    """Whether a process with this id runs (a run's training job; a zombie has ended)."""
    return alive(pid)
