"""The Mercado watchlist ("Minha lista"): the tickers a trader follows, stored in the database.

One list per database (local mode has one user; in team mode the list is shared by the
desk). Stored in table ``watchlist`` (revision 0006) in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from core.data.import_models import WatchlistItem
from core.data.models import Instrument
from core.data.store import Store
from core.data.tickers import validate_ticker

__all__ = ["watchlist", "set_watchlist", "add_to_watchlist", "remove_from_watchlist"]

_W = WatchlistItem.__table__
_I = Instrument.__table__


def watchlist(store: Store) -> list[str]:
    """The watchlist's tickers in order (empty list when none was set)."""
    q = (
        select(_I.c.ticker)
        .select_from(_W.join(_I, _I.c.id == _W.c.instrument_id))
        .order_by(_W.c.position, _I.c.ticker)
    )
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(q)]


def set_watchlist(store: Store, tickers: Sequence[str], *, conn=None) -> list[str]:
    """Replace the watchlist with ``tickers`` (stored instruments, in this order).

    Raises
    ------
    InputError
        A malformed ticker.
    UnknownTickerError
        A ticker that is not stored.
    """
    uniq = list(dict.fromkeys(validate_ticker(t) for t in tickers))
    with store._conn(conn) as c:
        ids = [store.instrument(t, conn=c)["id"] for t in uniq]
        c.execute(_W.delete())
        if ids:
            c.execute(_W.insert(), [{"instrument_id": i, "position": k} for k, i in enumerate(ids)])
    return uniq


def add_to_watchlist(store: Store, tickers: Sequence[str]) -> list[str]:
    """Append ``tickers`` to the watchlist (already listed ones keep their place)."""
    return set_watchlist(store, [*watchlist(store), *tickers])


def remove_from_watchlist(store: Store, tickers: Sequence[str]) -> list[str]:
    """Remove ``tickers`` from the watchlist."""
    drop = {validate_ticker(t) for t in tickers}
    return set_watchlist(store, [t for t in watchlist(store) if t not in drop])
