"""Row tables: the windowed storage rebuilds exactly the rows the dense one holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from salesrl.agent import Episodes, TrainConfig
from salesrl.agent.data import ObsLayout
from salesrl.agent.linear import LinearBase
from salesrl.agent.networks import member_logits
from salesrl.agent.retrieval import RetrievalIndex
from salesrl.agent.rows import work_layout_of, work_rows
from salesrl.agent.rowtable import _Windowed, packed, shared_work_rows, table_of
from salesrl.agent.toy import make_toy_episodes
from salesrl.agent.training import train_salesrl_agent
from salesrl.features.tracker import StateBuilder
from salesrl.synth import generate


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)


def _dense_only(self: _Windowed, block: np.ndarray, first: int) -> bool:
    """The storage before row tables were windowed: every row written out in full."""
    return False


@pytest.fixture(scope="module")
def tracker_episodes(tmp_path_factory: pytest.TempPathFactory) -> Episodes:
    """Rows of the real state tracker (hashing backend, window of 8) for 40 conversations."""
    mp = pytest.MonkeyPatch()
    cache = tmp_path_factory.mktemp("cache")
    mp.setenv("SALESRL_EMBEDDING_BACKEND", "hashing")
    mp.setenv("SALESRL_CACHE_DIR", str(cache))
    try:
        builder = StateBuilder(backend="hashing", backend_options={"dim": 16},
                               cache_path=str(Path(cache) / "e.sqlite"))
        convs = [c for c in generate(40, 5) if c.converted is not None and c.turns]
        return Episodes.from_conversations(convs, builder.encode, builder.layout)
    finally:
        mp.undo()


def _work(eps: Episodes) -> tuple[Episodes, ObsLayout, RetrievalIndex, LinearBase]:
    layout = eps.layout
    x, y, conv = eps.rows()
    index = RetrievalIndex(k=5, proj_dim=4, max_rows=300).fit(
        layout.state_part(x), y, np.asarray(eps.ids, dtype=object)[conv])
    linear = LinearBase((0.01,), n_splits=3).fit(eps.obs, eps.labels, layout)
    return eps, work_layout_of(layout, None, index, linear), index, linear


def _packed_rows(eps: Episodes) -> tuple[Episodes, Episodes | None]:
    eps, work, index, linear = _work(eps)
    train, val = eps.subset(range(10, len(eps))), eps.subset(range(10))
    tr, va, _ = shared_work_rows(train, val, None, eps.layout, work, None, index, linear,
                                 linear.oof_[10:], None)
    return tr, va


def test_tracker_rows_are_stored_windowed_and_rebuilt_bit_for_bit(
        tracker_episodes: Episodes, monkeypatch: pytest.MonkeyPatch) -> None:
    got_tr, got_va = _packed_rows(tracker_episodes)
    with monkeypatch.context() as m:
        m.setattr(_Windowed, "write", _dense_only)
        want_tr, want_va = _packed_rows(tracker_episodes)
    for got, want in ((got_tr, want_tr), (got_va, want_va)):
        tg, tw = table_of(got), table_of(want)
        assert tg.windowed and not tw.windowed
        assert np.array_equal(_bits(got.rows()[0]), _bits(want.rows()[0]))
        # random minibatches, one conversation, chunks and a subset, all bit for bit
        rows = np.random.default_rng(0).integers(tg.n_rows, size=300)
        assert np.array_equal(_bits(tg.gather_np(rows)), _bits(tw.gather_np(rows)))
        assert np.array_equal(_bits(got.obs[3]), _bits(want.obs[3]))
        sub = [4, 1, 1, 0]
        assert np.array_equal(_bits(got.subset(sub).rows()[0]),
                              _bits(want.subset(sub).rows()[0]))
        assert np.array_equal(table_of(got.subset(sub)).y, table_of(want.subset(sub)).y)
        assert list(got.subset(sub).lengths) == [len(got.obs[i]) for i in sub]
    # one turn vector per row instead of K (with MiniLM, 8 x 385 of a row's 4,282 columns)
    store, lay = table_of(got_tr).store, got_tr.layout
    n = table_of(got_tr).n_rows
    held = store.core.nbytes + store.turns.nbytes + store.pos.nbytes
    assert held == 4 * n * (lay.obs_dim - (lay.window - 1) * lay.turn_dim) + 8 * n
    assert held < 0.65 * table_of(want_tr).store.x.nbytes


def test_rows_whose_window_is_not_the_turn_history_stay_dense() -> None:
    eps = make_toy_episodes(30, seed=2)[0]
    layout = eps.layout
    good = eps.subset(range(15))
    rng = np.random.default_rng(1)
    bad = Episodes([rng.normal(size=o.shape).astype(np.float32) for o in eps.obs[15:]],
                   eps.labels[15:], eps.groups[15:], eps.ids[15:], layout)
    both = good.concat(bad)  # the first blocks fit the windowed form, the later ones do not
    out = packed(both, lambda rows, convs: rows, layout, chunk_rows=40)
    assert not table_of(out).windowed
    assert np.array_equal(_bits(out.rows()[0]), _bits(both.rows()[0]))
    fine = packed(good, lambda rows, convs: rows, layout, chunk_rows=40)
    assert table_of(fine).windowed
    assert np.array_equal(_bits(fine.rows()[0]), _bits(good.rows()[0]))


def test_release_drops_the_input_rows_as_they_are_written() -> None:
    eps = make_toy_episodes(50, seed=4)[0]
    want = eps.rows()[0].copy()
    seen: list[int] = []

    def done(convs: range) -> None:
        for c in convs:
            seen.append(c)
            eps.obs[c] = None  # type: ignore[call-overload]

    out = packed(eps, lambda rows, convs: rows, eps.layout, chunk_rows=64, done=done)
    assert seen == list(range(50)) and all(o is None for o in eps.obs)
    assert np.array_equal(_bits(out.rows()[0]), _bits(want))


def test_training_on_windowed_rows_equals_training_on_dense_rows(
        tiny: Callable[..., TrainConfig], monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny(use_ppo=True, ppo_steps=256, ensemble_size=2, ws_epochs=3, ws_max_rows=600,
               critic_max_rows=300, val_max_conversations=20, shared_rows=True,
               linear_base=True, linear_max_rows=400, adversarial_rate=0.1)
    train, adv = make_toy_episodes(160, seed=6)[0], make_toy_episodes(20, seed=7)[0]
    rows = make_toy_episodes(30, seed=8)[0].rows()[0]

    def fit() -> np.ndarray:
        res = train_salesrl_agent(train, cfg, adversarial=adv)
        x = work_rows(rows, res.input_layout, res.compressor, res.retrieval, res.linear)
        z = member_logits(res.members, x, cfg.action_bound) + res.offsets
        return np.column_stack([z, res.calibrator.apply(z.mean(1), np.zeros((len(z), 0)))])

    got = fit()
    with monkeypatch.context() as m:
        m.setattr(_Windowed, "write", _dense_only)
        want = fit()
    assert np.array_equal(got, want)


def test_linear_base_reads_the_same_columns_without_widening_whole_rows(
        tracker_episodes: Episodes) -> None:
    eps = tracker_episodes
    lay = eps.layout.with_extra(1)
    obs = [np.column_stack([o, o[:, :1] * 2]) for o in eps.obs]  # one extra column
    lin = LinearBase((0.01,), n_splits=3, max_rows=150).fit(obs, eps.labels, lay)
    # what fit read before: every picked row widened to float64, then the columns taken
    from salesrl.agent.linear import _prefix_rows

    ci, ri = _prefix_rows(obs, lin.train_fractions)
    keep = np.sort(np.random.default_rng(lin.seed + 1).choice(len(ci), 150, replace=False))
    picked = [obs[i][r] for i, r in zip(ci[keep], ri[keep], strict=True)]
    s = np.stack([row[: lay.state_dim] for row in picked]).astype(np.float64)
    assert np.array_equal(lin.mean_, s.mean(0)) and np.array_equal(lin.std_,
                                                                    np.maximum(s.std(0), 1e-6))
    rows = np.concatenate(obs)
    wide = rows.astype(np.float64)
    want = ((wide[:, : lay.state_dim] - lin.mean_) / lin.std_ @ lin.coef_ + lin.intercept_)
    want = lin.stack_coef_[0] * want + wide[:, -1:] @ lin.stack_coef_[1:] + lin.stack_intercept_
    assert np.array_equal(lin.logits(rows), want)


def test_conversations_are_encoded_into_a_windowed_table(tmp_path: Path) -> None:
    from salesrl.agent.pipeline import FoldedRows

    builder = StateBuilder(backend="hashing", backend_options={"dim": 16},
                           cache_path=str(tmp_path / "e.sqlite"))
    convs = [c for c in generate(25, 9) if c.converted is not None and c.turns]
    want = builder.encode_many(convs)
    ticks: list[tuple[int, int, str]] = []
    clock = {"encode": 0.0}
    folded = FoldedRows(builder, convs, lambda d, t, w: ticks.append((d, t, w)), clock)
    assert len(folded) == len(convs) and clock["encode"] > 0
    assert all(np.array_equal(_bits(folded[i]), _bits(w)) for i, w in enumerate(want))
    assert ticks[-1] == (len(convs), len(convs), "encoding")
    eps = Episodes.from_conversations(convs, lambda c: folded[convs.index(c)], builder.layout)
    assert table_of(eps).windowed
    assert np.array_equal(_bits(eps.rows()[0]), _bits(np.concatenate(want)))
    assert np.array_equal(table_of(eps).y.numpy(), np.repeat(eps.labels, eps.lengths))
    # replacing rows (the lexical column appended) gives plain arrays again
    obs = eps.obs
    for i in range(len(obs)):
        obs[i] = np.column_stack([obs[i], np.ones(len(obs[i]), dtype=np.float32)])
    wider = Episodes(obs, eps.labels, eps.groups, eps.ids, builder.layout.with_extra(1))
    assert isinstance(wider.obs, list) and wider.obs_dim == builder.layout.obs_dim + 1
    with pytest.raises(ValueError, match="width"):
        Episodes.from_conversations(convs, lambda c: np.zeros((len(c.turns), 3)),
                                    builder.layout)
