"""The Rasa HTTP client's authentication: an HS256 JWT that Rasa's own JWT library accepts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import time

import pytest

from admissions.training.rasa_api import admin_token, jwt_hs256
from tests.training.conftest import REPO

RASA_PY = REPO / ".venv" / "rasa" / "bin" / "python"


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_token_is_a_valid_hs256_jwt() -> None:
    token = jwt_hs256("s3cret", {"user": {"username": "u", "role": "admin"}, "exp": 2_000_000_000})
    header, body, signature = token.split(".")
    assert json.loads(_b64decode(header)) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(_b64decode(body))["user"]["role"] == "admin"
    expected = hmac.new(b"s3cret", f"{header}.{body}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_b64decode(signature), expected)


def test_admin_token_is_short_lived() -> None:
    payload = json.loads(_b64decode(admin_token("k", lifetime=60).split(".")[1]))
    assert payload["user"] == {"username": "admissions-staff-app", "role": "admin"}
    assert 0 < payload["exp"] - time.time() <= 61


@pytest.mark.skipif(not RASA_PY.exists(), reason="the assistant environment is not installed")
def test_rasas_jwt_library_accepts_it_and_refuses_a_wrong_secret() -> None:
    token = admin_token("the-shared-secret")
    script = (
        "import sys, jwt\n"
        "print(jwt.decode(sys.argv[1], sys.argv[2], algorithms=['HS256'])['user']['role'])\n"
    )
    ok = subprocess.run(
        [str(RASA_PY), "-c", script, token, "the-shared-secret"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.stdout.strip() == "admin", ok.stderr
    bad = subprocess.run(
        [str(RASA_PY), "-c", script, token, "another-secret"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "Signature verification failed" in bad.stderr
