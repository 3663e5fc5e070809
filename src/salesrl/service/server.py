"""Run the service with uvicorn (one worker: live sessions and locks are per process)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from salesrl.service.settings import Settings

if TYPE_CHECKING:
    from salesrl.service.engine import Engine


def run(settings: Settings, *, log_level: str = "info", access_log: bool = False,
        engine: Engine | Callable[[], Engine] | None = None) -> None:
    """Serve ``create_app(settings, engine)`` on ``settings.host:settings.port`` until stopped
    (``engine``: an engine, a zero-argument loader, or None for the baseline)."""
    import uvicorn

    from salesrl.service.app import create_app

    uvicorn.run(create_app(settings, engine), host=settings.host, port=settings.port, workers=1,
                log_level=log_level, access_log=access_log, timeout_graceful_shutdown=5)


def main(argv: list[str] | None = None) -> None:
    """``python -m salesrl.service [--host H] [--port P] [--db URL]``: the placeholder engine
    (no model to load; the durability test kills it under load). ``salesrl serve`` serves the
    trained agent."""
    parser = argparse.ArgumentParser(prog="python -m salesrl.service")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--db", help="SQLAlchemy URL or SQLite file (default salesrl.db)")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--access-log", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings.from_env(host=args.host, port=args.port, db_url=args.db)
    run(settings, log_level=args.log_level, access_log=args.access_log)
