"""The command line: accounts (no default password), purge, synthetic data; and the app's
environment never imports rasa."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from admissions.db.models import AUDIT_LOG, USERS
from tests.web.conftest import REPO
from tests.web.fixtures import Conversation, write


def cli(settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TRACKER_DB_URL": settings.tracker_db_url,
        "APP_DB_URL": settings.app_db_url,
        "FACILITY_FILE": str(REPO / "facility.yml"),
    }
    return subprocess.run(
        [sys.executable, "-m", "admissions.web.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def users(settings):
    engine = sa.create_engine(settings.app_db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(USERS.c.username, USERS.c.roles, USERS.c.disabled, USERS.c.password_hash)
        ).all()
    engine.dispose()
    return rows


def test_create_user_from_stdin(settings, tracker):
    done = cli(
        settings,
        "create-user",
        "--username",
        "Karen",
        "--role",
        "admissions",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a good long passphrase\n",
    )
    assert done.returncode == 0, done.stderr
    [(name, roles, disabled, stored)] = users(settings)
    assert (name, roles, disabled) == ("karen", "admin,admissions", False)
    assert stored.startswith("$argon2id$") and "passphrase" not in stored
    assert "passphrase" not in done.stdout + done.stderr
    engine = sa.create_engine(settings.app_db_url)
    with engine.connect() as conn:
        row = conn.execute(sa.select(AUDIT_LOG)).one()
    engine.dispose()
    assert row.action == "user_create" and row.username.startswith("cli:")


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["--role", "admissions"], "short\n", "at least 12"),
        (["--role", "admissions"], "\n", "at least 12"),
        (["--role", "boss"], "a good long passphrase\n", "unknown role"),
    ],
)
def test_create_user_refusals(settings, tracker, args, stdin, message):
    done = cli(settings, "create-user", "--username", "k", *args, "--password-stdin", stdin=stdin)
    assert done.returncode != 0
    assert message in done.stderr
    assert users(settings) == []


def test_no_default_password(settings, tracker):
    # without --password-stdin and without a terminal, there is no password to use
    done = cli(settings, "create-user", "--username", "k", "--role", "admin")
    assert done.returncode != 0
    assert users(settings) == []
    sources = "\n".join(p.read_text() for p in (REPO / "admissions" / "web").rglob("*.py"))
    assert "default_password" not in sources.lower()


def test_duplicate_disable_and_reset(settings, tracker):
    assert (
        cli(
            settings,
            "create-user",
            "--username",
            "k",
            "--role",
            "admissions",
            "--password-stdin",
            stdin="a good long passphrase\n",
        ).returncode
        == 0
    )
    dup = cli(
        settings,
        "create-user",
        "--username",
        "K",
        "--role",
        "admissions",
        "--password-stdin",
        stdin="a good long passphrase\n",
    )
    assert dup.returncode != 0 and "taken" in dup.stderr
    assert cli(settings, "disable-user", "--username", "k").returncode == 0
    assert users(settings)[0][2] is True
    assert cli(settings, "enable-user", "--username", "k").returncode == 0
    old = users(settings)[0][3]
    assert (
        cli(
            settings,
            "set-password",
            "--username",
            "k",
            "--password-stdin",
            stdin="another long passphrase\n",
        ).returncode
        == 0
    )
    assert users(settings)[0][3] != old


def test_purge_command(settings, tracker):
    now = time.time()
    write(
        tracker,
        Conversation("old", start=now - 200 * 86400).visitor("x"),
        Conversation("new").visitor("y"),
    )
    dry = cli(settings, "purge", "--dry-run")
    assert dry.returncode == 0 and "would delete 1 expired and 0 forget-me" in dry.stdout
    done = cli(settings, "purge")
    assert done.returncode == 0, done.stderr
    assert "deleted 1 expired and 0 forget-me conversation(s)" in done.stdout
    with tracker.connect() as conn:
        assert conn.exec_driver_sql("select distinct sender_id from events").scalars().all() == [
            "new"
        ]


def test_seed_synthetic(settings, tmp_path):
    done = cli(settings, "seed-synthetic", "--count", "25")
    assert done.returncode == 0, done.stderr
    engine = sa.create_engine(settings.tracker_db_url)
    with engine.connect() as conn:
        assert (
            conn.exec_driver_sql("select count(distinct sender_id) from events").scalar_one() == 25
        )
    engine.dispose()


def test_seed_synthetic_refuses_a_real_tracker_store(settings, tracker):
    write(tracker, Conversation("a-real-visitor").visitor("hello"))
    done = cli(settings, "seed-synthetic", "--count", "5")
    assert done.returncode != 0 and "real conversations" in done.stderr


def test_app_never_imports_rasa():
    code = (
        "import sys, admissions.web.main, admissions.web.cli, admissions.db.summaries;"
        "bad = [m for m in sys.modules if m == 'rasa' or m.startswith('rasa.') or m.startswith('rasa_sdk')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    for path in list((REPO / "admissions" / "web").rglob("*.py")) + list(
        (REPO / "admissions" / "db").rglob("*.py")
    ):
        text = Path(path).read_text()
        assert "import rasa" not in text and "from rasa" not in text, path
