"""Service settings: defaults, overridden by ``SALESRL_*`` environment variables, then by args."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENV_PREFIX = "SALESRL_"


def normalise_db_url(value: str) -> str:
    """A SQLAlchemy URL; a bare file path means a SQLite file; ``postgresql://`` uses psycopg 3."""
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser()}"
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


class Settings(BaseModel):
    """Everything the service can be told; limits answer with a clear 4xx when exceeded."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    db_url: str = Field("sqlite:///salesrl.db", description="SQLAlchemy URL or SQLite file path.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    session_cache_size: int = Field(1024, ge=1, description="Live sessions kept in memory (LRU).")
    max_text_chars: int = Field(10_000, ge=1, description="Characters per turn text.")
    max_turns_per_conversation: int = Field(2_000, ge=1)
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Bytes per request body.")
    max_batch_conversations: int = Field(100, ge=1, description="Conversations per /v1/score.")
    stream_queue_size: int = Field(256, ge=1, description="Updates buffered per stream client.")
    auth_cache_seconds: float = Field(30.0, ge=0, description="How long a valid key is "
                                      "remembered (0: look it up on every request).")
    db_pool_size: int = Field(8, ge=1)

    @field_validator("db_url")
    @classmethod
    def _normalise_db_url(cls, value: str) -> str:
        return normalise_db_url(value)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults < ``SALESRL_<FIELD>`` environment variables < keyword overrides (not None)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in environ:
                values[name] = environ[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
