"""``python -m admissions.training`` (what ``make retrain`` runs): a failing run explains itself
and leaves the live model; a second retrain while one runs is refused; history lists models."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from admissions.training import locks
from tests.training.conftest import REPO

FAKE_RASA = """#!/bin/sh
if [ "$1" = "data" ]; then
  echo "ERROR    rasa.validator  - Found intent 'ask_price' in stories which is not part of the domain."
  exit 1
fi
exit 3
"""


def _env(project: Path) -> dict[str, str]:
    rasa = project / "bin" / "rasa"
    rasa.parent.mkdir(parents=True, exist_ok=True)
    rasa.write_text(FAKE_RASA)
    rasa.chmod(0o755)
    return {
        **os.environ,
        "TRAINING_DATA_DIR": str(project / "data"),
        "TRAINING_DOMAIN": str(project / "domain.yml"),
        "TRAINING_HELDOUT_DIR": str(project / "tests" / "nlu"),
        "LIVE_MODEL": str(project / "models" / "admissions.tar.gz"),
        "MODEL_HISTORY_DIR": str(project / "models" / "history"),
        "TRAINING_WORK_DIR": str(project / "work"),
        "RASA_BIN": str(rasa),
        "RASA_URL": "http://127.0.0.1:9",
        "APP_DB_URL": f"sqlite:///{project / 'admissions.db'}",
    }


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "admissions.training", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_failed_retrain_explains_and_keeps_the_live_model(project: Path) -> None:
    env = _env(project)
    live = project / "models" / "admissions.tar.gz"
    live.parent.mkdir(parents=True)
    live.write_bytes(b"the live model")
    result = _cli(env, "retrain", "--promote", "--by", "ci")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "==> Check the training data (rasa data validate)" in result.stdout
    assert "The training data has problems, so nothing was trained" in result.stdout
    assert "not part of the domain" in result.stdout
    assert live.read_bytes() == b"the live model"
    history = _cli(env, "history")
    assert history.returncode == 0
    assert "adopted" in history.stdout and "outside the app" in history.stdout
    runs = _cli(env, "runs")
    assert "failed" in runs.stdout and "ci" in runs.stdout


def test_a_second_retrain_is_refused_while_one_runs(project: Path) -> None:
    env = _env(project)
    with locks.hold(project / "work" / "retrain.lock"):
        result = _cli(env, "retrain")
    assert result.returncode == 2
    assert "Another training is running" in result.stdout
    shutil.rmtree(project / "work")
