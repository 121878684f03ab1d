"""The runner's lazy as-traded history (issue 12, replay speed): what a strategy's levels are
rescaled with is exactly the history delivered up to the bar, never a later bar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.runner import compute_signals
from core.strategies.base import Strategy
from core.trading.runner import _Prefix


class _Levels(Strategy):
    """Flags on a rising close and a stop 5 % under it (levels: rescaled to traded)."""

    name = "test_levels"
    label = "test"
    description = "test"
    params = ()

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        c = bars["close"].to_numpy()
        up = np.r_[False, c[1:] > c[:-1]]
        return pd.DataFrame(
            {
                "entry_long": up,
                "exit_long": ~up,
                "entry_short": np.zeros(len(c), bool),
                "exit_short": np.zeros(len(c), bool),
                "stop": c * 0.95,
            },
            index=bars.index,
        )


def _bars():
    idx = pd.bdate_range("2024-01-02", periods=30)
    rng = np.random.default_rng(7)
    close = 20 + np.cumsum(rng.normal(0, 0.3, len(idx)))
    raw = pd.DataFrame(
        {"open": close, "high": close + 0.2, "low": close - 0.2, "close": close}, idx
    )
    raw["volume"] = 1e6
    adj = raw.copy()
    adj[["open", "high", "low", "close"]] *= np.linspace(0.8, 1.0, len(idx))[:, None]  # proventos
    return adj, raw


def test_prefix_is_the_delivered_history_and_levels_equal_the_eager_slices():
    adj, raw = _bars()
    s = _Levels()
    for end in (1, 2, 17, len(raw)):
        p = _Prefix({"X": raw}, "X", end)
        assert list(p) == ["X"] and len(p) == 1 and "X" in p and "Y" not in p
        pd.testing.assert_frame_equal(p["X"], raw.iloc[:end])
        assert p["X"].index[-1] == adj.index[end - 1]  # never a bar after the one delivered
        with pytest.raises(KeyError):
            p["Y"]
        lazy = compute_signals(s, {"X": adj.iloc[:end]}, p)["X"]
        eager = compute_signals(s, {"X": adj.iloc[:end]}, {"X": raw.iloc[:end]})["X"]
        pd.testing.assert_frame_equal(lazy, eager)
    # the stop is rescaled to the traded basis of its own bar
    assert lazy["stop"].iloc[-1] == pytest.approx(raw["close"].iloc[-1] * 0.95)


def _same_row(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for k in a:
        x, y = a[k], b[k]
        assert type(x) is type(y), k
        assert (x == y) or (x != x and y != y), k


@pytest.mark.parametrize("name", ["sma_cross", "trend_following", "mean_reversion", "breakout"])
def test_last_row_is_the_values_of_iloc_last(name):
    """The runner's fast read of a signal frame's last row equals ``iloc[-1]`` value for
    value and type (flag frames take the block path, others the Series path)."""
    from core.strategies import get_strategy
    from core.trading.runner import _last_row

    idx = pd.bdate_range("2023-01-02", periods=260)
    rng = np.random.default_rng(11)
    close = 20 * np.exp(np.cumsum(rng.normal(0, 0.02, len(idx))))
    bars = pd.DataFrame(
        {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close}, idx
    )
    bars["adj_close"] = close
    bars["volume"] = 1e6
    s = get_strategy(name)
    for end in (40, 120, len(idx)):
        sig = s.signals(bars.iloc[:end])
        last = sig.iloc[-1]
        _same_row(_last_row(sig), dict(zip(last.index, last.to_numpy(), strict=True)))
    # a level column (mixed dtypes) and a non-flag_frame frame take the Series path, same values
    mixed = sig.assign(stop=np.linspace(1.0, 2.0, len(sig)))
    last = mixed.iloc[-1]
    _same_row(_last_row(mixed), dict(zip(last.index, last.to_numpy(), strict=True)))
    flipped = sig.copy()
    flipped.iloc[-1] = ~flipped.iloc[-1].astype(bool)
    assert _last_row(flipped) != _last_row(sig)  # the last row itself, not a cached one


def test_bar_rows_keep_every_row_a_bar_reads_in_order():
    """_bar_rows drops only trades closed before bar i: the bar's exits, entries, open
    positions and slippage are those of the whole trade matrix, exactly."""
    from types import SimpleNamespace

    from core.backtest import engine as eng
    from core.trading.runner import _bar_rows, _slippage

    rng = np.random.default_rng(3)
    n = 60
    tr = np.zeros((n, 17))
    tr[:, eng._T_EBAR] = rng.integers(0, 40, n)
    tr[:, eng._T_XBAR] = tr[:, eng._T_EBAR] + rng.integers(0, 8, n)
    tr[:, eng._T_REASON] = rng.choice([eng.R_END, eng.R_SIGNAL, eng.R_TIME, eng.R_END + 7], n)
    tr[:, eng._T_TICKER] = rng.integers(0, 3, n)
    tr[:, eng._T_DIR] = rng.choice([-1, 1], n)
    tr[:, eng._T_SH] = rng.integers(1, 9, n) * 100
    tr[:, eng._T_EPX] = rng.uniform(10, 30, n)
    tr[:, eng._T_XPX] = rng.uniform(10, 30, n)
    tick = ["A", "B", "C"]
    fills = [SimpleNamespace(ticker="A", side="buy", qty=100, price=20.0)]

    def reads(m, i):
        return (
            [r.tolist() for r in m if int(r[eng._T_XBAR]) == i and int(r[eng._T_REASON]) != 0],
            [r.tolist() for r in m if int(r[eng._T_EBAR]) == i],
            [r.tolist() for r in m if int(r[eng._T_REASON]) == eng.R_END],
            _slippage(m, i, tick, fills),
        )

    for i in range(0, 48):
        sub = _bar_rows(tr, i)
        assert len(sub) < n
        assert reads(sub, i) == reads(tr, i)
    assert _bar_rows(np.empty((0, 17)), 3).shape == (0, 17)
