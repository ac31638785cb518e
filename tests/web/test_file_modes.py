"""Transcripts on disk are private (issue 15 #9, the app's part): the SQLite files the app
creates are 0600 in a 0700 folder, and files it finds readable by others are tightened at
start."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from admissions.db.engine import ensure_sqlite_dir
from admissions.web.main import init_app
from tests.web.fixtures import create_tracker_store


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the usual default, under which SQLite creates 0644 files
    yield
    os.umask(old)


async def test_the_app_creates_and_keeps_its_databases_private(
    aiohttp_client, settings, tmp_path, umask_022
):
    var = tmp_path / "var"
    tracker_file, app_file = var / "tracker.db", var / "admissions.db"
    own = dataclasses.replace(
        settings,
        tracker_db_url=f"sqlite:///{tracker_file}",
        app_db_url=f"sqlite:///{app_file}",
    )
    client = await aiohttp_client(init_app(own))
    assert (await client.get("/staff/login")).status == 200
    assert _mode(var) == 0o700
    assert _mode(app_file) == 0o600 and _mode(tracker_file) == 0o600


async def test_files_readable_by_others_are_tightened_at_start(
    aiohttp_client, settings, umask_022, caplog
):
    tracker_file = Path(settings.tracker_db_url.removeprefix("sqlite:///"))
    create_tracker_store(settings.tracker_db_url).dispose()  # as Rasa would, under umask 022
    journal = tracker_file.with_name(tracker_file.name + "-journal")
    journal.write_bytes(b"")
    os.chmod(journal, 0o644)
    assert _mode(tracker_file) == 0o644
    client = await aiohttp_client(init_app(settings))
    assert (await client.get("/staff/login")).status == 200
    assert _mode(tracker_file) == 0o600 and _mode(journal) == 0o600
    assert "readable by other users" in caplog.text


def test_other_urls_are_left_alone(tmp_path):
    ensure_sqlite_dir("sqlite:///:memory:")
    ensure_sqlite_dir("postgresql://u@localhost/db")
    assert list(tmp_path.iterdir()) == []
