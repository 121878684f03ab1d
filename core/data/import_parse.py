"""Parsing of import files: format detection and every reader behind one :func:`parse_file`.

Part of the import facade :mod:`core.data.imports` (which re-exports these names): parse
here, validate in :mod:`core.data.import_validate`, write and log in :mod:`core.data.imports`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from core.data import actions as actions_mod
from core.data.intraday import (
    INTRADAY_FORMATS,
    detect_intraday_format,
    finish_intraday,
    read_intraday_file,
)
from core.data.models import DEFAULT_LOT
from core.data.sources.base import ParsedData
from core.data.sources.cotahist import (
    MARKET_FRACTIONAL,
    MARKET_SPOT,
    CotahistFilter,
    is_cotahist,
    iter_cotahist,
)
from core.data.sources.csvfile import EXPECTED_LAYOUTS, detect_format, read_csv_bars
from core.errors import DataFormatError, InputError

__all__ = [
    "FORMATS",
    "detect_file_format",
    "cotahist_kind",
    "parse_file",
    "preview_file",
]


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
