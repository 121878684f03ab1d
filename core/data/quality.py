"""Data-quality checks of the stored daily bars, per instrument, against the B3 calendar.

Checks
------
coverage
    Bars on B3 sessions between the instrument's first and last bar, divided by the number
    of sessions in that span (fraction, 1.0 = complete).
gaps
    B3 sessions in that span without a bar (:func:`core.data.calendar.missing_sessions`).
zero_volume
    Bars with volume 0 (Yahoo placeholders repeat the previous price; for the index Yahoo's
    volume is sometimes 0 on real sessions).
ohlc_violations
    Bars with ``low > min(open, close)``, ``high < max(open, close)`` or ``high < low``.
jumps
    Close-to-close moves larger than ``jump_threshold`` (fraction, default 25%) with no
    corporate action stored within one session of the move: a likely missing split or a bad
    print.
data flags
    What the write path could not reconcile (:class:`core.data.import_models.DataFlag`):
    sources that disagree on a date's close, a price basis not checked against B3, volumes
    in another unit. Any of them keeps the instrument out of "ok".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import select

from core import textfmt
from core.data.actions import load_actions
from core.data.calendar import b3_sessions
from core.data.history import CommonHistory, common_history
from core.data.import_models import DataFlag
from core.data.models import Bar, Instrument
from core.data.store import Store

__all__ = [
    "QUALITY_COLUMNS",
    "JUMP_THRESHOLD",
    "quality_report",
    "ready_quality_report",
    "instrument_quality",
    "common_history_summary",
]

#: Default threshold of a suspicious daily move (fraction).
JUMP_THRESHOLD = 0.25
#: Columns of :func:`quality_report`.
QUALITY_COLUMNS: tuple[str, ...] = (
    "ticker",
    "name",
    "kind",
    "first_date",
    "last_date",
    "n_bars",
    "expected_sessions",
    "coverage",
    "gaps",
    "zero_volume",
    "ohlc_violations",
    "jumps",
    "sources",
    "flags",
)


def _load(store: Store, tickers: Sequence[str] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    i, b = Instrument.__table__.c, Bar.__table__.c
    qi = select(i.id, i.ticker, i.name, i.kind).order_by(i.ticker)
    if tickers:
        qi = qi.where(i.ticker.in_([t.strip().upper() for t in tickers]))
    with store.engine.connect() as conn:
        inst = pd.DataFrame.from_records(
            conn.execute(qi).all(), columns=["id", "ticker", "name", "kind"]
        )
        qb = select(
            b.instrument_id, b.date, b.open, b.high, b.low, b.close, b.volume, b.source
        ).where(b.interval == "1d")
        if tickers:
            qb = qb.where(b.instrument_id.in_([int(x) for x in inst["id"]]))
        rows = conn.execute(qb.order_by(b.instrument_id, b.date)).all()
    cols = ["iid", "date", "open", "high", "low", "close", "volume", "source"]
    if rows:
        z = list(zip(*rows))
        bars = pd.DataFrame(
            {
                "iid": np.asarray(z[0], dtype=np.int64),
                "date": pd.to_datetime(pd.Series(z[1])),
                **{c: np.asarray(z[k], dtype=np.float64) for k, c in enumerate(cols[2:7], start=2)},
                "source": np.asarray(z[7], dtype=object),
            }
        )
    else:
        bars = pd.DataFrame({c: [] for c in cols})
    bars["date"] = pd.to_datetime(bars["date"])
    return inst, bars


def _check(df: pd.DataFrame, acts: pd.DataFrame, threshold: float) -> dict:
    dates = pd.DatetimeIndex(df["date"])
    sessions = b3_sessions(dates[0], dates[-1])
    on = dates.isin(sessions)
    missing = sessions[~sessions.isin(dates)]
    o, h, lo, c = (df[k].to_numpy() for k in ("open", "high", "low", "close"))
    viol = (lo > np.minimum(o, c) + 1e-9) | (h < np.maximum(o, c) - 1e-9) | (h < lo)
    ret = np.abs(c[1:] / c[:-1] - 1.0)
    jump_idx = np.flatnonzero(ret > threshold) + 1
    jump_dates = []
    ad = pd.DatetimeIndex(acts["date"]) if len(acts) else pd.DatetimeIndex([])
    for j in jump_idx:
        lo_d, hi_d = dates[j - 1], dates[min(j + 1, len(dates) - 1)]
        if not ((ad >= lo_d) & (ad <= hi_d)).any():
            jump_dates.append(dates[j])
    return {
        "first_date": dates[0],
        "last_date": dates[-1],
        "n_bars": len(df),
        "expected_sessions": len(sessions),
        "coverage": float(on.sum() / len(sessions)) if len(sessions) else 1.0,
        "gaps": len(missing),
        "gap_dates": list(missing),
        "zero_volume": int((df["volume"].to_numpy() <= 0).sum()),
        "ohlc_violations": int(viol.sum()),
        "ohlc_dates": list(dates[viol]),
        "jumps": len(jump_dates),
        "jump_dates": jump_dates,
        "sources": ",".join(sorted(set(df["source"]))),
    }


def _data_flags(store: Store, ids: Sequence[int] | None = None) -> dict[int, list[str]]:
    """pt-BR notes per instrument id from the ``data_flags`` table."""
    f = DataFlag.__table__.c
    q = select(f.instrument_id, f.date, f.kind, f.detail).order_by(f.instrument_id, f.date)
    if ids is not None:
        q = q.where(f.instrument_id.in_([int(i) for i in ids]))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    out: dict[int, list[str]] = {}
    by: dict[tuple[int, str], list] = {}
    for iid, d, kind, detail in rows:
        by.setdefault((int(iid), kind), []).append((pd.Timestamp(d), detail))
    for (iid, kind), items in by.items():
        if kind == "source_conflict":
            note = f"fontes divergem em {len(items)} dia(s) (último {items[-1][0]:%d/%m/%Y})"
        elif kind == "unverified_basis":
            note = f"base de preço não conferida com a B3 até {items[-1][0]:%d/%m/%Y}"
        elif kind == "volume_unit":
            note = "volume em outra unidade ignorado"
        else:
            note = items[-1][1] or kind
        out.setdefault(iid, []).append(note)
    return out


def _flags(row: dict, kind: str) -> list[str]:
    f = []
    if row["n_bars"] == 0:
        return ["sem dados"]
    if row["coverage"] < 0.98:
        f.append(f"cobertura {textfmt.pct(row['coverage'], 0)}")
    if row["gaps"]:
        f.append(f"{row['gaps']} lacunas")
    if row["zero_volume"] and kind != "index":
        f.append(f"{row['zero_volume']} c/ volume zero")
    if row["ohlc_violations"]:
        f.append(f"{row['ohlc_violations']} OHLC inválidos")
    if row["jumps"]:
        f.append(f"{row['jumps']} saltos sem evento")
    return f


def quality_report(
    store: Store, tickers: Sequence[str] | None = None, *, jump_threshold: float = JUMP_THRESHOLD
) -> pd.DataFrame:
    """Quality of the daily bars of each instrument (vectorised over all instruments).

    Parameters
    ----------
    store : Store
    tickers : sequence of str, optional
        Default: every instrument.
    jump_threshold : float
        Close-to-close move (fraction) above which a move without a corporate action is
        flagged.

    Returns
    -------
    pandas.DataFrame
        One row per instrument, columns :data:`QUALITY_COLUMNS`; ``coverage`` is a fraction,
        ``flags`` a list of short pt-BR notes (empty when clean).

    Raises
    ------
    UnknownTickerError
        If a requested ticker is not stored.
    """
    if tickers:
        for t in tickers:
            store.instrument(t)
    names = tuple(sorted({t.upper() for t in tickers})) if tickers else None
    key = ("quality.quality_report", names, float(jump_threshold))
    return store.cached(key, lambda: _quality_report(store, names, jump_threshold))


def ready_quality_report(store: Store) -> pd.DataFrame | None:
    """:func:`quality_report` of every instrument if it is already computed for the data as
    they are now (the store's read cache), else None — without computing anything.

    The Data page shows the report at once when it is ready and otherwise paints first and
    fills the grid in from a callback.
    """
    hit, value = store.peek(("quality.quality_report", None, float(JUMP_THRESHOLD)))
    return value if hit else None


def _quality_report(
    store: Store, tickers: Sequence[str] | None, jump_threshold: float
) -> pd.DataFrame:
    inst, bars = _load(store, tickers)
    acts = load_actions(
        store, list(inst["ticker"]) if tickers else None, include_price_factors=True
    )
    n_inst = len(inst)
    pos_of = {int(i): k for k, i in enumerate(inst["id"])}
    stats = {
        k: np.zeros(n_inst, dtype=np.int64)
        for k in (
            "n_bars",
            "expected_sessions",
            "on_sessions",
            "zero_volume",
            "ohlc_violations",
            "jumps",
        )
    }
    first = np.full(n_inst, np.datetime64("NaT"), dtype="datetime64[ns]")
    last = first.copy()
    sources = [""] * n_inst
    if len(bars):
        g = pd.Series(bars["iid"].to_numpy()).map(pos_of).to_numpy(dtype=np.int64)
        order = np.argsort(g, kind="stable")  # rows grouped by report position, dates kept sorted
        g = g[order]
        bars = bars.iloc[order].reset_index(drop=True)
        d = bars["date"].to_numpy(dtype="datetime64[ns]")
        sess = b3_sessions(d.min(), d.max()).as_unit("ns").to_numpy()
        stats["n_bars"] = np.bincount(g, minlength=n_inst)
        starts = np.searchsorted(g, np.arange(n_inst), side="left")
        ends = np.searchsorted(g, np.arange(n_inst), side="right")
        has = ends > starts
        first[has] = d[starts[has]]
        last[has] = d[ends[has] - 1]
        lo_i = np.searchsorted(sess, first[has], side="left")
        hi_i = np.searchsorted(sess, last[has], side="right")
        stats["expected_sessions"][has] = hi_i - lo_i
        stats["on_sessions"] = np.bincount(g, weights=np.isin(d, sess), minlength=n_inst).astype(
            np.int64
        )
        o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
        viol = (lo > np.minimum(o, c) + 1e-9) | (h < np.maximum(o, c) - 1e-9) | (h < lo)
        stats["ohlc_violations"] = np.bincount(g, weights=viol, minlength=n_inst).astype(np.int64)
        zero = bars["volume"].to_numpy() <= 0
        stats["zero_volume"] = np.bincount(g, weights=zero, minlength=n_inst).astype(np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ret = np.abs(c[1:] / c[:-1] - 1.0)
        jump = np.flatnonzero((ret > jump_threshold) & (g[1:] == g[:-1])) + 1
        tick_of = inst["ticker"].to_numpy()
        act_dates = (
            {
                t: pd.DatetimeIndex(grp["date"]).as_unit("ns").to_numpy()
                for t, grp in acts.groupby("ticker")
            }
            if len(acts)
            else {}
        )
        for j in jump:
            ad = act_dates.get(tick_of[g[j]])
            nxt = min(j + 1, ends[g[j]] - 1)
            if ad is not None and ((ad >= d[j - 1]) & (ad <= d[nxt])).any():
                continue
            stats["jumps"][g[j]] += 1
        src = bars["source"].to_numpy()
        for k in np.flatnonzero(has):
            sources[k] = ",".join(sorted(set(src[starts[k] : ends[k]])))
    out = pd.DataFrame(
        {
            "ticker": inst["ticker"],
            "name": inst["name"],
            "kind": inst["kind"],
            "first_date": pd.to_datetime(first),
            "last_date": pd.to_datetime(last),
            "n_bars": stats["n_bars"],
            "expected_sessions": stats["expected_sessions"],
        }
    )
    exp = stats["expected_sessions"]
    out["coverage"] = np.where(
        exp > 0, stats["on_sessions"] / np.maximum(exp, 1), np.where(stats["n_bars"] > 0, 1.0, 0.0)
    )
    out["gaps"] = np.maximum(exp - stats["on_sessions"], 0)
    for name in ("zero_volume", "ohlc_violations", "jumps"):
        out[name] = stats[name]
    out["sources"] = sources
    extra = _data_flags(store, list(inst["id"]) if tickers else None)
    out["flags"] = [
        _flags(r, r["kind"]) + extra.get(int(iid), [])
        for r, iid in zip(out.to_dict(orient="records"), inst["id"])
    ]
    return out[list(QUALITY_COLUMNS)].reset_index(drop=True)


def instrument_quality(
    store: Store, ticker: str, *, jump_threshold: float = JUMP_THRESHOLD
) -> dict:
    """Detailed checks of one instrument: the report's numbers plus the offending dates.

    Returns
    -------
    dict
        Keys of :data:`QUALITY_COLUMNS` plus ``gap_dates``, ``ohlc_dates``, ``jump_dates``
        (lists of Timestamps).
    """
    inst = store.instrument(ticker)
    _, bars = _load(store, [ticker])
    acts = load_actions(store, [inst["ticker"]], include_price_factors=True)
    if bars.empty:  # no daily bars (e.g. an intraday-only future): the report's own row
        row = quality_report(store, [inst["ticker"]]).iloc[0].to_dict()
        return {**row, "gap_dates": [], "ohlc_dates": [], "jump_dates": []}
    row = _check(bars, acts, jump_threshold)
    row.update(ticker=inst["ticker"], name=inst["name"], kind=inst["kind"])
    row["flags"] = _flags(row, inst["kind"]) + _data_flags(store, [inst["id"]]).get(
        int(inst["id"]), []
    )
    return row


def common_history_summary(
    store: Store, tickers: Sequence[str], start=None, end=None
) -> tuple[CommonHistory, pd.DataFrame]:
    """The common history of ``tickers`` and a per-ticker table of first/last dates.

    Calls :func:`core.data.history.common_history` (dates every ticker shares).

    Returns
    -------
    (CommonHistory, pandas.DataFrame)
        The aligned history and a table ``ticker, first_date, last_date, limiting`` in the
        order asked.

    Raises
    ------
    InputError, UnknownTickerError
        As :func:`core.data.history.common_history`.
    """
    ch = common_history(store, tickers, start, end)
    table = pd.DataFrame(
        [
            {
                "ticker": t,
                "first_date": ch.first_dates[t],
                "last_date": ch.last_dates[t],
                "limiting": t == ch.limiting_ticker,
            }
            for t in ch.prices.columns
        ]
    )
    return ch, table
