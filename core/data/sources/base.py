"""The small interfaces shared by every market-data source.

* :class:`ParsedData` – what a file reader returns: canonical bars per ticker (plus the file
  line of each row, for error messages), optional corporate actions, display metadata.
* :class:`OnlineSource` – an external service (Yahoo, MetaTrader 5) that fetches bars for a
  set of tickers over a date range; unavailable sources raise
  :class:`core.errors.DataSourceError` with a message for the user.

Units follow :mod:`core.data.schema`: prices in R$ (points for indices), volume in shares.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["ParsedData", "OnlineSource", "ACTION_COLUMNS"]

#: Columns of a corporate-actions frame: ex-date, kind and value (see core.data.actions).
ACTION_COLUMNS: tuple[str, ...] = ("ticker", "date", "kind", "value")


@dataclass
class ParsedData:
    """Bars read from one file or fetched from one service.

    Attributes
    ----------
    file : str
        Display name of the file (or the service).
    format : str
        Detected format: ``cotahist``, ``yahoo``, ``investing``, ``profit``, ``csv``, ``mt5``.
    source : str
        Name stored in ``bars.source`` (``cotahist`` is the B3 official record).
    bars : dict of str -> pandas.DataFrame
        Ticker -> canonical bars (:data:`core.data.schema.BAR_COLUMNS`, index ``date``) with
        an extra int column ``line`` (1-based line in the file; 0 when not from a file).
        Rows are sorted by date; duplicates are NOT removed (the importer rejects them).
    interval : str
        ``1d``, ``1h`` or ``5m``.
    names, kinds : dict of str -> str
        Display name and instrument kind (``stock``, ``index``, ``fund``) per ticker.
    actions : pandas.DataFrame or None
        Corporate actions found in the file (columns :data:`ACTION_COLUMNS`).
    rows : int
        Data rows read (before any rejection).
    long : pandas.DataFrame or None
        Optional long form of all tickers (``ticker`` categorical, ``date``, bar columns,
        ``line``), sorted by ticker then date; readers of big files fill it instead of
        ``bars`` to spare one frame per ticker.
    lots : dict of str -> int
        Standard lot per ticker when the source says it (COTAHIST ``FATCOT``-independent
        lot from the market type; empty otherwise).
    volume_units : dict of str -> str
        Unit of the volume column per ticker (:data:`core.data.models.VOLUME_UNITS`);
        a ticker missing here is taken to be in its series' own unit.
    placeholders : list of dict
        Vendor placeholder rows dropped while validating (``ticker, date, line``).
    """

    file: str
    format: str
    source: str
    bars: dict[str, pd.DataFrame] = field(default_factory=dict)
    interval: str = "1d"
    names: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    actions: pd.DataFrame | None = None
    rows: int = 0
    long: pd.DataFrame | None = None
    lots: dict[str, int] = field(default_factory=dict)
    volume_units: dict[str, str] = field(default_factory=dict)
    placeholders: list[dict] = field(default_factory=list)


class OnlineSource(ABC):
    """An external service that delivers canonical bars.

    Implementations must never raise anything but :class:`core.errors.DataSourceError` for
    an unreachable or missing service, with a Portuguese message that says why.
    """

    #: Name stored in ``bars.source``.
    name: str = ""

    @abstractmethod
    def available(self) -> tuple[bool, str]:
        """``(True, "")`` when usable, else ``(False, reason for the user)``."""

    @abstractmethod
    def fetch(
        self, tickers: Sequence[str], start=None, end=None, interval: str = "1d"
    ) -> ParsedData:
        """Bars of ``tickers`` between ``start`` and ``end`` (inclusive dates).

        Raises
        ------
        core.errors.DataSourceError
            If the service is unreachable, not installed or returned nothing at all.
        """
