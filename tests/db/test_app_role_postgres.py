"""Issue 15 #10 on a real PostgreSQL: the app's own role cannot erase the audit trail.

The table owner can drop the append-only triggers and delete audit rows (shown first, as the
weakness). ``scripts/pg_app_role.py`` gives the app a role with INSERT/SELECT only on
``staff_audit_log``: that role still runs the app (migration check at start, audit rows, other
tables), but DELETE, UPDATE, TRUNCATE, dropping or disabling the triggers, and dropping the
table are all refused. Runs when ``STAFF_TEST_POSTGRES_URL`` names a scratch database on a
server where it may create roles (``make test-app`` starts one: scripts/pg-scratch.sh).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from admissions.db import audit, migrate
from admissions.db.engine import create_engine, create_sync_engine
from admissions.db.models import AUDIT_LOG

URL = os.environ.get("STAFF_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set STAFF_TEST_POSTGRES_URL to run on PostgreSQL")
ROOT = Path(__file__).resolve().parents[2]
OWNER, APP = "adm_test_owner", "adm_test_app"


def as_role(role: str) -> str:
    return sa.engine.make_url(URL).set(username=role).render_as_string(hide_password=False)


@pytest.fixture
def roles() -> Iterator[sa.Engine]:
    """An owner role that ran the migrations and an app role that owns nothing (trust auth)."""
    admin = create_sync_engine(URL)

    def drop() -> None:
        with admin.begin() as conn:
            for role in (APP, OWNER):
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
                ).first()
                if exists:
                    conn.exec_driver_sql(f"DROP OWNED BY {role} CASCADE")
                    conn.exec_driver_sql(f"DROP ROLE {role}")

    drop()
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {OWNER} LOGIN")
        conn.exec_driver_sql(f"CREATE ROLE {APP} LOGIN")
        conn.exec_driver_sql(f"GRANT CREATE, USAGE ON SCHEMA public TO {OWNER}")
    migrate.upgrade(as_role(OWNER))
    yield admin
    drop()
    admin.dispose()


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pg_app_role.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def add_audit_row(url: str, action: str) -> None:
    engine = create_engine(url)
    try:
        await audit.write(engine, username="karen", action=action, result="ok")
    finally:
        await engine.dispose()


def refused(engine: sa.Engine, statement: str) -> str:
    """Run ``statement``; return PostgreSQL's refusal (fails the test if it succeeds)."""
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as conn:
        conn.exec_driver_sql(statement)
    return str(caught.value.orig)


async def test_the_owner_can_erase_the_audit_trail(roles: sa.Engine) -> None:
    """The weakness: whoever owns the table can drop the triggers, then delete."""
    await add_audit_row(as_role(OWNER), "view")
    owner = create_sync_engine(as_role(OWNER))
    try:
        with owner.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER staff_audit_log_no_change ON staff_audit_log")
            assert conn.execute(AUDIT_LOG.delete()).rowcount == 1
    finally:
        owner.dispose()


async def test_the_app_role_can_only_add_and_read_audit_rows(roles: sa.Engine) -> None:
    done = run_script(APP, "--url", as_role(OWNER))
    assert done.returncode == 0, done.stderr
    assert f"{APP}: SELECT, INSERT on staff_audit_log" in done.stdout
    assert f"{APP}: SELECT on staff_alembic_version" in done.stdout

    app_url = as_role(APP)
    migrate.upgrade(app_url)  # the app's start-up check passes: already at head
    await add_audit_row(app_url, "view")
    app = create_sync_engine(app_url)
    try:
        with app.begin() as conn:  # the app's other work still runs
            assert conn.execute(sa.select(sa.func.count()).select_from(AUDIT_LOG)).scalar() == 1
            conn.exec_driver_sql(
                "INSERT INTO staff_notes (conversation_id, author, body, created_at) "
                "VALUES ('c1', 'karen', 'called back', now())"
            )
            conn.exec_driver_sql("DELETE FROM staff_notes WHERE conversation_id = 'c1'")
        for statement in (
            "DELETE FROM staff_audit_log",
            "UPDATE staff_audit_log SET result = 'ok'",
            "TRUNCATE staff_audit_log",
        ):
            assert "permission denied" in refused(app, statement)
        for statement in (
            "DROP TRIGGER staff_audit_log_no_change ON staff_audit_log",
            "DROP TRIGGER staff_audit_log_no_truncate ON staff_audit_log",
            "ALTER TABLE staff_audit_log DISABLE TRIGGER ALL",
            "DROP TABLE staff_audit_log",
            "DROP FUNCTION staff_audit_log_append_only() CASCADE",
            "UPDATE staff_alembic_version SET version_num = '0001'",
        ):
            message = refused(app, statement)
            assert "must be owner" in message or "permission denied" in message, message
    finally:
        app.dispose()
    with roles.connect() as conn:  # the row is still there, and its triggers
        assert conn.execute(sa.select(sa.func.count()).select_from(AUDIT_LOG)).scalar() == 1
        triggers = conn.execute(
            sa.text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'staff_audit_log'::regclass")
        ).scalars()
        assert {"staff_audit_log_no_change", "staff_audit_log_no_truncate"} <= set(triggers)


def test_the_script_refuses_unsafe_roles(roles: sa.Engine) -> None:
    assert "superuser" in run_script("postgres", "--url", as_role(OWNER)).stderr
    assert "does not exist" in run_script("nobody_here", "--url", as_role(OWNER)).stderr
    assert "another role" in run_script(OWNER, "--url", as_role(OWNER)).stderr
    assert "plain SQL name" in run_script("x; DROP TABLE y", "--url", as_role(OWNER)).stderr
