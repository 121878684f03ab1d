"""Saved portfolios: name a set of weights and the parameters that produced them.

Later features (paper trading, rebalancing alerts) read them with :func:`load_portfolio`.

Ownership (:mod:`core.ownership`): each portfolio is stamped with its author's user name in
team mode (NULL = the team's); names are unique per owner (revision 0017). The ``owner``
argument of the readers is the *filter* (None = all; a name = own and team portfolios); of
:func:`save_portfolio` and :func:`delete_portfolio` it is the author.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from core.data.store import Store
from core.errors import InputError
from core.ownership import check_owner, owned, same_owner, visible
from core.portfolio.models import SavedPortfolio
from core.textfmt import pct

__all__ = ["save_portfolio", "list_portfolios", "load_portfolio", "delete_portfolio"]

_TABLE = SavedPortfolio.__table__


def _json_default(o):
    if isinstance(o, pd.Timestamp | dt.date):
        return o.isoformat()
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def save_portfolio(
    store: Store,
    name: str,
    weights: Mapping[str, float],
    parameters: Mapping | None = None,
    *,
    overwrite: bool = False,
    owner: str | None = None,
) -> dict:
    """Store a named portfolio.

    Parameters
    ----------
    store : Store
    name : str
        1–128 characters, unique.
    weights : mapping of str -> float
        Fractions; must sum to 1 (±1e-4). Zero weights are kept (the tickers list is the
        universe that was optimised).
    parameters : mapping, optional
        JSON-serialisable description (objective, estimators, window, bounds...).
    overwrite : bool
        Replace an existing portfolio of the same name and owner.
    owner : str, optional
        The author (team mode); None = a team portfolio. Names are unique per owner.

    Returns
    -------
    dict
        The saved record (see :func:`load_portfolio`).

    Raises
    ------
    InputError
        Empty or too long name, empty or non-finite weights, weights not summing to 1,
        or the name already exists and ``overwrite`` is False.
    """
    owner = check_owner(owner)
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise InputError("Dê um nome à carteira (1 a 128 caracteres).")
    w = {str(k).upper(): float(v) for k, v in dict(weights).items()}
    if not w or not all(math.isfinite(v) for v in w.values()):
        raise InputError("A carteira precisa de pesos numéricos.")
    if abs(sum(w.values()) - 1.0) > 1e-4:
        raise InputError(f"Os pesos somam {pct(sum(w.values()), 2)}; devem somar 100%.")
    row = {
        "name": name,
        "owner": owner,
        "tickers": json.dumps(list(w)),
        "weights": json.dumps(w),
        "parameters": json.dumps(dict(parameters or {}), default=_json_default),
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    }
    try:
        with store.transaction() as conn:
            if overwrite:
                conn.execute(
                    delete(_TABLE).where(_TABLE.c.name == name, same_owner(_TABLE.c.owner, owner))
                )
            conn.execute(_TABLE.insert().values(**row))
    except IntegrityError as exc:
        raise InputError(
            f"Já existe uma carteira chamada {name!r}; escolha outro nome ou substitua."
        ) from exc
    return load_portfolio(store, name, owner=owner, _exact=True)


def _record(r) -> dict:
    return {
        "name": r.name,
        "tickers": json.loads(r.tickers),
        "weights": json.loads(r.weights),
        "parameters": json.loads(r.parameters or "{}"),
        "created_at": pd.Timestamp(r.created_at),
        "owner": r.owner,
    }


def list_portfolios(store: Store, *, owner: str | None = None) -> list[dict]:
    """Saved portfolios ``owner`` may see, newest first (records as :func:`load_portfolio`).

    ``owner``: None = all; a user name = that user's and the team's portfolios.
    """
    q = (
        select(_TABLE)
        .where(visible(_TABLE.c.owner, owner))
        .order_by(_TABLE.c.created_at.desc(), _TABLE.c.id.desc())
    )
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [_record(r) for r in rows]


def load_portfolio(
    store: Store, name: str, *, owner: str | None = None, _exact: bool = False
) -> dict:
    """One saved portfolio that ``owner`` may see.

    Parameters
    ----------
    store : Store
    name : str
    owner : str, optional
        None = any owner; a user name = that user's or the team's portfolio (the user's own
        wins when both have the name). Another user's portfolio is "not found".

    Returns
    -------
    dict
        ``name``, ``tickers`` (list), ``weights`` ({ticker: fraction}), ``parameters``
        (dict), ``created_at`` (Timestamp, UTC), ``owner`` (str or None).

    Raises
    ------
    InputError
        No visible portfolio of that name (the message lists the visible names).
    """
    scope = same_owner(_TABLE.c.owner, owner) if _exact else visible(_TABLE.c.owner, owner)
    with store.engine.connect() as conn:
        r = conn.execute(
            select(_TABLE)
            .where(_TABLE.c.name == (name or "").strip(), scope)
            # the user's own before the team's ('' sorts after any name, descending)
            .order_by(func.coalesce(_TABLE.c.owner, "").desc(), _TABLE.c.id.desc())
            .limit(1)
        ).first()
        if r is None:
            names = [
                x[0]
                for x in conn.execute(
                    select(_TABLE.c.name)
                    .where(visible(_TABLE.c.owner, owner))
                    .distinct()
                    .order_by(_TABLE.c.name)
                )
            ]
    if r is None:
        listed = ", ".join(names) if names else "nenhuma"
        raise InputError(f"Carteira {name!r} não encontrada. Salvas: {listed}.")
    return _record(r)


def delete_portfolio(store: Store, name: str, *, owner: str | None = None) -> bool:
    """Delete a saved portfolio ``owner`` may change; True if one was deleted.

    ``owner``: None = any portfolio of that name (local mode, admins, the CLI); a user name =
    that user's own portfolio only (never a team's or another user's).
    """
    with store.transaction() as conn:
        res = conn.execute(
            delete(_TABLE).where(_TABLE.c.name == name, owned(_TABLE.c.owner, owner))
        )
    return res.rowcount > 0
