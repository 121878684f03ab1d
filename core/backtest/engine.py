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
  after the fill (entered at the open, or at the entry level, then stopped out), and a
  target already beyond the entry price fills at the entry price: a target is a limit
  order and never fills worse than the market. The rules live in
  :mod:`core.backtest.fills` (shared with the paper-trading broker).
* Corporate actions (``actions``) act on their ex-dates before the open: splits, reverse
  splits and bonus shares change the position, dividends and JCP (net of 15 % withheld)
  are credited as cash, shorts pay them; ``EngineConfig.reinvest`` buys more shares with
  them; ``EngineConfig.cash_interest`` pays a share of the CDI on idle cash.
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

Day-trade mode (``flat`` codes, :func:`flatten_codes`): on a bar with code 1 every open
position is closed at the bar's close after the intrabar stops (reason ``fim do pregão``);
a bar with code 2 (after the session's flatten time) takes no entry. Futures
(``contracts``, :class:`ContractTerms`): the prices the engine sees are R$ per contract
(points × point value), so ``pnl = contracts × Δprice − fees`` is points × point value ×
contracts; an entry needs ``contracts × margin + fees`` of free cash and pays only its fees
(the margin stays in cash, blocked while open); the equity holds the open result; fees
are per contract and side (:func:`core.backtest.costs.contract_fee`, day-trade rate for
both orders of a same-session trade); slippage is an absolute price move (ticks); shorts
pay no borrow fee.

:func:`simulate` takes three records (:class:`Market`, :class:`Signals`, :class:`Params`)
of ``(n_bars, n_tickers)`` arrays and scalars and runs the compiled loop ``_kernel``, one
small ``@njit`` helper per step; :func:`run_engine` is the thin pandas layer around it.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd

from core.backtest.costs import B3_DEFAULT, B3Costs, contract_fee, n_orders, order_fee
from core.backtest.fills import (
    contract_fill,
    entry_fill,
    market_fill,
    stop_fill,
    target_fill,
    trail_level,
)
from core.backtest.sizing import Sizing, _kelly, _round_shares
from core.errors import InputError
from core.textfmt import pct

__all__ = [
    "EngineConfig",
    "EngineResult",
    "ContractTerms",
    "flatten_codes",
    "EXIT_REASONS",
    "TRADE_COLUMNS",
    "SIGNAL_COLUMNS",
    "simulate",
    "simulate_single",
    "Market",
    "Signals",
    "Params",
    "JCP_WITHHOLDING",
    "warm_up",
    "run_engine",
    "engine_inputs",
    "entry_levels",
    "EngineInputs",
    "trades_frame",
]

#: Exit reason codes of the kernel, in order (pt-BR labels shown to users).
EXIT_REASONS: tuple[str, ...] = (
    "sinal",
    "stop",
    "alvo",
    "stop móvel",
    "tempo",
    "fim",
    "fim do pregão",
)
R_SIGNAL, R_STOP, R_TARGET, R_TRAIL, R_TIME, R_END, R_SESSION = range(7)

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
    "proventos",
    "day_trade_qty",
    "day_trade_pnl",
    "swing_pnl",
    "sale_value",
    "day_trade_sale_value",
)

#: JCP income tax withheld at source (Lei 9.249/1995, art. 9, § 2º): 15 %.
JCP_WITHHOLDING = 0.15

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
_T_PROV, _T_DTQ, _T_DTPNL, _T_SWPNL = 13, 14, 15, 16
_NT = 17


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
    reinvest : bool or None
        Reinvest proventos in the paying position at the ex-date's open (a total-return
        baseline); False keeps them as cash, as a broker account does; None: the
        strategy's default (:attr:`core.strategies.base.Strategy.reinvests`).
    cash_interest : float
        Share of the CDI paid on idle cash (0 = none, 1 = 100 % of the CDI), credited per
        session from :mod:`core.rates`.
    jcp_withholding : float
        JCP income tax withheld at source (15 %, Lei 9.249/1995 art. 9 § 2º).
    day_trade : bool
        Day-trade mode (used by :func:`core.backtest.runner.run_backtest`): every position is
        closed at the close of the session's last bar ending at or before ``flatten_minutes``
        before the session's end, no entry is made after that, and no signal carries over
        to the next session — nothing is held overnight.
    flatten_minutes : int
        Minutes before the session's end by which day-trade positions are closed (0-240).
    margin_per_contract : float or None
        Futures: margin per contract in R$ (None: the contract's default,
        :mod:`core.data.futures`; day-trade margin in day-trade mode, else overnight).
    fee_per_contract_day_trade, fee_per_contract_regular : float or None
        Futures: B3 fee per contract and side in R$ (None: the contract's defaults).
    slippage_ticks : float
        Futures: slippage per fill in ticks of the contract (WIN: 1 tick = 5 points).
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
    reinvest: bool | None = None
    cash_interest: float = 0.0
    jcp_withholding: float = JCP_WITHHOLDING
    day_trade: bool = False
    flatten_minutes: int = 10
    margin_per_contract: float | None = None
    fee_per_contract_day_trade: float | None = None
    fee_per_contract_regular: float | None = None
    slippage_ticks: float = 1.0

    def __post_init__(self) -> None:
        if not self.cash > 0:
            raise InputError(f"O capital inicial deve ser positivo (recebido {self.cash}).")
        labels = {"stop_loss": "Stop-loss", "take_profit": "Alvo", "trailing_stop": "Stop móvel"}
        for name, label in labels.items():
            v = getattr(self, name)
            if not 0 <= v < 1:
                raise InputError(
                    f"{label} deve ficar entre 0% e 100% do preço de entrada (recebido {pct(v)})."
                )
        if self.max_bars < 0:
            raise InputError("O stop de tempo não pode ser negativo.")
        if self.max_positions is not None and self.max_positions < 1:
            raise InputError("O número máximo de posições deve ser ≥ 1.")
        if not 0 <= int(self.flatten_minutes) <= 240:
            raise InputError(
                "O encerramento do day trade deve ficar entre 0 e 240 minutos antes do fim do "
                f"pregão (recebido {self.flatten_minutes})."
            )
        for name, label in (
            ("margin_per_contract", "Margem por contrato"),
            ("fee_per_contract_day_trade", "Taxa por contrato (day trade)"),
            ("fee_per_contract_regular", "Taxa por contrato"),
            ("slippage_ticks", "Derrapagem (ticks)"),
        ):
            v = getattr(self, name)
            if v is not None and not (float(v) >= 0 and math.isfinite(float(v))):
                raise InputError(f"{label} deve ser um valor não negativo (recebido {v}).")
        if not 0 <= self.cash_interest <= 2:
            raise InputError(
                "A remuneração do caixa deve ficar entre 0% e 200% do CDI "
                f"(recebido {pct(self.cash_interest, 0)})."
            )

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
            "reinvest": self.reinvest,
            "cash_interest": self.cash_interest,
            "jcp_withholding": self.jcp_withholding,
            "day_trade": self.day_trade,
            "flatten_minutes": self.flatten_minutes,
            "margin_per_contract": self.margin_per_contract,
            "fee_per_contract_day_trade": self.fee_per_contract_day_trade,
            "fee_per_contract_regular": self.fee_per_contract_regular,
            "slippage_ticks": self.slippage_ticks,
        }

    @classmethod
    def from_dict(cls, d: dict) -> EngineConfig:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["costs"] = B3Costs(**d.get("costs", {}))
        d["sizing"] = Sizing(**d.get("sizing", {}))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


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
    proventos : float
        Net proventos credited (dividends + JCP net of withholding + cash for fractions of
        shares) minus those paid by shorts, R$.
    interest : float
        Interest on idle cash, R$.
    jcp_withheld : float
        JCP income tax withheld at source on long positions, R$.
    trade_columns : dict of str to numpy.ndarray or None
        The arrays ``trades`` was built from (:func:`trade_columns`: the same values, one
        array (m,) per column), so that metrics and taxes need not read them back from the
        frame; None when there is no trade.
    """

    equity: pd.Series
    cash: pd.Series
    exposure: pd.Series
    trades: pd.DataFrame
    start: pd.Timestamp
    proventos: float = 0.0
    interest: float = 0.0
    jcp_withheld: float = 0.0
    trade_columns: dict | None = field(default=None, repr=False)

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


@dataclass(frozen=True)
class ContractTerms:
    """How the engine trades one futures ticker (R$; prices already per contract).

    Attributes
    ----------
    margin : float
        Margin per contract in R$ (> 0): an entry needs ``contracts × margin + fees`` of free
        cash; the margin stays in cash but is blocked while the position is open.
    fee_regular, fee_day_trade : float
        B3 fee per contract and side in R$ (:func:`core.backtest.costs.contract_fee`); both
        orders of a trade opened and closed in one session pay ``fee_day_trade``.
    slippage : float
        Adverse move per fill in engine price units (ticks × tick × point value, R$).
    """

    margin: float
    fee_regular: float
    fee_day_trade: float
    slippage: float = 0.0

    def __post_init__(self) -> None:
        if not self.margin > 0:
            raise InputError(f"A margem por contrato deve ser positiva (recebido {self.margin}).")


def flatten_codes(index: pd.DatetimeIndex, minutes: int, bar_minutes: int | None) -> np.ndarray:
    """Day-trade flatten codes per bar (see :class:`Market` ``flat``).

    A session is a calendar day of ``index``; its end is the end of its last bar (opening
    label + ``bar_minutes``) — the data's own session end, which follows B3's hours (they
    move with daylight saving). Positions are closed at the close of the last bar ending at
    or before ``end − minutes`` (code 1; the session's first bar when none does), and later
    bars of the session take no entry (code 2). Daily bars (``bar_minutes`` None): each bar
    is its session and closes every position at its close.

    Parameters
    ----------
    index : DatetimeIndex (n,)
        Sorted bar labels (opening minute for intraday bars).
    minutes : int
        Flatten this many minutes before the session's end.
    bar_minutes : int or None
        Bar length in minutes (None for daily bars).

    Returns
    -------
    float64 array (n,) of 0, 1 and 2.
    """
    n = len(index)
    out = np.zeros(n)
    if n == 0:
        return out
    if bar_minutes is None:
        out[:] = 1.0
        return out
    d8 = pd.DatetimeIndex(index).as_unit("ns").asi8
    day = d8 - d8 % 86_400_000_000_000
    step = int(bar_minutes) * 60_000_000_000
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    ends = np.r_[starts[1:], n]
    for a, b in zip(starts, ends):
        cutoff = d8[b - 1] + step - int(minutes) * 60_000_000_000
        ok = np.flatnonzero(d8[a:b] + step <= cutoff)
        f = a + (int(ok[-1]) if len(ok) else 0)
        out[f] = 1.0
        out[f + 1 : b] = 2.0
    return out


# --------------------------------------------------------------------------- the kernel
#: Arrays describing the market, one value per bar (n,) or per bar and ticker (n, k).
Market = namedtuple(
    "Market",
    "open high low close split cash_div cash_jcp sessions fee_sw fee_dt rf lot "
    "flat unit_fee_sw unit_fee_dt margin slip_abs",
    defaults=(None, None, None, None, None),
)
Market.__doc__ = """Market arrays of the kernel.

open, high, low, close : float64 (n, k), R$ (NaN where a ticker has no bar)
split : float64 (n, k), shares after / shares before on an ex-date (1.0 elsewhere)
cash_div, cash_jcp : float64 (n, k), gross R$ per share with that ex-date (0.0 elsewhere)
sessions : int64 (n,), session number per bar
fee_sw, fee_dt : float64 (n,), B3 fee rates in force per bar (swing, day trade)
rf : float64 (n,), CDI simple return from the previous bar's close to this bar
lot : float64 (k,), standard lot per ticker
flat : float64 (n,), day-trade mode (None: zeros): 1 closes every position at this bar's
    close (reason "fim do pregão"); 2 also refuses entries at this bar's open (a bar after the
    session's flatten time)
unit_fee_sw, unit_fee_dt : float64 (k,), futures: B3 fee per contract and side in R$
    (regular, day trade); 0 for cash equities (None: zeros)
margin : float64 (k,), futures: margin per contract in R$; > 0 marks a futures ticker,
    whose prices are R$ per contract (points × point value), whose cash moves only by
    P&L and fees (no notional paid), and whose fees are per contract (None: zeros)
slip_abs : float64 (k,), futures: slippage per fill in price units (ticks × tick × point
    value), used instead of the fractional ``slip`` (None: zeros)
"""
#: Strategy signals at the close of each bar, (n, k).
Signals = namedtuple(
    "Signals", "entry_long exit_long entry_short exit_short stop target entry_level"
)
#: Every scalar setting of a run, in one record.
Params = namedtuple(
    "Params",
    "start cash0 sl_pct tp_pct trail_pct max_bars allow_short max_positions sizing "
    "size_value kelly_frac kelly_cap kelly_min fractional brokerage slip borrow_daily "
    "jcp_wht reinvest interest",
)
# Packed kernel arrays (one array per group: few reference counts per helper call).
# M (7, n, k): per bar and ticker.
_OPEN, _HIGH, _LOW, _CLOSE, _SPLIT, _DIV, _JCP = range(7)
# V (5, n): per bar.
_SESS, _FSW, _FDT, _RF, _FLAT = range(5)
# SB (4, n, k) booleans and SL (3, n, k) levels: the signals.
_EL, _XL, _ES, _XS = range(4)
_STOPL, _TGTL, _LVL = range(3)
# S (21, k): the state of each ticker's position (floats; NaN = none).
(
    _POS,
    _EBAR,
    _EPX,
    _EREF,
    _EFEE,
    _ESTOP,
    _STOP,
    _TGT,
    _PEAK,
    _BORROW,
    _LAST,
    _PROV,
    _PPEND,
    _TADJ,
    _XSESS,
    _XQ,
    _XDIR,
    _XROW,
    _XPX,
    _XDT,
    _LOT,
    _UFSW,
    _UFDT,
    _MARGIN,
    _SLIPA,
) = range(25)
_NS = 25
# TK (5, k): per ticker constants (lot, futures fees, margin, absolute slippage).
_TK_LOT, _TK_UFSW, _TK_UFDT, _TK_MARGIN, _TK_SLIPA = range(5)

# Scalar slots of the run (``SC``).
_CASH, _NT_, _NOPEN, _NCLOSED, _NWIN, _SUMWIN, _SUMLOSS = range(7)
_PROV_T, _INTEREST, _JCPWHT = 7, 8, 9
_NSC = 10


@numba.njit(cache=True)
def _new_state(k, TK):
    S = np.zeros((_NS, k))
    for f in (_ESTOP, _STOP, _TGT, _LAST):
        S[f, :] = np.nan
    S[_XSESS, :] = -1.0
    S[_LOT, :] = TK[_TK_LOT]
    S[_UFSW, :] = TK[_TK_UFSW]
    S[_UFDT, :] = TK[_TK_UFDT]
    S[_MARGIN, :] = TK[_TK_MARGIN]
    S[_SLIPA, :] = TK[_TK_SLIPA]
    return S


@numba.njit(cache=True, inline="always")
def _fill(S, p, j, px, d):
    """Market fill of ticker ``j``: fractional slippage, or ticks for a futures contract."""
    if S[_MARGIN, j] > 0:
        return contract_fill(px, d, S[_SLIPA, j])
    return market_fill(px, d, p.slip)


@numba.njit(cache=True, inline="always")
def _fee(S, V, p, j, i, q, px, day_trade):
    """Cost of one order of ``q`` units of ``j`` at ``px`` on bar ``i`` (R$).

    Cash equities: B3 rate on the traded value plus brokerage per order
    (:func:`~core.backtest.costs.order_fee`); futures: per contract
    (:func:`~core.backtest.costs.contract_fee`).
    """
    if S[_MARGIN, j] > 0:
        return contract_fee(q, S[_UFDT, j] if day_trade else S[_UFSW, j], p.brokerage)
    rate = V[_FDT, i] if day_trade else V[_FSW, i]
    return order_fee(q * px, rate, p.brokerage, n_orders(q, S[_LOT, j]))


@numba.njit(cache=True, inline="always")
def _fee_gap(S, V, j, i, q, px):
    """Swing minus day-trade B3 fee of ``q`` units at ``px`` (no brokerage), R$."""
    if S[_MARGIN, j] > 0:
        return q * (S[_UFSW, j] - S[_UFDT, j])
    return q * px * (V[_FSW, i] - V[_FDT, i])


@numba.njit(cache=True, inline="always")
def _close_position(S, TR, SC, M, V, p, j, i, px_raw, reason):
    """Close position ``j`` at market price ``px_raw`` on bar ``i`` (records the trade)."""
    sh = S[_POS, j]
    q = abs(sh)
    d = 1 if sh > 0 else -1
    day_trade = V[_SESS, int(S[_EBAR, j])] == V[_SESS, i]
    fill = _fill(S, p, j, px_raw, -d)
    value = q * fill
    x_fee = _fee(S, V, p, j, i, q, fill, day_trade)
    entry_fee = S[_EFEE, j]
    cash = SC[_CASH]
    if day_trade:
        # Both orders pay the day-trade rate: refund the swing fee charged at the entry.
        dt_entry_fee = _fee(S, V, p, j, i, q, S[_EPX, j], True)
        cash += entry_fee - dt_entry_fee
        entry_fee = dt_entry_fee
    if S[_MARGIN, j] > 0:  # futures: only the result moves cash (no notional was paid)
        cash += d * q * (fill - S[_EPX, j]) - x_fee
    elif d > 0:
        cash += value - x_fee
    else:
        cash -= value + x_fee
    pnl = d * q * (fill - S[_EPX, j]) - entry_fee - x_fee - S[_BORROW, j]
    SC[_CASH] = cash
    nt = int(SC[_NT_])
    tr = TR
    tr[nt, _T_TICKER] = j
    tr[nt, _T_DIR] = d
    tr[nt, _T_EBAR] = S[_EBAR, j]
    tr[nt, _T_EPX] = S[_EPX, j]
    tr[nt, _T_XBAR] = i
    tr[nt, _T_XPX] = fill
    tr[nt, _T_SH] = q
    tr[nt, _T_EFEE] = entry_fee
    tr[nt, _T_XFEE] = x_fee
    tr[nt, _T_BORROW] = S[_BORROW, j]
    tr[nt, _T_PNL] = pnl
    tr[nt, _T_REASON] = reason
    tr[nt, _T_STOP] = S[_ESTOP, j]
    tr[nt, _T_PROV] = S[_PROV, j]
    tr[nt, _T_DTQ] = q if day_trade else 0.0
    tr[nt, _T_DTPNL] = pnl if day_trade else 0.0
    # Swing result for the income tax: deferred cost basis (tax_adj) of a same-session
    # re-entry is realised here.
    tr[nt, _T_SWPNL] = S[_TADJ, j] + (0.0 if day_trade else pnl)
    SC[_NT_] = nt + 1
    S[_XSESS, j] = V[_SESS, i]
    S[_XQ, j] = q
    S[_XDIR, j] = d
    S[_XROW, j] = nt
    S[_XPX, j] = fill
    S[_XDT, j] = 1.0 if day_trade else 0.0
    # Kelly statistics (returns per trade on the entry value).
    r = pnl / (q * S[_EPX, j])
    SC[_NCLOSED] += 1
    if r > 0:
        SC[_NWIN] += 1
        SC[_SUMWIN] += r
    else:
        SC[_SUMLOSS] -= r
    SC[_NOPEN] -= 1
    S[_POS, j] = 0.0
    S[_BORROW, j] = 0.0
    S[_PROV, j] = 0.0
    S[_PPEND, j] = 0.0
    S[_TADJ, j] = 0.0


@numba.njit(cache=True, inline="always")
def _accrue_interest(S, TR, SC, M, V, p, i):
    """CDI on idle cash since the previous close (cash minus short proceeds and collateral)."""
    if p.interest <= 0 or i == 0:
        return
    idle = SC[_CASH]
    for j in range(S.shape[1]):
        if S[_POS, j] < 0 and S[_MARGIN, j] <= 0:
            idle += 2.0 * S[_POS, j] * S[_LAST, j]
    if idle > 0:
        x = idle * V[_RF, i] * p.interest
        SC[_CASH] += x
        SC[_INTEREST] += x


@numba.njit(cache=True, inline="always")
def _apply_actions(S, TR, SC, M, V, p, j, i):
    """Proventos and share events of ticker ``j`` with ex-date on bar ``i``.

    Cash dividends are credited gross (exempt), JCP net of the withholding; a short pays the
    lender what the lender would have received. Splits, reverse splits and bonus shares
    multiply the position and divide its prices; a fraction of a share is sold at the
    event-adjusted previous close (the company auctions fractions and pays cash).
    """
    sh = S[_POS, j]
    if sh == 0.0:
        return
    d = 1.0 if sh > 0 else -1.0
    q = abs(sh)
    cd = M[_DIV, i, j]
    cj = M[_JCP, i, j]
    if cd > 0 or cj > 0:
        amt = q * (cd + cj * (1.0 - p.jcp_wht))
        SC[_CASH] += d * amt
        SC[_PROV_T] += d * amt
        S[_PROV, j] += d * amt
        if d > 0:
            SC[_JCPWHT] += q * cj * p.jcp_wht
            if p.reinvest:
                S[_PPEND, j] += amt
    r = M[_SPLIT, i, j]
    if r > 0 and r != 1.0:
        newq = q * r
        whole = math.floor(newq + 1e-9)
        ref = S[_LAST, j] / r
        if whole < 1.0:
            whole = 1.0  # never let an event erase a position: keep one share
        frac = newq - whole
        if frac > 1e-9:
            SC[_CASH] += d * frac * ref
            SC[_PROV_T] += d * frac * ref
            S[_PROV, j] += d * frac * ref
        # Cost basis is preserved (Receita: same total cost over the new quantity).
        S[_EPX, j] = S[_EPX, j] * q / whole
        S[_EREF, j] = S[_EREF, j] / r
        S[_STOP, j] = S[_STOP, j] / r
        S[_TGT, j] = S[_TGT, j] / r
        S[_ESTOP, j] = S[_ESTOP, j] / r
        S[_PEAK, j] = S[_PEAK, j] / r
        S[_LAST, j] = ref
        S[_POS, j] = d * whole


@numba.njit(cache=True, inline="always")
def _reinvest(S, TR, SC, M, V, p, j, i):
    """Buy more shares of a long position with its pending proventos, at the open of ``i``."""
    budget = S[_PPEND, j]
    o = M[_OPEN, i, j]
    if budget <= 0 or S[_POS, j] <= 0 or not o == o:
        return
    fill = market_fill(o, 1, p.slip)
    rate = V[_FSW, i]
    lot = S[_LOT, j]
    dq = _round_shares((budget - p.brokerage) / (fill * (1.0 + rate)), lot, p.fractional)
    fee = order_fee(dq * fill, rate, p.brokerage, n_orders(dq, lot))
    while dq >= 1.0 and dq * fill + fee > budget:
        dq = _round_shares(dq - 1.0, lot, p.fractional)
        fee = order_fee(dq * fill, rate, p.brokerage, n_orders(dq, lot))
    if dq < 1.0 or dq * fill + fee > SC[_CASH]:
        return
    q = S[_POS, j]
    S[_EPX, j] = (q * S[_EPX, j] + dq * fill) / (q + dq)
    S[_EFEE, j] += fee
    S[_POS, j] = q + dq
    SC[_CASH] -= dq * fill + fee
    S[_PPEND, j] -= dq * fill + fee


@numba.njit(cache=True, inline="always")
def _stop_in_force(S, p, j, d):
    return trail_level(S[_STOP, j], S[_PEAK, j], p.trail_pct, d)


@numba.njit(cache=True, inline="always")
def _exit_at_open(S, TR, SC, M, V, SB, SL, p, j, i):
    """Signal exits, time stops and gaps through stops/targets at the open of bar ``i``."""
    o = M[_OPEN, i, j]
    if S[_POS, j] == 0.0 or not o == o or i == 0:
        return
    d = 1 if S[_POS, j] > 0 else -1
    if d > 0:
        sig = SB[_XL, i - 1, j] or (p.allow_short and SB[_ES, i - 1, j])
    else:
        sig = SB[_XS, i - 1, j] or SB[_EL, i - 1, j]
    reason = -1
    if sig:
        reason = R_SIGNAL
    elif p.max_bars > 0 and i - S[_EBAR, j] >= p.max_bars:
        reason = R_TIME
    else:
        s, trailing = _stop_in_force(S, p, j, d)
        if stop_fill(o, o, o, s, d, o) == o:
            reason = R_TRAIL if trailing else R_STOP
        elif target_fill(o, o, o, S[_TGT, j], d, o) == o:
            reason = R_TARGET
    if reason >= 0:
        _close_position(S, TR, SC, M, V, p, j, i, o, reason)


@numba.njit(cache=True)
def entry_levels(px, stop, target, d, sl_pct, tp_pct):
    """Stop and target of an entry at raw price ``px`` in direction ``d``.

    The strategy's own levels (``stop``, ``target``; NaN for none) win; otherwise
    ``sl_pct`` / ``tp_pct`` (fractions of ``px``, 0 disables) set them. Shared with the
    paper-trading runner, which places the same levels as bracket children.

    Returns
    -------
    (stop, target) : floats, R$ (NaN: none)
    """
    s = stop
    if not s == s and sl_pct > 0:
        s = px * (1.0 - d * sl_pct)
    tg = target
    if not tg == tg and tp_pct > 0:
        tg = px * (1.0 + d * tp_pct)
    return s, tg


@numba.njit(cache=True, inline="always")
def _budget(S, SC, p, d, fill, s, eq_open, free):
    """R$ to commit to an entry under the sizing method (NaN: skip the entry)."""
    if p.sizing == 0:  # all in: free cash over free slots
        budget = free / max(1, p.max_positions - int(SC[_NOPEN]))
    elif p.sizing == 1:  # fixed R$
        budget = p.size_value
    elif p.sizing == 2:  # % of equity
        budget = eq_open * p.size_value / 100.0
    elif p.sizing == 3:  # risk to the stop
        risk_ps = (fill - s) * d
        if not s == s or not risk_ps > 0:
            return np.nan
        budget = eq_open * p.size_value / 100.0 / risk_ps * fill
    elif p.sizing == 5:  # a fixed quantity (contracts): sized in _enter, capped by free cash
        return free
    else:  # Kelly from past trades only
        n_closed = SC[_NCLOSED]
        n_win = SC[_NWIN]
        if n_closed >= p.kelly_min and n_win > 0 and n_win < n_closed:
            w = n_win / n_closed
            payoff = (SC[_SUMWIN] / n_win) / (SC[_SUMLOSS] / (n_closed - n_win))
            f = _kelly(w, payoff, p.kelly_frac, p.kelly_cap)
        else:
            f = p.size_value / 100.0
        budget = eq_open * f
    return min(budget, free)


@numba.njit(cache=True, inline="always")
def _enter(S, TR, SC, M, V, SB, SL, p, j, i, d, eq_open, free):
    """Enter ticker ``j`` in direction ``d`` at bar ``i``; returns the free cash used."""
    px, at_open = entry_fill(M[_OPEN, i, j], M[_HIGH, i, j], M[_LOW, i, j], SL[_LVL, i - 1, j], d)
    if not px == px:
        return 0.0
    fill = _fill(S, p, j, px, d)
    s, tg = entry_levels(px, SL[_STOPL, i - 1, j], SL[_TGTL, i - 1, j], d, p.sl_pct, p.tp_pct)
    budget = _budget(S, SC, p, d, fill, s, eq_open, free)
    if not budget == budget:
        return 0.0
    lot = S[_LOT, j]
    rate = V[_FSW, i]
    fut = S[_MARGIN, j] > 0
    if p.sizing == 5:
        q = _round_shares(p.size_value, lot, p.fractional)
    elif fut:
        q = math.floor((budget - p.brokerage) / (fill + S[_UFSW, j]) + 1e-9)
    else:
        q = _round_shares((budget - p.brokerage) / (fill * (1.0 + rate)), lot, p.fractional)
    # A same-session exit of the same side followed by this entry is a day trade for the
    # matched quantity (IN RFB 1.585/2015, art. 65): that part pays the day-trade rate.
    matched = 0.0
    if S[_XSESS, j] == V[_SESS, i] and S[_XDIR, j] == d and S[_XDT, j] == 0.0:
        matched = min(S[_XQ, j], q)
    fee = _entry_fee(S, V, p, j, i, q, fill, min(matched, q))
    while q >= 1.0 and _entry_cost(S, p, j, q, fill, fee, budget, free):
        q = math.floor(q - 1.0 + 1e-9) if fut else _round_shares(q - 1.0, lot, p.fractional)
        fee = _entry_fee(S, V, p, j, i, q, fill, min(matched, q))
    if q < 1.0:
        return 0.0
    matched = min(matched, q)
    value = q * fill
    tax_adj = 0.0
    if matched > 0:
        tax_adj = _match_day_trade(S, TR, SC, V, i, j, d, matched, fill, fee * matched / q)
    if fut:  # futures: the margin stays in cash (blocked, see _entries_at_open)
        SC[_CASH] -= fee
    elif d > 0:
        SC[_CASH] -= value + fee
    else:
        SC[_CASH] += value - fee
    S[_POS, j] = d * q
    S[_EBAR, j] = i
    S[_EPX, j] = fill
    S[_EREF, j] = px
    S[_EFEE, j] = fee
    S[_ESTOP, j] = s
    S[_STOP, j] = s
    S[_TGT, j] = tg
    S[_PEAK, j] = px
    S[_BORROW, j] = 0.0
    S[_PROV, j] = 0.0
    S[_PPEND, j] = 0.0
    S[_TADJ, j] = tax_adj
    SC[_NOPEN] += 1
    if fut:
        return q * S[_MARGIN, j] + fee
    return value + fee


@numba.njit(cache=True, inline="always")
def _entry_cost(S, p, j, q, fill, fee, budget, free):
    """True while ``q`` units cost more than allowed: the sizing budget (notional + fees; a
    fixed quantity has none) and, for futures, the margin of ``q`` contracts + fees ≤ free cash."""
    if S[_MARGIN, j] > 0:
        if q * S[_MARGIN, j] + fee > free + 1e-9:
            return True
        return p.sizing != 5 and q * fill + fee > budget + 1e-9
    return q * fill + fee > budget + 1e-9


@numba.njit(cache=True, inline="always")
def _entry_fee(S, V, p, j, i, q, fill, matched):
    if S[_MARGIN, j] > 0:
        return (
            contract_fee(matched, S[_UFDT, j], 0.0)
            + contract_fee(q - matched, S[_UFSW, j], 0.0)
            + (p.brokerage if q > 0 else 0.0)
        )
    return (
        order_fee(matched * fill, V[_FDT, i], 0.0, 0)
        + order_fee((q - matched) * fill, V[_FSW, i], 0.0, 0)
        + p.brokerage * n_orders(q, S[_LOT, j])
    )


@numba.njit(cache=True, inline="always")
def _match_day_trade(S, TR, SC, V, i, j, d, matched, fill, entry_fee_m):
    """Re-book the earlier same-session exit of ``j`` as a partial day trade.

    The exit's matched shares pay the day-trade rate (refund to cash); their swing result is
    deferred into the new position (the remaining position keeps its average cost) and the
    day-trade result ``matched × (sale − purchase) − fees`` is booked on the exit's row.
    Returns the tax adjustment carried by the new position.
    """
    tr = TR
    r = int(S[_XROW, j])
    xq = S[_XQ, j]
    xf = S[_XPX, j]
    refund = _fee_gap(S, V, j, i, matched, xf)
    SC[_CASH] += refund
    tr[r, _T_XFEE] -= refund
    tr[r, _T_PNL] += refund
    sw_full = tr[r, _T_SWPNL] + refund
    exit_fee_m = tr[r, _T_XFEE] * matched / tr[r, _T_SH]
    dt = matched * (xf - fill) * d - exit_fee_m - entry_fee_m
    share = matched / tr[r, _T_SH]
    tr[r, _T_SWPNL] = sw_full * (1.0 - share)
    tr[r, _T_DTQ] += matched
    tr[r, _T_DTPNL] += dt
    S[_XQ, j] = xq - matched
    return sw_full * share - dt


@numba.njit(cache=True, inline="always")
def _entries_at_open(S, TR, SC, M, V, SB, SL, p, i):
    """Entries at the open of bar ``i`` in ticker order, sized from the equity at the open."""
    k = S.shape[1]
    eq_open = SC[_CASH]
    # Cash free for new positions: shorts keep their value as collateral, so the gross
    # exposure never exceeds the equity (no leverage).
    free = SC[_CASH]
    for j in range(k):
        if S[_POS, j] != 0.0:
            px = M[_OPEN, i, j] if M[_OPEN, i, j] == M[_OPEN, i, j] else S[_LAST, j]
            if S[_MARGIN, j] > 0:  # futures: open result; the margin is blocked
                eq_open += S[_POS, j] * (px - S[_EPX, j])
                free -= abs(S[_POS, j]) * S[_MARGIN, j]
                continue
            eq_open += S[_POS, j] * px
            if S[_POS, j] < 0:
                free += 2.0 * S[_POS, j] * px  # proceeds owed back + collateral
    for j in range(k):
        if S[_POS, j] != 0.0 or not M[_OPEN, i, j] == M[_OPEN, i, j]:
            continue
        if SC[_NOPEN] >= p.max_positions:
            break
        d = 0
        if SB[_EL, i - 1, j]:
            d = 1
        elif p.allow_short and SB[_ES, i - 1, j]:
            d = -1
        if d != 0:
            free -= _enter(S, TR, SC, M, V, SB, SL, p, j, i, d, eq_open, free)


@numba.njit(cache=True, inline="always")
def _exit_in_bar(S, TR, SC, M, V, p, j, i):
    """Stops first, then targets, inside bar ``i``; else the trailing peak moves."""
    if S[_POS, j] == 0.0 or not M[_HIGH, i, j] == M[_HIGH, i, j]:
        return
    d = 1 if S[_POS, j] > 0 else -1
    o, h, lo = M[_OPEN, i, j], M[_HIGH, i, j], M[_LOW, i, j]
    ref = S[_EREF, j] if S[_EBAR, j] == i else o
    s, trailing = _stop_in_force(S, p, j, d)
    px = stop_fill(o, h, lo, s, d, ref)
    if px == px:
        _close_position(S, TR, SC, M, V, p, j, i, px, R_TRAIL if trailing else R_STOP)
        return
    px = target_fill(o, h, lo, S[_TGT, j], d, ref)
    if px == px:
        _close_position(S, TR, SC, M, V, p, j, i, px, R_TARGET)
        return
    S[_PEAK, j] = max(S[_PEAK, j], h) if d > 0 else min(S[_PEAK, j], lo)


@numba.njit(cache=True, inline="always")
def _mark(S, TR, SC, M, V, p, i):
    """Borrow fees on shorts, then the equity and gross exposure at the close of bar ``i``."""
    k = S.shape[1]
    for j in range(k):
        if M[_CLOSE, i, j] == M[_CLOSE, i, j]:
            S[_LAST, j] = M[_CLOSE, i, j]
    new_session = i == 0 or V[_SESS, i] != V[_SESS, i - 1]
    eq = SC[_CASH]
    gross = 0.0
    for j in range(k):
        if S[_POS, j] != 0.0:
            v = S[_POS, j] * S[_LAST, j]
            if S[_MARGIN, j] > 0:  # futures: equity holds the open result, exposure the notional
                eq += S[_POS, j] * (S[_LAST, j] - S[_EPX, j])
                gross += abs(v)
                continue
            if S[_POS, j] < 0 and (new_session or S[_EBAR, j] == i):
                fee = -v * p.borrow_daily
                SC[_CASH] -= fee
                eq -= fee
                S[_BORROW, j] += fee
            eq += v
            gross += abs(v)
    return eq, gross


@numba.njit(cache=True)
def _kernel(M, V, SB, SL, TK, p):  # pragma: no cover - compiled; tested via run_engine
    """The bar loop on packed arrays (see :func:`simulate`)."""
    n, k = M.shape[1], M.shape[2]
    S = _new_state(k, TK)
    TR = np.empty((2 * n * k + k, _NT))
    SC = np.zeros(_NSC)
    SC[_CASH] = p.cash0
    equity = np.empty(n)
    cash_out = np.empty(n)
    exposure = np.zeros(n)
    for i in range(n):
        if i < p.start:
            for j in range(k):
                if M[_CLOSE, i, j] == M[_CLOSE, i, j]:
                    S[_LAST, j] = M[_CLOSE, i, j]
            equity[i] = SC[_CASH]
            cash_out[i] = SC[_CASH]
            continue
        _accrue_interest(S, TR, SC, M, V, p, i)
        for j in range(k):
            _apply_actions(S, TR, SC, M, V, p, j, i)
        for j in range(k):
            _exit_at_open(S, TR, SC, M, V, SB, SL, p, j, i)
        if p.reinvest:
            for j in range(k):
                _reinvest(S, TR, SC, M, V, p, j, i)
        if i > 0 and V[_FLAT, i] < 2.0:
            _entries_at_open(S, TR, SC, M, V, SB, SL, p, i)
        for j in range(k):
            _exit_in_bar(S, TR, SC, M, V, p, j, i)
        if V[_FLAT, i] > 0:  # day trade: nothing is held past the session's flatten time
            for j in range(k):
                if S[_POS, j] != 0.0:
                    c = M[_CLOSE, i, j]
                    _close_position(
                        S, TR, SC, M, V, p, j, i, c if c == c else S[_LAST, j], R_SESSION
                    )
        eq, gross = _mark(S, TR, SC, M, V, p, i)
        equity[i] = eq
        cash_out[i] = SC[_CASH]
        exposure[i] = gross / eq if eq > 0 else 0.0
    if n > 0:
        i = n - 1
        for j in range(k):
            if S[_POS, j] != 0.0:
                _close_position(S, TR, SC, M, V, p, j, i, S[_LAST, j], R_END)
        equity[i] = SC[_CASH]
        cash_out[i] = SC[_CASH]
    nt = int(SC[_NT_])
    return equity, cash_out, exposure, TR[:nt].copy(), SC.copy()


def simulate(market: Market, signals: Signals, params: Params):
    """Simulate trading on ``(n, k)`` arrays.

    Parameters
    ----------
    market : Market
    signals : Signals
        Booleans (n, k) and levels (n, k, NaN for none) at the close of each bar.
    params : Params

    Returns
    -------
    equity, cash, exposure : float64 arrays (n,)
    trades : float64 array (m, 17)
        Closed trades (fields ``_T_*``).
    totals : float64 array (10,)
        Run totals (slots ``_PROV_T``, ``_INTEREST``, ``_JCPWHT`` ...).

    Each bar: interest on idle cash, proventos and share events on their ex-date, exits at
    the open, proventos reinvested, entries at the open, stops and targets inside the bar,
    borrow fees, mark to the close. The records are packed into a few arrays for the
    compiled loop (:func:`_kernel`): numba reference-counts every array of a tuple on each
    helper call, which made a record of 20 arrays 30× slower.
    """
    m, sg = market, signals
    M = np.ascontiguousarray(
        np.stack([m.open, m.high, m.low, m.close, m.split, m.cash_div, m.cash_jcp]),
        dtype=np.float64,
    )
    n, k = np.shape(m.open)

    def per(x, size):
        return np.zeros(size) if x is None else np.asarray(x, dtype=np.float64)

    V = np.ascontiguousarray(
        np.stack([np.asarray(m.sessions, np.float64), m.fee_sw, m.fee_dt, m.rf, per(m.flat, n)]),
        dtype=np.float64,
    )
    TK = np.ascontiguousarray(
        np.stack(
            [
                np.asarray(m.lot, dtype=np.float64),
                per(m.unit_fee_sw, k),
                per(m.unit_fee_dt, k),
                per(m.margin, k),
                per(m.slip_abs, k),
            ]
        ),
        dtype=np.float64,
    )
    SB = np.ascontiguousarray(
        np.stack([sg.entry_long, sg.exit_long, sg.entry_short, sg.exit_short]), dtype=np.bool_
    )
    SL = np.ascontiguousarray(np.stack([sg.stop, sg.target, sg.entry_level]), dtype=np.float64)
    return _kernel(M, V, SB, SL, TK, params)


def _as_dict(obj, name: str) -> dict[str, pd.DataFrame]:
    if isinstance(obj, pd.DataFrame):
        return {name: obj}
    return dict(obj)


def action_arrays(
    bars: dict[str, pd.DataFrame], actions: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`run_engine` makes of ``actions`` for these ``bars`` (on the union of
    their dates, tickers in the dict's order): (split ratio, dividend R$/share, JCP
    R$/share), float64 arrays (n, k); pass them as its ``action_arrays``."""
    tickers = list(bars)
    index = bars[tickers[0]].index
    for t in tickers[1:]:
        index = index.union(bars[t].index)
    return _action_arrays(actions, index, tickers)


def _action_arrays(
    actions: pd.DataFrame | None, index: pd.DatetimeIndex, tickers: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(split ratio, dividend R$/share, JCP R$/share) arrays (n, k) from an actions frame.

    An ex-date that is not a bar of ``index`` acts on the next bar.
    """
    n, k = len(index), len(tickers)
    split = np.ones((n, k))
    div = np.zeros((n, k))
    jcp = np.zeros((n, k))
    if actions is None or len(actions) == 0:
        return split, div, jcp
    acts = actions
    single = "ticker" not in acts.columns
    # one pass over the frame (no per-row Python loop); ufunc.at applies repeated (row,
    # ticker) cells in the frame's order, exactly as a sequential loop would
    dcol = acts["date"]
    if dcol.dtype.kind != "M":
        dcol = pd.to_datetime(dcol)
    d8 = pd.DatetimeIndex(dcol).as_unit("ns").asi8
    d8 = d8 - d8 % 86_400_000_000_000
    pos = np.searchsorted(index.as_unit("ns").asi8, d8)
    first = index[:1].as_unit("ns").asi8
    keep = (pos < n) & (d8 >= first[0])
    if single:  # a frame without tickers applies to every ticker
        m = len(acts)
        col = np.repeat(np.arange(k, dtype=np.int64)[:, None], m, axis=1).ravel()
        pos, d8, keep = np.tile(pos, k), np.tile(d8, k), np.tile(keep, k)
    else:
        col_of = {t: j for j, t in enumerate(tickers)}
        col = np.array(
            [col_of.get(str(t).upper(), -1) for t in acts["ticker"].to_numpy()], dtype=np.int64
        )
        keep &= col >= 0
    kinds = np.array([str(x) for x in acts["kind"].to_numpy()], dtype=object)
    vals = acts["value"].to_numpy(dtype="float64")
    if single:
        kinds, vals = np.tile(kinds, k), np.tile(vals, k)
    for kind_sel, target, ufunc in (
        (np.isin(kinds, ("split", "reverse_split", "bonus")), split, np.multiply),
        (kinds == "dividend", div, np.add),
        (kinds == "jcp", jcp, np.add),
    ):
        sel = keep & kind_sel
        if sel.any():
            ufunc.at(target, (pos[sel], col[sel]), vals[sel])
    return split, div, jcp


def _params(cfg: EngineConfig, start: int, max_positions: int) -> Params:
    return Params(
        int(start),
        float(cfg.cash),
        float(cfg.stop_loss),
        float(cfg.take_profit),
        float(cfg.trailing_stop),
        int(cfg.max_bars),
        bool(cfg.allow_short),
        int(max_positions),
        int(cfg.sizing.code),
        float(cfg.sizing.value),
        float(cfg.sizing.kelly_fraction),
        float(cfg.sizing.kelly_cap),
        int(cfg.sizing.kelly_min_trades),
        bool(cfg.sizing.fractional),
        float(cfg.costs.brokerage_per_order),
        float(cfg.costs.slippage_bps) / 10_000.0,
        float(cfg.costs.borrow_rate_annual) / 252.0,
        float(cfg.jcp_withholding),
        bool(cfg.reinvest),
        float(cfg.cash_interest),
    )


#: The kernel's inputs for a run, as :func:`engine_inputs` builds them.
EngineInputs = namedtuple("EngineInputs", "index tickers market signals params sessions lot start")
EngineInputs.__doc__ = """What :func:`run_engine` hands to :func:`simulate`.

index : DatetimeIndex (n,), the union of the tickers' dates
tickers : list of str (k,)
market : Market
signals : Signals
params : Params
sessions : int64 array (n,)
lot : float64 array (k,), standard lot per ticker
start : int, first bar on which orders may fill
"""


def engine_inputs(
    bars: pd.DataFrame | dict[str, pd.DataFrame],
    signals: pd.DataFrame | dict[str, pd.DataFrame],
    config: EngineConfig | None = None,
    *,
    start=None,
    sessions: np.ndarray | None = None,
    actions: pd.DataFrame | None = None,
    rf: pd.Series | np.ndarray | None = None,
    lots: dict[str, int] | None = None,
    flat: np.ndarray | None = None,
    contracts: dict[str, ContractTerms] | None = None,
    action_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> EngineInputs:
    """The arrays :func:`run_engine` simulates (same arguments, same validation).

    A paper-trading runner builds them once and simulates growing prefixes of them bar by
    bar (:mod:`core.trading.runner`): the kernel is causal (bar ``i`` reads market row ``i``
    and signal row ``i - 1``), so a prefix gives the trades of a run stopped at its last bar.

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
            if s.dtype == dtype and (dtype == np.bool_ or fill != fill):
                # float64 with NaN fill, or bool (no missing values): the values as they are
                # (what ``to_numpy(na_value=fill)`` gives, without its missing-value pass)
                out[:, j] = s.to_numpy()
                continue
            a = s.to_numpy(dtype="float64" if dtype == np.float64 else None, na_value=fill)
            out[:, j] = a.astype(dtype) if dtype != np.float64 else a
        return out

    start_i = 0 if start is None else int(index.searchsorted(pd.Timestamp(start)))
    if start_i >= n:
        raise InputError("O início do backtest está depois da última barra.")
    sess = np.arange(n, dtype=np.int64) if sessions is None else np.asarray(sessions, np.int64)
    cfg = config
    if action_arrays is None:
        split, div, jcp = _action_arrays(actions, index, tickers)
    else:
        split, div, jcp = action_arrays
        if any(np.shape(a) != (n, k) for a in action_arrays):
            raise InputError("Eventos corporativos pré-calculados com tamanho errado.")
    fee_sw, fee_dt = cfg.costs.rates(index)
    if rf is None:
        rf_a = np.zeros(n)
    else:
        rf_s = rf if isinstance(rf, pd.Series) else pd.Series(np.asarray(rf), index=index)
        rf_a = rf_s.reindex(index).fillna(0.0).to_numpy(dtype="float64")
    lot_a = np.array(
        [float((lots or {}).get(t, cfg.sizing.lot_size)) for t in tickers], dtype=np.float64
    )
    terms = [(contracts or {}).get(t) for t in tickers]
    for t, c in zip(tickers, terms):
        if c is not None:
            lot_a[tickers.index(t)] = 1.0
    ufsw = np.array([c.fee_regular if c else 0.0 for c in terms], dtype=np.float64)
    ufdt = np.array([c.fee_day_trade if c else 0.0 for c in terms], dtype=np.float64)
    margin = np.array([c.margin if c else 0.0 for c in terms], dtype=np.float64)
    slip_abs = np.array([c.slippage if c else 0.0 for c in terms], dtype=np.float64)
    if flat is not None and len(flat) != n:
        raise InputError("Códigos de encerramento do day trade com tamanho errado.")
    market = Market(
        stack("open", bars_d, np.nan, np.float64),
        stack("high", bars_d, np.nan, np.float64),
        stack("low", bars_d, np.nan, np.float64),
        stack("close", bars_d, np.nan, np.float64),
        split,
        div,
        jcp,
        sess,
        fee_sw,
        fee_dt,
        rf_a,
        lot_a,
        None if flat is None else np.asarray(flat, dtype=np.float64),
        ufsw,
        ufdt,
        margin,
        slip_abs,
    )
    sigs = Signals(
        stack("entry_long", sig_d, False, np.bool_),
        stack("exit_long", sig_d, False, np.bool_),
        stack("entry_short", sig_d, False, np.bool_),
        stack("exit_short", sig_d, False, np.bool_),
        stack("stop", sig_d, np.nan, np.float64),
        stack("target", sig_d, np.nan, np.float64),
        stack("entry_level", sig_d, np.nan, np.float64),
    )
    mp = k if cfg.max_positions is None else min(int(cfg.max_positions), k)
    return EngineInputs(
        index, tickers, market, sigs, _params(cfg, start_i, mp), sess, lot_a, start_i
    )


def run_engine(
    bars: pd.DataFrame | dict[str, pd.DataFrame],
    signals: pd.DataFrame | dict[str, pd.DataFrame],
    config: EngineConfig | None = None,
    *,
    start=None,
    sessions: np.ndarray | None = None,
    actions: pd.DataFrame | None = None,
    rf: pd.Series | np.ndarray | None = None,
    lots: dict[str, int] | None = None,
    flat: np.ndarray | None = None,
    contracts: dict[str, ContractTerms] | None = None,
    frame: bool = True,
    action_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> EngineResult:
    """Run the engine on one ticker's bars or a portfolio of tickers.

    Parameters
    ----------
    bars : DataFrame or dict of str to DataFrame
        Canonical bars (one frame, or one per ticker; the portfolio trades on the union of
        their dates and a ticker is skipped on dates it has no bar). The engine trades the
        ``open, high, low, close`` it is given: as-traded prices (with ``actions``) or an
        adjusted series (without).
    signals : DataFrame or dict of str to DataFrame
        Per ticker, a frame on the same index with any of :data:`SIGNAL_COLUMNS`
        (booleans ``entry_long, exit_long, entry_short, exit_short``; absolute price levels
        ``stop, target, entry_level``, NaN for none).
    config : EngineConfig
        Cash, costs, sizing, stops, shorting, position cap, proventos, interest.
    start : date-like, optional
        First date on which orders may fill (earlier bars only warm up the signals). A
        signal on the bar just before ``start`` may fill at ``start``'s open.
    sessions : int array, optional
        Session number per bar for intraday data (default: one session per bar).
    actions : DataFrame, optional
        Corporate actions ``[ticker,] date, kind, value`` as
        :func:`core.data.actions.load_actions` returns them: splits, reverse splits and
        bonus shares (shares after / before) change positions on their ex-dates; dividends
        and JCP (gross R$ per share) are credited as cash on their ex-dates.
    rf : Series or array, optional
        CDI simple return per bar (for ``config.cash_interest``).
    lots : dict, optional
        Standard lot per ticker (default ``config.sizing.lot_size``).
    flat : float array (n,), optional
        Day-trade flatten codes per bar of the union index (:func:`flatten_codes`): 1 closes
        every position at the bar's close, 2 also refuses entries at its open.
    contracts : dict of ticker -> ContractTerms, optional
        Futures tickers: their bars (and signal levels) must already be in R$ per contract
        (points × point value); cash moves by P&L and per-contract fees only, entries need
        the margin in free cash (see :class:`ContractTerms`).
    action_arrays : tuple of three float arrays (n, k), optional
        ``actions`` as the engine applies them on this call's union index and tickers
        (split ratio, dividend and JCP in R$ per share: :func:`action_arrays`), computed
        once by a caller that runs the same inputs repeatedly; ``actions`` is then unused.
    frame : bool
        False leaves ``EngineResult.trades`` None when there are trades: the caller builds
        the frame once from ``trade_columns`` (with its own extra columns). With no trade,
        ``trades`` is the empty frame either way.

    Returns
    -------
    EngineResult

    Raises
    ------
    InputError
        On empty or mismatched input.
    """
    ins = engine_inputs(
        bars,
        signals,
        config,
        start=start,
        sessions=sessions,
        actions=actions,
        rf=rf,
        lots=lots,
        flat=flat,
        contracts=contracts,
        action_arrays=action_arrays,
    )
    eq, cash, expo, tr, totals = simulate(ins.market, ins.signals, ins.params)
    index, tickers, sess, lot_a, start_i = ins.index, ins.tickers, ins.sessions, ins.lot, ins.start
    cols = trade_columns(tr, index, tickers, sess, lot_a) if len(tr) else None
    if cols is None:
        trades = trades_frame(tr, index, tickers, sess, lot_a)
    else:
        trades = pd.DataFrame(cols) if frame else None
    return EngineResult(
        equity=pd.Series(eq, index=index, name="equity"),
        cash=pd.Series(cash, index=index, name="cash"),
        exposure=pd.Series(expo, index=index, name="exposure"),
        trades=trades,
        start=index[start_i],
        proventos=float(totals[_PROV_T]),
        interest=float(totals[_INTEREST]),
        jcp_withheld=float(totals[_JCPWHT]),
        trade_columns=cols,
    )


def simulate_single(
    prices: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    signals: pd.DataFrame,
    config: EngineConfig,
    start: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fast path for sweeps: one ticker's ``(open, high, low, close)`` arrays (n,) and its
    signal frame straight into :func:`simulate`, without the pandas bookkeeping (no
    corporate actions, flat fee rates of the first schedule entry or of ``config.costs``).

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
    idx = signals.index if isinstance(signals.index, pd.DatetimeIndex) else None
    if idx is not None and len(idx) == n:
        fee_sw, fee_dt = cfg.costs.rates(idx)
    else:
        fee_sw = np.full(n, float(cfg.costs.swing_fee_rate))
        fee_dt = np.full(n, float(cfg.costs.day_trade_fee_rate))
    market = Market(
        o,
        h,
        lo,
        c,
        np.ones((n, 1)),
        np.zeros((n, 1)),
        np.zeros((n, 1)),
        np.arange(n, dtype=np.int64),
        fee_sw,
        fee_dt,
        np.zeros(n),
        np.array([float(cfg.sizing.lot_size)]),
    )
    sigs = Signals(
        col("entry_long", False, np.bool_),
        col("exit_long", False, np.bool_),
        col("entry_short", False, np.bool_),
        col("exit_short", False, np.bool_),
        col("stop", np.nan, np.float64),
        col("target", np.nan, np.float64),
        col("entry_level", np.nan, np.float64),
    )
    eq, _, _, tr, _ = simulate(market, sigs, _params(cfg, start, 1))
    return eq, tr


#: Stocks whose default-run inputs :func:`warm_up` reads into the store's read cache.
WARM_TICKERS = 40


def warm_up(store=None) -> None:
    """Compile (or load from the on-disk cache) the kernel on a tiny input.

    Called in a background thread at app start so the first backtest does not wait for
    numba. Cheap when the cache is warm. With a ``store``, also runs a read-only
    backtest over the whole stored history of the first stored stock (the statement shape
    and code paths of a user's first run: whole-history bar and action reads, signals,
    engine, the tax report; a month-long window left the first real run ~15× slower than
    the second), then the same with a month's window, and reads the inputs of a default
    run of each stored stock (up to :data:`WARM_TICKERS`) into the store's read cache, so
    the user's first backtest does not wait for its bars either; nothing is written.
    """
    idx = pd.bdate_range("2024-01-01", periods=4, name="date")
    bars = pd.DataFrame(
        {"open": 10.0, "high": 10.5, "low": 9.5, "close": 10.0, "volume": 1.0}, index=idx
    )
    bars["adj_close"] = bars["close"]
    sig = pd.DataFrame(
        {"entry_long": [True, False, False, False], "exit_long": [False, False, True, False]},
        index=idx,
    )
    run_engine(bars, sig, EngineConfig())
    simulate_single(
        tuple(bars[c].to_numpy() for c in ("open", "high", "low", "close")), sig, EngineConfig()
    )
    if store is not None:
        from core.backtest.runner import run_backtest

        stocks = store.tickers("stock")
        last = store.last_date(stocks[0]) if stocks else None
        if last is not None:
            run_backtest(store, "sma_cross", [stocks[0]])
            run_backtest(store, "buy_and_hold", [stocks[0]], last - pd.Timedelta(days=45), last)
        from core.backtest.runner import load_inputs

        for t in stocks[:WARM_TICKERS]:
            try:
                load_inputs(store, [t])
            except InputError:
                continue


def trades_frame(
    tr: np.ndarray,
    index: pd.DatetimeIndex,
    tickers: list[str],
    sessions: np.ndarray,
    lot_size=100,
) -> pd.DataFrame:
    """Readable per-trade bookkeeping from the kernel's trade matrix (:data:`TRADE_COLUMNS`).

    ``lot_size`` is one lot for every ticker or an array (k,) of lots per ticker.
    ``proventos`` is the net cash received (paid, for shorts) while the trade was open;
    ``pnl`` excludes it. ``day_trade`` is True when any quantity of the trade was a day
    trade: the whole trade (entry and exit in one session) or ``day_trade_qty`` shares of
    its exit matched by a same-session re-entry; ``swing_pnl`` / ``day_trade_pnl`` split the
    result for the income tax (their sum over all trades equals the sum of ``pnl``).
    """
    if len(tr) == 0:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in TRADE_COLUMNS})
        return empty.assign(
            ticker=pd.Series(dtype="str"),
            direction=pd.Series(dtype="str"),
            entry_date=pd.Series(dtype="datetime64[ns]"),
            exit_date=pd.Series(dtype="datetime64[ns]"),
            exit_reason=pd.Series(dtype="str"),
            day_trade=pd.Series(dtype="bool"),
        )
    return pd.DataFrame(trade_columns(tr, index, tickers, sessions, lot_size))


def trade_columns(
    tr: np.ndarray,
    index: pd.DatetimeIndex,
    tickers: list[str],
    sessions: np.ndarray,
    lot_size=100,
) -> dict:
    """The columns of :func:`trades_frame` (same arguments, at least one trade) as a dict
    of column name to array (m,), in :func:`trades_frame`'s order; ``entry_date`` and
    ``exit_date`` are DatetimeIndex values, ``ticker`` and ``exit_reason`` lists of str."""
    order = np.lexsort((tr[:, _T_TICKER], tr[:, _T_EBAR], tr[:, _T_XBAR]))
    tr = tr[order]
    eb = tr[:, _T_EBAR].astype(np.int64)
    xb = tr[:, _T_XBAR].astype(np.int64)
    sh = tr[:, _T_SH]
    tj = tr[:, _T_TICKER].astype(np.int64)
    lot = np.broadcast_to(np.asarray(lot_size, dtype="float64"), (len(tickers),))[tj]
    entry_value = sh * tr[:, _T_EPX]
    exit_value = sh * tr[:, _T_XPX]
    lots = (sh // lot) * lot
    is_long = tr[:, _T_DIR] > 0
    sale = np.where(is_long, exit_value, entry_value)
    dtq = tr[:, _T_DTQ]
    full_dt = sessions[eb] == sessions[xb]
    dt_sale = np.where(full_dt, sale, dtq * tr[:, _T_XPX])
    return {
        "ticker": [tickers[int(j)] for j in tj],
        "direction": np.where(is_long, "compra", "venda"),
        "entry_date": index[eb],
        "entry_price": tr[:, _T_EPX],
        "exit_date": index[xb],
        "exit_price": tr[:, _T_XPX],
        "shares": sh.astype(np.int64),
        "round_lot_shares": lots.astype(np.int64),
        "fractional_shares": (sh - lots).astype(np.int64),
        "entry_value": entry_value,
        "exit_value": exit_value,
        "fees": tr[:, _T_EFEE] + tr[:, _T_XFEE],
        "borrow": tr[:, _T_BORROW],
        "pnl": tr[:, _T_PNL],
        "return_pct": 100.0 * tr[:, _T_PNL] / entry_value,
        "bars_held": xb - eb,
        "day_trade": dtq > 0,
        "exit_reason": [EXIT_REASONS[int(r)] for r in tr[:, _T_REASON]],
        "stop_at_entry": tr[:, _T_STOP],
        "proventos": tr[:, _T_PROV],
        "day_trade_qty": dtq.astype(np.int64),
        "day_trade_pnl": tr[:, _T_DTPNL],
        "swing_pnl": tr[:, _T_SWPNL],
        "sale_value": sale,
        "day_trade_sale_value": dt_sale,
    }
