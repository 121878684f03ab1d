"""B3's sector classification of the bundled stocks (``core/data/bundled/sectors.csv``).

Source: B3, "Classificação Setorial das Empresas e Fundos Negociados na B3" (setor econômico,
subsetor, segmento); see ``core/data/bundled/README.md``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from core.data.bundled import BUNDLED_DIR

__all__ = ["Sector", "load_sectors", "UNCLASSIFIED"]

#: Sector shown for a ticker the bundled table does not classify.
UNCLASSIFIED = "Sem classificação"


@dataclass(frozen=True)
class Sector:
    """One ticker's place in B3's classification (pt-BR names, as B3 writes them)."""

    ticker: str
    sector: str
    subsector: str
    segment: str


@lru_cache(maxsize=1)
def _read() -> tuple[Sector, ...]:
    with open(BUNDLED_DIR / "sectors.csv", encoding="utf-8", newline="") as fh:
        return tuple(
            Sector(r["ticker"].strip().upper(), r["sector"], r["subsector"], r["segment"])
            for r in csv.DictReader(fh)
        )


def load_sectors() -> dict[str, Sector]:
    """B3 sector, subsector and segment of each classified ticker.

    Returns
    -------
    dict of str to Sector
        Keyed by ticker (upper case); a ticker missing from the table has no key (callers
        show :data:`UNCLASSIFIED`).
    """
    return {s.ticker: s for s in _read()}
