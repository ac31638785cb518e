"""Real servers for the benchmarks, on free loopback ports (stdlib only).

The same start-up as ``benchmarks/simulate.py`` (``models/admissions.tar.gz``, a fresh SQLite
tracker store, ``ADMISSIONS_CLOCK`` fixed so replies are deterministic), without importing
``tests/``; plus a stock ``rasa init`` assistant trained once with the project's own Rasa and
cached under ``build/bench-load/stock-rasa-<version>/``.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from scripts import stack as launch  # noqa: E402
from scripts.stack import TEST_CLOCK as CLOCK  # noqa: E402
from scripts.stack import Process, free_port, start, wait_http  # noqa: E402

BIN = launch.RASA_BIN
MODEL = launch.MODEL
CACHE = ROOT / "build" / "bench-load"
__all__ = ["CLOCK", "MODEL", "Process", "admissions_servers", "free_port", "start", "wait_http"]

Wrap = Callable[[str, list[str]], list[str]]  # (name, command) -> command to run instead


def _env(**extra: str) -> dict[str, str]:
    env = launch.server_env()
    for name in ("FACILITY_FILE", "SPACY_PIPELINE"):  # only where asked for (the stock bot)
        env.pop(name, None)
    env.update(extra)
    return env


def _rasa_run(model: Path, port: int) -> list[str]:
    return launch.rasa_argv(port, model)


@contextlib.contextmanager
def admissions_servers(
    tmp: Path,
    wrap: Wrap | None = None,
    started: list[Process] | None = None,
    code: Path = ROOT,
) -> Iterator[str]:
    """This assistant: Rasa + action server on loopback, fresh SQLite tracker at tmp/tracker.db.

    ``wrap`` may change each server's command (a profiler); ``started`` receives the processes;
    ``code`` is the source tree the servers run from (see ``head_snapshot``).
    """
    rasa_port, actions_port = free_port(), free_port()
    env = _env(
        ACTIONS_PORT=str(actions_port),
        TRACKER_DB_PATH=str(tmp / "tracker.db"),
        TRACKER_DB_URL=f"sqlite:///{tmp / 'tracker.db'}",
        FACILITY_FILE=str(code / "facility.yml"),
        SPACY_PIPELINE=str(ROOT / "build" / "spacy" / "admissions_en"),
        ADMISSIONS_CLOCK=CLOCK,
    )
    actions_cmd = launch.actions_argv(actions_port)
    rasa_cmd = _rasa_run(MODEL, rasa_port)
    if wrap:
        actions_cmd, rasa_cmd = wrap("actions", actions_cmd), wrap("rasa", rasa_cmd)
    procs = [start("actions", actions_cmd, env, tmp / "actions.log", cwd=code)]
    procs.append(start("rasa", rasa_cmd, env, tmp / "rasa.log", cwd=code))
    if started is not None:
        started += procs
    try:
        wait_http(procs[0], f"http://127.0.0.1:{actions_port}/health", 180)
        wait_http(procs[1], f"http://127.0.0.1:{rasa_port}/status", 400)
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        for proc in procs[::-1]:
            proc.stop()


def head_snapshot(target: Path) -> str:
    """The committed code (``git archive HEAD``, read only) in ``target``; its commit.

    For measuring while others edit the working tree. ``build/`` (the spaCy pipeline) is linked
    from the repository; the model is ``models/admissions.tar.gz`` as it is.
    """
    commit = subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout.strip()  # fmt: skip
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    (target / "build").symlink_to(ROOT / "build")
    return commit


def rasa_version() -> str:
    """The version of the project's Rasa (without importing it here)."""
    out = subprocess.run(
        [str(BIN / "python"), "-c", "import rasa; print(rasa.__version__)"],
        capture_output=True, text=True, check=True, env=_env(),
    )  # fmt: skip
    return out.stdout.strip()


def stock_project(log: Callable[[str], None] = print) -> Path:
    """A stock ``rasa init`` project with its trained model, made once per Rasa version."""
    target = CACHE / f"stock-rasa-{rasa_version()}"
    if (target / "models" / "stock.tar.gz").exists():
        return target
    log(f"==> training a stock `rasa init` assistant once (a few minutes) -> {target}")
    with tempfile.TemporaryDirectory(prefix="stock-init-") as tmp:
        bot = Path(tmp) / "bot"
        bot.mkdir()
        with (Path(tmp) / "init.log").open("wb") as out:
            done = subprocess.run(
                [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(bot)],
                cwd=tmp, env=_env(), stdout=out, stderr=subprocess.STDOUT, timeout=1800,
            )  # fmt: skip
        if done.returncode != 0 or not list((bot / "models").glob("*.tar.gz")):
            raise RuntimeError("rasa init failed:\n" + (Path(tmp) / "init.log").read_text()[-3000:])
        install_stock(bot, target)
    return target


def install_stock(bot: Path, target: Path) -> None:
    """Copy a trained ``rasa init`` project to ``target``, its newest model as stock.tar.gz."""
    models = sorted((bot / "models").glob("*.tar.gz"))
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bot, staging, ignore=shutil.ignore_patterns(".rasa", "__pycache__", "*.tar.gz"))
    shutil.copy(models[-1], staging / "models" / "stock.tar.gz")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


@contextlib.contextmanager
def stock_server(tmp: Path, project: Path) -> Iterator[str]:
    """The stock assistant on loopback, with Rasa's own SQL tracker store at tmp/stock.db."""
    port = free_port()
    run_dir = tmp / "stock"
    run_dir.mkdir()
    (run_dir / "endpoints.yml").write_text(
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: {tmp / "stock.db"}\n'
    )
    shutil.copy(project / "credentials.yml", run_dir / "credentials.yml")
    proc = start(
        "stock rasa",
        _rasa_run(project / "models" / "stock.tar.gz", port),
        _env(),
        tmp / "stock.log",
        cwd=run_dir,
    )
    try:
        wait_http(proc, f"http://127.0.0.1:{port}/status", 400)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()
