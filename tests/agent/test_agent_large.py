"""The ``large`` preset: a training budget that does not grow with the data, shared rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from salesrl.agent import ConversionAgent, Episodes, ObsLayout, TrainConfig
from salesrl.agent.config import LARGE_DATA_OVERRIDES
from salesrl.agent.linear import LinearBase
from salesrl.agent.retrieval import RetrievalIndex
from salesrl.agent.rowtable import shared_work_rows, table_of
from salesrl.agent.toy import make_toy_episodes
from salesrl.agent.training import add_retrieval, train_salesrl_agent


def test_large_preset_is_fast_with_a_budget() -> None:
    fast, large = TrainConfig.preset("fast"), TrainConfig.preset("large")
    assert replace(large, **{k: getattr(fast, k) for k in LARGE_DATA_OVERRIDES}) == fast
    assert large.ws_max_rows > 0 and large.shared_rows and large.adversarial_max > 0
    assert fast.ws_max_rows == 0 and not fast.shared_rows  # old artifacts: no caps
    with pytest.raises(ValueError, match="ws_max_rows"):
        TrainConfig.preset("large", ws_max_rows=-1).validate()
    cfg = TrainConfig.from_dict({k: v for k, v in large.to_dict().items()
                                 if k not in LARGE_DATA_OVERRIDES})
    assert cfg.ws_max_rows == 0 and not cfg.shared_rows


def test_shared_work_rows_equal_the_per_conversation_ones(toy_train: Episodes) -> None:
    layout = toy_train.layout
    x, y, conv = toy_train.rows()
    index = RetrievalIndex(k=5, proj_dim=4, max_rows=500).fit(
        layout.state_part(x), y, np.asarray(toy_train.ids, dtype=object)[conv])
    work = layout.with_extra(layout.extra_dim + 3)
    val = toy_train.subset(range(20))
    want_tr = add_retrieval(toy_train, index, layout, leave_one_out=True)
    want_va = add_retrieval(val, index, layout, leave_one_out=False)
    got_tr, got_va, _ = shared_work_rows(toy_train, val, None, layout, work, None, index,
                                          None, None, None)
    assert np.allclose(want_tr.rows()[0], got_tr.rows()[0], atol=1e-6)
    assert np.allclose(want_va.rows()[0], got_va.rows()[0], atol=1e-6)
    # one table behind every conversation: members (and subsets) share it, never copy it
    tab = table_of(got_tr)
    assert tab.windowed and table_of(got_tr.subset([3, 1])).store is tab.store


def test_warm_start_epochs_are_capped_and_shared_members_learn(
        toy_test: tuple[Episodes, list[np.ndarray]], tiny: Callable[..., TrainConfig]) -> None:
    train = make_toy_episodes(600, seed=3)[0]
    cfg = tiny(use_ppo=True, ppo_steps=256, ensemble_size=2, ws_epochs=6, ws_max_rows=1000,
               critic_max_rows=500, val_max_conversations=40, shared_rows=True,
               adversarial_rate=0.0)
    res = train_salesrl_agent(train, cfg)
    for h in res.history:
        rows = h["warm_start"]["rows"]
        assert max(rows) < 1000 * 1.5 < sum(train.lengths) * 0.8  # about the cap, not all
        assert h["critic"]["critic_mse"]
    agent = ConversionAgent(cfg).fit(train)
    test, truth = toy_test
    p = agent.predict_proba_rows(test.rows()[0])
    assert roc_auc_score(test.rows()[1], p) > 0.7
    assert np.corrcoef(p, np.concatenate(truth))[0, 1] > 0.8


def test_linear_base_row_cap_keeps_every_row_out_of_fold(toy_train: Episodes) -> None:
    lb = LinearBase(Cs=(0.01,), max_rows=200).fit(toy_train.obs, toy_train.labels,
                                                 toy_train.layout)
    assert [len(o) for o in lb.oof_] == list(toy_train.lengths)
    full = LinearBase(Cs=(0.01,)).fit(toy_train.obs, toy_train.labels, toy_train.layout)
    x, y, _ = toy_train.rows()
    assert roc_auc_score(y, lb.logits(x)) > roc_auc_score(y, full.logits(x)) - 0.03


def test_predictor_picks_large_and_caps_counter_examples(
        monkeypatch: pytest.MonkeyPatch, tiny: Callable[..., TrainConfig]) -> None:
    import salesrl.agent.predictor as pred
    from salesrl.conversation import Conversation, Outcome, Role, Turn

    assert [pred.preset_for(n) for n in (10, pred.SMALL_DATA, pred.LARGE_DATA)] == [
        "small", "fast", "large"]
    convs = [Conversation(id=f"c{i}", turns=[Turn(role=Role.REP, text=f"hi {i}"),
                                              Turn(role=Role.CUSTOMER, text="ok"),
                                              Turn(role=Role.REP, text="so")],
                          outcome=Outcome.CONVERTED if i % 2 else Outcome.NOT_CONVERTED)
             for i in range(40)]
    seen: list[int] = []

    def encode_many(batch: list[Conversation]) -> list[np.ndarray]:
        seen.append(len(batch))
        return [np.arange(len(c.turns), dtype=np.float32)[:, None] for c in batch]

    monkeypatch.setattr(pred, "SMALL_DATA", 10)
    monkeypatch.setattr(pred, "LARGE_DATA", 30)
    cfg = tiny(use_ppo=False, retrieval=False, ws_epochs=2, adversarial_rate=0.1)
    layout = ObsLayout(state_dim=1)
    p = pred.AgentPredictor(lambda c: encode_many([c])[0], layout, cfg,
                            encode_many=encode_many, small_data=True).fit(convs)
    assert p.agent_.config_.shared_rows and p.agent_.config_.ws_max_rows > 0
    seen.clear()
    pred.AgentPredictor(lambda c: encode_many([c])[0], layout, replace(cfg, adversarial_max=3),
                        encode_many=encode_many).fit(convs)
    assert seen == [40, 6]  # 3 reversals + 3 perturbed copies, not 0.2 * 40 of each


def test_cli_trains_and_saves_with_the_large_preset(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from salesrl.agent.api import load
    from salesrl.cli.main import app
    from salesrl.conversation import write_jsonl
    from salesrl.synth import generate

    monkeypatch.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("SALESRL_CACHE_DIR", str(tmp_path / "cache"))
    convs = generate(40, 5)
    write_jsonl(convs, tmp_path / "train.jsonl")
    tiny = ["ensemble_size=2", "ppo_steps=256", "n_steps=128", "ppo_epochs=1",
            "critic_prefit_epochs=1", "ws_epochs=3", "ws_max_rows=100", "retrieval_max_rows=200"]
    result = CliRunner().invoke(app, [
        "train", "--data", str(tmp_path / "train.jsonl"), "--out", str(tmp_path / "m"),
        "--preset", "large", "--embedding", "hashing", "--lexical", "--confidence-folds", "0",
        "--no-guide", *[a for kv in tiny for a in ("--set", kv)]])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["preset"] == "large" and card["ensemble_size"] == 2
    phases = card["seconds"]["phases"]  # where the time went, for the 50k budget
    assert {"rows", "counter_examples", "lexical", "retrieval_index", "work_rows", "member_0",
            "member_1", "calibration"} <= set(phases)
    p = load(tmp_path / "m").predict(convs[0])
    assert len(p) == len(convs[0].turns) and all(0 < v < 1 for v in p)


def test_release_rows_frees_the_callers_rows_and_changes_nothing(
        tiny: Callable[..., TrainConfig]) -> None:
    cfg = tiny(use_ppo=False, ws_epochs=2, ws_max_rows=300, shared_rows=True,
               adversarial_rate=0.1, retrieval_max_rows=200)
    kept, kept_adv = make_toy_episodes(80, seed=4)[0], make_toy_episodes(10, seed=9)[0]
    given, given_adv = make_toy_episodes(80, seed=4)[0], make_toy_episodes(10, seed=9)[0]
    a = ConversionAgent(cfg).fit(kept, adversarial=kept_adv)
    b = ConversionAgent(cfg).fit(given, adversarial=given_adv, release_rows=True)
    assert all(o is not None for o in kept.obs) and all(o is not None for o in kept_adv.obs)
    assert all(o is None for o in given.obs) and all(o is None for o in given_adv.obs)
    x = make_toy_episodes(20, seed=5)[0].rows()[0]
    assert np.array_equal(a.predict_proba_rows(x), b.predict_proba_rows(x))


def test_retrieval_index_sampled_without_stacking_all_rows_is_unchanged(
        tiny: Callable[..., TrainConfig]) -> None:
    eps = make_toy_episodes(60, seed=6)[0]
    cfg = tiny(use_ppo=False, ws_epochs=1, val_fraction=0.0, ensemble_size=1,
               retrieval_max_rows=100, adversarial_rate=0.0)
    res = train_salesrl_agent(eps, cfg)
    x, y, conv = eps.rows()
    want = RetrievalIndex(cfg.retrieval_k, cfg.retrieval_proj_dim, cfg.retrieval_metric, 100,
                          cfg.seed).fit(eps.layout.state_part(x), y,
                                        np.asarray(eps.ids, dtype=object)[conv])
    assert res.retrieval is not None
    assert np.array_equal(res.retrieval.vectors_, want.vectors_)
    assert np.array_equal(res.retrieval.conv_codes_, want.conv_codes_)
