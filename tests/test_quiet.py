"""Importing or training with salesrl prints no third-party import notices."""

from __future__ import annotations

import subprocess
import sys

import pytest

SNIPPETS = {
    "online PPO env": "import salesrl.guidance.online",
    "agent PPO": "from salesrl.agent import ppo; from salesrl.agent.networks import "
                 "_features_extractor_class; _features_extractor_class(); "
                 "from salesrl._quiet import import_gym_quietly; import_gym_quietly(); "
                 "import stable_baselines3.common.vec_env.patch_gym",
}


@pytest.mark.parametrize("code", SNIPPETS.values(), ids=SNIPPETS.keys())
def test_no_gym_notice_on_stderr(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert "Gym has been unmaintained" not in done.stderr


def test_the_notice_exists_without_the_guard() -> None:
    """The check above can fail: importing stable-baselines3's vec_env plainly prints it."""
    pytest.importorskip("gym")
    done = subprocess.run([sys.executable, "-c",
                           "import stable_baselines3.common.vec_env"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert "Gym has been unmaintained" in done.stderr
