"""``rasa_addons.serve``: Rasa gets its JWT secret from a 0600 file or the environment, never
from the command line (issue 15 #11; the processes `make run` starts are checked with ``ps``
in ``tests/e2e/test_run_script.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rasa_addons.serve import SecretError, rasa_argv, read_secret

ROOT = Path(__file__).resolve().parents[2]


def secret_file(tmp_path: Path, mode: int, text: str = "s3cret-value\n") -> Path:
    path = tmp_path / "rasa_jwt_secret"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_secret_comes_from_an_owner_only_file_and_leaves_the_environment(tmp_path: Path) -> None:
    env = {"RASA_JWT_SECRET_FILE": str(secret_file(tmp_path, 0o600)), "RASA_JWT_SECRET": "x"}
    assert read_secret(env) == "s3cret-value"
    assert env == {}  # nothing Rasa starts inherits it


def test_a_file_other_users_can_read_is_refused(tmp_path: Path) -> None:
    path = secret_file(tmp_path, 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        read_secret({"RASA_JWT_SECRET_FILE": str(path)})
    with pytest.raises(SecretError, match="empty"):
        read_secret({"RASA_JWT_SECRET_FILE": str(secret_file(tmp_path, 0o600, "\n"))})


def test_environment_variable_is_the_fallback() -> None:
    assert read_secret({"RASA_JWT_SECRET": "from-env"}) == "from-env"
    assert read_secret({}) is None


def test_the_secret_is_added_inside_the_process_and_never_accepted_on_the_line() -> None:
    assert rasa_argv(["run", "--enable-api"], "k") == ["run", "--enable-api", "--jwt-secret", "k"]
    assert rasa_argv(["run"], None) == ["run"]
    for line in (["run", "--jwt-secret", "k"], ["run", "--jwt-secret=k"]):
        with pytest.raises(SecretError):
            rasa_argv(line, None)


def test_refuses_to_start_with_a_readable_secret_file(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rasa_addons.serve", "run"],
        cwd=ROOT,
        env={"RASA_JWT_SECRET_FILE": str(secret_file(tmp_path, 0o640)), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0 and "readable by other local users" in done.stderr
