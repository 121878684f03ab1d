"""Hand-computed cases for the engine: fills, stops (both touched, gaps), trailing, time,
lots, costs, day trades, shorts with borrow, entry levels, portfolio slots; no lookahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.costs import NO_COSTS, B3Costs
from core.backtest.engine import EngineConfig, run_engine
from core.backtest.sizing import Sizing, kelly_fraction, round_shares, split_lots
from core.errors import InputError
from tests.helpers import engine_bars, engine_config, engine_signals

make_bars, sig, cfg = engine_bars, engine_signals, engine_config


FLAT = (10.0, 10.2, 9.8, 10.0)


def test_signal_at_close_fills_at_next_open():
    bars = make_bars(
        [
            (10, 10.5, 9.5, 10),
            (10, 11, 9.8, 10.5),
            (11, 12, 10.8, 11.5),
            (12, 12.5, 11.5, 12),
            (11, 11, 10, 10.5),
        ]
    )
    r = run_engine(bars, sig(bars.index, entry_long=[0], exit_long=[2]), cfg())
    t = r.trades.iloc[0]
    assert len(r.trades) == 1
    assert t.entry_date == bars.index[1] and t.entry_price == 10.0
    assert t.exit_date == bars.index[3] and t.exit_price == 12.0
    assert t.shares == 100 and t.pnl == pytest.approx(200.0)
    assert t.exit_reason == "sinal" and not t.day_trade
    # marked at each close: 1000 cash before, then 100 shares
    assert r.equity.tolist() == pytest.approx([1000, 1050, 1150, 1200, 1200])


def test_signal_on_last_bar_is_never_filled_and_open_position_closes_at_end():
    bars = make_bars([FLAT, FLAT, (10, 11, 10, 11)])
    r = run_engine(bars, sig(bars.index, entry_long=[1, 2]), cfg())
    assert len(r.trades) == 1
    t = r.trades.iloc[0]
    assert t.entry_date == bars.index[2] and t.exit_reason == "fim" and t.exit_price == 11.0


def test_stop_and_target_touched_in_one_bar_assumes_stop_first():
    bars = make_bars([FLAT, (10, 11.5, 9.4, 10.5), FLAT])
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(stop_loss=0.05, take_profit=0.10))
    t = r.trades.iloc[0]
    assert t.exit_reason == "stop"
    assert t.exit_price == pytest.approx(9.5)
    assert t.exit_date == bars.index[1] and t.day_trade
    assert t.pnl == pytest.approx(100 * (9.5 - 10))


def test_target_hit_inside_the_bar():
    bars = make_bars([FLAT, (10, 10.3, 9.9, 10.2), (10.2, 11.2, 10.1, 11.0), FLAT])
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(stop_loss=0.05, take_profit=0.10))
    t = r.trades.iloc[0]
    assert t.exit_reason == "alvo" and t.exit_price == pytest.approx(11.0)
    assert t.exit_date == bars.index[2] and not t.day_trade


def test_gap_through_stop_fills_at_open():
    bars = make_bars([FLAT, (10, 10.2, 9.8, 10.0), (9.0, 9.3, 8.8, 9.1), FLAT])
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(stop_loss=0.05))
    t = r.trades.iloc[0]
    assert t.exit_reason == "stop"
    assert t.exit_price == pytest.approx(9.0)  # the open, worse than the 9.5 stop
    assert t.exit_date == bars.index[2]


def test_gap_above_target_fills_at_open():
    bars = make_bars([FLAT, (10, 10.2, 9.8, 10.0), (11.5, 11.8, 11.3, 11.6), FLAT])
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(take_profit=0.10))
    t = r.trades.iloc[0]
    assert t.exit_reason == "alvo" and t.exit_price == pytest.approx(11.5)


def test_short_gap_through_stop_fills_at_open():
    bars = make_bars([FLAT, (10, 10.2, 9.8, 10.0), (11.0, 11.2, 10.8, 11.0), FLAT])
    c = cfg(stop_loss=0.05, allow_short=True, costs=B3Costs(0, 0, 0, 0, 0))
    r = run_engine(bars, sig(bars.index, entry_short=[0]), c)
    t = r.trades.iloc[0]
    assert t.direction == "venda" and t.exit_reason == "stop"
    assert t.exit_price == pytest.approx(11.0)
    assert t.pnl == pytest.approx(100 * (10 - 11.0))


def test_trailing_stop_trails_previous_highs_only():
    # entry 10 at bar1; bar1 high 12 must not stop bar1 itself (its low 9.5 > 9.0)
    bars = make_bars([FLAT, (10, 12, 9.5, 11.8), (11.8, 11.9, 10.7, 11.0), FLAT])
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(trailing_stop=0.10))
    t = r.trades.iloc[0]
    assert t.exit_reason == "stop móvel"
    assert t.exit_date == bars.index[2]
    assert t.exit_price == pytest.approx(12 * 0.9)


def test_time_stop_exits_at_open_after_max_bars():
    bars = make_bars([FLAT, FLAT, FLAT, (10.4, 10.6, 10.2, 10.5), FLAT])
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(max_bars=2))
    t = r.trades.iloc[0]
    assert t.exit_reason == "tempo" and t.exit_date == bars.index[3]
    assert t.exit_price == 10.4 and t.bars_held == 2


def test_costs_slippage_fees_and_brokerage_by_hand():
    costs = B3Costs(
        swing_fee_rate=0.0003,
        day_trade_fee_rate=0.00023,
        brokerage_per_order=2.5,
        slippage_bps=10,
        borrow_rate_annual=0.0,
    )
    bars = make_bars([FLAT, (10, 10.2, 9.8, 10.0), (10.5, 11.2, 10.4, 11.0), (11, 11, 11, 11)])
    c = EngineConfig(cash=10_000, costs=costs, sizing=Sizing(lot_size=100, fractional=False))
    r = run_engine(bars, sig(bars.index, entry_long=[0], exit_long=[2]), c)
    t = r.trades.iloc[0]
    buy = 10 * 1.001  # 10 bps against us
    q = (10_000 - 2.5) / (buy * 1.0003)  # 998.4 -> whole lots of 100
    assert int(q) == 998 and t.shares == 900
    assert t.round_lot_shares == 900 and t.fractional_shares == 0
    sell = 11 * 0.999
    fee_in = 900 * buy * 0.0003 + 2.5
    fee_out = 900 * sell * 0.0003 + 2.5
    assert t.entry_price == pytest.approx(buy) and t.exit_price == pytest.approx(sell)
    assert t.fees == pytest.approx(fee_in + fee_out)
    assert t.pnl == pytest.approx(900 * (sell - buy) - fee_in - fee_out)
    assert r.equity.iloc[-1] == pytest.approx(10_000 + t.pnl)


def test_fractional_remainder_and_lot_rounding():
    bars = make_bars([FLAT, FLAT, FLAT])
    c = EngineConfig(cash=10_000, costs=NO_COSTS, sizing=Sizing(lot_size=100, fractional=True))
    r = run_engine(make_bars([FLAT, (9.95, 10, 9.9, 10), FLAT]), sig(bars.index, entry_long=[0]), c)
    t = r.trades.iloc[0]
    assert t.shares == 1005  # floor(10000 / 9.95)
    assert (t.round_lot_shares, t.fractional_shares) == (1000, 5)
    assert round_shares(257.9) == 257 and round_shares(257.9, 100, False) == 200
    assert round_shares(99, 100, False) == 0 and split_lots(257) == (200, 57)


def test_day_trade_pays_day_trade_rate_on_both_orders():
    costs = B3Costs(
        swing_fee_rate=0.001,
        day_trade_fee_rate=0.0005,
        brokerage_per_order=0,
        slippage_bps=0,
        borrow_rate_annual=0,
    )
    bars = make_bars([FLAT, (10, 10.1, 9.0, 9.2), FLAT])
    c = EngineConfig(cash=1000, costs=costs, sizing=Sizing(lot_size=1), stop_loss=0.05)
    r = run_engine(bars, sig(bars.index, entry_long=[0]), c)
    t = r.trades.iloc[0]
    assert t.day_trade
    q = int(1000 / (10 * 1.001))  # sized with the swing rate reserve: 99
    assert t.shares == q
    assert t.fees == pytest.approx(q * 10 * 0.0005 + q * 9.5 * 0.0005)
    assert r.equity.iloc[-1] == pytest.approx(1000 + t.pnl)


def test_short_pays_borrow_per_session():
    costs = B3Costs(0, 0, 0, 0, borrow_rate_annual=0.0252)  # 0.01 % a session
    bars = make_bars([FLAT, (10, 10.2, 9.8, 9.0), (9, 9.1, 8.5, 8.0), (8, 8, 8, 8), FLAT])
    c = EngineConfig(cash=1000, costs=costs, sizing=Sizing(lot_size=1), allow_short=True)
    r = run_engine(bars, sig(bars.index, entry_short=[0], exit_short=[2]), c)
    t = r.trades.iloc[0]
    assert t.direction == "venda" and t.shares == 100
    borrow = 100 * 9.0 * 0.0001 + 100 * 8.0 * 0.0001
    assert t.borrow == pytest.approx(borrow)
    assert t.pnl == pytest.approx(100 * (10 - 8) - borrow)
    assert r.equity.iloc[-1] == pytest.approx(1000 + t.pnl)


def test_long_only_ignores_short_signals():
    bars = make_bars([FLAT, FLAT, FLAT])
    r = run_engine(bars, sig(bars.index, entry_short=[0]), cfg())
    assert len(r.trades) == 0


def test_entry_level_buy_stop_fills_or_cancels():
    bars = make_bars([FLAT, (10, 10.6, 9.9, 10.4), FLAT, FLAT])
    r = run_engine(bars, sig(bars.index, entry_long=[0], entry_level={0: 10.5}), cfg())
    assert r.trades.iloc[0].entry_price == pytest.approx(10.5)
    r = run_engine(bars, sig(bars.index, entry_long=[0], entry_level={0: 11.0}), cfg())
    assert len(r.trades) == 0
    # a gap over the level fills at the open
    bars2 = make_bars([FLAT, (10.8, 11, 10.7, 10.9), FLAT])
    r = run_engine(bars2, sig(bars2.index, entry_long=[0], entry_level={0: 10.5}), cfg())
    assert r.trades.iloc[0].entry_price == pytest.approx(10.8)


def test_strategy_stop_and_target_levels_take_precedence():
    bars = make_bars([FLAT, (10, 10.3, 9.65, 10.1), FLAT])
    s = sig(bars.index, entry_long=[0], stop={0: 9.7}, target={0: 12.0})
    r = run_engine(bars, s, cfg(stop_loss=0.5))
    t = r.trades.iloc[0]
    assert t.exit_reason == "stop" and t.exit_price == pytest.approx(9.7)
    assert t.stop_at_entry == pytest.approx(9.7)


def test_portfolio_shares_cash_and_caps_positions():
    a = make_bars([FLAT, FLAT, FLAT])
    b = make_bars([(20, 20, 20, 20)] * 3)
    sa, sb = sig(a.index, entry_long=[0]), sig(b.index, entry_long=[0])
    r = run_engine({"A": a, "B": b}, {"A": sa, "B": sb}, cfg(max_positions=1))
    assert r.trades["ticker"].tolist() == ["A"]
    r = run_engine({"A": a, "B": b}, {"A": sa, "B": sb}, cfg(max_positions=2))
    t = r.trades.set_index("ticker")
    assert t.loc["A", "shares"] == 50 and t.loc["B", "shares"] == 25  # half the cash each


def test_portfolio_skips_tickers_without_a_bar():
    a = make_bars([FLAT, FLAT, FLAT, FLAT])
    b = make_bars([(20, 20, 20, 20)] * 4).drop(index=a.index[1])
    r = run_engine({"A": a, "B": b}, {"A": sig(a.index), "B": sig(b.index, entry_long=[0])}, cfg())
    assert r.trades.iloc[0].entry_date == a.index[2]


def test_sizing_methods_by_hand():
    bars = make_bars([FLAT, FLAT, FLAT])
    s = sig(bars.index, entry_long=[0])
    assert run_engine(bars, s, cfg(sizing=Sizing("fixed", 300, lot_size=1))).trades.shares[0] == 30
    assert run_engine(bars, s, cfg(sizing=Sizing("percent", 25, lot_size=1))).trades.shares[0] == 25
    # risk 2 % of 1000 = R$ 20 with a 0.5 stop distance -> 40 shares
    r = run_engine(bars, s, cfg(sizing=Sizing("risk", 2, lot_size=1), stop_loss=0.05))
    assert r.trades.shares[0] == 40
    # Kelly before any closed trade: value % of equity
    r = run_engine(bars, s, cfg(sizing=Sizing("kelly", 10, lot_size=1)))
    assert r.trades.shares[0] == 10
    assert kelly_fraction(0.6, 1.0) == pytest.approx(0.2)
    assert kelly_fraction(0.6, 1.0, 0.5, 0.05) == pytest.approx(0.05)
    assert kelly_fraction(0.3, 1.0) == 0.0


def test_kelly_uses_only_past_trades():
    # four closed trades of +10 %, -5 %, +10 %, -5 % -> W = 0.5, R = 2, f = 0.25; the fifth
    # entry is sized with f, the first four with the fallback 10 %.
    rows, ent, ext = [], [], []
    for p in (11.0, 9.5, 11.0, 9.5):
        ent.append(len(rows))
        rows.append(FLAT)
        ext.append(len(rows))
        rows.append((10, 10, 10, 10))
        rows.append((p, p, p, p))
    ent.append(len(rows))
    rows += [FLAT, (10, 10, 10, 10), FLAT]
    bars = make_bars(rows)
    s = sig(bars.index, entry_long=ent, exit_long=ext)
    c = cfg(
        cash=10_000,
        sizing=Sizing(
            "kelly", 10, kelly_fraction=1.0, kelly_cap=0.3, kelly_min_trades=4, lot_size=1
        ),
    )
    r = run_engine(bars, s, c)
    t = r.trades
    assert len(t) == 5
    for k in range(4):
        eq = r.equity.iloc[ent[k]]
        assert t.shares[k] == int(0.10 * eq / 10)
    eq = r.equity.iloc[ent[4]]
    assert t.shares[4] == int(0.25 * eq / 10)
    # a trade's own outcome never sizes it: the 4th trade still used the fallback
    assert t.shares[3] != int(0.25 * r.equity.iloc[ent[3]] / 10)


def test_bad_config_raises():
    with pytest.raises(InputError):
        EngineConfig(cash=0)
    with pytest.raises(InputError):
        EngineConfig(stop_loss=1.5)
    with pytest.raises(InputError):
        Sizing("martingale")


def test_no_lookahead_engine_with_every_strategy(bundled_store):
    """Changing every bar after t changes no signal, equity or closed trade up to t."""
    from core.backtest.runner import adjust_bars
    from core.strategies import STRATEGIES, MlFilter

    class CausalModel:  # P(up) from the last 10 returns only
        def predict_proba_up(self, bars, index_bars=None):
            r = bars["close"].pct_change().rolling(10).mean()
            return 0.5 + np.tanh(100 * r) / 2

    bars = adjust_bars(bundled_store.bars("VALE3", "2014-01-01", "2020-12-31"))
    rng = np.random.default_rng(7)
    cuts = [300, 700, 1200]
    c = EngineConfig(stop_loss=0.08, trailing_stop=0.15, allow_short=True)
    for name, cls in STRATEGIES.items():
        strat = MlFilter(model=CausalModel()) if name == "ml_filter" else cls()
        s_full = strat.signals(bars)
        r_full = run_engine(bars, s_full, c)
        for t in cuts:
            noisy = bars.copy()
            k = len(bars) - t - 1
            f = np.exp(rng.normal(0, 0.05, size=k))
            for col in ("open", "high", "low", "close", "adj_close"):
                noisy.iloc[t + 1 :, noisy.columns.get_loc(col)] = bars[col].to_numpy()[t + 1 :] * f
            noisy.iloc[t + 1 :, noisy.columns.get_loc("volume")] *= 3
            s2 = strat.signals(noisy)
            pd.testing.assert_frame_equal(
                s_full.iloc[: t + 1], s2.iloc[: t + 1], obj=f"{name} signals up to bar {t}"
            )
            r2 = run_engine(noisy, s2, c)
            np.testing.assert_allclose(
                r_full.equity.to_numpy()[: t + 1], r2.equity.to_numpy()[: t + 1], err_msg=name
            )
            cut = bars.index[t]
            a = r_full.trades[r_full.trades.exit_date <= cut].reset_index(drop=True)
            b = r2.trades[r2.trades.exit_date <= cut].reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b, obj=f"{name} trades closed by bar {t}")


def test_intraday_bars_use_sessions_for_day_trades_and_borrow():
    idx = pd.to_datetime(
        [
            "2024-01-02 10:00",
            "2024-01-02 11:00",
            "2024-01-02 12:00",
            "2024-01-03 10:00",
            "2024-01-03 11:00",
            "2024-01-03 12:00",
        ]
    )
    bars = pd.DataFrame(
        [(10, 10, 10, 10)] * 6, index=idx, columns=["open", "high", "low", "close"], dtype=float
    )
    sessions = np.array([0, 0, 0, 1, 1, 1])
    costs = B3Costs(0.001, 0.0005, 0, 0, borrow_rate_annual=0.0252)
    c = EngineConfig(cash=1000, costs=costs, sizing=Sizing(lot_size=1), allow_short=True)
    # enter at 11:00, exit at 12:00 the same day -> day trade
    r = run_engine(bars, sig(idx, entry_long=[0], exit_long=[1]), c, sessions=sessions)
    assert r.trades.iloc[0].day_trade
    # enter at 11:00, exit next day at 11:00 -> swing trade
    r = run_engine(bars, sig(idx, entry_long=[0], exit_long=[3]), c, sessions=sessions)
    assert not r.trades.iloc[0].day_trade
    # a short held over two sessions pays borrow once per session, not per bar
    r = run_engine(bars, sig(idx, entry_short=[2], exit_short=[4]), c, sessions=sessions)
    t = r.trades.iloc[0]
    assert t.entry_date == idx[3] and t.exit_date == idx[5]
    assert t.borrow == pytest.approx(t.shares * 10 * 0.0001)


def test_short_entered_mid_session_pays_that_session():
    idx = pd.to_datetime(
        ["2024-01-02 10:00", "2024-01-02 11:00", "2024-01-02 12:00", "2024-01-03 10:00"]
    )
    bars = pd.DataFrame(
        [(10, 10, 10, 10)] * 4, index=idx, columns=["open", "high", "low", "close"], dtype=float
    )
    costs = B3Costs(0, 0, 0, 0, borrow_rate_annual=0.0252)
    c = EngineConfig(cash=1000, costs=costs, sizing=Sizing(lot_size=1), allow_short=True)
    r = run_engine(
        bars, sig(idx, entry_short=[0], exit_short=[2]), c, sessions=np.array([0, 0, 0, 1])
    )
    t = r.trades.iloc[0]
    assert t.entry_date == idx[1] and t.exit_date == idx[3]
    assert t.borrow == pytest.approx(t.shares * 10 * 0.0001)  # one session held


def test_shorts_keep_collateral_so_gross_exposure_never_exceeds_equity():
    a = make_bars([FLAT] * 4)
    b = make_bars([(20, 20, 20, 20)] * 4)
    c = cfg(allow_short=True, max_positions=2, sizing=Sizing("all_in", lot_size=1))
    r = run_engine(
        {"A": a, "B": b}, {"A": sig(a.index, entry_short=[0]), "B": sig(b.index, entry_long=[0])}, c
    )
    t = r.trades.set_index("ticker")
    assert t.loc["A", "shares"] == 50 and t.loc["B", "shares"] == 25
    assert (r.exposure <= 1.0 + 1e-9).all()


def test_metrics_window_starts_from_the_cash_before_the_first_session():
    """A signal on the bar before ``start`` fills at ``start``'s open: its costs and the first
    session's move must be inside the measured window (audit finding)."""
    from core.backtest.runner import run_backtest
    from core.data.bundled import load_bundled
    from core.data.store import init_db

    store = init_db("sqlite://")
    load_bundled(store)
    # 2012-03-28 is the session after an sma_cross entry signal on PETR4.
    r = run_backtest(store, "sma_cross", ["PETR4"], start="2012-03-28", end="2013-12-31")
    assert r.equity.iloc[0] == pytest.approx(r.config.cash)
    assert r.equity.index[1] == r.start == pd.Timestamp("2012-03-28")
    assert r.metrics["initial_equity_brl"] == pytest.approx(r.config.cash)
    # every position is closed by the end of the window: the curve and the trades agree
    assert r.trades["exit_date"].max() <= r.equity.index[-1]
    assert r.equity.iloc[-1] - r.config.cash == pytest.approx(r.trades["pnl"].sum(), abs=1e-6)
    assert r.metrics["total_return_pct"] == pytest.approx(
        100 * r.trades["pnl"].sum() / r.config.cash, rel=1e-9
    )


def test_buy_and_hold_buys_a_late_listing_at_its_first_close():
    from core.backtest.runner import run_backtest
    from core.data.bundled import load_bundled
    from core.data.store import init_db

    store = init_db("sqlite://")
    load_bundled(store)
    r = run_backtest(store, "sma_cross", ["PETR4", "AZUL4"], start="2015-01-01", end="2019-12-31")
    bh = r.benchmarks["buy_hold"]
    # AZUL4 lists on 2017-04-11: no jump beyond PETR4's own move that day.
    day = bh.pct_change().loc["2017-04-11"]
    petr = store.bars("PETR4", "2017-04-10", "2017-04-11")["adj_close"].pct_change().iloc[-1]
    # the AZUL4 half was cash until that close: the day's move is PETR4's, weighted by its
    # share of the buy-and-hold value the day before (no jump from re-basing AZUL4)
    n_petr = 2 * bh.loc[:"2017-04-10"].iloc[-1] / r.config.cash - 1
    assert day == pytest.approx(petr * n_petr / (n_petr + 1), abs=1e-9)
