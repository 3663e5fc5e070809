"""Third-party modules that print to stderr when imported, or leave files behind.

d3rlpy depends on the unmaintained ``gym`` package, whose import prints a four-line
deprecation notice; stable-baselines3 imports ``gym`` (when installed) the first time it wraps
an environment, so every ``salesrl train`` printed it though salesrl never uses ``gym``.

stable-baselines3 configures a logger at the start of ``learn()`` that, even with
``verbose=0`` and no output format, creates an empty ``SB3-<date>`` folder in the system's
temporary directory: one per PPO fit, thousands after an evaluation run.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any

__all__ = ["import_gym_quietly", "silence_sb3_logger"]


def import_gym_quietly() -> None:
    """Import ``gym`` once with stderr muted, so later imports of it print nothing."""
    if "gym" in sys.modules:
        return
    with contextlib.redirect_stderr(io.StringIO()), contextlib.suppress(ImportError):
        import gym  # noqa: F401


def silence_sb3_logger(model: Any) -> Any:
    """Give an SB3 algorithm a logger with no outputs and no folder (its records still reach
    ``model.logger.name_to_value``); returns ``model``."""
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
    return model
