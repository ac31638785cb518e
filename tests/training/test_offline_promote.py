"""Promotion without a running Rasa server (what `make run` / `make train` use once staff put a
model live through the loop): the live file changes, the history records it, and the marker
that routes later `make run` retrains through the gate names the new live model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from admissions.db import migrate
from admissions.db.engine import create_engine
from admissions.training import go_live_job, history, promote
from admissions.training.settings import TrainingSettings


def _settings(root: Path) -> TrainingSettings:
    return TrainingSettings.from_env(
        {
            "LIVE_MODEL": str(root / "models" / "admissions.tar.gz"),
            "MODEL_HISTORY_DIR": str(root / "models" / "history"),
            "TRAINING_WORK_DIR": str(root / "work"),
            "RASA_URL": "http://127.0.0.1:9",  # nothing listens: offline must not ask it
            "APP_DB_URL": f"sqlite:///{root / 'admissions.db'}",
        }
    )


async def _record(settings: TrainingSettings, engine, file: Path, passed: bool) -> int:
    archived, sha, size = history.archive(settings, file)
    async with engine.begin() as conn:
        return await history.add_model(
            conn,
            file=str(archived),
            sha256=sha,
            size_bytes=size,
            origin="trained",
            trained_by="trainer",
            gate_passed=passed,
        )


def test_offline_promotion_replaces_the_file_and_marks_it_gated(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.live_model.parent.mkdir(parents=True)
    settings.live_model.write_bytes(b"model made by make train")
    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"model that passed the gate")
    migrate.upgrade(settings.app_db_url)

    async def scenario() -> None:
        engine = create_engine(settings.app_db_url)
        try:
            model_id = await _record(settings, engine, candidate, passed=True)
            refused = await _record(settings, engine, tmp_path / "refused.tar.gz", passed=False)
            with pytest.raises(promote.PromotionError, match="did not pass the quality gate"):
                await promote.go_live(settings, engine, refused, by="make", offline=True)
            assert settings.live_model.read_bytes() == b"model made by make train"
            assert not settings.gated_marker.exists()

            await promote.go_live(settings, engine, model_id, by="make", offline=True)
            async with engine.connect() as conn:
                live = await history.live(conn)
            assert live is not None and live.id == model_id
        finally:
            await engine.dispose()

    (tmp_path / "refused.tar.gz").write_bytes(b"model that failed the gate")
    asyncio.run(scenario())
    assert settings.live_model.read_bytes() == b"model that passed the gate"
    assert settings.gated_marker.read_text().strip() == history.sha256_file(settings.live_model)


def test_a_promotion_started_from_the_page_returns_at_once_and_shows_its_progress(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    settings.live_model.parent.mkdir(parents=True)
    settings.live_model.write_bytes(b"model made by make train")
    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"model that passed the gate")
    migrate.upgrade(settings.app_db_url)

    async def scenario() -> None:
        engine = create_engine(settings.app_db_url)
        try:
            model_id = await _record(settings, engine, candidate, passed=True)
            refused = await _record(settings, engine, tmp_path / "refused.tar.gz", passed=False)
            # What can be checked at once is refused at once, and nothing starts.
            with pytest.raises(promote.PromotionError, match="did not pass the quality gate"):
                await go_live_job.start_go_live(
                    settings, engine, refused, by="tina", action="promote", offline=True
                )
            assert go_live_job.go_live_status(settings) is None

            task = await go_live_job.start_go_live(
                settings, engine, model_id, by="tina", action="promote", offline=True
            )
            status = go_live_job.go_live_status(settings)
            assert status is not None and status["state"] == "running"
            assert status["model"] == model_id and status["by"] == "tina"
            await task
            status = go_live_job.go_live_status(settings)
            assert status is not None and status["state"] == "done", status
            async with engine.connect() as conn:
                live = await history.live(conn)
            assert live is not None and live.id == model_id
        finally:
            await engine.dispose()

    (tmp_path / "refused.tar.gz").write_bytes(b"model that failed the gate")
    asyncio.run(scenario())
    assert settings.live_model.read_bytes() == b"model that passed the gate"


def test_two_clicks_at_the_same_moment_start_one_swap_and_keep_its_progress(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    settings.live_model.parent.mkdir(parents=True)
    settings.live_model.write_bytes(b"model made by make train")
    candidate = tmp_path / "candidate.tar.gz"
    candidate.write_bytes(b"model that passed the gate")
    migrate.upgrade(settings.app_db_url)

    async def scenario() -> None:
        engine = create_engine(settings.app_db_url)
        try:
            model_id = await _record(settings, engine, candidate, passed=True)

            def click() -> Any:
                return go_live_job.start_go_live(
                    settings, engine, model_id, by="tina", action="promote", offline=True
                )

            first, second = await asyncio.gather(click(), click(), return_exceptions=True)
            assert isinstance(second, promote.PromotionError), second
            assert "in progress" in str(second)
            status = go_live_job.go_live_status(settings)
            assert status is not None and status["state"] == "running"
            await first
            status = go_live_job.go_live_status(settings)
            assert status is not None and status["state"] == "done", status
        finally:
            await engine.dispose()

    asyncio.run(scenario())
    assert settings.live_model.read_bytes() == b"model that passed the gate"
