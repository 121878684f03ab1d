"""Intraday bars: interval names, B3 session hours and the intraday file layouts.

Intervals
---------
:data:`INTRADAY_INTERVALS` are ``1min, 5min, 15min, 30min, 60min``; daily bars are ``1d``
and weekly/monthly candles (``1w``, ``1mo``) are derived from daily bars
(:mod:`core.data.resample`). The older names ``5m`` and ``1h`` (online sources) are
accepted as aliases by :func:`normalize_interval`.

Every intraday bar is labelled by its **opening minute** in America/Sao_Paulo wall time
(tz-naive), as the canonical frame says (:mod:`core.data.schema`).

Session hours
-------------
A bar must open on a B3 session (exchange_calendars ``"BVMF"``) and inside the session's
hours: :data:`SESSION_WINDOWS` per instrument kind — futures 09:00 to 18:30 (the WIN/WDO
session has run 09:00-18:00/18:25 depending on B3's daylight-saving schedule, see the
bundled file's ``SOURCES.md``), everything else 09:45 (pre-opening) to 18:30. On sessions
with a late open in the calendar (Ash Wednesday opens at 13:00) nothing may open before
that time. A bar outside is an error naming its file line — most often an export in the
broker server's or UTC time instead of Brasília time.

File layouts
------------
``intraday``
    ``Data;Open;High;Low;Close[;Candle][;Volume]`` (``;``-separated, optional UTF-8 BOM),
    ``Data`` as ``dd/mm/yyyy HH:MM``, any row order (the bundled WINFUT file is newest
    first); ``Candle`` (bar number within the session) is ignored; no volume means 0.
``mt5bars``
    MetaTrader 5 "Export Bars": tab-separated ``<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE>
    <TICKVOL> <VOL> <SPREAD>``, dates ``yyyy.mm.dd``, times ``HH:MM[:SS]`` in the server's
    time (B3 brokers run it in Brasília time); without ``<TIME>`` the file is daily. The
    canonical volume is ``<VOL>`` (real volume: contracts or shares); ``<TICKVOL>`` counts
    price changes, not quantity, and is not used. UTF-16 files (as some terminals write
    them) are read too.
``profit`` (intraday)
    ProfitChart's export ``Ativo;Data;Hora;Abertura;Máxima;Mínima;Fechamento;Volume;
    Quantidade`` is read by :mod:`core.data.sources.csvfile`; :func:`finish_intraday`
    then names its interval and checks its sessions like the two layouts above.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.schema import BAR_COLUMNS
from core.data.sources.base import ParsedData
from core.errors import DataFormatError, InputError

__all__ = [
    "INTRADAY_INTERVALS",
    "INTERVAL_MINUTES",
    "INTRADAY_FORMATS",
    "SESSION_WINDOWS",
    "normalize_interval",
    "is_intraday",
    "infer_interval",
    "check_sessions",
    "detect_intraday_format",
    "read_intraday_text",
    "read_intraday_file",
    "finish_intraday",
]

#: Intraday intervals the store holds (bars labelled by their opening minute).
INTRADAY_INTERVALS: tuple[str, ...] = ("1min", "5min", "15min", "30min", "60min")
#: Minutes per intraday interval.
INTERVAL_MINUTES: dict[str, int] = {"1min": 1, "5min": 5, "15min": 15, "30min": 30, "60min": 60}
#: File formats of this module (detected by :func:`detect_intraday_format`).
INTRADAY_FORMATS: tuple[str, ...] = ("intraday", "mt5bars")
#: Opening-minute window ``[start, end)`` of a bar, by instrument kind (None = any other).
SESSION_WINDOWS: dict[str | None, tuple[dt.time, dt.time]] = {
    "future": (dt.time(9, 0), dt.time(18, 30)),
    None: (dt.time(9, 45), dt.time(18, 30)),
}

_ALIASES = {
    "1m": "1min",
    "5m": "5min",
    "15m": "15min",
    "30m": "30min",
    "60m": "60min",
    "1h": "60min",
    "d": "1d",
    "1d": "1d",
    "daily": "1d",
    "w": "1w",
    "s": "1w",
    "1w": "1w",
    "1wk": "1w",
    "m": "1mo",
    "1mo": "1mo",
    "1mes": "1mo",
}
_ALL = (*INTRADAY_INTERVALS, "1d", "1w", "1mo")


def normalize_interval(interval: str) -> str:
    """The canonical interval name (``5m`` → ``5min``, ``1h`` → ``60min``, ``D`` → ``1d``).

    Raises
    ------
    InputError
        Unknown interval (pt-BR message listing the valid ones).
    """
    s = str(interval or "").strip()
    if s in _ALL:
        return s
    low = s.lower()
    if low in _ALL:
        return low
    if s == "M":  # pt-BR chart buttons: M = mensal
        return "1mo"
    if low in _ALIASES:
        return _ALIASES[low]
    raise InputError(f"Intervalo {interval!r} inválido (use {', '.join(_ALL)}).")


def is_intraday(interval: str) -> bool:
    """True for ``1min`` ... ``60min`` (and their aliases)."""
    return normalize_interval(interval) in INTRADAY_INTERVALS


def infer_interval(dates: pd.DatetimeIndex, fname: str = "arquivo") -> str:
    """The intraday interval of bars at ``dates`` (most common step inside a day).

    Raises
    ------
    DataFormatError
        When the step is not one of :data:`INTRADAY_INTERVALS`.
    """
    # sorted, not np.unique: repeated stamps give steps of 0, dropped below (and numpy 2's
    # hash-based unique is ~10x slower than a sort on 20.000 distinct stamps)
    d8 = np.sort(pd.DatetimeIndex(dates).as_unit("ns").asi8)
    if len(d8) < 2:
        return "5min"
    step = np.diff(d8)
    same_day = (d8[1:] // 86_400_000_000_000) == (d8[:-1] // 86_400_000_000_000)
    step = step[same_day & (step > 0)]
    if not len(step):
        return "5min"
    vals, counts = np.unique(step, return_counts=True)
    minutes = int(vals[np.argmax(counts)] // 60_000_000_000)
    for name, m in INTERVAL_MINUTES.items():
        if m == minutes:
            return name
    raise DataFormatError(
        f"barras de {minutes} minutos não são suportadas (use {', '.join(INTRADAY_INTERVALS)}).",
        fname,
    )


@lru_cache(maxsize=1)
def _late_opens() -> pd.Series:
    """Local opening time (minutes after midnight) of BVMF sessions opening after 10:00."""
    from core.data.calendar import b3_calendar

    opens = b3_calendar().opens
    local = opens.dt.tz_convert("America/Sao_Paulo") if opens.dt.tz else opens
    minutes = local.dt.hour * 60 + local.dt.minute
    late = minutes[minutes > 10 * 60]
    late.index = pd.DatetimeIndex(late.index).tz_localize(None).normalize().as_unit("ns")
    return late


def check_sessions(
    dates: pd.DatetimeIndex,
    lines: np.ndarray | None = None,
    fname: str = "arquivo",
    *,
    kind: str | None = None,
    interval: str = "5min",
    ticker: str = "",
) -> None:
    """Raise on the first intraday bar outside a B3 session or its hours.

    Parameters
    ----------
    dates : pandas.DatetimeIndex
        Opening minutes (America/Sao_Paulo wall time, tz-naive), any order.
    lines : numpy.ndarray of int, optional
        1-based file line of each bar (0 or missing = not from a file).
    kind : str, optional
        Instrument kind; selects the window of :data:`SESSION_WINDOWS`.
    interval : str
        The bars' interval; a bar must also open on its grid (a 5min bar at 10:03 is an
        error).

    Raises
    ------
    DataFormatError
        Naming the line of the earliest offending bar (in file order): a weekend or
        holiday, a bar before the opening or at/after the end of the window, or off the grid.
    """
    from core.data.calendar import b3_calendar, non_sessions

    d = pd.DatetimeIndex(dates).as_unit("ns")
    if len(d) == 0:
        return
    ln = np.zeros(len(d), dtype=np.int64) if lines is None else np.asarray(lines, dtype=np.int64)
    d8 = d.asi8
    day8 = d8 - d8 % 86_400_000_000_000
    minute = (d8 - day8) // 60_000_000_000
    bad = np.zeros(len(d), dtype=bool)
    why = np.empty(len(d), dtype=object)
    udays = np.unique(day8)
    cal = b3_calendar()
    lo = cal.first_session.tz_localize(None).value
    hi = cal.last_session.tz_localize(None).value
    outside = (udays < lo) | (udays > hi)
    if outside.any():
        k = int(np.flatnonzero(np.isin(day8, udays[outside]))[0])
        raise DataFormatError(
            f"{pd.Timestamp(d8[k]):%d/%m/%Y} está fora do calendário da B3 conhecido pelo Pregão.",
            fname,
            int(ln[k]) or None,
        )
    off = non_sessions(pd.DatetimeIndex(udays).as_unit("ns")).as_unit("ns").asi8
    if len(off):
        m = np.isin(day8, off)
        bad |= m
        why[m] = "não é um pregão da B3 (fim de semana ou feriado)"
    start_t, end_t = SESSION_WINDOWS.get(kind, SESSION_WINDOWS[None])
    start = np.full(len(d), start_t.hour * 60 + start_t.minute, dtype=np.int64)
    end = end_t.hour * 60 + end_t.minute
    late = _late_opens()
    if len(late):
        lmap = pd.Series(late.to_numpy(dtype=np.int64), index=late.index.asi8)
        late_here = lmap[lmap.index.isin(udays)]
        for day, mins in late_here.items():
            start[day8 == day] = np.maximum(start[day8 == day], int(mins))
    early = ~bad & (minute < start)
    why[early] = "antes da abertura do pregão"
    bad |= early
    after = ~bad & (minute >= end)
    why[after] = f"depois do fim do pregão ({end_t:%H:%M})"
    bad |= after
    step = INTERVAL_MINUTES.get(normalize_interval(interval), 1)
    grid = ~bad & (minute % step != 0)
    why[grid] = f"fora da grade de {step} minutos (a barra é rotulada pelo minuto de abertura)"
    bad |= grid
    if bad.any():
        idx = np.flatnonzero(bad)
        order = np.lexsort((d8[idx], np.where(ln[idx] > 0, ln[idx], np.iinfo(np.int64).max)))
        k = int(idx[order[0]])
        who = f" ({ticker})" if ticker else ""
        raise DataFormatError(
            f"barra de {pd.Timestamp(d8[k]):%d/%m/%Y %H:%M}{who} {why[k]}; horário aceito "
            f"{start_t:%H:%M}–{end_t:%H:%M} de Brasília"
            + (" (arquivo no horário do servidor ou em UTC?)" if (early | after)[k] else "")
            + ".",
            fname,
            int(ln[k]) or None,
        )


# -- layouts ------------------------------------------------------------------------------
_MT5_COLS = ["<DATE>", "<TIME>", "<OPEN>", "<HIGH>", "<LOW>", "<CLOSE>", "<TICKVOL>", "<VOL>"]


def _norm(s: str) -> str:
    return s.strip().strip('"').strip().lower()


def detect_intraday_format(text: str) -> str | None:
    """``intraday``, ``mt5bars`` or None, from the first line of a decoded file."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip("\r")
    if first.strip().upper().startswith("<DATE>"):
        return "mt5bars"
    cells = [_norm(c) for c in first.split(";")]
    if cells[:5] == ["data", "open", "high", "low", "close"]:
        return "intraday"
    return None


def _decode(raw: bytes) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read(text: str, sep: str, fname: str) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        df = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, skip_blank_lines=False, keep_default_na=False
        )
    except (pd.errors.ParserError, ValueError) as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise DataFormatError(
            f"arquivo malformado ({exc}).", fname, int(m.group(1)) if m else None
        ) from exc
    lines = np.arange(len(df), dtype=np.int64) + 2
    if len(df):
        blank = (df.iloc[:, 0].str.strip() == "").to_numpy() & (
            df.iloc[:, 1:].eq("").all(axis=1).to_numpy() if df.shape[1] > 1 else True
        )
        if blank.any():
            df, lines = df[~blank].reset_index(drop=True), lines[~blank]
    return df, lines


def _num(s: pd.Series, lines: np.ndarray, col: str, fname: str, *, comma: bool) -> np.ndarray:
    v = s.str.strip()
    if comma:
        v = v.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    out = pd.to_numeric(v, errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(out)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            f"valor não numérico na coluna {col!r}: {s.iloc[k]!r}.", fname, int(lines[k])
        )
    return out


def _when(s: pd.Series, lines: np.ndarray, fname: str, fmt: str) -> pd.DatetimeIndex:
    d = pd.to_datetime(s.str.strip(), format=fmt, errors="coerce")
    if d.isna().any():
        k = int(np.flatnonzero(d.isna().to_numpy())[0])
        raise DataFormatError(f"data/hora inválida: {s.iloc[k]!r}.", fname, int(lines[k]))
    return pd.DatetimeIndex(d.to_numpy(dtype="datetime64[ns]"), name="date")


def _parsed(fmt, fname, ticker, dates, o, h, lo, c, v, lines, interval=None) -> ParsedData:
    from core.data.futures import is_future_ticker

    order = np.argsort(dates.asi8, kind="stable")
    bars = pd.DataFrame(
        {
            "open": o[order],
            "high": h[order],
            "low": lo[order],
            "close": c[order],
            "adj_close": c[order],
            "volume": v[order],
            "line": lines[order],
        },
        index=dates[order],
    )
    out = ParsedData(
        file=fname,
        format=fmt,
        source=fmt,
        interval=interval or infer_interval(dates, fname),
        rows=len(bars),
    )
    out.bars[ticker] = bars[[*BAR_COLUMNS, "line"]]
    if is_future_ticker(ticker):
        out.kinds[ticker] = "future"
        out.lots[ticker] = 1
        out.volume_units[ticker] = "contracts"
    return out


def _ticker(ticker: str | None, fname: str, fmt: str) -> str:
    from core.data.futures import FUTURES

    t = (ticker or "").strip().upper()
    if not t:
        stem = Path(fname).name.split(".")[0].upper()
        head = re.split(r"[_\-\s]", stem)[0]
        m = re.fullmatch(r"([A-Z]{3})(?:\$N?|@N?|\$D)", head)  # MT5/Profit continuous names
        t = f"{m.group(1)}FUT" if m and m.group(1) in FUTURES else head
    if not t:
        raise DataFormatError(
            f"o arquivo ({fmt}) não diz de qual ativo são as barras: informe o ticker.", fname
        )
    return t


def _fast_dates(b: np.ndarray) -> np.ndarray | None:
    """``dd/mm/yyyy HH:MM`` as a ``(n, 16)`` uint8 matrix of characters → datetime64[ns]
    without strptime; None if any is odd (the caller then takes the line-checked path)."""
    if not len(b):
        return None
    seps = (b[:, 2] == 47) & (b[:, 5] == 47) & (b[:, 10] == 32) & (b[:, 13] == 58)
    dig = b[:, [0, 1, 3, 4, 6, 7, 8, 9, 11, 12, 14, 15]].astype(np.int64) - 48
    if not seps.all() or (dig < 0).any() or (dig > 9).any():
        return None
    day = dig[:, 0] * 10 + dig[:, 1]
    month = dig[:, 2] * 10 + dig[:, 3]
    year = dig[:, 4] * 1000 + dig[:, 5] * 100 + dig[:, 6] * 10 + dig[:, 7]
    hour, minute = dig[:, 8] * 10 + dig[:, 9], dig[:, 10] * 10 + dig[:, 11]
    if ((month < 1) | (month > 12) | (day < 1) | (hour > 23) | (minute > 59)).any():
        return None
    mon = (year - 1970) * 12 + month - 1
    out = mon.astype("datetime64[M]").astype("datetime64[D]") + (day - 1).astype("timedelta64[D]")
    if (out.astype("datetime64[M]").astype(np.int64) != mon).any():  # 31/02 and the like
        return None
    return out.astype("datetime64[ns]") + (hour * 60 + minute).astype("timedelta64[m]").astype(
        "timedelta64[ns]"
    )


def _fast_numbers(raw: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray | None:
    """Plain decimals (``106930``, ``5.25``) in ``raw[start:end]`` per row → float64, exact
    (the digits as an integer below 2**53 divided by a power of ten: correctly rounded, as
    ``strtod``); None for anything else – a sign, a comma, a space, an empty field, more
    than 15 digits – which the caller leaves to the C parser."""
    w = end - start
    if not len(w) or (w < 1).any() or (w > 16).any():
        return None
    width, narrow = int(w.max()), int(w.min())
    acc = np.zeros(len(w), dtype=np.int64)  # the digits as one integer (Horner, left to right)
    frac = np.zeros(len(w), dtype=np.int64)  # digits after the point
    seen = np.zeros(len(w), dtype=bool)  # the point already passed
    bad = np.zeros(len(w), dtype=bool)
    for col in range(width):  # right-aligned: column `col` of every field, one vector each
        at = end - width + col
        if width - col <= narrow:  # inside every field
            ch = raw[at].astype(np.int64)
        else:  # left padding reads as "0"
            ch = np.where(at >= start, raw[np.maximum(at, 0)], 48).astype(np.int64)
        d = ch - 48
        point = d == -2
        bad |= ((d < 0) | (d > 9)) & ~point | (point & seen)
        acc = np.where(point, acc, acc * 10 + d)
        frac += seen & ~point
        seen |= point
    n_digits = w - seen
    if bad.any() or (n_digits < 1).any() or (n_digits > 15).any():
        return None
    return acc / 10.0**frac


def _fast_intraday(body: str, name: str, ticker: str) -> ParsedData | None:
    """The common case of the ``intraday`` layout, vectorised over the bytes (None = use the
    slow, line-naming path: blank lines, decimal commas, a bad value or date, a line with
    too many or too few fields).

    Every line starts with its 16-character ``dd/mm/yyyy HH:MM`` and has as many ``;`` as
    the header: dates and plain numbers are read straight from the bytes (no Python string
    per line); numbers of any other shape go through pandas' C parser.
    """
    header = body.split("\n", 1)[0].rstrip("\r")
    cols = [_norm(c) for c in header.split(";")]
    need = ["open", "high", "low", "close"]
    if cols[:1] != ["data"] or any(c not in cols for c in need) or len(set(cols)) < len(cols):
        return None
    nums = need + (["volume"] if "volume" in cols else [])
    raw = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    nl = np.flatnonzero(raw == 10)
    if not len(nl):
        return None
    starts = nl + 1
    ends = np.r_[nl[1:], len(raw)]
    if starts[-1] == len(raw):  # the final newline
        starts, ends = starts[:-1], ends[:-1]
    ends = ends - (raw[np.maximum(ends - 1, 0)] == 13)  # CRLF
    # (a blank line is too short: the line-checked path reports it)
    if not len(starts) or (ends - starts < 17).any() or (raw[starts + 16] != 59).any():
        return None
    semi = np.flatnonzero(raw == 59)
    k = len(cols) - 1
    per_line = np.searchsorted(semi, ends) - np.searchsorted(semi, starts)
    if (per_line != k).any() or len(semi) != (len(starts) + 1) * k:
        return None
    grid = semi.reshape(-1, k)[1:]  # the separators of each data line (header row dropped)
    values: dict[str, np.ndarray] = {}
    for c in nums:
        j = cols.index(c)
        got = _fast_numbers(raw, grid[:, j - 1] + 1, grid[:, j] if j < k else ends)
        if got is None:
            break
        values[c] = got
    if len(values) < len(nums):  # numbers of another shape: pandas' C parser
        try:
            df = pd.read_csv(
                io.StringIO(body), sep=";", usecols=[cols.index(c) for c in nums], engine="c"
            )
        except (pd.errors.ParserError, ValueError):
            return None
        df.columns = [_norm(c) for c in df.columns]
        if len(df) != len(starts) or any(df[c].dtype.kind not in "if" for c in nums):
            return None
        if df[nums].isna().to_numpy().any():
            return None
        values = {c: df[c].to_numpy(dtype="float64") for c in nums}
    d = _fast_dates(raw[starts[:, None] + np.arange(16)])
    if d is None:
        return None
    n = len(starts)
    ln = np.arange(n, dtype=np.int64) + 2
    v = values["volume"] if "volume" in values else np.zeros(n)
    o, h, lo, cl = (values[x] for x in need)
    return _parsed("intraday", name, ticker, pd.DatetimeIndex(d, name="date"), o, h, lo, cl, v, ln)


def read_intraday_text(
    text: str, fmt: str, *, ticker: str | None = None, name: str = "arquivo"
) -> ParsedData:
    """Parse an ``intraday`` or ``mt5bars`` file's text (layouts: module docstring).

    Parameters
    ----------
    text : str
        The decoded file.
    fmt : {"intraday", "mt5bars"}
    ticker : str, optional
        The instrument; default from the file name (``WINFUT_5min_...csv`` → ``WINFUT``,
        ``WIN$N_M5.csv`` → ``WINFUT``).
    name : str
        File name shown in errors.

    Returns
    -------
    ParsedData
        One ticker's bars sorted by date with their file lines; ``interval`` inferred
        (:func:`infer_interval`); futures get kind ``future``, lot 1. Session hours are
        checked by :func:`finish_intraday`.

    Raises
    ------
    DataFormatError
        Missing columns, a non-numeric price or an invalid date (file and line named).
    """
    body = text.lstrip("\ufeff")
    t = _ticker(ticker, name, fmt)
    if fmt == "intraday":
        fast = _fast_intraday(body, name, t)
        if fast is not None:
            return fast
        df, ln = _read(body, ";", name)
        df.columns = [_norm(c) for c in df.columns]
        miss = [c for c in ("data", "open", "high", "low", "close") if c not in df.columns]
        if miss:
            raise DataFormatError(f"colunas ausentes: {', '.join(miss)}.", name, 1)
        dates = _when(df["data"], ln, name, "%d/%m/%Y %H:%M")
        comma = bool(df["close"].str.contains(",", regex=False).any())
        px = [
            _num(df[k], ln, k.capitalize(), name, comma=comma)
            for k in ("open", "high", "low", "close")
        ]
        v = (
            _num(df["volume"], ln, "Volume", name, comma=comma)
            if "volume" in df.columns
            else np.zeros(len(df))
        )
        o, h, lo, c = px
        return _parsed("intraday", name, t, dates, o, h, lo, c, v, ln)
    if fmt == "mt5bars":
        df, ln = _read(body, "\t", name)
        df.columns = [c.strip().upper() for c in df.columns]
        need = [c for c in _MT5_COLS if c != "<TIME>"]
        miss = [c for c in need if c not in df.columns]
        if miss:
            raise DataFormatError(
                f"exportação do MetaTrader 5 sem as colunas {' '.join(miss)}.", name, 1
            )
        if "<TIME>" in df.columns:
            stamp = df["<DATE>"].str.strip() + " " + df["<TIME>"].str.strip().str.slice(0, 5)
            dates = _when(stamp, ln, name, "%Y.%m.%d %H:%M")
            interval = None
        else:
            dates = _when(df["<DATE>"], ln, name, "%Y.%m.%d")
            interval = "1d"
        px = [
            _num(df[f"<{k}>"], ln, f"<{k}>", name, comma=False)
            for k in ("OPEN", "HIGH", "LOW", "CLOSE")
        ]
        v = _num(df["<VOL>"], ln, "<VOL>", name, comma=False)
        o, h, lo, c = px
        return _parsed("mt5bars", name, t, dates, o, h, lo, c, v, ln, interval)
    raise InputError(f"Formato intradiário {fmt!r} desconhecido (use {INTRADAY_FORMATS}).")


def read_intraday_file(
    path: str | Path, fmt: str = "auto", *, ticker: str | None = None, name: str | None = None
) -> ParsedData:
    """Read an intraday file (plain or gzip) and check its sessions.

    Parameters
    ----------
    path : str or Path
    fmt : {"auto", "intraday", "mt5bars"}
    ticker, name : str, optional
        See :func:`read_intraday_text`.

    Returns
    -------
    ParsedData
        As :func:`read_intraday_text`, after :func:`finish_intraday`.

    Raises
    ------
    DataFormatError
        Unknown layout, a bad line, or a bar outside a B3 session or its hours.
    """
    p = Path(path)
    fname = name or p.name
    raw = p.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        import gzip

        raw = gzip.decompress(raw)
    text = _decode(raw)
    if fmt == "auto":
        fmt = detect_intraday_format(text) or ""
        if not fmt:
            raise DataFormatError("layout intradiário desconhecido.", fname, 1)
    return finish_intraday(read_intraday_text(text, fmt, ticker=ticker, name=fname))


def finish_intraday(parsed: ParsedData) -> ParsedData:
    """Name the interval of an intraday :class:`ParsedData` and check its sessions.

    The interval becomes one of :data:`INTRADAY_INTERVALS` (``5m`` → ``5min``); futures
    tickers (``WINFUT``, ``WINJ22``) get kind ``future`` and lot 1; every bar is checked
    with :func:`check_sessions`. Daily data is returned unchanged.

    Raises
    ------
    DataFormatError
        A bar outside a B3 session or its hours (file and line named).
    """
    from core.data.futures import is_future_ticker

    if parsed.interval == "1d":
        return parsed
    items = list(parsed.bars.items())
    if not items:
        return parsed
    all_dates = pd.DatetimeIndex(
        np.concatenate([b.index.as_unit("ns").asi8 for _, b in items])
    ).as_unit("ns")
    parsed.interval = (
        parsed.interval
        if parsed.interval in INTRADAY_INTERVALS
        else infer_interval(all_dates, parsed.file)
    )
    for t, b in items:
        if is_future_ticker(t):
            parsed.kinds[t] = "future"
            parsed.lots[t] = 1
        check_sessions(
            b.index,
            b["line"].to_numpy() if "line" in b else None,
            parsed.file,
            kind=parsed.kinds.get(t),
            interval=parsed.interval,
            ticker=t,
        )
    return parsed
