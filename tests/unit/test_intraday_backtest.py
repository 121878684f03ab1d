"""Issue 14, engine part: backtests on intraday bars, day-trade mode, WIN futures in
contracts, the two intraday strategies, per-bar annualisation.

The hand-computed case runs the engine on a few WIN 5-minute bars (prices typed here, on
real B3 sessions) and checks every R$ by hand: points × R$ 0,20 × contracts, B3 fees per
contract and side, slippage in ticks, the flatten at the session's end and the 20 % day-trade
tax with 1 % IRRF and losses carried as day-trade losses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.backtest.costs import NO_COSTS, contract_fee
from core.backtest.engine import ContractTerms, EngineConfig, flatten_codes, run_engine
from core.backtest.metrics import compute_metrics
from core.backtest.runner import run_backtest, session_codes
from core.backtest.sizing import Sizing
from core.backtest.taxes import tax_report
from core.errors import InputError
from core.requests import build_backtest_request
from core.strategies import STRATEGIES

PV = 0.20  # R$ per WIN point per contract (B3 "Mini Índice" specification)
TIMES = ["17:20", "17:25", "17:30", "17:35", "17:40", "17:45", "17:50"]  # session ends 17:55

# (open, high, low, close) in points
FEB = [  # 2022-02-10: a losing short day trade
    (111000, 111050, 110950, 111000),  # signal: sell
    (111000, 111100, 110900, 111050),  # fill at the open 111000 - 1 tick = 110995
    (111050, 111200, 111000, 111150),
    (111150, 111300, 111100, 111250),
    (111250, 111350, 111200, 111300),  # flatten bar (ends 17:45 = 17:55 - 10 min): buy 111305
    (111300, 111350, 111250, 111300),  # after the flatten time: no entry
    (111300, 111350, 111250, 111310),
]
MAR = [  # 2022-03-15: a winning long day trade
    (110000, 110050, 109950, 110000),  # signal: buy
    (110000, 110200, 109950, 110150),  # fill 110000 + 1 tick = 110005
    (110150, 110300, 110100, 110250),
    (110250, 110450, 110200, 110400),
    (110400, 110550, 110350, 110500),  # flatten: sell at 110500 - 5 = 110495
    (110500, 110550, 110450, 110500),
    (110500, 110550, 110450, 110520),
]


def _win_bars():
    idx = pd.DatetimeIndex(
        [f"2022-02-10 {t}" for t in TIMES] + [f"2022-03-15 {t}" for t in TIMES], name="date"
    )
    df = pd.DataFrame(FEB + MAR, index=idx, columns=["open", "high", "low", "close"], dtype=float)
    df["adj_close"] = df["close"]
    df["volume"] = 0.0
    return df


def _signals(index):
    n = len(index)
    s = pd.DataFrame(
        {c: np.zeros(n, bool) for c in ("entry_long", "exit_long", "entry_short", "exit_short")},
        index=index,
    )
    s.iloc[0, s.columns.get_loc("entry_short")] = True  # 10/02 17:20
    s.iloc[4, s.columns.get_loc("entry_long")] = True  # 10/02 17:40: would fill 17:45, refused
    s.iloc[7, s.columns.get_loc("entry_long")] = True  # 15/03 17:20
    return s


TERMS = ContractTerms(margin=100.0, fee_regular=0.37, fee_day_trade=0.25, slippage=5 * PV)


def _run(cash=10_000.0, contracts=2):
    bars = _win_bars()
    scaled = bars.copy()
    for c in ("open", "high", "low", "close", "adj_close"):
        scaled[c] = bars[c] * PV
    cfg = EngineConfig(
        cash=cash, costs=NO_COSTS, sizing=Sizing("contracts", contracts), allow_short=True
    )
    flat = flatten_codes(bars.index, 10, 5)
    res = run_engine(
        {"WINFUT": scaled},
        {"WINFUT": _signals(bars.index)},
        cfg,
        sessions=session_codes(bars.index, "5min"),
        flat=flat,
        contracts={"WINFUT": TERMS},
        lots={"WINFUT": 1},
    )
    return bars, flat, res


def test_flatten_codes_close_at_the_last_bar_ending_before_the_cutoff():
    bars = _win_bars()
    codes = flatten_codes(bars.index, 10, 5)
    assert codes.tolist() == [0, 0, 0, 0, 1, 2, 2] * 2
    # 0 minutes: the session's last bar closes everything; daily bars: every bar
    assert flatten_codes(bars.index, 0, 5).tolist() == [0] * 6 + [1] + [0] * 6 + [1]
    assert flatten_codes(pd.DatetimeIndex(["2022-03-15", "2022-03-16"]), 10, None).tolist() == [
        1,
        1,
    ]


def test_hand_computed_win_day_trades_in_rs_with_fees_per_contract():
    bars, _, res = _run()
    t = res.trades
    assert len(t) == 2  # the 17:40 signal never filled (after the flatten time)
    short, long_ = t.iloc[0], t.iloc[1]
    # short: sold 2 at 110995 (open 111000 - 1 tick), bought back at 111305 on the flatten bar
    assert short.direction == "venda" and short.shares == 2
    assert short.entry_price == pytest.approx(110995 * PV)
    assert short.exit_price == pytest.approx(111305 * PV)
    assert short.exit_date == pd.Timestamp("2022-02-10 17:40")
    assert short.exit_reason == "fim do pregão" and bool(short.day_trade)
    assert short.fees == pytest.approx(2 * 0.25 * 2)  # day-trade fee, 2 contracts, 2 sides
    assert short.pnl == pytest.approx(-310 * 0.20 * 2 - 1.00)  # -125,00
    # long: bought 2 at 110005, sold at 110495: 490 points x R$ 0,20 x 2 - R$ 1,00
    assert long_.pnl == pytest.approx(490 * 0.20 * 2 - 1.00)  # 195,00
    assert long_.exit_reason == "fim do pregão"
    # flat at every session's end: equity after the flatten bar = cash, nothing overnight
    eq = res.equity
    assert eq.iloc[4] == pytest.approx(10_000 - 125.0)
    assert eq.iloc[-1] == pytest.approx(10_000 - 125.0 + 195.0)
    assert res.cash.iloc[6] == pytest.approx(eq.iloc[6])
    # the margin is not spent: cash moves only by results and fees
    assert res.cash.iloc[2] == pytest.approx(
        10_000 - 2 * 0.37
    )  # entry fee booked at the swing rate


def test_day_trade_tax_20pct_with_irrf_and_losses_carried_as_day_trade():
    _, _, res = _run()
    rep = tax_report(res.trades, kinds={"WINFUT": "future"}).set_index("month")
    feb, mar = rep.loc[pd.Period("2022-02")], rep.loc[pd.Period("2022-03")]
    assert feb.day_trade_result == pytest.approx(-125.0)
    assert feb.day_trade_loss_carried == pytest.approx(125.0)
    assert feb.darf == 0.0 and feb.swing_result == 0.0
    assert mar.day_trade_loss_offset == pytest.approx(125.0)
    assert mar.day_trade_base == pytest.approx(70.0)
    assert mar.day_trade_tax == pytest.approx(14.0)  # 20 %
    assert mar.withheld == pytest.approx(1.95)  # 1 % IRRF of the day's 195,00 gain
    assert mar.darf == pytest.approx(14.0 - 1.95)
    assert not bool(mar.swing_exempt)


def test_margin_check_caps_contracts_by_free_cash():
    # R$ 100 margin per contract (+ R$ 0,37 fee each): 2 need R$ 200,74, only 1 fits
    _, _, res = _run(cash=200.0, contracts=2)
    assert res.trades["shares"].tolist() == [1, 1]
    # after the first loss (-R$ 62,50) R$ 87,50 are left: no margin for a second trade
    _, _, res = _run(cash=150.0, contracts=2)
    assert res.trades["shares"].tolist() == [1]
    _, _, res = _run(cash=90.0, contracts=2)  # not even one contract
    assert len(res.trades) == 0


def test_contract_fee_is_per_contract_and_side():
    assert contract_fee(3, 0.25, 0.0) == pytest.approx(0.75)
    assert contract_fee(0, 0.25, 5.0) == 0.0


def test_per_bar_annualisation_uses_bars_per_session():
    rng = np.random.default_rng(3)
    r = rng.normal(0.0, 0.001, 10 * 20)
    idx = pd.date_range("2022-03-01 10:00", periods=len(r) + 1, freq="5min")
    eq = pd.Series(100_000 * np.cumprod(np.r_[1.0, 1 + r]), index=idx)
    daily = compute_metrics(eq, pd.DataFrame(columns=["pnl", "return_pct", "bars_held"]))
    intra = compute_metrics(
        eq, pd.DataFrame(columns=["pnl", "return_pct", "bars_held"]), bars_per_session=20
    )
    sd = np.std(eq.pct_change().dropna(), ddof=1)
    assert intra["volatility_pct"] == pytest.approx(100 * sd * math.sqrt(252 * 20))
    assert intra["volatility_pct"] == pytest.approx(daily["volatility_pct"] * math.sqrt(20))
    assert intra["sharpe"] == pytest.approx(daily["sharpe"] * math.sqrt(20))
    assert intra["sessions"] == 10
    with pytest.raises(ValueError):
        compute_metrics(eq, pd.DataFrame(columns=["pnl"]), bars_per_session=0.5)


def test_request_parses_interval_and_day_trade_fields():
    req = build_backtest_request(
        "opening_range_breakout",
        "WINFUT",
        interval="5m",
        day_trade="sim",
        sizing="contracts",
        size_value="3",
        margin_per_contract="R$ 150,00",
        fee_per_contract="0,30",
    )
    assert req.interval == "5min" and req.day_trade and req.flatten_minutes == 10
    cfg = req.engine_config()
    assert cfg.sizing.method == "contracts" and cfg.sizing.value == 3
    assert cfg.margin_per_contract == 150.0 and cfg.fee_per_contract_day_trade == 0.30
    assert build_backtest_request("sma_cross", "PETR4").interval == "1d"
    with pytest.raises(InputError, match="Intervalo"):
        build_backtest_request("sma_cross", "PETR4", interval="1w")
    with pytest.raises(InputError, match="Encerrar"):
        build_backtest_request("sma_cross", "PETR4", flatten_minutes="500")


# ---------------------------------------------------------------- on the bundled WINFUT
@pytest.fixture(scope="module")
def win(bundled_store):
    return bundled_store


DT = EngineConfig(sizing=Sizing("contracts", 1), day_trade=True, allow_short=True)


@pytest.mark.parametrize(
    "name, params",
    [
        ("opening_range_breakout", {}),
        ("vwap_reversion", {}),
        ("breakout", {"entry": 12, "exit": 6}),
    ],
)
def test_day_trade_never_holds_a_position_across_sessions_on_win(win, name, params):
    res = run_backtest(win, name, ["WINFUT"], params=params, config=DT, interval="5min")
    t = res.trades
    assert len(t) > 20, name
    assert (t["entry_date"].dt.normalize() == t["exit_date"].dt.normalize()).all()
    assert t["day_trade"].all()
    # exits by the flatten bar (the session's end minus 10 minutes, end = last bar + 5 min)
    ends = res.equity.index.to_series().groupby(res.equity.index.normalize()).max()
    cut = ends.reindex(t["exit_date"].dt.normalize()).to_numpy() + pd.Timedelta("5min")
    assert (t["exit_date"].to_numpy() + pd.Timedelta("5min") <= cut - pd.Timedelta("10min")).all()
    # P&L = points x R$ 0,20 x contracts - fees
    assert np.allclose(t["pnl"], t["points"] * 0.20 * t["qty"] - t["fees"])
    assert np.allclose(t["fees"], 2 * 0.25 * t["qty"])  # WIN day-trade fee, both sides
    assert res.interval == "5min" and res.metrics["sessions"] == 183
    assert res.taxes["day_trade_result"].abs().sum() > 0


def test_opening_range_breakout_rules_on_win(win):
    from core.strategies.opening_range_breakout import opening_range

    bars = win.bars("WINFUT", interval="5min")
    res = run_backtest(
        win,
        "opening_range_breakout",
        ["WINFUT"],
        params={"range_bars": 6},
        config=DT,
        interval="5min",
    )
    rng = opening_range(bars, 6)
    for t in res.trades.head(40).itertuples():
        i = bars.index.get_loc(t.entry_date)
        sig = bars.index[i - 1]  # the signal bar (close beyond the range)
        day = bars.loc[sig.normalize() : sig.normalize() + pd.Timedelta("1D")]
        first6 = day.iloc[:6]
        hi, lo = first6["high"].max(), first6["low"].min()
        assert rng.loc[sig, "high"] == hi and rng.loc[sig, "low"] == lo
        assert day.index.get_loc(sig) >= 6
        c = bars.loc[sig, "close"]
        assert (c > hi) if t.direction == "compra" else (c < lo)
        assert t.stop_at_entry == (lo if t.direction == "compra" else hi)


def test_intraday_strategies_have_no_lookahead_on_win(win):
    from core.strategies import get_strategy

    bars = win.bars("WINFUT", interval="5min").iloc[:3000]
    rng = np.random.default_rng(11)
    for name in ("opening_range_breakout", "vwap_reversion"):
        strat = get_strategy(name)
        full = strat.signals(bars)
        for t in (700, 1500, 2400):
            noisy = bars.copy()
            f = np.exp(rng.normal(0, 0.01, size=len(bars) - t - 1))
            for col in ("open", "high", "low", "close", "adj_close"):
                noisy.iloc[t + 1 :, noisy.columns.get_loc(col)] = bars[col].to_numpy()[t + 1 :] * f
            part = strat.signals(noisy)
            pd.testing.assert_frame_equal(full.iloc[: t + 1], part.iloc[: t + 1], check_exact=True)


def test_daily_and_resampled_intervals_run_and_orb_explains_daily(win):
    res = run_backtest(win, "opening_range_breakout", ["WINFUT"], config=DT, interval="1d")
    assert len(res.trades) == 0 and "intraday" in res.extra["notes"][0]
    r15 = run_backtest(win, "vwap_reversion", ["WINFUT"], config=DT, interval="15min")
    assert r15.interval == "15min" and len(r15.trades) > 0
    assert (r15.equity.index.minute % 15 == 0).all()
    assert any("volume" in n for n in r15.extra["notes"])


def test_day_trade_on_daily_stock_bars_opens_and_closes_in_the_same_session(win):
    cfg = EngineConfig(day_trade=True)
    res = run_backtest(win, "sma_cross", ["PETR4"], "2023-01-01", "2024-11-14", config=cfg)
    t = res.trades
    assert len(t) > 0 and (t["entry_date"] == t["exit_date"]).all()
    assert t["day_trade"].all() and set(t["exit_reason"]) <= {"fim do pregão", "stop", "alvo"}
    # both orders at the B3 day-trade rate (0,023 %), taxed as day trades
    assert np.allclose(t["fees"], (t["entry_value"] + t["exit_value"]) * 0.00023)
    assert res.taxes["swing_result"].abs().sum() == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "ml_filter"])
def test_day_trade_invariant_for_every_strategy_on_win(win, name):
    """Issue 14: no position crosses a session, for every strategy on WIN (5 minutes)."""
    res = run_backtest(win, name, ["WINFUT"], config=DT, interval="5min")
    t = res.trades
    assert (t["entry_date"].dt.normalize() == t["exit_date"].dt.normalize()).all()
    assert t["day_trade"].all()


def test_futures_sized_out_by_the_notional_budget_says_why(win):
    # 5 % of R$ 100.000 = R$ 5.000 of notional: one WIN contract is ~R$ 22.000
    cfg = EngineConfig(sizing=Sizing("percent", 5), day_trade=True)
    res = run_backtest(win, "opening_range_breakout", ["WINFUT"], config=cfg, interval="5min")
    assert len(res.trades) == 0
    assert "nenhum contrato coube" in res.extra["notes"][0]


def test_trades_table_shows_intraday_times_and_futures_points():
    from components import backtest as cb
    from core.backtest.runner import _points_trades

    _, _, res = _run()
    t = _points_trades(res.trades, {"WINFUT": PV})
    assert t["entry_price"].tolist() == pytest.approx([110995.0, 110005.0])  # back in points
    rows = cb.trades_rows(t)
    assert rows[0]["entrada"] == "2022-02-10 17:25" and rows[0]["pontos"] == -310
    assert rows[0]["pregoes"] == 0  # a day trade spans no session (it held 3 bars)
    shown = cb.trades_display(t)
    assert shown.iloc[0]["Entrada"] == "10/02/2022 17:25"
    assert shown.iloc[1]["Pontos (futuros)"] == "490"
