"""No terminal for staff (issue 13 §3): admins create accounts, reset passwords and disable
accounts in the app, under the command line's rules (one implementation: accounts.py), and
every change is audited without the password. Nobody disables the last active admin."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from admissions.db.engine import create_engine
from admissions.db.models import AUDIT_LOG, USERS
from admissions.web import accounts
from tests.web.conftest import PASSWORD, audit_rows, last_audit_id, login
from tests.web.test_cli import cli

NEW = "a long enough password"


def account(app_db, name):
    with app_db.connect() as conn:
        return conn.execute(sa.select(USERS).where(USERS.c.username == name)).first()


def no_password_in_the_audit_log(app_db, *passwords):
    with app_db.connect() as conn:
        details = " ".join(d or "" for d in conn.execute(sa.select(AUDIT_LOG.c.detail)).scalars())
    for password in passwords:
        assert password not in details


async def test_an_admin_creates_an_account_that_can_sign_in(sign_in, client, app_db):
    ada = await sign_in("ada", "admin")
    page = await (await ada.client.get("/staff/users")).text()
    assert "Create an account" in page and "make admin</code>" in page
    before = last_audit_id(app_db)
    response = await ada.post(
        "/staff/users",
        {"username": " Karen ", "role": "admissions", "password": NEW, "again": NEW},
    )
    assert response.status == 303 and response.headers["Location"] == "/staff/users?done=created"
    assert "Account created" in await (await ada.client.get("/staff/users?done=created")).text()
    row = account(app_db, "karen")
    assert row.roles == "admissions" and row.password_hash.startswith("$argon2id$")
    rows = audit_rows(app_db, before)
    assert [(r.username, r.action, r.result) for r in rows] == [("ada", "user_create", "ok")]
    assert rows[0].detail == '{"roles": ["admissions"], "user": "karen"}'
    assert (await login(client, "karen", NEW)).status == 303
    no_password_in_the_audit_log(app_db, NEW)


@pytest.mark.parametrize(
    "form, message",
    [
        ({"username": "k", "role": "admissions", "password": "tiny pw 7", "again": "tiny pw 7"},
         "at least 12"),
        ({"username": "k", "role": "admissions", "password": NEW, "again": NEW + "x"},
         "differ"),
        ({"username": "k", "role": "boss", "password": NEW, "again": NEW}, "unknown role"),
        ({"username": "k", "password": NEW, "again": NEW}, "at least one role"),
        ({"username": "ada", "role": "admissions", "password": NEW, "again": NEW}, "taken"),
        ({"username": "no spaces", "role": "admissions", "password": NEW, "again": NEW},
         "letters, digits"),
    ],
)  # fmt: skip
async def test_the_same_rules_as_the_command_line(form, message, sign_in, app_db, settings):
    ada = await sign_in("ada", "admin")
    before = last_audit_id(app_db)
    response = await ada.post("/staff/users", form)
    assert response.status == 400
    assert message in await response.text()
    with app_db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(USERS)).scalar_one() == 1
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result) for r in rows] == [("user_create", "invalid")]
    no_password_in_the_audit_log(app_db, NEW, "tiny pw 7")
    # the command line refuses the same (it calls the same rules)
    args = ["create-user", "--username", form["username"], "--password-stdin"]
    if "role" in form:
        args += ["--role", form["role"]]
    if form["password"] != form["again"]:
        return  # the CLI asks twice only at a terminal
    if "role" not in form:
        return  # argparse requires --role
    done = await asyncio.to_thread(cli, settings, *args, stdin=form["password"] + "\n")
    assert done.returncode != 0 and message in done.stderr


async def test_an_admin_resets_a_password(sign_in, client, make_user, app_db):
    karen = await sign_in("karen", "admissions")
    ada = await sign_in("ada", "admin")
    before = last_audit_id(app_db)
    short = await ada.post(
        "/staff/users/1/password", {"password": "tiny pw 7", "again": "tiny pw 7"}
    )
    assert short.status == 400 and "at least 12" in await short.text()
    assert (await karen.client.get("/staff/conversations")).status == 200  # nothing changed
    done = await ada.post("/staff/users/1/password", {"password": NEW, "again": NEW})
    assert done.status == 303
    ended = await karen.client.get("/staff/conversations", allow_redirects=False)
    assert ended.status == 302  # her sessions ended
    assert (await login(client, "karen", PASSWORD)).status == 401
    assert (await login(client, "karen", NEW)).status == 303
    rows = [
        (r.username, r.action, r.result) for r in audit_rows(app_db, before) if r.username == "ada"
    ]
    assert rows == [("ada", "password_reset", "invalid"), ("ada", "password_reset", "ok")]
    no_password_in_the_audit_log(app_db, NEW, "tiny pw 7")
    missing = await ada.post("/staff/users/99/password", {"password": NEW, "again": NEW})
    assert missing.status == 404


async def test_disable_and_enable_from_the_page(sign_in, client, app_db):
    await sign_in("karen", "admissions")
    ada = await sign_in("ada", "admin")
    before = last_audit_id(app_db)
    assert (await ada.post("/staff/users/1/disable")).status == 303
    assert account(app_db, "karen").disabled
    assert (await login(client, "karen")).status == 401
    assert (await ada.post("/staff/users/1/enable")).status == 303
    assert (await login(client, "karen")).status == 303
    own = await ada.post("/staff/users/2/disable")
    assert own.status == 400 and "your own account" in await own.text()
    rows = [
        (r.action, r.result, r.detail) for r in audit_rows(app_db, before) if r.username == "ada"
    ]
    assert rows == [
        ("user_disable", "ok", '{"user": "karen"}'),
        ("user_enable", "ok", '{"user": "karen"}'),
        ("user_disable", "invalid", '{"refused": "You cannot disable your own account.", "user_id": "2"}'),
    ]  # fmt: skip


async def test_the_last_active_admin_cannot_be_disabled(make_user, settings, app_db, sign_in):
    await make_user("ada", "admin")
    await make_user("bob", "admin", "admissions")
    engine = create_engine(settings.app_db_url)
    try:
        async with engine.begin() as conn:  # an admin disables the other: one admin is left
            await accounts.set_disabled(conn, 2, True, by_user_id=1)
        with pytest.raises(accounts.AccountError, match="last active admin"):
            async with engine.begin() as conn:
                await accounts.set_disabled(conn, 1, True)
    finally:
        await engine.dispose()
    assert not account(app_db, "ada").disabled
    # the command line keeps the same rule
    done = await asyncio.to_thread(cli, settings, "disable-user", "--username", "ada")
    assert done.returncode != 0 and "last active admin" in done.stderr
    assert not account(app_db, "ada").disabled
    # once another admin is active again, it may be disabled
    assert (
        await asyncio.to_thread(cli, settings, "enable-user", "--username", "bob")
    ).returncode == 0
    assert (
        await asyncio.to_thread(cli, settings, "disable-user", "--username", "ada")
    ).returncode == 0


async def test_only_admins_manage_accounts(sign_in, app_db):
    karen = await sign_in("karen", "admissions", "trainer")
    for path, form in (
        ("/staff/users", {"username": "x", "role": "admin", "password": NEW, "again": NEW}),
        ("/staff/users/1/password", {"password": NEW, "again": NEW}),
        ("/staff/users/1/second-factor/reset", {}),
    ):
        assert (await karen.post(path, form)).status == 403
    assert account(app_db, "x") is None
