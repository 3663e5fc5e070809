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


@pytest.mark.parametrize("silenced", [True, False])
def test_ppo_leaves_no_log_folder_behind(silenced: bool, tmp_path, monkeypatch) -> None:
    """SB3's default logger makes ``$TMPDIR/SB3-<date>`` per ``learn()``; ours makes none (the
    unsilenced run shows the check can fail)."""
    import tempfile

    from salesrl._quiet import import_gym_quietly, silence_sb3_logger

    import_gym_quietly()
    from stable_baselines3 import PPO

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0,
                device="cpu", verbose=0)
    if silenced:
        silence_sb3_logger(model)
    model.learn(total_timesteps=32)
    made = sorted(p.name for p in tmp_path.glob("SB3-*"))
    assert (made == []) == silenced
