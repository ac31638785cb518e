"""The staff app's production lock holds no test tools (issue 15 item 15): they are in their own
lock, installed by the Makefile only for test and lint targets; both locks agree on shared pins,
and every pin carries hashes (installed with ``--require-hashes`` by ``scripts/install-lock.sh``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)")
DEV_TOOLS = re.compile(
    r"^(pytest.*|selenium|ruff|mypy|mypy-extensions|types-.*|trio|trio-websocket|outcome|"
    r"iniconfig|pluggy|pygments|wsproto|websocket-client|pysocks|sortedcontainers)$"
)


def pins(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """``{package: (version, hashes)}`` of a lock file."""
    out: dict[str, tuple[str, frozenset[str]]] = {}
    current = None
    hashes: set[str] = set()
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            if current:
                out[current[0]] = (current[1], frozenset(hashes))
            current, hashes = (match.group(1).lower(), match.group(2)), set()
        hashes.update(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    if current:
        out[current[0]] = (current[1], frozenset(hashes))
    return out


def test_production_lock_has_no_test_tools_and_has_the_second_factor() -> None:
    app = pins("app.lock")
    assert not [name for name in app if DEV_TOOLS.match(name)]
    assert {"pyotp", "segno"} <= set(app)
    assert "pytest" not in (ROOT / "requirements" / "app.in").read_text()


def test_dev_lock_has_the_tools_and_agrees_with_production() -> None:
    app, dev = pins("app.lock"), pins("app-dev.lock")
    assert {"pytest", "pytest-aiohttp", "selenium", "mypy", "ruff", "types-pyyaml"} <= set(dev)
    for name in set(app) & set(dev):
        assert app[name] == dev[name], name  # same version, same hashes


def test_every_pin_has_hashes() -> None:
    for lock in ("app.lock", "app-dev.lock", "rasa.lock", "tools.lock"):
        for name, (_, hashes) in pins(lock).items():
            assert hashes, f"{lock}: {name} has no --hash"


def test_only_test_and_lint_targets_install_the_dev_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()

    def prerequisites(target: str) -> str:
        match = re.search(rf"^{re.escape(target)}:([^#\n]*)", makefile, re.M)
        assert match, target
        return match.group(1)

    assert "requirements/app-dev.lock" in prerequisites("$(APP_DEV)")
    assert "$(APP_VENV)/.installed" in prerequisites("$(APP_DEV)")
    app_test_targets = ("test-app-unit", "test-app-live", "test-training-unit")
    for target in (*app_test_targets, "test-retrain-e2e", "test-swap-e2e", "test-browser", "lint"):
        assert "$(APP_DEV)" in prerequisites(target), target
    assert "$(APP_DEV)" in prerequisites("env-app")  # what `make test` sets up first
    for target in ("run", "setup", "admin", "purge", "retrain"):
        assert "APP_DEV" not in prerequisites(target), target
    for env, lock in (("PY", "rasa"), ("APP_PY", "app"), ("APP_PY", "app-dev")):
        assert f"scripts/install-lock.sh $({env}) requirements/{lock}.lock" in makefile


def test_locks_are_installed_with_hashes_and_without_resolving() -> None:
    script = (ROOT / "scripts" / "install-lock.sh").read_text().replace("\\\n", " ")
    commands = [line for line in script.splitlines() if "pip install" in line]
    assert len(commands) == 3, commands  # uv itself, uv's install, pip's fallback
    for line in commands:
        assert "--require-hashes --no-deps" in line, line
    assert "--compile-bytecode" in script  # the Makefile sets PYTHONDONTWRITEBYTECODE
    assert set(pins("tools.lock")) == {"uv"}
