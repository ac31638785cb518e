"""Sign-in throttling under a real race: simultaneous wrong passwords through the real app,
the cap on Argon2 checks running at once, and the limit on the change-password form."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import DummyCookieJar

from admissions.db.models import USERS
from admissions.web import auth
from admissions.web.main import init_app
from admissions.web.middlewares import LOGIN_CSRF_COOKIE
from tests.web.conftest import CSRF_RE, PASSWORD, audit_rows

RACERS = 40


class CountingVerify:
    """Wraps ``auth._verify``: how many checks ran, and the most that ran at once."""

    def __init__(self, real: Any, pause: float = 0.0) -> None:
        self.real = real
        self.pause = pause
        self.calls = 0
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, stored: str | None, password: str) -> bool:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            if self.pause:
                time.sleep(self.pause)
            return bool(self.real(stored, password))
        finally:
            with self.lock:
                self.running -= 1


async def _login_form(client: Any) -> tuple[dict[str, str], dict[str, str]]:
    """A sign-in form's CSRF token and the cookie header that goes with it.

    Sent explicitly with every attempt: each refusal renders a fresh form with a new token,
    and a shared cookie jar would swap tokens under requests still in flight.
    """
    page = await client.get("/staff/login")
    match = CSRF_RE.search(await page.text())
    assert match
    cookie = page.cookies[LOGIN_CSRF_COOKIE].value
    return {"csrf_token": match.group(1)}, {"Cookie": f"{LOGIN_CSRF_COOKIE}={cookie}"}


async def _race_logins(client: Any, usernames: list[str], password: str) -> list[int]:
    form, cookie = await _login_form(client)

    async def one(username: str) -> int:
        response = await client.post(
            "/staff/login",
            data={**form, "username": username, "password": password},
            headers=cookie,
            allow_redirects=False,
        )
        await response.read()
        return response.status

    return list(await asyncio.gather(*(one(name) for name in usernames)))


@pytest.fixture
async def client(aiohttp_client: Any, app_factory: Any) -> Any:
    """A client without a cookie jar: every attempt carries its cookies explicitly."""
    return await aiohttp_client(app_factory(), cookie_jar=DummyCookieJar())


async def test_forty_simultaneous_wrong_passwords_check_only_five(
    client, make_user, app_db, monkeypatch
):
    await make_user("karen", "admissions")
    counter = CountingVerify(auth._verify, pause=0.02)
    monkeypatch.setattr(auth, "_verify", counter)
    statuses = await _race_logins(client, ["karen"] * RACERS, "a wrong guess")
    assert Counter(statuses) == {401: 5, 429: RACERS - 5}
    assert counter.calls == 5  # the other 35 never reached Argon2
    # and the account stays locked for the right password too
    assert await _race_logins(client, ["karen"], PASSWORD) == [429]
    results = Counter(r.result for r in audit_rows(app_db) if r.action == "login")
    assert results == {"denied": 5, "throttled": RACERS - 5 + 1}


async def test_simultaneous_guesses_at_many_accounts_are_limited_per_address(
    client, make_user, monkeypatch
):
    counter = CountingVerify(auth._verify, pause=0.02)
    monkeypatch.setattr(auth, "_verify", counter)
    names = [f"user{i}" for i in range(RACERS)]
    statuses = await _race_logins(client, names, "a wrong guess")
    assert Counter(statuses) == {401: 20, 429: RACERS - 20}
    assert counter.calls == 20


async def test_password_checks_are_capped_at_once(
    aiohttp_client, settings, tracker, app_db, make_user, monkeypatch
):
    # Many addresses guessing at once (a trusted proxy tells them apart): each is under its
    # limit, yet no more than two Argon2 checks ever run together.
    app = init_app(dataclasses.replace(settings, trust_proxy=True, password_checks=2))
    client = await aiohttp_client(app, cookie_jar=DummyCookieJar())
    counter = CountingVerify(auth._verify, pause=0.05)
    monkeypatch.setattr(auth, "_verify", counter)
    form, cookie = await _login_form(client)

    async def one(i: int) -> int:
        response = await client.post(
            "/staff/login",
            data={**form, "username": f"user{i}", "password": "a wrong guess"},
            headers={**cookie, "X-Forwarded-For": f"198.51.100.{i + 1}"},
            allow_redirects=False,
        )
        await response.read()
        return response.status

    statuses = await asyncio.gather(*(one(i) for i in range(RACERS)))
    assert set(statuses) == {401}
    assert counter.calls == RACERS
    assert counter.most <= 2


async def test_a_flood_past_the_wait_is_refused_as_busy(
    aiohttp_client, settings, tracker, app_db, monkeypatch
):
    app = init_app(
        dataclasses.replace(
            settings, trust_proxy=True, password_checks=1, password_check_wait_seconds=0.1
        )
    )
    client = await aiohttp_client(app, cookie_jar=DummyCookieJar())
    monkeypatch.setattr(auth, "_verify", CountingVerify(auth._verify, pause=0.3))
    form, cookie = await _login_form(client)

    async def one(i: int) -> Any:
        response = await client.post(
            "/staff/login",
            data={**form, "username": f"user{i}", "password": "guess"},
            headers={**cookie, "X-Forwarded-For": f"198.51.100.{i + 1}"},
            allow_redirects=False,
        )
        await response.read()
        return response

    responses = await asyncio.gather(*(one(i) for i in range(4)))
    statuses = Counter(r.status for r in responses)
    assert statuses[401] >= 1 and statuses[503] >= 1
    busy = next(r for r in responses if r.status == 503)
    assert int(busy.headers["Retry-After"]) >= 1
    assert "Try again in a moment" in await busy.text()


async def _password_form(staff: Any) -> None:
    page = await staff.client.get("/staff/password")
    assert page.status == 200


async def test_change_password_is_throttled(sign_in, app_db, monkeypatch):
    staff = await sign_in("karen", "admissions")
    await _password_form(staff)
    new = "a brand new password 2"
    for _ in range(5):
        wrong = await staff.post(
            "/staff/password", {"current": "a guess", "new": new, "again": new}
        )
        assert wrong.status == 400
    # now even the right current password is refused for a while
    right = await staff.post("/staff/password", {"current": PASSWORD, "new": new, "again": new})
    assert right.status == 429
    assert "Too many wrong passwords" in await right.text()
    with app_db.connect() as conn:
        stored = conn.execute(sa.select(USERS.c.password_hash)).scalar_one()
    assert auth.HASHER.verify(stored, PASSWORD)  # unchanged
    assert audit_rows(app_db)[-1].result == "throttled"


async def test_forty_simultaneous_current_password_guesses_check_only_five(sign_in, monkeypatch):
    staff = await sign_in("karen", "admissions")
    counter = CountingVerify(auth._verify, pause=0.02)
    monkeypatch.setattr(auth, "_verify", counter)
    new = "a brand new password 2"

    async def one() -> int:
        response = await staff.post(
            "/staff/password", {"current": "a guess", "new": new, "again": new}
        )
        await response.read()
        return response.status

    statuses = await asyncio.gather(*(one() for _ in range(RACERS)))
    assert Counter(statuses) == {400: 5, 429: RACERS - 5}
    assert counter.calls == 5
