"""The exception hierarchy of Pregão's core.

Every error a user can cause derives from :class:`PregaoError`, so the UI layer (page
callbacks, CLI) catches exactly that one class and shows ``str(error)``: messages are
written for a trader and say how to fix the input. Anything else escaping ``core`` is a bug.

Who handles what
----------------
* :class:`InputError` – bad parameters (dates, periods, tickers); the page shows the message
  next to the control, the CLI exits with status 2.
* :class:`UnknownTickerError` – a ticker that is not in the store; carries close matches.
* :class:`DataFormatError` – a malformed file; carries the file and line.
* :class:`DataSourceError` – an external source (Yahoo, MT5, B3 site) is unreachable or
  unavailable; the app falls back to what the store holds.
* :class:`StoreError` – the database cannot be opened or migrated; the app stops at start.
"""

from __future__ import annotations

__all__ = [
    "PregaoError",
    "InputError",
    "UnknownTickerError",
    "DataFormatError",
    "DataSourceError",
    "StoreError",
]


class PregaoError(Exception):
    """Base class of every error a user can cause or fix."""


class InputError(PregaoError, ValueError):
    """A parameter is out of range or inconsistent (e.g. an inverted date range)."""


class UnknownTickerError(PregaoError, KeyError):
    """A ticker is not in the store.

    Parameters
    ----------
    ticker : str
        The ticker asked for.
    suggestions : list of str
        Close matches among the stored tickers, best first (may be empty).
    """

    def __init__(self, ticker: str, suggestions: list[str] | None = None) -> None:
        self.ticker = ticker
        self.suggestions = list(suggestions or [])
        super().__init__(ticker)

    def __str__(self) -> str:
        msg = f"Ticker '{self.ticker}' não encontrado."
        if self.suggestions:
            msg += " Você quis dizer: " + ", ".join(self.suggestions) + "?"
        return msg


class DataFormatError(PregaoError, ValueError):
    """A file cannot be read as the expected format.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    file : str, optional
        The file's path or name.
    line : int, optional
        1-based line number of the offending record.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}"
            if self.line is not None:
                where += f", linha {self.line}"
            where += ": "
        elif self.line is not None:
            where = f"linha {self.line}: "
        return where + self.message


class DataSourceError(PregaoError):
    """An external data source is unreachable or not installed."""


class StoreError(PregaoError):
    """The database cannot be opened, created or migrated."""
