"""What the append-only audit log may hold (issue 15 #6, #10, #14): no password typed into
the username box, bounded values, and no flood of rows from anonymous refusals."""

from __future__ import annotations

import json

from admissions.web import denials
from admissions.web.denials import ANONYMOUS_ROWS_PER_ADDRESS
from tests.web.conftest import audit_rows, last_audit_id, login

TYPED_PASSWORD = "Tr0ub4dor&3-horse-battery"


async def test_a_password_typed_as_username_is_not_stored(client, make_user, app_db):
    await make_user("karen", "admissions")
    before = last_audit_id(app_db)
    assert (await login(client, TYPED_PASSWORD, "karen")).status == 401
    assert (await login(client, TYPED_PASSWORD, "karen")).status == 401
    assert (await login(client, "karen", "not the password")).status == 401
    rows = audit_rows(app_db, before)
    stored = " ".join(f"{r.username} {r.detail}" for r in rows)
    assert TYPED_PASSWORD.lower() not in stored.lower() and "tr0ub4dor" not in stored.lower()
    first, second, known = (json.loads(r.detail) for r in rows)
    # the same unknown name gives the same keyed hash: repeated tries still show
    assert first == second and first["unknown_username"].startswith("hmac-")
    assert known == {"username": "karen"}  # a real account is named as before


async def test_anonymous_requests_cannot_grow_the_log(client, app_db):
    """400 anonymous requests with a 7 KB path id: a bounded number of small rows."""
    long_id = "x" * 7000
    before = last_audit_id(app_db)
    for _ in range(400):
        response = await client.get(f"/staff/conversations/{long_id}", allow_redirects=False)
        assert response.status == 302
    rows = audit_rows(app_db, before)
    assert len(rows) == ANONYMOUS_ROWS_PER_ADDRESS
    assert all(r.result == "unauthenticated" and r.conversation_id is None for r in rows)
    assert {json.loads(r.detail)["path_id_length"] for r in rows} == {7000}
    assert sum(len(r.detail or "") for r in rows) < 60 * 100


def test_the_limiter_counts_what_it_leaves_out(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(denials.time, "monotonic", lambda: clock[0])
    limiter = denials.DenialLimiter(per_address=2, total=3, window_seconds=60)
    assert [limiter.admit("a") for _ in range(4)] == [0, 0, None, None]
    assert limiter.admit("b") == 0
    assert limiter.admit("c") is None  # the total for the window is used up
    clock[0] += 60  # next window: the count rides on the next row of each address
    assert limiter.admit("a") == 2 and limiter.admit("c") == 1 and limiter.admit("b") == 0


async def test_a_signed_in_refusal_keeps_a_bounded_id(sign_in, app_db):
    tina = await sign_in("tina", "trainer")
    before = last_audit_id(app_db)
    response = await tina.client.get("/staff/conversations/" + "y" * 500)
    assert response.status == 403
    (row,) = audit_rows(app_db, before)
    assert row.result == "denied" and row.username == "tina"
    assert len(row.conversation_id) == 64 and row.conversation_id.endswith("…")
    assert json.loads(row.detail)["path_id_length"] == 500


async def test_an_allowed_request_for_a_huge_id_is_audited_cut_to_the_column(sign_in, app_db):
    ann = await sign_in("ann", "admissions")
    before = last_audit_id(app_db)
    response = await ann.client.get("/staff/conversations/" + "z" * 3000)
    assert response.status == 404
    (row,) = audit_rows(app_db, before)
    assert row.result == "not_found" and len(row.conversation_id) == 255
