"""Imports each command module so that it registers on the app."""

from __future__ import annotations

import importlib

# One module per command group; each one does ``@app.command()`` at import time.
_MODULES = ["convert", "generate", "evaluate", "serve", "demo", "train", "analyze", "ablate",
            "simulate_ab"]

for _name in _MODULES:
    importlib.import_module(f"salesrl.cli.{_name}")
