"""Seed 002's monitor (issue 12): status card, red flags, heatmap, thresholds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.trading.monitor import (
    RedFlagRules,
    StatusCard,
    monthly_heatmap,
    red_flags,
    status_card,
)


def trades(rows):
    """Closed trades from (ticker, exit date, pnl R$, return %) tuples."""
    df = pd.DataFrame(rows, columns=["ticker", "exit_date", "pnl", "return_pct"])
    df["exit_date"] = pd.to_datetime(df["exit_date"])
    df["entry_date"] = df["exit_date"] - pd.Timedelta(days=3)
    return df


def curve(values, start="2024-01-02"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def test_status_card_counts_milestones_and_wilson_interval():
    t = trades(
        [("PETR4", "2024-01-10", 100.0, 1.0)] * 7 + [("VALE3", "2024-01-11", -50.0, -0.5)] * 2
    )
    card = status_card(t, curve([100_000, 100_500, 101_000]), 100_000.0)
    assert (card.n_trades, card.wins, card.losses) == (9, 7, 2)
    assert (card.next_milestone, card.to_milestone) == (25, 16)
    assert card.win_rate == pytest.approx(7 / 9)
    assert card.win_rate_ci == pytest.approx((0.453, 0.937), abs=1e-3)  # seed 002's 9 trades
    assert card.avg_return_pct == pytest.approx((7 * 1.0 - 2 * 0.5) / 9)
    assert card.equity == 101_000 and card.return_pct == pytest.approx(1.0)
    assert card.last_update == pd.Timestamp("2024-01-04")


def test_status_card_after_25_trades_aims_at_50_and_drawdown_from_metrics():
    t = trades([("PETR4", "2024-01-10", 1.0, 0.1)] * 30)
    card = status_card(t, curve([100_000, 110_000, 88_000, 99_000]), 100_000.0)
    assert (card.next_milestone, card.to_milestone) == (50, 20)
    assert card.max_drawdown_pct == pytest.approx(100 * (88_000 / 110_000 - 1))


def test_empty_account_card():
    card = status_card(trades([]), curve([]), 50_000.0)
    assert card.n_trades == 0 and math.isnan(card.win_rate) and card.equity == 50_000.0


def _card(**kw) -> StatusCard:
    base = dict(
        n_trades=0,
        next_milestone=25,
        to_milestone=25,
        wins=0,
        losses=0,
        win_rate=math.nan,
        win_rate_ci=(math.nan, math.nan),
        avg_return_pct=math.nan,
        sharpe=math.nan,
        max_drawdown_pct=0.0,
        equity=1.0,
        initial_cash=1.0,
        return_pct=0.0,
        last_update=None,
    )
    return StatusCard(**{**base, **kw})


def _flag(flags, code):
    return next(f for f in flags if f.code == code)


def test_win_rate_flag_needs_two_consecutive_bad_months():
    jan_bad = [("PETR4", "2024-01-10", -1.0, -1.0)] * 2 + [("PETR4", "2024-01-12", 1.0, 1.0)]
    feb_bad = [("PETR4", "2024-02-10", -1.0, -1.0)] * 3
    mar_bad = [("PETR4", "2024-03-10", -1.0, -1.0)]
    eq = curve([1.0] * 5)
    assert _flag(red_flags(trades(jan_bad + feb_bad), eq, _card()), "win_rate").active
    good_feb = [("PETR4", "2024-02-10", 1.0, 1.0)] * 3
    f = _flag(red_flags(trades(jan_bad + good_feb + mar_bad), eq, _card()), "win_rate")
    assert not f.active  # bad, good, bad: never two running
    # a gap month breaks the run too
    apr = [("PETR4", "2024-04-10", -1.0, -1.0)]
    assert not _flag(red_flags(trades(jan_bad + apr), eq, _card()), "win_rate").active


def test_drawdown_sharpe_and_slippage_flags_use_the_thresholds():
    eq = curve([1.0] * 70)
    fl = red_flags(
        trades([]), eq, _card(max_drawdown_pct=-15.5, sharpe=0.8), traded=1000.0, slip_abs=25.0
    )
    assert _flag(fl, "drawdown").active and _flag(fl, "drawdown").value == pytest.approx(15.5)
    assert _flag(fl, "sharpe").active and "0,80" in _flag(fl, "sharpe").message
    assert _flag(fl, "slippage").active and _flag(fl, "slippage").value == pytest.approx(2.5)
    fl = red_flags(
        trades([]), eq, _card(max_drawdown_pct=-14.9, sharpe=1.2), traded=1000.0, slip_abs=19.0
    )
    assert not any(_flag(fl, c).active for c in ("drawdown", "sharpe", "slippage"))
    # a Sharpe of a few sessions is not judged
    assert not _flag(red_flags(trades([]), curve([1.0] * 10), _card(sharpe=-3.0)), "sharpe").active
    rules = RedFlagRules(max_drawdown_pct=10, min_sharpe=0.5, min_sessions=5)
    fl = red_flags(
        trades([]), curve([1.0] * 10), _card(max_drawdown_pct=-11.0, sharpe=0.6), rules=rules
    )
    assert _flag(fl, "drawdown").active and not _flag(fl, "sharpe").active


def test_trades_per_month_flag_judges_the_last_complete_month():
    eq = curve([1.0] * 45, start="2024-01-02")  # through early March: February is complete
    few = [("PETR4", "2024-02-12", 1.0, 1.0)]
    f = _flag(red_flags(trades(few), eq, _card()), "trades_per_month")
    assert f.active and f.value == 1 and "02/2024" in f.message
    many = [("PETR4", "2024-02-12", 1.0, 1.0)] * 21
    assert _flag(red_flags(trades(many), eq, _card()), "trades_per_month").active
    ok = [("PETR4", "2024-02-12", 1.0, 1.0)] * 5
    assert not _flag(red_flags(trades(ok), eq, _card()), "trades_per_month").active


def test_monthly_heatmap_per_ticker():
    t = trades(
        [
            ("PETR4", "2024-01-10", 1.0, -2.0),
            ("PETR4", "2024-02-10", 1.0, 3.0),
            ("PETR4", "2024-02-20", 1.0, 1.0),
            ("VALE3", "2024-01-15", 1.0, 1.5),
        ]
    )
    hm = monthly_heatmap(t, ["VALE3", "PETR4", "ITUB4"])
    assert list(hm.index) == ["VALE3", "PETR4", "ITUB4"]
    assert list(hm.columns) == ["2024-01", "2024-02"]
    assert hm.loc["PETR4", "2024-02"] == pytest.approx(4.0)
    assert np.isnan(hm.loc["VALE3", "2024-02"]) and hm.loc["ITUB4"].isna().all()


def test_red_flag_rules_from_text():
    r = RedFlagRules.from_text("min_sharpe=0,5, max_drawdown_pct=10")
    assert (r.min_sharpe, r.max_drawdown_pct, r.min_win_rate) == (0.5, 10.0, 0.6)
    with pytest.raises(InputError, match="desconhecido"):
        RedFlagRules.from_text("foo=1")
    with pytest.raises(InputError, match="inválido"):
        RedFlagRules.from_text("min_sharpe=abc")


def test_the_cached_empty_trades_frame_is_the_engines_and_is_never_shared():
    """status_card's empty trades frame (built once) is the engine's, and each caller gets
    its own copy (a caller writing into it cannot change the next card)."""
    import numpy as np

    from core.backtest.engine import trades_frame
    from core.trading.monitor import _no_trades, status_card

    idx = pd.bdate_range("2024-01-02", periods=40)
    fresh = trades_frame(np.empty((0, 17)), idx, [], np.zeros(40, dtype=np.int64))
    pd.testing.assert_frame_equal(_no_trades(), fresh)
    eq = pd.Series(np.linspace(100_000, 104_000, 40) + np.sin(np.arange(40)) * 900, index=idx)
    from core.backtest.metrics import compute_metrics
    from core.trading.monitor import _with_start

    card = status_card(fresh.iloc[:0], eq, 100_000.0)
    m = compute_metrics(_with_start(eq, 100_000.0), fresh, rf=None)
    assert (card.sharpe, card.max_drawdown_pct) == (m["sharpe"], m["max_drawdown_pct"])
    assert card.sharpe == card.sharpe and card.max_drawdown_pct != 0
    pd.testing.assert_frame_equal(_no_trades(), fresh)  # unchanged by the card
