"""Importing market data into the store: all or nothing, idempotent, logged.

The one facade behind the Data page, the CLI (``import``, ``update``) and the scheduled
update:

* :func:`parse_file` reads any supported file (format detected or forced) into
  :class:`~core.data.sources.base.ParsedData`;
* :func:`import_files` parses every file, validates every row, then writes everything in
  **one transaction** (a bad file anywhere means nothing is written) and logs the run;
* :func:`update_prices` fetches what is missing since each ticker's last stored date from
  an online source (Yahoo, MetaTrader 5) through the same write path.

Validation (per ticker)
-----------------------
Errors (the import fails, the message names the file and line): a date repeated inside
one file, a daily bar on a date that is not a B3 session (exchange_calendars ``"BVMF"``).
Rejected rows (counted in ``rejected``, not written): rows without prices, non-positive
prices, Yahoo zero-volume placeholders (flat O=H=L=C, volume 0; stocks only, never the
index), zero-volume rows on non-session dates (any instrument), OHLC breaches larger than :data:`OHLC_TOLERANCE` of the close (smaller breaches are
repaired by widening high/low). Placeholders on holidays are rejected before the session
check, so real Yahoo exports import cleanly; a row with volume on a holiday is an error.

Source priority
---------------
When a stored bar and an incoming bar share a date, the better-ranked source wins; the
default order is :data:`DEFAULT_PRIORITY` (B3's official COTAHIST first). A per-instrument
order can be stored with :func:`set_source_priority`. An incoming bar from a worse-ranked
source leaves the stored one alone (counted as ``kept``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, select

from core.data import actions as actions_mod
from core.data.calendar import non_sessions
from core.data.import_models import ImportLog, SourcePriority
from core.data.models import Bar, Instrument
from core.data.schema import BAR_COLUMNS
from core.data.sources.base import OnlineSource, ParsedData
from core.data.sources.cotahist import (
    MARKET_FRACTIONAL,
    MARKET_SPOT,
    CotahistFilter,
    is_cotahist,
    iter_cotahist,
)
from core.data.sources.csvfile import EXPECTED_LAYOUTS, detect_format, read_csv_bars
from core.data.store import Store
from core.errors import DataFormatError, DataSourceError, InputError, PregaoError

__all__ = [
    "FORMATS",
    "DEFAULT_PRIORITY",
    "OHLC_TOLERANCE",
    "ImportReport",
    "ImportCancelled",
    "detect_file_format",
    "parse_file",
    "preview_file",
    "validate_parsed",
    "import_files",
    "import_parsed",
    "update_prices",
    "make_source",
    "import_log",
    "source_priority",
    "set_source_priority",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

#: Formats accepted by :func:`parse_file` (``auto`` detects).
FORMATS: tuple[str, ...] = (
    "auto",
    "cotahist",
    "yahoo",
    "investing",
    "profit",
    "csv",
    "actions",
)
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
#: Largest OHLC breach (fraction of the close) repaired instead of rejected.
OHLC_TOLERANCE = 0.01
_CHUNK = 20_000
_BAR = Bar.__table__
_INST = Instrument.__table__
_LOG = ImportLog.__table__
_PRIO = SourcePriority.__table__


class ImportCancelled(PregaoError):
    """The user cancelled an import; nothing was written."""


@dataclass
class ImportReport:
    """What an import or update did.

    Attributes
    ----------
    files : int
        Files (or fetches) processed.
    instruments : int
        Distinct instruments with at least one valid row.
    inserted, updated, unchanged : int
        Bar rows written new, rows whose values changed, rows already equal.
    kept : int
        Incoming rows not written because a better-ranked source already holds that date.
    rejected : int
        Rows refused by validation (see the module docstring); ``reasons`` counts them.
    errors : list of dict
        ``{"file", "line", "reason"}`` for each file that failed (then nothing is written).
    status : str
        ``ok``, ``failed`` or ``cancelled``.
    seconds : float
        Wall time.
    log_id : int or None
        Row of the import log.
    """

    files: int = 0
    instruments: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    status: str = "ok"
    seconds: float = 0.0
    log_id: int | None = None
    formats: list[str] = field(default_factory=list)
    tickers: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """The CLI's JSON: ``files, instruments, inserted, updated, rejected, errors``."""
        return {
            "files": self.files,
            "instruments": self.instruments,
            "inserted": self.inserted,
            "updated": self.updated,
            "rejected": self.rejected,
            "errors": list(self.errors),
        }

    def message(self) -> str:
        """One pt-BR sentence for the user."""
        if self.status == "cancelled":
            return "Importação cancelada: nada foi gravado."
        if self.errors:
            e = self.errors[0]
            where = e["file"] + (f", linha {e['line']}" if e.get("line") else "")
            more = f" (e mais {len(self.errors) - 1} erro(s))" if len(self.errors) > 1 else ""
            return f"Nada foi gravado. {where}: {e['reason']}{more}"
        return (
            f"{self.files} arquivo(s), {self.instruments} instrumento(s): {self.inserted} barras "
            f"novas, {self.updated} atualizadas, {self.unchanged} iguais, {self.kept} mantidas "
            f"por prioridade de fonte, {self.rejected} rejeitadas."
        )


# -- parsing ------------------------------------------------------------------------------
def detect_file_format(path: str | Path, name: str | None = None) -> str:
    """Detect the format of a file: ``cotahist``, ``yahoo``, ``investing`` or ``profit``.

    Raises
    ------
    DataFormatError
        Empty, binary or unknown layout (the message lists the expected layouts).
    """
    p = Path(path)
    fname = name or p.name
    if not p.is_file():
        raise DataFormatError("arquivo não encontrado.", fname)
    with open(p, "rb") as fh:
        head = fh.read(8192)
    if not head.strip():
        raise DataFormatError(f"arquivo vazio. Formatos aceitos: {EXPECTED_LAYOUTS}.", fname)
    if head[:2] == b"PK":
        return "cotahist"  # only COTAHIST files come zipped; a ZIP without one fails there
    if head[:2] == b"\x1f\x8b":
        import gzip

        with gzip.open(p, "rb") as fh:
            head = fh.read(8192)
    if is_cotahist(head):
        return "cotahist"
    if b"\x00" in head:
        raise DataFormatError(
            f"arquivo binário; esperado texto. Formatos aceitos: {EXPECTED_LAYOUTS}.", fname
        )
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    first_cells = [
        c.strip().strip('"').lower() for c in text.lstrip("\ufeff").split("\n")[0].split(",")
    ]
    if first_cells[:4] == ["ticker", "date", "kind", "value"]:
        return "actions"
    fmt = detect_format(text)
    if fmt is None:
        raise DataFormatError(  # never quote the file's content (issue 15)
            f"layout desconhecido. Esperado: {EXPECTED_LAYOUTS}.",
            fname,
            1,
        )
    return fmt


def _kind_of(ticker: str, bdi: int) -> str:
    if bdi == 12 or (bdi == 14 and ticker.endswith("11")):
        return "fund"
    return "stock"


def _parse_cotahist(
    path: Path,
    fname: str,
    include_fractional: bool,
    tickers: Sequence[str] | None,
    as_long: bool = False,
) -> ParsedData:
    markets = (MARKET_SPOT, MARKET_FRACTIONAL) if include_fractional else (MARKET_SPOT,)
    flt = CotahistFilter(
        markets=markets, tickers=tuple(t.upper() for t in tickers) if tickers else None
    )
    frames = list(iter_cotahist(path, flt, name=fname))
    out = ParsedData(file=fname, format="cotahist", source="cotahist")
    if not frames:
        return out
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out.rows = len(df)
    tick = df["ticker"].astype(str).to_numpy()
    order = np.argsort(tick, kind="stable")
    tick_sorted = tick[order]
    uniq, starts = np.unique(tick_sorted, return_index=True)
    ends = np.append(starts[1:], len(order))
    dates = df["date"].to_numpy()
    cols = {
        "open": df["open"].to_numpy(),
        "high": df["high"].to_numpy(),
        "low": df["low"].to_numpy(),
        "close": df["close"].to_numpy(),
        "volume": df["quantity"].to_numpy(dtype="float64"),
        "line": df["line"].to_numpy(),
    }
    bdi = df["bdi"].to_numpy()
    names = (df["name"].astype(str) + " " + df["specification"].astype(str)).to_numpy()
    # one long frame sorted by ticker then date: what the importer consumes directly
    order = np.lexsort((dates.astype("int64"), tick))
    for t, a, b in zip(uniq, starts, ends):
        first_row = order[a]
        out.kinds[str(t)] = _kind_of(str(t), int(bdi[first_row]))
        out.names[str(t)] = " ".join(str(names[order[b - 1]]).split())
    codes = np.searchsorted(uniq, tick[order]).astype(np.int32)
    out.long = pd.DataFrame(
        {
            "ticker": pd.Categorical.from_codes(codes, categories=[str(u) for u in uniq]),
            "date": dates[order].astype("datetime64[ns]"),
            "open": cols["open"][order],
            "high": cols["high"][order],
            "low": cols["low"][order],
            "close": cols["close"][order],
            "adj_close": cols["close"][order],
            "volume": cols["volume"][order],
            "line": cols["line"][order],
        }
    )
    if not as_long:
        for k, t in enumerate(out.long["ticker"].cat.categories):
            sel = slice(starts[k], ends[k])
            part = out.long.iloc[sel]
            out.bars[t] = part.drop(columns=["ticker", "date"]).set_index(
                pd.DatetimeIndex(part["date"], name="date")
            )
    return out


def parse_file(
    path: str | Path,
    fmt: str = "auto",
    *,
    ticker: str | None = None,
    mapping=None,
    name: str | None = None,
    include_fractional: bool = False,
    tickers: Sequence[str] | None = None,
    _as_long: bool = False,
) -> ParsedData:
    """Read one file of any supported format into bars per ticker.

    Parameters
    ----------
    path : str or Path
        The file.
    fmt : str
        One of :data:`FORMATS`.
    ticker : str, optional
        Ticker for CSV files that do not name one.
    mapping : ColumnMapping or dict, optional
        Column mapping for ``fmt="csv"``.
    name : str, optional
        Display name (an uploaded file's original name).
    include_fractional : bool
        COTAHIST: also keep the fractional market (tickers ending in ``F``).
    tickers : sequence of str, optional
        COTAHIST: keep only these tickers.

    Raises
    ------
    DataFormatError
        Naming the file and, where it applies, the line.
    InputError
        Unknown ``fmt``.
    """
    if fmt not in FORMATS:
        raise InputError(f"Formato {fmt!r} desconhecido (use {', '.join(FORMATS)}).")
    p = Path(path)
    fname = name or p.name
    if fmt == "auto":
        fmt = detect_file_format(p, fname)
    if fmt == "cotahist":
        return _parse_cotahist(p, fname, include_fractional, tickers, _as_long)
    if fmt == "actions":
        try:
            acts = actions_mod.read_actions_csv(p)
        except (InputError, ValueError, KeyError) as exc:
            raise DataFormatError(
                f"arquivo de eventos corporativos inválido: {exc}", fname
            ) from exc
        return ParsedData(file=fname, format="actions", source="csv", actions=acts, rows=len(acts))
    return read_csv_bars(p, fmt, ticker=ticker, mapping=mapping, name=fname)


def preview_file(path: str | Path, fmt: str = "auto", *, n: int = 10, **kw) -> dict:
    """Parse a file and summarise it for the Data page's preview.

    Returns
    -------
    dict
        ``format``, ``tickers`` (list), ``rows`` (int), ``first``/``last`` (Timestamps) and
        ``head``: a DataFrame of the first ``n`` rows with a ``ticker`` column.
    """
    parsed = parse_file(path, fmt, **kw)
    heads, first, last = [], None, None
    for t, b in list(parsed.bars.items()):
        if len(b):
            first = b.index[0] if first is None else min(first, b.index[0])
            last = b.index[-1] if last is None else max(last, b.index[-1])
        if sum(len(h) for h in heads) < n:
            heads.append(b.drop(columns="line").head(n).assign(ticker=t))
    head = pd.concat(heads).head(n) if heads else pd.DataFrame()
    return {
        "format": parsed.format,
        "tickers": list(parsed.bars),
        "rows": parsed.rows,
        "first": first,
        "last": last,
        "head": head,
    }


# -- validation ---------------------------------------------------------------------------
def _long_frame(parsed: ParsedData) -> pd.DataFrame:
    """All tickers of ``parsed`` in one long frame: ``ticker, date, <BAR_COLUMNS>, line``."""
    if parsed.long is not None:
        return parsed.long
    items = [(t, b) for t, b in parsed.bars.items() if len(b)]
    if not items:
        return pd.DataFrame(columns=["ticker", "date", *BAR_COLUMNS, "line"])
    cols = {
        "ticker": np.concatenate(
            [np.full(len(b), k, dtype=np.int32) for k, (_, b) in enumerate(items)]
        ),
        "date": np.concatenate([b.index.to_numpy(dtype="datetime64[ns]") for _, b in items]),
    }
    for c in BAR_COLUMNS:
        cols[c] = np.concatenate([b[c].to_numpy(dtype="float64") for _, b in items])
    cols["line"] = np.concatenate(
        [
            b["line"].to_numpy(dtype="int64") if "line" in b else np.zeros(len(b), dtype="int64")
            for _, b in items
        ]
    )
    df = pd.DataFrame(cols)
    df["ticker"] = pd.Categorical.from_codes(
        df["ticker"].to_numpy(), categories=[t for t, _ in items]
    )
    return df


def validate_parsed(parsed: ParsedData) -> tuple[pd.DataFrame, dict[str, int]]:
    """Apply the validation rules of the module docstring (vectorised over all tickers).

    Returns
    -------
    (pandas.DataFrame, dict)
        The valid rows in long form (columns ``ticker, date`` and :data:`BAR_COLUMNS`,
        high/low repaired) and rejected-row counts by reason.

    Raises
    ------
    DataFormatError
        A repeated date or a non-session date with volume (file and line named).
    """
    reasons: dict[str, int] = {}

    def reject(reason: str, n) -> None:
        if int(n):
            reasons[reason] = reasons.get(reason, 0) + int(n)

    df = _long_frame(parsed)
    if df.empty:
        return df.drop(columns="line"), reasons
    codes = df["ticker"].cat.codes.to_numpy()
    cats = list(df["ticker"].cat.categories)
    d8 = df["date"].to_numpy().astype("int64")
    lines = df["line"].to_numpy()
    order = np.lexsort((lines, d8, codes))
    same = (codes[order][1:] == codes[order][:-1]) & (d8[order][1:] == d8[order][:-1])
    if same.any():
        k = int(np.flatnonzero(same)[0])
        first, second = order[k], order[k + 1]
        t, d = cats[codes[second]], pd.Timestamp(d8[second])
        ln1 = int(lines[first])
        raise DataFormatError(
            f"data {d:%d/%m/%Y} repetida para {t}"
            + (f" (já na linha {ln1})" if ln1 else "")
            + ": um arquivo não pode ter duas barras na mesma data.",
            parsed.file,
            int(lines[second]) or None,
        )
    o, h, lo, c = (df[k].to_numpy() for k in ("open", "high", "low", "close"))
    adj, v = df["adj_close"].to_numpy(), df["volume"].to_numpy()
    nan = np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(c) | np.isnan(adj)
    reject("sem preço", nan.sum())
    keep = ~nan
    with np.errstate(invalid="ignore"):
        nonpos = keep & ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0))
    reject("preço não positivo", nonpos.sum())
    keep &= ~nonpos
    if parsed.format == "yahoo":
        is_index = np.array([parsed.kinds.get(t, "stock") == "index" for t in cats])[codes]
        flat = (o == c) & (h == c) & (lo == c)
        ph = keep & ~is_index & (v <= 0) & flat
        reject("volume zero (marcador do Yahoo)", ph.sum())
        keep &= ~ph
    with np.errstate(invalid="ignore", divide="ignore"):
        breach = (
            np.maximum.reduce(
                [lo - np.minimum(o, c), np.maximum(o, c) - h, lo - h, np.zeros(len(c))]
            )
            / c
        )
    bad_ohlc = keep & (breach > OHLC_TOLERANCE)
    reject("OHLC inconsistente", bad_ohlc.sum())
    keep &= ~bad_ohlc
    days = d8 if parsed.interval == "1d" else pd.DatetimeIndex(d8).normalize().asi8
    udays = np.unique(days[keep])
    off = (
        non_sessions(pd.DatetimeIndex(udays).as_unit("ns")).as_unit("ns").asi8
        if len(udays)
        else np.array([], dtype="int64")
    )
    if len(off):
        on_off = keep & np.isin(days, off)
        placeholder = on_off & (v <= 0)
        reject("volume zero em dia sem pregão", placeholder.sum())
        real = on_off & ~placeholder
        if real.any():
            k = int(np.flatnonzero(real)[np.argmin(lines[real])])
            raise DataFormatError(
                f"{pd.Timestamp(days[k]):%d/%m/%Y} ({cats[codes[k]]}) não é um pregão da B3 "
                "(fim de semana ou feriado).",
                parsed.file,
                int(lines[k]) or None,
            )
        keep &= ~placeholder
    out = df.loc[keep, ["ticker", "date", *BAR_COLUMNS]].reset_index(drop=True)
    oo, cc = out["open"].to_numpy(), out["close"].to_numpy()
    out["high"] = np.maximum.reduce([out["high"].to_numpy(), oo, cc, out["low"].to_numpy()])
    out["low"] = np.minimum.reduce([out["low"].to_numpy(), oo, cc])
    return out, reasons


# -- writing ------------------------------------------------------------------------------
def _load_priorities(conn: Connection) -> dict[int, tuple[str, ...]]:
    return {
        int(iid): tuple(s.strip() for s in srcs.split(",") if s.strip())
        for iid, srcs in conn.execute(select(_PRIO.c.instrument_id, _PRIO.c.sources))
    }


def _rank(source: str, order: Sequence[str]) -> int:
    try:
        return list(order).index(source)
    except ValueError:
        return len(order)


def _ensure_instruments(
    store: Store, conn: Connection, tickers: Sequence[str], names: dict, kinds: dict
) -> dict[str, int]:
    ids: dict[str, int] = {}
    tl = list(tickers)
    for k in range(0, len(tl), 500):
        part = tl[k : k + 500]
        for tk, iid in conn.execute(
            select(_INST.c.ticker, _INST.c.id).where(_INST.c.ticker.in_(part))
        ):
            ids[tk] = int(iid)
    missing = [t for t in tl if t not in ids]
    if missing:
        recs = []
        for t in missing:
            kind = kinds.get(t, "stock")
            recs.append(
                {
                    "ticker": t,
                    "name": (names.get(t, "") or t)[:128],
                    "kind": kind,
                    "lot_size": 1 if kind == "index" else 100,
                    "currency": "PTS" if kind == "index" else "BRL",
                }
            )
        conn.execute(_INST.insert(), recs)
        for k in range(0, len(missing), 500):
            part = missing[k : k + 500]
            for tk, iid in conn.execute(
                select(_INST.c.ticker, _INST.c.id).where(_INST.c.ticker.in_(part))
            ):
                ids[tk] = int(iid)
    return ids


def _write_bars(
    conn: Connection,
    ids: dict[str, int],
    clean: pd.DataFrame,
    interval: str,
    source: str,
    priorities: dict[int, tuple[str, ...]],
    progress: Progress | None,
    cancel: Callable[[], bool] | None,
    frac: tuple[float, float],
) -> tuple[int, int, int, int]:
    """Bulk upsert with source priority; returns (inserted, updated, unchanged, kept)."""
    if clean.empty:
        return 0, 0, 0, 0
    tick = clean["ticker"].astype(str).to_numpy()
    inc = pd.DataFrame(
        {
            "iid": pd.Series(tick).map(ids).to_numpy(dtype="int64"),
            "date": clean["date"].to_numpy(dtype="datetime64[ns]"),
            **{c: clean[c].to_numpy() for c in BAR_COLUMNS},
        }
    )
    lo, hi = inc["date"].min().to_pydatetime(), inc["date"].max().to_pydatetime()
    iids = sorted(set(inc["iid"]))
    rows = []
    b = _BAR.c
    for k in range(0, len(iids), 500):
        chunk = iids[k : k + 500]
        rows += conn.execute(
            select(b.instrument_id, b.date, *[b[c] for c in BAR_COLUMNS], b.source).where(
                b.interval == interval, b.instrument_id.in_(chunk), b.date >= lo, b.date <= hi
            )
        ).all()
    old = pd.DataFrame.from_records(
        rows, columns=["iid", "date", *[f"o_{c}" for c in BAR_COLUMNS], "o_source"]
    )
    old["date"] = pd.to_datetime(old["date"]).astype("datetime64[ns]")
    old["iid"] = old["iid"].astype("int64")
    inc["iid"] = inc["iid"].astype("int64")
    m = inc.merge(old, on=["iid", "date"], how="left", indicator=True)
    is_new = (m["_merge"] == "left_only").to_numpy()
    exists = ~is_new
    new_vals = m[list(BAR_COLUMNS)].to_numpy(dtype="float64")
    old_vals = m[[f"o_{c}" for c in BAR_COLUMNS]].to_numpy(dtype="float64")
    same = (
        exists
        & np.isclose(new_vals, old_vals, rtol=1e-12, atol=1e-9).all(axis=1)
        & (m["o_source"].to_numpy() == source)
    )
    # priority: an existing row from a better-ranked source is kept
    kept = np.zeros(len(m), dtype=bool)
    if exists.any():
        osrc = m["o_source"].to_numpy()
        iid_arr = m["iid"].to_numpy()
        for j in np.flatnonzero(exists & ~same):
            order = priorities.get(int(iid_arr[j]), DEFAULT_PRIORITY)
            if _rank(str(osrc[j]), order) < _rank(source, order):
                kept[j] = True
    upd = exists & ~same & ~kept
    n_total = int(is_new.sum() + upd.sum())
    done = 0
    a, z = frac

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if cancel is not None and cancel():
            raise ImportCancelled("Importação cancelada: nada foi gravado.")
        if progress and n_total:
            progress(a + (z - a) * done / n_total, f"Gravando barras: {done}/{n_total}")

    dates = m["date"].dt.to_pydatetime() if hasattr(m["date"].dt, "to_pydatetime") else m["date"]
    dates = np.asarray(pd.DatetimeIndex(m["date"]).to_pydatetime())
    iid_l = m["iid"].to_numpy()
    val_cols = [m[c].to_numpy(dtype="float64").tolist() for c in BAR_COLUMNS]
    ins_idx = np.flatnonzero(is_new)
    for k in range(0, len(ins_idx), _CHUNK):
        sel = ins_idx[k : k + _CHUNK]
        recs = [
            {
                "instrument_id": int(iid_l[j]),
                "interval": interval,
                "date": dates[j],
                "open": val_cols[0][j],
                "high": val_cols[1][j],
                "low": val_cols[2][j],
                "close": val_cols[3][j],
                "adj_close": val_cols[4][j],
                "volume": val_cols[5][j],
                "source": source,
            }
            for j in sel
        ]
        conn.execute(_BAR.insert(), recs)
        tick(len(sel))
    upd_idx = np.flatnonzero(upd)
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
                    "k_iid": int(iid_l[j]),
                    "k_interval": interval,
                    "k_date": dates[j],
                    **{f"v_{c}": val_cols[i][j] for i, c in enumerate(BAR_COLUMNS)},
                    "v_source": source,
                }
                for j in sel
            ]
            conn.execute(stmt, recs)
            tick(len(sel))
    return int(is_new.sum()), int(upd.sum()), int(same.sum()), int(kept.sum())


def _write_log(
    store: Store, started: dt.datetime, source: str, file: str, rep: ImportReport, message: str
) -> int | None:
    try:
        with store.transaction() as conn:
            res = conn.execute(
                _LOG.insert().values(
                    started_at=started,
                    source=source[:32],
                    file=file[:512],
                    instruments=rep.instruments,
                    inserted=rep.inserted,
                    updated=rep.updated,
                    unchanged=rep.unchanged,
                    rejected=rep.rejected,
                    duration_s=float(rep.seconds),
                    status=rep.status,
                    message=message[:4000],
                )
            )
            return int(res.inserted_primary_key[0])
    except Exception:  # the log must never turn a good import into a failure
        log.exception("could not write the import log")
        return None


def import_parsed(
    store: Store,
    parsed: Sequence[ParsedData],
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    log_file: str | None = None,
    files: int | None = None,
    errors: list[dict] | None = None,
    started: dt.datetime | None = None,
    t0: float | None = None,
) -> ImportReport:
    """Validate and write already-parsed data in one transaction, then log the run.

    ``errors`` (from parsing) make the import fail without writing; validation errors are
    added to them. See :func:`import_files` for the report.
    """
    t0 = time.perf_counter() if t0 is None else t0
    started = started or dt.datetime.now().replace(microsecond=0)
    rep = ImportReport(files=len(parsed) if files is None else files, errors=list(errors or []))
    rep.formats = list(dict.fromkeys(p.format for p in parsed))
    checked: list[tuple[ParsedData, pd.DataFrame]] = []
    for p in parsed:
        try:
            clean, reasons = validate_parsed(p)
        except DataFormatError as exc:
            rep.errors.append({"file": exc.file or p.file, "line": exc.line, "reason": exc.message})
            continue
        checked.append((p, clean))
        rep.rejected += sum(reasons.values())
        for k, v in reasons.items():
            rep.reasons[k] = rep.reasons.get(k, 0) + v
    for p in parsed:  # corporate actions only for stored (or imported-here) instruments
        if p.format != "actions" or p.actions is None:
            continue
        here = {t for q in parsed for t in (q.bars or {})} | {
            t for q in parsed if q.long is not None for t in q.long["ticker"].cat.categories
        }
        known = set(store.tickers()) | here
        unknown = sorted(set(p.actions["ticker"]) - known)
        if unknown:
            rep.errors.append(
                {
                    "file": p.file,
                    "line": None,
                    "reason": f"ativos não cadastrados: {', '.join(unknown)}; importe "
                    "as cotações antes dos eventos.",
                }
            )
    file_label = log_file or ", ".join(p.file for p in parsed)
    source_label = ",".join(rep.formats) or "?"
    if rep.errors:
        rep.status = "failed"
        rep.inserted = rep.updated = rep.unchanged = rep.kept = 0
        rep.seconds = time.perf_counter() - t0
        rep.log_id = _write_log(store, started, source_label, file_label, rep, rep.message())
        return rep
    tickers: list[str] = []
    try:
        with store.transaction() as conn:
            priorities = _load_priorities(conn)
            n = max(len(checked), 1)
            for k, (p, clean) in enumerate(checked):
                if p.format == "actions":
                    continue  # written after every bar file of this import
                if clean.empty:
                    continue
                seen = set(clean["ticker"].unique())
                present = [t for t in clean["ticker"].cat.categories if t in seen]
                ids = _ensure_instruments(store, conn, present, p.names, p.kinds)
                ins, upd, same, kept = _write_bars(
                    conn,
                    ids,
                    clean,
                    p.interval,
                    p.source,
                    priorities,
                    progress,
                    cancel,
                    (0.5 + 0.45 * k / n, 0.5 + 0.45 * (k + 1) / n),
                )
                rep.inserted += ins
                rep.updated += upd
                rep.unchanged += same
                rep.kept += kept
                tickers += [t for t in present if t not in tickers]
                acts = p.actions
                if acts is not None and len(acts):
                    acts = acts[acts["ticker"].isin(list(ids))]
                    actions_mod.write_actions(store, acts, p.source, conn=conn)
                if p.source in actions_mod.AS_TRADED_SOURCES:
                    with_actions = set(
                        actions_mod.load_actions(store, present, conn=conn)["ticker"]
                    )
                    for t in with_actions:
                        actions_mod.recompute_adj_close(store, t, interval=p.interval, conn=conn)
            for p, _ in checked:
                if p.format == "actions" and p.actions is not None and len(p.actions):
                    actions_mod.write_actions(store, p.actions, "csv", conn=conn)
                    for t in sorted(set(p.actions["ticker"])):
                        actions_mod.recompute_adj_close(store, t, conn=conn)
                        if t not in tickers:
                            tickers.append(t)
            if cancel is not None and cancel():
                raise ImportCancelled("Importação cancelada: nada foi gravado.")
    except ImportCancelled:
        rep.status = "cancelled"
        rep.inserted = rep.updated = rep.unchanged = rep.kept = 0
        rep.seconds = time.perf_counter() - t0
        rep.log_id = _write_log(store, started, source_label, file_label, rep, rep.message())
        raise
    rep.instruments = len(tickers)
    rep.tickers = tickers
    rep.seconds = time.perf_counter() - t0
    rep.log_id = _write_log(store, started, source_label, file_label, rep, rep.message())
    if progress:
        progress(1.0, rep.message())
    log.info("import %s: %s", file_label, rep.message())
    return rep


def import_files(
    store: Store,
    paths: Sequence[str | Path],
    fmt: str = "auto",
    *,
    ticker: str | None = None,
    mapping=None,
    names: Sequence[str] | None = None,
    include_fractional: bool = False,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportReport:
    """Import files into the store: all or nothing, idempotent, logged.

    Parameters
    ----------
    store : Store
        Target store.
    paths : sequence of path
        Files to import (mixed formats allowed with ``fmt="auto"``).
    fmt : str
        One of :data:`FORMATS`, applied to every file.
    ticker, mapping : optional
        For CSV files that do not name their ticker / the generic ``csv`` format.
    names : sequence of str, optional
        Display names (e.g. the original names of uploaded files).
    include_fractional : bool
        COTAHIST: import the fractional market too.
    progress : callable(fraction, message), optional
        Called while parsing (0-0.5) and writing (0.5-1).
    cancel : callable() -> bool, optional
        Polled between steps; when it returns True the transaction is rolled back and
        :class:`ImportCancelled` is raised.

    Returns
    -------
    ImportReport
        ``status="failed"`` with ``errors`` (file, line, reason) when any file is bad: then
        nothing at all was written. Importing the same files twice inserts and updates 0.

    Raises
    ------
    ImportCancelled
        When ``cancel()`` returned True (nothing written).
    InputError
        No paths or an unknown ``fmt``.
    """
    t0 = time.perf_counter()
    started = dt.datetime.now().replace(microsecond=0)
    if not paths:
        raise InputError("Nenhum arquivo para importar.")
    if fmt not in FORMATS:
        raise InputError(f"Formato {fmt!r} desconhecido (use {', '.join(FORMATS)}).")
    parsed: list[ParsedData] = []
    errors: list[dict] = []
    labels = []
    for k, path in enumerate(paths):
        fname = names[k] if names and k < len(names) else Path(path).name
        labels.append(fname)
        if progress:
            progress(0.5 * k / len(paths), f"Lendo {fname}")
        if cancel is not None and cancel():
            raise ImportCancelled("Importação cancelada: nada foi gravado.")
        try:
            parsed.append(
                parse_file(  # long form: the importer never needs one frame per ticker
                    path,
                    fmt,
                    ticker=ticker,
                    mapping=mapping,
                    name=fname,
                    include_fractional=include_fractional,
                    _as_long=True,
                )
            )
        except DataFormatError as exc:
            errors.append({"file": exc.file or fname, "line": exc.line, "reason": exc.message})
        except OSError as exc:
            errors.append({"file": fname, "line": None, "reason": f"não foi possível ler ({exc})."})
    return import_parsed(
        store,
        parsed,
        progress=progress,
        cancel=cancel,
        log_file=", ".join(labels),
        files=len(paths),
        errors=errors,
        started=started,
        t0=t0,
    )


# -- online updates -----------------------------------------------------------------------
def make_source(name: str) -> OnlineSource:
    """The online source called ``name`` (``yahoo`` or ``mt5``)."""
    if name == "yahoo":
        from core.data.sources.yahoo import YahooSource

        return YahooSource()
    if name == "mt5":
        from core.data.sources.mt5 import MT5Source

        return MT5Source()
    raise InputError(f"Fonte {name!r} desconhecida (use yahoo ou mt5).")


def update_prices(
    store: Store,
    source: str | OnlineSource = "yahoo",
    tickers: Sequence[str] | None = None,
    *,
    end=None,
    interval: str = "1d",
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ImportReport:
    """Fetch the bars missing since each ticker's last stored date and import them.

    The function behind the Data page's "Atualizar" buttons, ``python -m dashboard update``
    and the scheduled daily update.

    Parameters
    ----------
    store : Store
    source : {"yahoo", "mt5"} or OnlineSource
    tickers : sequence of str, optional
        Default: every stored stock, fund and index.
    end : date-like, optional
        Last date to fetch (default today).
    interval : {"1d", "1h", "5m"}

    Returns
    -------
    ImportReport
        As :func:`import_files`; ``files`` is 1 (one fetch). When everything is already up
        to date nothing is fetched and the report is empty.

    Raises
    ------
    DataSourceError
        The source is unreachable or not installed (logged as a failed run; nothing written).
    UnknownTickerError
        A ticker that is not stored.
    """
    t0 = time.perf_counter()
    started = dt.datetime.now().replace(microsecond=0)
    src = make_source(source) if isinstance(source, str) else source
    names = [t.strip().upper() for t in (tickers or store.tickers()) if t.strip()]
    if not names:
        raise InputError("Nenhum ticker para atualizar.")
    end_ts = pd.Timestamp(end).normalize() if end is not None else pd.Timestamp.now().normalize()
    starts = []
    for t in names:
        store.instrument(t)  # raises UnknownTickerError with suggestions
        last = store.last_date(t, interval)
        starts.append(
            pd.Timestamp("2010-01-01") if last is None else last.normalize() + pd.Timedelta(days=1)
        )
    start = min(starts)
    if start > end_ts:
        rep = ImportReport(files=0)
        if progress:
            progress(1.0, "Tudo atualizado: nada a buscar.")
        return rep
    if progress:
        progress(0.05, f"Buscando {len(names)} ticker(s) em {src.name} desde {start:%d/%m/%Y}")
    try:
        parsed = src.fetch(names, start, end_ts, interval)
    except DataSourceError as exc:
        rep = ImportReport(
            files=1, status="failed", errors=[{"file": src.name, "line": None, "reason": str(exc)}]
        )
        rep.seconds = time.perf_counter() - t0
        rep.log_id = _write_log(store, started, src.name, f"atualização {src.name}", rep, str(exc))
        raise
    # keep only what is new for each ticker (older rows are already stored)
    for t, s in zip(names, starts):
        if t in parsed.bars:
            parsed.bars[t] = parsed.bars[t][parsed.bars[t].index >= s]
    parsed.bars = {t: b for t, b in parsed.bars.items() if len(b) and t in names}
    return import_parsed(
        store,
        [parsed],
        progress=progress,
        cancel=cancel,
        log_file=f"atualização {src.name}",
        files=1,
        started=started,
        t0=t0,
    )


# -- log and priority ---------------------------------------------------------------------
def import_log(store: Store, limit: int = 50) -> pd.DataFrame:
    """The newest ``limit`` import-log rows (newest first).

    Columns ``id, started_at, source, file, instruments, inserted, updated, unchanged,
    rejected, duration_s, status, message``.
    """
    c = _LOG.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(_LOG).order_by(c.id.desc()).limit(int(limit))).all()
    cols = [col.name for col in _LOG.columns]
    df = pd.DataFrame.from_records(rows, columns=cols)
    df["started_at"] = pd.to_datetime(df["started_at"])
    return df


def source_priority(store: Store, ticker: str) -> tuple[str, ...]:
    """The source order used for ``ticker`` (its override or :data:`DEFAULT_PRIORITY`)."""
    iid = store.instrument(ticker)["id"]
    with store.engine.connect() as conn:
        row = conn.execute(select(_PRIO.c.sources).where(_PRIO.c.instrument_id == iid)).first()
    return tuple(s for s in row[0].split(",") if s) if row else DEFAULT_PRIORITY


def set_source_priority(store: Store, ticker: str, sources: Sequence[str] | None) -> None:
    """Store a per-instrument source order (best first); None restores the default."""
    iid = store.instrument(ticker)["id"]
    known = set(DEFAULT_PRIORITY)
    bad = [s for s in (sources or []) if s not in known]
    if bad:
        raise InputError(
            f"Fonte(s) desconhecida(s): {', '.join(bad)} (use {', '.join(DEFAULT_PRIORITY)})."
        )
    with store.transaction() as conn:
        conn.execute(_PRIO.delete().where(_PRIO.c.instrument_id == iid))
        if sources:
            conn.execute(_PRIO.insert().values(instrument_id=iid, sources=",".join(sources)))
