"""Fixtures for the staff app: real SQLite databases, the real app, signed-in clients."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from admissions.db import migrate, staff
from admissions.db.engine import create_engine, create_sync_engine, ensure_sqlite_dir
from admissions.db.models import AUDIT_LOG
from admissions.web import auth
from admissions.web.main import init_app
from admissions.web.settings import Settings
from tests.web.fixtures import create_tracker_store

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "a long test password 1"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')

# Argon2 with the production parameters is slow on purpose; tests keep the same algorithm
# (Argon2id) with a cheaper cost so the suite stays quick.
from argon2 import PasswordHasher  # noqa: E402

auth.HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


@pytest.fixture
def pg() -> Iterator[sa.Engine]:
    """The PostgreSQL database named by STAFF_TEST_POSTGRES_URL (``make test-app`` starts a
    scratch server), emptied before and after the test: every table and the audit trigger."""
    engine = create_sync_engine(os.environ["STAFF_TEST_POSTGRES_URL"])

    def drop() -> None:
        with engine.begin() as conn:
            for table in sa.inspect(conn).get_table_names():
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS staff_audit_log_append_only() CASCADE")

    drop()
    yield engine
    drop()
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        app_db_url=f"sqlite:///{tmp_path / 'admissions.db'}",
        facility_file=REPO / "facility.yml",
        retention_interval_minutes=0,
        page_size=50,
    )


@pytest.fixture(autouse=True)
def training_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test app's retraining settings point into tmp: never the repo's data or models.

    No Rasa CLI there and no Rasa server: a retraining started by a test fails at once.
    Tests that need real training data copy it in (see tests/web/test_training_*.py).
    """
    root = tmp_path / "training"
    for name, value in {
        "TRAINING_DATA_DIR": root / "data",
        "LIVE_MODEL": root / "models" / "admissions.tar.gz",
        "MODEL_HISTORY_DIR": root / "models" / "history",
        "TRAINING_WORK_DIR": root / "work",
        "RASA_BIN": root / "no-rasa" / "rasa",
        "RASA_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("RASA_JWT_SECRET", raising=False)
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    return root


@pytest.fixture
def tracker(settings: Settings) -> sa.Engine:
    engine = create_tracker_store(settings.tracker_db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite app database brought to the newest revision by the real migrations, once per
    session: each test's ``app_db`` starts as a copy of it (Alembic costs about 0.3 s a run)."""
    path = tmp_path_factory.mktemp("app-db-template") / "admissions.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def migrated(url: str, template: Path) -> None:
    """Bring the app database at ``url`` to the newest revision: a new SQLite file is made as
    ``migrate.upgrade`` makes it (owner-only) and filled from ``template``; anything else (an
    existing file, PostgreSQL) is migrated for real."""
    database = sa.make_url(url).database
    if not url.startswith("sqlite:///") or not database or Path(database).exists():
        migrate.upgrade(url)
        return
    ensure_sqlite_dir(url)
    source, target = sqlite3.connect(template), sqlite3.connect(database)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


@pytest.fixture
def app_db(settings: Settings, app_db_template: Path) -> sa.Engine:
    migrated(settings.app_db_url, app_db_template)
    engine = create_sync_engine(settings.app_db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_user(settings: Settings, app_db: sa.Engine) -> Callable[..., Awaitable[int]]:
    async def make(username: str, *roles: str, password: str = PASSWORD) -> int:
        engine = create_engine(settings.app_db_url)
        try:
            async with engine.begin() as conn:
                return await staff.create_user(conn, username, auth.hash_password(password), roles)
        finally:
            await engine.dispose()

    return make


@dataclass
class Staff:
    """A signed-in test client and its CSRF token."""

    client: TestClient[Any, Any]
    csrf: str
    username: str

    async def post(self, path: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
        body = {"csrf_token": self.csrf, **(data or {})}
        return await self.client.post(path, data=body, allow_redirects=False, **kw)


async def login(
    client: TestClient[Any, Any], username: str, password: str = PASSWORD, *, enrol: bool = True
) -> Any:
    """Sign in with the form; an account that must set up its second factor (admins) does so
    as a person would (``enrol=False`` stops after the password). Returns the password step's
    response."""
    page = await client.get("/staff/login")
    token = CSRF_RE.search(await page.text())
    assert token, "login form has no CSRF token"
    response = await client.post(
        "/staff/login",
        data={"csrf_token": token.group(1), "username": username, "password": password},
        allow_redirects=False,
    )
    if enrol and response.headers.get("Location", "").startswith("/staff/login/enrol"):
        await enrol_at_sign_in(client, response.headers["Location"])
    return response


async def enrol_at_sign_in(client: TestClient[Any, Any], location: str) -> tuple[str, str]:
    """Set up the second factor on the enrolment page: (the secret, the recovery codes page)."""
    page = await client.get(location)
    text = await page.text()
    secret = SECRET_RE.search(text)
    token = CSRF_RE.search(text)
    assert secret and token, text
    key = secret.group(1).replace(" ", "")
    done = await client.post(
        "/staff/login/enrol",
        data={"csrf_token": token.group(1), "code": pyotp.TOTP(key).now(), "next": "/staff/"},
        allow_redirects=False,
    )
    body = await done.text()
    assert done.status == 200, body
    return key, body


async def session_csrf(client: TestClient[Any, Any]) -> str:
    page = await client.get("/staff/")
    match = CSRF_RE.search(await page.text())
    assert match, "signed-in page has no CSRF token"
    return match.group(1)


@pytest.fixture
def app_factory(settings: Settings, tracker: sa.Engine, app_db: sa.Engine) -> Callable[[], Any]:
    return lambda: init_app(settings)


@pytest.fixture
async def client(aiohttp_client: Any, app_factory: Callable[[], Any]) -> TestClient[Any, Any]:
    return await aiohttp_client(app_factory())


@pytest.fixture
def sign_in(
    aiohttp_client: Any, app_factory: Callable[[], Any], make_user: Callable[..., Awaitable[int]]
) -> Callable[..., Awaitable[Staff]]:
    """Create a user with ``roles`` and return a signed-in client for them (own client each)."""

    async def go(username: str, *roles: str, client: TestClient[Any, Any] | None = None) -> Staff:
        await make_user(username, *roles)
        if client is None:
            client = await aiohttp_client(app_factory())
        response = await login(client, username)
        assert response.status == 303, await response.text()
        return Staff(client=client, csrf=await session_csrf(client), username=username)

    return go


def audit_rows(app_db: sa.Engine, after: int = 0) -> list[Any]:
    with app_db.connect() as conn:
        return list(
            conn.execute(
                sa.select(AUDIT_LOG).where(AUDIT_LOG.c.id > after).order_by(AUDIT_LOG.c.id)
            )
        )


def last_audit_id(app_db: sa.Engine) -> int:
    with app_db.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.coalesce(sa.func.max(AUDIT_LOG.c.id), 0))).scalar_one()
        )


def pytest_configure(config: pytest.Config) -> None:
    # aiohttp-jinja2 stores its per-request context under a plain string key.
    config.addinivalue_line("filterwarnings", "ignore:It is recommended to use web.RequestKey")
