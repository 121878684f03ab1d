"""The backtest facade every UI calls: store → bars → strategy → engine → metrics, taxes.

Price modes (every run says which one it used: :attr:`BacktestResult.price_mode`)
-------------------------------------------------------------------------------
``traded`` (default) — what a broker statement shows: orders fill at the **as-traded**
prices of :meth:`Store.bars`; the corporate actions of
:func:`core.data.actions.load_actions` act on their ex-dates: splits, reverse splits and
bonus shares change the position, cash dividends (exempt, Lei 9.249/1995 art. 10) and JCP
(15 % withheld at source, art. 9 § 2º) are credited as cash, and shorts pay them to the
lender. Signals are computed on the adjusted series (indicators see no artificial gaps on
ex-dates) — the engine only *fills* at traded prices.

``adjusted`` — a labelled approximation: the engine trades dividend-adjusted OHLC (each bar
scaled by ``adj_close / close``), so P&L embeds the proventos; the tax report removes that
embedded part from the taxable result (proventos are never taxed as trading gains).

A split event is applied to positions only where the traded series shows it (the close
falls by about the ratio on the ex-date): a series that is already split-adjusted (Yahoo's
``Close``) has no jump, and applying the split again would double it.

Signals are computed over the whole stored history up to ``end`` (indicator warm-up comes
from the bars before ``start``); orders fill only from ``start`` on.

Intervals, day trade and futures
--------------------------------
``interval`` (``1d`` default, or ``1min`` ... ``60min``) picks the bars: stored ones, else
resampled inside sessions from a finer stored series (:func:`core.data.resample.bars_at`).
On intraday bars a session is a B3 calendar day (the store only holds bars of BVMF sessions),
so what is a day trade, borrow and the CDI follow sessions, not bars; metrics annualise per
bar with ``252 × bars per session`` (:func:`core.backtest.metrics.compute_metrics`).

``EngineConfig.day_trade`` flattens every position at the close of the session's last bar
ending ``flatten_minutes`` before the session's end (the end of its last bar in the data),
refuses later entries and drops entry signals of those bars (they would fill the next
morning): nothing is held overnight (:func:`core.backtest.engine.flatten_codes`).

Futures (kind ``future`` or a ``WIN``/``WDO`` ticker, :mod:`core.data.futures`) trade whole
contracts: the engine sees prices in R$ per contract (points × point value) so that
``P&L = points × point value × contracts``; entries need the margin per contract in free
cash; B3 fees are per contract (day-trade rate when opened and closed in one session);
slippage is in ticks. Trades come back in points (``entry_price``, ``exit_price``), with
``qty`` (contracts), ``points`` (the move captured, per contract) and ``pnl`` in R$; the tax
report treats them as kind ``future`` (day trades 20 % with 1 % IRRF, losses offset only
day-trade gains). A continuous series (``WINFUT``) joins contract months: a position held
across a roll would see the roll's price difference, which day-trade mode never does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.backtest.engine import (
    ContractTerms,
    EngineConfig,
    EngineResult,
    action_arrays,
    flatten_codes,
    run_engine,
)
from core.backtest.metrics import (
    compute_metrics,
    drawdown,
    month_codes,
    monthly_returns,
    trade_rows,
)
from core.backtest.taxes import TaxRules, build_tax_report
from core.data.store import Store
from core.errors import InputError, UnknownTickerError
from core.frames import frame_from_columns
from core.rates import cdi_daily_returns
from core.strategies import Strategy, get_strategy

__all__ = [
    "BacktestResult",
    "trade_json_rows",
    "MarketInputs",
    "load_bars",
    "load_inputs",
    "adjust_bars",
    "run_backtest",
    "compute_signals",
    "finish_result",
    "run_on_inputs",
    "BENCHMARK",
    "PRICE_MODES",
    "BACKTEST_INTERVALS",
    "session_codes",
]

#: Bar intervals a backtest runs on.
BACKTEST_INTERVALS: tuple[str, ...] = ("1min", "5min", "15min", "30min", "60min", "1d")

#: Price modes and their pt-BR labels (shown with every run).
PRICE_MODES: dict[str, str] = {
    "traded": "preços negociados",
    "adjusted": "preços ajustados por proventos (aproximação)",
}

#: The index every backtest is compared against.
BENCHMARK = "^BVSP"

Progress = Callable[[float, str], None]


def _no_progress(fraction: float, message: str = "") -> None:
    """The progress callback of a run nobody watches."""


def trade_json_rows(trades: pd.DataFrame, interval: str = "1d") -> list[dict]:
    """Closed trades in the shape of ``backtest --json``'s ``trades`` (one implementation,
    also used by ``paper report --json``).

    Parameters
    ----------
    trades : pandas.DataFrame
        One row per trade with ``ticker, direction, entry_date, entry_price, exit_date,
        exit_price, shares, pnl, fees, exit_reason`` and optionally ``day_trade`` and
        ``points`` (futures, per contract).
    interval : str
        The bars' interval: dates are ``YYYY-MM-DD`` for daily bars, ``YYYY-MM-DD HH:MM``
        (the bar's opening minute) for intraday ones.

    Returns
    -------
    list of dict
        Keys ``ticker, direction, entry_date, entry_price, exit_date, exit_price, shares,
        qty, pnl, fees, day_trade, exit_reason`` (+ ``points`` for futures); prices in R$
        (points for futures), P&L and fees in R$.
    """
    fmt = "%Y-%m-%d" if interval == "1d" else "%Y-%m-%d %H:%M"
    has_points = "points" in trades.columns
    has_dt = "day_trade" in trades.columns
    out = []
    for r in trades.itertuples(index=False):
        row = {
            "ticker": r.ticker,
            "direction": r.direction,
            "entry_date": pd.Timestamp(r.entry_date).strftime(fmt),
            "entry_price": float(r.entry_price),
            "exit_date": pd.Timestamp(r.exit_date).strftime(fmt),
            "exit_price": float(r.exit_price),
            "shares": int(r.shares),
            "qty": int(r.shares),
            "pnl": float(r.pnl),
            "fees": float(r.fees),
            "day_trade": bool(r.day_trade) if has_dt else False,
            "exit_reason": r.exit_reason,
        }
        if has_points and r.points == r.points:
            row["points"] = float(r.points)
        out.append(row)
    return out


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
        True in the ``adjusted`` price mode.
    run_id : int or None
        Set once stored (:func:`core.backtest.runs.save_run`).
    extra : dict
        ``price_mode``, ``reinvest``, ``proventos_brl``, ``interest_brl``,
        ``jcp_withheld_brl`` and ``notes`` (pt-BR sentences explaining a result, e.g. why
        no trade happened).
    after_tax_equity : pandas.Series or None
        Equity minus the income tax paid so far (R$, same index as ``equity``).
    interval : str
        Bar interval of the run (``1d``, ``5min`` ...); intraday series are indexed by the
        bars' opening minutes.
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
    adjusted: bool = False
    run_id: int | None = None
    extra: dict = field(default_factory=dict)
    after_tax_equity: pd.Series | None = None
    interval: str = "1d"

    @property
    def price_mode(self) -> str:
        """``"adjusted"`` or ``"traded"``."""
        return "adjusted" if self.adjusted else "traded"

    @property
    def price_mode_label(self) -> str:
        """pt-BR label of the price mode (with the proventos policy in traded mode)."""
        label = PRICE_MODES[self.price_mode]
        if not self.adjusted:
            reinvest = (self.extra or {}).get("reinvest", getattr(self.config, "reinvest", False))
            label += " · proventos reinvestidos" if reinvest else " · proventos mantidos em caixa"
        return label

    def to_json_dict(self) -> dict:
        """The CLI's ``--json`` shape: ``{"metrics", "trades", "equity", ...}``.

        Intraday runs write dates as ``YYYY-MM-DD HH:MM`` (the bar's opening minute). Every
        trade has ``qty`` (contracts for futures, shares otherwise, equal to ``shares``) and
        ``day_trade``; futures trades add ``points`` (per contract) — prices are in points.
        """
        fmt = "%Y-%m-%d" if self.interval == "1d" else "%Y-%m-%d %H:%M"
        trades = trade_json_rows(self.trades, self.interval)
        equity = [{"date": d.strftime(fmt), "equity": float(v)} for d, v in self.equity.items()]
        return {
            "interval": self.interval,
            "day_trade": bool(getattr(self.config, "day_trade", False)),
            "run_id": self.run_id,
            "price_mode": self.price_mode,
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
    store: Store, tickers: list[str], end=None, *, adjusted: bool = False, interval: str = "1d"
) -> dict[str, pd.DataFrame]:
    """Bars of each ticker from the first stored session to ``end``.

    ``adjusted=True`` scales OHLC by ``adj_close / close`` (:func:`adjust_bars`).
    ``interval`` other than ``1d`` reads stored bars of that interval or resamples a finer
    stored series inside sessions (:func:`core.data.resample.bars_at`); so does ``1d`` for
    a ticker with intraday bars only.

    Raises
    ------
    UnknownTickerError
        When a ticker is not stored.
    InputError
        When a ticker has no bars.
    """
    from core.data.resample import bars_at

    out = {}
    for t in tickers:
        b = store.bars(t, None, end) if interval == "1d" else pd.DataFrame()
        if b.empty:
            b = bars_at(store, t, interval, None, end)
        if b.empty:
            what = "" if interval == "1d" else f" de {interval}"
            raise InputError(f"{t} não tem barras{what} armazenadas até {end or 'hoje'}.")
        out[t.upper()] = adjust_bars(b) if adjusted else b
    return out


@dataclass
class MarketInputs:
    """Everything the engine needs from the store for a set of tickers.

    Attributes
    ----------
    bars : dict of ticker -> DataFrame
        The bars the engine fills at (traded, or adjusted in the adjusted mode).
    signal_bars : dict of ticker -> DataFrame
        The dividend-adjusted bars the strategies compute signals on.
    actions : pandas.DataFrame
        Corporate actions applied to positions (empty in the adjusted mode).
    lots : dict of ticker -> int
        Standard lot per ticker (``Instrument.lot_size``).
    kinds : dict of ticker -> str
        ``Instrument.kind`` per ticker (taxes).
    adjusted : bool
    interval : str
    action_arrays : tuple of three read-only float arrays (n, k) or None
        ``actions`` as the engine applies them to ``bars``
        (:func:`core.backtest.engine.action_arrays`), computed once per data version.
    """

    bars: dict[str, pd.DataFrame]
    signal_bars: dict[str, pd.DataFrame]
    actions: pd.DataFrame
    lots: dict[str, int]
    kinds: dict[str, str]
    adjusted: bool
    interval: str = "1d"
    action_arrays: tuple | None = None


def _split_visible(bars: pd.DataFrame, date: pd.Timestamp, ratio: float) -> bool:
    """True when the close falls by about ``ratio`` on the ex-date (an unadjusted series)."""
    pos = int(bars.index.searchsorted(date))
    if pos <= 0 or pos >= len(bars):
        return False
    prev, cur = float(bars["close"].iloc[pos - 1]), float(bars["close"].iloc[pos])
    if not (prev > 0 and cur > 0 and ratio > 0):
        return False
    jump = np.log(prev / cur)
    return abs(jump - np.log(ratio)) < abs(jump)


def _engine_actions(store: Store, bars: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Corporate actions the engine applies to positions on the traded series.

    Stored actions (:func:`core.data.actions.load_actions`); splits only where the series
    shows them — a split the series already absorbed also converts the as-paid cash amounts
    before it to the series' share basis. A ticker with no stored cash event whose ``adj_close`` still differs from
    ``close`` gets the dividends implied by the ratio (source ``"implied"``).
    """
    from core.data.actions import CASH_KINDS, implied_dividends, load_actions

    try:
        acts = load_actions(store, list(bars))
    except Exception:  # noqa: BLE001 - a store without the actions table: no actions
        acts = pd.DataFrame(columns=["ticker", "date", "kind", "value", "source"])
    frames = []
    for t, b in bars.items():
        a = acts[acts["ticker"].astype(str).str.upper() == t] if len(acts) else acts
        keep = []
        hidden = []  # splits the series already absorbed (split-adjusted closes)
        for r in a.itertuples(index=False):
            if r.kind in CASH_KINDS:
                keep.append(True)
            else:
                visible = _split_visible(b, pd.Timestamp(r.date), float(r.value))
                keep.append(visible)
                if not visible:
                    hidden.append((pd.Timestamp(r.date), float(r.value)))
        a = a[np.asarray(keep, dtype=bool)] if len(a) else a
        if hidden and len(a):
            # Cash is stored as paid per share of its day; on a series adjusted for a later
            # split (ratio = shares after / before), one share of the series is 1/ratio
            # share of that day, so it received value / ratio.
            a = a.copy()
            dates = pd.DatetimeIndex(pd.to_datetime(a["date"]))
            cash = a["kind"].isin(CASH_KINDS).to_numpy()
            vals = a["value"].to_numpy(dtype="float64").copy()
            for d, ratio in hidden:
                if ratio > 0:
                    vals = np.where(cash & (dates < d), vals / ratio, vals)
            a["value"] = vals
        has_cash = len(a) and a["kind"].isin(CASH_KINDS).any()
        if not has_cash and "adj_close" in b.columns and len(b) > 1:
            imp = implied_dividends(b)
            if len(imp):
                a = pd.concat([a, imp.assign(ticker=t, source="implied")], ignore_index=True)
        if len(a):
            frames.append(a[["ticker", "date", "kind", "value"]])
    if not frames:
        return pd.DataFrame(columns=["ticker", "date", "kind", "value"])
    return pd.concat(frames, ignore_index=True)


def load_inputs(
    store: Store,
    tickers: list[str],
    end=None,
    *,
    adjusted: bool = False,
    lot_size: int = 100,
    interval: str = "1d",
) -> MarketInputs:
    """Bars, actions, lots and kinds of ``tickers`` for a run (see the module docstring).

    ``lot_size`` is the sizing's lot: 100 (the default) means each instrument's own
    standard lot; any other value (e.g. 1 for comparisons) applies to every ticker.

    Raises
    ------
    InputError
        For an index (not tradable) or a ticker without bars.
    UnknownTickerError
        For a ticker not stored.

    Notes
    -----
    Served from the store's read cache (:meth:`core.data.store.Store.cached`) while the data
    are unchanged: a repeated run skips the reads and the adjustment (issue 9's end-to-end
    speed); each call gets its own copies.
    """
    cached = _shared_inputs(
        store, tickers, end, adjusted=adjusted, lot_size=lot_size, interval=interval
    )
    # Shallow copies: pandas' copy-on-write gives each caller its own frames (a write to
    # one copies it first) without copying the values of every call.
    return MarketInputs(
        {t: b.copy(deep=False) for t, b in cached.bars.items()},
        {t: b.copy(deep=False) for t, b in cached.signal_bars.items()},
        cached.actions.copy(deep=False),
        dict(cached.lots),
        dict(cached.kinds),
        cached.adjusted,
        cached.interval,
        cached.action_arrays,
    )


def _shared_inputs(
    store: Store, tickers: list[str], end, *, adjusted: bool, lot_size: int, interval: str
) -> MarketInputs:
    """The read cache's own :class:`MarketInputs` (shared: never modify them; see
    :func:`load_inputs` for a caller's copy)."""
    key = (
        "runner.load_inputs",
        tuple(t.upper() for t in tickers),
        None if end is None else pd.Timestamp(end),
        bool(adjusted),
        int(lot_size),
        str(interval),
    )
    return store.cached(
        key,
        lambda: _load_inputs(
            store, tickers, end, adjusted=adjusted, lot_size=lot_size, interval=interval
        ),
    )


def _load_inputs(
    store: Store, tickers: list[str], end, *, adjusted: bool, lot_size: int, interval: str
) -> MarketInputs:
    lots: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for t in tickers:
        meta = store.instrument(t)
        kind = str(meta.get("kind") or "stock")
        if kind == "index" or t.startswith("^"):
            raise InputError(
                f"{t} é um índice: não é negociável. Escolha ações, ETFs, FIIs ou BDRs "
                "(o índice aparece como referência no gráfico)."
            )
        kinds[t.upper()] = kind
        inst_lot = int(meta.get("lot_size") or 100)
        lots[t.upper()] = inst_lot if int(lot_size) == 100 else int(lot_size)
    raw = load_bars(store, tickers, end, adjusted=False, interval=interval)
    adj = {t: adjust_bars(b) for t, b in raw.items()}
    if adjusted:
        return MarketInputs(adj, adj, pd.DataFrame(), lots, kinds, True, interval)
    stocks = {t: b for t, b in raw.items() if not _is_future(t, kinds.get(t))}
    actions = _engine_actions(store, stocks) if stocks else pd.DataFrame()
    arrays = action_arrays(raw, actions)
    for a in arrays:
        a.flags.writeable = False
    return MarketInputs(raw, adj, actions, lots, kinds, False, interval, arrays)


def _is_future(ticker: str, kind: str | None) -> bool:
    from core.data.futures import is_future_ticker

    return kind == "future" or is_future_ticker(ticker)


def session_codes(index: pd.DatetimeIndex, interval: str = "1d") -> np.ndarray:
    """Session number per bar (int64, (n,)): one per bar for daily bars, one per calendar day
    (a B3 session) for intraday bars."""
    if interval == "1d":
        return np.arange(len(index), dtype=np.int64)
    d8 = pd.DatetimeIndex(index).as_unit("ns").asi8
    day = d8 - d8 % 86_400_000_000_000
    return np.cumsum(np.r_[False, day[1:] != day[:-1]]).astype(np.int64)


def _contract_terms(
    tickers: list[str], kinds: dict[str, str], config: EngineConfig
) -> dict[str, tuple[float, ContractTerms]]:
    """(point value, engine terms) of each futures ticker of the run (configured overrides
    over :func:`core.data.futures.futures_spec` defaults; no fees or slippage with the
    ``none`` cost preset)."""
    from core.backtest.costs import NO_COSTS
    from core.data.futures import futures_spec

    out = {}
    free = config.costs.to_dict() == NO_COSTS.to_dict()
    for t in tickers:
        if not _is_future(t, kinds.get(t)):
            continue
        spec = futures_spec(t)
        pv = spec.point_value
        margin = config.margin_per_contract
        if margin is None:
            margin = spec.margin_day_trade if config.day_trade else spec.margin_overnight
        fdt = config.fee_per_contract_day_trade
        freg = config.fee_per_contract_regular
        out[t] = (
            pv,
            ContractTerms(
                margin=float(margin),
                fee_regular=0.0 if free else float(spec.fee_regular if freg is None else freg),
                fee_day_trade=0.0 if free else float(spec.fee_day_trade if fdt is None else fdt),
                slippage=0.0 if free else float(config.slippage_ticks) * spec.tick * pv,
            ),
        )
    return out


def _any_entry(sigs: dict[str, pd.DataFrame], start: pd.Timestamp) -> bool:
    """True when any ticker has an entry signal from the bar before ``start`` on."""
    for sg in sigs.values():
        for c in ("entry_long", "entry_short"):
            if (
                c in sg.columns
                and sg[c]
                .to_numpy(dtype=bool)[max(int(sg.index.searchsorted(start)) - 1, 0) :]
                .any()
            ):
                return True
    return False


def _scale(b: pd.DataFrame, pv: float) -> pd.DataFrame:
    out = b.copy()
    for c in ("open", "high", "low", "close", "adj_close"):
        out[c] = b[c] * pv
    return out


def _result_trades(res: EngineResult, pvs: dict[str, float]) -> pd.DataFrame:
    """The run's trades frame (:func:`_points_trades` of the engine's), built once from the
    engine's trade arrays when the engine left ``res.trades`` to the caller."""
    if res.trades is not None:
        return _points_trades(res.trades, pvs)
    cols = res.trade_columns
    if cols is None:
        raise RuntimeError("engine result without trades nor trade columns")
    if pvs:
        return _points_trades(pd.DataFrame(cols), pvs)
    # the columns _points_trades appends (qty = shares, no points), in one construction
    shares = np.asarray(cols["shares"])
    return frame_from_columns(
        {**cols, "qty": shares.astype("int64"), "points": np.full(len(shares), np.nan)}
    )


def _points_trades(trades: pd.DataFrame, pvs: dict[str, float]) -> pd.DataFrame:
    """Trades with futures prices back in points; adds ``qty`` and ``points`` columns."""
    if not pvs or len(trades) == 0:
        # one new frame with both columns (no copy, then two column inserts)
        return trades.assign(
            qty=trades["shares"].to_numpy().astype("int64"),
            points=np.full(len(trades), np.nan),
        )
    t = trades.copy()
    t["qty"] = t["shares"].astype("int64")
    t["points"] = np.nan
    pv = t["ticker"].map(pvs).to_numpy(dtype="float64")
    fut = np.isfinite(pv)
    for c in ("entry_price", "exit_price", "stop_at_entry"):
        v = t[c].to_numpy(dtype="float64")
        t[c] = np.where(fut, v / np.where(fut, pv, 1.0), v)
    d = np.where(t["direction"].to_numpy() == "compra", 1.0, -1.0)
    pts = d * (t["exit_price"].to_numpy() - t["entry_price"].to_numpy())
    t["points"] = np.where(fut, pts, np.nan)
    return t


def compute_signals(
    strategy: Strategy,
    bars: dict[str, pd.DataFrame],
    traded: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """The strategy's signal frame for each ticker.

    With ``traded`` (the as-traded bars of the same tickers), price levels (``stop``,
    ``target``, ``entry_level``) computed on the adjusted ``bars`` are rescaled to the
    traded basis of their bar: ``level × traded close / adjusted close``.
    """
    out = {}
    for t, b in bars.items():
        sig = strategy.signals(b)
        levels = [c for c in ("stop", "target", "entry_level") if c in sig.columns]
        if levels and traded is not None and t in traded:
            tc = traded[t]["close"].reindex(b.index).to_numpy(dtype="float64")
            factor = np.where(b["close"].to_numpy() > 0, tc / b["close"].to_numpy(), 1.0)
            for c in levels:
                sig[c] = sig[c].to_numpy(dtype="float64") * factor
        out[t] = sig
    return out


@dataclass(frozen=True)
class _WindowRefs:
    """What a run's window is compared with, per R$ 1 of initial cash (read-only arrays (n,)
    on the window's index): ``rf`` the CDI earned per bar
    (:func:`core.rates.cdi_daily_returns`), ``buy_hold`` the equal-weight total return of the
    tickers, ``bvsp`` ^BVSP (NaN when not stored), ``cdi`` cash growing at the CDI;
    ``months`` the window's :func:`~core.backtest.metrics.month_codes` (int64)."""

    rf: np.ndarray
    buy_hold: np.ndarray
    bvsp: np.ndarray
    cdi: np.ndarray
    months: np.ndarray


def _window_refs(
    store: Store, bars: dict[str, pd.DataFrame], index: pd.DatetimeIndex
) -> _WindowRefs:
    """:class:`_WindowRefs` of ``index``, served from the store's read cache while the data
    are unchanged: they depend on the stored data, the tickers' adjusted closes and the
    window alone, not on the strategy, so every run of the same tickers and window (another
    strategy, other parameters) reuses them (issue 9's end-to-end speed). The key holds the
    exact bytes of the window and of each ticker's dates and adjusted closes."""
    key = (
        "runner.window_refs",
        _BytesKey(index.as_unit("ns").asi8.tobytes()),
        tuple(
            (
                t,
                _BytesKey(pd.DatetimeIndex(b.index).as_unit("ns").asi8.tobytes()),
                _BytesKey(b["adj_close"].to_numpy(dtype="float64").tobytes()),
            )
            for t, b in bars.items()
        ),
    )
    return store.cached(key, lambda: _compute_window_refs(store, bars, index))


class _BytesKey:
    """Exact bytes as a cache-key part whose hash is cheap: equality compares every byte,
    the hash only the length and both ends (hashing all of a 15-year series' 29 KB cost
    more than the rest of the lookup; a collision only costs one comparison)."""

    __slots__ = ("data", "_hash")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._hash = hash((len(data), data[:256], data[-256:]))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _BytesKey) and (
            self._hash == other._hash and self.data == other.data
        )


def _compute_window_refs(
    store: Store, bars: dict[str, pd.DataFrame], index: pd.DatetimeIndex
) -> _WindowRefs:
    rf = cdi_daily_returns(store, index).to_numpy()
    # Total return: the adjusted close (dividends reinvested), whatever the price mode.
    if len(bars) == 1:
        # One ticker (the common case) on numpy arrays: the same operations as the frame
        # path below (reindex, ffill, first valid close, mean of one column), same figures.
        (b,) = bars.values()
        c = _ffill(_take(b["adj_close"], index))
        ok = np.flatnonzero(~np.isnan(c))
        first = c[ok[0]] if len(ok) else np.nan
        norm = c / first
        buy_hold = np.where(np.isnan(norm), 1.0, norm)
    else:
        closes = (
            pd.concat({t: b["adj_close"] for t, b in bars.items()}, axis=1, sort=True)
            .reindex(index)
            .ffill()
        )
        # Equal R$ per ticker; a ticker that lists later keeps its share in cash until its
        # first close and is bought then (no jump on the listing day).
        first = closes.bfill().iloc[0]
        norm = (closes / first).fillna(1.0)
        buy_hold = norm.mean(axis=1).to_numpy()
    try:
        i8 = index.as_unit("ns").asi8
        bv = store.bars(BENCHMARK, pd.Timestamp(i8[0] - i8[0] % 86_400_000_000_000), index[-1])
        # intraday bars take their session's close (a reference curve, never traded)
        bvsp = _bfill(_ffill(_take(bv["close"], i8 - i8 % 86_400_000_000_000)))
    except (UnknownTickerError, IndexError):
        bvsp = np.full(len(index), np.nan)
    growth = np.cumprod(1.0 + np.r_[0.0, rf[1:]])
    rf_a, bh_a, bvsp_a, cdi_a = (np.array(a, dtype="float64") for a in (rf, buy_hold, bvsp, growth))
    out = _WindowRefs(rf_a, bh_a, bvsp_a, cdi_a, month_codes(np.asarray(index)))
    for a in (out.rf, out.buy_hold, out.bvsp, out.cdi, out.months):
        a.flags.writeable = False
    return out


def _benchmarks(
    refs: _WindowRefs,
    index: pd.DatetimeIndex,
    cash: float,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """``buy_hold``, ``bvsp`` and ``cdi`` in R$ from ``cash`` (:attr:`BacktestResult.benchmarks`);
    ``columns``: :func:`_benchmark_columns` of the same arguments when the caller has them."""
    bh, bvsp, cdi = columns or _benchmark_columns(refs, cash)
    return frame_from_columns({"buy_hold": bh, "bvsp": bvsp, "cdi": cdi}, index=index)


def _benchmark_columns(refs: _WindowRefs, cash: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns of :func:`_benchmarks` (float64 (n,), R$): buy-and-hold, ^BVSP, CDI."""
    return cash * refs.buy_hold, cash * refs.bvsp / refs.bvsp[0], cash * refs.cdi


def _take(s: pd.Series, at) -> np.ndarray:
    """``s.reindex(at).to_numpy()`` for a sorted, unique DatetimeIndex ``s.index`` (float64;
    NaN where ``at`` has no value); ``at`` a DatetimeIndex or int64 nanoseconds."""
    keys = pd.DatetimeIndex(s.index).as_unit("ns").asi8
    want = at.as_unit("ns").asi8 if isinstance(at, pd.DatetimeIndex) else np.asarray(at)
    vals = s.to_numpy(dtype="float64")
    pos = np.searchsorted(keys, want)
    pos_c = np.minimum(pos, max(len(keys) - 1, 0))
    hit = (pos < len(keys)) & (keys[pos_c] == want) if len(keys) else np.zeros(len(want), bool)
    return np.where(hit, vals[pos_c] if len(keys) else np.nan, np.nan)


def _ffill(a: np.ndarray) -> np.ndarray:
    """Forward fill of NaN along a 1-d array (leading NaN stay)."""
    ok = ~np.isnan(a)
    if ok.all():
        return a
    last = np.maximum.accumulate(np.where(ok, np.arange(len(a)), -1))
    return np.where(last >= 0, a[np.maximum(last, 0)], np.nan)


def _bfill(a: np.ndarray) -> np.ndarray:
    """Backward fill of NaN along a 1-d array (trailing NaN stay)."""
    return _ffill(a[::-1])[::-1]


def _adjusted_mode_proventos(trades: pd.DataFrame, raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """In the adjusted mode, the part of each trade's P&L that is proventos embedded in the
    adjusted prices, removed from ``swing_pnl`` so it is never taxed as a trading gain.

    With ``f = adj_close / close``, a trade's adjusted P&L is ``q·f_x·(X − E) + q·E·(f_x −
    f_e)``; the second term (``d·q·entry_price·(f_x / f_e − 1)``) is the proventos.
    """
    if len(trades) == 0:
        return trades
    t = trades.copy()
    emb = np.zeros(len(t))
    for tk, grp in t.groupby("ticker"):
        b = raw[tk]
        f = (b["adj_close"] / b["close"]).where(b["close"] > 0, 1.0)
        fe = f.reindex(pd.DatetimeIndex(grp["entry_date"])).to_numpy(dtype="float64")
        fx = f.reindex(pd.DatetimeIndex(grp["exit_date"])).to_numpy(dtype="float64")
        d = np.where(grp["direction"].to_numpy() == "compra", 1.0, -1.0)
        part = d * grp["shares"].to_numpy() * grp["entry_price"].to_numpy() * (fx / fe - 1.0)
        emb[t.index.get_indexer(grp.index)] = np.nan_to_num(part)
    emb = np.where(t["day_trade_qty"].to_numpy() >= t["shares"].to_numpy(), 0.0, emb)
    t["proventos"] = emb
    t["swing_pnl"] = t["swing_pnl"].to_numpy() - emb
    return t


def finish_result(
    store: Store,
    strat: Strategy,
    tickers: list[str],
    inputs: MarketInputs,
    res: EngineResult,
    config: EngineConfig,
    tax_rules: TaxRules | None,
    eq_index_start: int | None = None,
) -> BacktestResult:
    """Metrics, benchmarks, tax report and after-tax equity of an engine result.

    ``res.trade_columns``, when set, must hold the values of ``res.trades``' columns
    (as :func:`core.backtest.engine.run_engine` returns them; a caller may add columns to
    ``res.trades`` or convert futures prices to points, which taxes and metrics do not read).
    """
    eq = res.window_equity
    if len(eq) < 2:
        raise InputError("Período curto demais para um backtest (menos de 2 pregões).")
    exposure = res.window_exposure
    refs = _window_refs(store, inputs.signal_bars, eq.index)
    # the benchmarks' columns, also given to the metrics (not read back from the frame)
    bench_cols = _benchmark_columns(refs, config.cash)
    bench = _benchmarks(refs, eq.index, config.cash, bench_cols)
    trades = res.trades
    # the engine's trade arrays (the values of the frame's columns) for taxes and metrics
    cols = res.trade_columns
    if inputs.adjusted:
        trades = _adjusted_mode_proventos(trades, load_bars(store, tickers, eq.index[-1]))
        cols = None  # swing_pnl and proventos changed
    if cols is None or trade_rows(cols) != len(trades):
        cols = trades
    # one tax report; its total and monthly payments from its arrays (the values
    # total_tax() and monthly_tax_paid() read back from the frame)
    report = build_tax_report(cols, tax_rules, inputs.kinds)
    taxes = report.frame
    months = refs.months  # shared by the payments and the monthly table
    paid = np.cumsum(report.paid(eq.index, months))
    after_tax_values = eq.to_numpy() - paid
    after_tax = pd.Series(after_tax_values, index=eq.index, name="equity_after_tax")
    interval = getattr(inputs, "interval", "1d")
    n_sessions = int(session_codes(eq.index, interval)[-1]) + 1 if len(eq) else 1
    metrics = compute_metrics(
        eq,
        cols,
        rf=refs.rf,
        exposure=exposure,
        buy_hold=bench_cols[0],
        bvsp=bench_cols[1],
        taxes_brl=report.total(),
        bars_per_session=len(eq) / max(n_sessions, 1) if interval != "1d" else 1.0,
    )
    metrics["after_tax_equity_brl"] = float(after_tax_values[-1])
    metrics["proventos_brl"] = (
        float(res.proventos)
        if not inputs.adjusted
        else float(trades["proventos"].sum() if len(trades) else 0.0)
    )
    metrics["interest_brl"] = float(res.interest)
    metrics["jcp_withheld_brl"] = float(res.jcp_withheld)
    notes = []
    if getattr(strat, "needs_volume", False) and any(
        float(b["volume"].abs().sum()) == 0 for b in inputs.signal_bars.values()
    ):
        notes.append(
            "As barras não têm volume: indicadores ponderados por volume (VWAP) usam pesos "
            "iguais por barra."
        )
    if len(trades) == 0:
        why = getattr(strat, "explain_no_trades", None)
        msg = why(eq.index) if callable(why) else None
        notes.append(msg or "Nenhuma operação: a estratégia não deu sinal de entrada no período.")
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
        exposure=exposure,
        trades=trades,
        metrics=metrics,
        monthly=monthly_returns(eq, start=res.start, months=months),
        taxes=taxes,
        adjusted=inputs.adjusted,
        extra={
            "price_mode": "adjusted" if inputs.adjusted else "traded",
            "reinvest": bool(config.reinvest),
            "proventos_brl": metrics["proventos_brl"],
            "interest_brl": metrics["interest_brl"],
            "jcp_withheld_brl": metrics["jcp_withheld_brl"],
            "notes": notes,
            "interval": interval,
        },
        after_tax_equity=after_tax,
        interval=interval,
    )


def run_backtest(
    store: Store,
    strategy: str | Strategy,
    tickers: list[str] | str,
    start=None,
    end=None,
    params: dict | None = None,
    config: EngineConfig | None = None,
    *,
    adjusted: bool = False,
    tax_rules: TaxRules | None = None,
    progress: Progress | None = None,
    interval: str = "1d",
) -> BacktestResult:
    """Backtest one strategy on one ticker or a portfolio, with metrics and the tax report.

    Parameters
    ----------
    store : Store
    strategy : str or Strategy
        A name from :data:`core.strategies.STRATEGIES` (built with ``params``) or an
        instance (e.g. ``MlFilter(model=...)``).
    tickers : list of str or str
        Stocks, ETFs, FIIs or BDRs (an index is refused: not tradable).
    start, end : date-like, optional
        Trading window (default: the whole stored history).
    params : dict, optional
        Strategy parameters (strings accepted).
    config : EngineConfig, optional
        Cash, costs, sizing, stops, shorting, position cap, proventos reinvestment and
        interest on idle cash (default: R$ 100.000, B3 costs by date, all-in, each
        instrument's lot with fractional remainder). The ``buy_and_hold`` strategy
        reinvests proventos unless a config is given.
    adjusted : bool
        Trade the dividend-adjusted series (a labelled approximation) instead of traded
        prices with corporate actions (default).
    progress : callable, optional
        ``progress(fraction, message)``.
    interval : str
        Bar interval, one of :data:`BACKTEST_INTERVALS` (aliases such as ``5m`` accepted);
        see the module docstring for intraday, day-trade (``config.day_trade``) and
        futures runs.

    Returns
    -------
    BacktestResult

    Raises
    ------
    InputError, UnknownTickerError
        Bad parameters, tickers (an index) or window; ``NoModelError`` for ``ml_filter``
        without a promoted model.
    """
    from core.data.intraday import normalize_interval

    prog: Progress = progress or _no_progress
    interval = normalize_interval(interval)
    if interval not in BACKTEST_INTERVALS:
        raise InputError(
            f"Backtest em barras {interval} não é suportado (use {', '.join(BACKTEST_INTERVALS)})."
        )
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
    if config.reinvest is None:
        config = replace(config, reinvest=bool(strat.reinvests))
    if config.sizing.method == "risk" and config.stop_loss <= 0 and not strat.sets_stops:
        raise InputError(
            "Dimensionamento por risco precisa de um stop: defina o stop-loss (%) ou use uma "
            "estratégia que define stops (wave3)."
        )
    # One snapshot of the data version for the whole run: every cached read (bars,
    # actions, window references) checks it once instead of once per read.
    with store.version_pinned():
        prog(0.05, "Carregando barras")
        strat.prepare(store)
        shared = _shared_inputs(
            store,
            tickers,
            end_ts,
            adjusted=adjusted,
            lot_size=int(config.sizing.lot_size),
            interval=interval,
        )
        # run_on_inputs only reads the bars and actions (it never modifies its inputs); the
        # strategy gets its own (copy-on-write) signal bars, as from load_inputs.
        inputs = replace(
            shared,
            signal_bars={t: b.copy(deep=False) for t, b in shared.signal_bars.items()},
            lots=dict(shared.lots),
            kinds=dict(shared.kinds),
        )
        out = run_on_inputs(
            store,
            strat,
            tickers,
            inputs,
            config,
            start=start_ts,
            tax_rules=tax_rules,
            progress=prog,
        )
    prog(1.0, "Pronto")
    return out


def run_on_inputs(
    store: Store,
    strat: Strategy,
    tickers: list[str],
    inputs: MarketInputs,
    config: EngineConfig,
    *,
    start=None,
    tax_rules: TaxRules | None = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """The part of :func:`run_backtest` after the store reads: signals, engine, metrics,
    benchmarks and the tax report of ``strat`` on ``inputs`` (one code path for a run from
    the store and a run from bars already in memory).

    Parameters
    ----------
    store : Store
        Read for the window's references only (CDI, ^BVSP; cached per data version).
    strat : Strategy
        Built and prepared (:meth:`Strategy.prepare`).
    tickers : list of str
        Upper-case tickers, the keys of ``inputs.bars``.
    inputs : MarketInputs
        As :func:`load_inputs` returns them (never modified: a caller may reuse them).
    config : EngineConfig
        ``reinvest`` resolved (not None).
    start : pandas.Timestamp, optional
        First session on which orders may fill (default: the first bar).
    tax_rules : TaxRules, optional
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    BacktestResult

    Raises
    ------
    InputError
        Mismatched inputs or a window of fewer than 2 sessions.
    """
    from core.data.intraday import INTERVAL_MINUTES

    prog: Progress = progress or _no_progress
    interval = inputs.interval
    adjusted = inputs.adjusted
    terms = _contract_terms(tickers, inputs.kinds, config)
    if terms:
        # the caller's inputs stay as they are: futures prices per contract in a copy
        inputs = replace(
            inputs, bars=dict(inputs.bars), lots=dict(inputs.lots), kinds=dict(inputs.kinds)
        )
        for t, (pv, _) in terms.items():
            inputs.bars[t] = _scale(inputs.bars[t], pv)
            inputs.lots[t] = 1
            inputs.kinds[t] = "future"
    prog(0.3, "Calculando sinais")
    traded = None if adjusted and not terms else inputs.bars
    sigs = compute_signals(strat, inputs.signal_bars, traded)
    idx = next(iter(inputs.bars.values())).index
    for b in list(inputs.bars.values())[1:]:
        idx = idx.union(b.index)
    bar_minutes = INTERVAL_MINUTES.get(interval)
    flat = None
    if config.day_trade:
        flat = flatten_codes(idx, config.flatten_minutes, bar_minutes)
        # Intraday: an entry signal at or after the flatten bar would fill after the flatten
        # time or on the next morning; dropped. (Daily bars: signal at t, in and out on t+1.)
        for t, sg in sigs.items() if bar_minutes else ():
            own = flatten_codes(inputs.bars[t].index, config.flatten_minutes, bar_minutes) > 0
            sg = sg.copy()
            for c in ("entry_long", "entry_short"):
                if c in sg.columns:
                    sg[c] = sg[c].to_numpy(dtype=bool) & ~own
            sigs[t] = sg
    prog(0.55, "Simulando ordens")
    rf_full = None
    if config.cash_interest > 0:
        rf_full = cdi_daily_returns(store, idx)
    res = run_engine(
        inputs.bars,
        sigs,
        config,
        start=start,
        sessions=session_codes(idx, interval),
        actions=inputs.actions,
        rf=rf_full,
        lots=inputs.lots,
        flat=flat,
        contracts={t: c for t, (_, c) in terms.items()} or None,
        frame=False,
        action_arrays=inputs.action_arrays,
    )
    res.trades = _result_trades(res, {t: pv for t, (pv, _) in terms.items()})
    prog(0.75, "Calculando métricas")
    out = finish_result(store, strat, tickers, inputs, res, config, tax_rules)
    if terms and len(out.trades) == 0 and _any_entry(sigs, res.start):
        out.extra["notes"] = [
            "Nenhuma operação: os sinais existem, mas nenhum contrato coube no "
            "dimensionamento (o valor nocional de um contrato — pontos × valor do ponto — "
            "conta contra o orçamento em R$, e a margem contra o caixa livre). Use "
            "“Quantidade fixa (contratos)” ou aumente o capital."
        ]
    return out


def contract_terms(
    tickers: list[str], kinds: dict[str, str], config: EngineConfig
) -> dict[str, tuple[float, ContractTerms]]:
    """(point value, :class:`~core.backtest.engine.ContractTerms`) of each futures ticker.

    The one rule turning a contract's specification (:func:`core.data.futures.futures_spec`)
    and the run's overrides (``config.margin_per_contract``, ``fee_per_contract_*``,
    ``slippage_ticks``; no fees or slippage with the ``none`` cost preset) into the terms a
    backtest trades with — and a paper account too (:mod:`core.trading.contracts`).

    Parameters
    ----------
    tickers : list of str
    kinds : dict of ticker -> instrument kind
        A ticker is a future when its kind is ``future`` or its code is a known root.
    config : EngineConfig

    Returns
    -------
    dict
        Only the futures tickers; margin, fees and slippage (R$ per contract) in the terms.
    """
    return _contract_terms(tickers, kinds, config)
