"""Backtest metrics, each with its unit.

Conventions: equity in R$ marked at each close; daily simple returns as fractions;
annualisation on :data:`core.rates.PERIODS_PER_YEAR` = 252 sessions; the risk-free rate is
the CDI (daily simple returns, :func:`core.rates.cdi_daily_returns`). Every key of
:func:`compute_metrics` is documented in :data:`METRIC_INFO` as ``(pt-BR label, unit)``;
a test pins that. Percentages are stored as percent numbers (``12.5`` = 12,5 %).

Formulas and sources
--------------------
* Sharpe: mean(r − rf) / std(r − rf) × √252 (Sharpe, 1994, "The Sharpe Ratio").
* Sortino: mean(r − rf) / √mean(min(r − rf, 0)²) × √252 (Sortino & Price, 1994).
* Calmar: annualised return / |max drawdown| (Young, 1991).
* Max drawdown: min(equity / running max − 1); duration: the longest stretch in sessions
  from a peak until equity regains it (or the end of the data).
* Profit factor: gross profits / gross losses of closed trades; payoff: mean win / mean loss;
  expectancy: mean P&L per trade.
* Win rate with a Wilson score 95 % interval (Wilson, 1927; Brown, Cai & DasGupta, 2001
  recommend it over the normal approximation for small n). With fewer than
  :data:`MIN_TRADES` trades the result is flagged as too few to judge.
* Exposure: mean gross position value / equity; turnover: traded value (both legs) / mean
  equity, per year.

Intraday bars
-------------
With ``bars_per_session`` = b > 1 (an intraday run: the equity has one point per bar), the
returns are per bar and annualise with ``252 × b`` periods a year (volatility × √(252·b),
Sharpe and Sortino likewise, the annualised return over ``bars / (252·b)`` years); durations
(``max_drawdown_sessions``, ``avg_holding_sessions``) are converted from bars to sessions
(÷ b) and ``sessions`` counts sessions, not bars.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from core.rates import PERIODS_PER_YEAR

__all__ = [
    "METRIC_INFO",
    "MIN_TRADES",
    "wilson_interval",
    "drawdown",
    "max_drawdown_duration",
    "compute_metrics",
    "monthly_returns",
    "month_codes",
    "trade_rows",
    "trade_values",
]

#: Fewer closed trades than this are flagged "too few to judge".
MIN_TRADES = 30

#: key -> (pt-BR label, unit) for every metric :func:`compute_metrics` returns.
METRIC_INFO: dict[str, tuple[str, str]] = {
    "initial_equity_brl": ("Capital inicial", "R$"),
    "final_equity_brl": ("Patrimônio final (antes de IR)", "R$"),
    "net_profit_brl": ("Resultado líquido (antes de IR)", "R$"),
    "total_return_pct": ("Retorno total", "%"),
    "annual_return_pct": ("Retorno anualizado", "% a.a."),
    "volatility_pct": ("Volatilidade anualizada", "% a.a."),
    "sharpe": ("Sharpe (vs CDI)", "razão, anualizada"),
    "sortino": ("Sortino (vs CDI)", "razão, anualizada"),
    "calmar": ("Calmar", "razão"),
    "max_drawdown_pct": ("Drawdown máximo", "%"),
    "max_drawdown_sessions": ("Duração do maior drawdown", "pregões"),
    "n_trades": ("Número de operações", "operações"),
    "too_few_trades": ("Poucas operações para concluir (< 30)", "sim/não"),
    "win_rate_pct": ("Taxa de acerto", "%"),
    "win_rate_ci_low_pct": ("Taxa de acerto – IC 95% inferior (Wilson)", "%"),
    "win_rate_ci_high_pct": ("Taxa de acerto – IC 95% superior (Wilson)", "%"),
    "profit_factor": ("Fator de lucro", "razão"),
    "payoff": ("Payoff (ganho médio / perda média)", "razão"),
    "expectancy_brl": ("Expectativa por operação", "R$"),
    "expectancy_pct": ("Expectativa por operação", "%"),
    "avg_holding_sessions": ("Duração média das operações", "pregões"),
    "exposure_pct": ("Exposição média", "% do patrimônio"),
    "turnover": ("Giro anual", "× patrimônio por ano"),
    "costs_brl": ("Custos pagos (taxas B3, corretagem, aluguel)", "R$"),
    "taxes_brl": ("IR devido (relatório mensal)", "R$"),
    "after_tax_profit_brl": ("Resultado após IR", "R$"),
    "after_tax_equity_brl": ("Patrimônio final após IR", "R$"),
    "proventos_brl": ("Proventos líquidos recebidos (dividendos + JCP − IRRF)", "R$"),
    "interest_brl": ("Juros sobre o caixa (CDI)", "R$"),
    "jcp_withheld_brl": ("IR retido na fonte sobre JCP (15%)", "R$"),
    "cdi_return_pct": ("CDI no período", "%"),
    "buy_hold_return_pct": ("Comprar e segurar (mesmos ativos)", "%"),
    "bvsp_return_pct": ("Ibovespa (^BVSP)", "%"),
    "excess_vs_buy_hold_pct": ("Retorno menos comprar e segurar", "p.p."),
    "excess_vs_bvsp_pct": ("Retorno menos Ibovespa", "p.p."),
    "sessions": ("Pregões no período", "pregões"),
}


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes, n : int
        Wins and trials.
    z : float
        Normal quantile (1.96 for 95 %).

    Returns
    -------
    (low, high) : tuple of float
        Fractions in [0, 1]; ``(nan, nan)`` when ``n == 0``.

    Examples
    --------
    >>> lo, hi = wilson_interval(7, 9)   # the seeds' "77.8 % from 9 trades"
    >>> round(lo, 3), round(hi, 3)
    (0.453, 0.937)
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def drawdown(equity: pd.Series) -> pd.Series:
    """Drawdown from the running peak, as a fraction ≤ 0 (same index)."""
    if equity.dtype != np.float64:
        return (equity / equity.cummax() - 1.0).rename("drawdown")
    eq = equity.to_numpy()
    # pandas' cummax skips NaN exactly as np.fmax.accumulate does
    return pd.Series(eq / np.fmax.accumulate(eq) - 1.0, index=equity.index, name="drawdown")


def max_drawdown_duration(equity: pd.Series) -> int:
    """Longest run of sessions spent below a previous peak (until regained or the end)."""
    eq = equity.to_numpy(dtype="float64")
    if len(eq) == 0:
        return 0
    return _longest_under(eq)


_I8_ZERO = np.zeros(1, dtype=np.int8)


def _longest_under(eq: np.ndarray) -> int:
    """Longest run of ``eq < running max`` (the running max propagates NaN, as before)."""
    under = eq < np.maximum.accumulate(eq)
    if not under.any():
        return 0
    # With a False before and after, the changes alternate: a run starts, a run ends, ...
    flips = np.flatnonzero(np.diff(np.concatenate((_I8_ZERO, under.view(np.int8), _I8_ZERO))))
    return int((flips[1::2] - flips[0::2]).max())


def _std1(a: np.ndarray) -> float:
    """``np.std(a, ddof=1)`` of a 1-d float64 array (n >= 2), the same operations in the
    same order (mean, squared deviations, their sum over n - 1, square root) without
    ``np.std``'s generic-axis bookkeeping: bit-identical, in half the time."""
    n = len(a)
    d = a - a.sum() / n
    np.multiply(d, d, out=d)
    return float(np.sqrt(d.sum() / (n - 1)))


def _nanmean(a: np.ndarray) -> float:
    """pandas' ``Series.mean()`` (NaN skipped; NaN when nothing is left) on an array."""
    mask = np.isnan(a)
    if not mask.any():
        return a.mean() if len(a) else math.nan
    cnt = len(a) - int(mask.sum())
    return np.where(mask, 0.0, a).sum() / np.float64(cnt) if cnt else math.nan


def _nansum(a: np.ndarray) -> float:
    """pandas' ``Series.sum()`` (NaN skipped, 0 when empty) on an array."""
    mask = np.isnan(a)
    return np.where(mask, 0.0, a).sum() if mask.any() else a.sum()


def trade_rows(trades) -> int:
    """Number of trades of a trades frame or of a mapping of column name -> array (m,)."""
    if isinstance(trades, pd.DataFrame):
        return len(trades)
    return len(next(iter(trades.values()))) if len(trades) else 0


def trade_values(trades, name: str, dtype=None) -> np.ndarray:
    """Column ``name`` of a trades frame or of a mapping of column name -> array, as a numpy
    array (``dtype`` as in ``Series.to_numpy``)."""
    v = trades[name]
    return v.to_numpy(dtype=dtype) if hasattr(v, "to_numpy") else np.asarray(v, dtype=dtype)


def _values(x) -> np.ndarray:
    return np.asarray(x.to_numpy(dtype="float64") if hasattr(x, "to_numpy") else x, "float64")


def _ret_pct(series: pd.Series | np.ndarray | None) -> float:
    if series is None:
        return math.nan
    s = _values(series)
    s = s[~np.isnan(s)]
    if len(s) < 2:
        return math.nan
    return 100.0 * (s[-1] / s[0] - 1.0)


def compute_metrics(
    equity: pd.Series,
    trades: pd.DataFrame,
    *,
    rf: pd.Series | np.ndarray | None = None,
    exposure: pd.Series | None = None,
    buy_hold: pd.Series | np.ndarray | None = None,
    bvsp: pd.Series | np.ndarray | None = None,
    taxes_brl: float = 0.0,
    periods_per_year: int = PERIODS_PER_YEAR,
    proventos_brl: float = 0.0,
    interest_brl: float = 0.0,
    jcp_withheld_brl: float = 0.0,
    bars_per_session: float = 1.0,
) -> dict:
    """All the metrics of one backtest (keys and units in :data:`METRIC_INFO`).

    Parameters
    ----------
    equity : pandas.Series
        Equity in R$ per session over the trading window.
    trades : pandas.DataFrame or mapping of str to numpy.ndarray
        Closed trades (:data:`core.backtest.engine.TRADE_COLUMNS`), as a frame or as its
        columns (e.g. :attr:`core.backtest.engine.EngineResult.trade_columns`).
    rf : pandas.Series or numpy.ndarray, optional
        Risk-free daily simple returns on ``equity``'s index (the CDI); 0 if absent. An
        array must have one value per equity point (shape (n,), same order).
    exposure : pandas.Series, optional
        Gross exposure fraction per session.
    buy_hold, bvsp : pandas.Series or numpy.ndarray, optional
        Benchmark equity/level series on the same window (only first and last valid
        values are read).
    taxes_brl : float
        Income tax from the monthly tax report, R$.
    proventos_brl, interest_brl, jcp_withheld_brl : float
        Proventos credited (net), interest on idle cash and JCP withholding of the run, R$.
    bars_per_session : float
        Mean bars per session of an intraday run (1 for daily bars); see the module
        docstring.

    A flat equity curve (no trade, no interest) has no Sharpe or Sortino (NaN): a ratio of
    the CDI's own day-to-day noise would be meaningless.

    Returns
    -------
    dict
        Metric key -> value (floats; NaN where undefined; ``too_few_trades`` a bool).
    """
    # Plain numpy throughout (same operations, same order as the pandas expressions they
    # replace: the figures are bit-identical; issue 9's end-to-end speed).
    eq = equity if equity.dtype == np.float64 else equity.astype("float64")
    eqa = eq.to_numpy()
    n = len(eqa)
    if n > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = eqa[1:] / eqa[:-1] - 1.0
        r[np.isnan(r)] = 0.0
    else:
        r = np.zeros(0)
    if rf is None:
        rf_a = np.zeros_like(r)
    elif isinstance(rf, np.ndarray):
        if rf.shape != (n,):
            raise ValueError(f"rf has shape {rf.shape}; the equity has {n} points.")
        rf_full = rf.astype("float64", copy=False)
        rf_a = np.where(np.isnan(rf_full), 0.0, rf_full)[1:]
    elif rf.index.equals(eq.index):
        rf_full = rf.to_numpy(dtype="float64")
        rf_a = np.where(np.isnan(rf_full), 0.0, rf_full)[1:]
    else:
        rf_a = rf.reindex(eq.index).fillna(0.0).to_numpy(dtype="float64")[1:]
    ex = r - rf_a
    bps = float(bars_per_session)
    if not bps >= 1.0:
        raise ValueError(f"bars_per_session must be >= 1 (got {bars_per_session}).")
    ppy = periods_per_year * bps
    m: dict = {}
    m["initial_equity_brl"] = float(eqa[0]) if n else math.nan
    m["final_equity_brl"] = float(eqa[-1]) if n else math.nan
    m["net_profit_brl"] = m["final_equity_brl"] - m["initial_equity_brl"]
    total = m["final_equity_brl"] / m["initial_equity_brl"] - 1.0 if n else math.nan
    m["total_return_pct"] = 100.0 * total
    years = max(len(r), 1) / ppy
    m["annual_return_pct"] = (
        100.0 * ((1.0 + total) ** (1.0 / years) - 1.0) if n > 1 and 1 + total > 0 else math.nan
    )
    sd = _std1(r) if len(r) > 1 else math.nan
    m["volatility_pct"] = 100.0 * sd * math.sqrt(ppy)
    sd_ex = _std1(ex) if len(ex) > 1 else math.nan
    if not sd > 1e-12:  # flat curve: no risk taken, no ratio
        sd_ex = math.nan
    m["sharpe"] = float(np.mean(ex) / sd_ex * math.sqrt(ppy)) if sd_ex and sd_ex > 0 else math.nan
    dd_dev = float(np.sqrt(np.mean(np.minimum(ex, 0.0) ** 2))) if len(ex) else math.nan
    if not sd > 1e-12:
        dd_dev = math.nan
    m["sortino"] = (
        float(np.mean(ex) / dd_dev * math.sqrt(ppy)) if dd_dev and dd_dev > 0 else math.nan
    )
    if n:
        # drawdown(): pandas' cummax skips NaN like np.fmax; min() skips NaN
        dd = eqa / np.fmax.accumulate(eqa) - 1.0
        dd_ok = dd[~np.isnan(dd)]
        mdd = float(dd_ok.min()) if len(dd_ok) else math.nan
    else:
        mdd = math.nan
    m["max_drawdown_pct"] = 100.0 * mdd
    dur = _longest_under(eqa) if n else 0
    m["max_drawdown_sessions"] = dur if bps == 1.0 else int(math.ceil(dur / bps))
    m["calmar"] = m["annual_return_pct"] / abs(m["max_drawdown_pct"]) if mdd < 0 else math.nan
    # -- trades --
    nt = trade_rows(trades)
    m["n_trades"] = nt
    m["too_few_trades"] = nt < MIN_TRADES
    pnl = trade_values(trades, "pnl", "float64") if nt else np.zeros(0)
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
    m["expectancy_pct"] = float(_nanmean(_values(trades["return_pct"]))) if nt else math.nan
    m["avg_holding_sessions"] = (
        float(_nanmean(_values(trades["bars_held"]))) / bps if nt else math.nan
    )
    m["exposure_pct"] = (
        100.0 * float(_nanmean(_values(exposure))) if exposure is not None and n else math.nan
    )
    traded = (
        float(_nansum(_values(trades["entry_value"]) + _values(trades["exit_value"])))
        if nt
        else 0.0
    )
    m["turnover"] = traded / float(_nanmean(eqa)) / years if n else math.nan
    m["costs_brl"] = (
        float(_nansum(_values(trades["fees"]) + _values(trades["borrow"]))) if nt else 0.0
    )
    m["taxes_brl"] = float(taxes_brl)
    m["after_tax_profit_brl"] = m["net_profit_brl"] - m["taxes_brl"]
    m["after_tax_equity_brl"] = m["final_equity_brl"] - m["taxes_brl"]
    m["proventos_brl"] = float(proventos_brl)
    m["interest_brl"] = float(interest_brl)
    m["jcp_withheld_brl"] = float(jcp_withheld_brl)
    m["cdi_return_pct"] = 100.0 * (float(np.prod(1.0 + rf_a)) - 1.0) if rf is not None else math.nan
    m["buy_hold_return_pct"] = _ret_pct(buy_hold)
    m["bvsp_return_pct"] = _ret_pct(bvsp)
    m["excess_vs_buy_hold_pct"] = m["total_return_pct"] - m["buy_hold_return_pct"]
    m["excess_vs_bvsp_pct"] = m["total_return_pct"] - m["bvsp_return_pct"]
    m["sessions"] = n if bps == 1.0 else int(round(n / bps))
    return m


def month_codes(when) -> np.ndarray:
    """Calendar month of each datetime as ``year * 12 + month - 1`` (int64, shape (n,)).

    Parameters
    ----------
    when : array-like of datetime64 (any unit, naive), shape (n,)

    Returns
    -------
    numpy.ndarray
        The same numbers as ``year * 12 + month - 1`` of pandas' fields; NaT gives numpy's
        NaT month code. Sorted input (session indexes) takes a fast path: the month starts
        between the first and the last value are located by binary search instead of
        converting every value to a calendar month.
    """
    w = np.asarray(when)
    if w.dtype.kind != "M":
        w = pd.DatetimeIndex(w).to_numpy()
    w = w.astype("datetime64[ns]", copy=False)
    i8 = w.view(np.int64)
    nat = np.iinfo(np.int64).min
    if len(i8) < 64 or i8[0] == nat or not (i8[1:] >= i8[:-1]).all():
        return w.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    m0, m1 = w[[0, -1]].astype("datetime64[M]").astype(np.int64)
    starts = np.arange(m0 + 1, m1 + 1).astype("datetime64[M]").astype("datetime64[ns]")
    pos = np.searchsorted(i8, starts.view(np.int64), side="left")
    counts = np.diff(np.concatenate(([0], pos, [len(i8)])))
    return np.repeat(np.arange(m0, m1 + 1, dtype=np.int64), counts) + 1970 * 12


def monthly_returns(
    equity: pd.Series, start=None, *, months: np.ndarray | None = None
) -> pd.DataFrame:
    """Monthly returns in % as a year × month table (rows years, columns 1..12, NaN gaps).

    The first month's return is measured from the first equity value. ``start`` (the first
    trading session) drops the points before it from the table — the window's first point
    is the close *before* ``start`` (the starting capital), which may fall in an earlier
    month or year, and must not create a row of its own. ``months`` may give
    :func:`month_codes` of ``equity``'s index when the caller has them.
    """
    if len(equity) == 0:
        return pd.DataFrame(columns=range(1, 13), dtype="float64")
    vals = equity.to_numpy(dtype="float64")
    idx = equity.index
    when = np.asarray(idx if isinstance(idx, pd.DatetimeIndex) else pd.DatetimeIndex(idx))
    base = float(vals[0])
    codes = month_codes(when) if months is None else np.asarray(months, dtype=np.int64)
    if start is not None:
        inside = when >= pd.Timestamp(start).to_datetime64()
        if inside.any():
            vals, when, codes = vals[inside], when[inside], codes[inside]
    last = np.concatenate((np.flatnonzero(np.diff(codes) != 0), [len(codes) - 1]))
    ends = vals[last]
    prev = np.concatenate(([base], ends[:-1]))
    ret = 100.0 * (ends / prev - 1.0)
    # int32 years, as pandas' DatetimeIndex.year gives them
    years, months = (codes[last] // 12).astype(np.int32), codes[last] % 12 + 1
    if len(years) > 1 and (years[1:] >= years[:-1]).all():  # a sorted index: no sort needed
        uy = years[np.concatenate(([True], years[1:] != years[:-1]))]
    else:
        uy = np.unique(years)
    table = np.full((len(uy), 12), np.nan)
    table[np.searchsorted(uy, years), months - 1] = ret
    return pd.DataFrame(
        table, index=pd.Index(uy, name="year"), columns=pd.RangeIndex(1, 13, name="month")
    )
