"""Second factor and account rules on PostgreSQL (production's database): enrolment, a code
used once, the code step's throttle, the last-admin rule under its table lock, and a reset."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
import sqlalchemy as sa

from admissions.db import migrate, staff
from admissions.db.engine import create_engine
from admissions.db.models import RECOVERY_CODES, TOTP, USERS
from admissions.web import accounts, auth
from admissions.web.main import init_app
from admissions.web.settings import Settings
from tests.db.test_postgres import URL  # the scratch database; its fixture `pg` is in conftest.py
from tests.web.conftest import PASSWORD, REPO, enrol_at_sign_in, login, session_csrf
from tests.web.fixtures import create_tracker_store
from tests.web.test_second_factor import code_step

pytestmark = pytest.mark.skipif(not URL, reason="set STAFF_TEST_POSTGRES_URL to run on PostgreSQL")


async def test_second_factor_and_last_admin_on_postgres(pg, aiohttp_client, tmp_path):
    settings = Settings(
        tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        app_db_url=URL,
        facility_file=REPO / "facility.yml",
        retention_interval_minutes=0,
    )
    create_tracker_store(settings.tracker_db_url).dispose()
    migrate.upgrade(URL)
    engine = create_engine(URL)
    try:
        async with engine.begin() as conn:
            for name in ("ada", "bob"):
                await staff.create_user(conn, name, auth.hash_password(PASSWORD), ["admin"])
        client = await aiohttp_client(init_app(settings))
        response = await login(client, "ada", enrol=False)
        secret, _ = await enrol_at_sign_in(client, response.headers["Location"])
        await client.post("/staff/logout", data={"csrf_token": await session_csrf(client)})
        await login(client, "ada", enrol=False)
        code = pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=30))
        assert (await code_step(client, code)).status == 303
        await client.post("/staff/logout", data={"csrf_token": await session_csrf(client)})
        await login(client, "ada", enrol=False)
        assert (await code_step(client, code)).status == 401  # used once
        async with engine.connect() as conn:
            assert (
                await conn.execute(sa.select(sa.func.count()).select_from(RECOVERY_CODES))
            ).scalar_one() == 10

        async def disable(target: int, by: int) -> str:
            try:
                async with engine.begin() as conn:
                    await accounts.set_disabled(conn, target, True, by_user_id=by)
                return "ok"
            except accounts.AccountError:
                return "refused"

        # two admins disable each other at once: the table lock keeps one of them active
        results = await asyncio.gather(disable(1, 2), disable(2, 1))
        assert sorted(results) == ["ok", "refused"]
        async with engine.connect() as conn:
            active = (
                await conn.execute(sa.select(sa.func.count()).where(~USERS.c.disabled))
            ).scalar_one()
            assert active == 1
        async with engine.begin() as conn:
            detail = await accounts.reset_second_factor(conn, 1)
        assert detail == {"user": "ada", "had_second_factor": True}
        async with engine.connect() as conn:
            assert (
                await conn.execute(sa.select(sa.func.count()).select_from(TOTP))
            ).scalar_one() == 0
    finally:
        await engine.dispose()
