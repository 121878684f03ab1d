"""Walk-forward rebalancing backtest of a portfolio rule against 1/N, minimum variance, ^BVSP, CDI.

The single train/test split judged one set of weights on one window (it put 100 % in MGLU3
and lost 55,6 % a year). This module re-optimises the rule on a rolling estimation window at
every rebalance date and trades the new weights, so the test covers many estimates, as in
DeMiguel, Garlappi & Uppal (2009), "Optimal versus naive diversification: how inefficient is
the 1/N portfolio strategy?", *Review of Financial Studies* 22(5), 1915-1953.

Rules (all stated to the user)
------------------------------
* **No lookahead.** On a rebalance session ``t`` the universe and the weights use data up to
  the previous session ``t−1`` only; trades fill at the close of ``t``.
* **Universe.** ``"liquid"`` (default): at each rebalance, the ``n`` stocks with the largest
  median traded value (``close × volume``, R$) over their last 252 bars up to ``t−1`` among
  those with at least ``lookback`` bars by then — the same rule as
  :func:`core.portfolio.inputs.most_liquid`, point in time, so a stock cannot enter because of
  a rally inside the test. ``"chosen"``: the given tickers, each from the first rebalance at
  which it has ``lookback`` bars.
* **Survivorship.** Every bundled stock still trades today: companies delisted during the test
  are missing from the candidates, which flatters every stock-based series.
* **Rebalance** on the first session of each month or quarter (``"none"``: buy once, hold).
* **Prices**: adjusted closes (dividends reinvested through the adjustment). Trades pay
  slippage and B3 swing-trade fees (:class:`core.backtest.costs.B3Costs`) plus brokerage per
  order. Idle cash earns the daily CDI (:mod:`core.rates`); a small negative balance left by
  a tax payment is charged the CDI until the next rebalance.
* **Income tax** (:func:`core.backtest.taxes.tax_report`): each sale realises a gain against
  the average cost (*preço médio*); 15 % on the month's net swing gain, exempt when the
  month's stock sales are at most R$ 20.000; losses carried forward; 0,005 % withheld on
  sales. The DARF of a month is paid on the first session of the next month. Gains on
  adjusted prices include reinvested dividends (exempt in reality: conservative); JCP's 15 %
  withholding is not modelled (optimistic). ^BVSP (an index, not tradable) and the CDI series
  pay neither costs nor tax.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.backtest.costs import B3_DEFAULT, B3Costs
from core.backtest.taxes import TaxRules, tax_report
from core.data.store import Store
from core.errors import InputError, PregaoError
from core.portfolio.benchmark import REBALANCE, _active_ci, _drawdown, series_stats
from core.portfolio.inputs import BENCHMARK, inputs_from_prices
from core.portfolio.optimize import (
    PortfolioSpec,
    asset_bounds,
    expected_returns_for,
    feasible_return_range,
    optimize_portfolio,
)
from core.rates import PERIODS_PER_YEAR, cdi_annual, cdi_daily_returns
from core.textfmt import pct

__all__ = [
    "UNIVERSES",
    "SERIES",
    "WalkForward",
    "walk_forward",
    "point_in_time_liquid",
    "sharpe_difference_test",
]

Progress = Callable[[float, str], None]

#: Universe rules and their pt-BR labels.
UNIVERSES: dict[str, str] = {
    "liquid": "As mais líquidas em cada data (sem retrospectiva)",
    "chosen": "As ações escolhidas",
}
#: Series of the result, in order.
SERIES = ("Carteira", "Pesos iguais", "Mínima variância", BENCHMARK, "CDI")

SURVIVORSHIP_NOTE = (
    "Viés de sobrevivência: todas as ações do banco embutido ainda são negociadas hoje; "
    "empresas deslistadas no período não entram, o que tende a favorecer as séries de ações."
)


@dataclass(frozen=True)
class WalkForward:
    """Result of :func:`walk_forward`.

    Attributes
    ----------
    equity : pandas.DataFrame
        ``(n_dates, 5)`` R$ equity of :data:`SERIES` from the first rebalance's close (the
        purchase) to the end; all start at ``capital``.
    drawdown : pandas.DataFrame
        Same shape, drawdown from the running peak (negative fractions).
    stats : dict of str -> dict
        :func:`core.portfolio.benchmark.series_stats` per series, plus for the three
        portfolios ``costs``, ``taxes`` (R$), ``orders`` and ``turnover`` (mean one-way
        traded value per rebalance / equity).
    active : dict
        ``vs_benchmark``, ``vs_equal_weight``, ``vs_min_variance``: annualised mean daily
        return of Carteira minus the other series, with a 95 % CI and n.
    sharpe_tests : dict
        Carteira's Sharpe minus 1/N's and minimum variance's with the Jobson-Korkie test as
        corrected by Memmel (2003) — the test DeMiguel et al. (2009) report.
    rebalances : list of dict
        ``date``, ``estimation`` ``{start, end, sessions}``, ``universe`` and ``weights``
        (Carteira's) of every rebalance.
    weights : pandas.Series
        Carteira's weights at the last rebalance (what the rule holds now).
    train : dict
        The first estimation window ``{start, end, sessions}``.
    test : dict
        The traded span ``{start, end, sessions}``.
    parameters : dict
        The request (plain data).
    notes : list of str
        Survivorship, universe and simplifications (pt-BR).
    hindsight : dict
        ``"liquid"`` universe only: ``universe`` (today's ``n`` most liquid) and
        ``equal_weight`` (:func:`series_stats` of 1/N over that universe, same rules) — what
        choosing the universe with hindsight would have shown; empty otherwise.
    """

    equity: pd.DataFrame
    drawdown: pd.DataFrame
    stats: dict
    active: dict
    sharpe_tests: dict
    rebalances: list
    weights: pd.Series
    train: dict
    test: dict
    parameters: dict
    notes: list = field(default_factory=list)
    hindsight: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready data (dates as ``YYYY-MM-DD``)."""

        def frame(df: pd.DataFrame) -> dict:
            return {
                "dates": [d.strftime("%Y-%m-%d") for d in df.index],
                "series": {str(c): [float(x) for x in df[c].to_numpy()] for c in df.columns},
            }

        return {
            "method": "walk_forward",
            "equity": frame(self.equity),
            "drawdown": frame(self.drawdown),
            "stats": self.stats,
            "active": self.active,
            "sharpe_tests": self.sharpe_tests,
            "rebalances": self.rebalances,
            "weights": {t: float(v) for t, v in self.weights.items()},
            "train": self.train,
            "test": self.test,
            "rebalance": self.parameters.get("rebalance"),
            "parameters": self.parameters,
            "notes": list(self.notes),
            "hindsight": self.hindsight,
        }


def _span(idx: pd.DatetimeIndex) -> dict:
    return {
        "start": idx[0].strftime("%Y-%m-%d"),
        "end": idx[-1].strftime("%Y-%m-%d"),
        "sessions": int(len(idx)),
    }


def sharpe_difference_test(ra: np.ndarray, rb: np.ndarray) -> dict:
    """Jobson & Korkie (1981) test of equal Sharpe ratios, with Memmel's (2003) correction.

    Parameters
    ----------
    ra, rb : ndarray
        ``(n,)`` daily excess returns of two strategies on the same sessions.

    Returns
    -------
    dict
        ``difference`` (annualised Sharpe of a minus b), ``z``, ``p_value`` (two-sided),
        ``n``. ``z = (SR_a − SR_b) / sqrt(θ / n)`` with daily Sharpe ratios and
        ``θ = 2 − 2ρ + (SR_a² + SR_b² − 2·SR_a·SR_b·ρ²) / 2``.
    """
    from scipy.stats import norm

    ra, rb = np.asarray(ra, float), np.asarray(rb, float)
    n = len(ra)
    sa, sb = ra.std(ddof=1), rb.std(ddof=1)
    if n < 3 or sa == 0 or sb == 0:
        nan = float("nan")
        return {"difference": nan, "z": nan, "p_value": nan, "n": int(n)}
    a, b = ra.mean() / sa, rb.mean() / sb
    rho = float(np.corrcoef(ra, rb)[0, 1])
    theta = 2 - 2 * rho + 0.5 * (a * a + b * b - 2 * a * b * rho * rho)
    z = (a - b) / np.sqrt(max(theta, 1e-12) / n)
    return {
        "difference": float((a - b) * np.sqrt(PERIODS_PER_YEAR)),
        "z": float(z),
        "p_value": float(2 * norm.sf(abs(z))),
        "n": int(n),
    }


def point_in_time_liquid(
    traded_value: pd.DataFrame, i: int, n: int, *, lookback: int, min_history: int
) -> list[str]:
    """The ``n`` most liquid tickers using rows ``< i`` only (point in time).

    Parameters
    ----------
    traded_value : pandas.DataFrame
        ``(n_dates, n_tickers)`` daily ``close × volume`` in R$ (NaN where no bar).
    i : int
        Row of the decision session; rows ``0..i-1`` are known.
    n : int
        How many tickers.
    lookback : int
        Bars per ticker in the median (252 ≈ a year).
    min_history : int
        Fewest bars a ticker needs by ``i-1``.

    Returns
    -------
    list of str
        Most liquid first; ties broken by ticker (as :func:`core.portfolio.inputs.most_liquid`).
    """
    return _Liquidity(traded_value, lookback).top(i, n, min_history)


class _Liquidity:
    """Rolling medians of traded value, precomputed once for point-in-time rankings."""

    def __init__(self, traded_value: pd.DataFrame, lookback: int) -> None:
        idx = traded_value.index
        self.count = traded_value.notna().cumsum().to_numpy()
        self.median = (
            pd.DataFrame(
                {
                    t: traded_value[t].dropna().rolling(lookback, min_periods=1).median()
                    for t in traded_value.columns
                }
            )
            .reindex(idx)
            .ffill()
            .to_numpy()
        )
        self.cols = list(traded_value.columns)

    def eligible(self, i: int, min_history: int) -> list[str]:
        if i <= 0:
            return []
        c = self.count[i - 1]
        return [t for k, t in enumerate(self.cols) if c[k] >= min_history]

    def top(self, i: int, n: int, min_history: int) -> list[str]:
        if i <= 0:
            return []
        c, m = self.count[i - 1], self.median[i - 1]
        vals = [(t, float(m[k])) for k, t in enumerate(self.cols) if c[k] >= min_history]
        vals.sort(key=lambda x: (-x[1], x[0]))
        return [t for t, _ in vals[:n]]


def _rebalance_rows(index: pd.DatetimeIndex, first: int, frequency: str) -> list[int]:
    if frequency == "none":
        return [first]
    key = index.month if frequency == "monthly" else (index.month - 1) // 3
    period = np.asarray(index.year * 100 + key)
    rows = [first]
    rows += [k for k in range(first + 1, len(index)) if period[k] != period[k - 1]]
    return rows


class _Book:
    """One portfolio's cash, shares and average costs, with its trades for the tax report."""

    def __init__(self, n_assets: int, capital: float) -> None:
        self.shares = np.zeros(n_assets)
        self.avg_cost = np.zeros(n_assets)
        self.cash = float(capital)
        self.costs = 0.0
        self.taxes = 0.0
        self.orders = 0
        self.traded: list[float] = []  # one-way traded value / equity, per rebalance
        self.trades: list[dict] = []
        self.paid_months: set = set()
        self.credit = 0.0  # withholding credit handed on by months already paid

    def value(self, px: np.ndarray) -> float:
        return self.cash + float(np.nansum(self.shares * px))

    def rebalance(self, w: np.ndarray, px: np.ndarray, day, costs: B3Costs, rules) -> None:
        """Trade to weights ``w`` at prices ``px`` (sells first, then buys within the cash)."""
        slip = costs.slippage_bps / 10_000.0
        pxs = np.where(np.isfinite(px), px, 0.0)
        equity = self.value(pxs)
        target = w * equity
        current = self.shares * pxs
        diff = target - current
        traded = 0.0
        for k in np.flatnonzero(diff < -1e-9 * max(equity, 1.0)):
            if pxs[k] <= 0:
                continue
            q = min(self.shares[k], -diff[k] / pxs[k])
            fill = pxs[k] * (1 - slip)
            gross = q * fill
            fee = costs.fees(gross)
            withheld = rules.swing_withholding * gross if rules else 0.0
            pnl = gross - fee - q * self.avg_cost[k]
            self.cash += gross - fee - withheld
            self.costs += fee + q * pxs[k] * slip
            self.taxes += withheld
            self.shares[k] -= q
            self.orders += 1
            traded += q * pxs[k]
            self.trades.append(
                {
                    "direction": "compra",
                    "entry_value": q * self.avg_cost[k],
                    "exit_value": gross,
                    "pnl": pnl,
                    "exit_date": day,
                    "day_trade": False,
                    "month": day.to_period("M"),
                }
            )
        buys = np.flatnonzero(diff > 1e-9 * max(equity, 1.0))
        if len(buys):
            rate = slip + costs.swing_fee_rate
            need = float(diff[buys].sum()) * (1 + rate) + costs.brokerage_per_order * len(buys)
            scale = min(1.0, max(self.cash, 0.0) / need) if need > 0 else 0.0
            for k in buys:
                value = diff[k] * scale
                if value <= 0 or pxs[k] <= 0:
                    continue
                fill = pxs[k] * (1 + slip)
                q = value / fill
                fee = costs.fees(value)
                self.avg_cost[k] = (self.avg_cost[k] * self.shares[k] + value + fee) / (
                    self.shares[k] + q
                )
                self.shares[k] += q
                self.cash -= value + fee
                self.costs += fee + q * pxs[k] * slip
                self.orders += 1
                traded += value
        self.traded.append(traded / equity if equity > 0 else 0.0)

    def pay_taxes(self, month: pd.Period, rules: TaxRules) -> None:
        """Pay the DARF of every closed month before ``month`` not yet paid.

        Runs :func:`core.backtest.taxes.tax_report` on the unpaid months only; what earlier
        months hand on (losses carried, as synthetic loss trades in the last paid month;
        withholding credit and a DARF below the minimum, carried here) is passed forward,
        so the figures equal a run on the whole history while each call stays short.
        """
        done = [t for t in self.trades if t["month"] < month]
        if not any(t["month"] not in self.paid_months for t in done):
            return
        rep = tax_report(pd.DataFrame(done), rules)
        for _, row in rep.iterrows():
            if row["month"] in self.paid_months:
                continue
            self.paid_months.add(row["month"])
            darf = float(row["darf"])
            used = min(self.credit, darf)
            self.credit -= used
            darf -= used
            self.cash -= darf
            self.taxes += darf
        last = rep.iloc[-1]
        self.credit += float((rep["withheld"] - rep["credit_used"]).sum())
        # A DARF below R$ 10 still pending is paid now (at most R$ 10: conservative).
        self.cash -= float(last["carried_to_next_month"])
        self.taxes += float(last["carried_to_next_month"])
        carried = []
        for kind, key in ((False, "swing_loss_carried"), (True, "day_trade_loss_carried")):
            if float(last[key]) > 0:
                carried.append(
                    {
                        "direction": "compra",
                        "entry_value": float(last[key]),
                        "exit_value": 0.0,
                        "pnl": -float(last[key]),
                        "exit_date": last["month"].to_timestamp(),
                        "day_trade": kind,
                        "month": last["month"],
                    }
                )
        self.trades = carried + [t for t in self.trades if t["month"] >= month]


def _load(store: Store, candidates: list[str], end) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    adj, value = {}, {}
    for t in candidates:
        b = store.bars(t, None, end)
        if len(b):
            adj[t] = b["adj_close"]
            value[t] = b["close"] * b["volume"]
    bench = store.bars(BENCHMARK, None, end)
    if bench.empty:
        raise InputError("Sem dados do ^BVSP no banco para comparar a carteira.")
    if not adj:
        raise InputError("Nenhuma das ações escolhidas tem dados no período.")
    idx = bench.index
    # The test ends on the last session on which at least half of the stocks have a bar
    # (^BVSP or a freshly updated stock may run past the others).
    have = pd.DataFrame(adj).reindex(idx).notna().sum(axis=1)
    ok = have[have >= max(1, (len(adj) + 1) // 2)]
    if len(ok):
        idx = idx[idx <= ok.index[-1]]
    adj_df = pd.DataFrame(adj).reindex(idx)
    val_df = pd.DataFrame(value).reindex(idx)
    return adj_df, val_df, bench["adj_close"].rename(BENCHMARK)


def _local_map(func, items, on_done=None):
    out = []
    for k, x in enumerate(items):
        out.append(func(x))
        if on_done is not None:
            on_done(k + 1, len(items))
    return out


@dataclass(frozen=True)
class _RebalanceTask:
    """One rebalance's optimisation inputs (picklable: a mapper may ship it to a worker)."""

    day: pd.Timestamp
    universe: list
    window: pd.DataFrame
    bench: pd.Series
    risk_free: float
    cdi: bool
    returns_method: str
    risk_model: str
    spec: PortfolioSpec
    minvar_spec: PortfolioSpec


def _rebalance_targets(task: _RebalanceTask) -> tuple[dict, bool] | str:
    """``({"Carteira": w, "Mínima variância": w}, in_cash)``, or the pt-BR error message."""
    uni, window, spec = task.universe, task.window, task.spec
    targets: dict = {}
    cash = False
    try:
        inp = inputs_from_prices(
            window,
            task.bench.ffill().bfill(),
            risk_free=task.risk_free,
            risk_free_source="CDI" if task.cdi else "usuário",
            returns_method=task.returns_method,
            risk_model=task.risk_model,
        )
        per_asset = {k: v for k, v in spec.per_asset_bounds.items() if k in uni}
        views = {k: v for k, v in (spec.views or {}).items() if k in uni} or None
        rule = replace(spec, per_asset_bounds=per_asset, views=views)
        if rule.objective == "max_sharpe":
            _, r_hi = feasible_return_range(
                expected_returns_for(inp, rule), asset_bounds(inp.tickers, rule)
            )
        if rule.objective == "max_sharpe" and r_hi <= inp.risk_free_arithmetic:
            # No mix beats the CDI on this window: the tangency rule holds cash.
            targets["Carteira"] = pd.Series(0.0, index=uni)
            cash = True
        else:
            targets["Carteira"] = optimize_portfolio(inp, rule).weights
        targets["Mínima variância"] = optimize_portfolio(
            inp, replace(task.minvar_spec, per_asset_bounds=per_asset)
        ).weights
    except PregaoError as exc:
        return (
            f"No teste fora da amostra, na janela de estimação de "
            f"{window.index[0]:%d/%m/%Y} a {window.index[-1]:%d/%m/%Y} "
            f"({len(window)} pregões, rebalanceamento de {task.day:%d/%m/%Y}): {exc}"
        )
    return targets, cash


def walk_forward(
    store: Store,
    spec: PortfolioSpec,
    tickers: Sequence[str] | None = None,
    *,
    universe: str = "liquid",
    n_assets: int | None = None,
    start=None,
    end=None,
    lookback: int = 3 * PERIODS_PER_YEAR,
    rebalance: str = "quarterly",
    returns_method: str = "mean_historical",
    risk_model: str = "ledoit_wolf",
    risk_free: float | None = None,
    costs: B3Costs = B3_DEFAULT,
    taxes: TaxRules | None = TaxRules(),
    capital: float = 100_000.0,
    progress: Progress | None = None,
    mapper: Callable | None = None,
) -> WalkForward:
    """Re-optimise ``spec`` at every rebalance on a rolling window and trade it, with 4 baselines.

    Parameters
    ----------
    store : Store
    spec : PortfolioSpec
        The rule under test (objective, bounds, views...). Minimum variance uses the same
        bounds; 1/N spreads equally over the same universe.
    tickers : sequence of str, optional
        The chosen stocks: the universe for ``universe="chosen"``; for ``"liquid"`` only
        their count sets ``n_assets`` (default 10).
    universe : {"liquid", "chosen"}
        See the module docstring.
    n_assets : int, optional
        Size of the ``"liquid"`` universe (2-50).
    start, end : date-like, optional
        Bounds of the traded span (the first rebalance is on or after ``start``; estimation
        windows may reach back before it).
    lookback : int
        Sessions of each estimation window (and the history a stock needs to enter),
        60-2520; default 756 (3 years).
    rebalance : {"monthly", "quarterly", "none"}
    returns_method, risk_model : str
        Estimators (:mod:`core.portfolio.inputs`).
    risk_free : float, optional
        Annual fraction for every estimate; None = CDI of each estimation window. The
        traded cash and the Sharpe ratios always use the realised daily CDI.
    costs : B3Costs
    taxes : TaxRules or None
        None = no income tax.
    capital : float
        Starting R$ of every series (matters for the R$ 20.000 exemption and brokerage).
    progress : callable, optional
    mapper : callable, optional
        Runs the rebalances' optimisations, which are independent of each other
        (:data:`core.backtest.optimize.Mapper`; e.g. over Celery workers); None = in this
        process. The result does not depend on it.

    Returns
    -------
    WalkForward

    Raises
    ------
    InputError
        Bad parameters; no rebalance date with enough history; an optimisation that fails
        on an estimation window (the message says which window).
    """
    if universe not in UNIVERSES:
        raise InputError(f"Universo desconhecido {universe!r}; use: {', '.join(UNIVERSES)}.")
    if rebalance not in REBALANCE:
        raise InputError(
            f"Rebalanceamento desconhecido {rebalance!r}; use: {', '.join(REBALANCE)}."
        )
    if not 60 <= int(lookback) <= 10 * PERIODS_PER_YEAR:
        raise InputError("A janela de estimação deve ter entre 60 e 2.520 pregões.")
    if not np.isfinite(capital) or capital <= 0:
        raise InputError("O capital do teste deve ser positivo.")
    lookback = int(lookback)
    chosen = [t for t in dict.fromkeys(str(t).strip().upper() for t in (tickers or [])) if t]
    chosen = [t for t in chosen if t != BENCHMARK]
    if universe == "chosen":
        if len(chosen) < 2:
            raise InputError("Escolha pelo menos 2 ações para o teste fora da amostra.")
        candidates = chosen
        n = len(chosen)
    else:
        n = int(n_assets or (len(chosen) if len(chosen) >= 2 else 10))
        if not 2 <= n <= 50:
            raise InputError("O universo do teste deve ter entre 2 e 50 ações.")
        candidates = store.tickers("stock")
    if progress:
        progress(0.02, "Teste fora da amostra: lendo preços")
    adj, tv, bench = _load(store, candidates, end)
    idx = adj.index
    if start is not None and end is not None and pd.Timestamp(start) > pd.Timestamp(end):
        raise InputError("Janela invertida: a data inicial é depois da final.")
    lo = 0 if start is None else int(idx.searchsorted(pd.Timestamp(start)))
    liq = _Liquidity(tv.reindex(columns=adj.columns), PERIODS_PER_YEAR)
    counts = adj.notna().cumsum().to_numpy()
    cols = list(adj.columns)
    # Start when the whole universe exists: n stocks (liquid) or 2 of the chosen ones.
    need = n if universe == "liquid" else 2

    def eligible(i: int) -> list[str]:
        if universe == "liquid":
            return liq.top(i, n, lookback)
        known = counts[i - 1] if i > 0 else np.zeros(len(cols))
        return [t for k, t in enumerate(cols) if known[k] >= lookback]

    first = None
    for i in range(max(lo, lookback), len(idx)):
        k_ok = int((counts[i - 1] >= lookback).sum())
        if k_ok >= need and len([t for t in eligible(i) if np.isfinite(adj[t].iloc[i])]) >= need:
            first = i
            break
    if first is None or len(idx) - first < 20:
        raise InputError(
            f"Nenhuma data de rebalanceamento com {need} ações com {lookback} pregões "
            "de história antes dela e 20 pregões de teste depois. Reduza a janela de "
            "estimação, amplie o período ou escolha ações com mais história."
        )
    rows = _rebalance_rows(idx, first, rebalance)
    test_idx = idx[first:]
    cdi = cdi_daily_returns(store, test_idx).to_numpy()
    col = {t: k for k, t in enumerate(cols)}
    px_all = adj.ffill().to_numpy()
    books = {name: _Book(len(cols), capital) for name in SERIES[:3]}
    equity = {name: np.empty(len(test_idx)) for name in SERIES[:3]}
    # "liquid" only: 1/N over today's most liquid stocks, to measure the hindsight bias.
    today = liq.top(len(idx), n, lookback) if universe == "liquid" else []
    if today:
        books["_hindsight"] = _Book(len(cols), capital)
        equity["_hindsight"] = np.empty(len(test_idx))
    minvar_spec = PortfolioSpec(
        objective="min_volatility", bounds=spec.bounds, per_asset_bounds=spec.per_asset_bounds
    )
    rebal_set = set(rows)
    records: list[dict] = []
    in_cash: list[str] = []
    first_window: dict | None = None
    last_w = pd.Series(dtype=float)
    # Pass 1: every rebalance's estimation window and optimisation (independent chunks).
    plans: dict[int, tuple] = {}
    tasks: list[_RebalanceTask] = []
    for i in rows:
        day = idx[i]
        uni = [t for t in eligible(i) if np.isfinite(adj[t].iloc[i])]
        window = adj[uni].iloc[max(0, i - lookback) : i].dropna(how="any")
        if len(window) < 60:
            plans[i] = (
                "error",
                f"No teste fora da amostra, a janela de estimação antes de "
                f"{day:%d/%m/%Y} tem só {len(window)} pregões em comum (mínimo 60).",
            )
            continue
        rf = (
            cdi_annual(store, window.index[0], window.index[-1])
            if risk_free is None
            else float(risk_free)
        )
        plans[i] = ("task", len(tasks))
        tasks.append(
            _RebalanceTask(
                day, uni, window, bench.reindex(window.index), rf, risk_free is None,
                returns_method, risk_model, spec, minvar_spec,
            )
        )  # fmt: skip

    def _planned(k: int, n_tasks: int) -> None:
        if progress:
            progress(
                0.05 + 0.8 * k / max(n_tasks, 1),
                f"Teste fora da amostra: otimização {k} de {n_tasks}",
            )

    solved = (mapper or _local_map)(_rebalance_targets, tasks, _planned)
    for i in rows:  # the first failing rebalance, in date order, is the error
        if plans[i][0] == "error":
            raise InputError(plans[i][1])
        if isinstance(solved[plans[i][1]], str):
            raise InputError(solved[plans[i][1]])
    for j, i in enumerate(range(first, len(idx))):
        day = idx[i]
        px = px_all[i]
        if j > 0:
            for b in books.values():
                b.cash *= 1.0 + cdi[j]
            if taxes is not None and day.month != idx[i - 1].month:
                for b in books.values():
                    b.pay_taxes(day.to_period("M"), taxes)
        if i in rebal_set:
            task = tasks[plans[i][1]]
            uni, window = task.universe, task.window
            span = _span(window.index)
            if first_window is None:
                first_window = span
            targets, cash = solved[plans[i][1]]
            targets = dict(targets)
            if cash:
                in_cash.append(day.strftime("%d/%m/%Y"))
            targets["Pesos iguais"] = pd.Series(1.0 / len(uni), index=uni)
            if today:
                known = [t for t in today if np.isfinite(adj[t].iloc[i])]
                targets["_hindsight"] = pd.Series(1.0 / max(len(known), 1), index=known)
            for name, w in targets.items():
                vec = np.zeros(len(cols))
                for t, x in w.items():
                    vec[col[t]] = float(x)
                if (vec < 0).any():
                    # Long-short rules: the book holds the long side rescaled (no BTC here).
                    vec = np.clip(vec, 0.0, None)
                    vec = vec / vec.sum() if vec.sum() > 0 else vec
                books[name].rebalance(vec, px, day, costs, taxes)
            last_w = targets["Carteira"]
            records.append(
                {
                    "date": day.strftime("%Y-%m-%d"),
                    "estimation": span,
                    "universe": list(uni),
                    "weights": {t: float(x) for t, x in last_w.items()},
                }
            )
            if progress:
                progress(
                    0.85 + 0.1 * (j + 1) / len(test_idx),
                    f"Teste fora da amostra: rebalanceamento {len(records)} de {len(rows)}",
                )
        for name, b in books.items():
            equity[name][j] = b.value(px)
    # Pay the tax of the last month too, so every series ends net of what it owes.
    if taxes is not None:
        nxt = (test_idx[-1].to_period("M")) + 1
        for name, b in books.items():
            before = b.cash
            b.pay_taxes(nxt, taxes)
            equity[name][-1] -= before - b.cash
    bench_t = bench.reindex(test_idx).ffill().to_numpy()
    hind_eq = equity.pop("_hindsight", None)
    hind_book = books.pop("_hindsight", None)
    eq = pd.DataFrame(
        {
            **equity,
            BENCHMARK: capital * bench_t / bench_t[0],
            "CDI": capital * np.cumprod(np.r_[1.0, 1.0 + cdi[1:]]),
        },
        index=test_idx,
    )[list(SERIES)]
    drawdown = eq.apply(lambda s: pd.Series(_drawdown(s.to_numpy()), index=s.index))
    rf_d = pd.Series(cdi, index=test_idx)
    stats = {c: series_stats(eq[c], rf_d) for c in eq.columns}
    for name, b in books.items():
        stats[name].update(
            costs=float(b.costs),
            taxes=float(b.taxes),
            orders=int(b.orders),
            turnover=float(np.mean(b.traded[1:])) if len(b.traded) > 1 else 0.0,
        )
    active = {
        "vs_benchmark": _active_ci(eq["Carteira"], eq[BENCHMARK]),
        "vs_equal_weight": _active_ci(eq["Carteira"], eq["Pesos iguais"]),
        "vs_min_variance": _active_ci(eq["Carteira"], eq["Mínima variância"]),
    }
    ex = eq.pct_change().iloc[1:].sub(rf_d.iloc[1:], axis=0)
    sharpe_tests = {
        "vs_equal_weight": sharpe_difference_test(ex["Carteira"], ex["Pesos iguais"]),
        "vs_min_variance": sharpe_difference_test(ex["Carteira"], ex["Mínima variância"]),
    }
    notes = [SURVIVORSHIP_NOTE]
    hindsight: dict = {}
    if universe == "liquid":
        notes.append(
            f"Universo: as {n} ações mais líquidas em cada rebalanceamento, com dados só até "
            "o pregão anterior (sem retrospectiva), e não a lista escolhida hoje."
        )
    if hind_eq is not None and hind_book is not None:
        h = series_stats(pd.Series(hind_eq, index=test_idx), rf_d)
        h.update(costs=float(hind_book.costs), taxes=float(hind_book.taxes))
        hindsight = {"universe": today, "equal_weight": h}
        notes.append(
            f"Com retrospectiva (as {n} mais líquidas de hoje desde o início), pesos iguais "
            f"teriam CAGR de {pct(h['cagr'], 1)} em vez de {pct(stats['Pesos iguais']['cagr'], 1)}"
            ": a diferença mede o viés de escolher o universo depois de ver o resultado."
        )
    else:
        notes.append(
            "Universo: as ações escolhidas hoje. Se a escolha usou informação do período de "
            "teste (liquidez ou alta recente), o resultado fica otimista."
        )
    if in_cash:
        notes.append(
            f"Em {len(in_cash)} de {len(records)} rebalanceamentos nenhuma carteira superava o "
            f"CDI na janela de estimação: a regra de máximo Sharpe ficou 100% no CDI até o "
            f"rebalanceamento seguinte (primeiro: {in_cash[0]})."
        )
    notes.append(
        "Preços ajustados; custos da B3 e IR de 15% sobre ganhos (isenção de R$ 20 mil em "
        "vendas no mês) pagos pelas carteiras; ^BVSP e CDI sem custos nem IR."
    )
    params = {
        "tickers": chosen,
        "universe": universe,
        "n_assets": n,
        "start": None if start is None else pd.Timestamp(start).strftime("%Y-%m-%d"),
        "end": None if end is None else pd.Timestamp(end).strftime("%Y-%m-%d"),
        "lookback": lookback,
        "rebalance": rebalance,
        "returns_method": returns_method,
        "risk_model": risk_model,
        "risk_free": risk_free,
        "capital": float(capital),
        "costs": costs.to_dict(),
        "taxes": taxes is not None,
        **spec.to_dict(),
    }
    if progress:
        progress(1.0, "Teste fora da amostra concluído")
    return WalkForward(
        equity=eq,
        drawdown=drawdown,
        stats=stats,
        active=active,
        sharpe_tests=sharpe_tests,
        rebalances=records,
        weights=last_w.rename("weight"),
        train=first_window or {},
        test=_span(test_idx),
        parameters=params,
        notes=notes,
        hindsight=hindsight,
    )
