"""The backtest engine: signals at the close of bar t, fills at the open of bar t+1.

Conventions
-----------
* Prices in R$ per share; quantities in shares (positive long, negative short); cash and
  equity in R$; returns as fractions. Bars are canonical (:mod:`core.data.schema`).
* A signal computed from data up to the **close of bar t** is acted on at the **open of
  bar t+1**, never on the bar that produced it. An entry signal may carry an *entry level*
  (a buy-stop for longs, a sell-stop for shorts): the order then fills at ``max(open,
  level)`` (``min`` for shorts) if bar t+1 trades through the level, and is cancelled
  otherwise.
* Protective exits are checked **inside** each bar with its high and low: stop-loss,
  take-profit (target) and trailing stop. When one bar touches both the stop and the target
  the stop is assumed to come first (the pessimistic reading); a bar that **opens beyond** a
  stop (a gap) fills at the open, not at the stop; a gap beyond a target fills at the open
  too (a limit order gets the better price). On the bar of an entry the stop is checked
  after the fill (entered at the open, or at the entry level, then stopped out).
* The trailing stop trails the highest high (lowest low for shorts) of the bars **before**
  the current one, so a bar never raises its own stop.
* A time stop of ``max_bars`` exits at the open of the ``max_bars``-th bar after the entry.
* Exit signals, time stops and gaps are handled at the open, then entries at the open
  (in ticker order, up to ``max_positions`` open at once, sized from the equity at that
  open), then the intrabar stops and targets, then borrow fees on shorts, then the
  equity is marked at the close. Cash freed by an intrabar exit is usable from the next bar.
* Costs (:class:`core.backtest.costs.B3Costs`): slippage moves every fill against the trader
  (stops and targets too); B3 fees and brokerage are charged per order on the traded value;
  a trade opened and closed in the same session is a **day trade** and both of its orders
  pay the day-trade rate. Shorts pay the borrow fee each session they are held.
* Positions still open after the last bar are closed at its close (reason ``fim``).

Intraday bars work unchanged: ``sessions`` (one integer per bar, the trading session it
belongs to) decides what is a day trade and when borrow fees accrue; for daily bars it is
``0, 1, 2, ...``.

The kernel :func:`simulate` is a numba function over 2-D arrays ``(n_bars, n_tickers)``;
:func:`run_engine` is the thin pandas layer around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd

from core import textfmt
from core.backtest.costs import B3_DEFAULT, B3Costs
from core.backtest.sizing import Sizing, _kelly, _round_shares
from core.errors import InputError

__all__ = [
    "EngineConfig",
    "EngineResult",
    "EXIT_REASONS",
    "TRADE_COLUMNS",
    "SIGNAL_COLUMNS",
    "simulate",
    "simulate_single",
    "run_engine",
    "trades_frame",
]

#: Exit reason codes of the kernel, in order (pt-BR labels shown to users).
EXIT_REASONS: tuple[str, ...] = ("sinal", "stop", "alvo", "stop móvel", "tempo", "fim")
R_SIGNAL, R_STOP, R_TARGET, R_TRAIL, R_TIME, R_END = range(6)

#: Columns of the trades frame returned by :func:`run_engine`.
TRADE_COLUMNS: tuple[str, ...] = (
    "ticker",
    "direction",
    "entry_date",
    "entry_price",
    "exit_date",
    "exit_price",
    "shares",
    "round_lot_shares",
    "fractional_shares",
    "entry_value",
    "exit_value",
    "fees",
    "borrow",
    "pnl",
    "return_pct",
    "bars_held",
    "day_trade",
    "exit_reason",
    "stop_at_entry",
)

#: Columns a strategy's signal frame may have (missing ones default to False / NaN).
SIGNAL_COLUMNS: tuple[str, ...] = (
    "entry_long",
    "exit_long",
    "entry_short",
    "exit_short",
    "stop",
    "target",
    "entry_level",
)

# Trade record fields in the kernel's output matrix.
_T_TICKER, _T_DIR, _T_EBAR, _T_EPX, _T_XBAR, _T_XPX, _T_SH, _T_EFEE, _T_XFEE = range(9)
_T_BORROW, _T_PNL, _T_REASON, _T_STOP = 9, 10, 11, 12
_NT = 13


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine needs besides bars and signals.

    Parameters
    ----------
    cash : float
        Initial cash in R$.
    costs : B3Costs
        Fees, slippage and borrow fee.
    sizing : Sizing
        Position sizing and lots.
    stop_loss, take_profit, trailing_stop : float
        Fractions of the entry price (0.05 = 5 %); 0 disables. A strategy's own stop/target
        levels, when given for a signal, take precedence over ``stop_loss``/``take_profit``.
    max_bars : int
        Time stop in bars (0 disables).
    allow_short : bool
        Act on short signals (long-only when False).
    max_positions : int or None
        Cap on simultaneously open positions (None: one per ticker).
    """

    cash: float = 100_000.0
    costs: B3Costs = field(default_factory=lambda: B3_DEFAULT)
    sizing: Sizing = field(default_factory=Sizing)
    stop_loss: float = 0.0
    take_profit: float = 0.0
    trailing_stop: float = 0.0
    max_bars: int = 0
    allow_short: bool = False
    max_positions: int | None = None

    def __post_init__(self) -> None:
        if not self.cash > 0:
            raise InputError(f"O capital inicial deve ser positivo (recebido {self.cash}).")
        labels = {"stop_loss": "Stop-loss", "take_profit": "Alvo", "trailing_stop": "Stop móvel"}
        for name, label in labels.items():
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise InputError(
                    f"{label} deve ficar entre 0% e 100% do preço de entrada "
                    f"(recebido {textfmt.pct(v, 2 if (v * 100) % 1 else 0)})."
                )
        if self.max_bars < 0:
            raise InputError("O stop de tempo não pode ser negativo.")
        if self.max_positions is not None and self.max_positions < 1:
            raise InputError("O número máximo de posições deve ser ≥ 1.")

    def to_dict(self) -> dict:
        """Plain dict (stored with each run)."""
        return {
            "cash": self.cash,
            "costs": self.costs.to_dict(),
            "sizing": self.sizing.to_dict(),
            "stop_loss": self.stop_loss,
            "take_profit": self.take_profit,
            "trailing_stop": self.trailing_stop,
            "max_bars": self.max_bars,
            "allow_short": self.allow_short,
            "max_positions": self.max_positions,
        }

    @classmethod
    def from_dict(cls, d: dict) -> EngineConfig:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["costs"] = B3Costs(**d.get("costs", {}))
        d["sizing"] = Sizing(**d.get("sizing", {}))
        return cls(**d)


@dataclass
class EngineResult:
    """What the engine returns.

    Attributes
    ----------
    equity : pandas.Series
        Marked-to-close equity in R$, one value per bar (pre-tax).
    cash : pandas.Series
        Cash in R$ per bar.
    exposure : pandas.Series
        Gross position value / equity per bar (fraction; 0 when flat).
    trades : pandas.DataFrame
        One row per closed trade, columns :data:`TRADE_COLUMNS`; prices are fills (after
        slippage), ``fees`` the B3 fees + brokerage of both orders in R$, ``pnl`` net of
        fees and borrow in R$.
    start : pandas.Timestamp
        First bar on which trading was allowed.
    """

    equity: pd.Series
    cash: pd.Series
    exposure: pd.Series
    trades: pd.DataFrame
    start: pd.Timestamp

    def _window_start(self) -> int:
        i = int(self.equity.index.searchsorted(self.start))
        return max(i - 1, 0)

    @property
    def window_equity(self) -> pd.Series:
        """Equity over the tested window, starting at the close before ``start``.

        A signal from the bar before ``start`` may fill at ``start``'s open, so the first
        point of the window must be the equity *before* that bar (the starting cash), or the
        first session's costs and move would vanish from every metric.
        """
        return self.equity.iloc[self._window_start() :]

    @property
    def window_exposure(self) -> pd.Series:
        """Exposure aligned to :attr:`window_equity`."""
        return self.exposure.iloc[self._window_start() :]


@numba.njit(cache=True)
def _close_position(
    j,
    i,
    px_raw,
    reason,
    pos,
    e_bar,
    e_px,
    e_fee,
    e_stop,
    borrow,
    sessions,
    slip,
    fee_swing,
    fee_dt,
    brokerage,
    trades,
    nt,
):
    """Close position ``j`` at market price ``px_raw`` on bar ``i``; returns the cash delta."""
    sh = pos[j]
    q = abs(sh)
    day_trade = sessions[e_bar[j]] == sessions[i]
    if sh > 0:
        fill = px_raw * (1.0 - slip)
    else:
        fill = px_raw * (1.0 + slip)
    value = q * fill
    rate = fee_dt if day_trade else fee_swing
    x_fee = value * rate + brokerage
    entry_fee = e_fee[j]
    cash_delta = 0.0
    if day_trade:
        # Both orders pay the day-trade rate: refund the swing fee charged at the entry.
        dt_entry_fee = q * e_px[j] * fee_dt + brokerage
        cash_delta += entry_fee - dt_entry_fee
        entry_fee = dt_entry_fee
    if sh > 0:
        cash_delta += value - x_fee
        pnl = q * (fill - e_px[j]) - entry_fee - x_fee
    else:
        cash_delta -= value + x_fee
        pnl = q * (e_px[j] - fill) - entry_fee - x_fee - borrow[j]
    trades[nt, _T_TICKER] = j
    trades[nt, _T_DIR] = 1.0 if sh > 0 else -1.0
    trades[nt, _T_EBAR] = e_bar[j]
    trades[nt, _T_EPX] = e_px[j]
    trades[nt, _T_XBAR] = i
    trades[nt, _T_XPX] = fill
    trades[nt, _T_SH] = q
    trades[nt, _T_EFEE] = entry_fee
    trades[nt, _T_XFEE] = x_fee
    trades[nt, _T_BORROW] = borrow[j]
    trades[nt, _T_PNL] = pnl
    trades[nt, _T_REASON] = reason
    trades[nt, _T_STOP] = e_stop[j]
    pos[j] = 0.0
    borrow[j] = 0.0
    return cash_delta


@numba.njit(cache=True)
def simulate(
    open_,
    high,
    low,
    close,
    entry_long,
    exit_long,
    entry_short,
    exit_short,
    stop_lvl,
    target_lvl,
    entry_lvl,
    sessions,
    start,
    cash0,
    sl_pct,
    tp_pct,
    trail_pct,
    max_bars,
    allow_short,
    max_positions,
    sizing,
    size_value,
    kelly_frac,
    kelly_cap,
    kelly_min_trades,
    lot,
    fractional,
    fee_swing,
    fee_dt,
    brokerage,
    slip_bps,
    borrow_annual,
):  # pragma: no cover - compiled; tested through run_engine
    """Simulate trading on ``(n, k)`` price and signal arrays.

    Parameters
    ----------
    open_, high, low, close : float64 arrays (n, k)
        NaN where a ticker has no bar.
    entry_long, exit_long, entry_short, exit_short : bool arrays (n, k)
        Signals at the close of each bar.
    stop_lvl, target_lvl, entry_lvl : float64 arrays (n, k)
        Optional absolute levels attached to an entry signal (NaN: none).
    sessions : int64 array (n,)
        Session number of each bar (day trades: entry and exit in the same session).
    start : int
        First bar on which orders may fill.
    (remaining scalars: see :class:`EngineConfig`, :class:`Sizing`, :class:`B3Costs`.)

    Returns
    -------
    equity, cash, exposure : float64 arrays (n,)
    trades : float64 array (m, 13)
        Closed trades (fields ``_T_*``).
    """
    n, k = open_.shape
    slip = slip_bps / 10_000.0
    borrow_daily = borrow_annual / 252.0
    equity = np.empty(n)
    cash_out = np.empty(n)
    exposure = np.zeros(n)
    trades = np.empty((n * k + k, _NT))
    nt = 0
    cash = cash0
    pos = np.zeros(k)
    e_bar = np.zeros(k, dtype=np.int64)
    e_px = np.zeros(k)
    e_fee = np.zeros(k)
    e_stop = np.full(k, np.nan)
    stop = np.full(k, np.nan)
    target = np.full(k, np.nan)
    peak = np.zeros(k)
    borrow = np.zeros(k)
    at_open = np.zeros(k, dtype=np.bool_)
    last = np.full(k, np.nan)
    # Past-trade statistics for Kelly (returns per trade).
    n_closed = 0
    n_win = 0
    sum_win = 0.0
    sum_loss = 0.0
    n_open = 0

    for i in range(n):
        if i < start:
            for j in range(k):
                if close[i, j] == close[i, j]:
                    last[j] = close[i, j]
            equity[i] = cash
            cash_out[i] = cash
            continue
        nt0 = nt
        # ---- 1. at the open: signal exits, time stops, gaps through stops/targets ----
        for j in range(k):
            if pos[j] == 0.0 or not open_[i, j] == open_[i, j] or i == 0:
                continue
            o = open_[i, j]
            long = pos[j] > 0
            sig = False
            if long:
                sig = exit_long[i - 1, j] or (allow_short and entry_short[i - 1, j])
            else:
                sig = exit_short[i - 1, j] or entry_long[i - 1, j]
            reason = -1
            px = o
            if sig:
                reason = R_SIGNAL
            elif max_bars > 0 and i - e_bar[j] >= max_bars:
                reason = R_TIME
            else:
                s = stop[j]
                trail_hit = False
                if trail_pct > 0:
                    ts = peak[j] * (1.0 - trail_pct) if long else peak[j] * (1.0 + trail_pct)
                    if not s == s or (long and ts > s) or (not long and ts < s):
                        s = ts
                        trail_hit = True
                if s == s and ((long and o <= s) or (not long and o >= s)):
                    reason = R_TRAIL if trail_hit else R_STOP
                elif target[j] == target[j] and (
                    (long and o >= target[j]) or (not long and o <= target[j])
                ):
                    reason = R_TARGET
            if reason >= 0:
                cash += _close_position(
                    j,
                    i,
                    px,
                    reason,
                    pos,
                    e_bar,
                    e_px,
                    e_fee,
                    e_stop,
                    borrow,
                    sessions,
                    slip,
                    fee_swing,
                    fee_dt,
                    brokerage,
                    trades,
                    nt,
                )
                nt += 1
                n_open -= 1
        # Kelly statistics from trades closed so far (bar i's open exits included: they
        # happened before the entries below).
        for t in range(nt0, nt):
            r = trades[t, _T_PNL] / (trades[t, _T_SH] * trades[t, _T_EPX])
            n_closed += 1
            if r > 0:
                n_win += 1
                sum_win += r
            else:
                sum_loss -= r
        nt0 = nt

        # ---- 2. entries at the open ----
        if i > 0:
            # equity at the open (for sizing)
            eq_open = cash
            # Cash free for new positions: shorts keep their value as collateral, so the
            # gross exposure never exceeds the equity (no leverage).
            free = cash
            for j in range(k):
                if pos[j] != 0.0:
                    p = open_[i, j] if open_[i, j] == open_[i, j] else last[j]
                    eq_open += pos[j] * p
                    if pos[j] < 0:
                        free += 2.0 * pos[j] * p  # proceeds owed back + collateral
            for j in range(k):
                if pos[j] != 0.0 or not open_[i, j] == open_[i, j]:
                    continue
                if n_open >= max_positions:
                    break
                direction = 0
                if entry_long[i - 1, j]:
                    direction = 1
                elif allow_short and entry_short[i - 1, j]:
                    direction = -1
                if direction == 0:
                    continue
                o = open_[i, j]
                px = o
                at_open[j] = True
                lvl = entry_lvl[i - 1, j]
                if lvl == lvl:
                    if direction > 0:
                        if o >= lvl:
                            px = o
                        elif high[i, j] >= lvl:
                            px = lvl
                            at_open[j] = False
                        else:
                            continue
                    else:
                        if o <= lvl:
                            px = o
                        elif low[i, j] <= lvl:
                            px = lvl
                            at_open[j] = False
                        else:
                            continue
                fill = px * (1.0 + direction * slip)
                s = stop_lvl[i - 1, j]
                if not s == s and sl_pct > 0:
                    s = px * (1.0 - direction * sl_pct)
                tg = target_lvl[i - 1, j]
                if not tg == tg and tp_pct > 0:
                    tg = px * (1.0 + direction * tp_pct)
                # -- size --
                if sizing == 0:  # all in: free cash over free slots
                    budget = free / max(1, max_positions - n_open)
                elif sizing == 1:  # fixed R$
                    budget = size_value
                elif sizing == 2:  # % of equity
                    budget = eq_open * size_value / 100.0
                elif sizing == 3:  # risk to the stop
                    risk_ps = (fill - s) * direction
                    if not s == s or not risk_ps > 0:
                        continue
                    budget = eq_open * size_value / 100.0 / risk_ps * fill
                else:  # Kelly from past trades only
                    if n_closed >= kelly_min_trades and n_win > 0 and n_win < n_closed:
                        w = n_win / n_closed
                        payoff = (sum_win / n_win) / (sum_loss / (n_closed - n_win))
                        f = _kelly(w, payoff, kelly_frac, kelly_cap)
                    else:
                        f = size_value / 100.0
                    budget = eq_open * f
                budget = min(budget, free)
                rate = fee_swing
                q = (budget - brokerage) / (fill * (1.0 + rate))
                q = _round_shares(q, lot, fractional)
                if q < 1.0:
                    continue
                value = q * fill
                fee = value * rate + brokerage
                if direction > 0:
                    cash -= value + fee
                    free -= value + fee
                    pos[j] = q
                else:
                    cash += value - fee
                    free -= value + fee  # the short's value stays as collateral
                    pos[j] = -q
                e_bar[j] = i
                e_px[j] = fill
                e_fee[j] = fee
                e_stop[j] = s
                stop[j] = s
                target[j] = tg
                peak[j] = px
                borrow[j] = 0.0
                n_open += 1

        # ---- 3. inside the bar: stops first, then targets ----
        for j in range(k):
            if pos[j] == 0.0 or not high[i, j] == high[i, j]:
                continue
            long = pos[j] > 0
            s = stop[j]
            trail_hit = False
            if trail_pct > 0:
                ts = peak[j] * (1.0 - trail_pct) if long else peak[j] * (1.0 + trail_pct)
                if not s == s or (long and ts > s) or (not long and ts < s):
                    s = ts
                    trail_hit = True
            reason = -1
            px = 0.0
            if s == s and ((long and low[i, j] <= s) or (not long and high[i, j] >= s)):
                reason = R_TRAIL if trail_hit else R_STOP
                px = s
                # A stop beyond an entry made at this bar's open exits at that open.
                if e_bar[j] == i and at_open[j]:
                    o = open_[i, j]
                    px = min(s, o) if long else max(s, o)
            elif target[j] == target[j] and (
                (long and high[i, j] >= target[j]) or (not long and low[i, j] <= target[j])
            ):
                reason = R_TARGET
                px = target[j]
            if reason >= 0:
                cash += _close_position(
                    j,
                    i,
                    px,
                    reason,
                    pos,
                    e_bar,
                    e_px,
                    e_fee,
                    e_stop,
                    borrow,
                    sessions,
                    slip,
                    fee_swing,
                    fee_dt,
                    brokerage,
                    trades,
                    nt,
                )
                nt += 1
                n_open -= 1
            else:
                if long:
                    peak[j] = max(peak[j], high[i, j])
                else:
                    peak[j] = min(peak[j], low[i, j])
        for t in range(nt0, nt):
            r = trades[t, _T_PNL] / (trades[t, _T_SH] * trades[t, _T_EPX])
            n_closed += 1
            if r > 0:
                n_win += 1
                sum_win += r
            else:
                sum_loss -= r

        # ---- 4. borrow fees, mark to the close ----
        for j in range(k):
            if close[i, j] == close[i, j]:
                last[j] = close[i, j]
        new_session = i == 0 or sessions[i] != sessions[i - 1]
        eq = cash
        gross = 0.0
        for j in range(k):
            if pos[j] != 0.0:
                v = pos[j] * last[j]
                if pos[j] < 0 and (new_session or e_bar[j] == i):
                    fee = -v * borrow_daily
                    cash -= fee
                    eq -= fee
                    borrow[j] += fee
                eq += v
                gross += abs(v)
        equity[i] = eq
        cash_out[i] = cash
        exposure[i] = gross / eq if eq > 0 else 0.0

    # ---- close what is still open at the last close ----
    if n > 0:
        i = n - 1
        for j in range(k):
            if pos[j] != 0.0:
                cash += _close_position(
                    j,
                    i,
                    last[j],
                    R_END,
                    pos,
                    e_bar,
                    e_px,
                    e_fee,
                    e_stop,
                    borrow,
                    sessions,
                    slip,
                    fee_swing,
                    fee_dt,
                    brokerage,
                    trades,
                    nt,
                )
                nt += 1
        equity[i] = cash
        cash_out[i] = cash
    return equity, cash_out, exposure, trades[:nt].copy()


def _frame(x, index, columns) -> pd.DataFrame:
    return x.reindex(index=index, columns=columns)


def _as_dict(obj, name: str) -> dict[str, pd.DataFrame]:
    if isinstance(obj, pd.DataFrame):
        return {name: obj}
    return dict(obj)


def run_engine(
    bars: pd.DataFrame | dict[str, pd.DataFrame],
    signals: pd.DataFrame | dict[str, pd.DataFrame],
    config: EngineConfig | None = None,
    *,
    start=None,
    sessions: np.ndarray | None = None,
) -> EngineResult:
    """Run the engine on one ticker's bars or a portfolio of tickers.

    Parameters
    ----------
    bars : DataFrame or dict of str to DataFrame
        Canonical bars (one frame, or one per ticker; the portfolio trades on the union of
        their dates and a ticker is skipped on dates it has no bar).
    signals : DataFrame or dict of str to DataFrame
        Per ticker, a frame on the same index with any of :data:`SIGNAL_COLUMNS`
        (booleans ``entry_long, exit_long, entry_short, exit_short``; absolute price levels
        ``stop, target, entry_level``, NaN for none).
    config : EngineConfig
        Cash, costs, sizing, stops, shorting, position cap.
    start : date-like, optional
        First date on which orders may fill (earlier bars only warm up the signals). A
        signal on the bar just before ``start`` may fill at ``start``'s open.
    sessions : int array, optional
        Session number per bar for intraday data (default: one session per bar).

    Returns
    -------
    EngineResult

    Raises
    ------
    InputError
        On empty or mismatched input.
    """
    config = config or EngineConfig()
    bars_d = _as_dict(bars, "ATIVO")
    sig_d = _as_dict(signals, "ATIVO")
    tickers = list(bars_d)
    if not tickers:
        raise InputError("Nenhum ativo para o backtest.")
    missing = [t for t in tickers if t not in sig_d]
    if missing:
        raise InputError(f"Sem sinais para {', '.join(missing)}.")
    if len(tickers) == 1:
        index = bars_d[tickers[0]].index
    else:
        index = bars_d[tickers[0]].index
        for t in tickers[1:]:
            index = index.union(bars_d[t].index)
    if len(index) == 0:
        raise InputError("Nenhuma barra no período escolhido.")
    n, k = len(index), len(tickers)

    def stack(col: str, source: dict, fill, dtype) -> np.ndarray:
        out = np.empty((n, k), dtype=dtype)
        for j, t in enumerate(tickers):
            f = source[t]
            if col not in f.columns:
                out[:, j] = fill
                continue
            s = f[col]
            if len(f.index) != n or not f.index.equals(index):
                if source is bars_d:
                    s = s.reindex(index)
                else:
                    # A signal on a ticker's bar is carried over the union dates on which
                    # that ticker has no bar, so it acts at the ticker's next bar.
                    src = f.index.searchsorted(index, side="right") - 1
                    vals = s.to_numpy()
                    picked = vals[np.clip(src, 0, None)] if len(vals) else np.full(n, fill)
                    s = pd.Series(picked, index=index).where(src >= 0, fill)
            a = s.to_numpy(dtype="float64" if dtype == np.float64 else None, na_value=fill)
            out[:, j] = a.astype(dtype) if dtype != np.float64 else a
        return out

    o = stack("open", bars_d, np.nan, np.float64)
    h = stack("high", bars_d, np.nan, np.float64)
    lo = stack("low", bars_d, np.nan, np.float64)
    c = stack("close", bars_d, np.nan, np.float64)
    el = stack("entry_long", sig_d, False, np.bool_)
    xl = stack("exit_long", sig_d, False, np.bool_)
    es = stack("entry_short", sig_d, False, np.bool_)
    xs = stack("exit_short", sig_d, False, np.bool_)
    sl = stack("stop", sig_d, np.nan, np.float64)
    tp = stack("target", sig_d, np.nan, np.float64)
    lv = stack("entry_level", sig_d, np.nan, np.float64)
    start_i = 0 if start is None else int(index.searchsorted(pd.Timestamp(start)))
    if start_i >= n:
        raise InputError("O início do backtest está depois da última barra.")
    sess = np.arange(n, dtype=np.int64) if sessions is None else np.asarray(sessions, np.int64)
    cfg = config
    mp = k if cfg.max_positions is None else min(int(cfg.max_positions), k)
    eq, cash, expo, tr = simulate(
        o,
        h,
        lo,
        c,
        el,
        xl,
        es,
        xs,
        sl,
        tp,
        lv,
        sess,
        start_i,
        float(cfg.cash),
        float(cfg.stop_loss),
        float(cfg.take_profit),
        float(cfg.trailing_stop),
        int(cfg.max_bars),
        bool(cfg.allow_short),
        mp,
        cfg.sizing.code,
        float(cfg.sizing.value),
        float(cfg.sizing.kelly_fraction),
        float(cfg.sizing.kelly_cap),
        int(cfg.sizing.kelly_min_trades),
        int(cfg.sizing.lot_size),
        bool(cfg.sizing.fractional),
        float(cfg.costs.swing_fee_rate),
        float(cfg.costs.day_trade_fee_rate),
        float(cfg.costs.brokerage_per_order),
        float(cfg.costs.slippage_bps),
        float(cfg.costs.borrow_rate_annual),
    )
    trades = trades_frame(tr, index, tickers, sess, cfg.sizing.lot_size)
    return EngineResult(
        equity=pd.Series(eq, index=index, name="equity"),
        cash=pd.Series(cash, index=index, name="cash"),
        exposure=pd.Series(expo, index=index, name="exposure"),
        trades=trades,
        start=index[start_i],
    )


def simulate_single(
    prices: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    signals: pd.DataFrame,
    config: EngineConfig,
    start: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fast path for sweeps: one ticker's ``(open, high, low, close)`` arrays (n,) and its
    signal frame straight into :func:`simulate`, without the pandas bookkeeping.

    Returns
    -------
    (equity, trades) : the kernel's equity array (n,) and trade matrix.
    """
    o, h, lo, c = (np.ascontiguousarray(a, dtype=np.float64).reshape(-1, 1) for a in prices)
    n = o.shape[0]

    def col(name, fill, dtype):
        if name not in signals.columns:
            return np.full((n, 1), fill, dtype=dtype)
        return np.ascontiguousarray(
            signals[name].to_numpy(dtype=dtype, na_value=fill).reshape(-1, 1)
        )

    cfg = config
    eq, _, _, tr = simulate(
        o,
        h,
        lo,
        c,
        col("entry_long", False, np.bool_),
        col("exit_long", False, np.bool_),
        col("entry_short", False, np.bool_),
        col("exit_short", False, np.bool_),
        col("stop", np.nan, np.float64),
        col("target", np.nan, np.float64),
        col("entry_level", np.nan, np.float64),
        np.arange(n, dtype=np.int64),
        int(start),
        float(cfg.cash),
        float(cfg.stop_loss),
        float(cfg.take_profit),
        float(cfg.trailing_stop),
        int(cfg.max_bars),
        bool(cfg.allow_short),
        1,
        cfg.sizing.code,
        float(cfg.sizing.value),
        float(cfg.sizing.kelly_fraction),
        float(cfg.sizing.kelly_cap),
        int(cfg.sizing.kelly_min_trades),
        int(cfg.sizing.lot_size),
        bool(cfg.sizing.fractional),
        float(cfg.costs.swing_fee_rate),
        float(cfg.costs.day_trade_fee_rate),
        float(cfg.costs.brokerage_per_order),
        float(cfg.costs.slippage_bps),
        float(cfg.costs.borrow_rate_annual),
    )
    return eq, tr


def trades_frame(
    tr: np.ndarray,
    index: pd.DatetimeIndex,
    tickers: list[str],
    sessions: np.ndarray,
    lot_size: int = 100,
) -> pd.DataFrame:
    """Readable per-trade bookkeeping from the kernel's trade matrix (:data:`TRADE_COLUMNS`)."""
    if len(tr) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in TRADE_COLUMNS}).assign(
            ticker=pd.Series(dtype="str"),
            entry_date=pd.Series(dtype="datetime64[ns]"),
            exit_date=pd.Series(dtype="datetime64[ns]"),
            exit_reason=pd.Series(dtype="str"),
            day_trade=pd.Series(dtype="bool"),
        )
    order = np.lexsort((tr[:, _T_TICKER], tr[:, _T_EBAR], tr[:, _T_XBAR]))
    tr = tr[order]
    eb = tr[:, _T_EBAR].astype(np.int64)
    xb = tr[:, _T_XBAR].astype(np.int64)
    sh = tr[:, _T_SH]
    entry_value = sh * tr[:, _T_EPX]
    lots = (sh // lot_size) * lot_size
    df = pd.DataFrame(
        {
            "ticker": [tickers[int(j)] for j in tr[:, _T_TICKER]],
            "direction": np.where(tr[:, _T_DIR] > 0, "compra", "venda"),
            "entry_date": index[eb],
            "entry_price": tr[:, _T_EPX],
            "exit_date": index[xb],
            "exit_price": tr[:, _T_XPX],
            "shares": sh.astype(np.int64),
            "round_lot_shares": lots.astype(np.int64),
            "fractional_shares": (sh - lots).astype(np.int64),
            "entry_value": entry_value,
            "exit_value": sh * tr[:, _T_XPX],
            "fees": tr[:, _T_EFEE] + tr[:, _T_XFEE],
            "borrow": tr[:, _T_BORROW],
            "pnl": tr[:, _T_PNL],
            "return_pct": 100.0 * tr[:, _T_PNL] / entry_value,
            "bars_held": xb - eb,
            "day_trade": sessions[eb] == sessions[xb],
            "exit_reason": [EXIT_REASONS[int(r)] for r in tr[:, _T_REASON]],
            "stop_at_entry": tr[:, _T_STOP],
        }
    )
    return df.reset_index(drop=True)
