"""Issue 9 speed work: the restructured tax report and metrics give bit-identical figures.

The month loop of :func:`core.backtest.taxes.tax_report` and :func:`compute_metrics` were
rewritten on plain floats / numpy arrays (no per-month pandas rows, no pandas arithmetic).
Their first, pandas-based versions are kept here verbatim as references; every figure must
be exactly equal (``==``, not approximately) on random trade lists and equity curves that
exercise every rule (exemption, losses carried by kind, FII, futures, day trades,
withholding credits, the deferred DARF; NaN gaps, flat curves, no trades).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from core.backtest.metrics import (
    MIN_TRADES,
    compute_metrics,
    max_drawdown_duration,
    wilson_interval,
)
from core.backtest.taxes import TAX_COLUMNS, TaxRules, tax_report
from core.rates import PERIODS_PER_YEAR


def reference_tax_report(
    trades: pd.DataFrame,
    rules: TaxRules | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The month loop as first written (pandas rows), kept as the reference."""
    rules = rules or TaxRules()
    if trades is None or len(trades) == 0:
        return None
    exit_dates = pd.DatetimeIndex(pd.to_datetime(trades["exit_date"]))
    is_long = trades["direction"].to_numpy() == "compra"
    dt_flag = trades["day_trade"].to_numpy(dtype=bool)
    pnl = trades["pnl"].to_numpy(dtype="float64")
    if "swing_pnl" in trades.columns:
        sw_pnl = trades["swing_pnl"].to_numpy(dtype="float64")
        dt_pnl = trades["day_trade_pnl"].to_numpy(dtype="float64")
    else:
        sw_pnl = np.where(dt_flag, 0.0, pnl)
        dt_pnl = np.where(dt_flag, pnl, 0.0)
    if "sale_value" in trades.columns:
        sale = trades["sale_value"].to_numpy(dtype="float64")
        dt_sale = trades["day_trade_sale_value"].to_numpy(dtype="float64")
    else:
        sale = np.where(
            is_long,
            trades["exit_value"].to_numpy(dtype="float64"),
            trades["entry_value"].to_numpy(dtype="float64"),
        )
        dt_sale = np.where(dt_flag, sale, 0.0)
    sw_sale = sale - dt_sale
    tick = trades["ticker"].to_numpy()
    kmap = {str(k).upper(): v for k, v in (kinds or {}).items()}
    kind = np.array([kmap.get(str(t).upper(), "stock") for t in tick], dtype=object)
    is_stock = kind == "stock"
    is_fii = kind == "fii"
    common = ~is_fii

    mcode = exit_dates.year.to_numpy() * 12 + exit_dates.month.to_numpy() - 1
    m0 = int(mcode.min())
    nm = int(mcode.max()) - m0 + 1
    mi = mcode - m0

    def bc(w):
        return np.bincount(mi, weights=np.asarray(w, dtype="float64"), minlength=nm)

    res_stock = bc(np.where(is_stock, sw_pnl, 0.0))
    res_other = bc(np.where(common & ~is_stock, sw_pnl, 0.0))
    res_dt = bc(np.where(common, dt_pnl, 0.0))
    res_fii = bc(np.where(is_fii, sw_pnl + dt_pnl, 0.0))
    sw_sales = bc(sw_sale)
    stock_sales = bc(
        np.where(
            is_stock,
            sw_sale + (dt_sale if rules.day_trade_sales_count_for_exemption else 0.0),
            0.0,
        )
    )
    # Withholding per sale day (amounts of R$ 1,00 or less are not withheld).
    days = exit_dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    uday, inv = np.unique(days, return_inverse=True)
    w_sw = rules.swing_withholding * np.bincount(inv, weights=sw_sale, minlength=len(uday))
    w_dt = rules.day_trade_withholding * np.maximum(
        np.bincount(inv, weights=dt_pnl, minlength=len(uday)), 0.0
    )
    w_sw = np.where(w_sw > rules.min_withholding, w_sw, 0.0)
    w_dt = np.where(w_dt > rules.min_withholding, w_dt, 0.0)
    day_m = np.zeros(len(uday), dtype=np.int64)
    day_m[inv] = mi
    withheld_m = np.bincount(day_m, weights=w_sw + w_dt, minlength=nm)

    carry_sw = carry_dt = carry_fii = credit = pending = 0.0
    rows = []
    months = pd.PeriodIndex.from_ordinals(np.arange(m0 - 1970 * 12, m0 - 1970 * 12 + nm), freq="M")
    for x in range(nm):
        rs, ro = float(res_stock[x]), float(res_other[x])
        exempt = bool(stock_sales[x] <= rules.monthly_exemption and rs > 0)
        exempt_gain = rs if exempt else 0.0
        net_sw = ro if exempt else rs + ro
        off_sw = base_sw = 0.0
        if net_sw < 0:
            carry_sw += -net_sw
        else:
            off_sw = min(carry_sw, net_sw)
            carry_sw -= off_sw
            base_sw = net_sw - off_sw
        rd = float(res_dt[x])
        off_dt = base_dt = 0.0
        if rd < 0:
            carry_dt += -rd
        else:
            off_dt = min(carry_dt, rd)
            carry_dt -= off_dt
            base_dt = rd - off_dt
        rf_ = float(res_fii[x])
        base_fii = 0.0
        if rf_ < 0:
            carry_fii += -rf_
        else:
            off = min(carry_fii, rf_)
            carry_fii -= off
            base_fii = rf_ - off
        tax_sw = rules.swing_rate * base_sw
        tax_dt = rules.day_trade_rate * base_dt
        tax_fii = rules.fii_rate * base_fii
        withheld = float(withheld_m[x])
        credit += withheld
        due = tax_sw + tax_dt + tax_fii
        used = min(credit, due)
        credit -= used
        darf = due - used + pending
        if darf < rules.min_darf:
            pending, darf = darf, 0.0
        else:
            pending = 0.0
        rows.append(
            (
                months[x],
                float(sw_sales[x]),
                rs + ro,
                exempt,
                off_sw,
                carry_sw,
                base_sw,
                tax_sw,
                rd,
                off_dt,
                carry_dt,
                base_dt,
                tax_dt,
                withheld,
                used,
                darf,
                pending,
                float(stock_sales[x]),
                exempt_gain,
                rf_,
                carry_fii,
                tax_fii,
            )
        )
    return pd.DataFrame.from_records(rows, columns=list(TAX_COLUMNS))


def reference_max_drawdown_duration(equity: pd.Series) -> int:
    """Longest run of sessions spent below a previous peak (until regained or the end)."""
    eq = equity.to_numpy(dtype="float64")
    if len(eq) == 0:
        return 0
    peak = np.maximum.accumulate(eq)
    under = eq < peak
    best = cur = 0
    for u in under:
        cur = cur + 1 if u else 0
        best = max(best, cur)
    return int(best)


def reference_ret_pct(series: pd.Series | None) -> float:
    if series is None:
        return math.nan
    s = series.dropna()
    if len(s) < 2:
        return math.nan
    return 100.0 * (s.iloc[-1] / s.iloc[0] - 1.0)


def reference_compute_metrics(
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    rf: pd.Series | None = None,
    exposure: pd.Series | None = None,
    buy_hold: pd.Series | None = None,
    bvsp: pd.Series | None = None,
    taxes_brl: float = 0.0,
    periods_per_year: int = PERIODS_PER_YEAR,
    proventos_brl: float = 0.0,
    interest_brl: float = 0.0,
    jcp_withheld_brl: float = 0.0,
    bars_per_session: float = 1.0,
) -> dict:
    """compute_metrics as first written (pandas), kept as the reference."""
    eq = equity.astype("float64")
    n = len(eq)
    r = eq.pct_change().fillna(0.0).to_numpy()[1:] if n > 1 else np.zeros(0)
    rf_a = (
        np.zeros_like(r)
        if rf is None
        else rf.reindex(eq.index).fillna(0.0).to_numpy(dtype="float64")[1:]
    )
    ex = r - rf_a
    bps = float(bars_per_session)
    if not bps >= 1.0:
        raise ValueError(f"bars_per_session must be >= 1 (got {bars_per_session}).")
    ppy = periods_per_year * bps
    m: dict = {}
    m["initial_equity_brl"] = float(eq.iloc[0]) if n else math.nan
    m["final_equity_brl"] = float(eq.iloc[-1]) if n else math.nan
    m["net_profit_brl"] = m["final_equity_brl"] - m["initial_equity_brl"]
    total = m["final_equity_brl"] / m["initial_equity_brl"] - 1.0 if n else math.nan
    m["total_return_pct"] = 100.0 * total
    years = max(len(r), 1) / ppy
    m["annual_return_pct"] = (
        100.0 * ((1.0 + total) ** (1.0 / years) - 1.0) if n > 1 and 1 + total > 0 else math.nan
    )
    sd = float(np.std(r, ddof=1)) if len(r) > 1 else math.nan
    m["volatility_pct"] = 100.0 * sd * math.sqrt(ppy)
    sd_ex = float(np.std(ex, ddof=1)) if len(ex) > 1 else math.nan
    if not sd > 1e-12:  # flat curve: no risk taken, no ratio
        sd_ex = math.nan
    m["sharpe"] = float(np.mean(ex) / sd_ex * math.sqrt(ppy)) if sd_ex and sd_ex > 0 else math.nan
    dd_dev = float(np.sqrt(np.mean(np.minimum(ex, 0.0) ** 2))) if len(ex) else math.nan
    if not sd > 1e-12:
        dd_dev = math.nan
    m["sortino"] = (
        float(np.mean(ex) / dd_dev * math.sqrt(ppy)) if dd_dev and dd_dev > 0 else math.nan
    )
    dd = (eq / eq.cummax() - 1.0) if n else pd.Series(dtype="float64")
    mdd = float(dd.min()) if n else math.nan
    m["max_drawdown_pct"] = 100.0 * mdd
    m["max_drawdown_sessions"] = (
        reference_max_drawdown_duration(eq)
        if bps == 1.0
        else int(math.ceil(reference_max_drawdown_duration(eq) / bps))
    )
    m["calmar"] = m["annual_return_pct"] / abs(m["max_drawdown_pct"]) if mdd < 0 else math.nan
    # -- trades --
    nt = len(trades)
    m["n_trades"] = nt
    m["too_few_trades"] = nt < MIN_TRADES
    pnl = trades["pnl"].to_numpy(dtype="float64") if nt else np.zeros(0)
    wins, losses = pnl[pnl > 0], pnl[pnl <= 0]
    lo, hi = wilson_interval(len(wins), nt)
    m["win_rate_pct"] = 100.0 * len(wins) / nt if nt else math.nan
    m["win_rate_ci_low_pct"] = 100.0 * lo
    m["win_rate_ci_high_pct"] = 100.0 * hi
    gl = -losses.sum()
    m["profit_factor"] = float(wins.sum() / gl) if gl > 0 else (math.inf if len(wins) else math.nan)
    m["payoff"] = (
        float(wins.mean() / -losses.mean())
        if len(wins) and len(losses) and losses.mean() < 0
        else math.nan
    )
    m["expectancy_brl"] = float(pnl.mean()) if nt else math.nan
    m["expectancy_pct"] = float(trades["return_pct"].mean()) if nt else math.nan
    m["avg_holding_sessions"] = float(trades["bars_held"].mean()) / bps if nt else math.nan
    m["exposure_pct"] = 100.0 * float(exposure.mean()) if exposure is not None and n else math.nan
    traded = float((trades["entry_value"] + trades["exit_value"]).sum()) if nt else 0.0
    m["turnover"] = traded / float(eq.mean()) / years if n else math.nan
    m["costs_brl"] = float((trades["fees"] + trades["borrow"]).sum()) if nt else 0.0
    m["taxes_brl"] = float(taxes_brl)
    m["after_tax_profit_brl"] = m["net_profit_brl"] - m["taxes_brl"]
    m["after_tax_equity_brl"] = m["final_equity_brl"] - m["taxes_brl"]
    m["proventos_brl"] = float(proventos_brl)
    m["interest_brl"] = float(interest_brl)
    m["jcp_withheld_brl"] = float(jcp_withheld_brl)
    m["cdi_return_pct"] = 100.0 * (float(np.prod(1.0 + rf_a)) - 1.0) if rf is not None else math.nan
    m["buy_hold_return_pct"] = reference_ret_pct(buy_hold)
    m["bvsp_return_pct"] = reference_ret_pct(bvsp)
    m["excess_vs_buy_hold_pct"] = m["total_return_pct"] - m["buy_hold_return_pct"]
    m["excess_vs_bvsp_pct"] = m["total_return_pct"] - m["bvsp_return_pct"]
    m["sessions"] = n if bps == 1.0 else int(round(n / bps))
    return m


def _trades(seed: int, n: int = 160) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    exit_date = pd.Timestamp("2018-01-02") + pd.to_timedelta(
        np.sort(rng.integers(0, 5 * 365, n)), unit="D"
    )
    shares = rng.integers(1, 3000, n).astype("int64")
    entry_price = rng.uniform(2.0, 80.0, n)
    exit_price = entry_price * rng.uniform(0.7, 1.35, n)
    is_long = rng.random(n) < 0.7
    entry_value, exit_value = shares * entry_price, shares * exit_price
    pnl = np.where(is_long, exit_value - entry_value, entry_value - exit_value) - 5.0
    day_trade = rng.random(n) < 0.25
    partial = day_trade & (rng.random(n) < 0.5)
    dtq = np.where(day_trade, np.where(partial, shares // 2, shares), 0)
    frac = np.where(day_trade, dtq / shares, 0.0)
    sale = np.where(is_long, exit_value, entry_value)
    return pd.DataFrame(
        {
            "ticker": rng.choice(["PETR4", "BOVA11", "HGLG11", "AAPL34", "WINFUT", "XPTO"], n),
            "direction": np.where(is_long, "compra", "venda"),
            "entry_value": entry_value,
            "exit_value": exit_value,
            "pnl": pnl,
            "exit_date": exit_date,
            "day_trade": day_trade,
            "swing_pnl": pnl * (1.0 - frac),
            "day_trade_pnl": pnl * frac,
            "sale_value": sale,
            "day_trade_sale_value": sale * frac,
            "return_pct": 100.0 * pnl / entry_value,
            "bars_held": rng.integers(0, 40, n),
            "fees": rng.uniform(0.0, 30.0, n),
            "borrow": np.where(is_long, 0.0, rng.uniform(0.0, 10.0, n)),
        }
    )


KINDS = {"BOVA11": "etf", "HGLG11": "fii", "AAPL34": "bdr", "WINFUT": "future", "XPTO": "other"}
RULES = [
    TaxRules(),
    TaxRules(day_trade_sales_count_for_exemption=False, min_darf=50.0, min_withholding=0.0),
    TaxRules(monthly_exemption=250_000.0, swing_rate=0.2),
]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("rules", RULES)
def test_tax_report_matches_the_reference_exactly(seed, rules):
    t = _trades(seed, n=40 if seed == 3 else 160)
    for kinds in (KINDS, None):
        got = tax_report(t, rules, kinds=kinds)
        ref = reference_tax_report(t, rules, kinds=kinds)
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
    # exits out of date order (the sorted-days fast path does not apply)
    shuffled = t.iloc[np.random.default_rng(seed).permutation(len(t))].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        tax_report(shuffled, rules, kinds=KINDS),
        reference_tax_report(shuffled, rules, kinds=KINDS),
        check_exact=True,
    )
    # the legacy columns only (no swing/day-trade split, no sale values)
    legacy = t.drop(columns=["swing_pnl", "day_trade_pnl", "sale_value", "day_trade_sale_value"])
    pd.testing.assert_frame_equal(
        tax_report(legacy, rules, kinds=KINDS),
        reference_tax_report(legacy, rules, kinds=KINDS),
        check_exact=True,
    )


@pytest.mark.parametrize("rules", RULES)
def test_tax_report_with_months_without_exits_matches_the_reference(rules):
    """Months without any exit are filled from the balances (losses, a deferred DARF)
    instead of being looped over: still the reference's figures, exactly."""
    t = _trades(11, n=30)
    rng = np.random.default_rng(11)
    # 30 exits spread over 12 years (most months empty), small results: deferred DARFs
    t["exit_date"] = pd.Timestamp("2010-01-04") + pd.to_timedelta(
        np.sort(rng.integers(0, 12 * 365, len(t))), unit="D"
    )
    money = ["entry_value", "exit_value", "pnl", "swing_pnl", "day_trade_pnl", "sale_value"]
    for c in [*money, "day_trade_sale_value"]:
        t[c] = t[c] / 2_000.0
    t.loc[0, ["pnl", "swing_pnl"]] = -40.0  # a loss carried for months
    got = tax_report(t, rules, kinds=KINDS)
    ref = reference_tax_report(t, rules, kinds=KINDS)
    assert len(got) > 2 * t["exit_date"].dt.to_period("M").nunique()
    assert (got["carried_to_next_month"] > 0).any() and (got["swing_loss_carried"] > 0).any()
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    # exit dates in another unit (pandas keeps Python datetimes as microseconds)
    t_us = t.assign(exit_date=t["exit_date"].astype("datetime64[us]"))
    pd.testing.assert_frame_equal(tax_report(t_us, rules, kinds=KINDS), ref, check_exact=True)


def _same(a, b) -> bool:
    if isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and math.isnan(a)
    return a == b and type(a) is type(b)


def _curves(seed: int):
    rng = np.random.default_rng(100 + seed)
    n = 900
    idx = pd.bdate_range("2015-01-02", periods=n, name="date")
    eq = pd.Series(100_000.0 * np.cumprod(1.0 + rng.normal(0.0003, 0.012, n)), index=idx)
    if seed == 1:
        eq.iloc[[5, 300, 301]] = np.nan  # gaps
    if seed == 2:
        eq[:] = 100_000.0  # flat
    rf = pd.Series(rng.uniform(0.0, 0.0005, n), index=idx)
    expo = pd.Series(rng.uniform(0.0, 1.0, n), index=idx)
    bh = pd.Series(100_000.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, n)), index=idx)
    bh.iloc[:20] = np.nan
    return eq, rf, expo, bh


@pytest.mark.parametrize("seed", range(3))
def test_compute_metrics_matches_the_reference_exactly(seed):
    eq, rf, expo, bh = _curves(seed)
    trades = _trades(seed, n=25)
    trades.loc[3, "return_pct"] = np.nan
    cases = [
        dict(rf=rf, exposure=expo, buy_hold=bh, bvsp=bh * 2.0, taxes_brl=123.4),
        dict(rf=rf.iloc[10:], exposure=None, buy_hold=None, bvsp=None),  # rf reindexed
        dict(bars_per_session=36.0),
    ]
    for tr in (trades, trades.iloc[:0]):
        for kw in cases:
            got = compute_metrics(eq, tr, **kw)
            ref = reference_compute_metrics(eq, tr, **kw)
            assert got.keys() == ref.keys()
            bad = {k: (got[k], ref[k]) for k in ref if not _same(got[k], ref[k])}
            assert not bad


def test_max_drawdown_duration_matches_the_loop():
    rng = np.random.default_rng(7)
    for i in range(150):
        x = pd.Series(np.cumsum(rng.normal(0.0, 1.0, rng.integers(0, 60 if i < 50 else 600))))
        if len(x) > 3 and rng.random() < 0.3:
            x.iloc[2] = np.nan
        assert max_drawdown_duration(x) == reference_max_drawdown_duration(x)


def reference_action_arrays(
    actions: pd.DataFrame | None, index: pd.DatetimeIndex, tickers: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The per-row loop as first written, kept as the reference."""
    n, k = len(index), len(tickers)
    split = np.ones((n, k))
    div = np.zeros((n, k))
    jcp = np.zeros((n, k))
    if actions is None or len(actions) == 0:
        return split, div, jcp
    acts = actions
    single = "ticker" not in acts.columns
    for j, t in enumerate(tickers):
        a = acts if single else acts[acts["ticker"].astype(str).str.upper() == t]
        if len(a) == 0:
            continue
        dates = pd.DatetimeIndex(pd.to_datetime(a["date"])).normalize()
        pos = index.searchsorted(dates)
        kinds = a["kind"].astype(str).to_numpy()
        vals = a["value"].to_numpy(dtype="float64")
        for ps, dte, kd, v in zip(pos, dates, kinds, vals):
            if ps >= n or dte < index[0]:
                continue
            if kd in ("split", "reverse_split", "bonus"):
                split[ps, j] *= v
            elif kd == "dividend":
                div[ps, j] += v
            elif kd == "jcp":
                jcp[ps, j] += v
    return split, div, jcp


def test_action_arrays_match_the_loop():
    from core.backtest.engine import _action_arrays

    rng = np.random.default_rng(3)
    daily = pd.bdate_range("2020-01-01", periods=300, name="date")
    intraday = pd.DatetimeIndex(
        [d + pd.Timedelta(minutes=9 * 60 + 5 * i) for d in daily[:40] for i in range(6)]
    )
    kinds = ["split", "reverse_split", "bonus", "dividend", "jcp", "other"]
    for index in (daily, intraday):
        tickers = ["PETR4", "VALE3", "ITUB4"]
        m = 60
        dates = index[0].normalize() + pd.to_timedelta(rng.integers(-20, 500, m), unit="D")
        dates = dates.append(pd.DatetimeIndex([dates[0]] * 5))  # repeated cells multiply/add
        acts = pd.DataFrame(
            {
                "ticker": rng.choice(["PETR4", "vale3", "ITUB4", "XPTO3"], len(dates)),
                "date": dates,
                "kind": rng.choice(kinds, len(dates)),
                "value": rng.uniform(0.1, 3.0, len(dates)),
            }
        )
        for frame, tk in ((acts, tickers), (acts.drop(columns="ticker"), tickers[:2])):
            got = _action_arrays(frame, index, tk)
            ref = reference_action_arrays(frame, index, tk)
            for g, r in zip(got, ref):
                np.testing.assert_array_equal(g, r)
            assert any((r != (1.0 if i == 0 else 0.0)).any() for i, r in enumerate(ref))


def test_month_codes_match_pandas_fields():
    """The binary-search month codes (sorted session indexes) equal pandas' year/month."""
    from core.backtest.metrics import month_codes

    rng = np.random.default_rng(5)
    daily = pd.bdate_range("2009-12-30", "2024-02-02")
    intraday = pd.DatetimeIndex(
        [d + pd.Timedelta(minutes=600 + 5 * i) for d in daily[-300:] for i in range(3)]
    )
    shuffled = daily[rng.permutation(len(daily))]
    for idx in (daily, intraday, shuffled, daily[:10], daily[:1], daily[:0]):
        want = idx.year.to_numpy().astype(np.int64) * 12 + idx.month.to_numpy() - 1
        for arr in (idx.to_numpy(), idx.to_numpy().astype("datetime64[us]")):
            got = month_codes(arr)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, want)
    # the monthly table and the tax payments take the codes from a caller that has them
    from core.backtest.metrics import monthly_returns

    eq = pd.Series(np.linspace(100.0, 180.0, len(daily)), index=daily)
    for start in (None, daily[40]):
        pd.testing.assert_frame_equal(
            monthly_returns(eq, start, months=month_codes(daily.to_numpy())),
            monthly_returns(eq, start),
        )


def reference_benchmarks(store, bars, index, cash, rf) -> pd.DataFrame:
    """The benchmark curves as first written (pandas reindex/ffill/mean), kept as reference."""
    closes = (
        pd.concat({t: b["adj_close"] for t, b in bars.items()}, axis=1, sort=True)
        .reindex(index)
        .ffill()
    )
    norm = (closes / closes.bfill().iloc[0]).fillna(1.0)
    buy_hold = (cash * norm.mean(axis=1)).to_numpy()
    bv = store.bars("^BVSP", index[0].normalize(), index[-1])["close"]
    vals = bv.reindex(index.normalize()).ffill().bfill().to_numpy()
    cdi = cash * np.cumprod(1.0 + np.r_[0.0, rf.to_numpy()[1:]])
    return pd.DataFrame({"buy_hold": buy_hold, "bvsp": cash * vals / vals[0], "cdi": cdi}, index)


@pytest.mark.parametrize("tickers", [["PETR4"], ["VALE3", "ITUB4"]])
def test_cached_window_references_give_the_reference_figures(bundled_store, tickers, monkeypatch):
    """The CDI and benchmark curves of a run come from the store's read cache (shared by
    every strategy on the same window): the same figures as computing them afresh with
    the public functions (rf Series, pandas benchmarks), for one ticker and a portfolio."""
    from core.backtest.engine import EngineConfig
    from core.backtest.runner import load_inputs, run_backtest
    from core.rates import cdi_daily_returns

    cfg = EngineConfig(cash=50_000.0)
    runs = [
        run_backtest(bundled_store, s, tickers, "2017-03-01", "2020-06-30", config=cfg)
        for s in ("sma_cross", "buy_and_hold")  # the 2nd hits the cache
    ]
    assert (runs[0].taxes["darf"] > 0).any()
    monkeypatch.setattr(bundled_store._cache, "max_bytes", 0)
    fresh = run_backtest(bundled_store, "buy_and_hold", tickers, "2017-03-01", "2020-06-30")
    res = runs[0]
    idx = res.equity.index
    rf = cdi_daily_returns(bundled_store, idx)
    bars = load_inputs(bundled_store, tickers, "2020-06-30").signal_bars
    ref = reference_benchmarks(bundled_store, bars, idx, 50_000.0, rf)
    for r in runs:
        pd.testing.assert_frame_equal(r.benchmarks, ref, check_exact=True)
    pd.testing.assert_frame_equal(fresh.benchmarks, ref * 2.0, check_exact=True)
    want = compute_metrics(
        res.equity,
        res.trades,
        rf=rf,
        exposure=res.exposure,
        buy_hold=ref["buy_hold"],
        bvsp=ref["bvsp"],
        taxes_brl=res.metrics["taxes_brl"],
    )
    overwritten = {"after_tax_equity_brl", "proventos_brl", "interest_brl", "jcp_withheld_brl"}
    bad = {k: (res.metrics[k], v) for k, v in want.items() if k not in overwritten}
    bad = {k: gv for k, gv in bad.items() if not _same(*gv)}
    assert not bad
    # the run's tax total and after-tax equity come from the report's arrays: the public
    # functions on the report frame give the same figures
    from core.backtest.taxes import monthly_tax_paid, total_tax

    for r in runs + [fresh]:
        assert _same(r.metrics["taxes_brl"], total_tax(r.taxes))
        paid = monthly_tax_paid(r.taxes, r.equity.index)
        pd.testing.assert_series_equal(
            r.after_tax_equity, (r.equity - paid.cumsum()).rename("equity_after_tax")
        )
    # the window's references do not depend on the strategy: the same for both runs
    refs = ("cdi_return_pct", "buy_hold_return_pct", "bvsp_return_pct", "sessions")
    assert all(_same(runs[1].metrics[k], res.metrics[k]) for k in refs)


@pytest.mark.parametrize("seed", range(3))
def test_tax_report_arrays_give_the_public_totals(seed):
    """build_tax_report's total and monthly payments equal total_tax / monthly_tax_paid on
    its frame (and on a frame with a NaN result, skipped as pandas' sums skip it)."""
    from core.backtest.taxes import build_tax_report, monthly_tax_paid, total_tax

    t = _trades(seed, n=60)
    if seed == 2:
        t.loc[7, ["pnl", "swing_pnl"]] = np.nan
    rep = build_tax_report(t, TaxRules(min_darf=50.0), kinds=KINDS)
    pd.testing.assert_frame_equal(rep.frame, tax_report(t, TaxRules(min_darf=50.0), KINDS))
    f = rep.frame
    # the pandas expressions total_tax and monthly_tax_paid were first written with
    ref_total = (
        float(f["darf"].sum())
        + float(f["withheld"].sum())
        + float(f["carried_to_next_month"].iloc[-1])
    )
    assert _same(rep.total(), ref_total) and _same(total_tax(f), ref_total)
    idx = pd.bdate_range("2017-11-01", "2023-03-01")
    per = idx.year * 12 + idx.month - 1 - 1970 * 12
    pos = np.clip(
        np.searchsorted(per, pd.PeriodIndex(f["month"]).asi8, side="right") - 1, 0, len(idx) - 1
    )
    ref_paid = np.zeros(len(idx))
    np.add.at(ref_paid, pos, f["darf"].to_numpy() + f["withheld"].to_numpy())
    ref_paid[-1] += float(f["carried_to_next_month"].iloc[-1])
    np.testing.assert_array_equal(rep.paid(idx), ref_paid)
    pd.testing.assert_series_equal(
        monthly_tax_paid(f, idx), pd.Series(ref_paid, index=idx, name="tax")
    )
    empty = build_tax_report(t.iloc[:0])
    assert empty.total() == 0.0 and not empty.paid(idx).any()


def test_load_inputs_copies_are_independent(bundled_store):
    """load_inputs hands out shallow (copy-on-write) copies of its cached frames: a caller
    that writes to its bars or actions never changes what the next caller gets."""
    from core.backtest.runner import load_inputs

    a = load_inputs(bundled_store, ["PETR4"], "2019-12-30")
    before = a.bars["PETR4"].copy(), a.signal_bars["PETR4"].copy(), a.actions.copy()
    a.bars["PETR4"]["close"] = 0.0
    a.bars["PETR4"].iloc[0, 0] = -1.0
    a.signal_bars["PETR4"].loc[a.signal_bars["PETR4"].index[3], "open"] = -2.0
    if len(a.actions):
        a.actions.loc[a.actions.index[0], "value"] = 99.0
    with pytest.raises(ValueError):  # the values are read-only views, never written through
        a.bars["PETR4"]["open"].to_numpy()[0] = 5.0
    b = load_inputs(bundled_store, ["PETR4"], "2019-12-30")
    pd.testing.assert_frame_equal(b.bars["PETR4"], before[0])
    pd.testing.assert_frame_equal(b.signal_bars["PETR4"], before[1])
    pd.testing.assert_frame_equal(b.actions, before[2])


def test_taxes_and_metrics_from_trade_arrays_equal_the_frame_path(bundled_store):
    """A backtest computes taxes and metrics from the engine's trade arrays
    (EngineResult.trade_columns) instead of reading the trades frame back: the arrays
    hold the frame's values and give the same report and metrics, exactly."""
    from core.backtest.engine import EngineConfig, run_engine
    from core.backtest.runner import compute_signals, load_inputs
    from core.strategies import get_strategy

    inputs = load_inputs(bundled_store, ["PETR4"])
    strat = get_strategy("sma_cross", fast=5, slow=20)
    sigs = compute_signals(strat, inputs.signal_bars, inputs.bars)
    res = run_engine(inputs.bars, sigs, EngineConfig(), actions=inputs.actions, lots=inputs.lots)
    cols = res.trade_columns
    assert cols is not None and list(cols) == list(res.trades.columns)
    for c, v in cols.items():
        np.testing.assert_array_equal(np.asarray(v), res.trades[c].to_numpy(), err_msg=c)
    frames = [res.trades, _trades(1), _trades(2).drop(columns=["sale_value"])]
    for t in frames:
        arrays = cols if t is res.trades else {c: t[c].to_numpy() for c in t.columns}
        for rules in RULES:
            pd.testing.assert_frame_equal(
                tax_report(arrays, rules, kinds=KINDS),
                tax_report(t, rules, kinds=KINDS),
                check_exact=True,
            )
        eq, rf, expo, bh = _curves(0)
        got = compute_metrics(eq, arrays, rf=rf, exposure=expo, buy_hold=bh)
        want = compute_metrics(eq, t, rf=rf, exposure=expo, buy_hold=bh)
        assert all(_same(got[k], v) for k, v in want.items())
    assert run_engine(inputs.bars.copy(), {"PETR4": sigs["PETR4"] & False}).trade_columns is None


@pytest.mark.parametrize("strategy", ["sma_cross", "buy_and_hold"])
def test_run_backtest_trades_frame_built_once_equals_the_engine_frame_path(bundled_store, strategy):
    """run_backtest builds its trades frame once from the engine's arrays (with qty and
    points): the frame the engine would have built, with _points_trades' columns added."""
    from core.backtest.engine import EngineConfig, run_engine
    from core.backtest.runner import _points_trades, compute_signals, load_inputs, run_backtest
    from core.strategies import get_strategy

    res = run_backtest(bundled_store, strategy, ["PETR4"], "2012-01-02", "2020-12-30")
    strat = get_strategy(strategy)
    inputs = load_inputs(bundled_store, ["PETR4"], "2020-12-30")
    sigs = compute_signals(strat, inputs.signal_bars, inputs.bars)
    cfg = EngineConfig(reinvest=bool(strat.reinvests))
    eng = run_engine(
        inputs.bars, sigs, cfg, start="2012-01-02", actions=inputs.actions, lots=inputs.lots
    )
    assert len(eng.trades)
    pd.testing.assert_frame_equal(res.trades, _points_trades(eng.trades, {}), check_exact=True)


def test_precomputed_action_arrays_give_the_same_run(bundled_store):
    """load_inputs computes the engine's corporate-action arrays once (cached with the
    bars); run_engine given them returns exactly what it returns from the actions frame."""
    from core.backtest.engine import EngineConfig, run_engine
    from core.backtest.runner import compute_signals, load_inputs
    from core.errors import InputError
    from core.strategies import get_strategy

    for tickers in (["PETR4"], ["ITUB4", "VALE3"]):
        inputs = load_inputs(bundled_store, tickers)
        assert inputs.action_arrays is not None
        assert any(
            (a != (1.0 if i == 0 else 0.0)).any() for i, a in enumerate(inputs.action_arrays)
        )
        sigs = compute_signals(get_strategy("sma_cross"), inputs.signal_bars, inputs.bars)
        kw = dict(actions=inputs.actions, lots=inputs.lots, start="2012-01-02")
        a = run_engine(inputs.bars, sigs, EngineConfig(reinvest=True), **kw)
        b = run_engine(
            inputs.bars, sigs, EngineConfig(reinvest=True), action_arrays=inputs.action_arrays, **kw
        )
        pd.testing.assert_series_equal(a.equity, b.equity, check_exact=True)
        pd.testing.assert_frame_equal(a.trades, b.trades, check_exact=True)
        assert (a.proventos, a.jcp_withheld) == (b.proventos, b.jcp_withheld) and a.proventos > 0
    with pytest.raises(InputError):
        run_engine(inputs.bars, sigs, action_arrays=tuple(x[:5] for x in inputs.action_arrays))


def _same_result(a, b) -> None:
    for name in ("equity", "drawdown", "exposure", "after_tax_equity"):
        pd.testing.assert_series_equal(getattr(a, name), getattr(b, name), check_exact=True)
    for name in ("trades", "taxes", "monthly", "benchmarks"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert a.metrics.keys() == b.metrics.keys()
    assert all(_same(a.metrics[k], v) for k, v in b.metrics.items())
    assert (a.start, a.end, a.extra) == (b.start, b.end, b.extra)


@pytest.mark.parametrize(
    "tickers, interval, config",
    [
        (["PETR4"], "1d", None),
        (["ITUB4", "VALE3"], "1d", None),
        (["WINFUT"], "15min", "day_trade"),
    ],
)
def test_run_on_inputs_is_run_backtest_after_the_reads(bundled_store, tickers, interval, config):
    """run_backtest = load_inputs + run_on_inputs (one code path for a run from the store and
    a run from bars in memory, e.g. the benchmark's second line): the same result, and the
    caller's inputs are never modified (futures are scaled to R$ per contract in a copy),
    so a second run on the same inputs gives the same result again."""
    from core.backtest.engine import EngineConfig
    from core.backtest.runner import load_inputs, run_backtest, run_on_inputs
    from core.backtest.sizing import Sizing
    from core.strategies import get_strategy

    cfg = (
        EngineConfig(sizing=Sizing("contracts", 1), day_trade=True, allow_short=True)
        if config
        else EngineConfig()
    )
    from core.backtest.runner import _shared_inputs

    shared = _shared_inputs(
        bundled_store, tickers, None, adjusted=False, lot_size=100, interval=interval
    )
    snapshot = {t: b.copy() for t, b in shared.bars.items()}
    signal_snapshot = {t: b.copy() for t, b in shared.signal_bars.items()}
    kinds_before, lots_before = dict(shared.kinds), dict(shared.lots)
    ref = run_backtest(bundled_store, "sma_cross", tickers, config=cfg, interval=interval)
    # run_backtest reads the read cache's own inputs: it leaves them as they were
    assert (
        _shared_inputs(
            bundled_store, tickers, None, adjusted=False, lot_size=100, interval=interval
        )
        is shared
    ), "the run did not use the cached inputs"
    for t in tickers:
        pd.testing.assert_frame_equal(shared.bars[t], snapshot[t], check_exact=True)
        pd.testing.assert_frame_equal(shared.signal_bars[t], signal_snapshot[t], check_exact=True)
    assert (shared.kinds, shared.lots) == (kinds_before, lots_before)
    strat = get_strategy("sma_cross")
    inputs = load_inputs(bundled_store, tickers, interval=interval)
    before = {t: b.copy() for t, b in inputs.bars.items()}
    kinds, lots = dict(inputs.kinds), dict(inputs.lots)
    for _ in range(2):
        _same_result(
            run_on_inputs(bundled_store, strat, tickers, inputs, replace_reinvest(cfg)), ref
        )
        for t, b in before.items():
            pd.testing.assert_frame_equal(inputs.bars[t], b, check_exact=True)
        assert (inputs.kinds, inputs.lots) == (kinds, lots)
    assert len(ref.trades)


def replace_reinvest(cfg):
    from dataclasses import replace

    return replace(cfg, reinvest=False) if cfg.reinvest is None else cfg


def reference_monthly_returns(eq: pd.Series, start=None) -> pd.DataFrame:
    """The monthly table with pandas' groupby (the definition monthly_returns implements)."""
    base = float(eq.iloc[0])
    if start is not None and (eq.index >= start).any():
        eq = eq[eq.index >= start]
    ends = eq.groupby([eq.index.year.rename("year"), eq.index.month.rename("month")]).last()
    prev = np.r_[base, ends.to_numpy()[:-1]]
    table = pd.Series(100.0 * (ends.to_numpy() / prev - 1.0), index=ends.index).unstack()
    table = table.reindex(columns=pd.RangeIndex(1, 13, name="month"))
    return table


@pytest.mark.parametrize("seed", range(3))
def test_monthly_returns_match_the_groupby_reference(seed):
    """The year × month table (sorted-years fast path, prebuilt labels) equals pandas'
    groupby of the month-end values, exactly, with and without a start and the codes."""
    from core.backtest.metrics import month_codes, monthly_returns

    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2012-12-20", "2016-07-10")
    days = days[np.sort(rng.choice(len(days), len(days) - 40, replace=False))]
    intraday = pd.DatetimeIndex(
        [d + pd.Timedelta(minutes=600 + 5 * i) for d in days[-90:] for i in range(4)]
    )
    for idx in (days, days[:15], intraday):
        eq = pd.Series(100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, len(idx)))), index=idx)
        for start in (None, idx[min(7, len(idx) - 1)]):
            want = reference_monthly_returns(eq, start)
            for months in (None, month_codes(np.asarray(idx))):
                got = monthly_returns(eq, start, months=months)
                pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_fee_rates_from_cached_schedule_arrays_match_the_schedule():
    """fee_rates reads the schedule's arrays built once per schedule: the rate in force on
    each date (the first entry's before it), as a direct scan of the schedule gives."""
    from core.backtest.costs import B3_FEE_SCHEDULE, FeePeriod, fee_rates

    custom = (
        FeePeriod("2011-01-03", 0.0004, 0.0003, "a"),
        FeePeriod("2015-06-01", 0.0002, 0.0001, "b"),
    )
    dates = pd.DatetimeIndex(["2009-05-04", "2011-01-03", "2015-05-29", "2015-06-01", "2024-01-02"])
    for schedule in (B3_FEE_SCHEDULE, custom, list(custom)):
        for _ in range(2):  # built, then served from the cache
            sw, dt = fee_rates(dates.as_unit("us"), schedule)
            want = [
                max(
                    [p for p in schedule if pd.Timestamp(p.since) <= d] or [schedule[0]],
                    key=lambda p: pd.Timestamp(p.since),
                )
                for d in dates
            ]
            np.testing.assert_array_equal(sw, [p.swing for p in want])
            np.testing.assert_array_equal(dt, [p.day_trade for p in want])
            sw[:] = -1.0  # the caller's arrays are its own


def test_window_reference_keys_compare_every_byte():
    """The window references' cache key hashes only the ends of each series but compares
    all of it: two windows that differ only in the middle are different keys."""
    from core.backtest.runner import _BytesKey

    a = np.arange(5000, dtype="float64")
    b = a.copy()
    b[2500] += 1e-9
    ka, ka2, kb = _BytesKey(a.tobytes()), _BytesKey(a.copy().tobytes()), _BytesKey(b.tobytes())
    assert ka == ka2 and hash(ka) == hash(ka2) and len({ka, ka2}) == 1
    assert hash(ka) == hash(kb) and ka != kb and len({ka, kb}) == 2
    assert ka != a.tobytes() and _BytesKey(b"") == _BytesKey(b"")


def test_sample_std_is_numpy_std_bit_for_bit():
    """compute_metrics' volatility helper equals np.std(ddof=1) exactly (NaN included)."""
    from core.backtest.metrics import _std1

    rng = np.random.default_rng(3)
    for i in range(400):
        n = int(rng.integers(2, 4000))
        a = rng.normal(0.0, rng.uniform(1e-6, 1.0), n) * (rng.random(n) > 0.2)
        if i % 9 == 0:
            a[rng.integers(0, n)] = np.nan
        assert _same(_std1(a), float(np.std(a, ddof=1)))


def test_run_backtest_reads_the_data_version_once(bundled_store, monkeypatch):
    """A run's cached reads (market inputs, window references) share one snapshot of the
    data version: the database is asked once per run, not once per cached read."""
    from core.backtest.runner import run_backtest

    run_backtest(bundled_store, "sma_cross", ["PETR4"], "2015-01-02", "2016-12-29")  # warm
    version = bundled_store._version
    calls = []
    real = version._database_part
    monkeypatch.setattr(version, "_database_part", lambda: calls.append(1) or real())
    run_backtest(bundled_store, "sma_cross", ["PETR4"], "2015-01-02", "2016-12-29")
    assert len(calls) == 1
