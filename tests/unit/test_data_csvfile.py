"""CSV readers: Yahoo (plain, yfinance multi-index, time zones, actions), investing.com
(pt-BR, real file), ProfitChart (hand-made from Nelogica's documented export layout) and
user-mapped CSV; unknown layouts list what was expected."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import BUNDLED_DIR, read_yahoo_csv
from core.data.sources.csvfile import detect_format, read_csv_bars, ticker_from_filename
from core.errors import DataFormatError
from tests.datafiles import shared_data


def test_yahoo_plain_matches_bundled_reader(tmp_path):
    src = BUNDLED_DIR / "yahoo" / "PETR4.csv.gz"
    p = read_csv_bars(src)
    assert p.format == "yahoo" and list(p.bars) == ["PETR4"]
    ours = p.bars["PETR4"].drop(columns="line")
    ref = read_yahoo_csv(src)
    pd.testing.assert_frame_equal(ours, ref, check_freq=False)
    assert p.bars["PETR4"]["line"].iloc[0] == 2


def test_yahoo_multiindex_header():
    p = read_csv_bars(BUNDLED_DIR / "BVSP.csv.gz")
    b = p.bars["^BVSP"]
    assert p.kinds["^BVSP"] == "index"
    assert b.index[0] == pd.Timestamp("2008-01-02") and b["close"].iloc[0] == 62815.0
    assert b["line"].iloc[0] == 4
    assert (b["adj_close"] == b["close"]).all()  # no Adj Close column


def test_yahoo_timezones_and_actions(tmp_path):
    # Ticker.history().to_csv() layout: tz-aware dates, no Adj Close, actions columns.
    f = tmp_path / "VALE3.SA.csv"
    f.write_text(
        "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
        "2024-03-07 00:00:00-03:00,65.5,66.0,65.0,65.8,1000,0.0,0.0\n"
        "2024-03-08 00:00:00-03:00,65.8,66.2,65.1,66.0,1200,2.09,0.0\n"
        "2024-03-11 00:00:00-03:00,64.0,64.5,63.2,63.9,900,0.0,2.0\n"
    )
    p = read_csv_bars(f)
    b = p.bars["VALE3"]
    assert list(b.index) == list(pd.to_datetime(["2024-03-07", "2024-03-08", "2024-03-11"]))
    assert (b["adj_close"] == b["close"]).all()
    acts = p.actions.set_index("kind")
    assert acts.loc["dividend", "value"] == 2.09
    assert acts.loc["split", "date"] == pd.Timestamp("2024-03-11")


@pytest.mark.skipif(shared_data() is None, reason="needs ../shared/data")
def test_investing_real_file_against_yahoo_index():
    p = read_csv_bars(shared_data() / "investing" / "ibovespa_2011-01-03_2025-06-30.csv")
    assert p.format == "investing" and list(p.bars) == ["^BVSP"]
    b = p.bars["^BVSP"]
    assert len(b) == 3592 and b.index.is_monotonic_increasing
    assert b.index[-1] == pd.Timestamp("2025-06-30")
    last = b.iloc[-1]
    assert (last["close"], last["open"], last["high"], last["low"]) == (
        138855,
        136865,
        139103,
        136430,
    )
    assert last["volume"] == pytest.approx(7.68e9)
    assert b["line"].iloc[-1] == 2  # newest first in the file
    y = read_csv_bars(BUNDLED_DIR / "BVSP.csv.gz").bars["^BVSP"]
    common = b.index.intersection(y.index)
    same = (b.loc[common, "close"] == y.loc[common, "close"]).mean()
    assert same > 0.9  # SOURCES.md: 4139 of 4330 shared closes identical


def test_investing_suffixes_and_decimal_comma(tmp_path):
    f = tmp_path / "PETR4 Dados Históricos.csv"
    f.write_text(
        '\ufeff"Data","Último","Abertura","Máxima","Mínima","Vol.","Var%"\n'
        '"03.01.2024","38,10","37,50","38,20","37,40","850,5K","1,60%"\n'
        '"02.01.2024","37,50","37,00","37,60","36,90","1,28M","-0,18%"\n',
        encoding="utf-8",
    )
    b = read_csv_bars(f).bars["PETR4"]
    assert b["close"].tolist() == [37.5, 38.1]
    assert b["volume"].tolist() == [1.28e6, 850.5e3]


PROFIT_HEADER = (
    "Ativo;Data;Abertura;Máxima;Mínima;Fechamento;Volume;Quantidade\n"
    "PETR4;02/01/2024;37,00;37,60;36,90;37,50;1.234.567,89;32.921.000\n"
    "PETR4;03/01/2024;37,50;38,20;37,40;38,10;2.000.000,00;52.493.000\n"
    "VALE3;02/01/2024;77,00;78,00;76,50;77,90;3.000.000,00;38.510.000\n"
)


def test_profit_with_and_without_header(tmp_path):
    f = tmp_path / "export.csv"
    f.write_text(PROFIT_HEADER, encoding="latin-1")
    p = read_csv_bars(f)
    assert p.format == "profit" and sorted(p.bars) == ["PETR4", "VALE3"]
    assert p.bars["PETR4"]["close"].tolist() == [37.5, 38.1]
    assert p.bars["PETR4"]["volume"].tolist() == [32_921_000, 52_493_000]
    g = tmp_path / "sem_cabecalho.csv"
    g.write_text("\n".join(PROFIT_HEADER.splitlines()[1:]) + "\n")
    q = read_csv_bars(g)
    assert q.format == "profit"
    pd.testing.assert_frame_equal(
        q.bars["VALE3"].drop(columns="line"), p.bars["VALE3"].drop(columns="line")
    )
    assert q.bars["PETR4"]["line"].tolist() == [1, 2]


def test_profit_intraday(tmp_path):
    f = tmp_path / "win.csv"
    f.write_text(
        "Ativo;Data;Hora;Abertura;Máxima;Mínima;Fechamento;Volume;Quantidade\n"
        "PETR4;02/01/2024;10:00:00;37,00;37,10;36,95;37,05;100,00;1.000\n"
        "PETR4;02/01/2024;10:05:00;37,05;37,20;37,00;37,15;100,00;2.000\n"
    )
    p = read_csv_bars(f)
    assert p.interval == "5m"
    assert p.bars["PETR4"].index[1] == pd.Timestamp("2024-01-02 10:05")


def test_generic_mapped_csv(tmp_path):
    f = tmp_path / "minha_planilha.csv"
    f.write_text("dia;fech;vol\n25/06/2021;29,10;100\n28/06/2021;29,05;200\n")
    p = read_csv_bars(
        f,
        "csv",
        ticker="petr4",
        mapping={"date": "dia", "close": "fech", "volume": "vol", "decimal": ",", "dayfirst": True},
    )
    b = p.bars["PETR4"]
    assert b.index.tolist() == list(pd.to_datetime(["2021-06-25", "2021-06-28"]))
    assert b["open"].tolist() == [29.10, 29.05] and b["volume"].tolist() == [100, 200]
    with pytest.raises(DataFormatError, match="colunas mapeadas"):
        read_csv_bars(f, "csv", ticker="X", mapping={"date": "data", "close": "fech"})


def test_unknown_header_lists_expected(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("foo,bar\n1,2\n")
    with pytest.raises(DataFormatError) as ei:
        read_csv_bars(f)
    msg = str(ei.value)
    assert "x.csv" in msg and "linha 1" in msg
    for expected in ("COTAHIST", "Yahoo", "investing.com", "ProfitChart", "csv"):
        assert expected in msg


def test_bad_number_names_line(tmp_path):
    f = tmp_path / "PETR4.SA.csv"
    f.write_text(
        "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,1,1.5,10\n2024-01-03,1,2,abc,1.5,10\n"
    )
    with pytest.raises(DataFormatError) as ei:
        read_csv_bars(f)
    assert ei.value.line == 3 and "abc" in str(ei.value)


def test_detect_and_ticker_helpers(tmp_path):
    assert detect_format("Date,Open,High,Low,Close,Adj Close,Volume\n") == "yahoo"
    assert detect_format('\ufeff"Data","Último","Abertura"') == "investing"
    assert detect_format("PETR4;02/01/2024;1;2;3;4;5;6") == "profit"
    assert detect_format("hello world") is None
    assert ticker_from_filename("B3SA3.SA.csv") == "B3SA3"
    assert ticker_from_filename("Dados Históricos - Ibovespa.csv") == "^BVSP"
    assert ticker_from_filename("planilha.csv") is None
    f = tmp_path / "sem_ticker.csv"
    shutil.copy(BUNDLED_DIR / "yahoo" / "VALE3.csv.gz", tmp_path / "x.gz")
    f.write_bytes(__import__("gzip").decompress((tmp_path / "x.gz").read_bytes()))
    with pytest.raises(DataFormatError, match="ticker"):
        read_csv_bars(f)
    assert np.isfinite(read_csv_bars(f, ticker="VALE3").bars["VALE3"]["close"]).all()


def test_yahoo_multiindex_several_tickers(tmp_path):
    f = tmp_path / "carteira.csv"
    f.write_text(
        "Price,Close,Close,High,High,Low,Low,Open,Open,Volume,Volume\n"
        "Ticker,PETR4.SA,VALE3.SA,PETR4.SA,VALE3.SA,PETR4.SA,VALE3.SA,PETR4.SA,VALE3.SA,PETR4.SA,VALE3.SA\n"
        "Date,,,,,,,,,,\n"
        "2024-01-02,37.5,77.9,37.6,78.0,36.9,76.5,37.0,77.0,100,200\n"
        "2024-01-03,38.1,78.2,38.2,78.5,37.4,77.5,37.5,77.9,100,200\n"
    )
    p = read_csv_bars(f)
    assert sorted(p.bars) == ["PETR4", "VALE3"]
    assert p.bars["VALE3"]["close"].tolist() == [77.9, 78.2]
    assert p.bars["PETR4"]["open"].tolist() == [37.0, 37.5]
    assert p.bars["PETR4"]["line"].tolist() == [4, 5]
