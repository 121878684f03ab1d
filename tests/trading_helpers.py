"""Builders for the paper-trading tests: a small migrated SQLite template (three stocks, an
ETF and an index with a few hand-made bars), copied per test so each test starts clean in
milliseconds, and helpers to open accounts and feed bars.

Prices of the stored bars: PETR4 and VALE3 close at R$ 10,00 on every session from
2024-01-02 to 2024-01-10; BOVA11 at R$ 100,00; ^BVSP at 130.000 points.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

SESSIONS = pd.DatetimeIndex(
    [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-08",
        "2024-01-09",
        "2024-01-10",
    ],
    name="date",
)


def _bars(close: float, volume: float = 1e7) -> pd.DataFrame:
    n = len(SESSIONS)
    return pd.DataFrame(
        {
            "open": [close] * n,
            "high": [close] * n,
            "low": [close] * n,
            "close": [close] * n,
            "adj_close": [close] * n,
            "volume": [volume] * n,
        },
        index=SESSIONS,
    )


def build_template(path: Path) -> Path:
    """Create the template database at ``path`` (migrated, with instruments and bars)."""
    from core.data.store import init_db

    store = init_db(f"sqlite:///{path}")
    seed(store)
    store.dispose()
    return path


def seed(store) -> None:
    """Write the instruments and bars of the template into ``store``."""
    for t, kind, close in (
        ("PETR4", "stock", 10.0),
        ("VALE3", "stock", 10.0),
        ("ITUB4", "stock", 10.0),
        ("BOVA11", "etf", 100.0),
        ("^BVSP", "index", 130000.0),
    ):
        store.upsert_instrument(t, kind=kind)
        store.write_bars(t, _bars(close), "csv")


def open_copy(template: Path, tmp_path: Path):
    """A store on a fresh copy of the template."""
    from core.data.store import init_db

    dst = tmp_path / "paper.db"
    shutil.copy(template, dst)
    return init_db(f"sqlite:///{dst}")


def bar(o, h=None, lo=None, c=None, v=1e7) -> dict:
    """A bar dict; missing high/low/close default to the open."""
    h = o if h is None else h
    lo = o if lo is None else lo
    c = o if c is None else c
    return {"open": o, "high": h, "low": lo, "close": c, "volume": v}


@pytest.fixture(scope="session")
def paper_template(tmp_path_factory):
    """A migrated SQLite file with a few instruments and bars (import into a test module)."""
    return build_template(tmp_path_factory.mktemp("paper") / "template.db")


@pytest.fixture
def paper_store(paper_template, tmp_path):
    """A fresh store (SQLite file) copied from ``paper_template``."""
    store = open_copy(paper_template, tmp_path)
    yield store
    store.dispose()
