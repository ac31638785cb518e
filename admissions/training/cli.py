"""Command line for retraining (``make retrain`` runs ``retrain``).

    python -m admissions.training retrain [--promote] [--by NAME]   # validate, train, test, gate
    python -m admissions.training promote MODEL_ID [--by NAME]      # gate-passed model -> live
    python -m admissions.training rollback MODEL_ID [--by NAME]     # an earlier live model -> live
    python -m admissions.training history                           # models, metrics, who, when
    python -m admissions.training runs                              # recent training runs

``retrain --run-id N`` carries out run N queued by the web app (it starts it that way).
Settings come from the environment (``admissions/training/settings.py``; README).
Exit status: 0 passed (and, with --promote, live), 1 rejected by the gate, failed or not put
live, 2 refused (another training is running).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from admissions.db import audit, migrate
from admissions.db.engine import create_engine
from admissions.training import history, pipeline, promote, rasacli
from admissions.training.gate import points
from admissions.training.settings import TrainingSettings


def _print_report(row: Any) -> None:
    print(f"run {row.id}: {row.status}")
    if row.explanation:
        print(row.explanation)
    report = pipeline.report_of(row)
    if not report:
        return
    before, after = report.get("baseline"), report["candidate"]
    if before:
        print(
            f"macro-F1 {points(before['heldout']['macro_f1'])} -> "
            f"{points(after['heldout']['macro_f1'])}; crisis recall "
            f"{points(after['crisis']['recall'])} %; stories "
            f"{after['stories']['passed']}/{after['stories']['total']}"
        )
    for check in report["gate"]["checks"]:
        print(f"  {'ok  ' if check['passed'] else 'FAIL'} {check['summary']}")
        for detail in check["details"][:10]:
            print(f"       {detail}")
    if row.candidate_id:
        print(f"model {row.candidate_id}; report: /staff/training/runs/{row.id}")


async def _retrain(
    settings: TrainingSettings, engine: AsyncEngine, args: argparse.Namespace
) -> int:
    if args.run_id is None:
        async with engine.begin() as conn:
            run_id = await history.create_run(conn, args.by, args.promote)
            detail = {"run": run_id, "promote": args.promote}
            await audit.insert_for_cli(conn, "retrain", detail, username=args.by)
        echo = True
    else:
        run_id, echo = args.run_id, False
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def stop() -> None:
        rasacli.stop_all()
        if task is not None:
            task.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        status = await pipeline.run(settings, engine, run_id, echo=echo)
    except asyncio.CancelledError:
        async with engine.begin() as conn:
            await history.fail_run(
                conn,
                run_id,
                "The training was stopped (interrupted). The live model is unchanged.",
            )
        return 1
    async with engine.connect() as conn:
        row = await history.get_run(conn, run_id)
        current = await history.live(conn)
    if echo and row is not None:
        _print_report(row)
    if status == "passed" and args.promote and row is not None:
        promoted = current is not None and current.id == row.candidate_id
        return 0 if promoted else 1
    return {"passed": 0, "refused": 2}.get(status, 1)


async def _go_live(
    settings: TrainingSettings, engine: AsyncEngine, args: argparse.Namespace
) -> int:
    try:
        result = await promote.go_live(
            settings,
            engine,
            args.model_id,
            by=args.by,
            action=args.command,
            audit_as=f"model_{args.command}",
            address="cli",
        )
    except promote.PromotionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"model {result.model_id} is live ({args.command}, {result.seconds:.1f} s)")
    return 0


async def _history(settings: TrainingSettings, engine: AsyncEngine) -> int:
    await promote.adopt_live(settings, engine)  # a model made by `make train` shows too
    async with engine.connect() as conn:
        models = await history.list_models(conn)
    for m in models:
        row, metrics = m["row"], m["metrics"] or {}
        f1 = metrics.get("heldout", {}).get("macro_f1")
        print(
            f"{'*' if m['live'] else ' '} {row.id:4d} {row.created_at:%Y-%m-%d %H:%M} "
            f"{row.origin:8s} {row.trained_by:20s} gate={row.gate_passed!s:5s} "
            f"macroF1={points(f1) if f1 is not None else '—':5s} {row.sha256[:12]}"
        )
    return 0


async def _runs(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        for row in await history.list_runs(conn, 20):
            print(
                f"{row.id:4d} {row.requested_at:%Y-%m-%d %H:%M} {row.status:9s} {row.requested_by}"
            )
    return 0


async def _main(args: argparse.Namespace) -> int:
    settings = TrainingSettings.from_env()
    if getattr(args, "offline", False):
        settings = dataclasses.replace(settings, promote_offline=True)
    await asyncio.to_thread(migrate.upgrade, settings.app_db_url)
    engine = create_engine(settings.app_db_url)
    try:
        if args.command == "retrain":
            return await _retrain(settings, engine, args)
        if args.command in ("promote", "rollback"):
            return await _go_live(settings, engine, args)
        if args.command == "history":
            return await _history(settings, engine)
        return await _runs(engine)
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run the command."""
    parser = argparse.ArgumentParser(
        prog="python -m admissions.training",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("retrain", help="validate, train, evaluate and gate a new model")
    p.add_argument("--promote", action="store_true", help="put it live if it passes the gate")
    p.add_argument(
        "--offline",
        action="store_true",
        help="with --promote: only replace the live model file (no Rasa server is running)",
    )
    p.add_argument("--run-id", type=int, help=argparse.SUPPRESS)
    p.add_argument("--by", default=audit.cli_actor())
    for name in ("promote", "rollback"):
        p = sub.add_parser(name, help=f"{name} a model by its id (see `history`)")
        p.add_argument("model_id", type=int)
        p.add_argument("--by", default=audit.cli_actor())
    sub.add_parser("history", help="list the model history")
    sub.add_parser("runs", help="list recent training runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
