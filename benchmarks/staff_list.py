"""Staff list-page latency with many synthetic conversations (median of N loads).

    .venv/app/bin/python benchmarks/staff_list.py [--count 10000] [--loads 20]

Seeds a throw-away SQLite tracker store (Rasa's ``events`` format) with ``--count`` synthetic
conversations, starts the real staff app on 127.0.0.1 (random port), signs in, and times
``--loads`` full HTTP loads of the conversation list (and a few variants). Figures go to
``benchmarks/results/staff_list.json``. Only loopback traffic; bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from admissions.db import migrate, staff, synthetic, transcripts  # noqa: E402
from admissions.db.engine import create_engine, create_sync_engine  # noqa: E402
from admissions.web import auth  # noqa: E402
from admissions.web.keys import SUMMARIES, TRACKER_DB  # noqa: E402
from admissions.web.main import init_app  # noqa: E402
from admissions.web.settings import Settings  # noqa: E402

PASSWORD = "benchmark passphrase, not a real one"
DEFAULT = "default list (not yet reviewed; crisis and callbacks first)"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
ROW_RE = re.compile(r">Open</a>")


def seed(url: str, count: int) -> int:
    engine = create_sync_engine(url, foreign_keys=False)
    with engine.begin() as conn:
        added = synthetic.seed(conn, count, now=time.time(), days=30, seed=42)
    engine.dispose()
    return added


async def make_user(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await staff.create_user(conn, "bench", auth.hash_password(PASSWORD), ["admissions"])
    await engine.dispose()


async def uncached_sql_ms(url: str, repeats: int = 5) -> float:
    """The per-conversation SQL aggregate alone, without the in-memory index (for reference)."""
    engine = create_engine(url, foreign_keys=False)
    times = []
    async with engine.connect() as conn:
        for _ in range(repeats):
            start = time.perf_counter()
            await transcripts.summaries(conn)
            times.append((time.perf_counter() - start) * 1000)
    await engine.dispose()
    return statistics.median(times)


async def timed_loads(session: aiohttp.ClientSession, url: str, loads: int) -> dict[str, Any]:
    times, rows = [], 0
    for _ in range(loads):
        start = time.perf_counter()
        async with session.get(url) as response:
            body = await response.text()
            assert response.status == 200, response.status
        times.append((time.perf_counter() - start) * 1000)
        rows = len(ROW_RE.findall(body))
    times.sort()
    return {
        "loads": loads,
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
        "min_ms": round(times[0], 1),
        "max_ms": round(times[-1], 1),
        "rows_on_page": rows,
    }


async def run(count: int, loads: int, workdir: Path) -> dict[str, Any]:
    settings = Settings(
        tracker_db_url=f"sqlite:///{workdir / 'tracker.db'}",
        app_db_url=f"sqlite:///{workdir / 'admissions.db'}",
        facility_file=ROOT / "facility.yml",
        retention_interval_minutes=0,
    )
    t0 = time.perf_counter()
    events_added = seed(settings.tracker_db_url, count)
    seed_s = time.perf_counter() - t0
    migrate.upgrade(settings.app_db_url)
    await make_user(settings.app_db_url)
    sql_ms = await uncached_sql_ms(settings.tracker_db_url)

    app = init_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    try:
        # time the index build the app does at start (the first list load waits for it)
        t0 = time.perf_counter()
        async with app[TRACKER_DB].connect() as conn:
            await app[SUMMARIES].refresh(conn)
        index_ready_ms = (time.perf_counter() - t0) * 1000
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(
            cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=60)
        ) as session:
            async with session.get(base + "/staff/login") as page:
                token = CSRF_RE.search(await page.text()).group(1)  # type: ignore[union-attr]
            async with session.post(
                base + "/staff/login",
                data={"csrf_token": token, "username": "bench", "password": PASSWORD},
                allow_redirects=False,
            ) as response:
                assert response.status == 303, response.status
            variants = {
                DEFAULT: "/staff/conversations",
                "all conversations, page 1": "/staff/conversations?reviewed=any",
                "all conversations, page 100": "/staff/conversations?reviewed=any&page=100",
                "crisis only": "/staff/conversations?reviewed=any&crisis=yes",
                "search by reference code": "/staff/conversations?code=K7F-2Q",
                "callback queue": "/staff/callbacks",
            }
            results = {}
            for name, path in variants.items():
                async with session.get(base + path) as warm:  # one warm-up load each
                    await warm.read()
                results[name] = {"path": path, **(await timed_loads(session, base + path, loads))}
    finally:
        await runner.cleanup()
    engine = sa.create_engine(settings.tracker_db_url)
    with engine.connect() as conn:
        listed = conn.exec_driver_sql("select count(distinct sender_id) from events").scalar_one()
    engine.dispose()
    return {
        "benchmark": "staff list page latency",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor_count": __import__("os").cpu_count(),
        },
        "database": "SQLite (tracker store and app database, files on local disk)",
        "conversations": count,
        "conversations_in_store": listed,
        "events": events_added,
        "seed_seconds": round(seed_s, 1),
        "sql_aggregate_uncached_median_ms": round(sql_ms, 1),
        "index_build_ms": round(index_ready_ms, 1),
        "headline": {
            "what": "median of full HTTP loads of /staff/conversations (signed in, audited)",
            "median_ms": results[DEFAULT]["median_ms"],
        },
        "variants": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results" / "staff_list.json"
    )
    args = parser.parse_args()
    if not 1 <= args.loads <= 1000 or not 1 <= args.count <= 200_000:
        raise SystemExit("--loads must be 1..1000 and --count 1..200000")
    with tempfile.TemporaryDirectory(prefix="staff-list-bench-") as tmp:
        result = asyncio.run(run(args.count, args.loads, Path(tmp)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {
                "headline": result["headline"],
                "variants": {k: v["median_ms"] for k, v in result["variants"].items()},
            },
            indent=2,
        )
    )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
