"""TOTP as a second factor (issue 15 item 16): required for admins, configurable for other roles,
set up at the next sign-in with the QR code as inline SVG, one-time recovery codes stored hashed,
codes used once, the code step throttled like passwords, every enrolment, use and reset audited.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
import sqlalchemy as sa

from admissions.db.models import PENDING_SIGNINS, RECOVERY_CODES, SESSIONS, TOTP
from admissions.web import security, totp
from admissions.web.main import init_app
from admissions.web.settings import Settings
from tests.web.conftest import (
    CSRF_RE,
    PASSWORD,
    audit_rows,
    enrol_at_sign_in,
    last_audit_id,
    login,
    session_csrf,
)
from tests.web.test_cli import cli

CODES_RE = re.compile(r"<code class=\"code\">([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code>")


async def code_step(client, code: str, next_url: str = "/staff/"):
    page = await client.get("/staff/login/code", allow_redirects=False)
    assert page.status == 200, page.headers.get("Location")
    token = CSRF_RE.search(await page.text()).group(1)
    return await client.post(
        "/staff/login/code",
        data={"csrf_token": token, "code": code, "next": next_url},
        allow_redirects=False,
    )


async def enrolled_admin(client, make_user, name="ada"):
    """An admin who signed in once and set up the factor: (secret, recovery codes)."""
    await make_user(name, "admin")
    response = await login(client, name, enrol=False)
    secret, page = await enrol_at_sign_in(client, response.headers["Location"])
    await client.post(
        "/staff/logout", data={"csrf_token": await session_csrf(client)}, allow_redirects=False
    )
    return secret, CODES_RE.findall(page)


def next_code(secret: str) -> str:
    """The next step's code (accepted for clock drift), newer than the one used to enrol."""
    return pyotp.TOTP(secret).at(datetime.now(timezone.utc) + timedelta(seconds=30))


async def test_an_admin_without_a_second_factor_sets_one_up_at_sign_in(client, make_user, app_db):
    await make_user("ada", "admin")
    before = last_audit_id(app_db)
    response = await login(client, "ada", enrol=False)
    assert response.status == 303
    assert response.headers["Location"] == "/staff/login/enrol?next=%2Fstaff%2F"
    assert "staff_session" not in response.cookies  # no session before the second factor
    assert (await client.get("/staff/users", allow_redirects=False)).status == 302

    page = await client.get(response.headers["Location"])
    html = await page.text()
    assert page.headers["Content-Security-Policy"] == security.STAFF_CSP
    assert "<script" not in html and "https://" not in html  # nothing from elsewhere
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert svg == totp.qr_svg(totp.provisioning_uri(secret, "ada", "Harbor Light Recovery Center"))
    assert "style=" not in svg  # CSP: no inline styles, presentation attributes only
    token = CSRF_RE.search(html).group(1)

    wrong = await client.post(
        "/staff/login/enrol",
        data={"csrf_token": token, "code": "000000", "next": "/staff/"},
        allow_redirects=False,
    )
    assert wrong.status == 400 and "not right" in await wrong.text()
    assert (await client.get("/staff/users", allow_redirects=False)).status == 302

    _, shown = await enrol_at_sign_in(client, "/staff/login/enrol?next=%2Fstaff%2F")
    codes = CODES_RE.findall(shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "shown only this once" in shown
    assert (await client.get("/staff/users")).status == 200  # signed in now

    with app_db.connect() as conn:
        stored = conn.execute(sa.select(RECOVERY_CODES.c.code_hash)).scalars().all()
        factor = conn.execute(sa.select(TOTP)).one()
    assert sorted(stored) == sorted(totp.recovery_hash(c) for c in codes)
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in stored)
    assert factor.confirmed_at is not None
    rows = [(r.username, r.action, r.result) for r in audit_rows(app_db, before) if r.username]
    assert rows == [
        ("ada", "login_password", "ok"),
        ("ada", "totp_enrol", "denied"),
        ("ada", "totp_enrol", "ok"),
        ("ada", "login", "ok"),
    ]
    # the recovery codes are never shown again
    assert not CODES_RE.search(await (await client.get("/staff/second-factor")).text())


async def test_a_code_is_asked_every_time_and_each_code_works_once(client, make_user, app_db):
    secret, codes = await enrolled_admin(client, make_user)
    response = await login(client, "ada", enrol=False)
    assert response.headers["Location"].startswith("/staff/login/code")
    assert (await client.get("/staff/audit", allow_redirects=False)).status == 302
    before = last_audit_id(app_db)
    code = next_code(secret)
    ok = await code_step(client, code, "/staff/users")
    assert ok.status == 303 and ok.headers["Location"] == "/staff/users"
    assert (await client.get("/staff/users")).status == 200
    await client.post("/staff/logout", data={"csrf_token": await session_csrf(client)})

    await login(client, "ada", enrol=False)
    replay = await code_step(client, code)  # the same code again: refused (one use per step)
    assert replay.status == 401
    assert (await client.get("/staff/users", allow_redirects=False)).status == 302

    recovery = await code_step(client, codes[0].upper().replace("-", " "))  # typed loosely
    assert recovery.status == 303
    await client.post("/staff/logout", data={"csrf_token": await session_csrf(client)})
    await login(client, "ada", enrol=False)
    assert (await code_step(client, codes[0])).status == 401  # spent
    rows = [(r.action, r.result, r.detail) for r in audit_rows(app_db, before)]
    assert ("login", "ok", '{"second_factor": "totp"}') in rows
    assert ("login", "ok", '{"recovery_codes_left": 9, "second_factor": "recovery_code"}') in rows
    assert [r[:2] for r in rows].count(("login_second_factor", "denied")) == 2


async def test_the_code_step_is_throttled_and_a_right_password_does_not_reset_it(
    client, make_user, monkeypatch
):
    secret, _ = await enrolled_admin(client, make_user)
    await login(client, "ada", enrol=False)
    checked = 0
    real = totp.matching_step

    def counting(*args, **kwargs):
        nonlocal checked
        checked += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(totp, "matching_step", counting)
    page = await client.get("/staff/login/code")
    token = CSRF_RE.search(await page.text()).group(1)
    guesses = await asyncio.gather(
        *(
            client.post(
                "/staff/login/code",
                data={"csrf_token": token, "code": f"{i:06d}", "next": "/staff/"},
                allow_redirects=False,
            )
            for i in range(40)
        )
    )
    statuses = sorted(r.status for r in guesses)
    assert checked <= 5, checked  # 40 simultaneous guesses: at most the limit were checked
    assert statuses.count(401) <= 5 and 429 in statuses
    # signing in again with the right password does not buy more guesses
    await login(client, "ada", enrol=False)
    assert (await code_step(client, next_code(secret))).status == 429


async def test_a_pending_sign_in_opens_nothing_else_and_expires(client, make_user, app_db):
    await enrolled_admin(client, make_user)
    await login(client, "ada", enrol=False)
    for path in ("/staff/", "/staff/users", "/staff/audit", "/staff/second-factor"):
        assert (await client.get(path, allow_redirects=False)).status == 302, path
    assert (await client.get("/staff/login/enrol", allow_redirects=False)).status == 302
    with app_db.begin() as conn:
        conn.execute(
            sa.update(PENDING_SIGNINS).values(
                created_at=datetime.now(timezone.utc) - timedelta(minutes=11)
            )
        )
    late = await client.get("/staff/login/code", allow_redirects=False)
    assert late.status == 302 and late.headers["Location"] == "/staff/login?expired=1"
    assert "took too long" in await (await client.get(late.headers["Location"])).text()


async def test_other_roles_choose_unless_configured(
    aiohttp_client, settings, tracker, app_db, make_user
):
    await make_user("karen", "admissions")
    plain = await aiohttp_client(init_app(settings))
    assert (await login(plain, "karen", enrol=False)).headers["Location"] == "/staff/"
    # by choice, from the signed-in session
    page = await plain.get("/staff/second-factor")
    html = await page.text()
    assert "Optional for your role" in html and '<svg width="' in html
    key = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    done = await plain.post(
        "/staff/second-factor",
        data={"csrf_token": await session_csrf(plain), "code": pyotp.TOTP(key).now()},
    )
    assert done.status == 200 and len(CODES_RE.findall(await done.text())) == 10
    again = await aiohttp_client(init_app(settings))
    assert (
        (await login(again, "karen", enrol=False))
        .headers["Location"]
        .startswith("/staff/login/code")
    )
    # configured for the role: the next sign-in sets it up
    await make_user("tess", "trainer")
    strict = Settings(**{**settings.__dict__, "totp_roles": ("admin", "trainer")})
    client = await aiohttp_client(init_app(strict))
    assert (
        (await login(client, "tess", enrol=False))
        .headers["Location"]
        .startswith("/staff/login/enrol")
    )


def test_the_setting_always_includes_admin_and_refuses_unknown_roles():
    assert Settings.from_env({}).totp_roles == ("admin",)
    roles = Settings.from_env({"ADMISSIONS_WEB_TOTP_ROLES": "admissions, trainer"}).totp_roles
    assert roles == ("admin", "admissions", "trainer")
    assert Settings.from_env({}).needs_totp(frozenset({"admin", "trainer"}))
    assert not Settings.from_env({}).needs_totp(frozenset({"admissions"}))
    with pytest.raises(ValueError, match="unknown role"):
        Settings.from_env({"ADMISSIONS_WEB_TOTP_ROLES": "boss"})


async def test_an_admin_resets_a_lost_second_factor(client, sign_in, make_user, app_db):
    secret, _ = await enrolled_admin(client, make_user, "bob")
    await login(client, "bob", enrol=False)
    assert (await code_step(client, next_code(secret))).status == 303  # bob is signed in
    ada = await sign_in("ada", "admin")
    users = await ada.client.get("/staff/users")
    assert "Reset second factor" in await users.text()
    before = last_audit_id(app_db)
    response = await ada.post("/staff/users/1/second-factor/reset")
    assert response.status == 303
    assert (await client.get("/staff/users", allow_redirects=False)).status == 302  # ended
    rows = [r for r in audit_rows(app_db, before) if r.username]  # not the probe just above
    assert [(r.username, r.action, r.result) for r in rows] == [("ada", "totp_reset", "ok")]
    assert '"user": "bob"' in rows[0].detail
    with app_db.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(TOTP).where(TOTP.c.user_id == 1)
            ).scalar_one()
            == 0
        )
        assert conn.execute(sa.select(sa.func.count()).select_from(RECOVERY_CODES).where(RECOVERY_CODES.c.user_id == 1)).scalar_one() == 0  # fmt: skip
    again = await login(client, "bob", enrol=False)
    assert again.headers["Location"].startswith("/staff/login/enrol")


async def test_the_cli_resets_a_second_factor(client, make_user, settings, app_db):
    secret, _ = await enrolled_admin(client, make_user)
    await login(client, "ada", enrol=False)
    assert (await code_step(client, next_code(secret))).status == 303
    done = await asyncio.to_thread(cli, settings, "reset-second-factor", "--username", "Ada")
    assert done.returncode == 0, done.stderr
    assert "second factor reset" in done.stdout
    with app_db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(TOTP)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(SESSIONS)).scalar_one() == 0
    row = audit_rows(app_db)[-1]
    assert (row.action, row.result) == ("totp_reset", "ok") and row.username.startswith("cli:")
    assert (
        (await login(client, "ada", enrol=False))
        .headers["Location"]
        .startswith("/staff/login/enrol")
    )
    missing = await asyncio.to_thread(cli, settings, "reset-second-factor", "--username", "nobody")
    assert missing.returncode != 0 and "no user" in missing.stderr


async def test_over_https_the_pending_sign_in_cookie_is_host_prefixed(
    aiohttp_client, settings, tracker, app_db, make_user
):
    from aiohttp import CookieJar

    from admissions.web.middlewares import LOGIN_CSRF_COOKIE

    await make_user("ada", "admin")
    proxied = Settings(**{**settings.__dict__, "trust_proxy": True})
    client = await aiohttp_client(init_app(proxied), cookie_jar=CookieJar(unsafe=True))
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page = await client.get("/staff/login", headers=https)
    token = CSRF_RE.search(await page.text()).group(1)
    response = await client.post(
        "/staff/login",
        data={"csrf_token": token, "username": "ada", "password": PASSWORD},
        headers={**https, "Cookie": f"{LOGIN_CSRF_COOKIE}={token}"},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = response.cookies["__Host-staff_pending"]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
    assert cookie["samesite"] == "Strict"
    assert (
        "staff_pending" not in response.cookies and "__Host-staff_session" not in response.cookies
    )
    # the plain name is not read over HTTPS (a planted cookie opens nothing)
    planted = await client.get(
        "/staff/login/enrol",
        headers={**https, "Cookie": f"staff_pending={cookie.value}"},
        allow_redirects=False,
    )
    assert planted.status == 302
    real = await client.get(
        "/staff/login/enrol",
        headers={**https, "Cookie": f"__Host-staff_pending={cookie.value}"},
        allow_redirects=False,
    )
    assert real.status == 200
