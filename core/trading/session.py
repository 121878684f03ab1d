"""Session events of a paper account (a mixin of :class:`core.trading.broker.PaperBroker`):
the first event of a new session applies corporate actions (dividends as cash, JCP with its
IRRF, splits), charges the BTC borrow fee on shorts, books last month's DARF and IRRF from
:func:`core.backtest.taxes.tax_report`, expires day orders and records the day's starting
equity; after each bar or mark the equity curve, the peak, the drawdown kill switch and the
daily loss limit.

Conventions: :mod:`core.trading.broker`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select

from core.errors import UnknownTickerError
from core.textfmt import brl, integer, pct
from core.textfmt import date as fmt_date
from core.trading.b3 import order_session
from core.trading.events import write_event
from core.trading.models import (
    PaperAccount,
    PaperEquity,
    PaperLedger,
    PaperOrder,
    PaperPosition,
    PaperTrade,
)
from core.trading.records import OPEN_STATUSES

if TYPE_CHECKING:
    from core.trading.accounts import Account

__all__ = ["SessionMixin"]

_ACC = PaperAccount.__table__
_ORD = PaperOrder.__table__
_POS = PaperPosition.__table__
_LED = PaperLedger.__table__
_TRD = PaperTrade.__table__
_EQ = PaperEquity.__table__

# Statements of every session rollover and bar, built once (bind parameters).
_AID: Any = bindparam("aid")
_Q_OPEN_ENTRIES = select(_ORD).where(
    _ORD.c.account_id == _AID, _ORD.c.status.in_(OPEN_STATUSES), _ORD.c.role == "entry"
)
_UPD_SESSION = (
    _ACC.update()
    .where(_ACC.c.id == _AID)
    .values(session=bindparam("session_"), day_start_equity=bindparam("day_start_"))
)
_UPSERT_EQ: dict[str, Any] = {}  # dialect name -> INSERT ... ON CONFLICT DO UPDATE


def _upsert_equity(dialect: str):
    """The session equity row's upsert for ``dialect`` (built once per dialect)."""
    stmt = _UPSERT_EQ.get(dialect)
    if stmt is None:
        from sqlalchemy.dialects import postgresql, sqlite

        ins: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_EQ)
        cols = ("time", "equity", "cash", "gross_exposure")
        stmt = _UPSERT_EQ[dialect] = ins.on_conflict_do_update(
            index_elements=["account_id", "date"], set_={c: ins.excluded[c] for c in cols}
        )
    return stmt


def _py(ts):
    return pd.Timestamp(ts).to_pydatetime()


def _ts(x):
    return None if x is None else pd.Timestamp(x)


@dataclass(frozen=True)
class _Light:
    """The figures the post-trade checks need."""

    equity: float
    peak_equity: float
    drawdown_pct: float
    day_pnl: float


class SessionMixin:
    """Session rollover and post-trade checks (needs PaperBroker's helpers)."""

    _cash_memo: float | None  # PaperBroker's cash memo (dropped by every ledger write)

    if TYPE_CHECKING:  # the helpers and attributes live on PaperBroker

        def __getattr__(self, name: str) -> Any: ...

    def _rollover(self, conn, acc: dict, time: pd.Timestamp, cfg: Account) -> bool:
        """First event of a new session: proventos, splits, borrow, taxes, expiry, day start."""
        session = pd.Timestamp(time).normalize()
        prev = _ts(acc.get("session"))
        if prev is not None and session <= prev:
            return False
        if prev is not None:
            self._apply_actions(conn, acc, cfg, prev, session, time)
            self._charge_borrow(conn, acc, cfg, prev, session, time)
            if (session.year, session.month) != (prev.year, prev.month):
                self._book_taxes(conn, session, time)
            # expire day orders / dated validity past
            for r in conn.execute(_Q_OPEN_ENTRIES, {"aid": self.account_id}).mappings().all():
                self._expired(
                    conn, dict(r), order_session(time) if time != session else session, time
                )
        eq = self._equity(conn, acc)[0]
        acc["session"] = _py(session)
        acc["day_start_equity"] = eq
        conn.execute(
            _UPD_SESSION, {"aid": self.account_id, "session_": acc["session"], "day_start_": eq}
        )
        return True

    def _load_actions(self, conn, tickers) -> tuple:
        """The stored proventos and share events of ``tickers`` (and of those loaded
        before), memoised per broker: ``(tickers, frame, ticker array, date array, rows)``.
        A runner loads its tickers' at once, so that a position opened later reads nothing."""
        from core.data.actions import load_actions

        cache = getattr(self, "_actions", None)
        if cache is None or not set(tickers) <= cache[0]:
            names = set(tickers) | (cache[0] if cache else set())
            acts = load_actions(self.store, sorted(names), conn=conn)
            # the rows and their (ticker, date) as arrays, once per load: every session
            # selects its actions from them (a pandas filter per session cost more)
            cache = (
                names,
                acts,
                acts["ticker"].to_numpy(dtype=object),
                pd.to_datetime(acts["date"]).to_numpy(dtype="datetime64[ns]"),
                list(acts.itertuples(index=False)),
            )
            self._actions = cache
        return cache

    def _apply_actions(self, conn, acc, cfg, prev, session, time) -> None:
        pos = {t: p for t, p in self._pos_rows(conn).items() if int(p["qty"]) != 0}
        if not pos:
            return
        _, _, tick, dates, recs = self._load_actions(conn, pos)
        sel = np.flatnonzero(
            np.isin(tick, list(pos))
            & (dates > pd.Timestamp(prev).to_datetime64())
            & (dates <= pd.Timestamp(session).to_datetime64())
        )
        wht = cfg.engine.jcp_withholding
        for a in (recs[k] for k in sel):  # in the loaded order, as the frame's rows
            p = pos.get(a.ticker)
            if p is None:
                continue
            q = int(p["qty"])
            d = 1 if q > 0 else -1
            when = pd.Timestamp(a.date)
            if a.kind == "dividend":
                amt = abs(q) * float(a.value)
                self._ledger(
                    conn,
                    time,
                    "dividend",
                    d * amt,
                    f"Dividendos {a.ticker}: {integer(abs(q))} × {brl(a.value, 4)} (ex {fmt_date(when)})"
                    + (" — pagos pelo vendido" if d < 0 else ""),
                    ticker=a.ticker,
                    ref=f"{a.ticker}:{when.date()}",
                )
            elif a.kind == "jcp":
                gross = abs(q) * float(a.value)
                self._ledger(
                    conn,
                    time,
                    "jcp",
                    d * gross,
                    f"JCP {a.ticker}: {integer(abs(q))} × {brl(a.value, 4)} (ex {fmt_date(when)})",
                    ticker=a.ticker,
                    ref=f"{a.ticker}:{when.date()}",
                )
                if d > 0:
                    self._ledger(
                        conn,
                        time,
                        "tax",
                        -gross * wht,
                        f"IRRF {pct(wht, 0)} sobre JCP {a.ticker}",
                        ticker=a.ticker,
                        ref=f"jcp:{a.ticker}:{when.date()}",
                    )
                else:
                    self._ledger(
                        conn,
                        time,
                        "jcp",
                        gross * wht,
                        f"IRRF do JCP {a.ticker} (vendido paga o líquido)",
                        ticker=a.ticker,
                    )
            else:  # split, reverse_split, bonus: shares after / before
                r = float(a.value)
                if r <= 0 or r == 1.0:
                    continue
                newq = abs(q) * r
                whole = max(1, math.floor(newq + 1e-9))
                frac = newq - whole
                last = p["last"]
                if frac > 1e-9 and last is not None:
                    self._ledger(
                        conn,
                        time,
                        "dividend",
                        d * frac * float(last) / r,
                        f"Frações de {a.ticker} vendidas no evento (ex {fmt_date(when)})",
                        ticker=a.ticker,
                    )
                avg = float(p["avg_price"]) * abs(q) / whole
                vals = {
                    "qty": d * whole,
                    "avg_price": avg,
                    "avg_fill": float(p["avg_fill"] or 0.0) * abs(q) / whole,
                }
                if last is not None:
                    vals["last"] = float(last) / r
                conn.execute(
                    _POS.update()
                    .where(_POS.c.account_id == self.account_id, _POS.c.ticker == a.ticker)
                    .values(**vals)
                )
                self._positions_written()
                p.update(vals)
                for o in (
                    conn.execute(
                        select(_ORD).where(
                            _ORD.c.account_id == self.account_id,
                            _ORD.c.ticker == a.ticker,
                            _ORD.c.status.in_(OPEN_STATUSES),
                        )
                    )
                    .mappings()
                    .all()
                ):
                    ch = {
                        k: round(float(o[k]) / r, 2)
                        for k in ("price", "stop_price", "stop_loss", "target")
                        if o[k] is not None
                    }
                    ch["qty"] = max(int(o["filled_qty"]) + 1, int(round(int(o["qty"]) * r)))
                    conn.execute(_ORD.update().where(_ORD.c.id == o["id"]).values(**ch))
                    self._order_event(
                        conn,
                        o["id"],
                        time,
                        o["status"],
                        f"ajustada pelo evento {a.kind} de {a.ticker} (fator {r:g})",
                    )

    def _charge_borrow(self, conn, acc, cfg, prev, session, time) -> None:
        shorts = {t: p for t, p in self._pos_rows(conn).items() if int(p["qty"]) < 0}
        if not shorts:
            return
        from core.data.calendar import b3_sessions

        n = max(1, len(b3_sessions(prev + pd.Timedelta(days=1), session)))
        for t, p in shorts.items():
            last = float(p["last"] if p["last"] is not None else p["avg_price"])
            fee = cfg.engine.costs.borrow_cost(-int(p["qty"]) * last, n)
            self._ledger(
                conn,
                time,
                "borrow",
                -fee,
                f"Aluguel (BTC) de {integer(-int(p['qty']))} {t}, {n} pregão(ões)",
                ticker=t,
            )

    def _book_taxes(self, conn, session, time) -> None:
        """Debit the DARF and withholding of every month before ``session`` not yet booked."""
        from core.backtest.taxes import tax_report

        rows = (
            conn.execute(select(_TRD).where(_TRD.c.account_id == self.account_id)).mappings().all()
        )
        if not rows:
            return
        df = pd.DataFrame([dict(r) for r in rows])
        kinds = {}
        for t in df["ticker"].unique():
            try:
                kinds[t] = self._instrument(t, conn)["kind"]
            except UnknownTickerError:
                kinds[t] = "stock"
        rep = tax_report(df, None, kinds)
        booked = {
            r[0]
            for r in conn.execute(
                select(_LED.c.ref).where(
                    _LED.c.account_id == self.account_id,
                    _LED.c.kind == "tax",
                    _LED.c.ref.like("darf:%"),
                )
            )
        }
        cur = pd.Period(session, freq="M")
        # the three columns read (iterated as itertuples iterates them, without building a
        # namedtuple class per call: the report has one row per month)
        for month, darf, withheld in zip(rep["month"], rep["darf"], rep["withheld"], strict=True):
            m = pd.Period(month, freq="M")
            if m >= cur:
                continue
            ref = f"darf:{m}"
            if ref in booked:
                continue
            amt = float(darf) + float(withheld)
            self._ledger(
                conn,
                time,
                "tax",
                -amt,
                f"IR {m.strftime('%m/%Y')}: DARF {brl(darf)} + IRRF {brl(withheld)}",
                ref=ref,
            )
            if amt == 0:  # keep a marker so the month is not recomputed
                self._cash_memo = None
                conn.execute(
                    _LED.insert().values(
                        account_id=self.account_id,
                        time=_py(time),
                        settle_date=_py(session),
                        kind="tax",
                        ticker=None,
                        amount=0.0,
                        balance=self._cash(conn),
                        ref=ref,
                        description=f"IR {m.strftime('%m/%Y')}: nada a pagar",
                    )
                )

    def _record_equity(self, conn, time, eq: float, cash: float, gross: float) -> None:
        """Upsert the session's equity row (one statement)."""
        day = _py(pd.Timestamp(time).normalize())
        vals = {"time": _py(time), "equity": eq, "cash": cash, "gross_exposure": gross}
        conn.execute(
            _upsert_equity(conn.dialect.name), {"account_id": self.account_id, "date": day, **vals}
        )

    def equity_curve(self) -> pd.DataFrame:
        """Equity per session at its latest mark (R$).

        Returns
        -------
        pandas.DataFrame
            Index ``date`` (session dates with an event), columns ``equity, cash,
            gross_exposure`` (R$); empty before any bar or mark.
        """
        q = (
            select(_EQ.c.date, _EQ.c.equity, _EQ.c.cash, _EQ.c.gross_exposure)
            .where(_EQ.c.account_id == self.account_id)
            .order_by(_EQ.c.date)
        )
        with self.store.engine.connect() as conn:
            rows = conn.execute(q).all()
        idx = pd.DatetimeIndex([pd.Timestamp(r[0]) for r in rows], name="date")
        return pd.DataFrame(
            [r[1:] for r in rows],
            index=idx,
            columns=["equity", "cash", "gross_exposure"],
            dtype=float,
        )

    def _post_checks(self, conn, acc, cfg, time) -> None:
        eq, peak, dd, cash, gross = self._equity(conn, acc, full=True)
        self._record_equity(conn, time, eq, cash, gross)
        day_start = acc.get("day_start_equity")
        snap = _Light(eq, peak, dd, eq - float(day_start) if day_start is not None else 0.0)
        vals = {}
        if snap.peak_equity > float(acc["peak_equity"] or 0):
            vals["peak_equity"] = snap.peak_equity
            acc["peak_equity"] = snap.peak_equity
        rules = cfg.risk
        if (
            rules.max_drawdown_pct is not None
            and not acc["blocked"]
            and snap.drawdown_pct >= rules.max_drawdown_pct
        ):
            msg = (
                f"Drawdown de {pct(snap.drawdown_pct)} atingiu o limite de {pct(rules.max_drawdown_pct)} "
                f"(patrimônio {brl(snap.equity)}, pico {brl(snap.peak_equity)}): posições zeradas e conta bloqueada."
            )
            write_event(
                conn,
                self.account_id,
                time,
                "drawdown",
                None,
                {
                    "drawdown_pct": snap.drawdown_pct,
                    "limit": rules.max_drawdown_pct,
                    "equity": snap.equity,
                    "peak_equity": snap.peak_equity,
                },
                msg,
            )
            self._flatten(conn, acc, cfg, time, msg, immediate=False)
        if rules.daily_loss_limit_pct is not None and snap.day_pnl < 0:
            start = snap.equity - snap.day_pnl
            loss = -snap.day_pnl / start if start > 0 else 0.0
            day = pd.Timestamp(time).normalize()
            if loss >= rules.daily_loss_limit_pct and _ts(acc.get("loss_limit_day")) != day:
                write_event(
                    conn,
                    self.account_id,
                    time,
                    "daily_loss_limit",
                    None,
                    {
                        "day_pnl": snap.day_pnl,
                        "loss_pct": loss,
                        "limit": rules.daily_loss_limit_pct,
                    },
                    f"Perda do dia de {brl(-snap.day_pnl)} ({pct(loss)}) atingiu o limite de "
                    f"{pct(rules.daily_loss_limit_pct)}: sem novas entradas hoje.",
                )
                vals["loss_limit_day"] = _py(day)
                acc["loss_limit_day"] = _py(day)
        if vals:
            conn.execute(_ACC.update().where(_ACC.c.id == self.account_id).values(**vals))
