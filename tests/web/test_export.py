"""Exports: one transcript or a filtered set, CSV or JSON, audited, formulas neutralised."""

from __future__ import annotations

import csv
import io
import json

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
    assert rows[0][:4] == ["conversation_id", "reference_code", "time_utc", "speaker"]
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
