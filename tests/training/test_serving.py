"""The serving file and its helper without Rasa: what ``scripts/run.sh`` and a swap rely on.
(Real swaps: test_e2e_swap.py.)"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from admissions.training import serving


def test_the_serving_file_is_owner_only_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "rasa-serving.json"
    serving.write_state(path, {"url": "http://127.0.0.1:1", "pid": os.getpid(), "port": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert serving.read_state(path) == {"url": "http://127.0.0.1:1", "pid": os.getpid(), "port": 1}
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    path.write_text("{torn")
    assert serving.read_state(path) is None


def test_a_file_whose_process_is_gone_does_not_count(tmp_path: Path) -> None:
    path = tmp_path / "rasa-serving.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    serving.write_state(path, {"url": "http://127.0.0.1:2", "pid": dead.pid, "port": 2})
    assert serving.live_state(path) is None
    assert serving.current_url(path, "http://127.0.0.1:5005") == "http://127.0.0.1:5005"
    serving.write_state(path, {"url": "http://127.0.0.1:2", "pid": os.getpid(), "port": 2})
    assert serving.current_url(path, "http://127.0.0.1:5005") == "http://127.0.0.1:2"


def test_the_next_process_gets_a_free_port_other_than_the_serving_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        state = {
            "port": 5005,
            "draining": [{"pid": 1, "port": 5105}],
            "launch": {"host": "127.0.0.1", "ports": [5005, 5105, busy, 5305]},
        }
        assert serving._pick_port(state) == 5305
        state["launch"]["ports"] = [5005, 5105, busy]
        with pytest.raises(serving.SwapError, match="no free port"):
            serving._pick_port(state)


def test_register_records_how_rasa_was_started_without_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rasa-serving.json"
    monkeypatch.setenv("RASA_JWT_SECRET_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("RASA_JWT_SECRET", "never-in-the-file")
    monkeypatch.setenv("APP_DB_URL", "sqlite:///never.db")
    argv = ["register", "--state", str(path), "--pid", str(os.getpid()), "--port", "5005"]
    argv += ["--ports", "5005,5105", "--model", "m.tar.gz", "--log-dir", str(tmp_path)]
    argv += ["--", "python", "-m", "rasa_addons.serve", "run", "--port", "{port}", "--model"]
    argv += ["{model}"]
    assert serving.main(argv) == 0
    state = json.loads(path.read_text())
    assert state["pid"] == os.getpid() and state["url"] == "http://127.0.0.1:5005"
    launch = state["launch"]
    assert launch["argv"][-4:] == ["--port", "{port}", "--model", "{model}"]
    assert launch["ports"] == [5005, 5105]
    assert launch["env"]["RASA_JWT_SECRET_FILE"] == str(tmp_path / "secret")
    text = path.read_text()
    assert "never-in-the-file" not in text and "never.db" not in text
    capsys.readouterr()
    assert serving.main(["url", "--state", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "http://127.0.0.1:5005"
    # run.sh reads the serving pid without Python: the top-level "pid", indented by one space
    assert f'\n "pid": {os.getpid()},\n' in text
