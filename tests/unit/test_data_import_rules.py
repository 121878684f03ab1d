"""Issue 9/11 import rules: vendor placeholders, ticker syntax, whole-market selection,
re-import unchanged, concurrent imports (each test fails on the code before this change)."""

from __future__ import annotations

import pytest

from core.data.imports import import_files, import_log
from core.data.store import init_db
from tests.datafiles import cotahist_bytes, cotahist_daily

INVESTING_HEAD = '\ufeff"Data","Último","Abertura","Máxima","Mínima","Vol.","Var%"\n'


def _investing(tmp_path, rows, name="ibovespa_teste.csv"):
    p = tmp_path / name
    p.write_text(INVESTING_HEAD + "".join(rows), encoding="utf-8")
    return p


ROWS = [
    '"22.11.2024","129.000","128.000","129.500","127.900","9,00M","0,50%"\n',
    '"21.11.2024","128.000","127.000","128.500","126.900","9,10M","0,70%"\n',
]
# 20/11/2024 (Consciência Negra) was not a B3 session
PLACEHOLDER = '"20.11.2024","127.100","127.000","127.500","126.800","9,20M","0,00%"\n'
PREV = '"19.11.2024","127.100","127.000","127.500","126.800","9,20M","0,34%"\n'


def test_placeholder_row_is_dropped_counted_and_listed(tmp_path):
    s = init_db("sqlite://")
    p = _investing(tmp_path, [*ROWS, PLACEHOLDER, PREV])
    rep = import_files(s, [p])
    assert rep.status == "ok" and rep.inserted == 3
    assert [(x["date"].strftime("%Y-%m-%d"), x["line"]) for x in rep.placeholders] == [
        ("2024-11-20", 4)
    ]
    assert "preenchimento" in rep.message() and "20/11/2024" in rep.message()
    strict = init_db("sqlite://")
    bad = import_files(strict, [p], strict=True)
    assert bad.status == "failed" and bad.errors[0]["line"] == 4 and strict.is_empty()


def test_other_non_session_row_still_fails_naming_its_line(tmp_path):
    s = init_db("sqlite://")
    other = '"20.11.2024","127.900","127.000","128.500","126.800","9,20M","0,60%"\n'
    rep = import_files(s, [_investing(tmp_path, [*ROWS, other, PREV])])
    assert rep.status == "failed" and rep.errors[0]["line"] == 4 and s.is_empty()


def test_real_investing_file_imports():
    from tests.datafiles import shared_data

    root = shared_data()
    if root is None:
        pytest.skip("shared data not available")
    s = init_db("sqlite://")
    rep = import_files(s, [root / "investing" / "ibovespa_2011-01-03_2025-06-30.csv"])
    assert rep.status == "ok" and rep.inserted == 3592


def test_reimport_reports_every_row_unchanged_and_log_names_source(tmp_path):
    s = init_db("sqlite://")
    p = _investing(tmp_path, ROWS)
    import_files(s, [p])
    again = import_files(s, [p])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    missing = tmp_path / "sub" / "nao_existe.csv"
    bad = import_files(s, [missing], "investing")
    assert str(missing) in bad.errors[0]["file"]
    assert import_log(s)["source"].iloc[0] == "investing"  # not "?"


@pytest.mark.parametrize("bad", ["PETR4'; DROP TABLE bars;--", "<script>x</script>"])
def test_malformed_ticker_is_refused_by_the_cli(tmp_path, bad, capsys, monkeypatch):
    from dashboard.cli import main

    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path / "data"))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    f = tmp_path / "x.csv"
    f.write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,10\n")
    assert main(["import", str(f), "--ticker", bad, "--format", "yahoo", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "ticker inválido" in err.lower() and len(err.strip().splitlines()) == 1
    s = init_db(db)
    assert not any("DROP" in t or "<" in t for t in s.tickers())


def test_malformed_cotahist_ticker_fails_naming_the_line(tmp_path):
    data = bytearray(cotahist_bytes())
    rec = 247  # second line: first quote record (245 bytes + CRLF)
    data[rec + 12 : rec + 24] = b"PE;TR4'     "
    p = tmp_path / "COTAHIST_D25062021.TXT"
    p.write_bytes(bytes(data))
    s = init_db("sqlite://")
    rep = import_files(s, [p], everything=True)
    assert rep.status == "failed" and rep.errors[0]["line"] == 2
    assert "Ticker inválido" in rep.errors[0]["reason"] and s.is_empty()


def test_whole_market_file_adds_only_followed_or_requested(tmp_path):
    s = init_db("sqlite://")
    s.upsert_instrument("PETR4")
    p = cotahist_daily(tmp_path)
    rep = import_files(s, [p])
    assert rep.tickers == ["PETR4"] and rep.skipped_tickers == 1085
    rep = import_files(s, [p], tickers=["VALE3"], kinds=["etf"])
    kinds = s.instruments().set_index("ticker")["kind"]
    assert "VALE3" in kinds and (kinds == "etf").sum() > 5
    assert set(kinds) <= {"stock", "etf"}


def test_two_imports_at_once_do_not_crash(tmp_path):
    """Two CLI imports of a whole market at once on one SQLite file: no traceback."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    url = f"sqlite:///{tmp_path / 'two.db'}"
    init_db(url).dispose()
    p1 = cotahist_daily(tmp_path)
    env = {"PREGAO_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "dashboard", "import", str(p1), "--all", "--db", url]
    procs = [
        subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode in (0, 2), err.decode()
        assert "Traceback" not in err.decode()
    assert any(p.returncode == 0 for p in procs)
    assert len(init_db(url).tickers()) >= 1086  # the whole market, written once


@pytest.mark.parametrize(
    "header",
    [
        "Data;Abertura;Máxima;Mínima;Fechamento;Volume",
        "Data;Último;Abertura;Máxima;Mínima;Vol.",
        "Data;Abertura;Máxima;Mínima;Fech.;Quantidade;Negócios",
    ],
)
def test_brazilian_spreadsheet_csv_is_detected(tmp_path, header):
    """Regression: this layout was rejected as "layout desconhecido"."""
    cols = header.split(";")
    vals = {
        "Data": ["02/01/2024", "03/01/2024"],
        "Abertura": ["1.234,50", "1.240,00"],
        "Máxima": ["1.250,00", "1.260,00"],
        "Mínima": ["1.230,00", "1.235,00"],
        "Fechamento": ["1.245,10", "1.255,00"],
        "Fech.": ["1.245,10", "1.255,00"],
        "Último": ["1.245,10", "1.255,00"],
        "Volume": ["1.000.000", "2.000.000"],
        "Vol.": ["1,5M", "2,0M"],
        "Quantidade": ["12.300", "45.600"],
        "Negócios": ["10", "20"],
    }
    lines = [header] + [";".join(vals[c][k] for c in cols) for k in range(2)]
    p = tmp_path / "PETR4_planilha.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    s = init_db("sqlite://")
    rep = import_files(s, [p])
    assert rep.status == "ok" and rep.formats == ["planilha"], rep.message()
    b = s.bars("PETR4")
    assert b["close"].tolist() == [1245.10, 1255.00]
    if "Quantidade" in cols:
        assert b["volume"].tolist() == [12300, 45600]
    else:  # a financial volume (R$) is not written into a series of shares
        assert s.instrument("PETR4")["volume_unit"] == "brl"


def test_investing_index_volume_never_replaces_yahoo_volume(empty_store, tmp_path):
    """Regression: investing.com's ^BVSP volumes (~1000x Yahoo's) replaced Yahoo's."""
    from core.data.bundled import read_bundled_bars
    from tests.datafiles import shared_data

    root = shared_data()
    if root is None:
        pytest.skip("shared data not available")
    bundled_store = empty_store  # the shared bundled store must not change
    bundled_store.upsert_instrument("^BVSP", name="Índice Bovespa", kind="index")
    bundled_store.write_bars("^BVSP", read_bundled_bars("^BVSP")[0], "bundled")
    before = bundled_store.bars("^BVSP", "2025-06-02", "2025-06-27")["volume"]
    rep = import_files(bundled_store, [root / "investing" / "ibovespa_2011-01-03_2025-06-30.csv"])
    assert rep.status == "ok" and rep.volume_dropped > 0
    after = bundled_store.bars("^BVSP", "2025-06-02", "2025-06-27")["volume"]
    assert after.tolist() == before.tolist()
    assert bundled_store.instrument("^BVSP")["volume_unit"] == "points"
