"""Alembic environment: uses the connection handed over by ``Database.migrate``.

New revisions: ``alembic -x url=sqlite:///dev.db revision --autogenerate -m "..."`` with an
``alembic.ini`` whose ``script_location`` points here, then review the generated file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from salesrl.service.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url")


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (conn := config.attributes.get("connection")) is not None:
    _configure(conn)
else:
    engine = create_engine(_url(), poolclass=NullPool)
    with engine.connect() as conn:
        _configure(conn)
        conn.commit()
