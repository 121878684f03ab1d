"""The Mercado watchlist ("Minha lista"): the tickers a trader follows, stored in the database.

Local mode has one list (table ``watchlist``, revision 0006), which is also the team's list in
team mode (the CLI's and the bundled data's). In team mode each user has a list of their own
(table ``user_watchlists``, revision 0017), selected by ``owner`` (the user name):

* a user who never edited a list sees the team's list (so a new trader starts from the desk's);
* the first add/remove copies the list shown into the user's own list and edits that copy;
  nobody else's list changes. A user who removes every ticker sees the team's list again.

Every function takes ``owner: str | None = None``: None = the team / local list.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from core.data.import_models import UserWatchlistItem, WatchlistItem
from core.data.models import Instrument
from core.data.store import Store
from core.data.tickers import validate_ticker
from core.ownership import check_owner

__all__ = ["watchlist", "set_watchlist", "add_to_watchlist", "remove_from_watchlist"]

_W = WatchlistItem.__table__
_U = UserWatchlistItem.__table__
_I = Instrument.__table__


def _own(conn, owner: str) -> list[str]:
    q = (
        select(_I.c.ticker)
        .select_from(_U.join(_I, _I.c.id == _U.c.instrument_id))
        .where(_U.c.owner == owner)
        .order_by(_U.c.position, _I.c.ticker)
    )
    return [r[0] for r in conn.execute(q)]


def watchlist(store: Store, *, owner: str | None = None) -> list[str]:
    """The watchlist's tickers in order (empty list when none was set).

    Parameters
    ----------
    store : Store
    owner : str, optional
        A user name: that user's own list, or the team's while the user has none. None = the
        team's (local mode's) list.
    """
    owner = check_owner(owner)
    with store.engine.connect() as conn:
        if owner is not None:
            mine = _own(conn, owner)
            if mine:
                return mine
        q = (
            select(_I.c.ticker)
            .select_from(_W.join(_I, _I.c.id == _W.c.instrument_id))
            .order_by(_W.c.position, _I.c.ticker)
        )
        return [r[0] for r in conn.execute(q)]


def set_watchlist(
    store: Store, tickers: Sequence[str], *, conn=None, owner: str | None = None
) -> list[str]:
    """Replace the watchlist of ``owner`` (None = the team's) with ``tickers`` in this order.

    Raises
    ------
    InputError
        A malformed ticker or owner.
    UnknownTickerError
        A ticker that is not stored.
    """
    owner = check_owner(owner)
    uniq = list(dict.fromkeys(validate_ticker(t) for t in tickers))
    with store._conn(conn) as c:
        ids = [store.instrument(t, conn=c)["id"] for t in uniq]
        if owner is None:
            c.execute(_W.delete())
            if ids:
                c.execute(
                    _W.insert(), [{"instrument_id": i, "position": k} for k, i in enumerate(ids)]
                )
        else:
            c.execute(_U.delete().where(_U.c.owner == owner))
            if ids:
                c.execute(
                    _U.insert(),
                    [
                        {"owner": owner, "instrument_id": i, "position": k}
                        for k, i in enumerate(ids)
                    ],
                )
    return uniq


def add_to_watchlist(
    store: Store, tickers: Sequence[str], *, owner: str | None = None
) -> list[str]:
    """Append ``tickers`` to ``owner``'s watchlist (already listed ones keep their place)."""
    return set_watchlist(store, [*watchlist(store, owner=owner), *tickers], owner=owner)


def remove_from_watchlist(
    store: Store, tickers: Sequence[str], *, owner: str | None = None
) -> list[str]:
    """Remove ``tickers`` from ``owner``'s watchlist."""
    drop = {validate_ticker(t) for t in tickers}
    return set_watchlist(
        store, [t for t in watchlist(store, owner=owner) if t not in drop], owner=owner
    )
