"""Run `make test`'s stages as a small plan: several at once, each after the stages it needs.

    python scripts/test_plan.py --jobs 3 lint test-python train test-e2e:train ...

Each argument is a make target, optionally followed by ``:`` and the comma-separated stages it
needs (``test-e2e:train`` starts once ``train`` passed). Stages start in the order given as soon
as a slot is free and what they need has passed; so put the longest chain first (the model).
Each stage's output goes to ``<logs>/<stage>.log``; with ``--jobs 1`` it is also shown as it
comes. ``--urgent STAGE`` names a stage on the critical path (the model): stages started while
it runs get ``nice 10``, so it keeps its core and the others use what is left. ``--light STAGE``
names a stage that mostly waits (model swaps, drains): it starts as soon as what it needs has
passed and takes no slot. At the end: a table of each stage's wall time and CPU time (the
stage's whole process tree, from ``wait4``) and the wall time of the plan.

The first failure stops the plan: no new stage starts, running ones get SIGINT (pytest then runs
its teardown and stops its servers; SIGTERM after 30 s, SIGKILL 15 s later), and the failed
stage's log is printed (its last ``--tail`` lines). Standard library only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    name: str
    needs: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0
    status: str = "waiting"  # waiting, running, ok, FAILED, stopped, not run
    tail_handle: object = field(default=None, repr=False)


def parse(specs: list[str], logs: Path) -> list[Stage]:
    stages: list[Stage] = []
    for spec in specs:
        name, _, needs = spec.partition(":")
        stages.append(Stage(name, [n for n in needs.split(",") if n], logs / f"{name}.log"))
    names = {s.name for s in stages}
    for s in stages:
        unknown = [n for n in s.needs if n not in names]
        if unknown:
            raise SystemExit(f"test plan: {s.name} needs {unknown}, which are not in the plan")
    return stages


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def last_line(path: Path) -> str:
    """The stage's last non-empty output line (pytest's summary), shortened."""
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    text = lines[-1] if lines else ""
    return text if len(text) <= 90 else text[:87] + "..."


def _default_sigint() -> None:
    """In the stage: SIGINT stops it, even when this plan was started with SIGINT ignored (in
    the background of a script, as `nohup make test &` does)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(stage: Stage, make: str, echo: bool, behind: bool = False) -> None:
    """Start ``make <stage>``; ``behind``: at nice 10, so an urgent stage keeps its CPU."""
    stage.log.parent.mkdir(parents=True, exist_ok=True)
    out = open(stage.log, "wb")  # closed when the stage ends (reap)
    command = [make, "--no-print-directory", stage.name]
    if behind and shutil.which("nice"):
        command = ["nice", "-n", "10", *command]
    stage.proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE if echo else out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGINT reaches pytest and servers
        preexec_fn=_default_sigint,
    )
    stage.tail_handle = out
    stage.started = time.monotonic()
    stage.status = "running"
    print(f"--> {time.strftime('%H:%M:%S')} start  {stage.name}", flush=True)


def pump(stage: Stage) -> None:
    """--jobs 1: copy the running stage's output to the log and the terminal as it comes."""
    assert stage.proc is not None and stage.proc.stdout is not None
    out = stage.tail_handle
    for chunk in iter(lambda: stage.proc.stdout.read1(65536), b""):  # type: ignore[union-attr]
        out.write(chunk)  # type: ignore[attr-defined]
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()


def reap(running: list[Stage], deadline: float | None) -> Stage:
    """Wait for any running stage to end; record its wall and CPU time.

    Past ``deadline`` (set once the plan is stopping) the stages still running are stopped
    harder: SIGTERM, then 15 s later SIGKILL, to their whole process groups.
    """
    escalated = 0
    while True:
        pid, status, usage = os.wait4(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            if deadline is not None and now > deadline + 15 * escalated and escalated < 2:
                signal_all(running, signal.SIGTERM if escalated == 0 else signal.SIGKILL)
                escalated += 1
            time.sleep(0.2)
            continue
        for stage in running:
            if stage.proc is not None and stage.proc.pid == pid:
                stage.proc.returncode = os.waitstatus_to_exitcode(status)
                stage.wall = time.monotonic() - stage.started
                stage.cpu = usage.ru_utime + usage.ru_stime
                stage.tail_handle.close()  # type: ignore[attr-defined]
                return stage


def signal_all(running: list[Stage], signum: int) -> None:
    """Send ``signum`` to each running stage's process group (its make, pytest and servers)."""
    for stage in running:
        if stage.proc is not None:
            try:
                os.killpg(stage.proc.pid, signum)
            except ProcessLookupError:
                pass


def report(stages: list[Stage], jobs: int, began: float) -> None:
    print(f"\n==> stage times (TEST_JOBS={jobs}; cpu = the stage's processes, user + system)")
    for s in stages:
        times = f"{clock(s.wall):>6}  cpu {clock(s.cpu):>6}" if s.wall else " " * 17
        tail = f"  {last_line(s.log)}" if s.status in ("ok", "FAILED") else ""
        print(f"    {s.name:<20} {times}  {s.status:<7}{tail}")
    print(f"    {'total (wall)':<20} {clock(time.monotonic() - began):>6}")


def run(
    stages: list[Stage],
    jobs: int,
    make: str,
    tail: int,
    grace: float = 30,
    urgent: frozenset[str] = frozenset(),
    light: frozenset[str] = frozenset(),
) -> int:
    began = time.monotonic()
    running: list[Stage] = []
    failed: Stage | None = None
    deadline: float | None = None  # once stopping: when SIGINT becomes SIGTERM
    while True:
        if failed is None:
            for stage in stages:
                # a light stage mostly waits (for servers, swaps): it takes no slot (jobs > 1)
                busy = sum(1 for r in running if jobs == 1 or r.name not in light)
                if busy >= jobs and not (jobs > 1 and stage.name in light):
                    continue
                done = {s.name for s in stages if s.status == "ok"}
                if stage.status == "waiting" and all(n in done for n in stage.needs):
                    behind = stage.name not in urgent and any(r.name in urgent for r in running)
                    start(stage, make, echo=jobs == 1, behind=behind)
                    running.append(stage)
                    if jobs == 1:
                        pump(stage)
        if not running:
            break
        try:
            stage = reap(running, deadline)
        except KeyboardInterrupt:  # Ctrl-C: the stages run in their own sessions, pass it on
            signal_all(running, signal.SIGINT)
            failed = failed or running[0]
            deadline = time.monotonic() + grace
            continue
        running.remove(stage)
        ok = stage.proc is not None and stage.proc.returncode == 0
        stage.status = "ok" if ok else ("stopped" if failed else "FAILED")
        mark = "ok  " if ok else stage.status
        print(
            f"<-- {time.strftime('%H:%M:%S')} {mark:<6} {stage.name}  {clock(stage.wall)}"
            f"  {last_line(stage.log)}",
            flush=True,
        )
        if not ok and failed is None:
            failed = stage
            signal_all(running, signal.SIGINT)  # pytest tears its servers down...
            deadline = time.monotonic() + grace  # ...or is stopped harder after that
    for stage in stages:
        if stage.status == "waiting":
            stage.status = "not run"
    if failed is not None and jobs > 1:
        lines = failed.log.read_text(errors="replace").splitlines()
        print(f"\n==> {failed.name} FAILED: the last {min(tail, len(lines))} lines of {failed.log}")
        print("\n".join(lines[-tail:]))
    report(stages, jobs, began)
    return 1 if failed is not None else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="+", help="make target[:needed,stages]")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("TEST_JOBS") or 3))
    parser.add_argument("--logs", type=Path, default=Path("var/test-logs"))
    parser.add_argument("--tail", type=int, default=200, help="lines of a failed stage's log")
    parser.add_argument(
        "--urgent",
        action="append",
        default=[],
        help="a stage on the critical path: stages started while it runs get nice 10",
    )
    parser.add_argument(
        "--light",
        action="append",
        default=[],
        help="a stage that mostly waits (little CPU): it runs beside the --jobs others",
    )
    parser.add_argument("--grace", type=float, default=30, help="seconds to stop after SIGINT")
    parser.add_argument("--make", default=os.environ.get("MAKE") or "make")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return run(
        parse(args.stages, args.logs),
        args.jobs,
        args.make,
        args.tail,
        args.grace,
        frozenset(args.urgent),
        frozenset(args.light),
    )


if __name__ == "__main__":
    sys.exit(main())
