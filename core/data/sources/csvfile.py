"""CSV market-data files: Yahoo/yfinance, investing.com (pt-BR), ProfitChart and mapped CSV.

Formats (auto-detected from the first lines; :func:`read_csv_bars` takes an override)
------------------------------------------------------------------------------------
``yahoo``
    ``Date,Open,High,Low,Close[,Adj Close],Volume[,Dividends,Stock Splits]`` (any column
    order), or yfinance's three-line multi-index header (``Price,...`` / ``Ticker,...`` /
    ``Date,,,``). Dates may carry a time and a UTC offset
    (``2024-01-02 00:00:00-03:00``): daily bars keep the local date. ``Adj Close`` missing
    means ``adj_close = close``. ``Dividends`` (R$ per share) and ``Stock Splits`` (ratio,
    0 = none) become corporate actions.
``investing``
    investing.com's Portuguese export: UTF-8 BOM, ``"Data","Último","Abertura","Máxima",
    "Mínima","Vol.","Var%"``, dates ``dd.mm.yyyy``, newest first, ``.`` for thousands and
    ``,`` for decimals (``"133.382"``, ``"29,10"``), volume with suffixes (``"10,07B"``,
    ``"1,28M"``, ``"850,5K"``).
``profit``
    ProfitChart (Nelogica) export: ``;``-separated, decimal comma, dates ``dd/mm/yyyy``,
    fields ``Ativo;Data[;Hora];Abertura;Máxima;Mínima;Fechamento;Volume;Quantidade`` with or
    without that header line. ``Volume`` is the financial volume (R$) and ``Quantidade`` the
    number of shares, which becomes the canonical volume.
``csv``
    Any delimited file whose columns the user maps (:class:`ColumnMapping`).

An unknown layout raises :class:`core.errors.DataFormatError` listing what was expected.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.data.schema import BAR_COLUMNS
from core.data.sources.base import ACTION_COLUMNS, ParsedData
from core.errors import DataFormatError

__all__ = [
    "CSV_FORMATS",
    "EXPECTED_LAYOUTS",
    "ColumnMapping",
    "detect_format",
    "read_csv_bars",
    "ticker_from_filename",
    "sniff_text",
]

#: Formats :func:`read_csv_bars` understands.
CSV_FORMATS: tuple[str, ...] = ("yahoo", "investing", "profit", "planilha", "csv")

#: What an unknown layout is compared with (shown to the user).
EXPECTED_LAYOUTS = (
    "COTAHIST da B3 (registros de 245 posições); "
    "Yahoo/yfinance (Date,Open,High,Low,Close[,Adj Close],Volume); "
    'investing.com ("Data","Último","Abertura","Máxima","Mínima","Vol.","Var%"); '
    "ProfitChart (Ativo;Data;Abertura;Máxima;Mínima;Fechamento;Volume;Quantidade); "
    "planilha brasileira (Data;Abertura;Máxima;Mínima;Fechamento;Volume, com ';', "
    "vírgula decimal e dd/mm/aaaa); "
    "eventos corporativos (ticker,date,kind,value); "
    "ou um CSV genérico com as colunas mapeadas (formato csv)"
)

_TICKER_RE = re.compile(r"(?<![A-Z0-9])([A-Z][A-Z0-9]{3}\d{1,2}F?|\^[A-Z]+)(?![A-Z0-9])")
_INVESTING_COLS = ["Data", "Último", "Abertura", "Máxima", "Mínima", "Vol.", "Var%"]
_PROFIT_COLS = [
    "ativo",
    "data",
    "abertura",
    "máxima",
    "mínima",
    "fechamento",
    "volume",
    "quantidade",
]


@dataclass
class ColumnMapping:
    """How to read a generic CSV: the file column holding each canonical field.

    Parameters
    ----------
    date, close : str
        Required column names.
    open, high, low, adj_close, volume, ticker : str or None
        Optional columns (OHLC default to the close, ``adj_close`` to the close, volume to
        0, ticker to the ``ticker`` argument of :func:`read_csv_bars`).
    sep : str or None
        Delimiter; None sniffs it.
    decimal : str
        ``"."`` or ``","``.
    dayfirst : bool
        Dates written day first (``25/06/2021``).
    date_format : str or None
        Explicit strptime format; overrides ``dayfirst``.
    """

    date: str = "date"
    close: str = "close"
    open: str | None = None
    high: str | None = None
    low: str | None = None
    adj_close: str | None = None
    volume: str | None = None
    ticker: str | None = None
    sep: str | None = None
    decimal: str = "."
    dayfirst: bool = False
    date_format: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> ColumnMapping:
        """Build from a plain dict (e.g. from the Data page); unknown keys are ignored."""
        keys = {f for f in cls.__dataclass_fields__ if f != "extra"}
        values: dict[str, Any] = {
            k: (v or None) if k not in ("decimal", "dayfirst") else v
            for k, v in d.items()
            if k in keys
        }
        return cls(**values)


def sniff_text(path: str | Path, n_bytes: int = 8192) -> str:
    """The first ``n_bytes`` of a text file decoded (UTF-8 with BOM, else Latin-1)."""
    raw = _open_bytes(path)[:n_bytes]
    if b"\x00" in raw:
        raise DataFormatError(
            "arquivo binário (contém bytes nulos); esperado um arquivo de texto. Formatos "
            f"aceitos: {EXPECTED_LAYOUTS}.",
            Path(path).name,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _open_bytes(path: str | Path) -> bytes:
    p = Path(path)
    data = p.read_bytes()
    if data[:2] == b"\x1f\x8b":
        import gzip

        data = gzip.decompress(data)
    return data


def _read_text(path: str | Path) -> str:
    raw = _open_bytes(path)
    if b"\x00" in raw[:65536]:
        raise DataFormatError(
            "arquivo binário (contém bytes nulos); esperado um arquivo de texto. Formatos "
            f"aceitos: {EXPECTED_LAYOUTS}.",
            Path(path).name,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _norm(s: str) -> str:
    return s.strip().strip('"').strip().lower()


def detect_format(text: str) -> str | None:
    """Guess the CSV format from the first lines of ``text`` (None when unknown).

    Returns one of ``yahoo``, ``investing``, ``profit`` or None.
    """
    lines = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()][:3]
    if not lines:
        return None
    first = lines[0]
    cells = [_norm(c) for c in re.split(r"[,;\t]", first)]
    comma = [_norm(c) for c in first.split(",")]  # investing.com writes commas, never ';'
    if comma[:2] == ["data", "último"] or (
        "último" in comma and "abertura" in comma and "vol." in comma
    ):
        return "investing"
    if cells and cells[0] in ("date", "datetime", "price") and "close" in cells:
        return "yahoo"
    if ";" in first:
        semi = [_norm(c) for c in first.split(";")]
        if semi[:2] == ["ativo", "data"]:
            return "profit"
        if len(semi) in (8, 9) and re.fullmatch(r"\d{2}/\d{2}/\d{4}", semi[1] or ""):
            return "profit"
        if _planilha_columns(semi) is not None:
            return "planilha"
    return None


#: Header names of the Brazilian spreadsheet layout (normalised, accents kept and removed).
_PLANILHA_NAMES: dict[str, tuple[str, ...]] = {
    "date": ("data", "date", "pregão", "pregao"),
    "open": ("abertura", "abert.", "abert"),
    "high": ("máxima", "maxima", "máx.", "max.", "máx", "max"),
    "low": ("mínima", "minima", "mín.", "min.", "mín", "min"),
    "close": ("fechamento", "fech.", "fech", "último", "ultimo", "últ.", "ult.", "cotação"),
    "shares": ("quantidade", "qtd.", "qtde", "qtd", "quant."),
    "volume": ("volume", "vol.", "vol", "volume (r$)", "volume financeiro"),
}


def _planilha_columns(cells: list[str]) -> dict[str, int] | None:
    """Map the fields of a Brazilian spreadsheet header to column positions (None if not one)."""
    pos: dict[str, int] = {}
    for k, c in enumerate(cells):
        for field_, names in _PLANILHA_NAMES.items():
            if c in names and field_ not in pos:
                pos[field_] = k
    if "date" not in pos or "close" not in pos:
        return None
    return pos


def ticker_from_filename(name: str) -> str | None:
    """A B3 ticker found in a file name (``PETR4.SA.csv`` -> ``PETR4``; IBOVESPA -> ^BVSP)."""
    stem = Path(name).name
    if "ibov" in stem.lower() or "bvsp" in stem.lower():
        return "^BVSP"
    m = _TICKER_RE.search(stem.upper())
    return m.group(1).upper() if m else None


def read_csv_bars(
    path: str | Path,
    fmt: str = "auto",
    *,
    ticker: str | None = None,
    mapping: ColumnMapping | dict | None = None,
    name: str | None = None,
) -> ParsedData:
    """Read one CSV file into canonical bars.

    Parameters
    ----------
    path : str or Path
        The file (optionally gzip-compressed).
    fmt : {"auto", "yahoo", "investing", "profit", "csv"}
        Format; ``auto`` detects it from the header.
    ticker : str, optional
        Ticker for files that do not name one (Yahoo without a ``Ticker`` row, investing,
        generic CSV); default: found in the file name (``PETR4.SA.csv``, ``...Ibovespa...``).
    mapping : ColumnMapping or dict, optional
        Required for ``csv``.
    name : str, optional
        Display name in messages (default: the file name).

    Returns
    -------
    ParsedData
        Bars per ticker with the file line of each row (duplicates kept for the importer to
        reject).

    Raises
    ------
    DataFormatError
        Empty or binary file, unknown layout (the message lists the expected ones), a value
        that is not a number or a date (with its line), no ticker to file the bars under.
    """
    path = Path(path)
    fname = name or path.name
    text = _read_text(path)
    if not text.strip():
        raise DataFormatError(f"arquivo vazio. Formatos aceitos: {EXPECTED_LAYOUTS}.", fname)
    if fmt == "auto":
        fmt = detect_format(text) or ""
        if not fmt:
            first = text.lstrip("\ufeff").splitlines()[0][:120]
            raise DataFormatError(
                f"layout desconhecido (cabeçalho {first!r}). Esperado: {EXPECTED_LAYOUTS}.",
                fname,
                1,
            )
    if fmt == "yahoo":
        return _read_yahoo(text, fname, ticker)
    if fmt == "investing":
        return _read_investing(text, fname, ticker)
    if fmt == "profit":
        return _read_profit(text, fname, ticker)
    if fmt == "planilha":
        return _read_planilha(text, fname, ticker)
    if fmt == "csv":
        if mapping is None:
            raise DataFormatError(
                "formato csv genérico: informe qual coluna é a data, o fechamento etc.", fname
            )
        if isinstance(mapping, dict):
            mapping = ColumnMapping.from_dict(mapping)
        return _read_mapped(text, fname, ticker, mapping)
    raise DataFormatError(f"formato {fmt!r} desconhecido (use {', '.join(CSV_FORMATS)}).", fname)


# -- helpers ------------------------------------------------------------------------------
def _frame(text: str, sep: str, header_lines: int, fname: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Read ``text`` as strings; returns the frame and each row's 1-based file line."""
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            skiprows=list(range(1, header_lines)) if header_lines > 1 else None,
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise DataFormatError(
            f"CSV malformado ({exc}).", fname, int(m.group(1)) if m else None
        ) from exc
    lines = np.arange(len(df), dtype=np.int64) + header_lines + 1
    blank = (
        (df.apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
        if len(df)
        else np.zeros(0, bool)
    )
    return df[~blank].reset_index(drop=True), lines[~blank]


def _numbers(
    values: pd.Series,
    lines: np.ndarray,
    col: str,
    fname: str,
    *,
    decimal: str = ".",
    thousands: str | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    s = values.astype(str).str.strip().str.strip('"')
    if thousands:
        s = s.str.replace(thousands, "", regex=False)
    if decimal != ".":
        s = s.str.replace(decimal, ".", regex=False)
    empty = s.isin(["", "-", "null", "nan", "NaN"])
    out = pd.to_numeric(s.where(~empty, "nan"), errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(out) & ~empty.to_numpy()
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"valor não numérico na coluna {col!r}: {values.iloc[k]!r}.", fname, int(lines[k])
        )
    if not allow_empty and empty.any():
        k = int(np.flatnonzero(empty.to_numpy())[0])
        raise DataFormatError(f"valor vazio na coluna {col!r}.", fname, int(lines[k]))
    return out


def _dates(
    values: pd.Series,
    lines: np.ndarray,
    fname: str,
    *,
    fmt: str | None = None,
    dayfirst: bool = False,
    intraday: bool = False,
) -> pd.DatetimeIndex:
    s = values.astype(str).str.strip().str.strip('"')
    if fmt is None and not intraday:
        # Daily bars: keep the local calendar date even when a time/offset follows.
        head = s.str.slice(0, 10)
        if head.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all():
            s, fmt = head, "%Y-%m-%d"
    try:
        if fmt is not None:
            d = pd.to_datetime(s, format=fmt, errors="coerce")
        else:
            d = pd.to_datetime(s, dayfirst=dayfirst, errors="coerce", utc=intraday or None)
    except (ValueError, TypeError):
        d = pd.Series(pd.NaT, index=s.index)
    d = pd.DatetimeIndex(d)
    if d.tz is not None:
        d = d.tz_convert("America/Sao_Paulo").tz_localize(None)
    if d.isna().any():
        k = int(np.flatnonzero(d.isna())[0])
        raise DataFormatError(f"data inválida: {values.iloc[k]!r}.", fname, int(lines[k]))
    return pd.DatetimeIndex(d.astype("datetime64[ns]"), name="date")


def _bars(dates, o, h, lo, c, adj, v, lines) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "open": o,
            "high": h,
            "low": lo,
            "close": c,
            "adj_close": adj,
            "volume": v,
            "line": lines.astype(np.int64),
        },
        index=dates,
    )
    df = df.iloc[np.argsort(df.index.asi8, kind="stable")]
    return df[[*BAR_COLUMNS, "line"]]


def _need_ticker(ticker: str | None, fname: str, fmt: str) -> str:
    t = (ticker or ticker_from_filename(fname) or "").strip().upper()
    if not t:
        raise DataFormatError(
            f"o arquivo ({fmt}) não diz de qual ativo são as cotações: informe o ticker "
            "(ou use um nome de arquivo como PETR4.SA.csv).",
            fname,
        )
    return t


# -- Yahoo --------------------------------------------------------------------------------
def _read_yahoo(text: str, fname: str, ticker: str | None) -> ParsedData:
    lines = text.lstrip("\ufeff").splitlines()
    second = lines[1].split(",") if len(lines) > 1 else [""]
    multi = second[0].strip() == "Ticker"
    if multi:
        hdr = [c.strip() for c in lines[0].split(",")]
        ticks = [c.strip() for c in second]
        df, ln = _frame(text.lstrip("\ufeff"), ",", 3, fname)
        df.columns = ["Date", *hdr[1:]][: len(df.columns)]
        file_tickers = sorted({t for t in ticks[1:] if t})
        if len(file_tickers) > 1:
            # several tickers side by side: keep the columns of each one
            out = ParsedData(file=fname, format="yahoo", source="yahoo")
            raw = pd.read_csv(
                io.StringIO(text.lstrip("\ufeff")),
                header=[0, 1],
                skiprows=[2],
                dtype=str,
                keep_default_na=False,
            )
            for yt in file_tickers:
                sub = raw.xs(yt, axis=1, level=1)
                sub.insert(0, "Date", raw.iloc[:, 0].to_numpy())
                part = _yahoo_frame(sub, ln[: len(sub)], fname, _from_yahoo_symbol(yt))
                _merge(out, part)
            return out
        t = ticker or (_from_yahoo_symbol(file_tickers[0]) if file_tickers else None)
        return _yahoo_frame(df, ln, fname, _need_ticker(t, fname, "yahoo"))
    df, ln = _frame(text.lstrip("\ufeff"), ",", 1, fname)
    df.columns = [c.strip() for c in df.columns]
    if "Datetime" in df.columns and "Date" not in df.columns:
        df = df.rename(columns={"Datetime": "Date"})
    if "Price" in df.columns and "Date" not in df.columns:
        df = df.rename(columns={"Price": "Date"})
    return _yahoo_frame(df, ln, fname, _need_ticker(ticker, fname, "yahoo"))


def _from_yahoo_symbol(sym: str) -> str:
    s = sym.strip().upper()
    return s[:-3] if s.endswith(".SA") else s


def _merge(out: ParsedData, part: ParsedData) -> None:
    out.bars.update(part.bars)
    out.kinds.update(part.kinds)
    out.rows += part.rows
    if part.actions is not None:
        out.actions = (
            part.actions if out.actions is None else pd.concat([out.actions, part.actions])
        )


def _yahoo_frame(df: pd.DataFrame, ln: np.ndarray, fname: str, ticker: str) -> ParsedData:
    need = ["Date", "Open", "High", "Low", "Close", "Volume"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise DataFormatError(
            f"arquivo Yahoo sem as colunas {', '.join(miss)}. Esperado: {EXPECTED_LAYOUTS}.",
            fname,
            1,
        )
    # Yahoo writes rows with every price empty for days it has no data: they are rejected
    # later as placeholders, so read them as NaN here.
    intraday = bool(
        df["Date"].astype(str).str.contains(r"\d{2}:\d{2}", regex=True).any()
    ) and not bool(df["Date"].astype(str).str.contains(r"00:00:00", regex=False).all())
    dates = _dates(df["Date"], ln, fname, intraday=intraday)
    num = {
        c: _numbers(df[c], ln, c, fname, allow_empty=True)
        for c in ("Open", "High", "Low", "Close", "Volume")
    }
    adj = (
        _numbers(df["Adj Close"], ln, "Adj Close", fname, allow_empty=True)
        if "Adj Close" in df
        else num["Close"]
    )
    bars = _bars(
        dates,
        num["Open"],
        num["High"],
        num["Low"],
        num["Close"],
        adj,
        np.nan_to_num(num["Volume"]),
        ln,
    )
    actions = []
    if "Dividends" in df.columns:
        dv = _numbers(df["Dividends"], ln, "Dividends", fname, allow_empty=True)
        for d, v in zip(dates[dv > 0], dv[dv > 0]):
            actions.append((ticker, d, "dividend", float(v)))
    if "Stock Splits" in df.columns:
        sp = _numbers(df["Stock Splits"], ln, "Stock Splits", fname, allow_empty=True)
        for d, v in zip(dates[(sp > 0) & (sp != 1)], sp[(sp > 0) & (sp != 1)]):
            actions.append((ticker, d, "split" if v > 1 else "reverse_split", float(v)))
    kind = "index" if ticker.startswith("^") else "stock"
    return ParsedData(
        file=fname,
        format="yahoo",
        source="yahoo",
        bars={ticker: bars},
        interval="1h" if intraday else "1d",
        kinds={ticker: kind},
        actions=pd.DataFrame(actions, columns=list(ACTION_COLUMNS)) if actions else None,
        rows=len(bars),
    )


# -- investing.com ------------------------------------------------------------------------
_SUFFIX = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def _investing_volume(values: pd.Series, ln: np.ndarray, fname: str) -> np.ndarray:
    s = values.astype(str).str.strip().str.strip('"')
    mult = s.str[-1:].map(_SUFFIX).fillna(1.0).to_numpy(dtype="float64")
    body = s.where(~s.str[-1:].isin(list(_SUFFIX)), s.str[:-1])
    num = _numbers(body, ln, "Vol.", fname, decimal=",", thousands=".", allow_empty=True)
    return np.nan_to_num(num) * mult


def _read_investing(text: str, fname: str, ticker: str | None) -> ParsedData:
    df, ln = _frame(text.lstrip("\ufeff"), ",", 1, fname)
    df.columns = [c.strip().strip('"') for c in df.columns]
    miss = [c for c in _INVESTING_COLS[:5] if c not in df.columns]
    if miss:
        raise DataFormatError(
            f"arquivo investing.com sem as colunas {', '.join(miss)}. Esperado: {EXPECTED_LAYOUTS}.",
            fname,
            1,
        )
    t = _need_ticker(ticker, fname, "investing")
    dates = _dates(df["Data"], ln, fname, fmt="%d.%m.%Y")
    kw: dict[str, Any] = {"decimal": ",", "thousands": "."}
    c = _numbers(df["Último"], ln, "Último", fname, **kw)
    o = _numbers(df["Abertura"], ln, "Abertura", fname, **kw)
    h = _numbers(df["Máxima"], ln, "Máxima", fname, **kw)
    lo = _numbers(df["Mínima"], ln, "Mínima", fname, **kw)
    v = _investing_volume(df["Vol."], ln, fname) if "Vol." in df else np.zeros(len(df))
    bars = _bars(dates, o, h, lo, c, c, v, ln)
    kind = "index" if t.startswith("^") else "stock"
    names = {t: "Índice Bovespa"} if t == "^BVSP" else {}
    return ParsedData(
        file=fname,
        format="investing",
        source="investing",
        bars={t: bars},
        kinds={t: kind},
        names=names,
        rows=len(bars),
        # investing.com's index "Vol." changes scale inside one file (2,79M in 2015 equals
        # Yahoo's figure; 8,02B in 2025 is Yahoo's x1000): its unit cannot be trusted
        volume_units={t: "unknown" if kind == "index" else "shares"},
    )


# -- Brazilian spreadsheet ----------------------------------------------------------------
def _read_planilha(text: str, fname: str, ticker: str | None) -> ParsedData:
    """``Data;Abertura;Máxima;Mínima;Fechamento;Volume`` with ``;``, decimal comma, dd/mm/aaaa.

    ``Quantidade`` (shares) becomes the volume; without it ``Volume``/``Vol.`` is taken as
    the financial volume in R$ (unit ``brl``, never mixed into a series in shares).
    ``Negócios`` (number of trades) is ignored. Missing open/high/low take the close.
    """
    body = text.lstrip("\ufeff")
    df, ln = _frame(body, ";", 1, fname)
    cells = [_norm(c) for c in df.columns]
    pos = _planilha_columns(cells)
    if pos is None:
        raise DataFormatError(
            f"planilha sem as colunas Data e Fechamento. Esperado: {EXPECTED_LAYOUTS}.", fname, 1
        )
    t = _need_ticker(ticker, fname, "planilha")
    col = {k: df.iloc[:, v] for k, v in pos.items()}
    dates = _dates(col["date"], ln, fname, fmt="%d/%m/%Y")
    kw: dict[str, Any] = {"decimal": ",", "thousands": "."}
    c = _numbers(col["close"], ln, df.columns[pos["close"]], fname, **kw)
    o, h, lo = (
        _numbers(col[k], ln, df.columns[pos[k]], fname, **kw) if k in col else c.copy()
        for k in ("open", "high", "low")
    )
    unit = "shares"
    if "shares" in col:
        v = _investing_volume(col["shares"], ln, fname)
    elif "volume" in col:
        v = _investing_volume(col["volume"], ln, fname)
        unit = "brl"
    else:
        v = np.zeros(len(df))
    bars = _bars(dates, o, h, lo, c, c, v, ln)
    kind = "index" if t.startswith("^") else "stock"
    return ParsedData(
        file=fname,
        format="planilha",
        source="csv",
        bars={t: bars},
        kinds={t: kind},
        rows=len(bars),
        volume_units={t: "points" if kind == "index" and unit == "shares" else unit},
    )


# -- ProfitChart --------------------------------------------------------------------------
def _read_profit(text: str, fname: str, ticker: str | None) -> ParsedData:
    body = text.lstrip("\ufeff")
    first = [_norm(c) for c in body.splitlines()[0].split(";")]
    has_header = first[:2] == ["ativo", "data"]
    df, ln = (
        _frame(body, ";", 1, fname)
        if has_header
        else _frame("\n".join([";".join(f"c{i}" for i in range(len(first))), body]), ";", 1, fname)
    )
    if not has_header:
        ln = ln - 1
        cols = _PROFIT_COLS if len(first) == 8 else [*_PROFIT_COLS[:2], "hora", *_PROFIT_COLS[2:]]
        if len(first) not in (8, 9):
            raise DataFormatError(
                f"exportação do ProfitChart com {len(first)} campos (esperado 8 ou 9: "
                "Ativo;Data[;Hora];Abertura;Máxima;Mínima;Fechamento;Volume;Quantidade).",
                fname,
                1,
            )
        df.columns = cols
    else:
        df.columns = [_norm(c) for c in df.columns]
    miss = [c for c in _PROFIT_COLS[1:6] if c not in df.columns]
    if miss:
        raise DataFormatError(
            f"exportação do ProfitChart sem as colunas {', '.join(miss)}.", fname, 1
        )
    intraday = "hora" in df.columns and bool((df["hora"].str.strip() != "").any())
    if intraday:
        stamp = df["data"].str.strip() + " " + df["hora"].str.strip()
        dates = _dates(
            stamp,
            ln,
            fname,
            fmt="%d/%m/%Y %H:%M:%S" if stamp.str.count(":").max() == 2 else "%d/%m/%Y %H:%M",
        )
    else:
        dates = _dates(df["data"], ln, fname, fmt="%d/%m/%Y")
    kw: dict[str, Any] = {"decimal": ",", "thousands": "."}
    o = _numbers(df["abertura"], ln, "Abertura", fname, **kw)
    h = _numbers(df["máxima"], ln, "Máxima", fname, **kw)
    lo = _numbers(df["mínima"], ln, "Mínima", fname, **kw)
    c = _numbers(df["fechamento"], ln, "Fechamento", fname, **kw)
    if "quantidade" in df.columns:
        v = np.nan_to_num(
            _numbers(df["quantidade"], ln, "Quantidade", fname, allow_empty=True, **kw)
        )
    else:
        v = np.zeros(len(df))
    tick = (
        df["ativo"].str.strip().str.upper()
        if "ativo" in df.columns
        else pd.Series([_need_ticker(ticker, fname, "profit")] * len(df))
    )
    if ticker:
        tick = pd.Series([ticker.strip().upper()] * len(df))
    out = ParsedData(
        file=fname,
        format="profit",
        source="profit",
        interval=_guess_interval(dates) if intraday else "1d",
        rows=len(df),
    )
    for t in dict.fromkeys(tick.tolist()):
        m = (tick == t).to_numpy()
        out.bars[t] = _bars(dates[m], o[m], h[m], lo[m], c[m], c[m], v[m], ln[m])
        out.kinds[t] = "index" if t.startswith("^") or t in ("IBOV", "WIN", "IND") else "stock"
    return out


def _guess_interval(dates: pd.DatetimeIndex) -> str:
    if len(dates) < 2:
        return "5m"
    step = pd.Series(np.diff(np.sort(dates.asi8))).replace(0, np.nan).dropna()
    return "1h" if len(step) and step.median() >= 3_600e9 else "5m"


# -- generic mapped CSV -------------------------------------------------------------------
def _read_mapped(text: str, fname: str, ticker: str | None, m: ColumnMapping) -> ParsedData:
    body = text.lstrip("\ufeff")
    sep = m.sep
    if not sep:
        try:
            sep = csv.Sniffer().sniff(body[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
    df, ln = _frame(body, sep, 1, fname)
    df.columns = [c.strip() for c in df.columns]
    wanted = {
        k: getattr(m, k)
        for k in ("date", "open", "high", "low", "close", "adj_close", "volume", "ticker")
    }
    miss = [f"{k}={v!r}" for k, v in wanted.items() if v and v not in df.columns]
    if miss:
        raise DataFormatError(
            f"colunas mapeadas não encontradas: {', '.join(miss)}; o arquivo tem "
            f"{', '.join(df.columns)}.",
            fname,
            1,
        )
    dates = _dates(df[m.date], ln, fname, fmt=m.date_format, dayfirst=m.dayfirst)
    kw: dict[str, Any] = {"decimal": m.decimal, "thousands": "." if m.decimal == "," else None}
    c = _numbers(df[m.close], ln, m.close, fname, **kw)
    col = {
        k: (_numbers(df[getattr(m, k)], ln, getattr(m, k), fname, **kw) if getattr(m, k) else c)
        for k in ("open", "high", "low", "adj_close")
    }
    v = (
        np.nan_to_num(_numbers(df[m.volume], ln, m.volume, fname, allow_empty=True, **kw))
        if m.volume
        else np.zeros(len(df))
    )
    if m.ticker:
        tick = df[m.ticker].str.strip().str.upper()
    else:
        tick = pd.Series([_need_ticker(ticker, fname, "csv")] * len(df))
    out = ParsedData(file=fname, format="csv", source="csv", rows=len(df))
    for t in dict.fromkeys(tick.tolist()):
        sel = (tick == t).to_numpy()
        out.bars[t] = _bars(
            dates[sel],
            col["open"][sel],
            col["high"][sel],
            col["low"][sel],
            c[sel],
            col["adj_close"][sel],
            v[sel],
            ln[sel],
        )
        out.kinds[t] = "index" if t.startswith("^") else "stock"
    return out
