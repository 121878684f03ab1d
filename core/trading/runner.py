"""Strategy runners: a strategy trading a paper account on its own, bar by bar.

How a bar is processed
----------------------
A :class:`StrategyRunner` takes the bars of one time from its feed (every ticker's bar of
that session) and:

1. **plans** the session with the backtest engine itself: the kernel
   (:func:`core.backtest.engine.simulate`) runs on the bars up to this one and on the
   signals computed so far (each computed at the close of its own bar, on the history up
   to that bar). The kernel is causal — bar ``i`` reads market row ``i`` and signal row
   ``i − 1`` — so the plan of a prefix is exactly what a backtest does on that bar: which
   positions exit at the open (signal, time stop), which tickers enter and with how many
   shares (sizing on the equity at the open, priority in ticker order, ``max_positions``,
   lots), at which stop and target (:func:`core.backtest.engine.entry_levels`);
2. **sends** those orders to the paper broker (through its risk manager): exits at the
   open as market orders (cancelling the position's bracket), entries as market orders —
   or buy-stops at the strategy's entry level — with the stop and the target as
   one-cancels-other bracket children. Orders carry a client id made of the runner, the
   bar and the ticker, so a runner restarted after a crash resubmits nothing twice;
3. lets the broker **work the bar** (:meth:`PaperBroker.on_bars`, every ticker in one
   transaction, in the engine's order): market orders at the open, stop entries through
   their level, bracket stops before targets, gaps at the open — the fill rules of
   :mod:`core.backtest.fills`, the costs of :mod:`core.backtest.costs` — and marks the
   positions at the close;
4. checks that the account holds what the plan holds (a difference — a risk rule that
   refused an order, a kill switch — is reported as drift in the runner's message);
5. runs the strategy's own signal code (:func:`core.backtest.runner.compute_signals`) on
   the history up to this bar, logs every signal (:class:`PaperSignal`), and stores the
   runner's progress and the account's equity — in the broker's transaction of the bar
   (``on_bars(then=...)``: the bar's work and its record commit together, one durable
   commit per bar); then calls the ``on_bar_hooks`` (alerts).

Hence a replay of a period gives the trades of :func:`core.backtest.runner.run_backtest` on
that period with the same strategy, capital, costs and sizing (tests/unit/test_paper_replay.py
compares every trade). Positions still open at the end of a replay stay open in the account
(a backtest closes them at the last close, reason ``fim``).

Engine options not reproduced bar by bar (refused with a pt-BR message by
:func:`check_supported`): the dividend-adjusted price mode (the adjusted series changes with
every later dividend), reinvested proventos, interest on idle cash (the paper broker does not
pay the CDI) and the trailing stop (a bracket stop at the broker's R$ 0,01 tick would move
the engine's exact level).

Levels: the engine places stops, targets and stop entries at exact prices (a strategy's
level rescaled from the adjusted series); B3 and the paper broker quote in ticks of
R$ 0,01. Runner orders carry the engine's exact levels (:class:`_EngineLevelBroker`), so the
account never drifts from the backtest by a rounding; manual orders keep the tick rule.

Crash safety: the plan is recomputed from the bars and the signals (deterministic), the
broker's state changes are transactions of their own, and each bar ends with one
transaction storing ``last_bar``. After a ``kill -9`` the runner recomputes the signals up
to ``last_bar`` and resumes with the next bar; orders of a bar that was half processed are
found again by their client ids, and a bar the broker already worked (its clock) is not
worked again (nothing lost, nothing doubled).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, delete, select

from core.backtest.engine import (
    _T_DIR,
    _T_EBAR,
    _T_EPX,
    _T_REASON,
    _T_SH,
    _T_TICKER,
    _T_XBAR,
    _T_XPX,
    R_END,
    R_SIGNAL,
    R_TIME,
    EngineConfig,
    Market,
    Signals,
    engine_inputs,
    entry_levels,
    simulate,
)
from core.backtest.fills import entry_fill
from core.errors import InputError
from core.strategies.base import FLAG_COLUMNS
from core.trading.feeds import BarEvent, Feed, ReplayFeed
from core.trading.runner_models import PaperRunner, PaperRunnerEquity, PaperSignal

__all__ = [
    "RunnerStatus",
    "StrategyRunner",
    "check_supported",
    "runner_status",
    "request_stop",
    "detach",
    "list_runners",
    "signal_log",
    "equity_curve",
    "RUNNER_STATUSES",
]

log = logging.getLogger(__name__)
#: Kernel market arrays indexed by ticker (k,), not by bar: a bar prefix keeps them whole.
_PER_TICKER = frozenset({"lot", "unit_fee_sw", "unit_fee_dt", "margin", "slip_abs"})

# Core tables (typed Any: SQLAlchemy types ``__table__`` as a FromClause)
_RUN: Any = PaperRunner.__table__
_EQ: Any = PaperRunnerEquity.__table__
_SIG: Any = PaperSignal.__table__

# The runner's per-bar statements, built once (bind parameters): a replay runs them on
# every bar, and a statement built per call costs SQLAlchemy more than SQLite's work.
_RID: Any = bindparam("rid")
_DEL_EQ = delete(_EQ).where(_EQ.c.runner_id == _RID, _EQ.c.time == bindparam("t"))
_INS_EQ = _EQ.insert()
_UPD_RUN = _RUN.update().where(_RUN.c.id == _RID)
_Q_STATUS = select(_RUN.c.status).where(_RUN.c.id == _RID)
_Q_SIG_SEEN = select(_SIG.c.ticker, _SIG.c.kind).where(
    _SIG.c.runner_id == _RID, _SIG.c.time == bindparam("t")
)
_INS_SIG = _SIG.insert()

#: Runner states (pt-BR, shown on the page): stopped, running, stopping, finished, error.
RUNNER_STATUSES: tuple[str, ...] = ("parado", "rodando", "parando", "concluído", "erro")

Hook = Callable[[Any, BarEvent], None]
_FLAGS = ("entry_long", "exit_long", "entry_short", "exit_short")
_LEVELS = ("stop", "target", "entry_level")


@dataclass(frozen=True)
class RunnerStatus:
    """Where a runner stands (what the page's automation panel shows).

    Attributes
    ----------
    account, strategy : str
    params : dict
    tickers : list of str
    feed : str
        ``replay``, ``yahoo`` or ``mt5``.
    status : str
        One of :data:`RUNNER_STATUSES`.
    start, end : pandas.Timestamp or None
        Replay window.
    last_bar : pandas.Timestamp or None
        Last bar fully processed.
    bars_done, bars_total : int
        Progress (``bars_total`` 0 for a live feed).
    message : str
        pt-BR: drift, error or the end of the replay.
    updated_at : pandas.Timestamp or None
    """

    account: str
    strategy: str
    params: dict
    tickers: list[str]
    feed: str
    status: str
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    last_bar: pd.Timestamp | None
    bars_done: int
    bars_total: int
    message: str = ""
    updated_at: pd.Timestamp | None = None
    engine: dict = field(default_factory=dict)
    speed: float | None = None
    interval: str = "1d"

    @property
    def progress(self) -> float:
        """Fraction of the replay done (0 for a live feed)."""
        return self.bars_done / self.bars_total if self.bars_total else 0.0


def check_supported(config: EngineConfig, *, adjusted: bool = False) -> None:
    """Refuse engine options a runner cannot reproduce bar by bar (see the module docstring).

    Raises
    ------
    InputError
        Naming the option, in pt-BR.
    """
    if adjusted:
        raise InputError(
            "Preços ajustados não servem para operar: a série ajustada muda a cada provento "
            "futuro. A conta simulada opera preços negociados (sem --adjusted)."
        )
    if config.reinvest:
        raise InputError(
            "Reinvestir proventos não é reproduzido pela conta simulada (a corretora credita "
            "proventos em caixa): use --no-reinvest."
        )
    if config.cash_interest > 0:
        raise InputError(
            "Juros sobre o caixa (% do CDI) não são pagos pela conta simulada: use "
            "--cash-interest 0."
        )
    if config.trailing_stop > 0:
        raise InputError(
            "Stop móvel ainda não é reproduzido barra a barra pela conta simulada (o stop "
            "da corretora fica no tick de R$ 0,01): rode sem --trailing."
        )


def _ts(x) -> pd.Timestamp | None:
    return None if x is None else pd.Timestamp(x)


def _py(x):
    return None if x is None else pd.Timestamp(x).to_pydatetime()


def _row_status(r) -> RunnerStatus:
    return RunnerStatus(
        account=r["account"],
        strategy=r["strategy"],
        params=json.loads(r["params"] or "{}"),
        tickers=json.loads(r["tickers"] or "[]"),
        feed=r["feed"],
        status=r["status"],
        start=_ts(r["start"]),
        end=_ts(r["end"]),
        last_bar=_ts(r["last_bar"]),
        bars_done=int(r["bars_done"] or 0),
        bars_total=int(r["bars_total"] or 0),
        message=r["message"] or "",
        updated_at=_ts(r["updated_at"]),
        engine=json.loads(r["engine"] or "{}"),
        speed=r["speed"],
        interval=r.get("interval") or "1d",
    )


def request_stop(store, account: str) -> bool:
    """Ask the running runner of ``account`` to stop after its current bar (any process:
    a thread, a Celery worker, ``paper run``). Returns False when none is running."""
    with store.transaction() as conn:
        res = conn.execute(
            _RUN.update()
            .where(_RUN.c.account == account, _RUN.c.status == "rodando")
            .values(status="parando", updated_at=_py(pd.Timestamp.now()))
        )
    return bool(res.rowcount)


def detach(store, account: str) -> None:
    """Remove the runner of ``account`` (its signal log and equity curve go with it; the
    account's orders and fills stay). A running runner must be stopped first.

    Raises
    ------
    InputError
        The runner is running.
    """
    with store.transaction() as conn:
        r = conn.execute(select(_RUN).where(_RUN.c.account == account)).mappings().first()
        if r is None:
            return
        if r["status"] in ("rodando", "parando"):
            raise InputError(f"O robô da conta {account} está rodando: pare-o antes de removê-lo.")
        conn.execute(delete(_SIG).where(_SIG.c.runner_id == r["id"]))
        conn.execute(delete(_EQ).where(_EQ.c.runner_id == r["id"]))
        conn.execute(delete(_RUN).where(_RUN.c.id == r["id"]))


def runner_status(store, account: str) -> RunnerStatus | None:
    """The runner attached to ``account`` (None when none is)."""
    with store.engine.connect() as conn:
        r = conn.execute(select(_RUN).where(_RUN.c.account == account)).mappings().first()
    return None if r is None else _row_status(r)


def list_runners(store) -> list[RunnerStatus]:
    """Every runner, by account name."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(_RUN).order_by(_RUN.c.account)).mappings().all()
    return [_row_status(r) for r in rows]


def signal_log(store, account: str) -> pd.DataFrame:
    """The signal log of ``account``'s runner.

    Returns
    -------
    pandas.DataFrame
        Columns ``time, strategy, ticker, kind, side, entry, stop, target, score,
        reasoning`` (reasoning: a JSON text), time-ordered.
    """
    cols = ["time", "strategy", "ticker", "kind", "side", "entry", "stop", "target", "score"]
    q = select(*[_SIG.c[c] for c in cols], _SIG.c.reasoning).where(_SIG.c.account == account)
    with store.engine.connect() as conn:
        rows = conn.execute(q.order_by(_SIG.c.time, _SIG.c.id)).all()
    df = pd.DataFrame(rows, columns=[*cols, "reasoning"])
    df["time"] = pd.to_datetime(df["time"])
    return df


def equity_curve(store, account: str) -> pd.Series:
    """Equity (R$) of ``account`` at the close of each bar its runner processed."""
    st = select(_RUN.c.id).where(_RUN.c.account == account)
    with store.engine.connect() as conn:
        rid = conn.execute(st).scalar()
        if rid is None:
            return pd.Series(dtype="float64", name="equity")
        rows = conn.execute(
            select(_EQ.c.time, _EQ.c.equity).where(_EQ.c.runner_id == rid).order_by(_EQ.c.time)
        ).all()
    if not rows:
        return pd.Series(dtype="float64", name="equity")
    idx = pd.DatetimeIndex([r[0] for r in rows], name="date")
    return pd.Series([float(r[1]) for r in rows], index=idx, name="equity")


def _bar_rows(tr: np.ndarray, i: int) -> np.ndarray:
    """The rows of the kernel's trade matrix ``tr`` (n, 17) that bar ``i`` reads, in their
    order: entered or exited at ``i`` (orders, slippage) and still open at the end of the
    plan (``R_END``: the positions the account must hold). Every other row is a trade
    closed before ``i``, which the runner's per-row loops skipped one by one every bar."""
    if len(tr) == 0:
        return tr
    keep = (
        (tr[:, _T_EBAR].astype(np.int64) == i)
        | (tr[:, _T_XBAR].astype(np.int64) == i)
        | (tr[:, _T_REASON].astype(np.int64) == R_END)
    )
    return tr[keep]


def _slippage(
    tr: np.ndarray, i: int, tickers: list[str], fills: list, pvs: dict[str, float] | None = None
) -> tuple[float, float]:
    """(Σ planned value, Σ |filled − planned| value) of bar ``i``, R$, per ticker and side
    (``pvs``: point values of futures tickers, whose fills are in points)."""
    plan: dict[tuple[str, str], float] = {}
    for r in tr:
        t = tickers[int(r[_T_TICKER])]
        d = int(r[_T_DIR])
        q = float(r[_T_SH])
        if int(r[_T_EBAR]) == i:
            k = (t, "buy" if d > 0 else "sell")
            plan[k] = plan.get(k, 0.0) + q * float(r[_T_EPX])
        if int(r[_T_XBAR]) == i and int(r[_T_REASON]) != R_END:
            k = (t, "sell" if d > 0 else "buy")
            plan[k] = plan.get(k, 0.0) + q * float(r[_T_XPX])
    done: dict[tuple[str, str], float] = {}
    for f in fills:
        k = (f.ticker, f.side)
        done[k] = done.get(k, 0.0) + f.qty * f.price * (pvs or {}).get(f.ticker, 1.0)
    traded = float(sum(plan.values()))
    slip = float(sum(abs(done.get(k, 0.0) - v) for k, v in plan.items()))
    slip += float(sum(v for k, v in done.items() if k not in plan))
    return traded, slip


def _scale_bars(b: pd.DataFrame, pv: float) -> pd.DataFrame:
    """Futures bars in R$ per contract (prices × point value), as the backtest engine sees
    them (:func:`core.backtest.runner.run_backtest`)."""
    out = b.copy()
    for c in ("open", "high", "low", "close", "adj_close"):
        if c in out.columns:
            out[c] = b[c] * pv
    return out


def _points(x: float, pv: float) -> float:
    """A plan level in R$ per contract back in points (nan stays nan); rounded to 1e-6
    point so that a level the strategy took from a bar is that bar's price again."""
    return round(float(x) / pv, 6) if x == x else float("nan")


def _last_row(sig: pd.DataFrame) -> dict[str, Any]:
    """The last row of a signal frame as ``{column: value}``: the values of ``sig.iloc[-1]``.

    A frame of :func:`core.strategies.base.flag_frame` (its column Index, one boolean block)
    gives its row from ``to_numpy()`` (a view of the block) instead of a row Series: the
    runner reads it once per bar and ticker, and the Series cost as much as a third of the
    strategy call. Any other frame goes through ``iloc[-1]``. Both give the same values
    (``tests/unit/test_paper_runner_prefix.py`` checks it).

    Raises
    ------
    IndexError
        If ``sig`` has no rows (as ``iloc[-1]``).
    """
    if sig.columns is FLAG_COLUMNS:
        return dict(zip(FLAG_COLUMNS, sig.to_numpy()[-1], strict=True))
    last = sig.iloc[-1]
    return dict(zip(last.index, last.to_numpy(), strict=True))


class _Prefix(Mapping):
    """``{ticker: bars.iloc[:end]}`` for one ticker, sliced only when read: the as-traded
    history :func:`~core.backtest.runner.compute_signals` reads only for a strategy that
    sets price levels (the replay calls it once per bar and ticker)."""

    def __init__(self, bars: dict[str, pd.DataFrame], ticker: str, end: int) -> None:
        self._bars, self._t, self._end = bars, ticker, end

    def __getitem__(self, key: str) -> pd.DataFrame:
        if key != self._t:
            raise KeyError(key)
        return self._bars[key].iloc[: self._end]

    def __iter__(self) -> Iterator[str]:
        return iter((self._t,))

    def __len__(self) -> int:
        return 1


def _groups(feed) -> Iterable[list[BarEvent]]:
    """The feed's bars grouped by time (``feed.groups()`` when it has one)."""
    if hasattr(feed, "groups"):
        yield from feed.groups()
        return
    group: list[BarEvent] = []
    for ev in feed.bars():
        if group and ev.time != group[0].time:
            yield group
            group = []
        group.append(ev)
    if group:
        yield group


def _engine_level_broker(store, account: str, clock):
    """A :class:`PaperBroker` whose runner orders keep the engine's exact levels.

    The paper broker refuses prices off the R$ 0,01 tick (a trader's order); a runner's
    bracket carries the backtest engine's levels, which are not on the tick (a strategy's
    level rescaled from the adjusted series). The validation runs on the tick-rounded
    request and the exact levels are put back; after a split or bonus, the levels of the
    runner's open orders are the exact quotient (the engine's), not the tick-rounded one.
    Both hooks are PaperBroker private methods: an option of PaperBroker for exact levels
    would be the cleaner home.
    """
    from core.trading.broker import PaperBroker

    class _EngineLevelBroker(PaperBroker):
        #: Prices the runner's orders are sent at (the session's opens), by ticker.
        refs: dict[str, float] = {}
        #: Tickers the open strategy orders of the account can be on (the runner's tickers
        #: and those of strategy orders open when it was attached).
        order_tickers: frozenset[str] = frozenset()

        def _last_price(self, ticker, pos):  # noqa: ANN001
            # While a bar's orders are sent, the reference of a market order is the open
            # it fills at (the engine sizes on it), not the last close stored.
            ref = self.refs.get(ticker)
            return ref if ref is not None else super()._last_price(ticker, pos)

        def account_and_positions(self):
            """:meth:`account` and :meth:`positions` from one read of the account (the
            runner needs both after every bar; each alone computes the whole snapshot)."""
            from core.trading.broker import _Q_ACC

            with self.store.engine.connect() as conn:
                acc = dict(conn.execute(_Q_ACC, {"aid": self.account_id}).mappings().first())
                snap, positions = self._snapshot(conn, acc)[:2]
            return snap, positions

        def _validate(self, req):  # noqa: ANN001 - PaperBroker's private hook
            fut = self._future(req.ticker)

            def tick(x):
                if x is None:
                    return None
                if fut is not None:  # futures: the contract's tick (points)
                    return round(float(x) / fut.tick) * fut.tick
                return round(float(x), 2)

            rounded = replace(
                req,
                price=tick(req.price),
                stop_price=tick(req.stop_price),
                stop_loss=tick(req.stop_loss),
                target=tick(req.target),
            )
            v = super()._validate(rounded)
            if str(req.source or "").startswith("strategy:"):
                for k in ("price", "stop_price", "stop_loss", "target"):
                    x = getattr(req, k)
                    if x is not None:
                        v[k] = float(x)
            return v

        def _apply_actions(self, conn, acc, cfg, prev, session, time):  # noqa: ANN001
            # A split divides the open orders' levels by the ratio; the broker rounds them
            # to the tick, the engine does not: runner orders get the exact quotient back.
            from core.data.actions import load_actions
            from core.trading.models import PaperOrder

            orders = PaperOrder.__table__
            # A session without a corporate action of a held ticker (the broker applies
            # those) or of a ticker the runner's orders are on (their levels) — nearly every
            # session — changes nothing: skipping it saves the broker's per-session pandas
            # filtering and a query of the open orders (the account is exactly the same).
            # The stored actions do not change during a run: their dates are loaded once.
            # The broker applies every action of a held ticker; the runner re-levels its
            # open orders on a split, reverse split or bonus only: a session with neither
            # (a dividend of a ticker not held, nearly every session) changes nothing.
            got = self.__dict__.get("_action_days")
            if got is None:
                every = load_actions(self.store, None, conn=conn)
                dates = pd.to_datetime(every["date"])
                split = every["kind"].isin(["split", "reverse_split", "bonus"]).to_numpy()
                got = tuple(
                    {
                        t: np.sort(dates[(every["ticker"] == t).to_numpy() & mask].to_numpy())
                        for t in every["ticker"].unique()
                    }
                    for mask in (np.ones(len(every), dtype=bool), split)
                )
                self.__dict__["_action_days"] = got
            days, split_days = got
            p0, p1 = np.datetime64(pd.Timestamp(prev)), np.datetime64(pd.Timestamp(session))
            held = {t for t, r in self._pos_rows(conn).items() if int(r["qty"]) != 0}
            if not any(
                np.searchsorted(d, p0, side="right") != np.searchsorted(d, p1, side="right")
                for d in [days.get(t) for t in held]
                + [split_days.get(t) for t in self.order_tickers - held]
                if d is not None
            ):
                return
            # the runner's tickers' actions in one read (positions open on them later)
            self._load_actions(conn, held | self.order_tickers)
            q = select(orders).where(
                orders.c.account_id == self.account_id,
                orders.c.status.in_(("nova", "aceita", "parcial")),
                orders.c.source.like("strategy:%"),
            )
            before = {r["id"]: dict(r) for r in conn.execute(q).mappings()}
            super()._apply_actions(conn, acc, cfg, prev, session, time)
            if not before:
                return
            tickers = tuple(sorted({o["ticker"] for o in before.values()}))
            cache = self.__dict__.setdefault("_share_events", {})
            if tickers not in cache:  # the stored actions do not change during a run
                acts = self._load_actions(conn, tickers)[1]  # the broker's, read once
                cache[tickers] = acts[
                    acts["ticker"].isin(list(tickers))
                    & acts["kind"].isin(["split", "reverse_split", "bonus"])
                ]
            acts = cache[tickers]
            if acts.empty:
                return
            acts = acts[(acts["date"] > prev) & (acts["date"] <= session)]
            for a in acts.itertuples(index=False):
                r = float(a.value)
                if not r > 0 or r == 1.0:
                    continue
                for oid, o in before.items():
                    if o["ticker"] != a.ticker:
                        continue
                    exact = {
                        k: float(o[k]) / r
                        for k in ("price", "stop_price", "stop_loss", "target")
                        if o[k] is not None
                    }
                    if exact:
                        conn.execute(orders.update().where(orders.c.id == oid).values(**exact))
                        o.update(exact)

    return _EngineLevelBroker(store, account, clock=clock)


class StrategyRunner:
    """A strategy attached to a paper account, trading it bar by bar.

    Parameters
    ----------
    store : Store
    account : str
        Paper account (:func:`core.trading.accounts.create_account`). One runner per account.
    strategy : str or Strategy
        A key of :data:`core.strategies.STRATEGIES` (``ml_filter`` included) or an instance.
    tickers : list of str
    params : dict, optional
        Strategy parameters.
    engine : EngineConfig, optional
        The backtest's settings (sizing, lots, stops, time stop, max positions, costs,
        cash). ``cash`` and ``costs`` must be the account's (the broker charges the
        account's costs); default: the account's.
    feed : Feed, optional
        Default a :class:`ReplayFeed` of the stored bars from ``start`` to ``end``.
    on_bar_hooks : iterable of callables ``hook(store, event)``
        Called for every bar after it is processed (alerts evaluation).
    start, end : date-like, optional
        Trading window (bars before ``start`` only warm up the signals).
    speed : float, optional
        Replay speed (bar times per second; None = as fast as possible).
    feed_kind : str
        ``replay``, ``yahoo`` or ``mt5`` (stored with the runner).
    interval : str
        Bar interval traded (``1d`` default; ``5min`` ... ``60min`` replay intraday bars,
        one :class:`BarEvent` per bar, as :func:`core.backtest.runner.run_backtest` with the
        same ``interval``). Futures (``WINFUT``) trade contracts at the contract's terms
        (:mod:`core.trading.contracts`); with ``engine.day_trade`` every position is closed
        at the session's flatten bar (:meth:`PaperBroker.close_day_trades`) and entry
        signals of the bars after it are dropped, as the backtest does.

    Raises
    ------
    InputError
        Unknown account or strategy, bad parameters, an option that cannot run bar by bar
        (:func:`check_supported`), costs or capital different from the account's, or
        another runner configuration already attached to the account.
    """

    def __init__(
        self,
        store,
        account: str,
        strategy,
        tickers: Iterable[str],
        params: dict | None = None,
        engine: EngineConfig | None = None,
        feed: Feed | None = None,
        on_bar_hooks: Iterable[Hook] = (),
        *,
        start=None,
        end=None,
        speed: float | None = None,
        feed_kind: str = "replay",
        interval: str = "1d",
    ) -> None:
        from core.backtest.runner import BACKTEST_INTERVALS, load_inputs
        from core.data.intraday import normalize_interval
        from core.strategies import Strategy, get_strategy
        from core.trading.accounts import get_account

        self.store = store
        acc = get_account(store, account)
        self.account = acc.name
        self.strategy = (
            strategy if isinstance(strategy, Strategy) else get_strategy(strategy, **(params or {}))
        )
        self.tickers = [t.strip().upper() for t in tickers if t and t.strip()]
        if not self.tickers:
            raise InputError("Escolha ao menos um ativo para o robô.")
        if len(set(self.tickers)) != len(self.tickers):
            raise InputError("Ativos repetidos na lista.")
        cfg = engine or replace(acc.engine, cash=acc.initial_cash)
        if cfg.reinvest is None:
            cfg = replace(cfg, reinvest=False)
        check_supported(cfg)
        if abs(cfg.cash - acc.initial_cash) > 1e-6:
            raise InputError(
                f"O capital do robô ({cfg.cash:,.2f}) difere do capital inicial da conta "
                f"{acc.name} ({acc.initial_cash:,.2f}): use o mesmo valor em --cash."
            )
        if cfg.costs.to_dict() != acc.engine.costs.to_dict():
            raise InputError(
                f"Os custos do robô diferem dos custos da conta {acc.name} (a corretora cobra "
                "os da conta): use o mesmo --costs com que a conta foi criada."
            )
        from core.data.futures import is_future_ticker

        shares = [t for t in self.tickers if not is_future_ticker(t)]
        if cfg.allow_short and not acc.engine.allow_short and shares:
            raise InputError(
                f"A conta {acc.name} não permite venda a descoberto de ações "
                f"({', '.join(shares)}); futuros podem ser vendidos."
            )
        if cfg.sizing.method == "risk" and cfg.stop_loss <= 0 and not self.strategy.sets_stops:
            raise InputError(
                "Dimensionamento por risco precisa de um stop: defina o stop-loss (%) ou use "
                "uma estratégia que define stops (wave3)."
            )
        self.config = cfg
        self.interval = normalize_interval(interval)
        if self.interval not in BACKTEST_INTERVALS:
            raise InputError(
                f"Intervalo {interval!r} não suportado pelo robô (use "
                f"{', '.join(BACKTEST_INTERVALS)})."
            )
        if start is None and feed_kind != "replay":
            # a live runner trades from the first bar after the stored history
            last = max((store.last_date(t) for t in self.tickers), default=None)
            start = None if last is None else pd.Timestamp(last) + pd.Timedelta(days=1)
        self.start = None if start is None else pd.Timestamp(start)
        self.end = None if end is None else pd.Timestamp(end)
        self.speed = speed
        self.feed_kind = feed_kind
        self.hooks = list(on_bar_hooks)
        self.strategy.prepare(store)
        self._load_inputs = load_inputs
        self._clock: pd.Timestamp | None = None
        self.broker = _engine_level_broker(store, self.account, self._now)
        # the runner's orders are charged the runner's futures terms (margin, fees per
        # contract, slippage in ticks), exactly what the backtest charges
        self.broker._engine = cfg
        self.runner_id, self.last_bar = self._attach()
        #: newest time with a stored equity or signal row of this runner (None: none): a
        #: later bar has none to replace, so its rows are inserted without a delete or a
        #: read first (the runner is its rows' only writer)
        self._rows_upto = self._stored_upto()
        self.broker.order_tickers = frozenset(self.tickers) | {
            o.ticker for o in self.broker.orders("open") if str(o.source).startswith("strategy:")
        }
        self.feed = feed
        if self.feed is None:
            self.feed = ReplayFeed(
                store,
                self.tickers,
                self.start,
                self.end,
                speed=speed,
                after=self.last_bar,
                interval=self.interval,
            )
        elif self.last_bar is not None and hasattr(self.feed, "after"):
            self.feed.after = self.last_bar
        self.drift: list[str] = []
        self._trimmed: set[str] = set()
        #: the runner's stop request as read at the end of the last bar (None: not read)
        self._seen_stop: bool | None = None
        self.ei: Any = None  # EngineInputs once built (None: a live runner before its first bar)
        #: what the monthly red flags read once per run (CDI returns, splits, point values)
        self._flag_memo: dict = {}
        self._build()

    def _now(self) -> pd.Timestamp:
        """The broker's clock: the previous close while a bar's orders are sent."""
        if self._clock is not None:
            return self._clock
        from core.trading.accounts import wall_now

        return wall_now()

    # -- attachment (paper_runners row) -------------------------------------------------
    def _settings(self) -> dict:
        return {
            "strategy": self.strategy.name,
            "params": json.dumps(self.strategy.p, sort_keys=True, default=str),
            "tickers": json.dumps(self.tickers),
            "engine": json.dumps(self.config.to_dict(), sort_keys=True),
            "start": _py(self.start),
            "end": _py(self.end),
            "interval": self.interval,
        }

    def _attach(self) -> tuple[int, pd.Timestamp | None]:
        """Create the runner row or resume the one with the same settings."""
        want = self._settings()
        with self.store.transaction() as conn:
            r = conn.execute(select(_RUN).where(_RUN.c.account == self.account)).mappings().first()
            if r is not None:
                live = self.feed_kind != "replay"
                same = all(
                    (pd.Timestamp(r[k]) if r[k] is not None else None)
                    == (pd.Timestamp(v) if v is not None else None)
                    if k in ("start", "end")
                    else r[k] == v
                    for k, v in want.items()
                    if not (live and k == "start")  # a live runner keeps its first start
                )
                if live and r["start"] is not None:
                    self.start = pd.Timestamp(r["start"])
                if not same:
                    raise InputError(
                        f"A conta {self.account} já tem um robô com outra configuração "
                        f"({r['strategy']} em {', '.join(json.loads(r['tickers']))}): "
                        "crie outra conta para outra estratégia."
                    )
                conn.execute(
                    _RUN.update()
                    .where(_RUN.c.id == r["id"])
                    .values(feed=self.feed_kind, speed=self.speed)
                )
                return int(r["id"]), _ts(r["last_bar"])
            if self.broker.positions():
                raise InputError(
                    f"A conta {self.account} já tem posições: o robô precisa de uma conta "
                    "sem posições (o plano é o do backtest, a partir do caixa inicial)."
                )
            res = conn.execute(
                _RUN.insert().values(
                    account=self.account,
                    feed=self.feed_kind,
                    speed=self.speed,
                    status="parado",
                    updated_at=_py(pd.Timestamp.now()),
                    **want,
                )
            )
            return int(res.inserted_primary_key[0]), None

    # -- inputs -------------------------------------------------------------------------
    def _build(self) -> None:
        """Bars, actions, lots and the kernel's arrays for the window; signals so far."""
        from core.backtest.engine import flatten_codes
        from core.backtest.runner import adjust_bars, contract_terms, session_codes
        from core.data.intraday import INTERVAL_MINUTES

        inp = self._load_inputs(
            self.store,
            self.tickers,
            self.end,
            lot_size=self.config.sizing.lot_size,
            interval=self.interval,
        )
        self.inputs = inp
        index = next(iter(inp.bars.values())).index
        for b in list(inp.bars.values())[1:]:
            index = index.union(b.index)
        start_i = 0 if self.start is None else int(index.searchsorted(self.start))
        if start_i >= len(index):
            if self.feed_kind != "replay":
                self.index = index  # a live runner waits for its first bar (process)
                self.ei = None
                return
            raise InputError("O início do robô está depois da última barra armazenada.")
        first = index[max(start_i - 1, 0)]
        # futures: the engine trades R$ per contract (points × point value), as the backtest
        terms = contract_terms(self.tickers, inp.kinds, self.config)
        self.pvs = {t: pv for t, (pv, _) in terms.items()}
        self.adj = {t: adjust_bars(b) for t, b in inp.bars.items()}
        self.raw = {
            t: (_scale_bars(b, self.pvs[t]) if t in self.pvs else b) for t, b in inp.bars.items()
        }
        lots = dict(inp.lots)
        for t in self.pvs:
            lots[t] = 1
        bars = {t: b[b.index >= first] for t, b in self.raw.items()}
        bar_minutes = INTERVAL_MINUTES.get(self.interval)
        keep = index >= first
        flat = None
        self._no_entry: dict[str, np.ndarray] = {}
        if self.config.day_trade:
            flat = flatten_codes(index, self.config.flatten_minutes, bar_minutes)[keep]
            if bar_minutes:  # entry signals at or after the flatten bar are dropped
                self._no_entry = {
                    t: flatten_codes(b.index, self.config.flatten_minutes, bar_minutes) > 0
                    for t, b in self.raw.items()
                }
        empty = {
            t: pd.DataFrame({c: np.zeros(len(b), dtype=bool) for c in _FLAGS}, index=b.index)
            for t, b in bars.items()
        }
        self.ei = engine_inputs(
            bars,
            empty,
            self.config,
            start=index[start_i],
            actions=inp.actions,
            lots=lots,
            sessions=session_codes(index, self.interval)[keep],
            flat=flat,
            contracts={t: c for t, (_, c) in terms.items()} or None,
        )
        self._flat = flat
        self.index = self.ei.index
        # the red flags' equity rows are the sessions processed from the window's start
        self._flag_memo = {"cdi_extend": pd.DatetimeIndex(self.index[self.ei.start :])}
        self.k = len(self.ei.tickers)
        self._pos = {t: self.index.get_indexer(self.raw[t].index) for t in self.ei.tickers}
        self._has_bar = np.zeros((len(self.index), self.k), dtype=bool)
        for j, t in enumerate(self.ei.tickers):
            p = self._pos[t]
            self._has_bar[p[p >= 0], j] = True
        #: rows of each ticker's history up to and including bar i (the bars delivered)
        self._ends = np.column_stack(
            [self.raw[t].index.searchsorted(self.index, side="right") for t in self.ei.tickers]
        )
        self._signal_upto = -1
        # Signals of the bar before the window and of every bar already processed.
        upto = int(self.index.searchsorted(self.last_bar)) if self.last_bar is not None else 0
        if self.last_bar is None and self.ei.start > 0:
            upto = self.ei.start - 1
        elif self.last_bar is None:
            upto = -1
        for i in range(0, upto + 1):
            self._signals_at(i, log_signals=False)

    # -- signals ------------------------------------------------------------------------
    def _signals_at(self, i: int, *, log_signals: bool = True, conn=None) -> None:
        """Compute the signal row ``i`` (close of bar ``i``, history up to it)."""
        from core.backtest.runner import compute_signals

        sg = self.ei.signals
        T = self.index[i]
        rows = []
        for j, t in enumerate(self.ei.tickers):
            if not self._has_bar[i, j]:
                # carried over union dates without a bar of this ticker (as run_engine does)
                for arr in sg:
                    arr[i, j] = (
                        arr[i - 1, j] if i > 0 else (np.nan if arr.dtype.kind == "f" else False)
                    )
                continue
            end = int(self._ends[i, j])
            sig = compute_signals(
                self.strategy, {t: self.adj[t].iloc[:end]}, _Prefix(self.raw, t, end)
            )[t]
            row = _last_row(sig)
            vals: dict[str, Any] = {}
            no_entry = t in self._no_entry and bool(self._no_entry[t][end - 1])
            for c, arr in zip(_FLAGS, sg[:4], strict=True):
                x: Any = row.get(c, False)
                v = bool(x) if x == x else False
                if no_entry and c in ("entry_long", "entry_short"):
                    v = False  # day trade: would fill after the session's flatten time
                arr[i, j] = v
                vals[c] = v
            for c, arr in zip(_LEVELS, sg[4:], strict=True):
                lv = float(row[c]) if c in row else np.nan
                arr[i, j] = lv
                vals[c] = lv
            if log_signals and any(vals[c] for c in _FLAGS):
                rows.append(self._signal_row(T, t, vals, sig.iloc[-1]))
        self._signal_upto = i
        if rows and conn is not None:
            existing = (
                set()
                if self._rows_upto is None or T > self._rows_upto
                else {
                    (r[0], r[1])
                    for r in conn.execute(_Q_SIG_SEEN, {"rid": self.runner_id, "t": _py(T)})
                }
            )
            new = [r for r in rows if (r["ticker"], r["kind"]) not in existing]
            if new:
                conn.execute(_INS_SIG, new)

    def _signal_row(self, T, t, vals: dict, last: pd.Series) -> dict:
        kind = next(c for c in _FLAGS if vals[c])
        side = "buy" if kind in ("entry_long", "exit_short") else "sell"
        extra = {
            k: (bool(v) if isinstance(v, bool | np.bool_) else float(v))
            for k, v in last.items()
            if k not in _FLAGS
            and k not in _LEVELS
            and isinstance(v, int | float | np.number | bool | np.bool_)
        }
        reasoning = {"flags": [c for c in _FLAGS if vals[c]], **extra}
        close = float(self.raw[t]["close"].iloc[int(self.raw[t].index.searchsorted(T))])

        def f(x):
            return None if x is None or not x == x else float(x)

        return {
            "runner_id": self.runner_id,
            "account": self.account,
            "time": _py(T),
            "strategy": self.strategy.name,
            "ticker": t,
            "kind": kind,
            "side": side,
            "entry": f(vals["entry_level"])
            if vals["entry_level"] == vals["entry_level"]
            else close,
            "stop": f(vals["stop"]),
            "target": f(vals["target"]),
            "score": f(last["score"]) if "score" in last.index else None,
            "reasoning": json.dumps(reasoning, default=str),
        }

    # -- the plan -----------------------------------------------------------------------
    def plan(self, i: int) -> np.ndarray:
        """The kernel's trade matrix on bars ``0..i`` (see the module docstring)."""
        m, sg = self.ei.market, self.ei.signals
        market = Market(
            *(
                a if a is None or name in _PER_TICKER else a[: i + 1]
                for name, a in zip(Market._fields, m, strict=True)
            )
        )
        signals = Signals(*(a[: i + 1] for a in sg))
        _, _, _, tr, _ = simulate(market, signals, self.ei.params)
        return tr

    # -- processing ---------------------------------------------------------------------
    def _cid(self, T, t: str, what: str) -> str:
        return f"run{self.runner_id}:{pd.Timestamp(T):%Y%m%d%H%M}:{t}:{what}"

    def _open_children(self, t: str):
        return [
            o for o in self.broker.orders("open") if o.ticker == t and o.role in ("stop", "target")
        ]

    def _trimmed_entry(self, req, px: float, j: int, T, notes: list[str]) -> None:
        """Send ``req`` with the shares the account's cash pays for.

        The account pays the month's income tax (DARF, IRRF) from its cash; the backtest
        engine keeps its equity pre-tax. With a sizing bounded by the cash (``all_in``),
        the engine's quantity can exceed the account's buying power by a few shares: the
        entry is trimmed (lots as the sizing rounds them) and the difference is reported.
        """
        from core.backtest.costs import n_orders
        from core.backtest.sizing import round_shares
        from core.trading.risk import RiskRejected

        cfg = self.config
        lot = int(self.ei.lot[j])
        fill = px * (1 + cfg.costs.slippage_bps / 10_000.0)
        power = self.broker.account().buying_power
        q = int(req.qty)
        while q >= 1:
            fee = cfg.costs.fees(q * fill, date=T, orders=n_orders(q, lot))
            if q * fill + fee <= power - 1e-6:
                break
            q = round_shares(q - 1, lot, cfg.sizing.fractional)
        if q < 1:
            notes.append(f"{req.ticker}: entrada sem caixa na conta (IR pago do caixa)")
            return
        try:
            o = self.broker.submit(replace(req, qty=q, client_id=f"{req.client_id}:r"))
        except (RiskRejected, InputError) as exc:
            notes.append(f"{req.ticker}: entrada recusada ({exc})")
            return
        if o.status != "rejeitada":
            self._trimmed.add(req.ticker)
            notes.append(
                f"{req.ticker}: entrada de {q} ações em vez de {req.qty} (o IR pago do caixa "
                "da conta não sai do caixa do backtest)"
            )

    def _ingest(self, events: list[BarEvent]) -> None:
        """Store a live feed's new bars (source ``yahoo`` or ``mt5``, as traded) and rebuild
        the runner's inputs, so that the plan and the signals see them as a replay would."""
        for e in events:
            bar = pd.DataFrame(
                {
                    "open": [e.open],
                    "high": [e.high],
                    "low": [e.low],
                    "close": [e.close],
                    "adj_close": [e.close],
                    "volume": [e.volume],
                },
                index=pd.DatetimeIndex([e.time], name="date"),
            )
            self.store.write_bars(e.ticker, bar, self.feed_kind)
        end = self.end
        self.end = None  # a live runner trades up to the newest bar
        try:
            self._build()
        finally:
            self.end = end

    def process(self, events: list[BarEvent]) -> None:
        """Process the bars of one time (every ticker's bar of that session)."""
        from core.trading.broker import OrderRequest
        from core.trading.risk import RiskRejected

        T = events[0].time
        i = int(self.index.searchsorted(T))
        if (self.ei is None or i >= len(self.index) or self.index[i] != T) and (
            self.feed_kind != "replay"
        ):
            self._ingest(events)
            i = int(self.index.searchsorted(T))
        if i >= len(self.index) or self.index[i] != T:
            raise InputError(f"Barra de {T:%d/%m/%Y} fora das barras armazenadas do robô.")
        for ii in range(self._signal_upto + 1, i):
            self._signals_at(ii, log_signals=False)  # union dates the feed skipped
        prev = self.index[i - 1] if i > 0 else T - pd.Timedelta(days=1)
        self._clock = prev  # orders sent at the previous close belong to this session
        by_t = {e.ticker: e for e in events}
        tr = _bar_rows(self.plan(i) if i >= self.ei.start else np.empty((0, 17)), i)
        tick = self.ei.tickers
        src = f"strategy:{self.strategy.name}"
        x_open = [r for r in tr if int(r[_T_XBAR]) == i and int(r[_T_REASON]) in (R_SIGNAL, R_TIME)]
        entries = [r for r in tr if int(r[_T_EBAR]) == i]
        notes: list[str] = []
        held = {p.ticker: p.qty for p in self.broker.positions()} if x_open else {}
        for r in x_open:
            t = tick[int(r[_T_TICKER])]
            qty = abs(int(held.get(t, 0)))
            if qty == 0:
                notes.append(f"{t}: saída do plano sem posição na conta")
                continue
            for c in self._open_children(t):
                self.broker.cancel(c.id, reason="saída por sinal do robô")
            side = "sell" if held[t] > 0 else "buy"
            reason = "sinal" if int(r[_T_REASON]) == R_SIGNAL else "tempo"
            try:
                self.broker.submit(
                    OrderRequest(
                        account=self.account,
                        ticker=t,
                        side=side,
                        qty=qty,
                        client_id=self._cid(T, t, "exit"),
                        source=src,
                        signal_time=prev,
                        note=f"saída ({reason})",
                    )
                )
            except (RiskRejected, InputError) as exc:
                notes.append(f"{t}: saída recusada ({exc})")
        self.broker.refs = {}
        got: list = []
        sg = self.ei.signals
        self.broker.refs = {e.ticker: e.open for e in events}
        for r in entries:
            j = int(r[_T_TICKER])
            t = tick[j]
            d = int(r[_T_DIR])
            qty = int(round(r[_T_SH]))
            e = by_t.get(t)
            if e is None:
                continue
            level = float(sg.entry_level[i - 1, j])
            pv = self.pvs.get(t, 1.0)  # futures: the plan is in R$ per contract
            px, _ = entry_fill(e.open * pv, e.high * pv, e.low * pv, level, d)
            stop, target = entry_levels(
                px,
                float(sg.stop[i - 1, j]),
                float(sg.target[i - 1, j]),
                d,
                self.config.stop_loss,
                self.config.take_profit,
            )
            if t in self.pvs:  # back to points (the broker's unit for futures)
                level, stop, target = (_points(x, pv) for x in (level, stop, target))
            req = OrderRequest(
                account=self.account,
                ticker=t,
                side="buy" if d > 0 else "sell",
                qty=qty,
                type="market" if not level == level else "stop",
                stop_price=None if not level == level else level,
                stop_loss=float(stop) if stop == stop else None,
                target=float(target) if target == target else None,
                client_id=self._cid(T, t, "entry"),
                source=src,
                signal_time=prev,
                note="entrada",
            )
            try:
                o = self.broker.submit(req)
                if o.status == "rejeitada" and o.reason:  # found again after a restart
                    raise RiskRejected("saldo" if "saldo" in o.reason else "risco", o.reason)
            except RiskRejected as exc:
                if exc.rule != "saldo" or t in self.pvs:
                    notes.append(f"{t}: entrada recusada ({exc.message})")
                    continue
                self._trimmed_entry(req, float(px), j, T, notes)
            except InputError as exc:
                notes.append(f"{t}: entrada recusada ({exc})")
        self.broker.refs = {}
        # The broker works the whole bar in one transaction, in the engine's order (exits at
        # the open, entries, then stops and targets), and marks the positions at the close.
        # A clock already at T means this bar was worked before a crash: never twice (a
        # bracket child would be judged against the open instead of its entry price).
        # (judged inside on_bars' own transaction: ``after_clock``, no separate read)
        # plain mappings with BarEvent.as_bar's keys: a pandas Series per bar cost more
        # than the broker's work on it
        bars = {
            e.ticker: {
                "open": e.open,
                "high": e.high,
                "low": e.low,
                "close": e.close,
                "volume": e.volume,
            }
            for e in events
        }
        flatten = self._flat is not None and self._flat[i] > 0 and i >= self.ei.start
        recorded = False

        def record(conn, state: tuple, fills: list) -> None:
            # the runner's rows of the bar, inside the broker's transaction of the bar
            nonlocal recorded
            self._record(conn, i, T, tr, fills, notes, state[1], state[2], dict(state[3]))
            recorded = True

        # the day-trade flatten follows the bar's work: its rows are written after it
        got.extend(self.broker.on_bars(bars, T, after_clock=True, then=None if flatten else record))
        if flatten and self.broker.bar_state is not None:  # worked now, not before a restart
            # day trade: the engine closes every position at this bar's close
            got.extend(self.broker.close_day_trades(T, self.tickers))
        self._clock = T
        if not recorded:  # the bar was worked before a restart, or a flatten followed it
            snap, positions = self.broker.account_and_positions()
            acct = {p.ticker: p.qty for p in positions if p.qty}
            with self.store.transaction() as conn:
                self._record(conn, i, T, tr, got, notes, snap.equity, snap.cash, acct)
        if self._rows_upto is None or T > self._rows_upto:
            self._rows_upto = T  # committed
        month_done = self.last_bar is not None and T.to_period("M") != self.last_bar.to_period("M")
        self.last_bar = T
        if month_done:
            self._flags(T)
        for e in events:
            for hook in self.hooks:
                try:
                    hook(self.store, e)
                except Exception:  # noqa: BLE001 - a failing hook never stops the runner
                    log.exception("on_bar hook %r failed on %s %s", hook, e.ticker, e.time)

    def _record(
        self, conn, i: int, T, tr: np.ndarray, got: list, notes: list[str], equity, cash, acct
    ) -> None:
        """Write bar ``i``'s runner rows in ``conn``'s transaction: the drift against the
        plan (``notes``), the signal log, the equity row and the runner row, and read a stop
        request. ``equity``, ``cash`` and ``acct`` (signed quantities by ticker) are the
        account after the bar; ``got`` the bar's fills."""
        tick = self.ei.tickers
        # drift: the account must hold what the plan holds
        plan_pos: dict[str, int] = {}
        for r in tr:
            if int(r[_T_REASON]) == R_END:
                plan_pos[tick[int(r[_T_TICKER])]] = int(r[_T_DIR]) * int(round(r[_T_SH]))
        if i >= self.ei.start:
            for t in sorted(set(plan_pos) | set(acct)):
                p_q, a_q = plan_pos.get(t, 0), acct.get(t, 0)
                if t in self._trimmed:
                    if a_q == 0 and p_q == 0:
                        self._trimmed.discard(t)
                    if p_q * a_q > 0 and abs(a_q) <= abs(p_q):
                        continue  # a trimmed entry (reported when it was sent)
                if p_q != a_q:
                    notes.append(
                        f"{t}: conta com {acct.get(t, 0)} ações, backtest com {plan_pos.get(t, 0)}"
                    )
        traded, slip_abs = _slippage(tr, i, tick, got, self.pvs)
        if notes:
            msg = f"{T:%d/%m/%Y}: " + "; ".join(notes)
            self.drift.append(msg)
            log.warning("runner %s: %s", self.account, msg)
        self._signals_at(i, conn=conn)
        if self._rows_upto is not None and T <= self._rows_upto:
            conn.execute(_DEL_EQ, {"rid": self.runner_id, "t": _py(T)})
        conn.execute(
            _INS_EQ,
            {
                "runner_id": self.runner_id,
                "time": _py(T),
                "equity": float(equity),
                "cash": float(cash),
                "traded": traded,
                "slip_abs": slip_abs,
            },
        )
        done_n = max(0, i - self.ei.start + 1)  # window sessions up to T (sorted, unique)
        values = {
            "last_bar": _py(T),
            "bars_done": done_n,
            "updated_at": _py(pd.Timestamp.now()),
        }
        if notes:
            values["message"] = ("Divergência do backtest — " + self.drift[-1])[:2000]
        conn.execute(_UPD_RUN, {"rid": self.runner_id, **values})
        # a stop asked for meanwhile (any process), read in the bar's own transaction
        status = conn.execute(_Q_STATUS, {"rid": self.runner_id})
        self._seen_stop = status.scalar() == "parando"

    def _flags(self, T) -> None:
        """Seed 002's red flags as ``red_flag`` events (once per flag and month)."""
        from core.trading.monitor import evaluate_red_flags

        try:
            evaluate_red_flags(self.store, self.account, T, memo=self._flag_memo)
        except Exception:  # noqa: BLE001 - the monitor never stops the runner
            log.exception("red flags of %s at %s", self.account, T)

    def _stored_upto(self) -> pd.Timestamp | None:
        """The newest time of this runner's stored equity and signal rows (None: none)."""
        from sqlalchemy import func

        with self.store.engine.connect() as conn:
            got = [
                conn.execute(
                    select(func.max(tb.c.time)).where(tb.c.runner_id == self.runner_id)
                ).scalar()
                for tb in (_EQ, _SIG)
            ]
        got = [pd.Timestamp(g) for g in got if g is not None]
        return max(got) if got else None

    def _stop_requested(self) -> bool:
        with self.store.engine.connect() as conn:
            st = conn.execute(select(_RUN.c.status).where(_RUN.c.id == self.runner_id)).scalar()
        return st == "parando"

    def _set(self, **values) -> None:
        values["updated_at"] = _py(pd.Timestamp.now())
        with self.store.transaction() as conn:
            conn.execute(_RUN.update().where(_RUN.c.id == self.runner_id).values(**values))

    def run(
        self,
        stop: threading.Event | None = None,
        progress: Callable[[float, str], None] | None = None,
    ) -> RunnerStatus:
        """Process the feed until it ends (or ``stop`` is set).

        Returns
        -------
        RunnerStatus
            ``concluído`` at the end of a replay, ``parado`` when stopped, ``erro`` (with
            the pt-BR message) when a bar failed.
        """
        total = 0
        if isinstance(self.feed, ReplayFeed):
            end = self.end or self.index[-1]
            if end == end.normalize():  # a date: its whole session (intraday bars included)
                end = end + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
            total = int(((self.index >= self.index[self.ei.start]) & (self.index <= end)).sum())
        self._set(status="rodando", bars_total=total, message="")
        stopped = False
        try:
            for group in _groups(self.feed):
                if stop is not None and stop.is_set():
                    break
                seen, self._seen_stop = self._seen_stop, None
                if seen if seen is not None else self._stop_requested():
                    stopped = True
                    break
                self._process_group(group, progress, total)
        except Exception as exc:
            self._set(status="erro", message=str(exc)[:2000])
            raise
        if self.last_bar is not None:
            self._flags(self.last_bar)
        if stopped or (stop is not None and stop.is_set()):
            self._set(status="parado", message="Parado a pedido.")
        else:
            msg = "Replay concluído." if isinstance(self.feed, ReplayFeed) else ""
            if self.drift:
                msg = (msg + " Divergências: " + " | ".join(self.drift))[:2000]
            self._set(status="concluído", message=msg)
        out = runner_status(self.store, self.account)
        if out is None:  # pragma: no cover - the row exists while the runner does
            raise InputError(f"O robô da conta {self.account} foi removido durante a execução.")
        return out

    def _process_group(self, group, progress, total) -> None:
        if self.last_bar is not None and group[0].time <= self.last_bar:
            return
        self.process(group)
        if progress is not None:
            st = runner_status(self.store, self.account)
            done = st.bars_done if st is not None else 0
            frac = done / total if total else 0.0
            progress(frac, f"{group[0].time:%d/%m/%Y}")
