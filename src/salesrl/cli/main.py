"""Entry point of the ``salesrl`` console script; importing a command module registers it."""

from __future__ import annotations

from salesrl.cli import commands  # noqa: F401  (registers every command on the app)
from salesrl.cli.app import app

__all__ = ["app"]

if __name__ == "__main__":  # pragma: no cover
    app()
