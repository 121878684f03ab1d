"""Saved portfolios: name a set of weights and the parameters that produced them.

Later features (paper trading, rebalancing alerts) read them with :func:`load_portfolio`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.data.store import Store
from core.errors import InputError
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
        Replace an existing portfolio of the same name.

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
        "tickers": json.dumps(list(w)),
        "weights": json.dumps(w),
        "parameters": json.dumps(dict(parameters or {}), default=_json_default),
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    }
    try:
        with store.transaction() as conn:
            if overwrite:
                conn.execute(delete(_TABLE).where(_TABLE.c.name == name))
            conn.execute(_TABLE.insert().values(**row))
    except IntegrityError as exc:
        raise InputError(
            f"Já existe uma carteira chamada {name!r}; escolha outro nome ou substitua."
        ) from exc
    return load_portfolio(store, name)


def _record(r) -> dict:
    return {
        "name": r.name,
        "tickers": json.loads(r.tickers),
        "weights": json.loads(r.weights),
        "parameters": json.loads(r.parameters or "{}"),
        "created_at": pd.Timestamp(r.created_at),
    }


def list_portfolios(store: Store) -> list[dict]:
    """All saved portfolios, newest first (same records as :func:`load_portfolio`)."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(_TABLE).order_by(_TABLE.c.created_at.desc(), _TABLE.c.id.desc())
        ).all()
    return [_record(r) for r in rows]


def load_portfolio(store: Store, name: str) -> dict:
    """One saved portfolio.

    Returns
    -------
    dict
        ``name``, ``tickers`` (list), ``weights`` ({ticker: fraction}), ``parameters``
        (dict), ``created_at`` (Timestamp, UTC).

    Raises
    ------
    InputError
        No portfolio of that name (the message lists the saved names).
    """
    with store.engine.connect() as conn:
        r = conn.execute(select(_TABLE).where(_TABLE.c.name == (name or "").strip())).first()
        if r is None:
            names = [x[0] for x in conn.execute(select(_TABLE.c.name).order_by(_TABLE.c.name))]
    if r is None:
        listed = ", ".join(names) if names else "nenhuma"
        raise InputError(f"Carteira {name!r} não encontrada. Salvas: {listed}.")
    return _record(r)


def delete_portfolio(store: Store, name: str) -> bool:
    """Delete a saved portfolio; True if it existed."""
    with store.transaction() as conn:
        res = conn.execute(delete(_TABLE).where(_TABLE.c.name == name))
    return res.rowcount > 0
