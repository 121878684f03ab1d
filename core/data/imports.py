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
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError, OperationalError

from core.data import actions as actions_mod
from core.data.calendar import non_sessions
from core.data.import_models import ImportLog, SourcePriority
from core.data.intraday import (
    INTRADAY_FORMATS,
    detect_intraday_format,
    finish_intraday,
    read_intraday_file,
)
from core.data.models import DEFAULT_LOT, Bar, Instrument, default_volume_unit
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
from core.data.tickers import is_valid_ticker, validate_ticker
from core.data.upsert import DEFAULT_PRIORITY, UpsertCancelled, load_priorities, upsert_bars
from core.errors import DataFormatError, DataSourceError, InputError

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
    "cotahist_kind",
    "select_instruments",
    "source_priority",
    "set_source_priority",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

#: Formats accepted by :func:`parse_file` (``auto`` detects).
FORMATS: tuple[str, ...] = (
    "auto",
    "sgs",
    "cotahist",
    "yahoo",
    "investing",
    "profit",
    "planilha",
    "csv",
    "actions",
    "intraday",  # Data;Open;High;Low;Close[;Candle], dd/mm/yyyy HH:MM (core.data.intraday)
    "mt5bars",  # MetaTrader 5 "Export Bars" (core.data.intraday)
)
#: Largest OHLC breach (fraction of the close) repaired instead of rejected.
OHLC_TOLERANCE = 0.01
#: Attempts of the write transaction when another writer collides (SQLite).
_WRITE_ATTEMPTS = 4
_BAR = Bar.__table__
_INST = Instrument.__table__
_LOG = ImportLog.__table__
_PRIO = SourcePriority.__table__


class ImportCancelled(UpsertCancelled):
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
    conflicts : int
        Dates where two sources disagree on the close (flagged for the quality report).
    volume_dropped : int
        Incoming volumes not written because their unit differs from the series'.
    placeholders : list of dict
        Vendor placeholder rows dropped (``file, ticker, date, line``): a non-session row
        repeating the previous session's prices.
    skipped_tickers : int
        Tickers of a whole-market file left out by the ticker/kind selection.
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
    conflicts: int = 0
    volume_dropped: int = 0
    placeholders: list[dict] = field(default_factory=list)
    skipped_tickers: int = 0

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
        from core.textfmt import num

        if self.formats == ["sgs"]:
            return (
                f"CDI diário (BCB SGS): {num(self.inserted, 0)} dias novos, {num(self.updated, 0)} "
                f"atualizados, {num(self.unchanged, 0)} iguais; substitui a aproximação anual."
            )
        msg = (
            f"{self.files} arquivo(s), {num(self.instruments, 0)} instrumento(s): "
            f"{num(self.inserted, 0)} barras novas, {num(self.updated, 0)} atualizadas, "
            f"{num(self.unchanged, 0)} iguais, {num(self.kept, 0)} mantidas por prioridade de fonte, "
            f"{num(self.rejected, 0)} rejeitadas."
        )
        if self.placeholders:
            shown = ", ".join(
                f"{p['ticker']} {pd.Timestamp(p['date']):%d/%m/%Y} (linha {p['line']})"
                for p in self.placeholders[:5]
            )
            more = f" e mais {len(self.placeholders) - 5}" if len(self.placeholders) > 5 else ""
            msg += (
                f" {len(self.placeholders)} linha(s) de preenchimento do fornecedor descartadas "
                f"(dia sem pregão repetindo o pregão anterior): {shown}{more}."
            )
        if self.conflicts:
            msg += f" {num(self.conflicts, 0)} data(s) com fontes divergentes (ver qualidade)."
        if self.volume_dropped:
            msg += (
                f" {num(self.volume_dropped, 0)} volume(s) em outra unidade não gravados "
                "(a série mantém sua unidade)."
            )
        if self.skipped_tickers:
            msg += (
                f" {num(self.skipped_tickers, 0)} ativo(s) do arquivo ignorados (não seguidos; "
                "use --tickers, --kinds ou todos)."
            )
        return msg


# -- parsing ------------------------------------------------------------------------------
def detect_file_format(path: str | Path, name: str | None = None) -> str:
    """Detect the format of a file (one of :data:`FORMATS` but ``auto`` and ``csv``).

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
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 (MetaTrader 5 exports)
        intraday_fmt = detect_intraday_format(head.decode("utf-16", errors="ignore"))
        if intraday_fmt:
            return intraday_fmt
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
    stripped = text.lstrip("\ufeff").lstrip()
    semi_cells = [c.strip().strip('"').lower() for c in stripped.split("\n")[0].split(";")]
    if semi_cells[:2] == ["data", "valor"] or (
        stripped.startswith("[") and '"valor"' in stripped[:200]
    ):
        return "sgs"  # a daily BCB SGS series (the CDI): core.rates.import_sgs
    if first_cells[:4] == ["ticker", "date", "kind", "value"]:
        return "actions"
    intraday_fmt = detect_intraday_format(text)
    if intraday_fmt:
        return intraday_fmt
    fmt = detect_format(text)
    if fmt is None:
        raise DataFormatError(  # never quote the file's content (issue 15)
            f"layout desconhecido. Esperado: {EXPECTED_LAYOUTS}.",
            fname,
            1,
        )
    return fmt


def cotahist_kind(ticker: str, bdi: int, especi: str, market: int = MARKET_SPOT) -> str:
    """Instrument kind of a COTAHIST record from its CODBDI, ESPECI and TPMERC.

    Rules (B3 "SeriesHistoricas_Layout": CODBDI table and ESPECI codes): options markets
    (TPMERC 070/080) -> ``option``; ESPECI ``DR*`` (DRN, DR1, DR2, DR3) -> ``bdr``;
    CODBDI 12 -> ``fii``; CODBDI 14 with a ``*11`` code -> ``etf`` (index fund cotas), other
    CODBDI 14 -> ``fund``; ESPECI ``ON``, ``PN``, ``PNA``... and ``UNT`` -> ``stock``;
    ESPECI ``CI``/``CPA`` -> ``fund``; anything else (rights ``DIR``, receipts ``REC``,
    warrants ``BNS``...) -> ``other``.
    """
    esp = " ".join(str(especi or "").upper().split())
    code = esp.split(" ")[0] if esp else ""
    if int(market) in (70, 80):
        return "option"
    if code.startswith("DR"):
        return "bdr"
    if int(bdi) == 12:
        return "fii"
    if int(bdi) == 14:
        return "etf" if ticker.rstrip("F").endswith("11") else "fund"
    if code in ("ON", "PN", "PNA", "PNB", "PNC", "PND", "PNE", "PNF", "PNG", "UNT", "OR", "PR"):
        return "stock"
    if code.startswith(("ON", "PN")) and len(code) <= 3:
        return "stock"
    if code in ("CI", "CPA", "CDA"):
        return "fund"
    return "other"


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
    spec = df["specification"].astype(str).to_numpy()
    mkt = df["market"].to_numpy()
    names = (df["name"].astype(str) + " " + df["specification"].astype(str)).to_numpy()
    # one long frame sorted by ticker then date: what the importer consumes directly
    order = np.lexsort((dates.astype("int64"), tick))
    for t, a, b in zip(uniq, starts, ends):
        first_row = order[a]
        kind = cotahist_kind(str(t), int(bdi[first_row]), spec[first_row], int(mkt[first_row]))
        out.kinds[str(t)] = kind
        # the fractional market (TPMERC 020) trades in single shares
        out.lots[str(t)] = 1 if int(mkt[first_row]) == MARKET_FRACTIONAL else DEFAULT_LOT[kind]
        out.volume_units[str(t)] = "contracts" if kind in ("option", "future") else "shares"
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
    if fmt in INTRADAY_FORMATS:
        return read_intraday_file(p, fmt, ticker=ticker, name=fname)
    parsed = read_csv_bars(p, fmt, ticker=ticker, mapping=mapping, name=fname)
    return finish_intraday(parsed) if parsed.interval != "1d" else parsed


def preview_file(path: str | Path, fmt: str = "auto", *, n: int = 10, **kw) -> dict:
    """Parse a file and summarise it for the Data page's preview.

    Returns
    -------
    dict
        ``format``, ``tickers`` (list), ``rows`` (int), ``first``/``last`` (Timestamps) and
        ``head``: a DataFrame of the first ``n`` rows with a ``ticker`` column.
    """
    parsed = parse_file(path, fmt, **kw)
    heads: list[pd.DataFrame] = []
    first, last = None, None
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


def _yahoo_as_traded(
    store: Store, conn: Connection, clean: pd.DataFrame, actions: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Turn Yahoo rows (split-adjusted as of the download) into traded rows.

    Yahoo adjusts every price, volume and dividend for the splits up to its download, so
    rows are divided by the product ``S`` of the stored split-like actions dated after the
    row and up to the file's last date (a split after the file's end is not in it). The
    cash events are taken from the file's ``Dividends`` column when it has one, else from
    its ``Adj Close / Close`` ratio, and converted to R$ per share as paid.
    """
    if clean.empty:
        return clean, actions
    kinds = actions_mod.SPLIT_KINDS + (actions_mod.PRICE_FACTOR,)
    tickers = [str(t) for t in clean["ticker"].unique()]
    stored = actions_mod.load_actions(store, tickers, conn=conn, include_price_factors=True)
    out_parts, cash_parts = [], []
    for t in tickers:
        part = clean[clean["ticker"] == t].sort_values("date").reset_index(drop=True)
        idx = pd.DatetimeIndex(part["date"])
        ev = stored[(stored["ticker"] == t) & stored["kind"].isin(kinds)]
        if actions is not None and len(actions):  # splits the file itself reports
            mine = actions[(actions["ticker"] == t) & actions["kind"].isin(kinds)]
            ev = pd.concat([ev, mine[["ticker", "date", "kind", "value"]]], ignore_index=True)
            ev = ev.drop_duplicates(subset=["date", "kind"], keep="last")
        ev = ev[pd.to_datetime(ev["date"]) <= idx[-1]]
        S = np.ones(len(part))
        for ex, ratio in zip(ev["date"], ev["value"]):
            S[idx < ex] /= float(ratio)
        given = None if actions is None else actions[actions["ticker"] == t]
        if given is not None and len(given):
            cash = given[given["kind"].isin(actions_mod.CASH_KINDS)].copy()
        else:
            bars = part.set_index(idx)[["close", "adj_close"]]
            cash = actions_mod.implied_dividends(bars).assign(ticker=t)
        if len(cash):
            pos = np.clip(idx.get_indexer(pd.DatetimeIndex(cash["date"]), method="bfill"), 1, None)
            cash["value"] = cash["value"].to_numpy() / S[pos - 1]
            cash_parts.append(cash[["ticker", "date", "kind", "value"]])
        for c in ("open", "high", "low", "close"):
            part[c] = part[c].to_numpy() / S
        part["volume"] = np.round(part["volume"].to_numpy() * S)
        out_parts.append(part)
    out = pd.concat(out_parts, ignore_index=True)
    out["ticker"] = pd.Categorical(out["ticker"].astype(str))
    other = None
    if actions is not None and len(actions):
        other = actions[~actions["kind"].isin(actions_mod.CASH_KINDS)]
    acts = (
        pd.concat([x for x in [other, *cash_parts] if x is not None and len(x)], ignore_index=True)
        if (cash_parts or (other is not None and len(other)))
        else None
    )
    return out, acts


#: Formats that carry a whole market (every listed instrument of a session).
WHOLE_MARKET_FORMATS: tuple[str, ...] = ("cotahist",)


def select_instruments(
    store: Store,
    parsed: ParsedData,
    *,
    tickers: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    everything: bool = False,
) -> int:
    """Keep, in a whole-market ``parsed``, only the instruments the user follows or asked for.

    By default a COTAHIST file adds bars of the instruments already in the store (a
    fractional ``PETR4F`` follows ``PETR4``); ``tickers`` and ``kinds``
    (:data:`core.data.models.INSTRUMENT_KINDS`) add more; ``everything`` ("todos") keeps
    the whole market. ``parsed`` is filtered in place.

    Returns
    -------
    int
        Number of tickers left out.

    Raises
    ------
    InputError
        A malformed ticker in ``tickers`` or an unknown kind.
    """
    from core.data.models import INSTRUMENT_KINDS

    if everything:
        return 0
    want = {validate_ticker(t) for t in (tickers or [])}
    bad = [k for k in (kinds or []) if k not in INSTRUMENT_KINDS]
    if bad:
        raise InputError(
            f"Tipo(s) desconhecido(s): {', '.join(bad)} (use {', '.join(INSTRUMENT_KINDS)})."
        )
    kind_set = set(kinds or [])
    followed = set(store.tickers())
    present = (
        list(parsed.long["ticker"].cat.categories) if parsed.long is not None else list(parsed.bars)
    )

    def keep(t: str) -> bool:
        base = t[:-1] if t.endswith("F") else t
        return (
            t in followed
            or base in followed
            or t in want
            or base in want
            or parsed.kinds.get(t) in kind_set
        )

    kept = [t for t in present if keep(str(t))]
    if parsed.long is not None:
        sel = parsed.long["ticker"].isin(kept).to_numpy()
        long = parsed.long[sel].reset_index(drop=True)
        long["ticker"] = long["ticker"].cat.remove_unused_categories()
        parsed.long = long
    parsed.bars = {t: b for t, b in parsed.bars.items() if t in kept}
    return len(present) - len(kept)


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


def validate_parsed(
    parsed: ParsedData, *, strict: bool = False
) -> tuple[pd.DataFrame, dict[str, int]]:
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
    for k, t in enumerate(cats):  # B3 ticker syntax, wherever the ticker came from
        if not is_valid_ticker(str(t)):
            sel = np.flatnonzero(codes == k)
            ln = int(df["line"].to_numpy()[sel].min()) if len(sel) else 0
            try:
                validate_ticker(str(t))
            except InputError as exc:
                raise DataFormatError(str(exc), parsed.file, ln or None) from exc
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
        if real.any() and not strict:
            # a vendor placeholder: a non-session row repeating the previous session's OHLC
            order2 = np.lexsort((d8, codes))
            sess_row = keep & ~on_off  # rows on sessions that are kept
            pos = np.arange(len(order2))
            last = np.where(sess_row[order2], pos, -1)
            last = np.maximum.accumulate(last)  # last session row at or before each position
            prev_pos = np.r_[-1, last[:-1]]
            valid = prev_pos >= 0
            valid[valid] &= codes[order2][prev_pos[valid]] == codes[order2][valid]
            p_idx = np.zeros(len(df), dtype=np.int64)
            ok_prev = np.zeros(len(df), dtype=bool)
            p_idx[order2[valid]] = order2[prev_pos[valid]]
            ok_prev[order2[valid]] = True
            same_ohlc = (
                ok_prev
                & np.isclose(o, o[p_idx], rtol=1e-9)
                & np.isclose(h, h[p_idx], rtol=1e-9)
                & np.isclose(lo, lo[p_idx], rtol=1e-9)
                & np.isclose(c, c[p_idx], rtol=1e-9)
            )
            flat_prev = ok_prev & (o == c) & (h == c) & (lo == c) & np.isclose(c, c[p_idx])
            ph = real & (same_ohlc | flat_prev)
            for j in np.flatnonzero(ph)[np.argsort(lines[ph])]:
                parsed.placeholders.append(
                    {
                        "file": parsed.file,
                        "ticker": str(cats[codes[j]]),
                        "date": pd.Timestamp(d8[j]),
                        "line": int(lines[j]),
                    }
                )
            keep &= ~ph
            real &= ~ph
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
def _ensure_instruments(
    store: Store,
    conn: Connection,
    tickers: Sequence[str],
    names: dict,
    kinds: dict,
    lots: dict | None = None,
    units: dict | None = None,
) -> dict[str, int]:
    lots = lots or {}
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
            validate_ticker(t)
            kind = kinds.get(t, "stock")
            recs.append(
                {
                    "ticker": t,
                    "name": (names.get(t, "") or t)[:128],
                    "kind": kind,
                    "lot_size": int(lots.get(t, DEFAULT_LOT.get(kind, 1))),
                    "currency": "PTS" if kind == "index" else "BRL",
                    "volume_unit": (units or {}).get(t, default_volume_unit(kind)),
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
    strict: bool = False,
    tickers: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    everything: bool = False,
    source_hint: str | None = None,
) -> ImportReport:
    """Validate and write already-parsed data in one transaction, then log the run.

    ``errors`` (from parsing) make the import fail without writing; validation errors are
    added to them. ``strict``, ``tickers``, ``kinds``, ``everything``: see
    :func:`import_files`. See :func:`import_files` for the report.
    """
    t0 = time.perf_counter() if t0 is None else t0
    started = started or dt.datetime.now().replace(microsecond=0)
    rep = ImportReport(files=len(parsed) if files is None else files, errors=list(errors or []))
    rep.formats = list(dict.fromkeys(p.format for p in parsed))
    # tickers of the other files of this import count as asked for
    named = [
        str(t)
        for q in parsed
        if q.format not in WHOLE_MARKET_FORMATS
        for t in (list(q.long["ticker"].cat.categories) if q.long is not None else list(q.bars))
        if is_valid_ticker(str(t))  # a malformed one fails in validation, naming its line
    ]
    for p in parsed:
        if p.format in WHOLE_MARKET_FORMATS:
            rep.skipped_tickers += select_instruments(
                store, p, tickers=[*(tickers or []), *named], kinds=kinds, everything=everything
            )
    checked: list[tuple[ParsedData, pd.DataFrame]] = []
    for p in parsed:
        try:
            clean, reasons = validate_parsed(p, strict=strict)
        except DataFormatError as exc:
            rep.errors.append({"file": exc.file or p.file, "line": exc.line, "reason": exc.message})
            continue
        checked.append((p, clean))
        rep.placeholders += p.placeholders
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
    source_label = ",".join(rep.formats) or (source_hint or "arquivo")
    if rep.errors:
        rep.status = "failed"
        rep.inserted = rep.updated = rep.unchanged = rep.kept = 0
        rep.seconds = time.perf_counter() - t0
        rep.log_id = _write_log(store, started, source_label, file_label, rep, rep.message())
        return rep
    written: list[str] = []
    try:
        for attempt in range(_WRITE_ATTEMPTS):
            written = []
            rep.inserted = rep.updated = rep.unchanged = rep.kept = 0
            rep.conflicts = rep.volume_dropped = 0
            try:
                with store.transaction() as conn:
                    priorities = load_priorities(conn)
                    n = max(len(checked), 1)
                    touched: set[str] = set()
                    for j, (p, clean) in enumerate(checked):
                        if p.format == "actions":
                            continue  # written after every bar file of this import
                        if clean.empty:
                            continue
                        seen = set(clean["ticker"].unique())
                        present = [t for t in clean["ticker"].cat.categories if t in seen]
                        ids = _ensure_instruments(
                            store, conn, present, p.names, p.kinds, p.lots, p.volume_units
                        )
                        if p.source == "yahoo":
                            clean, p.actions = _yahoo_as_traded(store, conn, clean, p.actions)
                        acts = p.actions
                        if acts is not None and len(acts):
                            acts = acts[acts["ticker"].isin(list(ids))]
                            actions_mod.write_actions(
                                store, acts, p.source, conn=conn, recompute=False
                            )
                            touched |= set(acts["ticker"])
                        res = upsert_bars(
                            conn,
                            ids,
                            clean,
                            p.interval,
                            p.source,
                            priorities=priorities,
                            volume_unit=p.volume_units or None,
                            progress=progress,
                            cancel=cancel,
                            frac=(0.5 + 0.45 * j / n, 0.5 + 0.45 * (j + 1) / n),
                        )
                        rep.inserted += res.inserted
                        rep.updated += res.updated
                        rep.unchanged += res.unchanged
                        rep.kept += res.kept
                        rep.conflicts += res.conflicts
                        rep.volume_dropped += res.volume_dropped
                        by_id = {v: t for t, v in ids.items()}
                        touched |= {by_id[i] for i in res.touched if i in by_id}
                        written += [t for t in present if t not in written]
                    for p, _ in checked:
                        if p.format == "actions" and p.actions is not None and len(p.actions):
                            actions_mod.write_actions(
                                store, p.actions, "csv", conn=conn, recompute=False
                            )
                            for t in sorted(set(p.actions["ticker"])):
                                touched.add(t)
                                if t not in written:
                                    written.append(t)
                    # adj_close is derived from traded closes + actions, whichever source wrote the bars
                    with_actions = actions_mod.tickers_with_actions(store, conn=conn)
                    for t in sorted(touched & with_actions):
                        actions_mod.recompute_adj_close(store, t, conn=conn)
                    if cancel is not None and cancel():
                        raise ImportCancelled("Importação cancelada: nada foi gravado.")
                break
            except (IntegrityError, OperationalError) as exc:
                # another writer got there first (two imports at once on SQLite): retry
                log.warning("import write attempt %d failed: %s", attempt + 1, exc)
                if attempt + 1 == _WRITE_ATTEMPTS:
                    rep.errors.append(
                        {
                            "file": file_label,
                            "line": None,
                            "reason": "outra gravação ocupava o banco de dados; nada foi "
                            "gravado, tente de novo.",
                        }
                    )
                    rep.status = "failed"
                    rep.inserted = rep.updated = rep.unchanged = rep.kept = 0
                    rep.seconds = time.perf_counter() - t0
                    rep.log_id = _write_log(
                        store, started, source_label, file_label, rep, rep.message()
                    )
                    return rep
                time.sleep(0.2 * (attempt + 1))
    except UpsertCancelled:
        rep.status = "cancelled"
        rep.inserted = rep.updated = rep.unchanged = rep.kept = 0
        rep.seconds = time.perf_counter() - t0
        rep.log_id = _write_log(store, started, source_label, file_label, rep, rep.message())
        raise ImportCancelled("Importação cancelada: nada foi gravado.") from None
    rep.instruments = len(written)
    rep.tickers = written
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
    strict: bool = False,
    tickers: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    everything: bool = False,
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
    strict : bool
        Fail on any row dated on a non-session with volume, even a vendor placeholder
        (a non-session row repeating the previous session's OHLC, otherwise dropped,
        counted and listed in the report).
    tickers, kinds, everything : optional
        Whole-market files (COTAHIST): which instruments to add besides those already
        followed (:func:`select_instruments`); ``everything`` keeps the whole market.

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
    if ticker:
        ticker = validate_ticker(ticker)
    sgs = [p for p in paths if _is_sgs(p, fmt)]
    if sgs:  # the daily CDI (BCB SGS 12): stored as a rate series, replacing the approximation
        return _import_sgs(store, list(paths), sgs, started, t0)
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
            where = exc.file or fname
            if not Path(path).is_file() and not names:
                where = str(Path(path).expanduser().absolute())  # a bad path: show all of it
            errors.append({"file": where, "line": exc.line, "reason": exc.message})
        except OSError as exc:
            errors.append(
                {
                    "file": str(Path(path).expanduser().absolute()),
                    "line": None,
                    "reason": f"não foi possível ler ({exc.strerror or exc}).",
                }
            )
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
        strict=strict,
        tickers=tickers,
        kinds=kinds,
        everything=everything,
        source_hint=None if fmt == "auto" else fmt,
    )


def _is_sgs(path, fmt: str) -> bool:
    if fmt == "sgs":
        return True
    if fmt != "auto":
        return False
    try:
        return detect_file_format(path) == "sgs"
    except DataFormatError:
        return False


def _import_sgs(store: Store, paths: list, sgs: list, started, t0: float) -> ImportReport:
    """Import daily SGS files as the CDI series (every path must be one)."""
    from core.rates import import_sgs, read_sgs

    rep = ImportReport(files=len(paths), formats=["sgs"])
    if len(sgs) != len(paths):
        rep.status = "failed"
        rep.errors.append(
            {
                "file": ", ".join(Path(p).name for p in paths if p not in sgs),
                "line": None,
                "reason": "importe séries SGS (CDI) separadas dos arquivos de cotações.",
            }
        )
    else:
        try:
            series = [read_sgs(p) for p in sgs]
        except DataFormatError as exc:
            rep.status = "failed"
            rep.errors.append({"file": exc.file, "line": exc.line, "reason": exc.message})
        else:
            for p, _ in zip(sgs, series):
                res = import_sgs(store, p)
                rep.inserted += res.inserted
                rep.updated += res.updated
                rep.unchanged += res.unchanged
    rep.seconds = time.perf_counter() - t0
    label = ", ".join(Path(p).name for p in paths)
    rep.log_id = _write_log(store, started, "sgs", label, rep, rep.message())
    return rep


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
    if not tickers and interval == "1d":  # futures series have no daily online source here
        futures = set(store.tickers("future"))
        tickers = [t for t in store.tickers() if t not in futures]
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
