"""Validation of parsed import data: which instruments a whole-market file brings in, and
the row rules of :mod:`core.data.imports` (module docstring there), vectorised over tickers.

Part of the import facade :mod:`core.data.imports` (which re-exports these names).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.data.calendar import non_sessions
from core.data.schema import BAR_COLUMNS
from core.data.sources.base import ParsedData
from core.data.store import Store
from core.data.tickers import is_valid_ticker, validate_ticker
from core.errors import DataFormatError, InputError

__all__ = [
    "OHLC_TOLERANCE",
    "WHOLE_MARKET_FORMATS",
    "select_instruments",
    "validate_parsed",
]


#: Largest OHLC breach (fraction of the close) repaired instead of rejected.
OHLC_TOLERANCE = 0.01

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
