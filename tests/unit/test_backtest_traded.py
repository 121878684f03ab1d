"""Issue 9: trade what traded, pay what B3 and the Receita charge.

Hand-computed cases on synthetic bars (splits, proventos, targets as limit orders,
same-session day trades, dated fees, per-order brokerage) and checks on the bundled real
data (buy-and-hold total return, the equity invariant for every strategy and mode,
walk-forward's single capital path, taxes by instrument kind). Each would fail on the
engine before issue 9.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.backtest.costs import B3_FEE_SCHEDULE, NO_COSTS, B3Costs, fee_rates
from core.backtest.engine import EngineConfig, run_engine
from core.backtest.fills import entry_fill, stop_fill, target_fill
from core.backtest.metrics import compute_metrics, monthly_returns
from core.backtest.sizing import Sizing
from core.backtest.taxes import TaxRules, tax_report, total_tax
from core.errors import InputError
from tests.helpers import engine_bars, engine_config, engine_signals

make_bars, sig, cfg = engine_bars, engine_signals, engine_config


FLAT = (10.0, 10.2, 9.8, 10.0)


# --------------------------------------------------------------- corporate actions
def test_split_multiplies_the_position_on_its_ex_date():
    # 2:1 split on bar 3: traded prices halve. Before issue 9 the engine saw a -50 % bar.
    bars = make_bars([FLAT, FLAT, FLAT, (5, 5.1, 4.9, 5), (5, 5.1, 4.9, 5), (5, 5.1, 4.9, 5)])
    acts = pd.DataFrame({"date": [bars.index[3]], "kind": ["split"], "value": [2.0]})
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(), actions=acts)
    t = r.trades.iloc[0]
    assert t.shares == 200  # 100 bought at 10, doubled
    assert t.entry_price == pytest.approx(5.0)  # cost basis preserved: 1000 / 200
    assert t.pnl == pytest.approx(0.0)
    assert r.equity.iloc[-1] == pytest.approx(1000.0)
    # a stop-loss of 10 % is not hit by the split
    r2 = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(stop_loss=0.1), actions=acts)
    assert r2.trades.iloc[0].exit_reason == "fim"


def test_reverse_split_and_fraction_paid_in_cash():
    bars = make_bars([FLAT, FLAT, FLAT, (100, 101, 99, 100), (100, 101, 99, 100)])
    acts = pd.DataFrame({"date": [bars.index[3]], "kind": ["reverse_split"], "value": [0.1]})
    c = cfg(cash=1050.0)  # buys 105 shares at 10 -> 10.5 after a 10:1 grupamento
    r = run_engine(bars, sig(bars.index, entry_long=[0]), c, actions=acts)
    t = r.trades.iloc[0]
    assert t.shares == 10
    assert t.proventos == pytest.approx(0.5 * 100)  # half a share sold at 100
    assert r.equity.iloc[-1] == pytest.approx(1050.0)
    assert r.equity.iloc[-1] - 1050.0 == pytest.approx(t.pnl + r.proventos)


def test_dividend_and_jcp_credited_on_ex_date_jcp_net_of_15_percent():
    bars = make_bars([FLAT, FLAT, FLAT, (9, 9.2, 8.8, 9), (9, 9.2, 8.8, 9)])
    acts = pd.DataFrame(
        {
            "date": [bars.index[3], bars.index[3]],
            "kind": ["dividend", "jcp"],
            "value": [0.6, 0.4],
        }
    )
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(), actions=acts)
    # 100 shares: 60 of dividends (exempt) + 40 of JCP less 15 % withheld = 94
    assert r.proventos == pytest.approx(60 + 40 * 0.85)
    assert r.jcp_withheld == pytest.approx(6.0)
    t = r.trades.iloc[0]
    assert t.pnl == pytest.approx(-100.0)  # the price drop is the trade's
    assert r.equity.iloc[-1] == pytest.approx(1000 - 100 + 94)


def test_short_pays_the_lender_the_proventos():
    bars = make_bars([FLAT, FLAT, FLAT, (9, 9.2, 8.8, 9), (9, 9.2, 8.8, 9)])
    acts = pd.DataFrame({"date": [bars.index[3]], "kind": ["dividend"], "value": [1.0]})
    c = cfg(allow_short=True)
    r = run_engine(bars, sig(bars.index, entry_short=[0]), c, actions=acts)
    t = r.trades.iloc[0]
    assert t.pnl == pytest.approx(100.0)  # sold at 10, bought back at 9
    assert t.proventos == pytest.approx(-100.0)  # owes the dividend to the lender
    assert r.equity.iloc[-1] == pytest.approx(1000.0)


def test_buy_before_ex_date_only_gets_the_provento():
    bars = make_bars([FLAT, FLAT, (9, 9.2, 8.8, 9), (9, 9.2, 8.8, 9)])
    acts = pd.DataFrame({"date": [bars.index[2]], "kind": ["dividend"], "value": [1.0]})
    # signal on bar 1 fills at bar 2's open: the ex-date, so no dividend
    r = run_engine(bars, sig(bars.index, entry_long=[1]), cfg(), actions=acts)
    assert r.proventos == 0.0


def test_reinvest_buys_shares_with_the_proventos():
    bars = make_bars([FLAT, FLAT, FLAT, (9, 9.2, 8.8, 9), (9, 9.2, 8.8, 9)])
    acts = pd.DataFrame({"date": [bars.index[3]], "kind": ["dividend"], "value": [1.0]})
    r = run_engine(bars, sig(bars.index, entry_long=[0]), cfg(reinvest=True), actions=acts)
    t = r.trades.iloc[0]
    assert t.shares == 111  # 100 + floor(100 / 9)
    assert r.equity.iloc[-1] == pytest.approx(1000.0 - 100 + 100)


# --------------------------------------------------------------- targets are limits
def test_target_never_fills_worse_than_the_market_on_a_gap_entry():
    # buy-stop at 10.5 with a target of 10.8; the next bar gaps open to 11: the entry fills
    # at 11 and the target limit (a sell at 10.8 or better) fills at the market, 11 — not at
    # 10.8 (the old engine booked a loss labelled "alvo").
    bars = make_bars([FLAT, (11, 11.5, 10.9, 11.2), FLAT])
    s = sig(bars.index, entry_long=[0], entry_level={0: 10.5}, target={0: 10.8})
    r = run_engine(bars, s, cfg())
    t = r.trades.iloc[0]
    assert t.entry_price == pytest.approx(11.0)
    assert t.exit_reason == "alvo" and t.exit_price == pytest.approx(11.0)
    assert t.pnl == pytest.approx(0.0)


def test_short_target_never_fills_worse_than_the_market():
    bars = make_bars([FLAT, (9, 9.1, 8.5, 8.8), FLAT])
    s = sig(bars.index, entry_short=[0], entry_level={0: 9.5}, target={0: 9.2})
    r = run_engine(bars, s, cfg(allow_short=True))
    t = r.trades.iloc[0]
    assert t.entry_price == pytest.approx(9.0)
    assert t.exit_price == pytest.approx(9.0) and t.pnl == pytest.approx(0.0)


def test_buy_stop_filled_inside_the_bar_with_target_below_the_level():
    bars = make_bars([FLAT, (10, 10.8, 9.9, 10.6), FLAT])
    s = sig(bars.index, entry_long=[0], entry_level={0: 10.5}, target={0: 10.4})
    r = run_engine(bars, s, cfg())
    t = r.trades.iloc[0]
    assert t.entry_price == pytest.approx(10.5)
    assert t.exit_price >= t.entry_price - 1e-12


def test_fill_rules_as_functions():
    assert entry_fill(10.0, 11.0, 9.0, np.nan, 1) == (10.0, True)
    assert entry_fill(10.0, 11.0, 9.0, 10.5, 1) == (10.5, False)
    assert np.isnan(entry_fill(10.0, 10.4, 9.0, 10.5, 1)[0])
    assert target_fill(11.0, 11.5, 10.9, 10.8, 1, 11.0) == 11.0
    assert target_fill(10.0, 10.9, 9.9, 10.8, 1, 10.0) == 10.8
    assert stop_fill(9.0, 9.5, 8.5, 9.5, 1, 9.0) == 9.0  # gap through the stop: the open
    assert stop_fill(10.0, 10.5, 9.4, 9.5, 1, 10.0) == 9.5


@pytest.mark.parametrize(
    ("ticker", "day"),
    [("ABEV3", "2016-04-05"), ("B3SA3", "2016-04-07")],
)
@pytest.mark.parametrize("adjusted", [True, False])
def test_wave3_cases_of_the_issue_no_loss_at_the_target(bundled_store, ticker, day, adjusted):
    from core.backtest.runner import run_backtest

    r = run_backtest(
        bundled_store, "wave3", [ticker], "2015-06-01", "2016-12-30", adjusted=adjusted
    )
    tr = r.trades
    hit = tr[tr["entry_date"] == pd.Timestamp(day)]
    assert len(hit) == 1  # the issue's trade is there
    # A target exit can cost at most the slippage and the fees, never a real loss.
    for t in tr[tr["exit_reason"] == "alvo"].itertuples():
        worst = -(t.fees + 2 * 0.0005 * t.entry_value) - 1e-6
        assert t.pnl >= worst, (t.entry_date, t.pnl)


# --------------------------------------------------------------- day trades
def test_same_session_exit_and_reentry_is_a_day_trade_for_the_matched_quantity():
    # long at bar 1; exit signal and a new entry signal on bar 2 -> at bar 3's open the
    # position is sold and bought again: a day trade of the matched quantity.
    bars = make_bars([FLAT, FLAT, (11, 11.2, 10.8, 11), (11, 11.2, 10.8, 11), (12, 12, 12, 12)])
    s = sig(bars.index, entry_long=[0, 2], exit_long=[2])
    costs = B3Costs(swing_fee_rate=0.001, day_trade_fee_rate=0.0005, slippage_bps=0)
    r = run_engine(bars, s, cfg(costs=costs, cash=10_000))
    first, second = r.trades.iloc[0], r.trades.iloc[1]
    assert first.exit_date == second.entry_date
    assert bool(first.day_trade) and first.day_trade_qty == min(first.shares, second.shares)
    m = first.day_trade_qty
    # the matched part of both orders paid the day-trade rate
    assert first.fees == pytest.approx(
        first.entry_value * 0.001 + m * 11 * 0.0005 + (first.shares - m) * 11 * 0.001
    )
    # the remainder keeps its average cost: the deferred swing gain is realised by the
    # second trade; swing + day-trade results add up to the P&L
    tot = r.trades["swing_pnl"].sum() + r.trades["day_trade_pnl"].sum()
    assert tot == pytest.approx(r.trades["pnl"].sum())
    assert second.swing_pnl > second.pnl  # carries the first trade's gain (cost 10)
    rep = tax_report(r.trades)
    assert rep["day_trade_result"].sum() == pytest.approx(r.trades["day_trade_pnl"].sum())


# --------------------------------------------------------------- costs by date
def test_fee_schedule_by_trade_date():
    sw, dt = fee_rates(pd.DatetimeIndex(["2012-05-02", "2022-05-02"]))
    assert sw[0] == pytest.approx(0.000325) and sw[1] == pytest.approx(0.0003)
    assert all(p.source for p in B3_FEE_SCHEDULE)
    bars12 = make_bars([FLAT] * 4, start="2012-05-01")
    bars22 = make_bars([FLAT] * 4, start="2022-05-02")
    c = EngineConfig(
        cash=10_000, costs=B3Costs(slippage_bps=0, schedule=True), sizing=Sizing(lot_size=1)
    )
    f12 = run_engine(bars12, sig(bars12.index, entry_long=[0], exit_long=[1]), c).trades
    f22 = run_engine(bars22, sig(bars22.index, entry_long=[0], exit_long=[1]), c).trades
    assert f12.fees.iloc[0] / (f12.entry_value.iloc[0] * 2) == pytest.approx(0.000325, rel=1e-3)
    assert f22.fees.iloc[0] / (f22.entry_value.iloc[0] * 2) == pytest.approx(0.0003, rel=1e-3)


def test_brokerage_per_order_when_a_decision_splits_into_lot_and_fractional():
    bars = make_bars([FLAT] * 4)
    costs = B3Costs(0, 0, brokerage_per_order=5.0, slippage_bps=0)
    c = EngineConfig(cash=2_585.0, costs=costs, sizing=Sizing(lot_size=100, fractional=True))
    t = run_engine(bars, sig(bars.index, entry_long=[0], exit_long=[1]), c).trades.iloc[0]
    assert t.shares == 257  # 200 in the lot market + 57 in the fractional market
    assert t.fees == pytest.approx(4 * 5.0)  # two orders in, two orders out
    assert B3Costs(0, 0, 5.0, 0).fees(2570.0, orders=2) == pytest.approx(10.0)


# --------------------------------------------------------------- taxes by kind
def _trade(day, pnl, sale, ticker="X", dt=False):
    return {
        "ticker": ticker,
        "direction": "compra",
        "entry_value": sale - pnl,
        "exit_value": sale,
        "pnl": pnl,
        "exit_date": pd.Timestamp(day),
        "day_trade": dt,
    }


def test_exemption_is_for_stocks_only():
    rows = [_trade("2024-03-05", 1_000, 10_000, "BOVA11"), _trade("2024-03-06", 500, 5_000, "A")]
    rep = tax_report(pd.DataFrame(rows), kinds={"BOVA11": "etf", "A": "stock"}).iloc[0]
    assert rep.swing_exempt and rep.exempt_gain == pytest.approx(500)
    assert rep.swing_tax == pytest.approx(150.0)  # the ETF gain pays 15 %
    bdr = tax_report(
        pd.DataFrame([_trade("2024-03-05", 1_000, 10_000, "AAPL34")]), kinds={"AAPL34": "bdr"}
    ).iloc[0]
    assert not bdr.swing_exempt and bdr.swing_tax == pytest.approx(150.0)


def test_fii_pays_20_percent_with_its_own_losses():
    rows = [
        _trade("2024-03-05", -400, 5_000, "HGLG11"),
        _trade("2024-04-05", 1_000, 10_000, "HGLG11"),
        _trade("2024-04-06", -300, 5_000, "A"),
    ]
    rep = tax_report(pd.DataFrame(rows), kinds={"HGLG11": "fii", "A": "stock"}).set_index("month")
    apr = rep.loc[pd.Period("2024-04")]
    assert apr.fii_tax == pytest.approx(0.20 * 600)  # 1000 - 400 carried from March
    assert apr.swing_loss_carried == pytest.approx(300)  # the stock loss stays apart


def test_day_trade_sales_count_toward_the_20k_test_by_default():
    rows = [_trade("2024-05-06", 1_000, 15_000, "A"), _trade("2024-05-07", 100, 8_000, "A", True)]
    rep = tax_report(pd.DataFrame(rows)).iloc[0]
    assert not rep.swing_exempt  # 15k + 8k of sales > 20k
    narrow = tax_report(pd.DataFrame(rows), TaxRules(day_trade_sales_count_for_exemption=False))
    assert narrow.iloc[0].swing_exempt


def test_irrf_of_one_real_or_less_is_not_withheld_and_credit_is_used():
    rep = tax_report(pd.DataFrame([_trade("2024-06-03", 5_000, 20_000, "A")])).iloc[0]
    assert rep.withheld == 0.0  # 20.000 × 0,005 % = R$ 1,00: not withheld
    rep = tax_report(pd.DataFrame([_trade("2024-06-03", 5_000, 40_000, "A")])).iloc[0]
    assert rep.withheld == pytest.approx(2.0) and rep.credit_used == pytest.approx(2.0)
    assert rep.darf == pytest.approx(750 - 2)


def test_index_is_not_tradable(bundled_store):
    from core.backtest.runner import run_backtest

    with pytest.raises(InputError, match="índice"):
        run_backtest(bundled_store, "sma_cross", ["^BVSP"], "2020-01-02", "2020-12-30")


def test_instrument_lot_size_is_honoured(bundled_store, monkeypatch):
    from core.backtest import runner

    real = bundled_store.instrument

    def fake(t, **kw):
        d = dict(real(t, **kw))
        d["lot_size"] = 1000
        return d

    monkeypatch.setattr(bundled_store, "instrument", fake)
    # the patched instrument bypasses the store's write path: drop the read cache's inputs
    monkeypatch.setattr(bundled_store._cache, "max_bytes", 0)
    c = EngineConfig(cash=100_000, sizing=Sizing(fractional=False))
    r = runner.run_backtest(
        bundled_store, "buy_and_hold", ["PETR4"], "2020-01-02", "2020-12-30", config=c
    )
    assert (r.trades["shares"] % 1000 == 0).all()


# --------------------------------------------------------------- results and labels
def test_buy_and_hold_traded_matches_the_adjusted_total_return(bundled_store):
    """Tolerance: 1 % of the final equity (share rounding, reinvestment at the ex-date's
    open instead of the previous close)."""
    from core.backtest.runner import run_backtest

    c = EngineConfig(costs=NO_COSTS)
    r = run_backtest(bundled_store, "buy_and_hold", ["PETR4"], "2010-01-04", "2024-11-14", config=c)
    assert r.price_mode == "traded" and r.config.reinvest
    assert "reinvestidos" in r.price_mode_label
    b = bundled_store.bars("PETR4", "2010-01-04", "2024-11-14")
    # bought at the open of the entry session: compare from that open, adjusted basis
    k = b.index.get_loc(r.trades.iloc[0].entry_date)
    adj0 = b["open"].iloc[k] * b["adj_close"].iloc[k] / b["close"].iloc[k]
    tr = b["adj_close"].iloc[-1] / adj0
    assert r.equity.iloc[-1] / r.equity.iloc[0] == pytest.approx(tr, rel=0.01)
    cash = run_backtest(
        bundled_store,
        "buy_and_hold",
        ["PETR4"],
        "2010-01-04",
        "2024-11-14",
        config=EngineConfig(costs=NO_COSTS, reinvest=False),
    )
    assert "mantidos em caixa" in cash.price_mode_label
    # the trade was made at traded prices (PETR4 traded near R$ 37 in January 2010)
    assert cash.trades.iloc[0].entry_price == pytest.approx(b["open"].iloc[k], rel=0.001)
    assert cash.metrics["proventos_brl"] > 0


def test_adjusted_mode_never_taxes_proventos(bundled_store):
    from core.backtest.runner import run_backtest

    r = run_backtest(
        bundled_store, "sma_cross", ["PETR4"], "2015-01-02", "2024-11-14", adjusted=True
    )
    assert r.price_mode == "adjusted" and "aproximação" in r.price_mode_label
    tr = r.trades
    assert tr["proventos"].sum() > 0
    assert (tr["swing_pnl"] + tr["day_trade_pnl"] + tr["proventos"]).sum() == pytest.approx(
        tr["pnl"].sum()
    )
    plain = tax_report(tr.drop(columns=["swing_pnl", "day_trade_pnl"]))
    assert total_tax(r.taxes) < total_tax(plain)


def test_monthly_table_has_no_row_before_the_start(bundled_store):
    from core.backtest.runner import run_backtest

    r = run_backtest(bundled_store, "sma_cross", ["PETR4"], "2015-01-02", "2016-12-30")
    assert r.equity.index[0].year == 2014  # the close before the first session
    assert list(r.monthly.index) == [2015, 2016]
    eq = pd.Series(
        [100.0, 101.0, 102.0], index=pd.to_datetime(["2014-12-30", "2015-01-02", "2015-02-02"])
    )
    t = monthly_returns(eq, start="2015-01-02")
    assert list(t.index) == [2015] and t.loc[2015, 1] == pytest.approx(1.0)


def test_flat_curve_has_no_sharpe():
    idx = pd.bdate_range("2024-01-01", periods=50)
    eq = pd.Series(100_000.0, index=idx)
    rf = pd.Series(np.random.default_rng(0).uniform(0.0003, 0.0005, 50), index=idx)
    m = compute_metrics(eq, pd.DataFrame(columns=["pnl", "return_pct", "bars_held"]), rf=rf)
    assert np.isnan(m["sharpe"]) and np.isnan(m["sortino"])


def test_after_tax_equity_is_equity_minus_tax(bundled_store):
    from core.backtest.runner import run_backtest

    r = run_backtest(bundled_store, "sma_cross", ["VALE3"], "2015-01-02", "2024-11-14")
    assert r.metrics["after_tax_equity_brl"] == pytest.approx(
        r.metrics["final_equity_brl"] - r.metrics["taxes_brl"]
    )
    assert r.after_tax_equity.iloc[-1] == pytest.approx(r.metrics["after_tax_equity_brl"])


# --------------------------------------------------------------- the invariant
def _check_invariant(r):
    tr = r.trades
    d_eq = r.equity.iloc[-1] - r.equity.iloc[0]
    flows = tr["pnl"].sum() if len(tr) else 0.0
    prov = r.metrics["proventos_brl"] if not r.adjusted else 0.0
    assert d_eq == pytest.approx(flows + prov + r.metrics["interest_brl"], abs=1e-6 * 1e5)
    after = r.after_tax_equity.iloc[-1] - r.equity.iloc[0]
    assert after == pytest.approx(d_eq - total_tax(r.taxes), abs=1e-3)


class _Always:
    trained_until = pd.Timestamp("2009-12-31")

    def predict_proba_up(self, bars, index_bars=None):
        return pd.Series(0.7, index=bars.index)


@pytest.mark.parametrize("adjusted", [False, True])
@pytest.mark.parametrize("tickers", [["PETR4"], ["PETR4", "VALE3", "ITUB4"]])
def test_equity_change_equals_pnl_plus_proventos_plus_interest(bundled_store, adjusted, tickers):
    from core.backtest.runner import run_backtest
    from core.strategies import STRATEGIES, MlFilter

    c = EngineConfig(cash_interest=1.0, allow_short=True)
    for name in STRATEGIES:
        strat = MlFilter(model=_Always()) if name == "ml_filter" else name
        r = run_backtest(
            bundled_store, strat, tickers, "2018-01-02", "2021-12-30", config=c, adjusted=adjusted
        )
        _check_invariant(r)


def test_walk_forward_is_one_capital_path(bundled_store):
    from core.backtest.optimize import walk_forward

    wf = walk_forward(
        bundled_store,
        "sma_cross",
        ["MGLU3"],
        "2015-01-02",
        "2020-12-30",
        n_windows=3,
        n_trials=3,
        heatmap=False,
    )
    r = wf.to_backtest_result()
    assert r.equity.iloc[0] == pytest.approx(r.config.cash)
    _check_invariant(r)
    # the stitched net profit is the trades' (plus proventos), not a rescaled figure
    assert wf.oos_metrics["net_profit_brl"] == pytest.approx(
        wf.oos_trades["pnl"].sum() + r.metrics["proventos_brl"] + r.metrics["interest_brl"]
    )
    assert set(wf.oos_trades["window"]) <= {1, 2, 3}


class _LateModel:
    trained_until = pd.Timestamp("2024-11-01")

    def predict_proba_up(self, bars, index_bars=None):
        return pd.Series(np.nan, index=bars.index)


def test_ml_filter_without_out_of_sample_entries_says_why(bundled_store):
    """Issue 9: 0 trades used to show "0,00 %" in green and Sharpe -37,29."""
    from core.backtest.runner import run_backtest
    from core.strategies import MlFilter

    r = run_backtest(
        bundled_store, MlFilter(model=_LateModel()), ["PETR4"], "2024-01-02", "2024-11-14"
    )
    assert len(r.trades) == 0
    assert any("01/11/2024" in n and "ml_filter" in n for n in r.extra["notes"])
    assert np.isnan(r.metrics["sharpe"]) and r.metrics["total_return_pct"] == 0.0


def test_split_already_in_the_series_is_not_applied_twice(bundled_store, monkeypatch):
    """A 2:1 split stored as an action on a split-adjusted series (Yahoo's Close) must not
    double the position, and the as-paid dividend before it is halved per series share."""
    import core.data.actions as actions_mod
    from core.backtest import runner

    b = bundled_store.bars("PETR4", "2019-01-02", "2019-12-30")
    split_day, div_day = b.index[150], b.index[100]

    def fake(store, tickers=None, **kw):
        return pd.DataFrame(
            {
                "ticker": ["PETR4", "PETR4"],
                "date": [div_day, split_day],
                "kind": ["dividend", "split"],
                "value": [2.0, 2.0],
                "source": ["test", "test"],
            }
        )

    monkeypatch.setattr(actions_mod, "load_actions", fake)
    acts = runner._engine_actions(bundled_store, {"PETR4": b})
    assert list(acts["kind"]) == ["dividend"]  # the invisible split is dropped
    assert acts["value"].iloc[0] == pytest.approx(1.0)  # 2,00 per old share = 1,00 per share
