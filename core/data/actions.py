"""Corporate actions and the adjusted close (Yahoo's multiplicative method).

Kinds and the meaning of ``value``
----------------------------------
``split``, ``reverse_split``, ``bonus``
    Shares after / shares before, on the ex-date: ``2.0`` for a 2-for-1 split, ``0.1`` for a
    10-to-1 reverse split (grupamento), ``1.1`` for 10% bonus shares (bonificação).
``dividend``, ``jcp``
    Gross cash in R$ per share **as paid** (not adjusted for later splits), on the ex-date.
    JCP (juros sobre capital próprio) is treated like a dividend, as Yahoo does.
``price_factor``
    A price-only adjustment: the factor a vendor (Yahoo) applied to all earlier prices for
    an event that changes no share count (subscription rights, a capital increase), as
    ``new basis / old basis``. It enters the adjusted series like a split but is never
    applied to positions, and :func:`load_actions` leaves it out unless asked (the engine's
    contract is the five kinds above).

Every stored bar is as traded; its ``adj_close`` is *derived* (:func:`recompute_adj_close`)
from the traded close and these actions, whichever source delivered the bar.

Method (Yahoo Finance / CRSP multiplicative adjustment)
-------------------------------------------------------
For a bar on date ``t`` the adjusted close is::

    adj_close_t = close_t * S_t * D_t
    S_t = prod over split-like events e with ex_date_e > t of 1 / ratio_e
    D_t = prod over cash events e with ex_date_e > t of (1 - cash_e / P_e)

where ``P_e`` is the as-traded close of the last bar before ``ex_date_e`` and cash paid on
the same ex-date (a dividend and JCP together) counts as one event with the summed amount,
as Yahoo reports one amount per ex-date. The newest bar
is never changed (``adj_close == close`` after the last event), so adjusted returns equal
total returns: ``adj_close_t / adj_close_{t-1} = (close_t + cash_t) / close_{t-1}`` on a
dividend ex-date (with split-consistent closes). Reference: Yahoo's help page "Adjusted
close" (CRSP method) and CRSP's "Cumulative factor to adjust prices".

When ``close`` is already split-adjusted (Yahoo's ``Close``), pass
``close_is_split_adjusted=True``: only the dividend factor is applied, and the ratio
``cash / P`` is taken on the as-paid basis (``P`` divided back by its split factor).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from core.data.import_models import CorporateAction
from core.data.store import Store
from core.errors import InputError

__all__ = [
    "ACTION_KINDS",
    "PRICE_FACTOR",
    "STORED_KINDS",
    "SPLIT_KINDS",
    "CASH_KINDS",
    "AS_TRADED_SOURCES",
    "validate_actions",
    "adjustment_factors",
    "adjusted_close",
    "read_actions_csv",
    "write_actions",
    "load_actions",
    "recompute_adj_close",
    "implied_dividends",
    "tickers_with_actions",
    "split_adjusted",
]

SPLIT_KINDS: tuple[str, ...] = ("split", "reverse_split", "bonus")
CASH_KINDS: tuple[str, ...] = ("dividend", "jcp")
#: The corporate-action kinds of the shared contract (what :func:`load_actions` returns).
ACTION_KINDS: tuple[str, ...] = SPLIT_KINDS + CASH_KINDS
#: Price-only adjustment kind (module docstring).
PRICE_FACTOR = "price_factor"
#: Every kind accepted in the corporate-actions table.
STORED_KINDS: tuple[str, ...] = ACTION_KINDS + (PRICE_FACTOR,)
#: Kept for compatibility: every source is stored as traded now, so every row's
#: ``adj_close`` is derived from the actions.
AS_TRADED_SOURCES: tuple[str, ...] = (
    "cotahist",
    "profit",
    "mt5",
    "investing",
    "csv",
    "yahoo",
    "bundled",
)

_ACT = CorporateAction.__table__


def validate_actions(actions: pd.DataFrame) -> pd.DataFrame:
    """Check a corporate-actions frame and return it normalised.

    Parameters
    ----------
    actions : pandas.DataFrame
        Columns ``date`` (ex-date), ``kind`` (:data:`ACTION_KINDS`), ``value`` (see the module
        docstring) and optionally ``ticker``.

    Returns
    -------
    pandas.DataFrame
        Sorted by date, ``date`` as datetime64 (normalised), ``value`` float.

    Raises
    ------
    InputError
        Unknown kind, non-positive ratio or cash, missing column.
    """
    miss = [c for c in ("date", "kind", "value") if c not in actions.columns]
    if miss:
        raise InputError(f"Eventos corporativos sem as colunas: {', '.join(miss)}.")
    out = actions.copy()
    out["date"] = (
        pd.to_datetime(out["date"]).dt.tz_localize(None).dt.normalize()
        if (getattr(pd.to_datetime(out["date"]).dt, "tz", None) is not None)
        else pd.to_datetime(out["date"]).dt.normalize()
    )
    out["kind"] = out["kind"].astype(str).str.strip().str.lower()
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    bad_kind = ~out["kind"].isin(STORED_KINDS)
    if bad_kind.any():
        raise InputError(
            f"Tipo de evento desconhecido: {out.loc[bad_kind, 'kind'].iloc[0]!r} "
            f"(use {', '.join(STORED_KINDS)})."
        )
    if (out["value"].isna() | (out["value"] <= 0)).any():
        raise InputError("Valores de eventos corporativos devem ser positivos.")
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def adjustment_factors(
    dates: pd.DatetimeIndex,
    close: np.ndarray,
    actions: pd.DataFrame,
    *,
    close_is_split_adjusted: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Split and cash adjustment factors per bar (module docstring, ``S_t`` and ``D_t``).

    Parameters
    ----------
    dates : DatetimeIndex, shape (n,)
        Sorted bar dates.
    close : ndarray, shape (n,)
        Closes in R$ (as traded, or split-adjusted when ``close_is_split_adjusted``).
    actions : pandas.DataFrame
        Columns ``date, kind, value`` of one instrument.

    Returns
    -------
    (ndarray, ndarray)
        ``S`` and ``D``, each shape (n,), in (0, inf) and (0, 1] respectively.
    """
    n = len(dates)
    S = np.ones(n)
    D = np.ones(n)
    if n == 0 or actions is None or len(actions) == 0:
        return S, D
    acts = validate_actions(actions)
    d8 = np.asarray(pd.DatetimeIndex(dates).as_unit("ns").asi8)  # pandas 3: often [us]
    close = np.asarray(close, dtype="float64")
    # split factor: product of 1/ratio over events strictly after t
    split = acts[acts["kind"].isin(SPLIT_KINDS + (PRICE_FACTOR,))]
    for ex, ratio in zip(split["date"], split["value"]):
        S[d8 < ex.as_unit("ns").value] /= ratio
    raw = close if not close_is_split_adjusted else close / S
    cash = acts[acts["kind"].isin(CASH_KINDS)]
    cash = cash.groupby("date", as_index=False)["value"].sum()
    for ex, amount in zip(cash["date"], cash["value"]):
        before = np.flatnonzero(d8 < ex.as_unit("ns").value)
        if len(before) == 0:
            continue
        p = raw[before[-1]]
        if not np.isfinite(p) or p <= amount:
            continue  # a cash amount at or above the price cannot be a dividend: ignore
        D[: before[-1] + 1] *= 1.0 - amount / p
    return S, D


def adjusted_close(
    bars: pd.DataFrame, actions: pd.DataFrame | None, *, close_is_split_adjusted: bool = False
) -> pd.Series:
    """Yahoo-style adjusted close of canonical ``bars`` given their corporate actions.

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical bars (column ``close`` in R$).
    actions : pandas.DataFrame or None
        ``date, kind, value`` of this instrument (see the module docstring).
    close_is_split_adjusted : bool
        True for Yahoo's ``Close`` (already split-adjusted); False for COTAHIST.

    Returns
    -------
    pandas.Series
        ``close * S * D`` (R$), same index as ``bars``, named ``adj_close``.
    """
    close = bars["close"].to_numpy(dtype="float64")
    if actions is None or len(actions) == 0:
        return pd.Series(close, index=bars.index, name="adj_close")
    S, D = adjustment_factors(
        bars.index, close, actions, close_is_split_adjusted=close_is_split_adjusted
    )
    factor = D if close_is_split_adjusted else S * D
    return pd.Series(close * factor, index=bars.index, name="adj_close")


def split_adjusted(bars: pd.DataFrame, actions: pd.DataFrame | None) -> pd.DataFrame:
    """Traded bars put on today's share basis (splits, bonus, price factors; no dividends).

    Parameters
    ----------
    bars : pandas.DataFrame
        Canonical traded bars of one instrument.
    actions : pandas.DataFrame or None
        ``date, kind, value`` of that instrument (any kinds; cash is ignored).

    Returns
    -------
    pandas.DataFrame
        Same shape: open/high/low/close × ``S_t`` and volume / ``S_t``; ``adj_close`` as is.
        What a 52-week range or a price change across a split must be computed on.
    """
    if actions is None or len(actions) == 0 or bars.empty:
        return bars
    acts = actions[actions["kind"].isin(SPLIT_KINDS + (PRICE_FACTOR,))]
    if len(acts) == 0:
        return bars
    S, _ = adjustment_factors(bars.index, bars["close"].to_numpy(), acts[["date", "kind", "value"]])
    out = bars.copy()
    for c in ("open", "high", "low", "close"):
        out[c] = bars[c].to_numpy() * S
    out["volume"] = bars["volume"].to_numpy() / S
    return out


def implied_dividends(bars: pd.DataFrame, *, tol: float = 1e-5) -> pd.DataFrame:
    """Recover the cash events implied by a Yahoo ``Adj Close`` / ``Close`` pair.

    Inverse of :func:`adjusted_close` with split-adjusted closes: where the ratio
    ``r_t = adj_close_t / close_t`` jumps, ``cash = P_{t-1} * (1 - r_{t-1} / r_t)``.
    Used to check our method against Yahoo's own numbers.

    Returns
    -------
    pandas.DataFrame
        ``date, kind ('dividend'), value`` (R$ per share on the split-adjusted basis).
    """
    r = (bars["adj_close"] / bars["close"]).to_numpy()
    c = bars["close"].to_numpy()
    rel = r[:-1] / r[1:]
    idx = np.flatnonzero(np.abs(rel - 1.0) > tol) + 1
    vals = c[idx - 1] * (1.0 - rel[idx - 1])
    keep = vals > 0
    return pd.DataFrame({"date": bars.index[idx][keep], "kind": "dividend", "value": vals[keep]})


def read_actions_csv(path, *, ticker: str | None = None) -> pd.DataFrame:
    """Read corporate actions from a CSV ``ticker,date,kind,value`` (ISO dates).

    ``ticker`` fills a missing ticker column. Raises :class:`InputError` on a bad row.
    """
    df = pd.read_csv(path, dtype=str)
    df.columns = [c.strip().lower() for c in df.columns]
    if "ticker" not in df.columns:
        if not ticker:
            raise InputError("Arquivo de eventos sem coluna 'ticker': informe o ticker.")
        df["ticker"] = ticker
    df["ticker"] = df["ticker"].str.strip().str.upper()
    try:
        df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    except (ValueError, KeyError) as exc:
        raise InputError(f"Arquivo de eventos: data inválida ({exc}); use AAAA-MM-DD.") from exc
    return validate_actions(df)[["ticker", "date", "kind", "value"]]


def write_actions(
    store: Store,
    actions: pd.DataFrame,
    source: str,
    *,
    conn: Connection | None = None,
    recompute: bool = True,
) -> int:
    """Upsert corporate actions (``ticker, date, kind, value``); returns rows written.

    Instruments must exist. Re-writing the same events changes nothing. Cash events of one
    ticker and ex-date replace the cash events another source stored for that date (a B3
    proventos file that says "jcp" replaces the "dividend" inferred from Yahoo's ratio
    instead of being added to it). The adjusted close of every ticker whose actions
    changed is derived again (:func:`recompute_adj_close`) unless ``recompute`` is False.

    Raises
    ------
    InputError
        Bad kind or value (:func:`validate_actions`), or a ticker that is not stored.
    """
    if actions is None or len(actions) == 0:
        return 0
    acts = validate_actions(actions)
    n = 0
    changed: list[str] = []
    with store._conn(conn) as c:
        for t, grp in acts.groupby("ticker"):
            iid = store.instrument(t, conn=c)["id"]
            rows = c.execute(
                select(_ACT.c.id, _ACT.c.date, _ACT.c.kind, _ACT.c.value, _ACT.c.source).where(
                    _ACT.c.instrument_id == iid
                )
            ).all()
            have = {(pd.Timestamp(d), k): (rid, v) for rid, d, k, v, _ in rows}
            n0 = n
            cash_dates = {
                pd.Timestamp(d) for d, k in zip(grp["date"], grp["kind"]) if k in CASH_KINDS
            }
            for rid, d, k, _, src in rows:  # another source's cash on the same ex-date
                if k in CASH_KINDS and src != source and pd.Timestamp(d) in cash_dates:
                    c.execute(_ACT.delete().where(_ACT.c.id == rid))
                    have.pop((pd.Timestamp(d), k), None)
                    n += 1
            for r in grp.itertuples(index=False):
                key = (pd.Timestamp(r.date), r.kind)
                if key not in have:
                    c.execute(
                        _ACT.insert().values(
                            instrument_id=iid,
                            date=key[0].to_pydatetime(),
                            kind=r.kind,
                            value=float(r.value),
                            source=source,
                        )
                    )
                    have[key] = (None, float(r.value))
                    n += 1
                elif not np.isclose(have[key][1], r.value, rtol=1e-12):
                    c.execute(
                        _ACT.update()
                        .where(_ACT.c.id == have[key][0])
                        .values(value=float(r.value), source=source)
                    )
                    n += 1
            if n > n0:
                changed.append(str(t))
        if recompute:
            for t in changed:
                recompute_adj_close(store, t, conn=c)
    return n


def load_actions(
    store: Store,
    tickers: Sequence[str] | None = None,
    *,
    conn: Connection | None = None,
    include_price_factors: bool = False,
) -> pd.DataFrame:
    """Stored corporate actions.

    Parameters
    ----------
    store : Store
    tickers : sequence of str, optional
        Default: every instrument.
    include_price_factors : bool
        Also return ``price_factor`` rows (price-only adjustments; see the module
        docstring). The default returns exactly the contract kinds :data:`ACTION_KINDS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``ticker, date, kind, value, source``, sorted by ticker and date; ``value``
        is shares after / shares before for split kinds and gross R$ per share as paid for
        ``dividend``/``jcp``.
    """
    if conn is None:  # outside a write transaction: the store's read cache
        names = None if not tickers else tuple(sorted({t.upper() for t in tickers}))
        key = ("actions.load_actions", names, include_price_factors)
        return store.cached(key, lambda: _load_actions(store, names, None, include_price_factors))
    return _load_actions(store, tickers, conn, include_price_factors)


def _load_actions(
    store: Store,
    tickers: Sequence[str] | None,
    conn: Connection | None,
    include_price_factors: bool,
) -> pd.DataFrame:
    from core.data.models import Instrument

    i = Instrument.__table__.c
    q = select(i.ticker, _ACT.c.date, _ACT.c.kind, _ACT.c.value, _ACT.c.source).join(
        Instrument.__table__, i.id == _ACT.c.instrument_id
    )
    if tickers:
        q = q.where(i.ticker.in_([t.upper() for t in tickers]))
    if not include_price_factors:
        q = q.where(_ACT.c.kind.in_(ACTION_KINDS))
    with store._read(conn) as c:
        rows = c.execute(q.order_by(i.ticker, _ACT.c.date)).all()
    df = pd.DataFrame.from_records(rows, columns=["ticker", "date", "kind", "value", "source"])
    df["date"] = pd.to_datetime(df["date"])
    return df


def tickers_with_actions(store: Store, *, conn: Connection | None = None) -> set[str]:
    """Tickers that have at least one stored action (of any kind)."""
    from core.data.models import Instrument

    i = Instrument.__table__.c
    q = (
        select(i.ticker)
        .select_from(_ACT.join(Instrument.__table__, i.id == _ACT.c.instrument_id))
        .distinct()
    )
    with store._read(conn) as c:
        return {r[0] for r in c.execute(q)}


def recompute_adj_close(
    store: Store, ticker: str, *, interval: str = "1d", conn: Connection | None = None
) -> int:
    """Derive ``adj_close`` of every stored bar of ``ticker`` from its traded close and actions.

    ``adj_close = close * S * D`` (module docstring), for every row whatever its source, so
    two sources that agree on the traded price give the same adjusted price. Returns the
    number of rows changed.
    """
    from sqlalchemy import bindparam

    from core.data.models import Bar

    b = Bar.__table__
    with store._conn(conn) as c:
        iid = store.instrument(ticker, conn=c)["id"]
        acts = load_actions(store, [ticker], conn=c, include_price_factors=True)
        rows = c.execute(
            select(b.c.date, b.c.close, b.c.adj_close)
            .where(b.c.instrument_id == iid, b.c.interval == interval)
            .order_by(b.c.date)
        ).all()
        if not rows:
            return 0
        z = list(zip(*rows))
        idx = pd.DatetimeIndex(np.asarray(z[0], dtype="datetime64[ns]"), name="date")
        close = np.asarray(z[1], dtype="float64")
        stored = np.asarray(z[2], dtype="float64")
        S, D = adjustment_factors(idx.normalize(), close, acts)
        new = close * S * D
        change = ~np.isclose(new, stored, rtol=1e-12, atol=0)
        if not change.any():
            return 0
        stmt = (
            b.update()
            .where(
                b.c.instrument_id == iid, b.c.interval == interval, b.c.date == bindparam("k_date")
            )
            .values(adj_close=bindparam("v"))
        )
        c.execute(
            stmt,
            [
                {"k_date": d.to_pydatetime(), "v": float(v)}
                for d, v in zip(idx[change], new[change])
            ],
        )
        return int(change.sum())
