"""Exports: one transcript or a filtered set, CSV or JSON, audited, formulas neutralised; times
in the facility's time zone with the offset; files named by the conversation's code."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from admissions.web.export import neutralise
from tests.web.conftest import audit_rows, last_audit_id
from tests.web.fixtures import Conversation, write

FORMULAS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
    " =cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_neutralise_formulas(value):
    assert neutralise(value).startswith("'")


@pytest.mark.parametrize("value", ["hello", "I work 9-5", "(555) 555-0101", "", "K7F-2Q"])
def test_neutralise_leaves_text_alone(value):
    assert neutralise(value) == value


@pytest.fixture
def convs(tracker):
    c1 = (
        Conversation("ex-1")
        .visitor(FORMULAS[0], intent="inform")
        .bot("=1+2 is not a formula here")
        .fit("iop")
    )
    c1.slot("reference_code", "=EVIL()")
    c2 = Conversation("ex-2").visitor("@SUM(1,2)").slot("crisis_detected", True)
    write(tracker, c1, c2)


async def test_one_transcript_as_csv(sign_in, convs, app_db):
    staff = await sign_in("karen", "admissions")
    before = last_audit_id(app_db)
    response = await staff.client.get("/staff/conversations/ex-1/export.csv")
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0][:4] == ["conversation_id", "reference_code", "time", "speaker"]
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells if cell)
    assert "'" + FORMULAS[0] in cells and "'=EVIL()" in cells
    audit = audit_rows(app_db, before)
    assert [(r.action, r.conversation_id, r.result) for r in audit] == [("export", "ex-1", "ok")]


async def test_one_transcript_as_json(sign_in, convs):
    staff = await sign_in("karen", "admissions")
    data = await (await staff.client.get("/staff/conversations/ex-1/export.json")).json(
        content_type=None
    )
    assert data["conversation_id"] == "ex-1"
    assert data["messages"][0]["speaker"] == "visitor"
    assert any(m["text"] == FORMULAS[0] and m["intent"] == "inform" for m in data["messages"])
    assert data["slots"]["recommended_program"] == "iop"


async def test_filtered_set_export_is_audited_with_every_id(sign_in, convs, app_db):
    staff = await sign_in("karen", "admissions")
    before = last_audit_id(app_db)
    response = await staff.client.get("/staff/export.json?reviewed=any")
    data = json.loads(await response.text())
    assert sorted(d["conversation_id"] for d in data) == ["ex-1", "ex-2"]
    crisis_only = await staff.client.get("/staff/export.csv?reviewed=any&crisis=yes")
    rows = list(csv.reader(io.StringIO(await crisis_only.text())))
    assert {r[0] for r in rows[1:]} == {"ex-2"}
    assert rows[1][4] == "'@SUM(1,2)"
    audit = audit_rows(app_db, before)
    assert [r.action for r in audit] == ["export", "export"]
    detail = json.loads(audit[0].detail)
    assert sorted(detail["ids"]) == ["ex-1", "ex-2"] and detail["conversations"] == 2
    assert json.loads(audit[1].detail)["ids"] == ["ex-2"]


async def test_unknown_format(sign_in, convs):
    staff = await sign_in("karen", "admissions")
    assert (await staff.client.get("/staff/conversations/ex-1/export.xlsx")).status == 404


NEW_YORK = ZoneInfo("America/New_York")  # facility.yml's time zone
OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[45]:00$")


@pytest.fixture
def coded(tracker):
    c = Conversation("coded-1", start=1767225600.0)  # 2026-01-01 00:00 UTC = Dec 31, 7 PM EST
    c.bot("Who is it for?", buttons=[{"title": "I want help for myself", "payload": "/me"}])
    c.visitor("/me", intent="ready_to_start")
    c.slot("reference_code", "PQ7-HE")
    write(tracker, c)


async def test_times_are_facility_time_with_offset(sign_in, coded):
    staff = await sign_in("karen", "admissions")
    rows = list(
        csv.DictReader(
            io.StringIO(
                await (await staff.client.get("/staff/conversations/coded-1/export.csv")).text()
            )
        )
    )
    assert rows and all(OFFSET.match(r["time"]) for r in rows)
    assert rows[0]["time"] == "2025-12-31T19:00:03-05:00"
    first = datetime.fromisoformat(rows[0]["time"])
    assert first.timestamp() == 1767225603.0  # the same instant, stated in local time
    # a tapped button shows as its title; the payload has its own column
    assert (rows[1]["text"], rows[1]["button_payload"]) == ("I want help for myself", "/me")
    data = json.loads(
        await (await staff.client.get("/staff/conversations/coded-1/export.json")).text()
    )
    assert data["time_zone"] == "America/New_York"
    assert data["started_at"] == "2025-12-31T19:00:06-05:00"
    assert all(OFFSET.match(m["time"]) for m in data["messages"])


async def test_export_files_are_named_by_the_code(sign_in, coded, convs):
    staff = await sign_in("karen", "admissions")
    for fmt in ("csv", "json"):
        response = await staff.client.get(f"/staff/conversations/coded-1/export.{fmt}")
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="conversation-PQ7-HE.{fmt}"'
        )
    # a code that is not file-safe (or none) falls back to the conversation id
    odd = await staff.client.get("/staff/conversations/ex-1/export.csv")
    assert odd.headers["Content-Disposition"] == 'attachment; filename="conversation-ex-1.csv"'
    many = await staff.client.get("/staff/export.csv?reviewed=any")
    today = datetime.now(NEW_YORK).date().isoformat()
    assert many.headers["Content-Disposition"] == (
        f'attachment; filename="conversations-{today}.csv"'
    )


async def test_audit_log_shows_facility_time_with_offset(sign_in, coded):
    admin = await sign_in("ada", "admin")
    page = await (await admin.client.get("/staff/audit")).text()
    assert "<th>Time (America/New York)</th>" in page
    stamps = re.findall(r'<td data-label="Time" class="nowrap">([^<]+)</td>', page)
    assert stamps and all(
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [AP]M E[SD]T \(-0[45]:00\)", t)
        for t in stamps
    ), stamps
    assert "UTC</td>" not in page
