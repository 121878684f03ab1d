"""The one bar-upsert path: source priority, volume units, derived adjusted close.

Every write of bars into the store goes through :func:`upsert_bars` – the importer
(:mod:`core.data.imports`), the online updates, the bundled first-start loader and
:meth:`core.data.store.Store.write_bars` alike – so the rules below hold whoever writes.

Rules
-----
* **Traded prices only.** ``open, high, low, close, volume`` are stored as the source
  delivered them (as traded). The incoming ``adj_close`` is ignored: the store derives it
  from the traded close and the stored corporate actions
  (:func:`core.data.actions.recompute_adj_close`), identically for every source, so a day
  from COTAHIST lands in the adjusted series with the factor of its neighbours.
* **Source priority.** When a stored bar and an incoming bar share a date, the
  better-ranked source wins (:data:`DEFAULT_PRIORITY`, or the instrument's own order). A
  source always replaces its own rows. Unknown sources rank after every known one.
* **Idempotence.** A row whose traded values and source equal the stored ones is
  ``unchanged`` (the derived ``adj_close`` is not compared), so re-importing a file reports
  every row unchanged.
* **One volume unit per series.** Each instrument records its volume unit
  (:data:`core.data.models.VOLUME_UNITS`). Incoming volumes in another unit are not
  written: a replaced row keeps its stored volume, a new row gets 0, and a
  ``volume_unit`` data flag says so.
* **Conflicts are flagged.** When two sources disagree on a date's close by more than
  :data:`CONFLICT_TOLERANCE`, a ``source_conflict`` data flag is stored
  (:class:`core.data.import_models.DataFlag`) and the quality report stops saying "ok".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, select

from core.data.import_models import DataFlag, SourcePriority
from core.data.models import Bar, Instrument
from core.data.schema import BAR_COLUMNS
from core.errors import PregaoError

__all__ = [
    "DEFAULT_PRIORITY",
    "CONFLICT_TOLERANCE",
    "UpsertCounts",
    "UpsertCancelled",
    "load_priorities",
    "source_rank",
    "upsert_bars",
    "add_flags",
]

#: Default source order, best first: B3's official record, then broker feeds, then vendors.
DEFAULT_PRIORITY: tuple[str, ...] = (
    "cotahist",
    "mt5",
    "profit",
    "yahoo",
    "investing",
    "csv",
    "bundled",
)
#: Relative difference of two sources' closes on one date above which a conflict is flagged
#: (0,5 %: larger than any rounding between vendors, smaller than any bonus share).
CONFLICT_TOLERANCE = 0.005
_CHUNK = 20_000
_BAR = Bar.__table__
_INST = Instrument.__table__
_PRIO = SourcePriority.__table__
_FLAG = DataFlag.__table__

Progress = Callable[[float, str], None]


class UpsertCancelled(PregaoError):
    """The caller's ``cancel()`` returned True during a write (the transaction rolls back)."""


@dataclass
class UpsertCounts:
    """What :func:`upsert_bars` did (counts are bar rows).

    Attributes
    ----------
    inserted, updated, unchanged, kept : int
        New rows, rows whose traded values or source changed, rows already equal, incoming
        rows not written because a better-ranked source holds that date.
    conflicts : int
        Dates where the incoming and stored closes of two sources differ by more than
        :data:`CONFLICT_TOLERANCE` (flagged).
    volume_dropped : int
        Incoming rows whose volume was not written (unit differs from the series').
    touched : set of int
        Instrument ids whose bars were inserted or updated.
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    conflicts: int = 0
    volume_dropped: int = 0
    touched: set[int] = field(default_factory=set)


def load_priorities(conn: Connection) -> dict[int, tuple[str, ...]]:
    """Per-instrument source orders stored with ``set_source_priority`` (id -> sources)."""
    return {
        int(iid): tuple(s.strip() for s in srcs.split(",") if s.strip())
        for iid, srcs in conn.execute(select(_PRIO.c.instrument_id, _PRIO.c.sources))
    }


def source_rank(source: str, order: Sequence[str]) -> int:
    """Position of ``source`` in ``order`` (0 = best); unknown sources rank last."""
    try:
        return list(order).index(source)
    except ValueError:
        return len(order)


def add_flags(conn: Connection, flags: Sequence[dict]) -> int:
    """Store data flags ``{instrument_id, date, kind, source, detail}`` (newest wins).

    Returns the number of flags written.
    """
    if not flags:
        return 0
    keys = {(int(f["instrument_id"]), pd.Timestamp(f["date"]), f["kind"]) for f in flags}
    for iid, d, k in keys:
        conn.execute(
            _FLAG.delete().where(
                _FLAG.c.instrument_id == iid, _FLAG.c.date == d.to_pydatetime(), _FLAG.c.kind == k
            )
        )
    seen: dict[tuple, dict] = {}
    for f in flags:
        seen[(int(f["instrument_id"]), pd.Timestamp(f["date"]), f["kind"])] = f
    conn.execute(
        _FLAG.insert(),
        [
            {
                "instrument_id": iid,
                "date": d.to_pydatetime(),
                "kind": k,
                "source": str(f.get("source", ""))[:32],
                "detail": str(f.get("detail", "")),
            }
            for (iid, d, k), f in seen.items()
        ],
    )
    return len(seen)


#: Rows per multi-row ``INSERT ... VALUES (...), (...)`` statement on SQLite (10 parameters
#: a row, well under SQLite's 32,766 limit; about twice as fast as ``executemany`` here).
_SQLITE_ROWS = 250
_PLAIN = re.compile(r"[A-Za-z0-9_.:\-]{1,32}")


def _driver_insert(conn: Connection):
    """A function inserting new bar rows through the DBAPI, bypassing SQLAlchemy's per-row
    parameter processing, or None for a dialect it does not know.

    * SQLite: multi-row ``INSERT ... VALUES`` statements of :data:`_SQLITE_ROWS` rows (one
      statement per chunk instead of one per row), columns with one value on every row as
      SQL literals when plainly safe (:func:`_sql_literal`). ``DateTime`` is stored as
      SQLAlchemy's text ``YYYY-MM-DD HH:MM:SS.ffffff``; the function writes exactly that
      (:func:`sqlite_datetimes`), so reads through SQLAlchemy are unchanged. With
      ``bars`` a ``WITHOUT ROWID`` table (revision 0021) each row lands in one B-tree.
    * PostgreSQL (psycopg 3): ``COPY bars (...) FROM STDIN`` inside the caller's
      transaction (still one import = one transaction).
    """
    dialect = conn.dialect
    if dialect.name not in ("sqlite", "postgresql"):
        return None
    q = dialect.identifier_preparer.quote
    cols = ["instrument_id", "interval", "date", *BAR_COLUMNS, "source"]
    collist = ", ".join(q(c) for c in cols)
    if dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection
        if type(raw).__module__.split(".")[0] != "psycopg":  # "psycopg" itself, or below
            return None  # COPY through psycopg 3's cursor.copy only
        copy_sql = f"COPY {q(_BAR.name)} ({collist}) FROM STDIN"

        def insert_pg(iids, dates, values, interval: str, source: str) -> None:
            d64 = np.asarray(dates, dtype="datetime64[us]")
            when = d64.astype(object).tolist()  # datetime.datetime
            n = len(when)
            rows = zip(
                np.asarray(iids, dtype=np.int64).tolist(),
                [interval] * n,
                when,
                *[np.asarray(v, dtype="float64").tolist() for v in values],
                [source] * n,
            )
            with raw.cursor() as cur, cur.copy(copy_sql) as cp:  # type: ignore[union-attr]
                for row in rows:
                    cp.write_row(row)

        return insert_pg
    head = f"INSERT INTO {q(_BAR.name)} ({collist}) VALUES "

    def insert(iids, dates, values, interval: str, source: str) -> None:
        when = sqlite_datetimes(dates)
        n = len(when)
        ids = np.asarray(iids, dtype=np.int64)
        # columns with one value on every row (interval, source; the instrument when there
        # is one) are SQL literals when plainly safe: fewer parameters to bind, about a
        # third of SQLite's time here; parameters otherwise
        single = n > 0 and bool((ids == ids[0]).all())
        const = [
            str(int(ids[0])) if single else None,
            _sql_literal(interval),
            _sql_literal(source),
        ]
        slots = [const[0], const[1], None, *[None] * len(values), const[2]]
        one = "(" + ", ".join(c or "?" for c in slots) + ")"
        width = one.count("?")
        # one flat parameter list, filled column by column (extended-slice assignment runs
        # in C: no per-row tuples); a statement takes the next _SQLITE_ROWS rows of it
        flat: list = [None] * (n * width)
        columns = [ids.tolist(), [interval] * n, when]
        columns += [np.asarray(v, dtype="float64").tolist() for v in values]
        columns.append([source] * n)
        j = 0
        for slot, col in zip(slots, columns, strict=True):
            if slot is None:
                flat[j::width] = col
                j += 1
        full_sql = head + ", ".join([one] * _SQLITE_ROWS)
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        step = _SQLITE_ROWS * width
        try:
            for k in range(0, len(flat), step):
                chunk = flat[k : k + step]
                rows = len(chunk) // width
                cur.execute(
                    full_sql if rows == _SQLITE_ROWS else head + ", ".join([one] * rows), chunk
                )
        finally:
            cur.close()

    return insert


def _sql_literal(value: str) -> str | None:
    """``value`` as an SQL string literal when it is plainly safe (letters, digits and
    ``_ . : -``), else None (the caller binds it as a parameter)."""
    return f"'{value}'" if _PLAIN.fullmatch(value) else None


def sqlite_datetimes(dates) -> list[str]:
    """Naive timestamps as SQLAlchemy stores ``DateTime`` on SQLite.

    Parameters
    ----------
    dates : array-like of datetime64, shape (n,)
        Naive wall-clock timestamps (microsecond precision kept, finer dropped).

    Returns
    -------
    list of str, length n
        ``YYYY-MM-DD HH:MM:SS.ffffff`` – exactly the text SQLAlchemy's SQLite ``DateTime``
        writes and compares against, so rows written with it read back (and match
        ``WHERE date = ...``) through SQLAlchemy unchanged. Built digit by digit with numpy
        (about 3× faster than :func:`numpy.datetime_as_string` plus a character fix-up).
    """
    us = np.asarray(dates, dtype="datetime64[us]")
    return _datetime_text(us).tobytes().decode("ascii").split("|")[:-1]


_DAY_US = 86_400_000_000
_MINUTE_US = 60_000_000


def _datetime_text(us: np.ndarray, tables: bool = True) -> np.ndarray:
    """``(n, 27)`` uint8: each timestamp's 26 characters and a ``|`` separator.

    Bars of many rows on whole minutes (intraday and daily bars) are put together from two
    small tables – one text per calendar day spanned, one per minute of the day – instead
    of digit by digit for every row.
    """
    n = len(us)
    txt = np.empty((n, 27), dtype=np.uint8)
    txt[:, 26] = ord("|")
    if tables and n > 256:
        i8 = us.astype(np.int64)
        day = i8 // _DAY_US
        first = int(day.min())
        span = int(day.max()) - first + 1
        tod = i8 - day * _DAY_US
        if span <= n and not (tod % _MINUTE_US).any():
            days = np.arange(first, first + span, dtype=np.int64) * _DAY_US
            txt[:, :11] = _datetime_text(days.astype("datetime64[us]"), False)[:, :11][day - first]
            minutes = np.arange(1440, dtype=np.int64) * _MINUTE_US
            txt[:, 11:26] = _datetime_text(minutes.astype("datetime64[us]"), False)[:, 11:26][
                tod // _MINUTE_US
            ]
            return txt
    day = us.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    fields: list[tuple[int, int, np.ndarray]] = [
        (0, 4, month.astype("datetime64[Y]").astype(np.int64) + 1970),
        (5, 2, month.astype(np.int64) % 12 + 1),
        (8, 2, (day - month).astype(np.int64) + 1),
    ]
    hh, rest = np.divmod((us - day).astype(np.int64), 3_600_000_000)
    mi, rest = np.divmod(rest, 60_000_000)
    ss, uu = np.divmod(rest, 1_000_000)
    fields += [(11, 2, hh), (14, 2, mi), (17, 2, ss), (20, 6, uu)]
    for col, ch in ((4, "-"), (7, "-"), (10, " "), (13, ":"), (16, ":"), (19, ".")):
        txt[:, col] = ord(ch)
    for col, width, v in fields:
        for k in range(col + width - 1, col - 1, -1):
            v, digit = np.divmod(v, 10)
            txt[:, k] = digit + 48
    return txt


def upsert_bars(
    conn: Connection,
    ids: dict[str, int],
    clean: pd.DataFrame,
    interval: str,
    source: str,
    *,
    priorities: dict[int, tuple[str, ...]] | None = None,
    volume_unit: str | dict[str, str] | None = None,
    adj_close: np.ndarray | None = None,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    frac: tuple[float, float] = (0.0, 1.0),
) -> UpsertCounts:
    """Bulk upsert of validated bars of many instruments (module docstring for the rules).

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Open transaction.
    ids : dict of str -> int
        Instrument id of every ticker in ``clean`` (instruments must exist).
    clean : pandas.DataFrame
        Long frame, columns ``ticker, date`` and :data:`core.data.schema.BAR_COLUMNS`,
        shape ``(n_rows, 8)``; prices in R$ (points for indices), as traded.
    interval : {"1d", "1h", "5m"}
    source : str
        Where the rows come from (``cotahist``, ``yahoo``, ``bundled`` ...).
    priorities : dict, optional
        Per-instrument source orders (default: read them with :func:`load_priorities`).
    volume_unit : str or dict of str -> str, optional
        Unit of the incoming volumes (per ticker when a dict); ``None`` means "the series'
        own unit" (no check).
    adj_close : ndarray, shape (n_rows,), optional
        The derived adjusted close of the incoming rows when the caller already knows it
        (saves a second pass); default ``close``. Callers derive it again afterwards
        (:func:`core.data.actions.recompute_adj_close`), so it is only a first value.
    progress, cancel : callable, optional
        Progress callback (fraction in ``frac``) and cancellation poll.

    Returns
    -------
    UpsertCounts

    Raises
    ------
    UpsertCancelled
        When ``cancel()`` returned True.
    """
    out = UpsertCounts()
    if clean.empty:
        return out
    if priorities is None:
        priorities = load_priorities(conn)
    # instrument id per row: one lookup per distinct ticker, not per row
    tcol = clean["ticker"]
    if isinstance(tcol.dtype, pd.CategoricalDtype):
        codes, cats = tcol.cat.codes.to_numpy(), [str(c) for c in tcol.cat.categories]
    else:
        uniq, codes = np.unique(tcol.astype(str).to_numpy(), return_inverse=True)
        cats = [str(c) for c in uniq]
    iid_of = np.array([ids.get(c, -1) for c in cats] or [-1], dtype="int64")
    if len(cats) == 0 or (codes < 0).any() or (iid_of[codes] < 0).any():
        raise ValueError("upsert_bars: a ticker without an instrument id")
    # the incoming rows as plain arrays (row order kept throughout)
    n = len(clean)
    iid_arr = iid_of[codes]
    date_arr = clean["date"].to_numpy(dtype="datetime64[ns]")
    new: dict[str, np.ndarray] = {c: clean[c].to_numpy(dtype="float64") for c in BAR_COLUMNS}
    # derived from the corporate actions (here a first value, made exact by the caller)
    new["adj_close"] = new["close"] if adj_close is None else np.asarray(adj_close, "float64")
    lo, hi = (
        pd.Timestamp(date_arr.min()).to_pydatetime(),
        pd.Timestamp(date_arr.max()).to_pydatetime(),
    )
    iids = np.unique(iid_arr).tolist()
    rows: list = []
    units: dict[int, str] = {}
    b = _BAR.c
    for k in range(0, len(iids), 500):
        chunk = iids[k : k + 500]
        rows += conn.execute(
            select(b.instrument_id, b.date, *[b[c] for c in BAR_COLUMNS], b.source).where(
                b.interval == interval, b.instrument_id.in_(chunk), b.date >= lo, b.date <= hi
            )
        ).all()
        for iid, u in conn.execute(
            select(_INST.c.id, _INST.c.volume_unit).where(_INST.c.id.in_(chunk))
        ):
            units[int(iid)] = str(u or "shares")
    # the stored row of each incoming row (same instrument and date), if any
    old: dict[str, np.ndarray] = {c: np.full(n, np.nan) for c in BAR_COLUMNS}
    osrc = np.full(n, None, dtype=object)
    exists = np.zeros(n, dtype=bool)
    if rows:
        z = list(zip(*rows))
        at = pd.MultiIndex.from_arrays(
            [np.asarray(z[0], dtype="int64"), np.asarray(z[1], dtype="datetime64[ns]")]
        ).get_indexer(pd.MultiIndex.from_arrays([iid_arr, date_arr]))
        exists = at >= 0
        hit = at[exists]
        for k, c in enumerate(BAR_COLUMNS):
            old[c][exists] = np.asarray(z[2 + k], dtype="float64")[hit]
        osrc[exists] = np.asarray(z[-1], dtype=object)[hit]
    is_new = ~exists
    # volume units: incoming volumes in a foreign unit are not written
    if volume_unit is not None:
        u_iid, inv = np.unique(iid_arr, return_inverse=True)  # one lookup per instrument
        if isinstance(volume_unit, dict):
            tick_of_iid = {v: k for k, v in ids.items()}
            inc_unit = np.array(
                [volume_unit.get(tick_of_iid.get(int(i), ""), "shares") for i in u_iid]
            )[inv]
        else:
            inc_unit = np.full(n, volume_unit)
        ser_unit = np.array([units.get(int(i), "shares") for i in u_iid])[inv]
        foreign = inc_unit != ser_unit
        if foreign.any():
            vol = new["volume"].copy()  # never write into the caller's frame
            vol[foreign & exists] = old["volume"][foreign & exists]
            vol[foreign & is_new] = 0.0
            new["volume"] = vol
            out.volume_dropped = int(foreign.sum())
            flags = []
            for iid in sorted(set(int(i) for i in iid_arr[foreign])):
                sel = foreign & (iid_arr == iid)
                flags.append(
                    {
                        "instrument_id": iid,
                        "date": date_arr[sel].min(),
                        "kind": "volume_unit",
                        "source": source,
                        "detail": f"{int(sel.sum())} volume(s) de {source} em "
                        f"'{inc_unit[sel][0]}' ignorados: a série está em "
                        f"'{units.get(iid, 'shares')}'",
                    }
                )
            add_flags(conn, flags)
    traded = ["open", "high", "low", "close", "volume"]
    same = exists & (osrc == source)
    if same.any():
        for c in traded:
            same &= np.isclose(new[c], old[c], rtol=1e-12, atol=1e-9)
    kept = np.zeros(n, dtype=bool)
    conflict = np.zeros(n, dtype=bool)
    if exists.any():
        oc, nc = old["close"], new["close"]
        with np.errstate(divide="ignore", invalid="ignore"):
            differs = np.abs(nc / oc - 1.0) > CONFLICT_TOLERANCE
        for j in np.flatnonzero(exists & ~same):
            order = priorities.get(int(iid_arr[j]), DEFAULT_PRIORITY)
            if osrc[j] != source and source_rank(str(osrc[j]), order) < source_rank(source, order):
                kept[j] = True
            if osrc[j] != source and differs[j]:
                conflict[j] = True
    if conflict.any():
        add_flags(
            conn,
            [
                {
                    "instrument_id": int(iid_arr[j]),
                    "date": date_arr[j],
                    "kind": "source_conflict",
                    "source": source,
                    "detail": f"fechamento {source} {float(new['close'][j]):.4f} × "
                    f"{osrc[j]} {float(old['close'][j]):.4f}",
                }
                for j in np.flatnonzero(conflict)
            ],
        )
    out.conflicts = int(conflict.sum())
    upd = exists & ~same & ~kept
    n_total = int(is_new.sum() + upd.sum())
    done = 0
    f_lo, f_hi = frac

    def tick_progress(n: int) -> None:
        nonlocal done
        done += n
        if cancel is not None and cancel():
            raise UpsertCancelled("Importação cancelada: nada foi gravado.")
        if progress and n_total:
            progress(f_lo + (f_hi - f_lo) * done / n_total, f"Gravando barras: {done}/{n_total}")

    m_vals = [new[c] for c in BAR_COLUMNS]
    ins_idx = np.flatnonzero(is_new)
    upd_idx = np.flatnonzero(upd)
    fast = _driver_insert(conn)
    if fast is None or len(upd_idx):  # Python rows only for SQLAlchemy statements
        dates = np.asarray(pd.DatetimeIndex(date_arr).to_pydatetime())
        val_cols = [v.tolist() for v in m_vals]
    for k in range(0, len(ins_idx), _CHUNK):
        sel = ins_idx[k : k + _CHUNK]
        if fast is not None:  # same rows through the driver (first-start load speed)
            fast(iid_arr[sel], date_arr[sel], [v[sel] for v in m_vals], interval, source)
            tick_progress(len(sel))
            continue
        recs = [
            {
                "instrument_id": int(iid_arr[j]),
                "interval": interval,
                "date": dates[j],
                **{c: val_cols[i][j] for i, c in enumerate(BAR_COLUMNS)},
                "source": source,
            }
            for j in sel
        ]
        conn.execute(_BAR.insert(), recs)
        tick_progress(len(sel))
    if len(upd_idx):
        stmt = (
            _BAR.update()
            .where(
                b.instrument_id == bindparam("k_iid"),
                b.interval == bindparam("k_interval"),
                b.date == bindparam("k_date"),
            )
            .values(
                {c: bindparam(f"v_{c}") for c in BAR_COLUMNS} | {"source": bindparam("v_source")}
            )
        )
        for k in range(0, len(upd_idx), _CHUNK):
            sel = upd_idx[k : k + _CHUNK]
            recs = [
                {
                    "k_iid": int(iid_arr[j]),
                    "k_interval": interval,
                    "k_date": dates[j],
                    **{f"v_{c}": val_cols[i][j] for i, c in enumerate(BAR_COLUMNS)},
                    "v_source": source,
                }
                for j in sel
            ]
            conn.execute(stmt, recs)
            tick_progress(len(sel))
    out.inserted = int(is_new.sum())
    out.updated = int(upd.sum())
    out.unchanged = int(same.sum())
    out.kept = int(kept.sum())
    out.touched = set(np.unique(iid_arr[is_new | upd]).tolist())
    return out
