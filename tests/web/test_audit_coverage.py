"""Every staff route is enumerated here: login and role are enforced, and each audited route
writes exactly one audit row per request (success, refusal or failure alike).

Adding a route without listing it below fails ``test_every_route_is_listed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from admissions.db.models import ROLES
from tests.web.conftest import audit_rows, last_audit_id
from tests.web.fixtures import Conversation, write

CID = "conv-audit-1"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as registered
    roles: frozenset[str]  # empty: any signed-in user
    action: str
    audited: bool  # a successful request writes a row too
    transcript: bool  # returns transcript data (messages, slots, names, phone numbers)
    data: tuple[tuple[str, str], ...] = ()

    def url(self, uid: int) -> str:
        # a trainer opens a conversation around one inbox message
        focus = f"?event={EID}" if self.path.startswith("/staff/training/conversations/") else ""
        return (
            self.path.replace("{cid}", CID)
            .replace("{fmt}", "csv")
            .replace("{uid}", str(uid))
            .replace("{eid}", str(EID))
            .replace("{rid}", "1")
            .replace("{mid}", str(uid))
            .replace("{which}", "candidate")
        ) + focus


A, ADMIN = frozenset({"admissions"}), frozenset({"admin"})
T = frozenset({"trainer"})
EID = 4  # the conversation fixture's visitor message (events.id: after 3 session-start events)
ROUTES = [
    Route("GET", "/staff/conversations", A, "list", True, True),
    Route("GET", "/staff/conversations/{cid}", A, "view", True, True),
    Route("GET", "/staff/conversations/{cid}/export.{fmt}", A, "export", True, True),
    Route("GET", "/staff/export.{fmt}", A, "export", True, True),
    Route("GET", "/staff/conversations/{cid}/packet.json", A, "packet_export", True, True),
    Route("GET", "/staff/conversations/{cid}/packet.fhir.json", A, "packet_export", True, True),
    Route("GET", "/staff/outbox", A | ADMIN, "outbox_view", True, False),
    Route("POST", "/staff/outbox/{cid}/resend", ADMIN, "packet_resend", True, False),
    Route("GET", "/staff/callbacks", A, "callbacks_view", True, True),
    Route(
        "POST",
        "/staff/conversations/{cid}/notes",
        A,
        "note_add",
        True,
        False,
        (("body", "called, left voicemail"),),
    ),
    Route(
        "POST",
        "/staff/conversations/{cid}/review",
        A,
        "review",
        True,
        False,
        (("reviewed", "yes"),),
    ),
    Route(
        "POST",
        "/staff/callbacks/{cid}/status",
        A,
        "callback_status",
        True,
        False,
        (("status", "attempted"),),
    ),
    Route("GET", "/staff/dashboard", A | ADMIN, "dashboard", True, False),
    Route("GET", "/staff/audit", ADMIN, "audit_view", True, False),
    Route("GET", "/staff/users", ADMIN, "users_view", False, False),
    Route(
        "POST",
        "/staff/users",
        ADMIN,
        "user_create",
        True,
        False,
        (
            ("username", "newbie"),
            ("role", "admissions"),
            ("password", "a long enough password"),
            ("again", "a long enough password"),
        ),
    ),
    Route(
        "POST",
        "/staff/users/{uid}/password",
        ADMIN,
        "password_reset",
        True,
        False,
        (("password", "a long enough password"), ("again", "a long enough password")),
    ),
    Route("POST", "/staff/users/{uid}/second-factor/reset", ADMIN, "totp_reset", True, False),
    Route("POST", "/staff/users/{uid}/disable", ADMIN, "user_disable", True, False),
    Route("POST", "/staff/users/{uid}/enable", ADMIN, "user_enable", True, False),
    Route("GET", "/staff/retention", ADMIN, "retention_view", False, False),
    Route("POST", "/staff/retention/run", ADMIN, "retention_run", True, False),
    Route("GET", "/staff/", frozenset(), "home", False, False),
    Route("GET", "/staff/password", frozenset(), "password_page", False, False),
    Route("GET", "/staff/second-factor", frozenset(), "second_factor_view", False, False),
    Route("POST", "/staff/second-factor", frozenset(), "totp_enrol", True, False, (("code", "0"),)),
    Route(
        "POST",
        "/staff/password",
        frozenset(),
        "password_change",
        True,
        False,
        (("current", "wrong"), ("new", "x"), ("again", "x")),
    ),
    Route("POST", "/staff/logout", frozenset(), "logout", True, False),
    # retraining (admissions/web/views/training.py)
    Route("GET", "/staff/training/inbox", T, "nlu_inbox", True, True),
    Route("GET", "/staff/training/inbox/{eid}", T, "nlu_item_view", True, True),
    Route(
        "POST",
        "/staff/training/inbox/{eid}",
        T,
        "nlu_annotate",
        True,
        False,
        (("action", "ignore"),),
    ),
    Route(
        "POST",
        "/staff/conversations/{cid}/flag",
        A | T,
        "nlu_flag",
        True,
        False,
        (("event_id", str(EID)),),
    ),
    Route("GET", "/staff/training/conversations/{cid}", T, "nlu_conversation_view", True, True),
    Route("GET", "/staff/training/intents", T, "nlu_intents_view", False, False),
    Route(
        "POST",
        "/staff/training/examples",
        T,
        "nlu_example_add",
        True,
        False,
        (("intent", "greet"), ("examples", "")),
    ),
    Route("GET", "/staff/training/runs", T, "training_runs_view", False, False),
    Route("POST", "/staff/training/runs", T, "retrain", True, False),
    Route("GET", "/staff/training/runs/{rid}", T, "training_run_view", False, False),
    Route(
        "GET",
        "/staff/training/runs/{rid}/confusion-{which}.png",
        T,
        "training_matrix_view",
        False,
        False,
    ),
    Route("GET", "/staff/training/models", T, "models_view", False, False),
    Route("POST", "/staff/training/models/{mid}/promote", T, "model_promote", True, False),
    Route("POST", "/staff/training/models/{mid}/rollback", T, "model_rollback", True, False),
]
PUBLIC = {
    ("GET", "/staff"),
    ("GET", "/staff/health"),
    ("GET", "/staff/login"),
    ("POST", "/staff/login"),
    # the second step of signing in: only with a pending sign-in's cookie (no session yet)
    ("GET", "/staff/login/code"),
    ("POST", "/staff/login/code"),
    ("GET", "/staff/login/enrol"),
    ("POST", "/staff/login/enrol"),
}
TRANSCRIPT_ROUTES = [r for r in ROUTES if r.transcript]
AUDITED_ROUTES = [r for r in ROUTES if r.audited]


def _registered(app):
    out = {}
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if (
            route.method == "HEAD"
            or not path.startswith("/staff")
            or path.startswith("/staff/static")
        ):
            continue
        out[(route.method, path)] = route.handler
    return out


@pytest.fixture
def conversation(tracker):
    write(
        tracker,
        Conversation(CID)
        .visitor("I drink every day", intent="inform", confidence=0.5)  # in the NLU inbox
        .bot("Thanks.")
        .fit("iop")
        .callback()
        .slot("handoff_packet", {"first_name": "Sam", "member_id": "W123456789"})
        .slot("handoff_packet_complete", True),
    )


async def test_every_route_is_listed(client):
    registered = _registered(client.server.app)
    listed = {(r.method, r.path) for r in ROUTES} | PUBLIC
    assert set(registered) == listed
    for r in ROUTES:
        handler = registered[(r.method, r.path)]
        assert handler.required_roles == r.roles, r
        assert handler.audit_action == r.action, r
        assert handler.audit_success == r.audited, r
    for key in PUBLIC:
        assert not hasattr(registered[key], "required_roles"), key


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_needs_login_and_audits_the_refusal(route, client, conversation, app_db):
    before = last_audit_id(app_db)
    url = route.url(1)
    if route.method == "GET":
        response = await client.get(url, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"].startswith("/staff/login?next=")
    else:
        response = await client.post(url, data=dict(route.data), allow_redirects=False)
        assert response.status in (401, 403)
    rows = audit_rows(app_db, before)
    assert len(rows) == 1, rows
    assert rows[0].username is None
    assert rows[0].result in ("unauthenticated", "denied")
    assert rows[0].action in (route.action, "csrf_check")


WRONG_ROLE_CASES = [(r, role) for r in ROUTES if r.roles for role in sorted(set(ROLES) - r.roles)]


@pytest.mark.parametrize(
    "route, wrong",
    WRONG_ROLE_CASES,
    ids=lambda x: x if isinstance(x, str) else f"{x.method} {x.path}",
)
async def test_needs_the_right_role(route, wrong, sign_in, conversation, app_db):
    staff = await sign_in("tess", wrong)
    before = last_audit_id(app_db)
    if route.method == "GET":
        response = await staff.client.get(route.url(1), allow_redirects=False)
    else:
        response = await staff.post(route.url(1), dict(route.data))
    assert response.status == 403
    body = await response.text()
    assert "I drink every day" not in body and "Sam Test" not in body
    assert "W123456789" not in body
    rows = audit_rows(app_db, before)
    assert [(r.username, r.action, r.result) for r in rows] == [("tess", route.action, "denied")]


@pytest.mark.parametrize("route", AUDITED_ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_writes_exactly_one_audit_row(route, sign_in, make_user, conversation, app_db):
    role = sorted(route.roles)[0] if route.roles else "admissions"
    staff = await sign_in("ann", role)
    target = await make_user("target", "admissions")
    before = last_audit_id(app_db)
    if route.method == "GET":
        response = await staff.client.get(route.url(target), allow_redirects=False)
        assert response.status == 200, await response.text()
        await response.read()
    else:
        response = await staff.post(route.url(target), dict(route.data))
        assert response.status in (303, 400), await response.text()
    rows = audit_rows(app_db, before)
    if route.action == "retention_run":
        rows = [r for r in rows if r.action != "purge"]  # a purge audits each deletion too
    assert len(rows) == 1, [(r.action, r.result) for r in rows]
    row = rows[0]
    assert row.username == "ann"
    assert row.action == route.action
    assert row.address == "127.0.0.1"
    assert row.result in ("ok", "invalid")
    assert datetime.now(timezone.utc) - row.at < timedelta(minutes=1)
    if "{cid}" in route.path:
        assert row.conversation_id == CID


@pytest.mark.parametrize("route", TRANSCRIPT_ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_transcript_routes_are_not_cached(route, sign_in, conversation):
    staff = await sign_in("ann", sorted(route.roles)[0])
    response = await staff.client.get(route.url(1))
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"


async def test_each_request_writes_its_own_row(sign_in, conversation, app_db):
    staff = await sign_in("ann", "admissions")
    before = last_audit_id(app_db)
    for _ in range(3):
        assert (await staff.client.get(f"/staff/conversations/{CID}")).status == 200
    rows = audit_rows(app_db, before)
    assert [(r.action, r.conversation_id) for r in rows] == [("view", CID)] * 3


async def test_unknown_conversation_is_audited_as_not_found(sign_in, app_db):
    staff = await sign_in("ann", "admissions")
    before = last_audit_id(app_db)
    response = await staff.client.get("/staff/conversations/nope")
    assert response.status == 404
    rows = audit_rows(app_db, before)
    assert [(r.action, r.conversation_id, r.result) for r in rows] == [
        ("view", "nope", "not_found")
    ]


async def test_coverage_count(capsys):
    """The closing note's figure: how many routes return transcript data / are audited."""
    with capsys.disabled():
        print(
            f"\naudit coverage: {len(TRANSCRIPT_ROUTES)} transcript-data routes and "
            f"{len(AUDITED_ROUTES)} audited routes of {len(ROUTES)} protected routes "
            f"(+{len(PUBLIC)} public)"
        )
    assert len(TRANSCRIPT_ROUTES) == 10
