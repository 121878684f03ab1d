"""Seed 002's paper-trading monitor: status card, equity against its benchmarks, monthly
heatmap per ticker, red flags, trade list and the ML training data.

Everything here reads a paper account (its fills, trades and its runner's equity curve) and
returns typed results the Operações page and ``paper report`` render.

Red flags (seed 002, "Red Flags - Quando PARAR"; thresholds in :class:`RedFlagRules`):

* win rate below 60 % in two consecutive calendar months (trades by exit month);
* maximum drawdown beyond 15 % of the peak equity;
* Sharpe ratio (vs the CDI, :func:`core.backtest.metrics.compute_metrics`) below 1,0 — only
  judged after ``min_sessions`` sessions (a Sharpe of 10 sessions says nothing);
* more than 20 or fewer than 2 trades in the last complete month;
* slippage against the backtest above 2 %: the runner stores, per bar, the value the
  backtest engine planned to trade and how far the account's fills were from it.

Each active flag is written once per month as a ``red_flag`` event
(:mod:`core.trading.events`) so that alerts can forward it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from core.backtest.metrics import compute_metrics, wilson_interval
from core.backtest.runner import trade_json_rows
from core.errors import InputError, PregaoError
from core.textfmt import num, pct
from core.trading.runner_models import MlTrainingData, PaperRunner, PaperRunnerEquity

__all__ = [
    "MILESTONES",
    "RedFlagRules",
    "RedFlag",
    "StatusCard",
    "MonitorResult",
    "account_trades",
    "status_card",
    "red_flags",
    "monthly_heatmap",
    "equity_frame",
    "monitor",
    "write_red_flags",
    "evaluate_red_flags",
    "collect_ml_data",
    "ml_training_frame",
    "ML_COLUMNS",
]

#: Seed 002's milestones: the beta model at 25 trades, the production model at 50.
MILESTONES: tuple[int, ...] = (25, 50)

# typed Any: SQLAlchemy types ``__table__`` as a FromClause
_EQ: Any = PaperRunnerEquity.__table__
_RUN: Any = PaperRunner.__table__
_ML: Any = MlTrainingData.__table__

#: Columns of the ML training data export (seed 002's ``ml_training_data``).
ML_COLUMNS: tuple[str, ...] = (
    "trade_id",
    "trade_date",
    "symbol",
    "entry_price",
    "exit_price",
    "return_pct",
    "result",
    "duration_days",
    "strategy_score",
    "signal_type",
    "features",
    "account",
    "strategy",
    "exit_date",
)


@dataclass(frozen=True)
class RedFlagRules:
    """Thresholds of the red flags (defaults: seed 002).

    Attributes
    ----------
    min_win_rate : float
        Monthly win rate below which a month counts as bad (0.60).
    win_rate_months : int
        Consecutive bad months that raise the flag (2).
    max_drawdown_pct : float
        Drawdown from the peak, in % (15).
    min_sharpe : float
        Sharpe vs the CDI, annualised (1.0).
    min_sessions : int
        Sessions before the Sharpe is judged (60, about three months).
    max_trades_month, min_trades_month : int
        Trades per month (20 and 2).
    max_slippage_pct : float
        Slippage vs the backtest, in % of the traded value (2).
    """

    min_win_rate: float = 0.60
    win_rate_months: int = 2
    max_drawdown_pct: float = 15.0
    min_sharpe: float = 1.0
    min_sessions: int = 60
    max_trades_month: int = 20
    min_trades_month: int = 2
    max_slippage_pct: float = 2.0

    @classmethod
    def from_text(cls, text: str | None) -> RedFlagRules:
        """``"min_sharpe=0.5,max_drawdown_pct=10"`` (or ``0,5``) over the defaults.

        Raises
        ------
        InputError
            Unknown key or a value that is not a number.
        """
        if not text:
            return cls()
        known = {f: type(getattr(cls(), f)) for f in cls.__dataclass_fields__}
        vals: dict = {}
        # a comma separates items only before the next "key=": "min_sharpe=0,5" is pt-BR
        for item in re.split(r",\s*(?=[A-Za-z_]+\s*=)", text):
            if not item.strip():
                continue
            if "=" not in item:
                raise InputError(f"Alerta vermelho {item.strip()!r}: use chave=valor.")
            k, v = (s.strip() for s in item.split("=", 1))
            if k not in known:
                raise InputError(
                    f"Limite desconhecido {k!r} (aceitos: {', '.join(sorted(known))})."
                )
            try:
                vals[k] = known[k](float(v.replace(",", ".")))
            except ValueError:
                raise InputError(f"Limite {k}: valor inválido {v!r}.") from None
        return cls(**vals)


@dataclass(frozen=True)
class RedFlag:
    """One red flag.

    Attributes
    ----------
    code : str
        ``win_rate``, ``drawdown``, ``sharpe``, ``trades_per_month`` or ``slippage``.
    active : bool
    value : float
        The measured value (fraction for the win rate, % for drawdown and slippage).
    threshold : float
    message : str
        pt-BR sentence with the numbers.
    """

    code: str
    active: bool
    value: float
    threshold: float
    message: str


@dataclass(frozen=True)
class StatusCard:
    """Seed 002's status card.

    Attributes
    ----------
    n_trades : int
        Closed trades.
    next_milestone : int
        25, then 50 (then the next multiple of 50).
    to_milestone : int
        Trades still missing.
    wins, losses : int
    win_rate : float
        Fraction (NaN without trades).
    win_rate_ci : tuple of float
        95 % Wilson interval (fractions).
    avg_return_pct : float
        Average return per trade, %.
    sharpe : float
    max_drawdown_pct : float
        ≤ 0, %.
    equity, initial_cash, return_pct : float
        R$, R$, %.
    last_update : pandas.Timestamp or None
    """

    n_trades: int
    next_milestone: int
    to_milestone: int
    wins: int
    losses: int
    win_rate: float
    win_rate_ci: tuple[float, float]
    avg_return_pct: float
    sharpe: float
    max_drawdown_pct: float
    equity: float
    initial_cash: float
    return_pct: float
    last_update: pd.Timestamp | None


@dataclass
class MonitorResult:
    """Everything the monitor shows for one account.

    Attributes
    ----------
    card : StatusCard
    equity : pandas.DataFrame
        Index date; columns ``equity`` (R$), ``buy_hold`` (equal-weight buy-and-hold of the
        runner's tickers, R$) and ``bvsp`` (^BVSP scaled to the initial cash, R$).
    heatmap : pandas.DataFrame
        Tickers × months (``"AAAA-MM"``): sum of the trades' returns (%) closed that month.
    flags : list of RedFlag
    trades : pandas.DataFrame
        Closed trades, columns of ``backtest --json``'s trades.
    """

    card: StatusCard
    equity: pd.DataFrame
    heatmap: pd.DataFrame
    flags: list[RedFlag] = field(default_factory=list)
    trades: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_json_dict(self) -> dict:
        """``paper report --json``: ``equity, cash, n_trades, win_rate, win_rate_ci, sharpe,
        max_drawdown_pct, trades, red_flags`` (+ ``card``, ``heatmap``)."""

        def f(x):
            return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x

        c = self.card
        tt = self.trades
        intraday = len(tt) > 0 and bool(
            (
                pd.DatetimeIndex(tt["entry_date"]) != pd.DatetimeIndex(tt["entry_date"]).normalize()
            ).any()
            or (
                pd.DatetimeIndex(tt["exit_date"]) != pd.DatetimeIndex(tt["exit_date"]).normalize()
            ).any()
        )
        # the shape of ``backtest --json``'s trades (times on intraday bars)
        trades = trade_json_rows(tt, "5min" if intraday else "1d")
        card = {k: f(v) for k, v in asdict(c).items()}
        card["win_rate_ci"] = [f(x) for x in c.win_rate_ci]
        card["last_update"] = None if c.last_update is None else c.last_update.isoformat()
        return {
            "equity": f(c.equity),
            "cash": f(self.cash),
            "n_trades": c.n_trades,
            "win_rate": f(c.win_rate),
            "win_rate_ci": [f(x) for x in c.win_rate_ci],
            "sharpe": f(c.sharpe),
            "max_drawdown_pct": f(c.max_drawdown_pct),
            "trades": trades,
            "red_flags": [asdict(x) for x in self.flags],
            "card": card,
            "heatmap": {
                t: {m: f(float(v)) for m, v in row.items()} for t, row in self.heatmap.iterrows()
            },
        }

    cash: float = 0.0


_REASONS = {"stop": "stop", "target": "alvo", "entry": "sinal"}


def _sessions_between(entry: pd.Series, exit_: pd.Series) -> np.ndarray:
    """B3 sessions from each entry to its exit (0 for a day trade)."""
    from core.data.calendar import b3_sessions

    if len(entry) == 0:
        return np.zeros(0, dtype=np.int64)
    sess = b3_sessions(pd.Timestamp(entry.min()).normalize(), pd.Timestamp(exit_.max()).normalize())
    a = sess.searchsorted(pd.DatetimeIndex(entry).normalize())
    b = sess.searchsorted(pd.DatetimeIndex(exit_).normalize())
    return (b - a).astype(np.int64)


def _share_events(store, tickers: list[str]) -> dict[str, list[tuple[pd.Timestamp, float]]]:
    """Splits, reverse splits and bonus shares per ticker: ``[(ex-date, ratio), ...]``."""
    from core.data.actions import load_actions

    if not tickers:
        return {}
    try:
        acts = load_actions(store, tickers)
    except Exception:  # noqa: BLE001 - a store without actions: none
        return {}
    acts = acts[acts["kind"].isin(["split", "reverse_split", "bonus"])]
    out: dict[str, list[tuple[pd.Timestamp, float]]] = {}
    for r in acts.itertuples(index=False):
        out.setdefault(str(r.ticker), []).append((pd.Timestamp(r.date), float(r.value)))
    return out


@dataclass(frozen=True)
class _OrderKind:
    """What :func:`account_trades` needs of an order: its exit reason's inputs."""

    role: str
    note: str
    source: str


def _order_kinds(b) -> dict[int, _OrderKind]:
    """Role, note and source of every order of ``b``'s account, by id (three columns read,
    not :meth:`PaperBroker.orders`' full records: the runner's monthly red flags read them
    all every month)."""
    from core.trading.models import PaperOrder

    o = PaperOrder.__table__
    q = select(o.c.id, o.c.role, o.c.note, o.c.source).where(o.c.account_id == b.account_id)
    with b.store.engine.connect() as conn:
        return {int(r[0]): _OrderKind(r[1], r[2] or "", r[3]) for r in conn.execute(q).all()}


def account_trades(store, account: str, *, memo: dict | None = None) -> pd.DataFrame:
    """Closed trades of a paper account in the engine's columns.

    One row per closing fill (:meth:`PaperBroker.trades`), with the entry price of the
    opening fills (first in, first out), the fees of both sides (entry, exit, day-trade
    refund: ``d × q × (exit − entry) − pnl``) and the exit reason of the closing order.

    ``memo`` (optional, a dict the caller keeps) holds what does not change while a
    runner replays — the splits and bonus shares of the tickers, their point values — so
    that the monthly red flags of a replay read them once, not every month.

    Returns
    -------
    pandas.DataFrame
        ``ticker, direction, entry_date, entry_price, exit_date, exit_price, shares, pnl,
        fees, return_pct, bars_held, exit_reason, day_trade`` (futures: prices in points,
        ``shares`` in contracts, P&L and fees in R$), by exit date then ticker.
    """
    from core.trading.broker import PaperBroker

    b = PaperBroker(store, account)
    bt = b.trades()
    cols = [
        "ticker",
        "direction",
        "entry_date",
        "entry_price",
        "exit_date",
        "exit_price",
        "shares",
        "pnl",
        "fees",
        "return_pct",
        "bars_held",
        "exit_reason",
        "day_trade",
    ]
    if bt.empty:
        return pd.DataFrame(columns=cols)
    fills = b.fills()
    orders = _order_kinds(b)
    lots: dict[str, list[list[Any]]] = {}  # ticker -> FIFO of [qty signed, price, time]
    entry_px: dict[int, float] = {}
    reason: dict[int, str] = {}
    names = sorted({f.ticker for f in fills})
    if memo is None:
        events = _share_events(store, names)
    else:  # per ticker: a month that trades a new ticker reads only that one's
        known = memo.setdefault("share_events", {})
        missing = [t for t in names if t not in known]
        if missing:
            got = _share_events(store, missing)
            known.update({t: got.get(t, []) for t in missing})
        events = {t: known[t] for t in names}
    for f in fills:
        s = 1 if f.side == "buy" else -1
        book = lots.setdefault(f.ticker, [])
        for when, ratio in events.get(f.ticker, []):
            if 0 < ratio != 1.0 and book and book[0][2] < when <= f.time:
                # a split / bonus on an open position keeps its cost (the broker and the
                # engine both do): one lot of floor(q × ratio) shares at cost / new shares
                q0 = sum(abs(x[0]) for x in book)
                value = sum(abs(x[0]) * x[1] for x in book)
                whole = max(1, math.floor(q0 * ratio + 1e-9))
                sign = 1 if book[0][0] > 0 else -1
                book[:] = [[sign * whole, value / whole, when]]
        q = f.qty
        closed_val = 0.0
        closed_q = 0
        while q > 0 and book and book[0][0] * s < 0:
            take = min(q, abs(book[0][0]))
            closed_val += take * book[0][1]
            closed_q += take
            book[0][0] += s * take
            q -= take
            if book[0][0] == 0:
                book.pop(0)
        if closed_q:
            entry_px[f.id] = closed_val / closed_q
            o = orders.get(f.order_id)
            note = o.note if o else ""
            if o is not None and o.role in ("stop", "target"):
                reason[f.id] = _REASONS[o.role]
            elif "tempo" in note:
                reason[f.id] = "tempo"
            elif o is not None and o.source == "day_trade":
                reason[f.id] = "fim do pregão"
            elif o is not None and o.source.startswith("strategy:"):
                reason[f.id] = "sinal"
            else:
                reason[f.id] = "manual"
        if q > 0:
            book.append([s * q, f.price, pd.Timestamp(f.time)])
    out = pd.DataFrame(
        {
            "ticker": bt["ticker"],
            "direction": bt["direction"],
            "entry_date": pd.to_datetime(bt["entry_date"]),
            "entry_price": [entry_px.get(int(i), np.nan) for i in bt["fill_id"]],
            "exit_date": pd.to_datetime(bt["exit_date"]),
            "exit_price": bt["exit_price"].astype(float),
            "shares": bt["shares"].astype(int),
            "pnl": bt["pnl"].astype(float),
            "exit_reason": [reason.get(int(i), "manual") for i in bt["fill_id"]],
            "day_trade": bt["day_trade"].astype(bool),
        }
    )
    d = np.where(out["direction"].isin(["compra", "long", "buy"]), 1.0, -1.0)
    # futures: prices in points, money in R$ (× point value)
    mults = memo.setdefault("mult", {}) if memo is not None else {}
    for t in out["ticker"].unique():
        if t not in mults:
            mults[t] = b._mult(t)
    pv = out["ticker"].map(mults).astype(float)
    move = d * out["shares"] * (out["exit_price"] - out["entry_price"]) * pv
    out["fees"] = move - out["pnl"]
    out["return_pct"] = 100.0 * out["pnl"] / (out["shares"] * out["entry_price"] * pv)
    out["bars_held"] = _sessions_between(out["entry_date"], out["exit_date"])
    out = out.sort_values(["exit_date", "entry_date", "ticker"], kind="stable")
    return out[cols].reset_index(drop=True)


def _runner_row(store, account: str):
    with store.engine.connect() as conn:
        return conn.execute(select(_RUN).where(_RUN.c.account == account)).mappings().first()


def _equity_rows(store, runner_id: int | None) -> pd.DataFrame:
    if runner_id is None:
        return pd.DataFrame(columns=["equity", "cash", "traded", "slip_abs"])
    q = (
        select(_EQ.c.time, _EQ.c.equity, _EQ.c.cash, _EQ.c.traded, _EQ.c.slip_abs)
        .where(_EQ.c.runner_id == runner_id)
        .order_by(_EQ.c.time)
    )
    with store.engine.connect() as conn:
        # plain tuples: pandas probes each SQLAlchemy Row for attributes (a failed key
        # lookup each), which cost more than the rest of the read
        rows = [tuple(r) for r in conn.execute(q)]
    df = pd.DataFrame(rows, columns=["date", "equity", "cash", "traded", "slip_abs"])
    df["date"] = pd.to_datetime(df["date"])
    return df.set_index("date")


def _with_start(eq: pd.Series, initial: float) -> pd.Series:
    """The curve with the initial cash one session before its first point."""
    if eq.empty:
        return eq
    first = eq.index[0] - pd.Timedelta(days=1)
    return pd.concat([pd.Series([initial], index=[first]), eq]).rename("equity")


@lru_cache(maxsize=1)
def _no_trades() -> pd.DataFrame:
    """The engine's empty trades frame (its columns and dtypes), built once: the same for
    every equity curve (the runner's red flags asked for one every month; callers copy)."""
    from core.backtest.engine import trades_frame

    return trades_frame(np.empty((0, 17)), pd.DatetimeIndex([]), [], np.zeros(0, dtype=np.int64))


def status_card(
    trades: pd.DataFrame, equity: pd.Series, initial_cash: float, rf: pd.Series | None = None
) -> StatusCard:
    """Seed 002's card from closed trades and the equity curve (R$ per session).

    Sharpe and drawdown come from :func:`core.backtest.metrics.compute_metrics`.
    """
    n = len(trades)
    wins = int((trades["pnl"] > 0).sum()) if n else 0
    wr = wins / n if n else math.nan
    ci = wilson_interval(wins, n)
    nxt = next((m for m in MILESTONES if m > n), (n // 50 + 1) * 50)
    eq = _with_start(equity, initial_cash)
    sharpe, mdd = math.nan, 0.0
    if len(eq) >= 2:
        # only the equity-based metrics are read (Sharpe, drawdown): no trade statistics
        m = compute_metrics(eq, _no_trades().copy(), rf=rf)
        sharpe = float(m["sharpe"])
        mdd = float(m["max_drawdown_pct"])
    last_eq = float(equity.iloc[-1]) if len(equity) else float(initial_cash)
    return StatusCard(
        n_trades=n,
        next_milestone=int(nxt),
        to_milestone=int(nxt - n),
        wins=wins,
        losses=n - wins,
        win_rate=wr,
        win_rate_ci=ci,
        avg_return_pct=float(trades["return_pct"].mean()) if n else math.nan,
        sharpe=sharpe,
        max_drawdown_pct=mdd,
        equity=last_eq,
        initial_cash=float(initial_cash),
        return_pct=100.0 * (last_eq / initial_cash - 1.0),
        last_update=None if equity.empty else pd.Timestamp(equity.index[-1]),
    )


def monthly_heatmap(trades: pd.DataFrame, tickers: list[str] | None = None) -> pd.DataFrame:
    """Tickers × months (``"AAAA-MM"``): sum of the returns (%) of the trades closed that
    month (NaN: no trade). Rows in ``tickers`` order when given."""
    if trades.empty:
        return pd.DataFrame(index=pd.Index(tickers or [], name="ticker"), dtype="float64")
    t = trades.assign(month=pd.to_datetime(trades["exit_date"]).dt.strftime("%Y-%m"))
    hm = t.pivot_table(index="ticker", columns="month", values="return_pct", aggfunc="sum")
    if tickers:
        hm = hm.reindex(tickers)
    hm.index.name = "ticker"
    return hm.sort_index(axis=1)


def red_flags(
    trades: pd.DataFrame,
    equity: pd.Series,
    card: StatusCard,
    *,
    rules: RedFlagRules | None = None,
    traded: float = 0.0,
    slip_abs: float = 0.0,
) -> list[RedFlag]:
    """Seed 002's red flags (see the module docstring), each with its numbers."""
    r = rules or RedFlagRules()
    out: list[RedFlag] = []
    # win rate, two consecutive months
    bad_run, worst = 0, math.nan
    if len(trades):
        m = trades.assign(month=pd.to_datetime(trades["exit_date"]).dt.to_period("M"))
        wr = m.groupby("month")["pnl"].apply(lambda s: float((s > 0).mean()))
        prev = None
        for per, v in wr.items():
            consecutive = prev is not None and per == prev + 1
            if v < r.min_win_rate:
                bad_run = bad_run + 1 if (consecutive or bad_run == 0) else 1
                worst = v if not worst == worst else min(worst, v)
            else:
                bad_run = 0
            prev = per
    active = bad_run >= r.win_rate_months
    out.append(
        RedFlag(
            "win_rate",
            active,
            worst,
            r.min_win_rate,
            f"Taxa de acerto abaixo de {pct(r.min_win_rate, 0)} por {bad_run} mês(es) seguido(s)"
            + (f" (pior: {pct(worst, 0)})." if worst == worst else "."),
        )
    )
    dd = -card.max_drawdown_pct
    out.append(
        RedFlag(
            "drawdown",
            dd > r.max_drawdown_pct,
            dd,
            r.max_drawdown_pct,
            f"Drawdown máximo de {pct(dd / 100)} (limite {pct(r.max_drawdown_pct / 100, 0)}).",
        )
    )
    n_sess = len(equity)
    judged = n_sess >= r.min_sessions and card.sharpe == card.sharpe
    out.append(
        RedFlag(
            "sharpe",
            bool(judged and card.sharpe < r.min_sharpe),
            card.sharpe,
            r.min_sharpe,
            f"Sharpe {num(card.sharpe)} em {n_sess} pregões (mínimo {num(r.min_sharpe)})."
            if judged
            else f"Sharpe ainda não avaliado ({n_sess} de {r.min_sessions} pregões).",
        )
    )
    count, month = math.nan, None
    if len(equity):
        last = pd.Timestamp(equity.index[-1])
        first = pd.Timestamp(equity.index[0])
        # the last month fully covered by the curve
        per = last.to_period("M")
        if last < (per.end_time.normalize() - pd.offsets.BDay(1)):
            per = per - 1
        if per >= first.to_period("M"):
            month = per
            if len(trades):
                ex = pd.to_datetime(trades["exit_date"]).dt.to_period("M")
                count = float((ex == per).sum())
            else:
                count = 0.0
    active = month is not None and not (r.min_trades_month <= count <= r.max_trades_month)
    out.append(
        RedFlag(
            "trades_per_month",
            bool(active),
            count,
            float(
                r.max_trades_month
                if count == count and count > r.max_trades_month
                else r.min_trades_month
            ),
            (
                f"{int(count)} operações em {month.strftime('%m/%Y')} (esperado de "
                f"{r.min_trades_month} a {r.max_trades_month} por mês)."
            )
            if month is not None
            else "Nenhum mês completo ainda.",
        )
    )
    slip = 100.0 * slip_abs / traded if traded > 0 else 0.0
    out.append(
        RedFlag(
            "slippage",
            slip > r.max_slippage_pct,
            slip,
            r.max_slippage_pct,
            f"Execução {pct(slip / 100)} distante do backtest (limite {pct(r.max_slippage_pct / 100, 0)}).",
        )
    )
    return out


def equity_frame(
    store, account: str, equity: pd.Series, initial_cash: float, tickers: list[str]
) -> pd.DataFrame:
    """Equity beside the equal-weight buy-and-hold of ``tickers`` and ^BVSP (R$)."""
    from core.backtest.runner import _benchmarks, _window_refs, load_bars

    eq = _with_start(equity, initial_cash)
    if len(eq) < 2 or not tickers:
        return pd.DataFrame({"equity": eq, "buy_hold": np.nan, "bvsp": np.nan})
    bars = load_bars(store, tickers, eq.index[-1])
    bench = _benchmarks(_window_refs(store, bars, eq.index), eq.index, initial_cash)
    return pd.DataFrame({"equity": eq, "buy_hold": bench["buy_hold"], "bvsp": bench["bvsp"]})


def monitor(store, account: str, *, rules: RedFlagRules | None = None) -> MonitorResult:
    """The monitor of a paper account (card, equity, heatmap, red flags, trades).

    Raises
    ------
    InputError
        Unknown account.
    """
    from core.rates import cdi_daily_returns
    from core.trading.accounts import get_account
    from core.trading.broker import PaperBroker

    acc = get_account(store, account)
    trades = account_trades(store, acc.name)
    run = _runner_row(store, acc.name)
    rows = _equity_rows(store, None if run is None else int(run["id"]))
    snap = PaperBroker(store, acc.name).account()
    equity = rows["equity"] if len(rows) else pd.Series(dtype="float64")
    if equity.empty:
        equity = pd.Series(dtype="float64")
    rf = (
        cdi_daily_returns(store, _with_start(equity, acc.initial_cash).index)
        if len(equity)
        else None
    )
    card = status_card(trades, equity, acc.initial_cash, rf)
    if equity.empty:
        card = StatusCard(
            **{**asdict(card), "equity": float(snap.equity), "win_rate_ci": card.win_rate_ci}
        )
    tickers = json.loads(run["tickers"]) if run is not None else sorted(set(trades["ticker"]))
    flags = red_flags(
        trades,
        equity,
        card,
        rules=rules,
        traded=float(rows["traded"].sum()) if len(rows) else 0.0,
        slip_abs=float(rows["slip_abs"].sum()) if len(rows) else 0.0,
    )
    try:
        eqf = equity_frame(store, acc.name, equity, acc.initial_cash, tickers)
    except PregaoError:  # no stored benchmark data: the account's curve alone
        eqf = pd.DataFrame({"equity": equity})
    res = MonitorResult(
        card=card,
        equity=eqf,
        heatmap=monthly_heatmap(trades, tickers),
        flags=flags,
        trades=trades,
    )
    res.cash = float(snap.cash)
    return res


def _cdi_returns(store, index: pd.DatetimeIndex, memo: dict | None) -> pd.Series:
    """:func:`core.rates.cdi_daily_returns` on ``index``, from ``memo`` when it holds them.

    A bar's CDI return depends only on that bar and the one before it, so the returns of a
    prefix of an index are the prefix of the index's returns: the memo keeps the returns
    of ``index`` extended by ``memo["cdi_extend"]`` (the later sessions a runner will
    process) and serves every later month's prefix from them.
    """
    from core.rates import cdi_daily_returns

    if memo is None:
        return cdi_daily_returns(store, index)
    got = memo.get("cdi")
    n = len(index)
    if got is None or len(got) < n or not got.index[:n].equals(index):
        ext = memo.get("cdi_extend")
        full = index if ext is None else index.append(ext[ext > index[-1]])
        got = memo["cdi"] = cdi_daily_returns(store, full)
    return got.iloc[:n]


def evaluate_red_flags(
    store, account: str, time, *, rules: RedFlagRules | None = None, memo: dict | None = None
) -> list[RedFlag]:
    """Compute the red flags of ``account`` now and write the active ones as events
    (:func:`write_red_flags`); the runner calls it at each new month and at its end.

    ``memo`` (optional): a dict the caller keeps between calls for what does not change
    during a replay — the CDI returns (``memo["cdi_extend"]``: the sessions the caller
    will ask for later, a DatetimeIndex), splits and point values (:func:`account_trades`).
    The flags are the same with or without it.
    """
    from core.trading.accounts import get_account

    acc = get_account(store, account)
    trades = account_trades(store, acc.name, memo=memo)
    run = _runner_row(store, acc.name)
    rows = _equity_rows(store, None if run is None else int(run["id"]))
    equity = rows["equity"] if len(rows) else pd.Series(dtype="float64")
    rf = (
        _cdi_returns(store, pd.DatetimeIndex(_with_start(equity, acc.initial_cash).index), memo)
        if len(equity)
        else None
    )
    card = status_card(trades, equity, acc.initial_cash, rf)
    flags = red_flags(
        trades,
        equity,
        card,
        rules=rules,
        traded=float(rows["traded"].sum()) if len(rows) else 0.0,
        slip_abs=float(rows["slip_abs"].sum()) if len(rows) else 0.0,
    )
    write_red_flags(store, acc.name, flags, time)
    return flags


def write_red_flags(store, account: str, flags: list[RedFlag], time) -> int:
    """Write each active flag as a ``red_flag`` event, once per flag and month.

    Returns
    -------
    int
        Events written.
    """
    from core.trading.accounts import get_account
    from core.trading.events import list_events, write_event

    acc = get_account(store, account)
    month = pd.Timestamp(time).strftime("%Y-%m")
    seen = {
        (e.values.get("flag"), e.values.get("month"))
        for e in list_events(store, acc.name, kinds=["red_flag"])
    }
    new = [f for f in flags if f.active and (f.code, month) not in seen]
    if not new:
        return 0  # no write transaction (and no durable commit) for nothing
    n = 0
    with store.transaction() as conn:
        for f in new:
            v = f.value if f.value == f.value else None
            write_event(
                conn,
                acc.id,
                time,
                "red_flag",
                None,
                {"flag": f.code, "month": month, "value": v, "threshold": f.threshold},
                f"Alerta vermelho: {f.message}",
            )
            n += 1
    return n


# --------------------------------------------------------------------------- ML data
def collect_ml_data(store, account: str) -> int:
    """Store seed 002's ``ml_training_data`` row of every closed runner trade not stored yet.

    The features are :func:`core.ml.features.build_features` of the ticker's bars up to the
    signal bar (the session before the entry), computed then — never with later bars. The
    strategy score and signal type come from the runner's signal log at that bar.

    Returns
    -------
    int
        Rows written (``trade_id`` = ``account:ticker:entry:exit:shares`` is unique).
    """
    from core.ml.features import build_features
    from core.trading.runner import signal_log

    run = _runner_row(store, account)
    if run is None:
        return 0
    trades = account_trades(store, account)
    trades = trades[trades["exit_reason"] != "manual"]
    if trades.empty:
        return 0
    sigs = signal_log(store, account)
    with store.engine.connect() as conn:
        have = {r[0] for r in conn.execute(select(_ML.c.trade_id).where(_ML.c.account == account))}
    rows = []
    cache: dict[str, pd.DataFrame] = {}
    for r in trades.itertuples(index=False):
        tid = f"{account}:{r.ticker}:{pd.Timestamp(r.entry_date):%Y%m%d}:{pd.Timestamp(r.exit_date):%Y%m%d}:{int(r.shares)}"
        if tid in have:
            continue
        if r.ticker not in cache:
            cache[r.ticker] = store.bars(r.ticker)
        bars = cache[r.ticker]
        sig_bar = bars.index[bars.index < pd.Timestamp(r.entry_date)]
        feats: dict = {}
        score, stype = None, ""
        if len(sig_bar):
            t0 = sig_bar[-1]
            f = build_features(bars.loc[:t0])
            last = f.iloc[-1]
            feats = {k: (None if not v == v else float(v)) for k, v in last.items()}
            s = sigs[(sigs["ticker"] == r.ticker) & (sigs["time"] == t0)]
            if len(s):
                sc = s["score"].iloc[0]
                score = None if sc is None or not sc == sc else float(sc)
                stype = str(s["kind"].iloc[0])
        rows.append(
            {
                "trade_id": tid,
                "account": account,
                "strategy": run["strategy"],
                "trade_date": pd.Timestamp(r.entry_date).to_pydatetime(),
                "exit_date": pd.Timestamp(r.exit_date).to_pydatetime(),
                "symbol": r.ticker,
                "entry_price": float(r.entry_price),
                "exit_price": float(r.exit_price),
                "return_pct": float(r.return_pct),
                "result": "WIN" if r.pnl > 0 else "LOSS",
                "duration_days": int((pd.Timestamp(r.exit_date) - pd.Timestamp(r.entry_date)).days),
                "strategy_score": score,
                "signal_type": stype,
                "features": json.dumps(feats),
            }
        )
    if rows:
        with store.transaction() as conn:
            conn.execute(_ML.insert(), rows)
    return len(rows)


def ml_training_frame(store, account: str) -> pd.DataFrame:
    """The stored ML training data of ``account`` (columns :data:`ML_COLUMNS`, by date)."""
    q = select(*[_ML.c[c] for c in ML_COLUMNS]).where(_ML.c.account == account)
    with store.engine.connect() as conn:
        rows = conn.execute(q.order_by(_ML.c.trade_date, _ML.c.id)).all()
    return pd.DataFrame(rows, columns=list(ML_COLUMNS))
