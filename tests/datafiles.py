"""Helpers that find and build the data files used by the data-import tests (issue 3).

* :func:`shared_data` – ``../shared/data`` beside the repository (CI clones it there), or None.
* :func:`cotahist_daily` – the real B3 daily file of 2021-06-25 (``tests/fixtures/data``,
  gzip copy of ``shared/data/cotahist/COTAHIST_D25062021.TXT``), decompressed into a folder.
* :func:`build_cotahist` – a valid COTAHIST file made by repeating the real daily file's
  quote records over many B3 sessions (the dates are rewritten; every other byte is real).
"""

from __future__ import annotations

import gzip
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "data"
COTAHIST_GZ = FIXTURES / "COTAHIST_D25062021.TXT.gz"


def shared_data() -> Path | None:
    """The shared real-data folder (``<repo>/../shared/data`` or ``/work/shared/data``)."""
    for cand in (
        ROOT.parent / "shared" / "data",
        ROOT.parents[1] / "shared" / "data",
        Path("/work/shared/data"),
    ):
        if (cand / "SOURCES.md").is_file():
            return cand
    return None


def cotahist_bytes() -> bytes:
    """Bytes of the real daily COTAHIST file of 2021-06-25 (header, 7518 quotes, trailer)."""
    return gzip.decompress(COTAHIST_GZ.read_bytes())


def cotahist_daily(folder: Path) -> Path:
    """Write the real daily file into ``folder`` under its original name and return the path."""
    p = Path(folder) / "COTAHIST_D25062021.TXT"
    p.write_bytes(cotahist_bytes())
    return p


def cotahist_lines() -> tuple[bytes, list[bytes], bytes]:
    """``(header, quote_records, trailer)`` of the real daily file, each with its CRLF."""
    lines = cotahist_bytes().splitlines(keepends=True)
    return lines[0], lines[1:-1], lines[-1]


def build_cotahist(
    path: Path, n_dates: int, *, start: str = "2015-01-02", records: list[bytes] | None = None
) -> int:
    """Write a COTAHIST file repeating the real quote records on ``n_dates`` B3 sessions.

    Returns the number of quote (type 01) records written. Streams to disk.
    """
    import pandas as pd

    from core.data.calendar import b3_sessions

    header, recs, _ = cotahist_lines()
    recs = records if records is not None else recs
    sessions = b3_sessions(start, pd.Timestamp(start) + pd.Timedelta(days=int(n_dates * 1.6) + 30))
    sessions = sessions[:n_dates]
    assert len(sessions) == n_dates, "not enough sessions in the calendar"
    body = b"".join(recs)
    n = 0
    with open(path, "wb") as fh:
        fh.write(header)
        for d in sessions:
            ymd = d.strftime("%Y%m%d").encode()
            # rewrite DATA (positions 3-10) of every record of this block
            block = bytearray(body)
            step = len(recs[0])
            for k in range(len(recs)):
                block[k * step + 2 : k * step + 10] = ymd
            fh.write(block)
            n += len(recs)
        total = n + 2
        trailer = b"99COTAHIST.2021BOVESPA 20210625" + f"{total:011d}".encode()
        fh.write(trailer.ljust(245) + b"\r\n")
    return n
