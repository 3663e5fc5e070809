"""Fixtures of the service tests: a database per test on SQLite (always) and PostgreSQL (when
``SALESRL_TEST_POSTGRES_URL`` is set, see scripts/start_postgres.sh), apps, clients and keys."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from service_helpers import Api, make_api
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from salesrl.service.settings import normalise_db_url

PG_ENV = "SALESRL_TEST_POSTGRES_URL"
PG_URL = os.environ.get(PG_ENV)
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason=f"{PG_ENV} not set (scripts/start_postgres.sh prints one)")),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Any) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    base = normalise_db_url(PG_URL or "")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    yield from make_api(db_url)
