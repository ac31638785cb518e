"""Retraining runs, promotion and rollback through the app.

The Rasa server here is a small stand-in that checks the JWT exactly as Rasa's sanic-jwt set-up
does (HS256, ``user.role == admin``) and records what it was asked to load; the real server is
exercised in tests/training/test_e2e_retrain.py. The Rasa CLI for the failure path is a
script that fails the way ``rasa data validate`` does.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from admissions.db.engine import create_engine
from admissions.training import history, locks
from tests.web.conftest import REPO, audit_rows, last_audit_id

SECRET = "test-jwt-secret-0123456789"


def _verify(token: str, secret: str) -> dict[str, Any] | None:
    try:
        header, body, signature = token.split(".")
        expected = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        if not hmac.compare_digest(expected, given):
            return None
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    return payload if payload.get("exp", 0) > time.time() else None


class StubRasa:
    """Answers PUT /model and GET /status like Rasa 3.6 with --jwt-secret."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.loaded: list[str] = []
        self.hold: asyncio.Event | None = None  # when set: PUT /model waits for it (a slow load)

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        payload = (
            _verify(auth.removeprefix("Bearer "), self.secret)
            if auth.startswith("Bearer ")
            else None
        )
        return bool(payload and payload.get("user", {}).get("role") == "admin")

    async def put_model(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "User is not authenticated."}, status=401)
        path = (await request.json())["model_file"]
        if not Path(path).exists():
            return web.json_response({"message": "LoadingError"}, status=500)
        if self.hold is not None:
            await self.hold.wait()
        await asyncio.sleep(0.05)
        self.loaded.append(path)
        return web.Response(status=204)

    async def status(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"message": "User is not authenticated."}, status=401)
        name = Path(self.loaded[-1]).name if self.loaded else "admissions.tar.gz"
        return web.json_response({"model_file": name, "model_id": "x"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/model", self.put_model)
        app.router.add_get("/status", self.status)
        return app


@pytest.fixture
async def rasa_stub(aiohttp_server, monkeypatch) -> StubRasa:
    stub = StubRasa(SECRET)
    server = await aiohttp_server(stub.app())
    monkeypatch.setenv("RASA_URL", str(server.make_url("")).rstrip("/"))
    monkeypatch.setenv("RASA_JWT_SECRET", SECRET)
    return stub


@pytest.fixture
async def models(training_sandbox: Path, settings, app_db) -> dict[str, Any]:
    """Three archived models: A (live), B (passed the gate), C (failed it)."""
    hist = training_sandbox / "models" / "history"
    hist.mkdir(parents=True)
    engine = create_engine(settings.app_db_url)
    out: dict[str, Any] = {}
    try:
        for name, passed in (("a", True), ("b", True), ("c", False)):
            path = hist / f"2025010{len(out) + 1}T000000Z-{name * 12}.tar.gz"
            path.write_bytes(os.urandom(2048) + name.encode())
            async with engine.begin() as conn:
                out[name] = await history.add_model(
                    conn,
                    file=str(path),
                    sha256=history.sha256_file(path),
                    size_bytes=2049,
                    origin="trained",
                    trained_by="tina",
                    gate_passed=passed,
                    mode="finetune",
                    metrics={
                        "heldout": {"macro_f1": 0.93},
                        "crisis": {"recall": 1.0},
                        "stories": {"passed": 19, "total": 19},
                    },
                )
            out[name + "_path"] = path
        live = training_sandbox / "models" / "admissions.tar.gz"
        shutil.copyfile(out["a_path"], live)
        async with engine.begin() as conn:
            await history.add_event(conn, out["a"], "promote", "tina", None)
        out["live"] = live
    finally:
        await engine.dispose()
    return out


REFRESHING = '<meta http-equiv="refresh" content="3; url=/staff/training/models?switching='


async def follow(client: Any, location: str) -> str:
    """Reload the page a trainer was sent to, as its refresh does, until the swap has ended."""
    body = ""
    for _ in range(200):
        body = await (await client.get(location)).text()
        if REFRESHING not in body:
            return body
        assert "This page refreshes itself every few seconds." in body
        await asyncio.sleep(0.05)
    raise AssertionError(f"the swap never ended: {body}")


async def test_promote_then_roll_back(sign_in, rasa_stub, models, app_db):
    trainer = await sign_in("tina", "trainer")
    page = await (await trainer.client.get("/staff/training/models")).text()
    assert page.count("Roll back to this") == 0 and "Put live" in page
    before = last_audit_id(app_db)
    rasa_stub.hold = asyncio.Event()  # the model takes its time to load
    # the trainer is not kept waiting for the swap: sent at once to a page that follows it
    response = await asyncio.wait_for(
        trainer.post(f"/staff/training/models/{models['b']}/promote"), 10
    )
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert location == f"/staff/training/models?switching={models['b']}"
    page = await (await trainer.client.get(location)).text()
    assert f"Putting model #{models['b']} live (started by tina at" in page
    assert f'{REFRESHING}{models["b"]}">' in page
    assert "Put live</button>" not in page and "Roll back to this" not in page
    assert models["live"].read_bytes() == models["a_path"].read_bytes()  # not yet
    # meanwhile nobody can start another swap
    busy = await trainer.post(f"/staff/training/models/{models['a']}/rollback")
    assert busy.status == 400 and "in progress" in await busy.text()
    rasa_stub.hold.set()
    page = await follow(trainer.client, location)
    assert f"Model #{models['b']} is live now (put live by tina in " in page
    assert rasa_stub.loaded == [str(models["b_path"].resolve())]
    assert models["live"].read_bytes() == models["b_path"].read_bytes()
    assert "Roll back to this" in page and "promote by tina" in page
    assert f"The assistant reports it is running <code>{models['b_path'].name}</code>" in page
    # the plain models page no longer shows a finished swap
    plain = await (await trainer.client.get("/staff/training/models")).text()
    assert "is live now" not in plain and REFRESHING not in plain
    response = await trainer.post(f"/staff/training/models/{models['a']}/rollback")
    assert response.status == 303
    page = await follow(trainer.client, response.headers["Location"])
    assert f"Model #{models['a']} is live again (rolled back by tina in " in page
    assert rasa_stub.loaded[-1] == str(models["a_path"].resolve())
    assert models["live"].read_bytes() == models["a_path"].read_bytes()
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result, r.username) for r in rows] == [
        ("model_rollback", "invalid", "tina"),  # refused while the promotion ran
        ("model_promote", "ok", "tina"),  # written when the swap ended
        ("model_rollback", "ok", "tina"),
    ]
    assert "in progress" in json.loads(rows[0].detail)["error"]
    assert json.loads(rows[1].detail)["previous"] == models["a"]
    assert json.loads(rows[2].detail)["previous"] == models["b"]
    assert {r.address for r in rows} == {"127.0.0.1"}


async def test_refusals_change_nothing(sign_in, rasa_stub, models, app_db):
    trainer = await sign_in("tina", "trainer")
    live_before = models["live"].read_bytes()
    before = last_audit_id(app_db)
    failed_gate = await trainer.post(f"/staff/training/models/{models['c']}/promote")
    assert failed_gate.status == 400
    assert "did not pass the quality gate" in await failed_gate.text()
    never_live = await trainer.post(f"/staff/training/models/{models['b']}/rollback")
    assert never_live.status == 400 and "was live before" in await never_live.text()
    already = await trainer.post(f"/staff/training/models/{models['a']}/rollback")
    assert already.status == 400 and "already live" in await already.text()
    assert rasa_stub.loaded == [] and models["live"].read_bytes() == live_before
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result) for r in rows] == [
        ("model_promote", "invalid"),
        ("model_rollback", "invalid"),
        ("model_rollback", "invalid"),
    ]


async def test_wrong_secret_or_no_server_leaves_the_live_model(
    sign_in, rasa_stub, models, monkeypatch, app_db
):
    monkeypatch.setenv("RASA_JWT_SECRET", "not-the-servers-secret")
    trainer = await sign_in("tina", "trainer")
    live_before = models["live"].read_bytes()
    before = last_audit_id(app_db)
    response = await trainer.post(f"/staff/training/models/{models['b']}/promote")
    assert response.status == 303
    page = await follow(trainer.client, response.headers["Location"])
    assert f"Model #{models['b']} did not go live: " in page and "refused our credentials" in page
    assert "Put live</button>" in page  # the trainer can try again
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")
    other = await sign_in("tom", "trainer")
    response = await other.post(f"/staff/training/models/{models['b']}/promote")
    assert response.status == 303
    page = await follow(other.client, response.headers["Location"])
    assert "did not go live: " in page and "did not answer" in page
    assert rasa_stub.loaded == [] and models["live"].read_bytes() == live_before
    rows = audit_rows(app_db, before)
    assert [(r.action, r.result, r.username) for r in rows if r.action != "login"] == [
        ("model_promote", "error", "tina"),
        ("model_promote", "error", "tom"),
    ]
    assert "refused our credentials" in json.loads(rows[0].detail)["error"]


async def test_only_a_recent_outcome_is_reported(sign_in, rasa_stub, models, training_sandbox):
    trainer = await sign_in("tina", "trainer")
    status_file = training_sandbox / "work" / "go-live.json"
    status_file.parent.mkdir(parents=True, exist_ok=True)
    url = f"/staff/training/models?switching={models['b']}"
    for ended, shown in ((time.time() - 3600, False), (time.time() - 60, True)):
        status = {
            "model": models["b"],
            "action": "promote",
            "by": "tina",
            "state": "failed",
            "message": "The new Rasa server did not come up healthy.",
            "started_at": ended - 90,
            "finished_at": ended,
            "seconds": None,
        }
        status_file.write_text(json.dumps(status))
        page = await (await trainer.client.get(url)).text()
        assert ("did not come up healthy" in page) is shown
        assert REFRESHING not in page


async def test_a_changed_model_file_is_not_loaded(sign_in, rasa_stub, models):
    models["b_path"].write_bytes(b"tampered")
    trainer = await sign_in("tina", "trainer")
    response = await trainer.post(f"/staff/training/models/{models['b']}/promote")
    assert response.status == 400 and "has changed since it was recorded" in await response.text()
    assert rasa_stub.loaded == []


# ----- runs -----------------------------------------------------------------------------------
FAKE_RASA = """#!/bin/sh
# Stands in for the Rasa CLI: `data validate` finds a problem, as a broken data file would.
if [ "$1" = "data" ]; then
  echo "2025-01-01 12:00:00 ERROR    rasa.validator  - The intent 'ask_cost' is listed in data but not in the domain."
  exit 1
fi
echo "unexpected: $*"; exit 3
"""


@pytest.fixture
def fake_rasa(training_sandbox: Path, monkeypatch) -> Path:
    shutil.copytree(REPO / "data", training_sandbox / "data")
    path = training_sandbox / "bin" / "rasa"
    path.parent.mkdir(parents=True)
    path.write_text(FAKE_RASA)
    path.chmod(0o755)
    monkeypatch.setenv("RASA_BIN", str(path))
    return path


async def test_retrain_button_runs_the_job_and_explains_a_failure(
    sign_in, fake_rasa, models, app_db
):
    trainer = await sign_in("tina", "trainer")
    page = await (await trainer.client.get("/staff/training/runs")).text()
    assert "Retrain now" in page
    live_before = models["live"].read_bytes()
    before = last_audit_id(app_db)
    response = await trainer.post("/staff/training/runs", {"promote": "yes"})
    assert response.status == 303
    run_url = response.headers["Location"]
    assert re.fullmatch(r"/staff/training/runs/\d+", run_url)
    body = ""
    for _ in range(120):
        body = await (await trainer.client.get(run_url)).text()
        if "failed</span></h1>" in body:
            break
        assert '<meta http-equiv="refresh" content="5">' in body  # progress refreshes itself
        await asyncio.sleep(0.5)
    assert "failed</span></h1>" in body, body
    assert "The training data has problems, so nothing was trained" in body
    assert "is listed in data but not in the domain" in body
    assert '<meta http-equiv="refresh"' not in body
    assert models["live"].read_bytes() == live_before
    rows = audit_rows(app_db, before)
    actions = [(r.action, r.result, r.username) for r in rows]
    assert ("retrain", "ok", "tina") in actions
    assert ("retrain_started", "ok", "tina") in actions
    assert ("retrain_finished", "error", "tina") in actions


async def test_only_one_training_at_a_time(sign_in, fake_rasa, training_sandbox, app_db):
    trainer = await sign_in("tina", "trainer")
    with locks.hold(training_sandbox / "work" / "retrain.lock"):
        page = await (await trainer.client.get("/staff/training/runs")).text()
        assert "A training is running" in page and "Retrain now" not in page
        before = last_audit_id(app_db)
        response = await trainer.post("/staff/training/runs", {"promote": "yes"})
        assert response.status == 409
        assert "already running" in await response.text()
        rows = audit_rows(app_db, before)
        assert [(r.action, r.result) for r in rows] == [("retrain", "invalid")]
        assert json.loads(rows[0].detail) == {"refused": "busy"}


async def test_retrain_without_rasa_installed_starts_nothing(sign_in, app_db):
    trainer = await sign_in("tina", "trainer")
    response = await trainer.post("/staff/training/runs", {"promote": "yes"})
    assert response.status == 400 and "Nothing was started" in await response.text()
    page = await (await trainer.client.get("/staff/training/runs")).text()
    assert "No trainings yet" in page
