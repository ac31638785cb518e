"""The staff app: ``init_app()`` builds it, ``python -m admissions.web`` serves it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from admissions.db import migrate
from admissions.db.engine import create_engine, ensure_sqlite_dir
from admissions.db.summaries import SummaryIndex
from admissions.facility import load_facility
from admissions.training.settings import TrainingSettings
from admissions.web import demo, outbox, retention, security, templating
from admissions.web.accesslog import AccessLogger
from admissions.web.chat_proxy import CHAT_CONFIG
from admissions.web.denials import DenialLimiter
from admissions.web.keys import (
    APP_DB,
    AUDIT_KEY,
    DENIALS,
    FACILITY,
    PASSWORD_SLOTS,
    SETTINGS,
    SUMMARIES,
    TRACKER_DB,
    TRAINING,
)
from admissions.web.middlewares import (
    csrf_middleware,
    error_middleware,
    proxy_middleware,
    session_middleware,
)
from admissions.web.routes import setup_routes
from admissions.web.settings import Settings

logger = logging.getLogger("admissions.web")


async def databases(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: migrate the app's own database, open both engines, close them."""
    settings = app[SETTINGS]
    await asyncio.to_thread(migrate.upgrade, settings.app_db_url)
    ensure_sqlite_dir(settings.tracker_db_url)
    app[APP_DB] = create_engine(settings.app_db_url)
    app[TRACKER_DB] = create_engine(settings.tracker_db_url, foreign_keys=False)
    app[SUMMARIES] = SummaryIndex()
    warm = asyncio.create_task(_warm_summaries(app), name="warm-summaries")
    yield
    await warm  # never cancelled mid-query: a cancelled aiosqlite call outlives the loop
    await app[APP_DB].dispose()
    await app[TRACKER_DB].dispose()


async def _warm_summaries(app: web.Application) -> None:
    """Build the conversation index at start so the first list page is fast too."""
    try:
        async with app[TRACKER_DB].connect() as conn:
            await app[SUMMARIES].refresh(conn)
    except Exception:
        logger.warning("could not pre-build the conversation index", exc_info=True)


def init_app(
    settings: Settings | None = None, training: TrainingSettings | None = None
) -> web.Application:
    """Build the app: settings, templates, databases, routes, headers, the purge job, the demo."""
    settings = settings or Settings.from_env()
    training = (training or TrainingSettings.from_env()).with_changes(
        app_db_url=settings.app_db_url, tracker_db_url=settings.tracker_db_url
    )
    app = web.Application(
        middlewares=[proxy_middleware, error_middleware, session_middleware, csrf_middleware],
        client_max_size=256 * 1024,
    )
    app[SETTINGS] = settings
    app[TRAINING] = training
    app[PASSWORD_SLOTS] = asyncio.Semaphore(settings.password_checks)
    app[DENIALS] = DenialLimiter()
    app[FACILITY] = load_facility(settings.facility_file)
    templating.setup(app)
    app.cleanup_ctx.append(databases)
    app.cleanup_ctx.append(retention.retention_job)
    app.cleanup_ctx.append(outbox.outbox_job)
    setup_routes(app)
    security.setup(app)
    demo.setup_demo(app)
    app[AUDIT_KEY] = hmac.new(
        app[CHAT_CONFIG].secret, b"audit log: unknown usernames", hashlib.sha256
    ).digest()
    if not any(getattr(r, "canonical", None) == "/" for r in app.router.resources()):

        async def root(request: web.Request) -> web.StreamResponse:
            return web.Response(status=302, headers={"Location": "/staff/"})

        app.router.add_get("/", root)
    return app


def main() -> None:
    """Serve on ADMISSIONS_WEB_HOST:ADMISSIONS_WEB_PORT (default 127.0.0.1:8080)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    app = init_app(settings)
    logger.info("staff app on http://%s:%s/staff/", settings.host, settings.port)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        access_log_class=AccessLogger,
        print=None,
    )
