"""Mercado's named watchlists: the lists of tickers a trader follows, stored in the database.

A trader keeps several lists ("Minha lista", "Bancos", "Day trade" ...), each a name and an
ordered list of tickers (tables ``watchlists`` and ``watchlist_entries``, revision 0018, which
moved the single "Minha lista" of earlier versions into a list of that name).

Ownership follows :mod:`core.ownership`: a list has an ``owner`` (NULL = the team's list, the
only kind in local mode and the CLI's; a user name = that user's own list in team mode). Every
function takes ``owner: str | None = None``:

* ``owner=None`` works on the team's lists;
* a user sees their own lists **and** the team's (:func:`core.ownership.visible`); an own list
  hides the team's list of the same name;
* a user changes only their own lists (:func:`core.ownership.owned`). Editing the tickers of a
  team list the user sees copies it into an own list of the same name and edits the copy
  (so a new trader starts from the desk's lists and nobody else's list changes); an own copy
  emptied of every ticker is removed, and the team's list shows again. Renaming or deleting a
  team list is refused to a user (an admin or the CLI does it with ``owner=None``).

Names: 1-40 characters, stripped, unique per owner; compared as typed (case-sensitive).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import DateTime, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from core.data.models import Base, Instrument
from core.data.store import Store
from core.data.tickers import validate_ticker
from core.errors import InputError
from core.ownership import check_owner, same_owner, visible

__all__ = [
    "DEFAULT_LIST",
    "MAX_NAME_LEN",
    "Watchlist",
    "WatchlistRow",
    "WatchlistEntry",
    "watchlist",
    "set_watchlist",
    "add_to_watchlist",
    "remove_from_watchlist",
    "list_watchlists",
    "get_watchlist",
    "create_watchlist",
    "rename_watchlist",
    "delete_watchlist",
]

#: The list every store has (the team's), and the one Mercado shows by default.
DEFAULT_LIST = "Minha lista"
#: Longest list name.
MAX_NAME_LEN = 40


class WatchlistRow(Base):
    """One named watchlist (revision 0018)."""

    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, nullable=False, server_default=func.current_timestamp()
    )


class WatchlistEntry(Base):
    """One ticker of a named watchlist, at ``position`` (revision 0018)."""

    __tablename__ = "watchlist_entries"

    watchlist_id: Mapped[int] = mapped_column(
        ForeignKey("watchlists.id", ondelete="CASCADE"), primary_key=True
    )
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


_L = WatchlistRow.__table__
_E = WatchlistEntry.__table__
_I = Instrument.__table__


@dataclass(frozen=True)
class Watchlist:
    """A named watchlist as a user sees it.

    Attributes
    ----------
    name : str
    owner : str or None
        None = the team's list (shared with everyone, read-only to users in team mode).
    tickers : tuple of str
        In the list's order.
    """

    name: str
    owner: str | None
    tickers: tuple[str, ...]


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InputError("Dê um nome à lista.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_LEN:
        raise InputError(
            f"Nome da lista longo demais ({len(name)} caracteres; máximo {MAX_NAME_LEN})."
        )
    return name


def _rows(conn, owner: str | None) -> list:
    """``(id, name, owner)`` of the lists ``owner`` sees (own ones hide team ones of a name)."""
    where = same_owner(_L.c.owner, None) if owner is None else visible(_L.c.owner, owner)
    rows = conn.execute(
        select(_L.c.id, _L.c.name, _L.c.owner).where(where).order_by(_L.c.created_at, _L.c.id)
    ).all()
    own = {r.name for r in rows if r.owner is not None}
    shown = [r for r in rows if r.owner is not None or r.name not in own]
    return sorted(shown, key=lambda r: (r.name != DEFAULT_LIST, r.name.casefold()))


def _tickers(conn, list_id: int) -> tuple[str, ...]:
    q = (
        select(_I.c.ticker)
        .select_from(_E.join(_I, _I.c.id == _E.c.instrument_id))
        .where(_E.c.watchlist_id == list_id)
        .order_by(_E.c.position, _I.c.ticker)
    )
    return tuple(r[0] for r in conn.execute(q))


def _find(conn, name: str, owner: str | None):
    for r in _rows(conn, owner):
        if r.name == name:
            return r
    return None


def _not_found(name: str) -> InputError:
    return InputError(f"Lista {name!r} não encontrada.")


def list_watchlists(store: Store, *, owner: str | None = None) -> list[Watchlist]:
    """The watchlists ``owner`` sees: :data:`DEFAULT_LIST` first, then by name.

    Parameters
    ----------
    store : Store
    owner : str, optional
        A user name: that user's lists and the team's (an own list hides the team's list of
        the same name). None = the team's lists.

    Returns
    -------
    list of Watchlist

    Notes
    -----
    Mercado reads them several times per render: served from the store's read cache
    (scopes ``watchlists`` and ``market`` — the tickers come from ``instruments``) until a
    write to one of those tables (issue 15, load).
    """
    owner = check_owner(owner)
    return store.cached(
        ("core.data.watchlist.list_watchlists", owner),
        lambda: _list_watchlists(store, owner),
        scope=("watchlists", "market"),
    )


def _list_watchlists(store: Store, owner: str | None) -> list[Watchlist]:
    with store.engine.connect() as conn:
        return [Watchlist(r.name, r.owner, _tickers(conn, r.id)) for r in _rows(conn, owner)]


def get_watchlist(store: Store, name: str, *, owner: str | None = None) -> Watchlist:
    """One watchlist by name, as ``owner`` sees it.

    Raises
    ------
    InputError
        No such list visible to ``owner`` (another user's list answers the same).
    """
    owner, name = check_owner(owner), _check_name(name)
    with store.engine.connect() as conn:
        r = _find(conn, name, owner)
        if r is None:
            raise _not_found(name)
        return Watchlist(r.name, r.owner, _tickers(conn, r.id))


def _write_entries(conn, store: Store, list_id: int, tickers: Sequence[str]) -> list[str]:
    uniq = list(dict.fromkeys(validate_ticker(t) for t in tickers))
    ids = [store.instrument(t, conn=conn)["id"] for t in uniq]
    conn.execute(_E.delete().where(_E.c.watchlist_id == list_id))
    if ids:
        conn.execute(
            _E.insert(),
            [
                {"watchlist_id": list_id, "instrument_id": i, "position": k}
                for k, i in enumerate(ids)
            ],
        )
    return uniq


def create_watchlist(
    store: Store, name: str, tickers: Sequence[str] = (), *, owner: str | None = None
) -> Watchlist:
    """Create a list ``name`` of ``owner`` (None = the team's) holding ``tickers``.

    Raises
    ------
    InputError
        An empty or over-long name, a name ``owner`` already has, a malformed ticker or owner.
    UnknownTickerError
        A ticker that is not stored.
    """
    owner, name = check_owner(owner), _check_name(name)
    with store.transaction() as conn:
        exists = conn.execute(
            select(_L.c.id).where(same_owner(_L.c.owner, owner), _L.c.name == name)
        ).first()
        if exists is not None:
            raise InputError(f"Já existe uma lista chamada {name!r}.")
        list_id = conn.execute(_L.insert().values(name=name, owner=owner)).inserted_primary_key[0]
        uniq = _write_entries(conn, store, list_id, tickers)
    return Watchlist(name, owner, tuple(uniq))


def rename_watchlist(
    store: Store, name: str, new_name: str, *, owner: str | None = None
) -> Watchlist:
    """Rename ``owner``'s list ``name`` to ``new_name``.

    Raises
    ------
    InputError
        No such list of ``owner``'s own (a user cannot rename the team's lists), or
        ``new_name`` empty, over-long or already taken.
    """
    owner, name, new_name = check_owner(owner), _check_name(name), _check_name(new_name)
    with store.transaction() as conn:
        row = _find(conn, name, owner)
        if row is None:
            raise _not_found(name)
        if row.owner != owner:
            raise InputError(f"A lista {name!r} é da equipe: só um administrador a renomeia.")
        if new_name != name:
            taken = conn.execute(
                select(_L.c.id).where(same_owner(_L.c.owner, owner), _L.c.name == new_name)
            ).first()
            if taken is not None:
                raise InputError(f"Já existe uma lista chamada {new_name!r}.")
            conn.execute(_L.update().where(_L.c.id == row.id).values(name=new_name))
        return Watchlist(new_name, owner, _tickers(conn, row.id))


def delete_watchlist(store: Store, name: str, *, owner: str | None = None) -> None:
    """Delete ``owner``'s list ``name`` (its tickers stay in the store).

    Raises
    ------
    InputError
        No such list of ``owner``'s own (a user cannot delete the team's lists).
    """
    owner, name = check_owner(owner), _check_name(name)
    with store.transaction() as conn:
        row = _find(conn, name, owner)
        if row is None:
            raise _not_found(name)
        if row.owner != owner:
            raise InputError(f"A lista {name!r} é da equipe: só um administrador a exclui.")
        conn.execute(_E.delete().where(_E.c.watchlist_id == row.id))
        conn.execute(_L.delete().where(_L.c.id == row.id))


def watchlist(store: Store, *, owner: str | None = None, name: str = DEFAULT_LIST) -> list[str]:
    """The tickers of list ``name`` in order (empty when no such list exists).

    Parameters
    ----------
    store : Store
    owner : str, optional
        A user name: that user's own list ``name``, else the team's. None = the team's.
    name : str
        The list (default :data:`DEFAULT_LIST`).
    """
    owner, name = check_owner(owner), _check_name(name)
    with store.engine.connect() as conn:
        r = _find(conn, name, owner)
        return list(_tickers(conn, r.id)) if r is not None else []


def set_watchlist(
    store: Store,
    tickers: Sequence[str],
    *,
    conn=None,
    owner: str | None = None,
    name: str = DEFAULT_LIST,
) -> list[str]:
    """Replace the tickers of ``owner``'s list ``name`` with ``tickers`` in this order.

    The list is created when ``owner`` has none of that name (a user editing a team list gets
    an own copy, see the module doc); a user's copy emptied of every ticker is removed when the
    team has a list of that name.

    Returns
    -------
    list of str
        The tickers stored (validated, duplicates removed).

    Raises
    ------
    InputError
        A malformed ticker, owner or name.
    UnknownTickerError
        A ticker that is not stored.
    """
    owner, name = check_owner(owner), _check_name(name)
    with store._conn(conn) as c:
        row = c.execute(
            select(_L.c.id).where(same_owner(_L.c.owner, owner), _L.c.name == name)
        ).first()
        if row is None:
            list_id = c.execute(_L.insert().values(name=name, owner=owner)).inserted_primary_key[0]
        else:
            list_id = row.id
        uniq = _write_entries(c, store, list_id, tickers)
        if owner is not None and not uniq:
            team = c.execute(select(_L.c.id).where(_L.c.owner.is_(None), _L.c.name == name)).first()
            if team is not None:
                c.execute(_L.delete().where(_L.c.id == list_id))
    return uniq


def add_to_watchlist(
    store: Store, tickers: Sequence[str], *, owner: str | None = None, name: str = DEFAULT_LIST
) -> list[str]:
    """Append ``tickers`` to ``owner``'s list ``name`` (listed ones keep their place)."""
    current = watchlist(store, owner=owner, name=name)
    return set_watchlist(store, [*current, *tickers], owner=owner, name=name)


def remove_from_watchlist(
    store: Store, tickers: Sequence[str], *, owner: str | None = None, name: str = DEFAULT_LIST
) -> list[str]:
    """Remove ``tickers`` from ``owner``'s list ``name``."""
    drop = {validate_ticker(t) for t in tickers}
    current = watchlist(store, owner=owner, name=name)
    return set_watchlist(store, [t for t in current if t not in drop], owner=owner, name=name)
