"""The FastAPI application factory: ``create_app(settings, engine=None)``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

import salesrl
from salesrl.service import errors
from salesrl.service.engine import BaselineEngine, Engine
from salesrl.service.limits import BodySizeLimit
from salesrl.service.live import LiveService
from salesrl.service.metrics import Metrics, MetricsMiddleware
from salesrl.service.routes import conversations, health, score, stream
from salesrl.service.settings import Settings
from salesrl.service.storage import Database

log = logging.getLogger("salesrl.service")

DESCRIPTION = """\
P(sale) after every turn of a live sales conversation.

Authenticate with an API key (`salesrl keys create --tenant T`) as `Authorization: Bearer <key>`
or `X-API-Key: <key>`. Errors are JSON `{"error", "detail", "field"}`.
"""


def _load_engine(engine: Engine | Callable[[], Engine] | None) -> Engine:
    if engine is None:
        return BaselineEngine()
    if hasattr(engine, "new_session"):
        return engine  # type: ignore[return-value]
    return engine()  # type: ignore[operator]


def create_app(settings: Settings | None = None,
               engine: Engine | Callable[[], Engine] | None = None) -> FastAPI:
    """Build the app. ``engine``: an engine, a zero-argument loader, or None for the baseline.

    At start-up (lifespan) the database is migrated to the latest schema and the engine is
    loaded, once; both are released at shutdown.
    """
    settings = settings or Settings.from_env()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.db_url, pool_size=settings.db_pool_size)
        await run_in_threadpool(db.migrate)
        loaded = await run_in_threadpool(_load_engine, engine)
        metrics.set_model(loaded.model_version, loaded)
        app.state.service = LiveService(settings, db, loaded, metrics)
        log.info("salesrl service ready: model %s, database %s", loaded.model_version,
                 db.engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            app.state.service.close()
            db.dispose()

    app = FastAPI(title="salesrl", version=salesrl.__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.metrics = metrics
    errors.install(app)
    for module in (conversations, score, stream, health):
        app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: times everything
    return app
