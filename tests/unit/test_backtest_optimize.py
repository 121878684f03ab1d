"""Walk-forward windows and optimisation on real data."""

from __future__ import annotations

import pandas as pd
import pytest

from core.backtest.optimize import sweep, walk_forward, window_bounds
from core.backtest.runner import adjust_bars
from core.errors import InputError


def test_rolling_and_anchored_windows():
    w = window_bounds(600, 4, 2.0)
    assert w == [
        (0, 200, 200, 300),
        (100, 300, 300, 400),
        (200, 400, 400, 500),
        (300, 500, 500, 600),
    ]
    a = window_bounds(600, 4, 2.0, anchored=True)
    assert [x[0] for x in a] == [0, 0, 0, 0] and [x[1] for x in a] == [200, 300, 400, 500]
    assert window_bounds(601, 4)[-1][3] == 601  # the last test span reaches the end
    with pytest.raises(InputError):
        window_bounds(100, 4)


def test_walk_forward_is_out_of_sample_and_stitched(bundled_store):
    res = walk_forward(
        bundled_store,
        "sma_cross",
        ["PETR4"],
        "2014-01-01",
        "2022-12-30",
        n_windows=3,
        n_trials=6,
        heatmap_size=3,
        seed=1,
    )
    w = res.windows
    assert len(w) == 3
    assert (w["test_start"] > w["train_end"]).all()
    assert (w["test_start"].iloc[1:].to_numpy() > w["test_end"].iloc[:-1].to_numpy()).all()
    # every OOS trade lies inside its window's test span
    for t in res.oos_trades.itertuples():
        row = w[w["window"] == t.window].iloc[0]
        assert row.test_start <= t.entry_date <= row.test_end
    # the stitched curve starts at the close before the first test session, with the cash
    assert res.oos_equity.index[0] < w["test_start"].iloc[0] == res.oos_equity.index[1]
    assert res.oos_equity.iloc[0] == pytest.approx(res.config.cash)
    assert res.heatmap.shape == (3, 3) and res.heatmap_params == ("fast", "slow")
    assert res.heatmap.notna().sum().sum() >= 5  # fast < slow cells are valid


def test_sweep_runs_each_set_on_each_ticker(bundled_store):
    bars = {
        t: adjust_bars(bundled_store.bars(t, "2018-01-01", "2020-12-31"))
        for t in ("PETR4", "VALE3")
    }
    sets = [{"fast": 5, "slow": 20}, {"fast": 10, "slow": 30}, {"fast": 40, "slow": 20}]
    df = sweep("sma_cross", sets, bars, n_jobs=1)
    assert isinstance(df, pd.DataFrame) and len(df) == 4  # the invalid set is skipped
    assert set(df["ticker"]) == {"PETR4", "VALE3"} and set(df["set"]) == {0, 1}
    # the sweep's fast path equals the full engine
    from core.backtest.engine import EngineConfig, run_engine
    from core.strategies import get_strategy

    b = bars["VALE3"]
    full = run_engine(b, get_strategy("sma_cross", fast=10, slow=30).signals(b), EngineConfig())
    row = df[(df["set"] == 1) & (df["ticker"] == "VALE3")].iloc[0]
    assert row.total_return_pct == pytest.approx(
        100 * (full.equity.iloc[-1] / full.equity.iloc[0] - 1)
    )
    assert row.n_trades == len(full.trades)


def _pickling_mapper(func, items, on_done=None):
    """Like a pool of remote workers: every chunk and result crosses a pickle, out of order."""
    import pickle

    out = {}
    for k in reversed(range(len(items))):
        out[k] = pickle.loads(pickle.dumps(func(pickle.loads(pickle.dumps(items[k])))))
        if on_done is not None:
            on_done(len(out), len(items))
    return [out[k] for k in range(len(items))]


@pytest.mark.slow
def test_walk_forward_fanned_out_equals_one_process(bundled_store):
    """Issue 15 fan-out: windows and heatmap rows as independent chunks give the same result."""
    kw = dict(n_windows=2, n_trials=2, heatmap_size=2, seed=3)
    args = (bundled_store, "sma_cross", ["PETR4"], "2019-01-01", "2020-12-30")
    one = walk_forward(*args, **kw)
    seen = []
    spread = walk_forward(
        *args, **kw, mapper=_pickling_mapper, progress=lambda f, m="": seen.append(f)
    )
    assert list(one.windows["params"]) == list(spread.windows["params"])
    pd.testing.assert_series_equal(one.oos_equity, spread.oos_equity)
    pd.testing.assert_frame_equal(one.heatmap, spread.heatmap)
    assert seen and seen[-1] == 1.0
