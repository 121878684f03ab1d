"""The import log and the per-instrument source priority (read and set).

Part of the import facade :mod:`core.data.imports` (which re-exports these names).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import select

from core.data.import_models import ImportLog, SourcePriority
from core.data.store import Store
from core.data.upsert import DEFAULT_PRIORITY
from core.errors import InputError

__all__ = [
    "import_log",
    "source_priority",
    "set_source_priority",
]

_LOG = ImportLog.__table__
_PRIO = SourcePriority.__table__


# -- log and priority ---------------------------------------------------------------------
def import_log(store: Store, limit: int = 50) -> pd.DataFrame:
    """The newest ``limit`` import-log rows (newest first).

    Columns ``id, started_at, source, file, instruments, inserted, updated, unchanged,
    rejected, duration_s, status, message``.
    """
    c = _LOG.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(_LOG).order_by(c.id.desc()).limit(int(limit))).all()
    cols = [col.name for col in _LOG.columns]
    df = pd.DataFrame.from_records(rows, columns=cols)
    df["started_at"] = pd.to_datetime(df["started_at"])
    return df


def source_priority(store: Store, ticker: str) -> tuple[str, ...]:
    """The source order used for ``ticker`` (its override or :data:`DEFAULT_PRIORITY`)."""
    iid = store.instrument(ticker)["id"]
    with store.engine.connect() as conn:
        row = conn.execute(select(_PRIO.c.sources).where(_PRIO.c.instrument_id == iid)).first()
    return tuple(s for s in row[0].split(",") if s) if row else DEFAULT_PRIORITY


def set_source_priority(store: Store, ticker: str, sources: Sequence[str] | None) -> None:
    """Store a per-instrument source order (best first); None restores the default."""
    iid = store.instrument(ticker)["id"]
    known = set(DEFAULT_PRIORITY)
    bad = [s for s in (sources or []) if s not in known]
    if bad:
        raise InputError(
            f"Fonte(s) desconhecida(s): {', '.join(bad)} (use {', '.join(DEFAULT_PRIORITY)})."
        )
    with store.transaction() as conn:
        conn.execute(_PRIO.delete().where(_PRIO.c.instrument_id == iid))
        if sources:
            conn.execute(_PRIO.insert().values(instrument_id=iid, sources=",".join(sources)))
