"""The backtest facade every UI calls: store → bars → strategy → engine → metrics, taxes.

Prices: by default the engine trades **dividend-adjusted** OHLC (each bar's open, high, low
and close scaled by ``adj_close / close``), so a position's P&L includes the dividends it
would have received and buy-and-hold is a total return. ``adjusted=False`` trades the
quoted prices (split-adjusted, no dividends).

Signals are computed over the whole stored history up to ``end`` (indicator warm-up comes
from the bars before ``start``); orders fill only from ``start`` on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.backtest.engine import EngineConfig, run_engine
from core.backtest.metrics import compute_metrics, drawdown, monthly_returns
from core.backtest.taxes import TaxRules, tax_report, total_tax
from core.data.store import Store
from core.errors import InputError, UnknownTickerError
from core.rates import cdi_daily_returns
from core.strategies import Strategy, get_strategy

__all__ = [
    "BacktestResult",
    "load_bars",
    "adjust_bars",
    "run_backtest",
    "compute_signals",
    "BENCHMARK",
]

#: The index every backtest is compared against.
BENCHMARK = "^BVSP"

Progress = Callable[[float, str], None]


@dataclass
class BacktestResult:
    """A finished backtest.

    Attributes
    ----------
    strategy : str
    params : dict
        Complete, validated strategy parameters.
    tickers : list of str
    start, end : pandas.Timestamp
        Trading window (first and last session).
    config : EngineConfig
    equity : pandas.Series
        R$ per session over the window (pre-tax).
    benchmarks : pandas.DataFrame
        Same index; columns ``buy_hold`` (equal-weight buy-and-hold of the tickers, R$),
        ``bvsp`` (^BVSP scaled to the initial cash, R$) and ``cdi`` (cash at the CDI, R$).
    drawdown : pandas.Series
        Fraction ≤ 0.
    exposure : pandas.Series
    trades : pandas.DataFrame
    metrics : dict
        See :data:`core.backtest.metrics.METRIC_INFO`.
    monthly : pandas.DataFrame
        Monthly returns in %, year × month.
    taxes : pandas.DataFrame
        Monthly tax report (:data:`core.backtest.taxes.TAX_COLUMNS`).
    adjusted : bool
    run_id : int or None
        Set once stored (:func:`core.backtest.runs.save_run`).
    """

    strategy: str
    params: dict
    tickers: list[str]
    start: pd.Timestamp
    end: pd.Timestamp
    config: EngineConfig
    equity: pd.Series
    benchmarks: pd.DataFrame
    drawdown: pd.Series
    exposure: pd.Series
    trades: pd.DataFrame
    metrics: dict
    monthly: pd.DataFrame
    taxes: pd.DataFrame
    adjusted: bool = True
    run_id: int | None = None
    extra: dict = field(default_factory=dict)

    def to_json_dict(self) -> dict:
        """The CLI's ``--json`` shape: ``{"metrics", "trades", "equity", ...}``."""
        trades = [
            {
                "ticker": r.ticker,
                "direction": r.direction,
                "entry_date": pd.Timestamp(r.entry_date).strftime("%Y-%m-%d"),
                "entry_price": float(r.entry_price),
                "exit_date": pd.Timestamp(r.exit_date).strftime("%Y-%m-%d"),
                "exit_price": float(r.exit_price),
                "shares": int(r.shares),
                "pnl": float(r.pnl),
                "fees": float(r.fees),
                "exit_reason": r.exit_reason,
            }
            for r in self.trades.itertuples(index=False)
        ]
        equity = [
            {"date": d.strftime("%Y-%m-%d"), "equity": float(v)} for d, v in self.equity.items()
        ]
        return {
            "run_id": self.run_id,
            "strategy": self.strategy,
            "params": self.params,
            "tickers": self.tickers,
            "start": self.start.strftime("%Y-%m-%d"),
            "end": self.end.strftime("%Y-%m-%d"),
            "metrics": self.metrics,
            "trades": trades,
            "equity": equity,
        }


def adjust_bars(bars: pd.DataFrame) -> pd.DataFrame:
    """OHLC scaled by ``adj_close / close`` (dividend-adjusted candles; volume unchanged)."""
    out = bars.copy()
    factor = (bars["adj_close"] / bars["close"]).where(bars["close"] > 0, 1.0)
    for c in ("open", "high", "low", "close"):
        out[c] = bars[c] * factor
    return out


def _parse_date(x, name: str):
    if x is None or x == "":
        return None
    try:
        return pd.Timestamp(x)
    except (ValueError, TypeError):
        raise InputError(f"Data inválida em {name}: {x!r} (use AAAA-MM-DD).") from None


def load_bars(
    store: Store, tickers: list[str], end=None, *, adjusted: bool = True
) -> dict[str, pd.DataFrame]:
    """Bars of each ticker from the first stored session to ``end``.

    Raises
    ------
    UnknownTickerError
        When a ticker is not stored.
    InputError
        When a ticker has no bars.
    """
    out = {}
    for t in tickers:
        b = store.bars(t, None, end)
        if b.empty:
            raise InputError(f"{t} não tem barras armazenadas até {end or 'hoje'}.")
        out[t.upper()] = adjust_bars(b) if adjusted else b
    return out


def compute_signals(strategy: Strategy, bars: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The strategy's signal frame for each ticker."""
    return {t: strategy.signals(b) for t, b in bars.items()}


def _benchmarks(
    store: Store,
    bars: dict[str, pd.DataFrame],
    index: pd.DatetimeIndex,
    cash: float,
    rf: pd.Series,
) -> pd.DataFrame:
    closes = (
        pd.concat({t: b["close"] for t, b in bars.items()}, axis=1, sort=True)
        .reindex(index)
        .ffill()
    )
    # Equal R$ per ticker; a ticker that lists later keeps its share in cash until its first
    # close and is bought then (no jump on the listing day).
    first = closes.bfill().iloc[0]
    norm = (closes / first).fillna(1.0)
    buy_hold = cash * norm.mean(axis=1)
    try:
        bv = store.bars(BENCHMARK, index[0], index[-1])["close"]
        bv = bv.reindex(index).ffill().bfill()
        bvsp = cash * bv / bv.iloc[0]
    except (UnknownTickerError, IndexError):
        bvsp = pd.Series(np.nan, index=index)
    growth = np.cumprod(1.0 + np.r_[0.0, rf.to_numpy()[1:]])
    cdi = pd.Series(cash * growth, index=index)
    return pd.DataFrame({"buy_hold": buy_hold, "bvsp": bvsp, "cdi": cdi}, index=index)


def run_backtest(
    store: Store,
    strategy: str | Strategy,
    tickers: list[str] | str,
    start=None,
    end=None,
    params: dict | None = None,
    config: EngineConfig | None = None,
    *,
    adjusted: bool = True,
    tax_rules: TaxRules | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest one strategy on one ticker or a portfolio, with metrics and the tax report.

    Parameters
    ----------
    store : Store
    strategy : str or Strategy
        A name from :data:`core.strategies.STRATEGIES` (built with ``params``) or an
        instance (e.g. ``MlFilter(model=...)``).
    tickers : list of str or str
    start, end : date-like, optional
        Trading window (default: the whole stored history).
    params : dict, optional
        Strategy parameters (strings accepted).
    config : EngineConfig, optional
        Cash, costs, sizing, stops, shorting and position cap (default: R$ 100.000, B3
        costs, all-in, lots of 100 with fractional remainder).
    adjusted : bool
        Trade dividend-adjusted prices (default) or quoted prices.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    BacktestResult

    Raises
    ------
    InputError, UnknownTickerError
        Bad parameters, tickers or window; ``NoModelError`` for ``ml_filter`` without a
        promoted model.
    """
    prog = progress or (lambda f, m="": None)
    if isinstance(tickers, str):
        tickers = [t for t in tickers.replace(",", " ").split() if t]
    tickers = [t.strip().upper() for t in tickers if t and t.strip()]
    if not tickers:
        raise InputError("Escolha ao menos um ativo.")
    if len(set(tickers)) != len(tickers):
        raise InputError("Ativos repetidos na lista.")
    start_ts, end_ts = _parse_date(start, "início"), _parse_date(end, "fim")
    if start_ts is not None and end_ts is not None and start_ts >= end_ts:
        raise InputError("O início do período deve ser anterior ao fim.")
    strat = strategy if isinstance(strategy, Strategy) else get_strategy(strategy, **(params or {}))
    config = config or EngineConfig()
    if config.sizing.method == "risk" and config.stop_loss <= 0 and not strat.sets_stops:
        raise InputError(
            "Dimensionamento por risco precisa de um stop: defina o stop-loss (%) ou use uma "
            "estratégia que define stops (wave3)."
        )
    prog(0.05, "Carregando barras")
    strat.prepare(store)
    bars = load_bars(store, tickers, end_ts, adjusted=adjusted)
    prog(0.3, "Calculando sinais")
    sigs = compute_signals(strat, bars)
    prog(0.55, "Simulando ordens")
    res = run_engine(bars, sigs, config, start=start_ts)
    eq = res.window_equity
    if len(eq) < 2:
        raise InputError("Período curto demais para um backtest (menos de 2 pregões).")
    prog(0.75, "Calculando métricas")
    rf = cdi_daily_returns(store, eq.index)
    bench = _benchmarks(store, bars, eq.index, config.cash, rf)
    trades = res.trades
    taxes = tax_report(trades, tax_rules)
    metrics = compute_metrics(
        eq,
        trades,
        rf=rf,
        exposure=res.window_exposure,
        buy_hold=bench["buy_hold"],
        bvsp=bench["bvsp"],
        taxes_brl=total_tax(taxes),
    )
    prog(1.0, "Pronto")
    return BacktestResult(
        strategy=strat.name,
        params=dict(strat.p),
        tickers=tickers,
        start=res.start,
        end=eq.index[-1],
        config=config,
        equity=eq,
        benchmarks=bench,
        drawdown=drawdown(eq),
        exposure=res.window_exposure,
        trades=trades,
        metrics=metrics,
        monthly=monthly_returns(eq),
        taxes=taxes,
        adjusted=adjusted,
    )
