"""Importing market data into the store: all or nothing, idempotent, logged.

The one facade behind the Data page, the CLI (``import``, ``update``) and the scheduled
update:

* :func:`parse_file` reads any supported file (format detected or forced) into
  :class:`~core.data.sources.base.ParsedData`;
* :func:`import_files` parses every file, validates every row, then writes everything in
  **one transaction** (a bad file anywhere means nothing is written) and logs the run;
* :func:`update_prices` fetches what is missing since each ticker's last stored date from
  an online source (Yahoo, MetaTrader 5) through the same write path.

The facade's parts: parsing in :mod:`core.data.import_parse`, validation in
:mod:`core.data.import_validate`, the log and source priorities in
:mod:`core.data.import_records`; writing (one bar-upsert path, :mod:`core.data.upsert`) and
the run itself here. Every public name is importable from this module.

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
from core.data.import_models import ImportLog

# parse, validate, log: one facade (these names are part of this module's public API)
from core.data.import_parse import (
    FORMATS,
    cotahist_kind,
    detect_file_format,
    parse_file,
    preview_file,
)
from core.data.import_records import import_log, set_source_priority, source_priority
from core.data.import_validate import (
    OHLC_TOLERANCE,
    WHOLE_MARKET_FORMATS,
    select_instruments,
    validate_parsed,
)
from core.data.models import DEFAULT_LOT, Instrument, default_volume_unit
from core.data.sources.base import OnlineSource, ParsedData
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

#: Attempts of the write transaction when another writer collides (SQLite).
_WRITE_ATTEMPTS = 4
_INST = Instrument.__table__
_LOG = ImportLog.__table__


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
    store: Store,
    started: dt.datetime,
    source: str,
    file: str,
    rep: ImportReport,
    message: str,
    conn: Connection | None = None,
) -> int | None:
    """Insert the import-log row; None when it could not be written.

    With ``conn`` the row joins that transaction (a savepoint: a failed log insert is
    rolled back alone and the import still commits; a successful import and its log row
    then commit together, with one disk sync instead of two).
    """
    row = {
        "started_at": started,
        "source": source[:32],
        "file": file[:512],
        "instruments": rep.instruments,
        "inserted": rep.inserted,
        "updated": rep.updated,
        "unchanged": rep.unchanged,
        "rejected": rep.rejected,
        "duration_s": float(rep.seconds),
        "status": rep.status,
        "message": message[:4000],
    }
    try:
        if conn is None:
            with store.transaction() as c:
                key = c.execute(_LOG.insert().values(**row)).inserted_primary_key
        else:
            with conn.begin_nested():
                key = conn.execute(_LOG.insert().values(**row)).inserted_primary_key
        return None if key is None else int(key[0])
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
                    rep.instruments = len(written)
                    rep.tickers = written
                    rep.seconds = time.perf_counter() - t0
                    rep.log_id = _write_log(
                        store, started, source_label, file_label, rep, rep.message(), conn
                    )
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
