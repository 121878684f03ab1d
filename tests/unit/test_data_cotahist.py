"""COTAHIST parser: the real B3 daily file of 2021-06-25 checked field by field against a
naive reference parser written from B3's layout document, against the bundled Yahoo data,
and every malformed-input case."""

from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.data.sources.cotahist import (
    ALL_RECORDS,
    CotahistFilter,
    iter_cotahist,
    read_cotahist,
)
from core.errors import DataFormatError
from tests.datafiles import cotahist_bytes, cotahist_daily, cotahist_lines


def reference_parse(data: bytes) -> pd.DataFrame:
    """Record-by-record parser straight from the layout (slow, obviously right)."""
    rows = []
    for k, line in enumerate(data.decode("latin-1").splitlines(), start=1):
        if line[:2] != "01":
            continue
        fat = int(line[210:217])
        rows.append(
            {
                "date": pd.Timestamp(line[2:10]),
                "ticker": line[12:24].strip(),
                "bdi": int(line[10:12]),
                "market": int(line[24:27]),
                "name": line[27:39].strip(),
                "specification": line[39:49].strip(),
                "open": int(line[56:69]) / 100 / fat,
                "high": int(line[69:82]) / 100 / fat,
                "low": int(line[82:95]) / 100 / fat,
                "average": int(line[95:108]) / 100 / fat,
                "close": int(line[108:121]) / 100 / fat,
                "trades": int(line[147:152]),
                "quantity": int(line[152:170]),
                "volume": int(line[170:188]) / 100,
                "factor": fat,
                "line": k,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def daily(tmp_path_factory):
    return cotahist_daily(tmp_path_factory.mktemp("cot"))


def test_every_field_matches_reference_parser(daily):
    ours = read_cotahist(daily, ALL_RECORDS)
    ref = reference_parse(daily.read_bytes())
    assert len(ours) == len(ref) == 7518
    for col in ref.columns:
        a = ours[col].astype(str if col in ("ticker", "name", "specification") else ref[col].dtype)
        if ref[col].dtype.kind == "f":
            np.testing.assert_allclose(a.to_numpy(), ref[col].to_numpy(), rtol=0, atol=1e-12)
        else:
            assert (a.to_numpy() == ref[col].to_numpy()).all(), col


def test_default_filter_keeps_spot_and_fractional(daily):
    df = read_cotahist(daily)
    assert set(df["market"]) == {10, 20}
    assert len(df) == 1086 + 455
    assert not df["bdi"].isin([74, 75]).any()
    spot = read_cotahist(daily, markets=[10])
    assert len(spot) == 1086
    petr = read_cotahist(daily, tickers=["petr4", "PETR4F"])
    assert sorted(petr["ticker"].astype(str)) == ["PETR4", "PETR4F"]
    with_options = read_cotahist(daily, CotahistFilter(markets=None, exclude_index_options=False))
    assert with_options["bdi"].isin([74, 75]).sum() == 37 + 54


def test_petr4_record(daily):
    r = read_cotahist(daily, tickers=["PETR4"]).iloc[0]
    assert r["date"] == pd.Timestamp("2021-06-25")
    assert (r["open"], r["high"], r["low"], r["average"], r["close"]) == (
        29.69,
        29.79,
        28.95,
        29.41,
        29.10,
    )
    assert r["quantity"] == 84_950_900 and r["trades"] == 78_340
    assert r["volume"] == pytest.approx(2_498_432_530.00)


@pytest.mark.parametrize("ticker", ["PETR4", "VALE3", "ITUB4", "ABEV3", "B3SA3", "PRIO3"])
def test_matches_bundled_yahoo_on_2021_06_25(daily, bundled_store, ticker):
    """SOURCES.md: Yahoo raw OHLCV equals COTAHIST for these six on 2021-06-25."""
    c = read_cotahist(daily, markets=[10], tickers=[ticker]).iloc[0]
    y = bundled_store.bars(ticker, "2021-06-25", "2021-06-25").iloc[0]
    for col in ("open", "high", "low", "close"):
        assert c[col] == pytest.approx(y[col], rel=1e-6), col
    assert c["quantity"] == y["volume"]


def test_fatcot_divides_prices(tmp_path):
    header, recs, _ = cotahist_lines()
    rec = bytearray(recs[0])
    rec[210:217] = b"0001000"
    p = tmp_path / "COTAHIST_D25062021.TXT"
    trailer = b"99COTAHIST.2021BOVESPA 20210625" + b"00000000003"
    p.write_bytes(header + bytes(rec) + trailer.ljust(245) + b"\r\n")
    df = read_cotahist(p, ALL_RECORDS)
    ref = reference_parse(recs[0])
    assert df["close"].iloc[0] == pytest.approx(ref["close"].iloc[0] / 1000)
    assert df["factor"].iloc[0] == 1000


def test_zip_gzip_lf_and_small_blocks_agree(tmp_path, daily):
    base = read_cotahist(daily, ALL_RECORDS)
    z = tmp_path / "COTAHIST_D25062021.ZIP"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("COTAHIST_D25062021.TXT", cotahist_bytes())
    g = tmp_path / "COTAHIST_D25062021.TXT.gz"
    g.write_bytes(gzip.compress(cotahist_bytes()))
    lf = tmp_path / "COTAHIST_LF.TXT"
    lf.write_bytes(cotahist_bytes().replace(b"\r\n", b"\n"))
    noterm = tmp_path / "COTAHIST_NOEOL.TXT"
    noterm.write_bytes(cotahist_bytes().rstrip(b"\r\n"))
    for p in (z, g, lf, noterm):
        other = read_cotahist(p, ALL_RECORDS)
        pd.testing.assert_frame_equal(
            other.drop(columns=["ticker", "name", "specification"]),
            base.drop(columns=["ticker", "name", "specification"]),
        )
        assert (other["ticker"].astype(str) == base["ticker"].astype(str)).all()
    blocks = list(iter_cotahist(daily, ALL_RECORDS, block_records=1000))
    assert len(blocks) == 8
    joined = pd.concat(blocks, ignore_index=True)
    assert (joined["line"].to_numpy() == base["line"].to_numpy()).all()
    np.testing.assert_array_equal(joined["close"].to_numpy(), base["close"].to_numpy())


# -- malformed input: a clear error naming file and line -----------------------------------
def _write(tmp_path, data: bytes, name="COTAHIST_D25062021.TXT"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_line_cut_short(tmp_path):
    lines = cotahist_bytes().splitlines(keepends=True)
    lines[100] = lines[100][:120] + b"\r\n"
    p = _write(tmp_path, b"".join(lines))
    with pytest.raises(DataFormatError) as ei:
        read_cotahist(p)
    assert ei.value.file == p.name and ei.value.line == 101
    assert "245" in str(ei.value) and "linha 101" in str(ei.value)


def test_letters_in_price_field(tmp_path):
    lines = cotahist_bytes().splitlines(keepends=True)
    rec = bytearray(lines[546])  # PETR4, line 547
    rec[108:121] = b"00000000029AB"
    lines[546] = bytes(rec)
    p = _write(tmp_path, b"".join(lines))
    with pytest.raises(DataFormatError) as ei:
        read_cotahist(p, ALL_RECORDS)
    assert ei.value.line == 547 and "PREULT" in str(ei.value) and "29AB" in str(ei.value)


def test_trailer_count_disagrees(tmp_path):
    data = cotahist_bytes().replace(b"2021062500000007520", b"2021062500000007521")
    p = _write(tmp_path, data)
    with pytest.raises(DataFormatError) as ei:
        read_cotahist(p)
    assert "7521" in str(ei.value) and "7520" in str(ei.value) and ei.value.line == 7520


def test_missing_trailer_and_data_after_trailer(tmp_path):
    lines = cotahist_bytes().splitlines(keepends=True)
    p = _write(tmp_path, b"".join(lines[:-1]))
    with pytest.raises(DataFormatError, match="trailer"):
        read_cotahist(p)
    p = _write(tmp_path, b"".join(lines + [lines[5]]))
    with pytest.raises(DataFormatError, match="após o trailer"):
        read_cotahist(p)


def test_zip_without_cotahist_member(tmp_path):
    z = tmp_path / "dados.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("leiame.txt", "nada aqui")
    with pytest.raises(DataFormatError) as ei:
        read_cotahist(z)
    assert ei.value.file == "dados.zip" and "leiame.txt" in str(ei.value)


def test_empty_and_binary_files(tmp_path):
    with pytest.raises(DataFormatError, match="vazio"):
        read_cotahist(_write(tmp_path, b"", "vazio.txt"))
    rng = np.random.default_rng(0)
    with pytest.raises(DataFormatError, match="COTAHIST") as ei:
        read_cotahist(_write(tmp_path, rng.bytes(5000), "lixo.bin"))
    assert ei.value.line == 1


def test_invalid_date(tmp_path):
    lines = cotahist_bytes().splitlines(keepends=True)
    rec = bytearray(lines[10])
    rec[2:10] = b"20211345"
    lines[10] = bytes(rec)
    with pytest.raises(DataFormatError, match="data inválida") as ei:
        read_cotahist(_write(tmp_path, b"".join(lines)), ALL_RECORDS)
    assert ei.value.line == 11


def test_read_from_memory_sized_blocks_is_bounded(tmp_path):
    """Blocks never exceed block_records rows (the streaming contract)."""
    header, recs, _ = cotahist_lines()
    buf = io.BytesIO()
    buf.write(header)
    for r in recs * 3:
        buf.write(r)
    buf.write(
        (b"99COTAHIST.2021BOVESPA 20210625" + f"{len(recs) * 3 + 2:011d}".encode()).ljust(245)
        + b"\r\n"
    )
    p = _write(tmp_path, buf.getvalue())
    sizes = [len(b) for b in iter_cotahist(p, ALL_RECORDS, block_records=5000)]
    assert max(sizes) <= 5000 and sum(sizes) == len(recs) * 3
