"""``salesrl serve`` (the real-time API) and ``salesrl keys create`` (per-tenant API keys)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from salesrl.cli.app import app, console, friendly_errors, limit_thread_pools
from salesrl.conversation import DataError

DB_HELP = ("Database: a SQLAlchemy URL (sqlite:///path.db, postgresql://user:pw@host/db) or a "
           "SQLite file path. Default: SALESRL_DB_URL, else salesrl.db in the working directory.")

THREADS_HELP = ("Threads of torch's and the BLAS pools for the model's work. Default: what "
                "OMP_NUM_THREADS says when it is set, else 1 (a turn's arrays are tiny; more "
                "threads mostly spin).")


def _settings(**overrides: Any) -> Any:
    """Service settings from SALESRL_* variables and the options; bad values -> DataError."""
    from pydantic import ValidationError

    from salesrl.service.settings import Settings

    try:
        return Settings.from_env(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else None
        raise DataError(err["msg"], field=f"SALESRL_{name.upper()} / --{name.replace('_', '-')}"
                        if name else None) from None


keys_app = typer.Typer(help="Manage the API keys of the service.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command()
@friendly_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    log_level: str = typer.Option("info", help="uvicorn log level."),
    access_log: bool = typer.Option(False, help="Log every request."),
    model: Path | None = typer.Option(
        None, "--model", help="Model directory from 'salesrl train' (default: the shipped one)."),
    baseline: bool = typer.Option(
        False, "--baseline", help="Serve the rule-based placeholder engine instead (no model)."),
    torch_threads: int | None = typer.Option(None, "--torch-threads",
                                             envvar="SALESRL_TORCH_THREADS", help=THREADS_HELP),
) -> None:
    """Serve the real-time API (OpenAPI docs at /docs); migrates the database first."""
    from salesrl.service.server import run

    settings = _settings(host=host, port=port, db_url=db)
    limit_thread_pools(torch_threads)
    from salesrl.models import DEFAULT_MODEL_DIR

    engine = None
    path = model or DEFAULT_MODEL_DIR
    if not baseline and not (path / "agent.json").is_file():
        if model is not None:  # fail now, with one clear line
            raise FileNotFoundError(f"{path}: no model here (train one with 'salesrl train', "
                                    "or serve the placeholder with --baseline)")
        console.print("[yellow]warning:[/] the shipped model is missing "
                      "(bench/train_default_model.sh rebuilds it); serving the baseline engine")
        baseline = True
    if not baseline:

        def engine() -> Any:
            from salesrl.service.agent_engine import AgentEngine

            return AgentEngine.load(path)

    what = "the baseline engine" if baseline else f"model {path}"
    console.print(f"salesrl service on http://{host}:{port} (docs at /docs), {what}",
                  highlight=False)
    run(settings, log_level=log_level, access_log=access_log, engine=engine)


@keys_app.command("create")
@friendly_errors
def keys_create(
    tenant: str = typer.Option(..., help="Tenant name (created if new)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Create an API key for a tenant; the key is printed once, alone on the last line."""
    from salesrl.service.auth import generate_key, hash_key
    from salesrl.service.storage import Database, Repository

    if not tenant.strip() or len(tenant) > 200:
        raise typer.BadParameter("1 to 200 characters", param_hint="--tenant")
    settings = _settings(db_url=db)
    from sqlalchemy.exc import SQLAlchemyError

    try:
        database = Database(settings.db_url, pool_size=1)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise DataError(f"cannot open the database ({exc})", field="--db") from None
    try:
        database.migrate()
        key = generate_key()
        tenant_id, key_id = Repository(database).create_api_key(tenant, hash_key(key), key[:8])
    except SQLAlchemyError as exc:
        raise DataError(f"database error ({type(exc).__name__}: "
                        f"{str(exc.orig if hasattr(exc, 'orig') else exc).strip()})",
                        field="--db") from None
    finally:
        database.dispose()
    console.print(f"Created key {key_id} for tenant {tenant!r} ({tenant_id}). It is shown only "
                  "once; only its SHA-256 is stored.", highlight=False, soft_wrap=True)
    print(key)
