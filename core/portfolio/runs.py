"""Stored portfolio runs: analyses (Carteira, ``frontier``) and walk-forward backtests.

Results are the plain JSON-ready dicts of :func:`core.portfolio.service.analyse` and
:meth:`core.portfolio.walkforward.WalkForward.to_dict`, stored as JSON text (portable across
SQLite and PostgreSQL). ``created_at`` is UTC.

Ownership (:mod:`core.ownership`): a run is stamped with its author in team mode (NULL = the
team's). :func:`list_runs` and :func:`load_run` take ``owner`` as the filter (None = all; a user
name = own and team runs; another user's run is "not found" by id); :func:`latest_run` is the
author's own newest run.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
from sqlalchemy import delete, select

from core.data.store import Store
from core.errors import InputError
from core.ownership import check_owner, same_owner, visible
from core.portfolio.models import PortfolioRun

__all__ = ["RUN_KINDS", "save_run", "latest_run", "load_run", "list_runs"]

#: Kinds of stored runs.
RUN_KINDS = ("analysis", "walk_forward")
#: Analyses kept (older ones are pruned on save; each result is a few hundred kB).
KEEP_ANALYSES = 20

_TABLE = PortfolioRun.__table__


def _dumps(o) -> str:
    def default(x):
        if isinstance(x, pd.Timestamp | dt.date):
            return x.isoformat()
        if hasattr(x, "item"):
            return x.item()
        raise TypeError(f"not JSON serialisable: {type(x)}")

    def clean(x):
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        if isinstance(x, float) and not math.isfinite(x):
            return None
        return x

    return json.dumps(clean(o), default=default, allow_nan=False)


def save_run(
    store: Store,
    kind: str,
    parameters: dict,
    result: dict,
    summary: dict | None = None,
    *,
    owner: str | None = None,
) -> int:
    """Store one run; returns its id.

    Analyses beyond the newest :data:`KEEP_ANALYSES` are deleted (the page stores one per
    click); walk-forward runs are kept.

    Parameters
    ----------
    store : Store
    kind : {"analysis", "walk_forward"}
    parameters : dict
        The request as plain data.
    result : dict
        The JSON-ready result.
    summary : dict, optional
        Small figures for listings (default: the result's ``stats`` or ``performance``).
    owner : str, optional
        The user who ran it (team mode); None locally. Pruning is per owner.

    Raises
    ------
    InputError
        Unknown kind.
    """
    if kind not in RUN_KINDS:
        raise InputError(f"Tipo de execução desconhecido {kind!r}; use: {', '.join(RUN_KINDS)}.")
    owner = check_owner(owner)
    if summary is None:
        summary = {k: result[k] for k in ("performance", "stats", "test", "window") if k in result}
    row = {
        "kind": kind,
        "owner": owner,
        "parameters": _dumps(parameters),
        "summary": _dumps(summary),
        "result": _dumps(result),
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
    }
    with store.transaction() as conn:
        res = conn.execute(_TABLE.insert().values(**row))
        new_id = int(res.inserted_primary_key[0])
        if kind == "analysis":
            same = same_owner(_TABLE.c.owner, owner)
            keep = (
                select(_TABLE.c.id)
                .where(_TABLE.c.kind == "analysis", same)
                .order_by(_TABLE.c.created_at.desc(), _TABLE.c.id.desc())
                .limit(KEEP_ANALYSES)
            )
            ids = [r[0] for r in conn.execute(keep)]
            conn.execute(
                delete(_TABLE).where(_TABLE.c.kind == "analysis", same, _TABLE.c.id.not_in(ids))
            )
    return new_id


def _record(r, with_result: bool = True) -> dict:
    out = {
        "id": int(r.id),
        "kind": r.kind,
        "owner": r.owner,
        "created_at": pd.Timestamp(r.created_at),
        "parameters": json.loads(r.parameters or "{}"),
        "summary": json.loads(r.summary or "{}"),
    }
    if with_result:
        out["result"] = json.loads(r.result)
    return out


def latest_run(store: Store, kind: str = "analysis", *, owner: str | None = None) -> dict | None:
    """The newest run of ``kind`` stamped with ``owner`` (with its result), or None.

    ``owner``: the author (None = the team's / local mode's runs): a user's "last analysis"
    is their own, never another user's or the team's.
    """
    with store.engine.connect() as conn:
        r = conn.execute(
            select(_TABLE)
            .where(_TABLE.c.kind == kind, same_owner(_TABLE.c.owner, owner))
            .order_by(_TABLE.c.created_at.desc(), _TABLE.c.id.desc())
            .limit(1)
        ).first()
    return None if r is None else _record(r)


def load_run(store: Store, run_id: int, *, owner: str | None = None) -> dict:
    """One run by id that ``owner`` may see: ``id, kind, owner, created_at, parameters,
    summary, result``.

    ``owner``: None = any run; a user name = that user's or a team run.

    Raises
    ------
    InputError
        No visible run with that id (another user's run answers like a missing one).
    """
    with store.engine.connect() as conn:
        r = conn.execute(
            select(_TABLE).where(_TABLE.c.id == int(run_id), visible(_TABLE.c.owner, owner))
        ).first()
    if r is None:
        raise InputError(f"Execução de carteira nº {run_id} não encontrada.")
    return _record(r)


def list_runs(
    store: Store, kind: str | None = None, limit: int = 50, *, owner: str | None = None
) -> list[dict]:
    """Runs ``owner`` may see, newest first, without their full results
    (``id, kind, owner, created_at, parameters, summary``).

    ``owner``: None = all; a user name = that user's and the team's runs.
    """
    cols = [c for c in _TABLE.c if c.name != "result"]
    q = (
        select(*cols)
        .where(visible(_TABLE.c.owner, owner))
        .order_by(_TABLE.c.created_at.desc(), _TABLE.c.id.desc())
        .limit(int(limit))
    )
    if kind is not None:
        q = q.where(_TABLE.c.kind == kind)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [_record(r, with_result=False) for r in rows]
