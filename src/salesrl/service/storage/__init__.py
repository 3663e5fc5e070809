"""Persistence of tenants, API keys, conversations and turns (SQLAlchemy 2 + Alembic)."""

from salesrl.service.storage.db import Database
from salesrl.service.storage.repository import Repository

__all__ = ["Database", "Repository"]
