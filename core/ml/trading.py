"""Trading view of a model: long when P(up) ≥ threshold, out of sample, with B3 costs.

For each ticker and each out-of-sample decision date ``t`` (after the close): position
``x_t = 1`` if ``p_up_t ≥ threshold`` else 0 (cash, earning nothing — conservative: CDI is
not credited), held over the next session, earning ``fwd_ret_t = C_{t+1}/C_t - 1``
(adjusted close). Every change of position costs ``swing_fee_rate + slippage_bps / 10⁴``
of the position's value (:class:`core.backtest.costs.B3Costs`: B3 fees and slippage; the
fixed brokerage is charged as ``brokerage_per_order / capital``). Buy-and-hold is long on
every one of the same dates, paying one entry and one exit. With several tickers the
portfolio return of a date is the equal-weighted mean over the tickers predicted that date.

Metrics: total return (fraction), annualised return ``(1+R)^(252/n) - 1``, annualised
Sharpe ``mean/std · √252`` of daily returns (risk-free 0, stated), maximum drawdown
(fraction, ≤ 0), number of trades (entries), exposure (fraction of days long).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.backtest.costs import B3_DEFAULT, B3Costs
from core.errors import InputError

__all__ = ["trading_view", "performance", "ModelSignals", "signal_backtest"]

PERIODS_PER_YEAR = 252


def performance(returns: pd.Series, positions: pd.Series | None = None) -> dict:
    """Total/annual return, Sharpe (rf 0), max drawdown, trades and exposure of daily returns."""
    r = returns.fillna(0.0).to_numpy(dtype="float64")
    n = len(r)
    if n == 0:
        return {
            "total_return": 0.0,
            "annual_return": 0.0,
            "sharpe": float("nan"),
            "max_drawdown": 0.0,
            "trades": 0,
            "exposure": 0.0,
            "n_days": 0,
        }
    eq = np.cumprod(1 + r)
    total = float(eq[-1] - 1)
    annual = float((1 + total) ** (PERIODS_PER_YEAR / n) - 1) if total > -1 else -1.0
    sd = r.std(ddof=1) if n > 1 else 0.0
    sharpe = float(r.mean() / sd * np.sqrt(PERIODS_PER_YEAR)) if sd > 0 else float("nan")
    peak = np.maximum.accumulate(np.concatenate([[1.0], eq]))[1:]
    mdd = float((eq / peak - 1).min())
    out = {
        "total_return": total,
        "annual_return": annual,
        "sharpe": sharpe,
        "max_drawdown": mdd,
        "n_days": n,
    }
    if positions is not None:
        out["trades"] = int(positions.get("entries", 0))
        out["exposure"] = float(positions.get("exposure", 0.0))
    return out


def trading_view(
    oos: pd.DataFrame,
    threshold: float = 0.55,
    costs: B3Costs = B3_DEFAULT,
    *,
    capital: float = 100_000.0,
) -> dict:
    """Out-of-sample long/flat strategy from a model's predictions vs buy-and-hold.

    Parameters
    ----------
    oos : pandas.DataFrame
        Columns ``date, ticker, p_up, fwd_ret`` (``ModelEvaluation.oos``).
    threshold : float
        Go long when ``p_up ≥ threshold`` (0..1).
    costs : B3Costs
        Fees and slippage.
    capital : float
        R$ per ticker, only to turn the fixed brokerage into a fraction.

    Returns
    -------
    dict
        ``strategy`` and ``buy_hold``: :func:`performance` dicts; ``equity``: DataFrame
        ``date, strategy, buy_hold`` (growth of R$ 1); ``threshold``.

    Raises
    ------
    InputError
        On a threshold outside [0, 1] or missing columns.
    """
    if not 0 <= threshold <= 1:
        raise InputError("O limiar de probabilidade deve estar entre 0 e 1.")
    missing = {"date", "ticker", "p_up", "fwd_ret"} - set(oos.columns)
    if missing:
        raise InputError(f"Previsões sem as colunas {sorted(missing)}.")
    unit = costs.swing_fee_rate + costs.slippage_bps / 10_000 + costs.brokerage_per_order / capital
    parts, bh_parts = [], []
    entries = 0
    long_days = 0
    for _, g in oos.sort_values("date").groupby("ticker", sort=True):
        pos = (g["p_up"].to_numpy() >= threshold).astype(float)
        prev = np.concatenate([[0.0], pos[:-1]])
        nxt_exit = np.zeros_like(pos)
        nxt_exit[-1] = pos[-1]  # close the position at the end
        ret = pos * g["fwd_ret"].to_numpy() - unit * (np.abs(pos - prev) + nxt_exit)
        entries += int(((pos == 1) & (prev == 0)).sum())
        long_days += int(pos.sum())
        parts.append(pd.Series(ret, index=pd.DatetimeIndex(g["date"])))
        bh = g["fwd_ret"].to_numpy().copy()
        bh[0] -= unit
        bh[-1] -= unit
        bh_parts.append(pd.Series(bh, index=pd.DatetimeIndex(g["date"])))
    strat = pd.concat(parts).groupby(level=0).mean().sort_index()
    bh = pd.concat(bh_parts).groupby(level=0).mean().sort_index()
    equity = pd.DataFrame(
        {
            "date": strat.index,
            "strategy": (1 + strat).cumprod().to_numpy(),
            "buy_hold": (1 + bh).cumprod().to_numpy(),
        }
    )
    return {
        "threshold": threshold,
        "strategy": performance(
            strat, {"entries": entries, "exposure": long_days / max(len(oos), 1)}
        ),
        "buy_hold": performance(bh, {"entries": oos["ticker"].nunique(), "exposure": 1.0}),
        "equity": equity,
    }


# --------------------------------------------------------------------------- engine backtest
from core.strategies.base import Param, Strategy, empty_signals  # noqa: E402


class ModelSignals(Strategy):
    """Long/flat signals of a model's out-of-sample predictions, for the backtest engine.

    For each fold of the evaluation, the fold's fitted model predicts P(up) on the dates of
    that fold's test window only, from features of the bars it is given (causal:
    :func:`core.ml.features.build_features`); long while ``P(up) ≥ threshold``, flat
    otherwise and outside the test windows. The engine fills at the next session's open,
    with its B3 costs, lots, taxes and the CDI.
    """

    name = "ml_oos_signals"
    label = "Sinais do modelo (fora da amostra)"
    params = (
        Param("threshold", "float", 0.55, 0.5, 0.95, step=0.01, label="Probabilidade mínima"),
    )

    def __init__(
        self,
        fold_models=(),
        *,
        features=(),
        lookback: int = 1,
        columns=(),
        index_bars: pd.DataFrame | None = None,
        up_class: int = 1,
        **params,
    ) -> None:
        super().__init__(**params)
        self.fold_models = list(fold_models)
        self.features = list(features)
        self.lookback = int(lookback)
        self.columns = list(columns)
        self.index_bars = index_bars
        self.up_class = up_class

    def warmup(self) -> int:
        """No warm-up of its own (the features' warm-up gives NaN = flat)."""
        return 0

    def p_up(self, bars: pd.DataFrame) -> pd.Series:
        """P(up) of each bar inside a fold's test window (NaN elsewhere)."""
        from core.ml.features import build_features

        X = build_features(bars, self.index_bars, features=self.features, lookback=self.lookback)
        X = X[self.columns]
        ok = X.notna().all(axis=1)
        out = pd.Series(np.nan, index=bars.index)
        for pipe, a, b in self.fold_models:
            sel = ok & (X.index >= a) & (X.index <= b)
            if sel.any():
                proba = pipe.predict_proba(X[sel])
                classes = list(
                    pipe.label_map_
                    if hasattr(pipe, "label_map_")
                    else pipe.named_steps["model"].classes_
                )
                if self.up_class in classes:
                    out[sel] = proba[:, classes.index(self.up_class)]
        return out

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        """Long while P(up) ≥ threshold (data up to the close of each bar)."""
        p = self.p_up(bars)
        long = (p >= self.p["threshold"]).to_numpy()
        prev = np.concatenate([[False], long[:-1]])
        sig = empty_signals(bars.index)
        sig["entry_long"] = long & ~prev
        sig["exit_long"] = ~long & prev
        return sig


def _perf_from_equity(eq: pd.Series, rf: pd.Series | None, trades: int, exposure: float) -> dict:
    r = eq.pct_change().dropna()
    out = performance(r, {"entries": trades, "exposure": exposure})
    if rf is not None and len(r) > 1:
        ex = r - rf.reindex(r.index).fillna(0.0)
        sd = ex.std(ddof=1)
        out["sharpe"] = (
            float(ex.mean() / sd * np.sqrt(PERIODS_PER_YEAR)) if sd > 0 else float("nan")
        )
    return out


def signal_backtest(
    store,
    ev,
    *,
    tickers: list[str],
    features: list[str],
    lookback: int,
    columns: list[str],
    index_bars: pd.DataFrame | None,
    up_class: int = 1,
    threshold: float = 0.55,
    cash: float = 100_000.0,
) -> dict:
    """The model's out-of-sample signals backtested on the engine (costs, taxes, CDI).

    One portfolio run of :func:`core.backtest.runner.run_backtest` with
    :class:`ModelSignals` over the tradable ``tickers`` (the index is skipped), equal
    percentage sizing ``100 / n`` % of equity per position, over the out-of-sample window.

    Parameters
    ----------
    store : Store
    ev : ModelEvaluation
        With ``fold_models``.
    tickers : list of str
    features, lookback, columns : the dataset's feature spec.
    index_bars : pandas.DataFrame or None
    threshold : float
        Long when P(up) ≥ this.
    cash : float
        Initial R$.

    Returns
    -------
    dict
        Same keys as :func:`trading_view` (``threshold, strategy, buy_hold, equity``) plus
        ``engine`` True, ``cdi`` (performance of cash at the CDI), ``taxes_brl``,
        ``costs_brl``, ``after_tax_return`` (fraction) and ``sharpe_vs`` ``"CDI"``; the
        Sharpe ratios are against the CDI.

    Raises
    ------
    InputError
        On no tradable ticker or a window too short.
    """
    from core.backtest.engine import EngineConfig
    from core.backtest.runner import run_backtest
    from core.backtest.sizing import Sizing

    tradable = [t for t in tickers if not t.startswith("^")]
    if not tradable or not ev.fold_models:
        raise InputError("Sem ativos negociáveis para o backtest dos sinais.")
    start = min(a for _, a, _ in ev.fold_models)
    end = max(b for _, _, b in ev.fold_models)
    strat = ModelSignals(
        ev.fold_models,
        features=features,
        lookback=lookback,
        columns=columns,
        index_bars=index_bars,
        up_class=up_class,
        threshold=threshold,
    )
    cfg = EngineConfig(cash=cash, sizing=Sizing(method="percent", value=100.0 / len(tradable)))
    res = run_backtest(store, strat, tradable, start=start, end=end, config=cfg)
    from core.rates import cdi_daily_returns

    eq = res.equity
    rf = cdi_daily_returns(store, eq.index)
    m = res.metrics
    bh = res.benchmarks["buy_hold"]
    cdi = res.benchmarks["cdi"]
    strategy = _perf_from_equity(
        eq, rf, int(m.get("n_trades") or 0), float(m.get("exposure_pct") or 0) / 100
    )
    net = m.get("net_profit_brl")
    after = m.get("after_tax_profit_brl")
    return {
        "threshold": threshold,
        "engine": True,
        "sharpe_vs": "CDI",
        "strategy": strategy,
        "buy_hold": _perf_from_equity(bh, rf, len(tradable), 1.0),
        "cdi": {**_perf_from_equity(cdi, None, 0, 0.0), "sharpe": float("nan")},  # vs itself
        "taxes_brl": float(m.get("taxes_brl") or 0.0),
        "costs_brl": float(m.get("costs_brl") or 0.0),
        "after_tax_return": float(after) / cash if after is not None else float("nan"),
        "net_return": float(net) / cash if net is not None else float("nan"),
        "equity": pd.DataFrame(
            {
                "date": eq.index,
                "strategy": (eq / cash).to_numpy(),
                "buy_hold": (bh / bh.iloc[0]).to_numpy(),
                "cdi": (cdi / cdi.iloc[0]).to_numpy(),
            }
        ),
    }
