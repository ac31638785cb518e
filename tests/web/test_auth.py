"""Accounts and sessions: sign-in, one answer for every failure, throttling, session end,
idle timeout, cookie flags, CSRF and cross-origin refusal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from aiohttp import CookieJar

from admissions.db.models import SESSIONS, USERS
from admissions.web import auth
from admissions.web.settings import Settings
from tests.web.conftest import CSRF_RE, PASSWORD, audit_rows, last_audit_id, login, session_csrf


def _cookie(response, name):
    for header in response.headers.getall("Set-Cookie", []):
        if header.startswith(name + "="):
            return header
    return None


async def test_sign_in_and_out(client, make_user, app_db):
    await make_user("karen", "admissions")
    response = await login(client, "Karen ", PASSWORD)  # usernames are case-insensitive, trimmed
    assert response.status == 303
    assert response.headers["Location"] == "/staff/"
    home = await client.get("/staff/")
    assert "Good to see you, karen" in await home.text()
    csrf = await session_csrf(client)
    out = await client.post("/staff/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert out.status == 303
    again = await client.get("/staff/conversations", allow_redirects=False)
    assert again.status == 302


async def test_cookie_flags(client, make_user):
    await make_user("karen", "admissions")
    response = await login(client, "karen")
    cookie = _cookie(response, auth.SESSION_COOKIE)
    assert cookie is not None
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests


async def test_secure_cookie_over_https_behind_a_trusted_proxy(
    aiohttp_client, settings, tracker, app_db, make_user
):
    from admissions.web.main import init_app

    proxied = Settings(**{**settings.__dict__, "trust_proxy": True})
    client = await aiohttp_client(init_app(proxied))
    await make_user("karen", "admissions")
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page = await client.get("/staff/login", headers=headers)
    token = CSRF_RE.search(await page.text()).group(1)
    login_csrf = _cookie(page, "staff_login_csrf")
    assert "Secure" in login_csrf
    response = await client.post(
        "/staff/login",
        data={"csrf_token": token, "username": "karen", "password": PASSWORD},
        headers={
            **headers,
            "Cookie": f"staff_login_csrf={login_csrf.split(';')[0].split('=', 1)[1]}",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = _cookie(response, auth.SECURE_SESSION_COOKIE)
    assert cookie and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


async def test_over_https_only_the_host_prefixed_session_cookie_counts(
    aiohttp_client, settings, tracker, app_db, make_user
):
    """Session fixation: a valid token planted under the plain name is ignored over HTTPS."""
    from admissions.web.main import init_app

    proxied = Settings(**{**settings.__dict__, "trust_proxy": True})
    await make_user("mallory", "admissions")
    attacker = await aiohttp_client(init_app(proxied), cookie_jar=CookieJar(unsafe=True))
    token = _cookie(await login(attacker, "mallory"), auth.SESSION_COOKIE)
    token = token.split(";")[0].split("=", 1)[1]  # signed in over plain HTTP: the plain name
    victim = await aiohttp_client(init_app(proxied), cookie_jar=CookieJar(unsafe=True))
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    planted = await victim.get(
        "/staff/",
        headers={**https, "Cookie": f"{auth.SESSION_COOKIE}={token}"},
        allow_redirects=False,
    )
    assert planted.status == 302 and planted.headers["Location"].startswith("/staff/login")
    host = await victim.get(
        "/staff/",
        headers={**https, "Cookie": f"{auth.SECURE_SESSION_COOKIE}={token}"},
        allow_redirects=False,
    )
    assert host.status == 200  # the same token under the __Host- name is the real session
    plain = await victim.get(
        "/staff/",
        headers={"Cookie": f"{auth.SECURE_SESSION_COOKIE}={token}"},
        allow_redirects=False,
    )
    assert plain.status == 302  # and over plain HTTP only the plain name counts


async def test_new_session_id_at_every_sign_in(client, make_user, app_db):
    await make_user("karen", "admissions")
    client.session.cookie_jar.update_cookies({auth.SESSION_COOKIE: "planted-by-someone-else"})
    first = _cookie(await login(client, "karen"), auth.SESSION_COOKIE).split(";")[0]
    assert "planted-by-someone-else" not in first
    await client.post("/staff/logout", data={"csrf_token": await session_csrf(client)})
    second = _cookie(await login(client, "karen"), auth.SESSION_COOKIE).split(";")[0]
    assert first != second
    with app_db.connect() as conn:
        # the earlier session was ended, not left behind
        assert conn.execute(sa.select(sa.func.count()).select_from(SESSIONS)).scalar_one() == 1


async def test_same_answer_for_unknown_user_and_wrong_password(client, make_user, app_db):
    await make_user("karen", "admissions")
    wrong = await login(client, "karen", "not the password")
    unknown = await login(client, "nobody", "not the password")
    disabled_user = await make_user("dora", "admissions")
    with app_db.begin() as conn:
        conn.execute(sa.update(USERS).where(USERS.c.id == disabled_user).values(disabled=True))
    disabled = await login(client, "dora", PASSWORD)

    def strip(text: str) -> str:
        return CSRF_RE.sub("", text)

    texts = {strip(await r.text()) for r in (wrong, unknown, disabled)}
    assert {r.status for r in (wrong, unknown, disabled)} == {401}
    assert len(texts) == 1
    assert "Wrong username or password." in texts.pop()


async def test_throttling_per_account(client, make_user):
    await make_user("karen", "admissions")
    for _ in range(5):
        assert (await login(client, "karen", "guess")).status == 401
    # now even the right password is refused for a while, with the same answer as for anyone
    throttled = await login(client, "karen", PASSWORD)
    assert throttled.status == 429
    assert (await login(client, "nobody-else", "guess")).status == 401  # other accounts fine
    for _ in range(5):
        await login(client, "ghost", "guess")
    assert (await login(client, "ghost", "guess")).status == 429  # unknown names alike


async def test_throttling_per_address(client, make_user, app_db):
    await make_user("karen", "admissions")
    for i in range(20):
        assert (await login(client, f"user{i}", "guess")).status == 401
    response = await login(client, "karen", PASSWORD)
    assert response.status == 429
    rows = audit_rows(app_db)
    assert rows[-1].action == "login" and rows[-1].result == "throttled"


async def test_session_cookie_replayed_after_logout_is_refused(
    client, make_user, aiohttp_client, app_factory
):
    await make_user("karen", "admissions")
    response = await login(client, "karen")
    token = _cookie(response, auth.SESSION_COOKIE).split(";")[0].split("=", 1)[1]
    csrf = await session_csrf(client)
    await client.post("/staff/logout", data={"csrf_token": csrf})
    attacker = await aiohttp_client(app_factory(), cookie_jar=CookieJar(unsafe=True))
    replay = await attacker.get(
        "/staff/conversations",
        headers={"Cookie": f"{auth.SESSION_COOKIE}={token}"},
        allow_redirects=False,
    )
    assert replay.status == 302
    assert replay.headers["Location"].startswith("/staff/login")
    post = await attacker.post(
        "/staff/conversations/x/notes",
        data={"csrf_token": csrf, "body": "hi"},
        headers={"Cookie": f"{auth.SESSION_COOKIE}={token}"},
        allow_redirects=False,
    )
    assert post.status == 403


async def test_disabling_a_user_ends_their_sessions_at_once(sign_in, app_db):
    karen = await sign_in("karen", "admissions")
    admin = await sign_in("ada", "admin")
    assert (await karen.client.get("/staff/conversations")).status == 200
    response = await admin.post("/staff/users/1/disable")
    assert response.status == 303
    refused = await karen.client.get("/staff/conversations", allow_redirects=False)
    assert refused.status == 302
    assert (await login(karen.client, "karen")).status == 401
    await admin.post("/staff/users/1/enable")
    assert (await login(karen.client, "karen")).status == 303


async def test_admin_cannot_disable_themselves(sign_in):
    admin = await sign_in("ada", "admin")
    assert (await admin.post("/staff/users/1/disable")).status == 400


async def test_idle_timeout(sign_in, app_db):
    karen = await sign_in("karen", "admissions")
    assert (await karen.client.get("/staff/conversations")).status == 200
    with app_db.begin() as conn:
        conn.execute(
            sa.update(SESSIONS).values(
                last_seen_at=datetime.now(timezone.utc) - timedelta(minutes=31)
            )
        )
    response = await karen.client.get("/staff/conversations", allow_redirects=False)
    assert response.status == 302
    with app_db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(SESSIONS)).scalar_one() == 0


async def test_activity_keeps_the_session_alive(sign_in, app_db):
    karen = await sign_in("karen", "admissions")
    with app_db.begin() as conn:
        conn.execute(
            sa.update(SESSIONS).values(
                last_seen_at=datetime.now(timezone.utc) - timedelta(minutes=29)
            )
        )
    assert (await karen.client.get("/staff/conversations")).status == 200
    with app_db.connect() as conn:
        seen = conn.execute(sa.select(SESSIONS.c.last_seen_at)).scalar_one()
    assert datetime.now(timezone.utc) - seen < timedelta(minutes=1)


async def test_missing_or_wrong_csrf_token_is_refused(sign_in, app_db):
    karen = await sign_in("karen", "admissions")
    before = last_audit_id(app_db)
    missing = await karen.client.post("/staff/logout", allow_redirects=False)
    wrong = await karen.client.post(
        "/staff/logout", data={"csrf_token": "x" * 43}, allow_redirects=False
    )
    assert missing.status == wrong.status == 403
    assert [(r.action, r.result) for r in audit_rows(app_db, before)] == [
        ("csrf_check", "denied")
    ] * 2
    assert (await karen.client.get("/staff/conversations")).status == 200  # still signed in


async def test_login_form_needs_its_csrf_token(client, make_user):
    await make_user("karen", "admissions")
    response = await client.post(
        "/staff/login", data={"username": "karen", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403


async def test_cross_origin_post_is_refused(sign_in, app_db):
    karen = await sign_in("karen", "admissions")
    evil = await karen.post("/staff/logout", headers={"Origin": "https://evil.example"})
    assert evil.status == 403
    site = await karen.post("/staff/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert site.status == 403
    same_site = await karen.post("/staff/logout", headers={"Sec-Fetch-Site": "same-site"})
    assert same_site.status == 403
    rows = audit_rows(app_db)[-3:]
    assert all(r.action == "csrf_check" and r.result == "denied" for r in rows)
    # the browser's own form posts (Origin: null under Referrer-Policy: no-referrer) pass
    own = await karen.post(
        "/staff/logout", headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    )
    assert own.status == 303


async def test_cross_origin_login_is_refused(client, make_user):
    await make_user("karen", "admissions")
    page = await client.get("/staff/login")
    token = CSRF_RE.search(await page.text()).group(1)
    response = await client.post(
        "/staff/login",
        data={"csrf_token": token, "username": "karen", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status == 403


async def test_next_never_leaves_the_staff_area(client, make_user):
    await make_user("karen", "admissions")
    for bad in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/other"):
        client.session.cookie_jar.clear()
        page = await client.get("/staff/login", params={"next": bad})
        token = CSRF_RE.search(await page.text()).group(1)
        response = await client.post(
            "/staff/login",
            data={"csrf_token": token, "username": "karen", "password": PASSWORD, "next": bad},
            allow_redirects=False,
        )
        assert response.headers["Location"] == "/staff/"


async def test_change_password_ends_every_session(sign_in, app_db):
    karen = await sign_in("karen", "admissions")
    other = await sign_in("karen2", "admissions")
    bad = await karen.post(
        "/staff/password", {"current": PASSWORD, "new": "short", "again": "short"}
    )
    assert bad.status == 400
    response = await karen.post(
        "/staff/password",
        {"current": PASSWORD, "new": "a brand new passphrase", "again": "a brand new passphrase"},
    )
    assert response.status == 303
    assert (await karen.client.get("/staff/", allow_redirects=False)).status == 302
    assert (await login(karen.client, "karen", PASSWORD)).status == 401
    assert (await login(karen.client, "karen", "a brand new passphrase")).status == 303
    assert (await other.client.get("/staff/")).status == 200  # other accounts untouched


async def test_passwords_are_argon2id(make_user, app_db):
    await make_user("karen", "admissions")
    with app_db.connect() as conn:
        stored = conn.execute(sa.select(USERS.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
