"""The replay environment: API conformance, no peeking, proper rewards, sampling pieces."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from salesrl.agent import Episodes
from salesrl.agent.env import (
    ConversationReplayEnv,
    CurriculumSchedule,
    balance_logit_offset,
    balance_weights,
    score,
    sigmoid,
)


@pytest.mark.filterwarnings("ignore:.*(recommend using a symmetric|is probably too).*")
def test_check_env_passes(toy_train: Episodes) -> None:
    check_env(ConversationReplayEnv(toy_train), skip_render_check=True)
    check_env(ConversationReplayEnv(toy_train, reward="brier",
                                    curriculum=CurriculumSchedule(mode="truncate"),
                                    adversarial=toy_train.subset([0, 1]), adversarial_rate=0.3),
              skip_render_check=True)


def test_sb3_env_checker_accepts_it(toy_train: Episodes) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check

    sb3_check(ConversationReplayEnv(toy_train), warn=False)


def test_observation_is_row_t_and_never_the_outcome() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(5, 4)).astype(np.float32)
    # two conversations with identical rows but opposite outcomes
    eps = Episodes([rows, rows.copy()], np.array([1, 0]))
    seen = {}
    for idx in (0, 1):
        env = ConversationReplayEnv(eps)
        obs, _ = env.reset(seed=0, options={"episode_index": idx})
        got, rewards, done = [obs], [], False
        while not done:
            obs, r, term, trunc, _ = env.step(np.array([0.3], dtype=np.float32))
            rewards.append(r)
            done = term or trunc
            if not done:
                got.append(obs)
        assert len(got) == 5 and term
        np.testing.assert_array_equal(np.stack(got), rows)
        seen[idx] = (np.stack(got), rewards)
    np.testing.assert_array_equal(seen[0][0], seen[1][0])  # same view, whatever the outcome
    assert seen[0][1] != seen[1][1]  # only the reward differs


def test_reward_is_the_scoring_rule_of_sigmoid_action(toy_train: Episodes) -> None:
    for rule in ("log", "log_normalised", "brier"):
        env = ConversationReplayEnv(toy_train, reward=rule)
        env.reset(seed=1)
        y = env._label
        _, r, *_ = env.step(np.array([1.5], dtype=np.float32))
        assert r == pytest.approx(float(score(sigmoid(1.5), y, rule, env.base_rate)))
    env = ConversationReplayEnv(toy_train)
    env.reset(seed=1)
    _, r_far, *_ = env.step(np.array([100.0], dtype=np.float32))  # clipped to the bound
    assert r_far == pytest.approx(float(score(sigmoid(8.0), env._label)))


@pytest.mark.parametrize("rule", ["log", "log_normalised", "brier"])
@pytest.mark.parametrize("q", [0.05, 0.3, 0.5, 0.8])
def test_expected_reward_is_maximised_at_the_true_probability(rule: str, q: float) -> None:
    logits = np.linspace(-8, 8, 16001)
    p = sigmoid(logits)
    expected = q * score(p, 1, rule, 0.37) + (1 - q) * score(p, 0, rule, 0.37)
    assert p[np.argmax(expected)] == pytest.approx(q, abs=2e-3)


def test_improper_rule_names_are_refused(toy_train: Episodes) -> None:
    with pytest.raises(ValueError, match="scoring rule"):
        ConversationReplayEnv(toy_train, reward="accuracy")  # type: ignore[arg-type]


def test_curriculum_schedule_grows_from_short_to_long() -> None:
    s = CurriculumSchedule(start_len=4, ramp=0.5)
    limits = [s.max_len(p, 20) for p in (0.0, 0.25, 0.5, 1.0)]
    assert limits == [4, 12, 20, 20]
    lengths = np.array([3, 4, 8, 15, 20])
    assert s.eligible(lengths, 0.0).tolist() == [True, True, False, False, False]
    assert s.eligible(lengths, 1.0).all()
    # too few short ones: fall back to the shortest min_pool fraction
    assert CurriculumSchedule(start_len=1, min_pool=0.4).eligible(lengths, 0.0).sum() == 2


def test_env_curriculum_samples_only_short_episodes_early(toy_train: Episodes) -> None:
    env = ConversationReplayEnv(toy_train, curriculum=CurriculumSchedule(start_len=5, ramp=0.5))
    env.reset(seed=0)
    early = [len(toy_train.obs[env.reset()[1]["episode_index"]]) for _ in range(200)]
    env.set_progress(1.0)
    late = [len(toy_train.obs[env.reset()[1]["episode_index"]]) for _ in range(200)]
    assert max(early) <= 5
    assert max(late) > 10


def test_truncating_curriculum_cuts_episodes(toy_train: Episodes) -> None:
    env = ConversationReplayEnv(toy_train, curriculum=CurriculumSchedule(start_len=2,
                                                                         mode="truncate"))
    env.reset(seed=0)
    steps, done = 0, False
    while not done:
        _, _, term, trunc, _ = env.step(np.zeros(1, dtype=np.float32))
        steps += 1
        done = term or trunc
    assert steps == 2 and trunc and not term


def test_balance_weights_equalise_outcome_and_industry() -> None:
    labels = np.array([1] * 10 + [0] * 40 + [1] * 30 + [0] * 20)
    groups = np.array(["a"] * 50 + ["b"] * 50)
    w = balance_weights(labels, groups)
    assert w.mean() == pytest.approx(1.0)
    assert w[labels == 1].sum() == pytest.approx(w[labels == 0].sum())
    assert w[groups == "a"].sum() == pytest.approx(w[groups == "b"].sum())
    assert np.allclose(balance_weights(labels, groups, power=0.0), 1.0)


def test_balance_offset_undoes_the_prior_shift_exactly() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    groups = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    x = rng.integers(0, 3, size=n)
    base = {"a": -1.5, "b": 0.0, "c": -0.5}
    logit = np.array([base[g] for g in groups]) + 0.8 * x
    y = (rng.random(n) < sigmoid(logit)).astype(int)
    w = balance_weights(y, groups)
    off = balance_logit_offset(y, groups)
    for g in "abc":
        for v in range(3):
            m = (groups == g) & (x == v)
            raw = y[m].mean()
            weighted = (w[m] * y[m]).sum() / w[m].sum()
            restored = sigmoid(np.log(weighted / (1 - weighted)) + off)
            assert restored == pytest.approx(raw, abs=1e-9)


def test_weighted_sampling_balances_outcomes(toy_train: Episodes) -> None:
    env = ConversationReplayEnv(toy_train,
                                weights=balance_weights(toy_train.labels, toy_train.groups))
    env.reset(seed=3)
    ys = [toy_train.labels[env.reset()[1]["episode_index"]] for _ in range(2000)]
    assert toy_train.labels.mean() < 0.45
    assert np.mean(ys) == pytest.approx(0.5, abs=0.04)


def test_adversarial_episodes_are_injected_at_the_rate(toy_train: Episodes) -> None:
    adv = toy_train.subset([0, 1, 2])
    env = ConversationReplayEnv(toy_train, adversarial=adv, adversarial_rate=0.25)
    env.reset(seed=0)
    hits = [env.reset()[1]["adversarial"] for _ in range(2000)]
    assert np.mean(hits) == pytest.approx(0.25, abs=0.03)
    assert not any(ConversationReplayEnv(toy_train, adversarial=adv).reset()[1]["adversarial"]
                   for _ in range(20))
