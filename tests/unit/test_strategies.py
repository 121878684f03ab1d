"""Every strategy on real bundled data: its trades obey the rules stated in its docstring.

Each check recomputes the rule at the signal bar (the session before the fill) from the
indicators, independently of the strategy's own boolean bookkeeping where possible
(SMA by pandas rolling means, Donchian by explicit windows, pivots by explicit scans).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import indicators as ind
from core.backtest.costs import NO_COSTS
from core.backtest.engine import EngineConfig, run_engine
from core.backtest.runner import adjust_bars
from core.backtest.sizing import Sizing
from core.errors import InputError
from core.strategies import STRATEGIES, MlFilter, NoModelError, get_strategy, parse_params
from core.strategies.adaptive import detect_regime

CFG = EngineConfig(cash=100_000, costs=NO_COSTS, sizing=Sizing(lot_size=1))


@pytest.fixture(scope="module")
def bars(bundled_store):
    return adjust_bars(bundled_store.bars("PETR4", "2012-01-01", "2024-11-14"))


@pytest.fixture(scope="module")
def vale(bundled_store):
    return adjust_bars(bundled_store.bars("VALE3", "2012-01-01", "2024-11-14"))


def run(strategy, b, cfg=CFG):
    s = strategy.signals(b)
    return s, run_engine(b, s, cfg)


def pos(b, date):
    return b.index.get_loc(date)


def check_fills(b, trades, level_entries=False):
    """Entries at the open of the bar after the signal (or at a level inside that bar)."""
    assert len(trades) > 0
    for t in trades.itertuples():
        i = pos(b, t.entry_date)
        assert i >= 1
        if level_entries:
            assert b["low"].iloc[i] - 1e-9 <= t.entry_price <= b["high"].iloc[i] + 1e-9
            assert t.entry_price >= b["open"].iloc[i] - 1e-9
        else:
            assert t.entry_price == pytest.approx(b["open"].iloc[i])
        if t.exit_reason == "sinal":
            assert t.exit_price == pytest.approx(b["open"].iloc[pos(b, t.exit_date)])


def test_sma_cross_rules(bars):
    strat = get_strategy("sma_cross", fast=10, slow=30)
    _, r = run(strat, bars)
    check_fills(bars, r.trades)
    f = bars["close"].rolling(10).mean()
    s = bars["close"].rolling(30).mean()
    for t in r.trades.itertuples():
        k = pos(bars, t.entry_date) - 1
        assert f.iloc[k] > s.iloc[k] and f.iloc[k - 1] <= s.iloc[k - 1]
        if t.exit_reason == "sinal":
            k = pos(bars, t.exit_date) - 1
            assert f.iloc[k] < s.iloc[k] and f.iloc[k - 1] >= s.iloc[k - 1]


def test_sma_cross_fast_frame_is_the_series_path_frame(bars):
    """The one-block flag frame (a replay calls the strategy once per bar) equals the frame
    built from :func:`ind.sma` Series and a dict, values, dtypes, columns and index, also
    on a prefix (the history a replay delivers)."""
    from core.strategies.base import crossed_above, crossed_below, flag_frame

    strat = get_strategy("sma_cross", fast=10, slow=30)
    for b in (bars, bars.iloc[:45], bars.iloc[:5]):
        f = ind.sma(b["close"], 10).to_numpy()
        s = ind.sma(b["close"], 30).to_numpy()
        up, down = crossed_above(f, s), crossed_below(f, s)
        ref = pd.DataFrame(
            {"entry_long": up, "exit_long": down, "entry_short": down, "exit_short": up},
            index=b.index,
        )
        pd.testing.assert_frame_equal(strat.signals(b), ref)
    assert strat.signals(bars)["entry_long"].sum() > 0
    with pytest.raises(ValueError, match="shape"):
        flag_frame(bars.index, up, down, down, up)  # arrays of the 5-bar prefix


def test_trend_following_rules(bars):
    strat = get_strategy("trend_following")
    _, r = run(strat, bars)
    check_fills(bars, r.trades)
    f, s = ind.ema(bars["close"], 12), ind.ema(bars["close"], 26)
    a = ind.adx(bars, 14)
    for t in r.trades.itertuples():
        k = pos(bars, t.entry_date) - 1
        assert f.iloc[k] > s.iloc[k] and f.iloc[k - 1] <= s.iloc[k - 1]
        assert a["adx"].iloc[k] >= 20 and a["plus_di"].iloc[k] > a["minus_di"].iloc[k]
        if t.exit_reason == "sinal":
            k = pos(bars, t.exit_date) - 1
            assert f.iloc[k] < s.iloc[k]


def test_mean_reversion_rules(bars):
    strat = get_strategy("mean_reversion")
    _, r = run(strat, bars)
    check_fills(bars, r.trades)
    c = bars["close"]
    mid = c.rolling(20).mean()
    lower = mid - 2 * c.rolling(20).std(ddof=0)
    rsi = ind.rsi(c, 14)
    for t in r.trades.itertuples():
        k = pos(bars, t.entry_date) - 1
        assert c.iloc[k] < lower.iloc[k] + 1e-9 and rsi.iloc[k] < 35
        if t.exit_reason == "sinal":
            k = pos(bars, t.exit_date) - 1
            assert c.iloc[k] >= mid.iloc[k] - 1e-9 or rsi.iloc[k] > 70


def test_breakout_rules(vale):
    strat = get_strategy("breakout", entry=20, exit=10)
    _, r = run(strat, vale)
    check_fills(vale, r.trades)
    h, lo, c = vale["high"].to_numpy(), vale["low"].to_numpy(), vale["close"].to_numpy()
    for t in r.trades.itertuples():
        k = pos(vale, t.entry_date) - 1
        assert c[k] > h[k - 20 : k].max()
        if t.exit_reason == "sinal":
            k = pos(vale, t.exit_date) - 1
            assert c[k] < lo[k - 10 : k].min()


def test_macd_crossover_rules(bars):
    strat = get_strategy("macd_crossover", below_zero=True)
    _, r = run(strat, bars)
    check_fills(bars, r.trades)
    m = ind.macd(bars["close"])
    for t in r.trades.itertuples():
        k = pos(bars, t.entry_date) - 1
        assert m["macd"].iloc[k] > m["signal"].iloc[k]
        assert m["macd"].iloc[k - 1] <= m["signal"].iloc[k - 1]
        assert m["macd"].iloc[k] < 0


def _pivot_lows(low, w):
    return [p for p in range(w, len(low) - w) if low[p] == low[p - w : p + w + 1].min()]


def test_rsi_divergence_rules_and_all_four_patterns(bars, vale):
    strat = get_strategy("rsi_divergence")
    s, r = run(strat, bars)
    check_fills(bars, r.trades)
    w = 3
    low = bars["low"].to_numpy()
    rsi = ind.rsi(bars["close"], 14).to_numpy()
    piv = _pivot_lows(low, w)
    for t in r.trades.itertuples():
        k = pos(bars, t.entry_date) - 1  # confirmation bar
        p = k - w
        assert p in piv, "entry must come pivot bars after a pivot low"
        prev = [q for q in piv if q < p][-1]
        assert 5 <= p - prev <= 60
        regular = low[p] < low[prev] and rsi[p] > rsi[prev]
        hidden = low[p] > low[prev] and rsi[p] < rsi[prev]
        assert regular or hidden
    found = set(s["pattern"]) | set(strat.signals(vale)["pattern"])
    assert {"regular_bullish", "hidden_bullish", "regular_bearish", "hidden_bearish"} <= found


def test_wave3_rules(bars):
    strat = get_strategy("wave3")
    s, r = run(strat, bars)
    check_fills(bars, r.trades, level_entries=True)
    c, lo, h = bars["close"], bars["low"], bars["high"]
    e17, e72 = ind.ema(c, 17), ind.ema(c, 72)
    reasons = set(r.trades["exit_reason"])
    assert {"stop", "alvo"} <= reasons
    for t in r.trades.itertuples():
        k = pos(bars, t.entry_date) - 1  # trigger bar
        assert e17.iloc[k] > e72.iloc[k] and e72.iloc[k] > e72.iloc[k - 5]
        assert c.iloc[k] > e72.iloc[k]
        assert e72.iloc[k] <= lo.iloc[k] <= e17.iloc[k]
        assert s["score"].iloc[k] >= 55
        level = h.iloc[k] + 0.01
        stop = lo.iloc[k - 4 : k + 1].min() - 0.01
        assert t.entry_price >= level - 1e-9
        assert t.stop_at_entry == pytest.approx(stop)
        x = pos(bars, t.exit_date)
        if t.exit_reason == "stop":
            assert t.exit_price == pytest.approx(
                min(stop, bars["open"].iloc[x])
            ) or t.exit_price == pytest.approx(stop)
        if t.exit_reason == "alvo":
            target = level + 3 * (level - stop)
            assert t.exit_price == pytest.approx(
                max(target, bars["open"].iloc[x])
            ) or t.exit_price == pytest.approx(target)


def test_wave3_score_is_between_0_and_100(bars):
    s = get_strategy("wave3").signals(bars)
    sc = s["score"].dropna()
    assert sc.between(0, 100).all() and sc.max() > 55 > sc.min()


def test_adaptive_trades_only_in_regimes_mapped_to_a_strategy(bars):
    strat = get_strategy("adaptive")
    s, r = run(strat, bars)
    check_fills(bars, r.trades)
    regime = detect_regime(bars)
    subs = {
        "alta": get_strategy("trend_following").signals(bars),
        "lateral": get_strategy("mean_reversion").signals(bars),
    }
    for t in r.trades.itertuples():
        k = pos(bars, t.entry_date) - 1
        reg = regime.iloc[k]
        assert reg in subs, f"entry in regime {reg!r} mapped to none"
        assert subs[reg]["entry_long"].iloc[k]
    assert set(regime.unique()) >= {"alta", "baixa", "lateral", "volátil"}


class FakeModel:
    """P(up) = 0.7 on even sessions, 0.3 on odd ones (causal by construction)."""

    def predict_proba_up(self, bars, index_bars=None):
        return pd.Series(np.where(np.arange(len(bars)) % 2 == 0, 0.7, 0.3), index=bars.index)


def test_ml_filter_keeps_only_agreeing_entries(bars):
    base = get_strategy("sma_cross").signals(bars)
    strat = MlFilter(model=FakeModel(), base="sma_cross", threshold=0.6)
    s, r = run(strat, bars)
    even = np.arange(len(bars)) % 2 == 0
    assert (s["entry_long"] == (base["entry_long"] & even)).all()
    assert (s["exit_long"] == base["exit_long"]).all()
    assert 0 < s["entry_long"].sum() < base["entry_long"].sum()
    for t in r.trades.itertuples():
        assert even[pos(bars, t.entry_date) - 1]


def test_ml_filter_without_model_says_none_is_trained(empty_store, bars):
    strat = get_strategy("ml_filter")
    with pytest.raises(NoModelError, match="nenhum modelo treinado/promovido"):
        strat.prepare(empty_store)
    with pytest.raises(NoModelError, match="nenhum modelo"):
        strat.signals(bars)


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_declared_params_are_typed_and_ranged(name):
    cls = STRATEGIES[name]
    assert cls.__module__.split(".")[-1] == name or name in cls.__module__
    assert (__import__(cls.__module__, fromlist=["_"]).__doc__ or "").count("Rules") or name in (
        "wave3",
    )
    for p in cls.params:
        assert p.kind in ("int", "float", "bool", "choice")
        if p.kind in ("int", "float"):
            assert p.low <= p.default <= p.high
        if p.kind == "choice":
            assert p.default in p.choices
    cls()  # defaults are valid


def test_param_validation_messages():
    with pytest.raises(InputError, match="fora do intervalo"):
        get_strategy("sma_cross", fast=1000)
    with pytest.raises(InputError, match="desconhecidos"):
        get_strategy("sma_cross", speed=3)
    with pytest.raises(InputError, match="menor"):
        get_strategy("sma_cross", fast=50, slow=20)
    with pytest.raises(InputError, match="desconhecida"):
        get_strategy("nope")
    assert get_strategy("sma_cross", **parse_params("fast=5, slow=20")).p == {"fast": 5, "slow": 20}
    assert get_strategy("macd_crossover", below_zero="sim").p["below_zero"] is True


@pytest.mark.parametrize(
    "name", [n for n, c in STRATEGIES.items() if n != "ml_filter" and not c.intraday]
)
def test_every_strategy_runs_on_a_portfolio_with_b3_costs(bundled_store, name):
    from core.backtest.runner import run_backtest

    res = run_backtest(
        bundled_store,
        name,
        ["PETR4", "VALE3", "ITUB4"],
        "2015-01-01",
        "2024-11-14",
        config=EngineConfig(sizing=Sizing("percent", 30)),
    )
    assert len(res.trades) > 0, name
    assert set(res.trades["ticker"]) <= {"PETR4", "VALE3", "ITUB4"}
    assert res.metrics["costs_brl"] > 0
    assert np.isfinite(res.equity).all() and (res.equity > 0).all()
    assert res.trades["entry_date"].min() >= pd.Timestamp("2015-01-01")
    # shared cash: never more invested than the equity (no leverage)
    assert (res.exposure <= 1.0 + 1e-9).all()


def test_ml_filter_drops_entries_inside_the_models_training_period(bars):
    model = FakeModel()
    model.trained_until = pd.Timestamp("2018-12-31")
    s = MlFilter(model=model, base="sma_cross", threshold=0.6).signals(bars)
    assert not s.loc[:"2018-12-31", "entry_long"].any()
    assert s.loc["2019-01-01":, "entry_long"].any()
    model.trained_until = bars.index[-1]
    with pytest.raises(InputError, match="treinado com dados até"):
        MlFilter(model=model).signals(bars)
    s = MlFilter(model=model, in_sample=True, threshold=0.6).signals(bars)
    assert s["entry_long"].any()
