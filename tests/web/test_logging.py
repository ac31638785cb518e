"""INFO logs carry no message text, names or phone numbers (nor search terms)."""

from __future__ import annotations

import logging

from aiohttp.test_utils import TestServer

from admissions.web.accesslog import AccessLogger
from tests.web.fixtures import Conversation, write

SECRETS = ["I relapsed last night", "Rosa Diaz", "555-0199", "K7F-2Q", "a long test password 1"]


async def test_info_logs_carry_no_personal_data(
    aiohttp_client, app_factory, make_user, tracker, caplog
):
    write(
        tracker,
        Conversation("log-1")
        .visitor(SECRETS[0])
        .fit("iop")
        .callback(name="Rosa Diaz", phone="(555) 555-0199")
        .slot("reference_code", "K7F-2Q"),
    )
    await make_user("karen", "admissions", "admin")
    caplog.set_level(logging.DEBUG)
    server = TestServer(app_factory())
    await server.start_server(access_log_class=AccessLogger)  # as ``python -m admissions.web``
    client = await aiohttp_client(server)
    from tests.web.conftest import login, session_csrf

    await login(client, "karen", "wrong password")
    await login(client, "karen")
    csrf = await session_csrf(client)
    for url in (
        "/staff/conversations?code=K7F-2Q",
        "/staff/conversations/log-1",
        "/staff/callbacks",
        "/staff/conversations/log-1/export.csv",
        "/staff/dashboard",
        "/staff/audit",
    ):
        assert (await client.get(url)).status == 200
    await client.post(
        "/staff/conversations/log-1/notes",
        data={"csrf_token": csrf, "body": "Rosa Diaz called back"},
    )
    await client.post("/staff/retention/run", data={"csrf_token": csrf})
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("GET /staff/conversations " in line for line in info)  # the access log is there
    for line in info:
        for secret in SECRETS:
            assert secret not in line, line
