"""Rasa server processes: which one serves, and swapping models without a pause.

A model swap never loads a model into the serving process (``PUT /model`` blocked every
conversation of that process for 10-40 s). Instead:

1. a **second Rasa process** is started with the new model, on another port, sharing the
   tracker store (the database) and the action server;
2. its health is checked with a **smoke conversation**: a greeting must be answered and a
   crisis message must get the crisis reply (``utter_crisis``, read from the new server's
   own domain); the smoke conversation's rows are then deleted from the tracker database;
3. the **serving file** (``RASA_SERVING_FILE``, default ``var/rasa-serving.json``, 0600) is
   switched to it atomically. The web app's chat proxy reads that file on every turn (a
   ``stat``; it re-reads it only when it changed), so every new turn goes to the new process;
4. the old process **drains** (``RASA_DRAIN_SECONDS``, default 12: longer than the chat
   proxy's Rasa timeout, so every turn sent to it before the switch has finished or been
   given up), then gets SIGTERM (Sanic finishes requests still open) and SIGKILL after 30 s.

If the new process does not start, load or pass the smoke conversation, it is stopped and
nothing changes. Steps 1 and 2-4 are also available apart (``prepare`` / ``commit`` /
``abandon``): the retraining runner loads the candidate while it is still being evaluated.
(This module runs a little over 400 lines: the steps share the serving file's state and its
lock; the process helpers already live in ``rasa_process`` and ``health``, and moving the port
and draining helpers there would make ``rasa_process`` import ``health`` back.)
The serving file also holds how Rasa was started (``launch``: command line
with ``{port}`` and ``{model}`` placeholders, the environment it needs, the ports it may use),
written by whoever started the first process (``scripts/run.sh`` through ``start`` below, the
tests through ``start_first``), so the swap starts the next one the same way.

Per conversation, turns never run in two processes at once: the chat proxy sends one turn
per conversation at a time and picks the process when the turn starts, so a conversation's
turn on the old process ends before its next turn goes to the new one, which reads the
tracker from the database. Callers that bypass the proxy (direct REST to a Rasa port) get no
such guarantee while two processes run; on PostgreSQL the advisory-lock lock store
(``rasa_addons/lock_store.py``) covers them across processes.

Command line (``scripts/run.sh``)::

    python -m admissions.training.serving start --state F --port P --ports P,Q --model M \
        --log-dir D -- rasa-argv-with-{port}-and-{model}
    python -m admissions.training.serving register --pid N ...same...   # started already
    python -m admissions.training.serving stop-all --state F
    python -m admissions.training.serving pid|url --state F
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from admissions.training.health import (  # noqa: F401 - re-exported: serving's API
    SMOKE_CRISIS,
    SMOKE_GREETING,
    SMOKE_PREFIX,
    SwapError,
    delete_conversation,
    smoke_test,
    wait_ready,
)
from admissions.training.rasa_process import (  # noqa: F401 - re-exported: serving's API
    _ENV_NAMES,
    LOAD_NICE,
    _log_tail,
    alive,
    can_raise_priority,
    current_url,
    live_state,
    port_free,
    read_state,
    serving_pids,
    set_nice,
    start_process,
    stop,
    write_state,
)
from admissions.training.yielding import Yielder

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swap:
    """What a swap did."""

    url: str
    pid: int
    previous_pid: int | None
    seconds_to_ready: float  # start -> healthy and smoke-tested
    seconds_to_switch: float  # start -> the proxy sends new turns to it
    seconds_total: float  # including the old process's drain and stop


# ----- the swap ---------------------------------------------------------------------------------
def _pick_port(state: Mapping[str, Any]) -> int:
    launch = state["launch"]
    host = str(launch.get("host") or "127.0.0.1")
    busy = {int(state["port"])} | {int(d["port"]) for d in state.get("draining") or []}
    for port in [int(p) for p in launch.get("ports") or []]:
        if port not in busy and port_free(host, port):
            return port
    raise SwapError(
        "no free port for the new Rasa server (ports "
        + ", ".join(str(p) for p in launch.get("ports") or [])
        + " are in use)"
    )


@dataclass(frozen=True)
class Prepared:
    """A new Rasa process with the model loaded, not serving yet (``prepare``)."""

    url: str
    port: int
    pid: int
    model: str
    nice: int
    launch: Mapping[str, Any]
    started: float  # monotonic
    state_file: Path
    # pauses it while the serving process answers a turn, until it takes over (``release``)
    yielder: Yielder | None = field(default=None, compare=False)

    def release(self) -> None:
        """Stop pausing it for chat turns (it is about to serve, or to be stopped)."""
        if self.yielder is not None:
            self.yielder.stop()

    def usable_for(self, model: Path) -> bool:
        """Whether this process can take over for ``model``."""
        return self.model == str(model.resolve()) and alive(self.pid)


async def prepare(
    state_file: Path,
    model: Path,
    *,
    jwt_secret: str | None,
    start_timeout: float = 300.0,
    load_nice: int = LOAD_NICE,
) -> Prepared:
    """Start a Rasa process with ``model`` beside the serving one and wait until it has
    loaded it (at ``load_nice``, in the idle class and paused during chat turns, when we can
    raise it later; 0: at normal priority). Nothing switches yet: ``commit`` puts it in
    service, ``abandon`` stops it. The retraining runner calls this while the candidate is
    still being evaluated, so loading costs no time on the way to live."""
    state = read_state(state_file)
    if state is None or not state.get("launch"):
        raise SwapError(f"no serving file at {state_file}: the Rasa server was not started by us")
    started = time.monotonic()
    launch = state["launch"]
    port = _pick_port(state)
    host = str(launch.get("host") or "127.0.0.1")
    url = f"http://{host}:{port}"
    model_path = str(model.resolve())
    load_nice = load_nice if can_raise_priority() else 0
    pid = await asyncio.to_thread(start_process, launch, port, model_path, load_nice)
    yielder = None
    if load_nice:  # loading TensorFlow and the model gives way to the serving process too
        yielder = Yielder(pid, lambda: serving_pids(state_file))
        yielder.start()
    prepared = Prepared(url, port, pid, model_path, load_nice, launch, started, state_file, yielder)
    try:
        await wait_ready(url, model_path, pid, jwt_secret, start_timeout)
    except BaseException as exc:  # noqa: BLE001 - stop it whatever happened; re-raised
        await abandon(prepared)
        raise _failed(exc, launch, port) from None
    return prepared


async def abandon(prepared: Prepared) -> None:
    """Stop a prepared process that will not serve (never the one serving now)."""
    await asyncio.to_thread(prepared.release)
    state = read_state(prepared.state_file)
    if state is not None and int(state.get("pid") or 0) == prepared.pid:
        return
    await asyncio.to_thread(stop, prepared.pid, prepared.port, 10.0)


def _failed(exc: BaseException, launch: Mapping[str, Any], port: int) -> BaseException:
    if isinstance(exc, SwapError):
        return exc
    if not isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, OSError)):
        return exc  # cancellation and the like: as they are
    tail = _log_tail(launch, port)
    why = str(exc) or type(exc).__name__
    return SwapError(why + (f"; the end of its log:\n{tail}" if tail else ""))


async def commit(
    state_file: Path,
    prepared: Prepared,
    *,
    jwt_secret: str | None,
    tracker_db_url: str = "",
    drain_seconds: float = 12.0,
    on_switch: Any = None,
) -> Swap:
    """Put a prepared process in service: normal priority, smoke conversation, switch, then
    drain and stop the process that served until now. On a failed check it is stopped and
    nothing changes (``SwapError``)."""
    started = prepared.started
    try:
        await asyncio.to_thread(prepared.release)
        if prepared.nice and not await asyncio.to_thread(set_nice, prepared.pid, 0):
            raise SwapError("could not give the new Rasa server normal CPU priority")
        sender = await smoke_test(prepared.url, jwt_secret)
    except BaseException as exc:  # noqa: BLE001 - stop it whatever happened; re-raised
        await abandon(prepared)
        raise _failed(exc, prepared.launch, prepared.port) from None
    ready = time.monotonic() - started
    await asyncio.to_thread(delete_conversation, tracker_db_url, sender)
    state = read_state(state_file)
    if state is None:
        await abandon(prepared)
        raise SwapError(f"the serving file {state_file} disappeared (the system is stopping?)")
    old = {"pid": int(state["pid"]), "port": int(state["port"])}
    new_state = {
        **state,
        "url": prepared.url,
        "port": prepared.port,
        "pid": prepared.pid,
        "model": prepared.model,
        "started_at": time.time(),
        "generation": int(state.get("generation") or 0) + 1,
        "draining": [*(state.get("draining") or []), old],
    }
    await asyncio.to_thread(write_state, state_file, new_state)
    switched = time.monotonic() - started
    logger.info(
        "Rasa: serving from port %s (pid %s); old pid %s draining",
        prepared.port,
        prepared.pid,
        old["pid"],
    )
    if on_switch is not None:
        await on_switch()
    await asyncio.sleep(drain_seconds)
    await asyncio.to_thread(stop, old["pid"], old["port"])
    await asyncio.to_thread(_forget_draining, state_file, old["pid"])
    return Swap(prepared.url, prepared.pid, old["pid"], ready, switched, time.monotonic() - started)


async def swap(
    state_file: Path,
    model: Path,
    *,
    jwt_secret: str | None,
    tracker_db_url: str = "",
    drain_seconds: float = 12.0,
    start_timeout: float = 300.0,
    on_switch: Any = None,
    prepared: Prepared | None = None,
    load_nice: int = LOAD_NICE,
) -> Swap:
    """Serve ``model`` from a new Rasa process, switch the proxy to it, drain and stop the old.

    ``prepared``: a process already loading or loaded with this model (``prepare``); used when
    it is still alive, else stopped and a new one started. ``on_switch`` (an async callable)
    runs right after the switch, before the drain (the caller records the new live model
    there). ``load_nice``: as for ``prepare``. Raises ``SwapError`` with nothing changed when
    the new process cannot take over.
    """
    if prepared is not None and not prepared.usable_for(model):
        await abandon(prepared)
        prepared = None
    if prepared is None:
        prepared = await prepare(
            state_file,
            model,
            jwt_secret=jwt_secret,
            start_timeout=start_timeout,
            load_nice=load_nice,
        )
    return await commit(
        state_file,
        prepared,
        jwt_secret=jwt_secret,
        tracker_db_url=tracker_db_url,
        drain_seconds=drain_seconds,
        on_switch=on_switch,
    )


def _forget_draining(state_file: Path, pid: int) -> None:
    state = read_state(state_file)
    if state is None:
        return
    draining = [d for d in state.get("draining") or [] if int(d["pid"]) != pid]
    write_state(state_file, {**state, "draining": draining})


def start_first(
    state_file: Path,
    *,
    argv: Sequence[str],
    port: int,
    ports: Sequence[int],
    model: str,
    log_dir: Path,
    env: Mapping[str, str],
    cwd: Path,
    host: str = "127.0.0.1",
    pid: int | None = None,
) -> dict[str, Any]:
    """Start the first Rasa process and write the serving file (does not wait for it).

    ``pid``: the first process was started by the caller already (``scripts/run.sh`` keeps it
    as its own child); only record it.
    """
    old = read_state(state_file)
    if old is not None and int(old.get("pid") or 0) != pid:
        stop_all(state_file)  # a previous run's processes (killed without clean-up)
    launch = {
        "argv": list(argv),
        "env": dict(env),
        "cwd": str(cwd),
        "ports": sorted({int(port), *(int(p) for p in ports)}),
        "host": host,
        "log_dir": str(log_dir),
    }
    model_path = str(Path(model).resolve())
    if pid is None:
        pid = start_process(launch, port, model_path)
    state = {
        "url": f"http://{host}:{port}",
        "port": port,
        "pid": pid,
        "model": model_path,
        "started_at": time.time(),
        "generation": 1,
        "draining": [],
        "launch": launch,
    }
    write_state(state_file, state)
    return state


def stop_all(state_file: Path) -> None:
    """Stop the serving and draining Rasa processes of the serving file, then remove it."""
    state = read_state(state_file)
    if state is None:
        return
    procs = [(int(state["pid"]), int(state["port"]))]
    procs += [(int(d["pid"]), int(d["port"])) for d in state.get("draining") or []]
    threads = [threading.Thread(target=stop, args=(pid, port, 20.0)) for pid, port in procs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with contextlib.suppress(OSError):
        state_file.unlink()


def main(argv: Sequence[str] | None = None) -> int:
    """``start`` | ``stop-all`` | ``pid`` | ``url`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m admissions.training.serving")
    parser.add_argument("command", choices=("start", "register", "stop-all", "pid", "url"))
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--port", type=int)
    parser.add_argument("--ports", default="")
    parser.add_argument("--model")
    parser.add_argument("--log-dir", type=Path)
    parser.add_argument("--pid", type=int, help="register: the Rasa process already started")
    words = list(sys.argv[1:] if argv is None else argv)
    rasa_argv: list[str] = []
    if "--" in words:  # everything after "--" is Rasa's command line
        cut = words.index("--")
        words, rasa_argv = words[:cut], words[cut + 1 :]
    args = parser.parse_args(words)
    args.rasa_argv = rasa_argv
    if args.command in ("start", "register"):
        if not (args.port and args.model and args.log_dir and args.rasa_argv):
            parser.error(f"{args.command} needs --port, --model, --log-dir and the Rasa argv")
        if args.command == "register" and not args.pid:
            parser.error("register needs --pid")
        ports = [int(p) for p in args.ports.split(",") if p.strip()]
        env = {k: v for k, v in os.environ.items() if _ENV_NAMES.fullmatch(k)}
        state = start_first(
            args.state,
            argv=args.rasa_argv,
            port=args.port,
            ports=ports,
            model=args.model,
            log_dir=args.log_dir,
            env=env,
            cwd=Path.cwd(),
            pid=args.pid if args.command == "register" else None,
        )
        print(state["pid"])
        return 0
    if args.command == "stop-all":
        stop_all(args.state)
        return 0
    found = read_state(args.state)
    if found is None:
        return 1
    print(found["pid"] if args.command == "pid" else found["url"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
