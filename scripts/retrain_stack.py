"""A throw-away copy of the project and real Rasa + action servers for retraining: the
end-to-end retraining tests (``tests/training``) and ``benchmarks/retrain.py`` use it. Runs in
the staff app's environment (``.venv/app``): it drives ``admissions.training.serving``.

The copy holds the training data, domain, held-out set, test stories and crisis tables, plus a
*test config*: the project's pipeline and policies with few epochs, so training is cheap.
The Rasa server runs with ``--jwt-secret`` (HS256), as production should.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from admissions.training import serving
from admissions.training.rasa_api import admin_token
from admissions.training.rasacli import thread_limits
from admissions.training.settings import TrainingSettings
from scripts import stack as launch
from scripts.stack import Process, free_port
from scripts.stack import start as _start
from scripts.stack import wait_http as _wait

REPO = launch.ROOT
BIN = launch.RASA_BIN
SPACY = launch.SPACY_PIPELINE
JWT_SECRET = "e2e-test-secret-please-change-0123456789"  # noqa: S105 - test-only server


def test_config(diet_epochs: int, ted_epochs: int) -> str:
    """config.yml with fewer epochs and the spaCy pipeline by absolute path."""
    text = (REPO / "config.yml").read_text()
    text = text.replace("model: build/spacy/admissions_en", f"model: {SPACY}")
    text = re.sub(
        r"(- name: DIETClassifier\n(?:    .*\n)*?    epochs:) \d+", rf"\1 {diet_epochs}", text
    )
    text = re.sub(r"(- name: TEDPolicy\n(?:    .*\n)*?    epochs:) \d+", rf"\1 {ted_epochs}", text)
    assert f"epochs: {diet_epochs}" in text and f"epochs: {ted_epochs}" in text
    return text


def make_project(root: Path, diet_epochs: int = 20, ted_epochs: int = 1) -> Path:
    """Copy what training and evaluation read into ``root``."""
    shutil.copytree(REPO / "data", root / "data", ignore=shutil.ignore_patterns("*.md"))
    shutil.copyfile(REPO / "domain.yml", root / "domain.yml")
    (root / "config.yml").write_text(test_config(diet_epochs, ted_epochs))
    shutil.copytree(REPO / "tests" / "nlu", root / "tests" / "nlu")
    shutil.copytree(REPO / "tests" / "stories", root / "tests" / "stories")
    shutil.copyfile(REPO / "tests" / "admissions" / "crisis_cases.yml", root / "crisis_cases.yml")
    (root / "models").mkdir()
    return root


def tf_threads() -> int:
    """TensorFlow threads of the copy's trainings: ``TRAINING_TF_THREADS`` or production's."""
    return int(os.environ.get("TRAINING_TF_THREADS") or TrainingSettings.tf_threads)


def rasa_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Rasa processes."""
    env = launch.server_env({"ADMISSIONS_CLOCK": launch.TEST_CLOCK, **(extra or {})})
    env.pop("VIRTUAL_ENV", None)
    return env


def train(root: Path, out_name: str = "admissions") -> Path:
    """Train the project copy from scratch (the baseline the test starts from)."""
    log, cache = root / "train-baseline.log", root / ".rasa" / "cache"
    with log.open("wb") as handle:
        subprocess.run(
            [
                str(BIN / "rasa"),
                "train",
                "--config",
                str(root / "config.yml"),
                "--domain",
                str(root / "domain.yml"),
                "--data",
                str(root / "data"),
                "--out",
                str(root / "models"),
                "--fixed-model-name",
                out_name,
            ],
            cwd=REPO,
            # Its own training cache: `make test` trains the project's model at the same time,
            # and two trainings writing one cache database can fail with "database is locked".
            env=rasa_env({"RASA_CACHE_DIRECTORY": str(cache), **thread_limits(tf_threads())}),
            stdout=handle,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=900,
        )
    model = root / "models" / f"{out_name}.tar.gz"
    if not model.exists():
        raise RuntimeError(f"baseline training failed:\n{log.read_text()[-3000:]}")
    return model


@dataclass
class Stack:
    """Real Rasa and action servers on the project copy.

    Rasa is started the way ``make run`` starts it, through ``admissions.training.serving``:
    the serving file (``rasa-serving.json`` in the project copy) says which process serves,
    so promotions and rollbacks swap processes, and ``rasa_url`` follows them.
    """

    root: Path
    serving_file: Path
    first_url: str
    actions: Process

    @property
    def rasa_url(self) -> str:
        """The serving Rasa's URL now."""
        return serving.current_url(self.serving_file, self.first_url)

    @property
    def rasa_pid(self) -> int | None:
        """The serving Rasa's process id now."""
        state = serving.read_state(self.serving_file)
        return int(state["pid"]) if state else None

    @property
    def tracker_db(self) -> Path:
        """Rasa's SQLite tracker store."""
        return self.root / "tracker.db"

    def _call(self, method: str, path: str, body: Any = None, timeout: float = 120) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the stack's own http:// URL
            self.rasa_url + path,
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {admin_token(JWT_SECRET)}",
            },
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
            return json.loads(raw) if raw else None

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """One visitor message over the REST channel; the replies."""
        return list(
            self._call("POST", "/webhooks/rest/webhook", {"sender": sender, "message": text})
        )

    def parse(self, text: str) -> dict[str, Any]:
        """What the loaded model understands (``POST /model/parse``)."""
        return dict(self._call("POST", "/model/parse", {"text": text}))

    def status(self) -> dict[str, Any]:
        """``GET /status``."""
        return dict(self._call("GET", "/status"))

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker."""
        return dict(self._call("GET", f"/conversations/{sender}/tracker"))

    def settings(self, **changes: Any) -> TrainingSettings:
        """Retraining settings for this project copy and server."""
        root = self.root
        base = TrainingSettings(
            project=REPO,
            data_dir=root / "data",
            domain=root / "domain.yml",
            config=root / "config.yml",
            heldout_dir=root / "tests" / "nlu",
            stories_dir=root / "tests" / "stories",
            crisis_cases=root / "crisis_cases.yml",
            live_model=root / "models" / "admissions.tar.gz",
            history_dir=root / "models" / "history",
            work_dir=root / "work",
            rasa_bin=BIN / "rasa",
            rasa_url=self.rasa_url,
            rasa_jwt_secret=JWT_SECRET,
            app_db_url=f"sqlite:///{root / 'admissions.db'}",
            tracker_db_url=f"sqlite:///{self.tracker_db}",
            rasa_env={"SPACY_PIPELINE": str(SPACY)},
            serving_file=self.serving_file,
            # TRAINING_NICE (default 19: the idle scheduling class, as in production). `make
            # test` sets 0: its other suites keep the CPU busy, and idle-class training would
            # wait for all of them; the yielding itself has its own tests and benchmark.
            nice=int(os.environ.get("TRAINING_NICE") or 19),
            tf_threads=tf_threads(),
        )
        return base.with_changes(**changes)


def _two_free_ports() -> tuple[int, int]:
    first = free_port()
    second = free_port()
    while second == first:
        second = free_port()
    return first, second


def _wait_rasa(state_file: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {admin_token(JWT_SECRET)}"}
    while time.monotonic() < deadline:
        state = serving.read_state(state_file)
        assert state is not None
        if not serving.alive(int(state["pid"])):
            log = Path(state["launch"]["log_dir"]) / f"rasa-{state['port']}.log"
            raise RuntimeError(f"rasa exited:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            request = urllib.request.Request(state["url"] + "/status", headers=headers)  # noqa: S310
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        time.sleep(0.4)
    raise RuntimeError(f"rasa did not start in {timeout}s")


@contextlib.contextmanager
def stack(root: Path) -> Iterator[Stack]:
    """Rasa (JWT auth, the project's live model; swappable) and the action server."""
    rasa_port, alt_port = _two_free_ports()
    actions_port = free_port()
    env = rasa_env({"ACTIONS_PORT": str(actions_port), "TRACKER_DB_PATH": str(root / "tracker.db")})
    actions = _start("actions", launch.actions_argv(actions_port), env, root / "actions.log")
    state_file = root / "rasa-serving.json"
    launch_env = {
        k: env[k]
        for k in (
            "SPACY_PIPELINE",
            "RASA_TELEMETRY_ENABLED",
            "TF_CPP_MIN_LOG_LEVEL",
            "FACILITY_FILE",
            "ADMISSIONS_CLOCK",
            "ACTIONS_PORT",
            "TRACKER_DB_PATH",
        )
    }
    state = serving.start_first(
        state_file,
        argv=launch.rasa_argv("{port}", "{model}", jwt_secret=JWT_SECRET),
        port=rasa_port,
        ports=[rasa_port, alt_port],
        model=str(root / "models" / "admissions.tar.gz"),
        log_dir=root / "logs",
        env=launch_env,
        cwd=REPO,
    )
    s = Stack(root, state_file, str(state["url"]), actions)
    try:
        _wait(actions, f"http://127.0.0.1:{actions_port}/health", 120)
        _wait_rasa(state_file, 300)
        yield s
    finally:
        serving.stop_all(state_file)
        actions.stop()
