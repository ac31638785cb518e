"""scripts/check_advisories.py: locked versions below a fix fail unless an exception says why."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "check_advisories", ROOT / "scripts" / "check_advisories.py"
)
assert spec and spec.loader
checker = importlib.util.module_from_spec(spec)
sys.modules["check_advisories"] = checker
spec.loader.exec_module(checker)

REAL = yaml.safe_load((ROOT / "security" / "advisories.yml").read_text())


def run(tmp_path: Path, locks: dict[str, str], data: dict | None = None) -> tuple[int, str]:
    """Run the checker on lock files with the given contents; (exit status, stderr+stdout)."""
    data = dict(REAL if data is None else data)
    data["locks"] = {}
    for env, text in locks.items():
        path = tmp_path / f"{env}.lock"
        path.write_text(text)
        data["locks"][env] = str(path)
    advisories = tmp_path / "advisories.yml"
    advisories.write_text(yaml.safe_dump(data))
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = checker.main(["--advisories", str(advisories)])
    return status, out.getvalue()


def test_the_project_locks_pass() -> None:
    """The real lock files: nothing affected without a documented exception."""
    assert checker.main(["--quiet"]) == 0


def test_rasa_below_3_6_21_fails(tmp_path: Path) -> None:
    status, out = run(tmp_path, {"rasa": "rasa==3.6.20 \\\n    --hash=sha256:00\n", "app": ""})
    assert status == 1
    assert "GHSA-cpv4-ggrr-7j9v" in out and "CVE-2024-49375" in out and "3.6.21" in out


def test_app_aiohttp_below_3_13_fails_and_has_no_exception(tmp_path: Path) -> None:
    status, out = run(tmp_path, {"rasa": "", "app": "aiohttp==3.12.15\n"})
    assert status == 1
    assert "VULNERABLE app: aiohttp==3.12.15" in out and "3.13.3" in out


def test_rasa_env_aiohttp_exception_is_accepted(tmp_path: Path) -> None:
    """Rasa's pinned aiohttp 3.9.5 passes only because of its documented exception."""
    locks = {"rasa": "aiohttp==3.9.5\n", "app": ""}
    data = dict(REAL)
    others = [e for e in REAL["exceptions"] if e["package"] != "aiohttp"]
    status, _ = run(
        tmp_path,
        locks,
        {**data, "exceptions": [e for e in REAL["exceptions"] if e["package"] == "aiohttp"]},
    )
    assert status == 0
    status, out = run(tmp_path, locks, {**data, "exceptions": others})
    assert status == 1 and "GHSA-8495-4g3g-x7pr" in out


def test_stale_exception_fails(tmp_path: Path) -> None:
    """An exception that covers nothing any more must be removed."""
    status, out = run(tmp_path, {"rasa": "aiohttp==3.14.5\n", "app": ""})
    assert status == 1 and "no longer matches the lock" in out


@pytest.mark.parametrize(
    ("version", "affected"),
    [("21.12.1", True), ("21.12.2", False), ("22.6.0", True), ("22.6.1", False), ("20.12.6", True)],
)
def test_ranges_per_branch(version: str, affected: bool) -> None:
    sanic = next(
        a
        for a in checker.load(ROOT / "security" / "advisories.yml")[1]
        if a.id == "GHSA-8cw9-5hmv-77w6"
    )
    assert sanic.affects(version) is affected


def test_exception_needs_a_reason(tmp_path: Path) -> None:
    broken = dict(REAL)
    broken["exceptions"] = [{**REAL["exceptions"][0], "reason": ""}]
    status, out = run(tmp_path, {"rasa": "", "app": ""}, broken)
    assert status == 1 and "missing 'reason'" in out


def test_lock_parsing_handles_extras_hashes_and_markers(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    lock.write_text(
        "# comment\nPyJWT==2.15.1 \\\n    --hash=sha256:ab\npymongo[srv,tls]==4.3.3 ; python_version >= '3.8'\n"
        "    # via rasa\nruamel.yaml==0.17.21\n"
    )
    assert checker.locked_versions(lock) == {
        "pyjwt": "2.15.1",
        "pymongo": "4.3.3",
        "ruamel-yaml": "0.17.21",
    }


def test_keras_2_12_model_loading_advisory_is_known_and_accepted_only_for_rasa(
    tmp_path: Path,
) -> None:
    """CVE-2024-3660 (code execution loading a crafted Keras model) is listed; Rasa's pinned
    keras 2.12 passes only through its documented exception (we load only models we trained
    and hash-checked), and the same version anywhere else fails."""
    [exception] = [e for e in REAL["exceptions"] if e["package"] == "keras"]
    assert "GHSA-x4wf-678h-2pmq" in exception["ids"] and "SHA-256" in exception["reason"]
    locks = {"rasa": "keras==2.12.0\ntensorflow==2.12.0\n", "app": "keras==2.12.0\n"}
    status, out = run(tmp_path, locks)
    assert status == 1
    assert "VULNERABLE app: keras==2.12.0 GHSA-x4wf-678h-2pmq (CVE-2024-3660)" in out
    assert "VULNERABLE rasa" not in out
    status, out = run(tmp_path, {"rasa": "keras==2.13.1\ntensorflow==2.12.1\n", "app": ""})
    assert status == 1 and "no longer matches the lock" in out  # fixed: drop the exceptions
