"""B3 COTAHIST files (the exchange's official daily history), parsed fast.

Format
------
B3's "SeriesHistoricas_Layout": fixed-width ASCII/Latin-1 records of 245 bytes, each followed
by CRLF (LF is accepted too). Record ``00`` is the header (file name, origin, file date),
``01`` a quote of one instrument in one market on one session, ``99`` the trailer whose
``TOTREG`` (positions 32-42) counts every record including header and trailer.

Positions of the fields read here (1-based, inclusive, as in the layout document)::

    TIPREG 1-2    DATA 3-10 (AAAAMMDD)  CODBDI 11-12   CODNEG 13-24  TPMERC 25-27
    NOMRES 28-39  ESPECI 40-49          PRAZOT 50-52   MODREF 53-56
    PREABE 57-69  PREMAX 70-82  PREMIN 83-95  PREMED 96-108  PREULT 109-121  (11v99)
    PREOFC 122-134  PREOFV 135-147  TOTNEG 148-152  QUATOT 153-170  VOLTOT 171-188 (16v99)
    PREEXE 189-201  INDOPC 202  DATVEN 203-210  FATCOT 211-217  PTOEXE 218-230
    CODISI 231-242  DISMES 243-245

Prices carry two implied decimals and are quoted per ``FATCOT`` shares (1 or 1000), so the
price per share is ``value / 100 / FATCOT``. Prices are **as traded**: not adjusted for splits,
bonus shares or dividends (see :mod:`core.data.actions`).

Speed
-----
The file is read in blocks of whole records; each block is viewed as a ``(n, record_length)``
``uint8`` matrix and every numeric field is decoded with vectorised digit arithmetic, so a
full-year file (millions of records) parses in seconds with memory bounded by the block size
plus the rows kept. Strings (tickers, names) are decoded only once per distinct value.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from core.errors import DataFormatError

__all__ = [
    "RECORD_LENGTH",
    "MARKET_SPOT",
    "MARKET_FRACTIONAL",
    "BDI_STANDARD_LOT",
    "BDI_FRACTIONAL",
    "INDEX_OPTION_BDI",
    "CotahistFilter",
    "DEFAULT_FILTER",
    "ALL_RECORDS",
    "COTAHIST_COLUMNS",
    "is_cotahist",
    "iter_cotahist",
    "read_cotahist",
]

#: Bytes of one record, without the line terminator.
RECORD_LENGTH = 245
#: TPMERC of the spot market ("VISTA").
MARKET_SPOT = 10
#: TPMERC of the fractional market ("FRACIONARIO").
MARKET_FRACTIONAL = 20
#: CODBDI of the standard lot ("LOTE PADRAO").
BDI_STANDARD_LOT = 2
#: CODBDI of the fractional market.
BDI_FRACTIONAL = 96
#: CODBDI of index call and put options (74, 75).
INDEX_OPTION_BDI: tuple[int, ...] = (74, 75)

#: Columns of :func:`read_cotahist`'s frame, in order.
COTAHIST_COLUMNS: tuple[str, ...] = (
    "date",
    "ticker",
    "bdi",
    "market",
    "name",
    "specification",
    "open",
    "high",
    "low",
    "average",
    "close",
    "trades",
    "quantity",
    "volume",
    "factor",
    "line",
)

# (name, start, end) with 0-based start and exclusive end.
_NUMERIC = {
    "bdi": (10, 12),
    "market": (24, 27),
    "open": (56, 69),
    "high": (69, 82),
    "low": (82, 95),
    "average": (95, 108),
    "close": (108, 121),
    "trades": (147, 152),
    "quantity": (152, 170),
    "volume": (170, 188),
    "factor": (210, 217),
}
_DATE = (2, 10)
# Every field between PREABE and FATCOT (0-based half-open), for error messages.
_NUMERIC_FIELDS = (
    ("PREABE", 56, 69),
    ("PREMAX", 69, 82),
    ("PREMIN", 82, 95),
    ("PREMED", 95, 108),
    ("PREULT", 108, 121),
    ("PREOFC", 121, 134),
    ("PREOFV", 134, 147),
    ("TOTNEG", 147, 152),
    ("QUATOT", 152, 170),
    ("VOLTOT", 170, 188),
    ("PREEXE", 188, 201),
    ("INDOPC", 201, 202),
    ("DATVEN", 202, 210),
    ("FATCOT", 210, 217),
)
_NUM_START, _NUM_STOP = 56, 217
_TICKER = (12, 24)
_NAME = (27, 39)
_SPEC = (39, 49)
_BLOCK_RECORDS = 32_768


@dataclass(frozen=True)
class CotahistFilter:
    """Which quote records :func:`read_cotahist` keeps.

    Parameters
    ----------
    markets : tuple of int or None
        TPMERC codes to keep (10 spot, 20 fractional, 70/80 options, ...); None keeps all.
    bdi : tuple of int or None
        CODBDI codes to keep (2 standard lot, 96 fractional, 12 real-estate funds ...);
        None keeps all.
    exclude_index_options : bool
        Drop CODBDI 74/75 (index options) even when ``markets``/``bdi`` would keep them.
    tickers : tuple of str or None
        Keep only these CODNEG codes (upper case); None keeps all.
    """

    markets: tuple[int, ...] | None = (MARKET_SPOT, MARKET_FRACTIONAL)
    bdi: tuple[int, ...] | None = None
    exclude_index_options: bool = True
    tickers: tuple[str, ...] | None = None


#: The default: spot and fractional markets, every BDI code, index options excluded.
DEFAULT_FILTER = CotahistFilter()
#: Keep every quote record.
ALL_RECORDS = CotahistFilter(markets=None, bdi=None, exclude_index_options=False)

_POW = {n: (10 ** np.arange(n - 1, -1, -1, dtype=np.int64)) for n in range(1, 19)}
_POWF = {n: p.astype(np.float64) for n, p in _POW.items()}


def _digits_of(num: np.ndarray, start: int, end: int) -> np.ndarray:
    """int64 value of already-checked digits ``num[:, start:end]`` (absolute positions)."""
    return num[:, start - _NUM_START : end - _NUM_START].astype(np.int64) @ _POW[end - start]


class _Source:
    """A binary stream over a plain or zipped COTAHIST file, plus its display name."""

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        self.path = Path(path)
        self.name = name or self.path.name
        self._zip: zipfile.ZipFile | None = None
        self.stream: IO[bytes] | io.BufferedIOBase

    def __enter__(self) -> _Source:
        if not self.path.is_file():
            raise DataFormatError("arquivo não encontrado.", self.name)
        with open(self.path, "rb") as fh:
            magic = fh.read(4)
        if magic[:2] == b"PK":
            try:
                self._zip = zipfile.ZipFile(self.path)
            except zipfile.BadZipFile as exc:
                raise DataFormatError(f"ZIP corrompido ({exc}).", self.name) from exc
            members = [
                m
                for m in self._zip.infolist()
                if not m.is_dir() and Path(m.filename).name.upper().startswith("COTAHIST")
            ]
            if not members:
                names = ", ".join(m.filename for m in self._zip.infolist()) or "nenhum"
                self._zip.close()
                raise DataFormatError(
                    "o ZIP não contém um arquivo COTAHIST (esperado COTAHIST_A2024.TXT, "
                    f"COTAHIST_M012024.TXT ou COTAHIST_D25062021.TXT; encontrados: {names}).",
                    self.name,
                )
            self.name = f"{self.name}:{members[0].filename}"
            self.stream = self._zip.open(members[0])
        elif magic[:2] == b"\x1f\x8b":
            import gzip

            self.stream = gzip.open(self.path, "rb")
        else:
            self.stream = open(self.path, "rb")
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()
        if self._zip is not None:
            self._zip.close()


def is_cotahist(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) looks like a COTAHIST header record."""
    return (
        len(head) >= 23
        and head[:2] == b"00"
        and head[2:10] == b"COTAHIST"
        and (b"BOVESPA" in head[:40])
    )


class _StringCache:
    """Distinct values of one text field across blocks.

    Values are keyed by their raw bytes seen as two little-endian 64-bit words; a pandas
    MultiIndex over the known keys turns a block's distinct keys into codes with one
    vectorised hash lookup, so Python only touches values never seen before.
    """

    def __init__(self) -> None:
        self.w0: list[np.ndarray] = []
        self.w1: list[np.ndarray] = []
        self.index: pd.MultiIndex | None = None
        self.key_code = np.zeros(0, dtype=np.int32)  # known key -> category code
        self.by_str: dict[str, int] = {}
        self.categories: list[str] = []

    def codes(self, k0: np.ndarray, k1: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """Category codes of the distinct keys ``(k0, k1)`` whose bytes are ``raw`` rows."""
        if self.index is None:
            pos = np.full(len(k0), -1, dtype=np.int64)
        else:
            pos = self.index.get_indexer(pd.MultiIndex.from_arrays([k0, k1]))
        new = np.flatnonzero(pos < 0)
        if len(new):
            add = np.empty(len(new), dtype=np.int32)
            for j, i in enumerate(new):
                text = raw[i].tobytes().decode("latin-1").strip()
                c = self.by_str.get(text)
                if c is None:
                    c = self.by_str[text] = len(self.categories)
                    self.categories.append(text)
                add[j] = c
            self.w0.append(k0[new])
            self.w1.append(k1[new])
            start = len(self.key_code)
            self.key_code = np.concatenate([self.key_code, add])
            self.index = pd.MultiIndex.from_arrays(
                [np.concatenate(self.w0), np.concatenate(self.w1)]
            )
            pos = pos.copy()
            pos[new] = np.arange(start, start + len(new))
        return self.key_code[pos]


def _decode_strings(block: np.ndarray, start: int, end: int, cache: _StringCache) -> pd.Categorical:
    """Decode a fixed-width text field (at most 16 bytes) into a Categorical.

    The bytes are hashed as two 64-bit integers (``pandas.factorize``), so only the
    distinct values of the block are looked up in ``cache`` (shared by all blocks, so every
    block's codes refer to the same growing category list).
    """
    width = end - start
    raw = np.full((len(block), 16), 32, dtype=np.uint8)
    raw[:, :width] = block[:, start:end]
    words = raw.view(np.uint64)
    c0, u0 = pd.factorize(words[:, 0])
    c1, u1 = pd.factorize(words[:, 1])
    codes, _ = pd.factorize(c0.astype(np.int64) * (len(u1) + 1) + c1)
    first = np.full(codes.max(initial=-1) + 1, -1, dtype=np.int64)
    order = np.arange(len(codes) - 1, -1, -1)
    first[codes[order]] = order  # a row carrying each distinct value
    lut = cache.codes(words[first, 0], words[first, 1], raw[first, :width])
    return pd.Categorical.from_codes(lut[codes], categories=list(cache.categories))


def _dates(ymd: np.ndarray, fname: str, line0: int) -> np.ndarray:
    uniq, inv = np.unique(ymd, return_inverse=True)
    conv = pd.to_datetime(pd.Series(uniq.astype(str)), format="%Y%m%d", errors="coerce")
    if conv.isna().any():
        badv = int(uniq[int(np.flatnonzero(conv.isna().to_numpy())[0])])
        row = int(np.flatnonzero(ymd == badv)[0])
        raise DataFormatError(f"data inválida {badv:08d} (esperado AAAAMMDD).", fname, line0 + row)
    return conv.to_numpy(dtype="datetime64[ns]")[inv]


def _parse_block(
    block: np.ndarray, fname: str, line0: int, flt: CotahistFilter, caches: dict
) -> pd.DataFrame | None:
    """Decode a ``(n, >=245)`` uint8 matrix of type-01 records (first at line ``line0``)."""
    lines = np.arange(line0, line0 + len(block), dtype=np.int64)
    bdi = _field_digits(block, _NUMERIC["bdi"], "CODBDI", fname, lines)
    market = _field_digits(block, _NUMERIC["market"], "TPMERC", fname, lines)
    keep = np.ones(len(block), dtype=bool)
    if flt.markets is not None:
        keep &= np.isin(market, flt.markets)
    if flt.bdi is not None:
        keep &= np.isin(bdi, flt.bdi)
    if flt.exclude_index_options:
        keep &= ~np.isin(bdi, INDEX_OPTION_BDI)
    if not keep.all():
        idx = np.flatnonzero(keep)
        block, bdi, market, lines = block[idx], bdi[idx], market[idx], lines[idx]
    if flt.tickers is not None and len(block):
        tick = _decode_strings(block, *_TICKER, caches["ticker"])
        sel = np.asarray(tick.isin(list(flt.tickers)))
        block, bdi, market, lines = block[sel], bdi[sel], market[sel], lines[sel]
    if len(block) == 0:
        return None
    # Errors below must name the file line, so decode with the kept rows' own line numbers.
    out: dict[str, object] = {}
    ymd = _field_digits(block, _DATE, "DATA", fname, lines)
    out["date"] = _dates(ymd, fname, int(lines[0]))
    out["ticker"] = _decode_strings(block, *_TICKER, caches["ticker"])
    out["bdi"] = bdi.astype(np.int16)
    out["market"] = market.astype(np.int16)
    out["name"] = _decode_strings(block, *_NAME, caches["name"])
    out["specification"] = _decode_strings(block, *_SPEC, caches["specification"])
    # Positions 57-217 (PREABE .. FATCOT) are all numeric in the layout: check them once.
    num = block[:, _NUM_START:_NUM_STOP] - np.uint8(48)
    if num.max(initial=0) > 9:
        bad = num > 9
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        col = int(np.flatnonzero(bad[row])[0]) + _NUM_START
        label, s0, e0 = next(f for f in _NUMERIC_FIELDS if f[1] <= col < f[2])
        text = bytes(block[row, s0:e0]).decode("latin-1")
        raise DataFormatError(
            f"campo {label} (posições {s0 + 1}-{e0}) não numérico: {text!r}.",
            fname,
            int(lines[row]),
        )
    factor = _digits_of(num, *_NUMERIC["factor"])
    if (factor <= 0).any():
        row = int(np.flatnonzero(factor <= 0)[0])
        raise DataFormatError("FATCOT igual a zero.", fname, int(lines[row]))
    div = factor.astype(np.float64) * 100.0
    o0 = _NUMERIC["open"][0] - _NUM_START
    prices = num[:, o0 : o0 + 65].reshape(len(num), 5, 13).astype(np.float64) @ _POWF[13]
    prices /= div[:, None]
    for j, name in enumerate(("open", "high", "low", "average", "close")):
        out[name] = prices[:, j]
    out["trades"] = _digits_of(num, *_NUMERIC["trades"])
    q0 = _NUMERIC["quantity"][0] - _NUM_START
    qv: np.ndarray = num[:, q0 : q0 + 36].reshape(len(num), 2, 18).astype(np.float64) @ _POWF[18]
    if qv.max(initial=0) >= 2.0**53:  # beyond float64's exact integers: decode exactly
        qv = num[:, q0 : q0 + 36].reshape(len(num), 2, 18).astype(np.int64) @ _POW[18]
    out["quantity"] = qv[:, 0].astype(np.int64)
    out["volume"] = qv[:, 1] / 100.0
    out["factor"] = factor.astype(np.int32)
    out["line"] = lines
    return pd.DataFrame(out)


def _field_digits(block, span, label, fname, lines, *, n_fields: int = 1, as_float=False):
    """Decode ``n_fields`` adjacent digit fields of equal width starting at ``span``.

    Returns int64 (or float64 via a BLAS dot product, exact below 2**53) of shape ``(n,)``
    or ``(n, n_fields)``. Raises DataFormatError naming the first bad line.
    """
    start, end = span
    width = end - start
    stop = start + width * n_fields
    d = block[:, start:stop] - np.uint8(48)
    if d.max(initial=0) > 9:  # a non-digit (bytes below '0' wrap around to > 9)
        bad = d > 9
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        col = int(np.flatnonzero(bad[row])[0]) // width
        s0 = start + col * width
        text = bytes(block[row, s0 : s0 + width]).decode("latin-1")
        raise DataFormatError(
            f"campo {label[col] if isinstance(label, tuple) else label} (posições "
            f"{s0 + 1}-{s0 + width}) não numérico: {text!r}.",
            fname,
            int(lines[row]),
        )
    if n_fields > 1:
        d = d.reshape(len(block), n_fields, width)
    if as_float:
        return d.astype(np.float64) @ _POW[width].astype(np.float64)
    return d.astype(np.int64) @ _POW[width]


def _first_bad_line(data: bytes, reclen: int, term: bytes) -> int:
    """0-based index of the first line in ``data`` whose length is not ``RECORD_LENGTH``."""
    pos = 0
    k = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl + 1
        if end - pos != reclen:
            return k
        pos = end
        k += 1
    return k


def _check_header(head: bytes, fname: str) -> None:
    if len(head) < 2 or head[:2] != b"00":
        raise DataFormatError(
            "não é um arquivo COTAHIST: o primeiro registro deve ser o cabeçalho (tipo 00, "
            "'00COTAHIST.AAAABOVESPA AAAAMMDD').",
            fname,
            1,
        )
    if head[2:10] != b"COTAHIST":
        raise DataFormatError("cabeçalho COTAHIST inválido (esperado '00COTAHIST.AAAA').", fname, 1)


def iter_cotahist(
    path: str | Path,
    flt: CotahistFilter = DEFAULT_FILTER,
    *,
    block_records: int = _BLOCK_RECORDS,
    name: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Stream a COTAHIST file as frames of at most ``block_records`` kept records.

    The header is checked before the first block, the trailer's record count after the
    last; memory use is bounded by ``block_records`` (about 40 MB for the default 32,768
    records, whatever the file size).

    Parameters
    ----------
    path : str or Path
        ``COTAHIST_A2024.TXT``/``.ZIP``, ``COTAHIST_M012024``, ``COTAHIST_D25062021``;
        plain, ZIP (first member named ``COTAHIST*``) or gzip.
    flt : CotahistFilter
        Which quote records to keep.
    block_records : int
        Records decoded per block.
    name : str, optional
        Display name in error messages (default: the file name).

    Yields
    ------
    pandas.DataFrame
        Frames with the columns of :func:`read_cotahist`.

    Raises
    ------
    DataFormatError
        With the file name and 1-based line: missing or bad header, a line that is not
        245 bytes long, a non-digit in a numeric field, an invalid date, a record type other
        than 01 between header and trailer, no trailer, or a trailer count that disagrees.
    """
    with _Source(path, name) as src:
        fname = src.name
        first = src.stream.read(RECORD_LENGTH + 2)
        if not first:
            raise DataFormatError("arquivo vazio (esperado um arquivo COTAHIST da B3).", fname)
        _check_header(first, fname)
        nl = first.find(b"\n")
        if nl < 0 or nl not in (RECORD_LENGTH, RECORD_LENGTH + 1):
            raise DataFormatError(
                f"o cabeçalho tem {nl if nl >= 0 else len(first)} bytes; cada registro "
                f"COTAHIST tem {RECORD_LENGTH} bytes seguidos de fim de linha.",
                fname,
                1,
            )
        term = b"\r\n" if nl == RECORD_LENGTH + 1 else b"\n"
        reclen = RECORD_LENGTH + len(term)
        pending = first[reclen:]
        line = 2  # 1-based line number of the first record in ``pending``
        count = 1  # records seen (header included)
        trailer: bytes | None = None
        caches = {k: _StringCache() for k in ("ticker", "name", "specification")}
        chunk_bytes = block_records * reclen
        eof = False
        while not eof:
            data = src.stream.read(chunk_bytes - len(pending))
            eof = not data
            buf = pending + data
            if trailer is not None:
                if buf.strip(b"\r\n\x1a \x00"):
                    raise DataFormatError("dados após o trailer (registro 99).", fname, line)
                break
            if eof and buf and len(buf) % reclen == RECORD_LENGTH:
                buf += term  # last record without a line terminator
            n = len(buf) // reclen
            if eof and len(buf) % reclen:
                bad = _first_bad_line(buf, reclen, term)
                raise DataFormatError(
                    f"registro com comprimento diferente de {RECORD_LENGTH} bytes (linha "
                    "cortada ou arquivo truncado).",
                    fname,
                    line + bad,
                )
            pending = buf[n * reclen :]
            if n == 0:
                continue
            block = np.frombuffer(buf, dtype=np.uint8, count=n * reclen).reshape(n, reclen)
            ends = block[:, RECORD_LENGTH:]
            badterm = ~(ends == np.frombuffer(term, dtype=np.uint8)).all(axis=1)
            if badterm.any():
                row = int(np.flatnonzero(badterm)[0])
                bad = _first_bad_line(buf[row * reclen :], reclen, term)
                raise DataFormatError(
                    f"registro com comprimento diferente de {RECORD_LENGTH} bytes (linha "
                    "cortada ou arquivo truncado).",
                    fname,
                    line + row + bad,
                )
            kind = block[:, 0].astype(np.int32) * 256 + block[:, 1]
            is99 = kind == (ord("9") * 256 + ord("9"))
            if is99.any():
                t = int(np.flatnonzero(is99)[0])
                if t != n - 1:
                    raise DataFormatError(
                        "dados após o trailer (registro 99).", fname, line + t + 1
                    )
                trailer = bytes(block[t])
                block = block[:t]
            is01 = block[:, 0:2] == np.frombuffer(b"01", dtype=np.uint8)
            not01 = ~is01.all(axis=1)
            if not01.any():
                row = int(np.flatnonzero(not01)[0])
                raise DataFormatError(
                    f"tipo de registro {bytes(block[row, :2]).decode('latin-1')!r} inesperado "
                    "(esperado 01 entre o cabeçalho 00 e o trailer 99).",
                    fname,
                    line + row,
                )
            frame = _parse_block(block, fname, line, flt, caches)
            count += n
            line += n
            if frame is not None:
                yield frame
        if trailer is None:
            raise DataFormatError(
                "trailer (registro 99) ausente: o arquivo parece truncado.", fname, line
            )
        total_txt = trailer[31:42]
        if not total_txt.isdigit():
            raise DataFormatError(
                f"trailer com contagem de registros inválida: {total_txt!r}.", fname, line - 1
            )
        declared = int(total_txt)
        if declared != count:
            raise DataFormatError(
                f"o trailer declara {declared} registros, mas o arquivo tem {count} "
                "(arquivo truncado ou alterado).",
                fname,
                line - 1,
            )


def read_cotahist(
    path: str | Path,
    flt: CotahistFilter = DEFAULT_FILTER,
    *,
    markets: Sequence[int] | None | str = "default",
    tickers: Sequence[str] | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Read a COTAHIST file into one row per kept quote record.

    Parameters
    ----------
    path : str or Path
        Annual, monthly or daily file (``COTAHIST_A2024.ZIP``, ``COTAHIST_M012024.TXT``,
        ``COTAHIST_D25062021.TXT``), zipped, gzipped or plain.
    flt : CotahistFilter
        Records to keep; the default keeps the spot and fractional markets and drops index
        options. Use :data:`ALL_RECORDS` for everything.
    markets : sequence of int or None, optional
        Shortcut overriding ``flt.markets`` (None = all markets).
    tickers : sequence of str, optional
        Shortcut overriding ``flt.tickers``.
    name : str, optional
        Display name used in error messages.

    Returns
    -------
    pandas.DataFrame
        One row per record, columns :data:`COTAHIST_COLUMNS`: ``date`` (datetime64, the
        session), ``ticker`` (CODNEG), ``bdi`` (CODBDI), ``market`` (TPMERC), ``name``
        (NOMRES), ``specification`` (ESPECI), ``open, high, low, average, close`` in R$ per
        share (already divided by 100 and by FATCOT), ``trades`` (TOTNEG), ``quantity``
        (QUATOT, shares), ``volume`` (VOLTOT, R$), ``factor`` (FATCOT), ``line`` (1-based line
        of the record in the file).

    Raises
    ------
    DataFormatError
        See :func:`iter_cotahist`; the message names the file and line.
    """
    from dataclasses import replace

    if markets != "default":
        flt = replace(flt, markets=None if markets is None else tuple(int(m) for m in markets))
    if tickers is not None:
        flt = replace(flt, tickers=tuple(t.strip().upper() for t in tickers))
    frames = list(iter_cotahist(path, flt, name=name))
    if not frames:
        return _empty_frame()
    if len(frames) == 1:
        return frames[0]
    # Blocks share their category lists (each a prefix of the last): join the codes.
    cols = {}
    for col in COTAHIST_COLUMNS:
        if isinstance(frames[0][col].dtype, pd.CategoricalDtype):
            cats = frames[-1][col].cat.categories
            codes = np.concatenate([f[col].cat.codes.to_numpy() for f in frames])
            cols[col] = pd.Categorical.from_codes(codes, categories=cats)
        else:
            cols[col] = np.concatenate([f[col].to_numpy() for f in frames])
    return pd.DataFrame(cols)


def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.Series([], dtype="datetime64[ns]"),
            "ticker": pd.Categorical([]),
            "bdi": pd.Series([], dtype="int16"),
            "market": pd.Series([], dtype="int16"),
            "name": pd.Categorical([]),
            "specification": pd.Categorical([]),
            **{
                c: pd.Series([], dtype="float64")
                for c in ("open", "high", "low", "average", "close")
            },
            "trades": pd.Series([], dtype="int64"),
            "quantity": pd.Series([], dtype="int64"),
            "volume": pd.Series([], dtype="float64"),
            "factor": pd.Series([], dtype="int32"),
            "line": pd.Series([], dtype="int64"),
        }
    )
