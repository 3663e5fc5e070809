"""Imports of third-party modules that print to stderr when imported.

d3rlpy depends on the unmaintained ``gym`` package, whose import prints a four-line
deprecation notice; stable-baselines3 imports ``gym`` (when installed) the first time it wraps
an environment, so every ``salesrl train`` printed it though salesrl never uses ``gym``.
"""

from __future__ import annotations

import contextlib
import io
import sys

__all__ = ["import_gym_quietly"]


def import_gym_quietly() -> None:
    """Import ``gym`` once with stderr muted, so later imports of it print nothing."""
    if "gym" in sys.modules:
        return
    with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(ImportError):
        import gym  # noqa: F401
