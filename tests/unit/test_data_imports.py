"""The importer: one transaction, idempotent, logged, source priority, and every bad input
of issue 3 failing with file and line while the store stays exactly as it was."""

from __future__ import annotations

import gc
import tracemalloc
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import BUNDLED_DIR
from core.data.imports import (
    ImportCancelled,
    import_files,
    import_log,
    set_source_priority,
    source_priority,
)
from core.data.sources.cotahist import CotahistFilter, iter_cotahist
from core.data.store import init_db
from tests.datafiles import build_cotahist, cotahist_bytes, cotahist_daily

TABLES = ("instruments", "bars", "corporate_actions", "source_priority")


def snapshot(store) -> dict:
    out = {}
    with store.engine.connect() as conn:
        for t in TABLES:
            df = pd.read_sql_table(t, conn)
            out[t] = df.sort_values(list(df.columns[:3])).reset_index(drop=True)
    return out


def assert_same(a, b):
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t], obj=t)


@pytest.fixture
def store(tmp_path):
    """A store holding one Yahoo file (PETR4) and the real COTAHIST day."""
    s = init_db("sqlite://")
    rep = import_files(s, [BUNDLED_DIR / "yahoo" / "PETR4.csv.gz"])
    assert rep.status == "ok" and rep.inserted > 3000
    rep = import_files(s, [cotahist_daily(tmp_path)])
    assert rep.status == "ok"
    yield s
    s.dispose()


def test_cotahist_import_counts_and_idempotence(tmp_path):
    s = init_db("sqlite://")
    p = cotahist_daily(tmp_path)
    none = import_files(s, [p])  # an empty store follows nothing: the market is not added
    assert none.inserted == 0 and none.skipped_tickers == 1086
    rep = import_files(s, [p], everything=True)
    assert rep.summary() == {
        "files": 1,
        "instruments": 1086,
        "inserted": 1086,
        "updated": 0,
        "rejected": 0,
        "errors": [],
    }
    before = snapshot(s)
    again = import_files(s, [p])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1086)
    assert_same(before, snapshot(s))
    assert s.instrument("PETR4")["kind"] == "stock"
    assert s.instrument("HGLG11")["kind"] == "fii"  # CODBDI 12
    assert s.instrument("BOVA11")["kind"] == "etf"  # CODBDI 14, index fund
    assert s.instrument("AAPL34")["kind"] == "bdr"  # ESPECI DRN
    assert s.instrument("TAEE11")["kind"] == "stock"  # a unit (ESPECI UNT)
    assert s.instrument("PETR4")["lot_size"] == 100 and s.instrument("HGLG11")["lot_size"] == 1
    assert s.bars("PETR4").iloc[0]["close"] == 29.10
    log = import_log(s)
    assert list(log["status"]) == ["ok", "ok", "ok"]
    assert log["inserted"].tolist() == [0, 1086, 0]
    assert list(log["source"]) == ["cotahist"] * 3


def test_fractional_market_is_optional(tmp_path):
    s = init_db("sqlite://")
    rep = import_files(s, [cotahist_daily(tmp_path)], include_fractional=True, everything=True)
    assert rep.instruments == 1086 + 455
    assert "PETR4F" in s.tickers()


def test_all_or_nothing_across_files(store, tmp_path):
    before = snapshot(store)
    good = tmp_path / "VALE3.SA.csv"
    good.write_bytes(
        __import__("gzip").decompress((BUNDLED_DIR / "yahoo" / "VALE3.csv.gz").read_bytes())
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    rep = import_files(store, [good, bad])
    assert rep.status == "failed" and rep.inserted == 0
    assert rep.errors == [{"file": "bad.csv", "line": 1, "reason": rep.errors[0]["reason"]}]
    assert_same(before, snapshot(store))
    assert import_log(store)["status"].iloc[0] == "failed"


# -- the bad inputs of the issue: clear error, file and line, store unchanged --------------
def _cut_line(tmp_path):
    lines = cotahist_bytes().splitlines(keepends=True)
    lines[200] = lines[200][:100] + b"\r\n"
    p = tmp_path / "COTAHIST_D25062021.TXT"
    p.write_bytes(b"".join(lines))
    return p, 201


def _letters_in_price(tmp_path):
    lines = cotahist_bytes().splitlines(keepends=True)
    rec = bytearray(lines[546])
    rec[56:69] = b"0000000002X69"
    lines[546] = bytes(rec)
    p = tmp_path / "COTAHIST_D25062021.TXT"
    p.write_bytes(b"".join(lines))
    return p, 547


def _trailer(tmp_path):
    p = tmp_path / "COTAHIST_D25062021.TXT"
    p.write_bytes(cotahist_bytes().replace(b"2021062500000007520", b"2021062500000009999"))
    return p, 7520


def _zip_without_member(tmp_path):
    p = tmp_path / "COTAHIST_A2024.ZIP"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("outra_coisa.csv", "a,b\n")
    return p, None


def _empty(tmp_path):
    p = tmp_path / "vazio.csv"
    p.write_bytes(b"")
    return p, None


def _binary(tmp_path):
    p = tmp_path / "imagem.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(1).bytes(3000))
    return p, None


def _unknown_header(tmp_path):
    p = tmp_path / "desconhecido.csv"
    p.write_text("col1,col2,col3\n1,2,3\n")
    return p, 1


def _duplicate_dates(tmp_path):
    p = tmp_path / "ITUB4.SA.csv"
    p.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02,30,31,29.5,30.5,30.5,1000\n"
        "2024-01-03,30.5,31,30,30.8,30.8,1000\n"
        "2024-01-02,30,31,29.5,30.6,30.6,1000\n"
    )
    return p, 4


def _non_session(tmp_path):
    p = tmp_path / "ITUB4.SA.csv"
    p.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-02-09,30,31,29.5,30.5,30.5,1000\n"
        "2024-02-12,30.5,31,30,30.8,30.8,1000\n"  # Carnival Monday: no session
        "2024-02-14,30.5,31,30,30.8,30.8,1000\n"
    )
    return p, 3


BAD = {
    "cotahist line cut short": (_cut_line, "245"),
    "letters in a price field": (_letters_in_price, "PREABE"),
    "trailer count disagrees": (_trailer, "9999"),
    "zip without cotahist": (_zip_without_member, "COTAHIST"),
    "empty file": (_empty, "vazio"),
    "binary file": (_binary, "binário"),
    "csv unknown header": (_unknown_header, "Esperado"),
    "duplicate dates": (_duplicate_dates, "repetida"),
    "non-session dates": (_non_session, "não é um pregão"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_fails_cleanly_store_unchanged(store, tmp_path, case):
    make, needle = BAD[case]
    path, line = make(tmp_path)
    before = snapshot(store)
    rep = import_files(store, [path])
    assert rep.status == "failed", case
    assert (rep.inserted, rep.updated) == (0, 0)
    (err,) = rep.errors
    assert err["file"].startswith(path.name)
    assert err["line"] == line
    assert needle in err["reason"], err
    assert_same(before, snapshot(store))
    assert path.name in rep.message()


def test_large_cotahist_streams_with_bounded_memory(tmp_path):
    """~60 MB COTAHIST (240k records): parsed block by block; peak Python memory stays far
    below the file size (the throughput on >= 1M records is in the benchmark)."""
    p = tmp_path / "COTAHIST_A2015.TXT"
    n = build_cotahist(p, 32)
    size = p.stat().st_size
    assert n == 7518 * 32 and size > 55e6
    gc.collect()
    tracemalloc.start()
    kept = sum(len(b) for b in iter_cotahist(p, CotahistFilter(markets=(10,))))
    _, parse_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert kept == 1086 * 32
    # parsing holds one block (32,768 records), never the file
    assert parse_peak < 0.4 * size, (
        f"parse peak {parse_peak / 1e6:.0f} MB, file {size / 1e6:.0f} MB"
    )
    s = init_db("sqlite://")
    gc.collect()
    tracemalloc.start()
    rep = import_files(s, [p], everything=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rep.status == "ok" and rep.inserted == 1086 * 32
    # the import holds the kept rows (spot market, ~15% of records), not the file
    assert peak < size, f"import peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"
    # a wrong trailer count at the very end of the big file is still caught, nothing written
    data = bytearray(p.read_bytes())
    tr = len(data) - 247  # the trailer record (245 bytes + CRLF)
    assert data[tr : tr + 2] == b"99"
    data[tr + 31 : tr + 42] = b"00000000001"
    bad = tmp_path / "COTAHIST_A2016.TXT"
    bad.write_bytes(bytes(data))
    del data
    before = snapshot(s)
    rep2 = import_files(s, [bad])
    assert rep2.status == "failed" and "registros" in rep2.errors[0]["reason"]
    assert_same(before, snapshot(s))


def test_source_priority_b3_first_then_override(store, tmp_path):
    # the COTAHIST row of 2021-06-25 replaced the Yahoo one (B3 official ranks first)
    day = store.bars("PETR4", "2021-06-25", "2021-06-25")
    assert day["close"].iloc[0] == 29.10
    with store.engine.connect() as conn:
        src = conn.exec_driver_sql(
            "select source from bars b join instruments i on i.id=b.instrument_id "
            "where i.ticker='PETR4' and b.date like '2021-06-25%'"
        ).scalar()
    assert src == "cotahist"
    f = tmp_path / "PETR4.SA.csv"
    f.write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n2021-06-25,29.7,29.8,28.9,29.5,12.0,100\n"
    )
    rep = import_files(store, [f])
    assert (rep.inserted, rep.updated, rep.kept) == (0, 0, 1)
    assert store.bars("PETR4", "2021-06-25", "2021-06-25")["close"].iloc[0] == 29.10
    set_source_priority(store, "PETR4", ["yahoo", "cotahist"])
    assert source_priority(store, "PETR4") == ("yahoo", "cotahist")
    rep = import_files(store, [f])
    assert rep.updated == 1
    assert store.bars("PETR4", "2021-06-25", "2021-06-25")["close"].iloc[0] == 29.5


def test_yahoo_placeholders_rejected_not_errors(tmp_path):
    s = init_db("sqlite://")
    f = tmp_path / "ABEV3.SA.csv"
    f.write_text(
        "Date,Adj Close,Close,High,Low,Open,Volume\n"
        "2018-01-24,15,16,16.2,15.8,15.9,1000\n"
        "2018-01-25,15,16,16,16,16,0\n"  # São Paulo anniversary holiday, Yahoo placeholder
        "2018-01-26,15.1,16.1,16.3,15.9,16,1200\n"
        "2018-01-29,15.1,16.1,19.0,15.9,16,1200\n"
    )
    rep = import_files(s, [f])
    assert rep.status == "ok" and rep.inserted == 3 and rep.rejected == 1
    assert rep.reasons == {"volume zero (marcador do Yahoo)": 1}


def test_cancel_rolls_back(store, tmp_path):
    before = snapshot(store)
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 1  # let parsing start, cancel while writing

    f = tmp_path / "VALE3.SA.csv"
    f.write_bytes(
        __import__("gzip").decompress((BUNDLED_DIR / "yahoo" / "VALE3.csv.gz").read_bytes())
    )
    with pytest.raises(ImportCancelled):
        import_files(store, [f], cancel=cancel)
    assert_same(before, snapshot(store))
    assert import_log(store)["status"].iloc[0] == "cancelled"


def test_progress_is_reported(tmp_path):
    s = init_db("sqlite://")
    seen = []
    import_files(
        s, [cotahist_daily(tmp_path)], progress=lambda f, m: seen.append((f, m)), everything=True
    )
    fr = [f for f, _ in seen]
    assert fr == sorted(fr) and fr[-1] == 1.0 and len(seen) >= 3
