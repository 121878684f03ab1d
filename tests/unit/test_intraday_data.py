"""Issue 14 (Data): intraday layouts, B3 session hours, the bundled WINFUT series,
resampling inside sessions and the futures contract table."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from core.data import intraday as intraday_mod
from core.data.bundled import BUNDLED_DIR, bundled_intraday
from core.data.futures import FUTURES, futures_root, futures_spec, is_future_ticker
from core.data.imports import detect_file_format, import_files, parse_file
from core.data.intraday import (
    check_sessions,
    infer_interval,
    normalize_interval,
    read_intraday_file,
)
from core.data.resample import bars_at, resample_bars
from core.errors import DataFormatError, DataSourceError, InputError

WIN_GZ = BUNDLED_DIR / "intraday" / "WINFUT_5min_2021-08-23_2022-05-18.csv.gz"
HEAD = "\ufeffData;Open;High;Low;Close;Candle\n"


@pytest.fixture(scope="module")
def win() -> pd.DataFrame:
    return read_intraday_file(WIN_GZ, ticker="WINFUT").bars["WINFUT"]


# -- the bundled file ---------------------------------------------------------------------
def test_bundled_win_file_reads_as_documented(win):
    assert len(win) == 20_001
    assert win.index.is_monotonic_increasing and win.index.is_unique
    assert win.index[0] == pd.Timestamp("2021-08-23 12:15")
    assert win.index[-1] == pd.Timestamp("2022-05-18 17:50")
    assert win.index.normalize().nunique() == 183
    # the newest-first file: the last file line is the oldest bar
    assert int(win["line"].iloc[0]) == 20_002 and int(win["line"].iloc[-1]) == 2
    px = win[["open", "high", "low", "close"]].to_numpy()
    assert (np.mod(px, 5) == 0).all()  # WIN's tick
    assert (win["volume"] == 0).all()
    # Ash Wednesday (02/03/2022): B3 opened at 13:00 and so does the file
    assert win.loc["2022-03-02"].index[0] == pd.Timestamp("2022-03-02 13:00")


def test_fast_reader_equals_line_checked_reader(monkeypatch, win):
    monkeypatch.setattr(intraday_mod, "_fast_intraday", lambda *a, **k: None)
    slow = read_intraday_file(WIN_GZ, ticker="WINFUT").bars["WINFUT"]
    pd.testing.assert_frame_equal(slow, win)


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_fast_reader_equals_line_checked_reader_on_decimals(tmp_path, monkeypatch, eol):
    rows = [
        "03/01/2022 10:10;104000.5;104100.25;103900;104050.75;3",
        "03/01/2022 10:05;0.1;0.3;0.1;0.2;12",
        "03/01/2022 10:00;1234567.125;1234568;1234566.5;1234567;0",
    ]
    f = _write(tmp_path, "WINFUT.csv", HEAD.replace("\n", eol) + eol.join(rows) + eol)
    fast = read_intraday_file(f).bars["WINFUT"]
    assert fast["close"].tolist() == [1234567.0, 0.2, 104050.75]
    monkeypatch.setattr(intraday_mod, "_fast_intraday", lambda *a, **k: None)
    pd.testing.assert_frame_equal(read_intraday_file(f).bars["WINFUT"], fast, rtol=0, atol=0)


def test_bundled_manifest_and_file_are_the_shared_bytes():
    man = bundled_intraday()
    row = man.set_index("ticker").loc["WINFUT"]
    assert (row["kind"], row["interval"]) == ("future", "5min")
    raw = gzip.decompress(WIN_GZ.read_bytes())
    assert raw.startswith(b"\xef\xbb\xbfData;Open;High;Low;Close;Candle")
    assert raw.count(b"\n") == 20_002


def test_bundled_store_holds_winfut_at_5min(bundled_store, win):
    inst = bundled_store.instrument("WINFUT")
    assert (inst["kind"], inst["lot_size"], inst["currency"]) == ("future", 1, "PTS")
    got = bundled_store.bars("WINFUT", interval="5min")
    pd.testing.assert_frame_equal(got, win.drop(columns="line"), check_freq=False)
    assert bundled_store.bars("WINFUT").empty  # daily bars are derived, never stored


# -- layouts and session checks -----------------------------------------------------------
def _write(tmp_path, name, text, encoding="utf-8"):
    f = tmp_path / name
    f.write_bytes(text.encode(encoding))
    return f


def test_intraday_layout_detected_and_imported(tmp_path, empty_store):
    f = _write(
        tmp_path,
        "WINFUT_teste.csv",
        HEAD + "03/01/2022 09:05;104000;104100;103900;104050;2\n"
        "03/01/2022 09:00;103950;104010;103800;104000;1\n",
    )
    assert detect_file_format(f) == "intraday"
    p = parse_file(f)
    assert p.interval == "5min" and p.kinds == {"WINFUT": "future"}
    rep = import_files(empty_store, [f])
    assert rep.status == "ok", rep.message()
    bars = empty_store.bars("WINFUT", interval="5min")
    assert list(bars.index) == [pd.Timestamp("2022-01-03 09:00"), pd.Timestamp("2022-01-03 09:05")]
    assert bars["close"].tolist() == [104000.0, 104050.0]
    assert empty_store.instrument("WINFUT")["kind"] == "future"


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("21/04/2022 10:00;104000;104100;103900;104050;1", "não é um pregão"),  # Tiradentes
        ("03/01/2022 08:30;104000;104100;103900;104050;1", "antes da abertura"),
        ("03/01/2022 18:30;104000;104100;103900;104050;1", "depois do fim"),
        ("03/01/2022 10:03;104000;104100;103900;104050;1", "grade de 5 minutos"),
        ("03/01/2022 10:10;104000;abc;103900;104050;1", "não numérico"),
        ("31/02/2022 10:10;104000;104100;103900;104050;1", "data/hora inválida"),
        # a stray field: the fast reader (numeric columns only) must not skip past it
        ("03/01/2022 10:10;104000;104100;103900;104050;1;7", "malformado"),
    ],
)
def test_intraday_layout_bad_line_is_named(tmp_path, empty_store, line, fragment):
    good = [
        f"03/01/2022 {h}:{m:02d};104000;104100;103900;104050;1" for h in (11,) for m in (0, 5, 10)
    ]
    f = _write(tmp_path, "WINFUT.csv", HEAD + "\n".join([good[0], good[1], line, good[2]]) + "\n")
    with pytest.raises(DataFormatError) as ei:
        parse_file(f)
    assert ei.value.line == 4 and fragment in ei.value.message
    rep = import_files(empty_store, [f])
    assert rep.status == "failed" and rep.errors[0]["line"] == 4
    assert empty_store.tickers() == []  # nothing written


MT5 = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    "2022.01.03\t09:00:00\t103950\t104010\t103800\t104000\t5120\t18210\t5\n"
    "2022.01.03\t09:05:00\t104000\t104100\t103900\t104050\t3980\t12011\t5\n"
    "2022.01.03\t09:10:00\t104050\t104120\t104000\t104100\t2500\t9000\t5\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_mt5_export_bars(tmp_path, empty_store, encoding):
    f = _write(tmp_path, "WIN$N_M5.csv", MT5, encoding)
    assert detect_file_format(f) == "mt5bars"
    p = parse_file(f)
    b = p.bars["WINFUT"]  # WIN$N (MT5's continuous WIN) is stored as WINFUT
    assert p.interval == "5min" and p.kinds["WINFUT"] == "future"
    assert b.index[0] == pd.Timestamp("2022-01-03 09:00")
    assert b["volume"].tolist() == [18210.0, 12011.0, 9000.0]  # <VOL>, not <TICKVOL>
    assert import_files(empty_store, [f]).status == "ok"
    assert len(empty_store.bars("WINFUT", interval="5min")) == 3


def test_mt5_export_in_utc_fails_naming_the_line(tmp_path):
    shifted = MT5.replace("\t09:10:00", "\t21:10:00")  # a bar 3 h late: server in UTC
    f = _write(tmp_path, "WINFUT_M5.csv", shifted)
    with pytest.raises(DataFormatError) as ei:
        parse_file(f)
    assert ei.value.line == 4 and "UTC" in ei.value.message


def test_mt5_bad_number_is_named(tmp_path):
    f = _write(tmp_path, "WINFUT_M5.csv", MT5.replace("104050\t104120", "104050\tx"))
    with pytest.raises(DataFormatError) as ei:
        parse_file(f)
    assert ei.value.line == 4 and "<HIGH>" in ei.value.message


PROFIT = (
    "Ativo;Data;Hora;Abertura;Máxima;Mínima;Fechamento;Volume;Quantidade\n"
    "WINFUT;03/01/2022;09:00:00;103.950;104.010;103.800;104.000;1.000.000,00;48.000\n"
    "WINFUT;03/01/2022;09:15:00;104.000;104.100;103.900;104.050;900.000,00;43.000\n"
    "WINFUT;03/01/2022;09:30:00;104.050;104.120;104.000;104.100;800.000,00;38.000\n"
)


def test_profitchart_intraday_export(tmp_path, empty_store):
    f = _write(tmp_path, "profit.csv", PROFIT)
    assert detect_file_format(f) == "profit"
    p = parse_file(f)
    assert p.interval == "15min" and p.kinds["WINFUT"] == "future" and p.lots["WINFUT"] == 1
    assert import_files(empty_store, [f]).status == "ok"
    got = empty_store.bars("WINFUT", interval="15min")
    assert got["volume"].tolist() == [48000.0, 43000.0, 38000.0]


def test_profitchart_intraday_bar_on_saturday_is_named(tmp_path):
    f = _write(
        tmp_path, "profit.csv", PROFIT.replace("WINFUT;03/01/2022;09:30", "WINFUT;01/01/2022;09:30")
    )
    with pytest.raises(DataFormatError) as ei:
        parse_file(f)
    assert ei.value.line == 4 and "não é um pregão" in ei.value.message


def test_stock_window_starts_later_than_futures():
    d = pd.DatetimeIndex(["2022-01-03 09:00"])
    check_sessions(d, kind="future")
    with pytest.raises(DataFormatError, match="antes da abertura"):
        check_sessions(d, kind="stock")


def test_interval_names():
    assert normalize_interval("5m") == "5min" and normalize_interval("1h") == "60min"
    assert normalize_interval("D") == "1d" and normalize_interval("M") == "1mo"
    assert normalize_interval("S") == "1w"
    with pytest.raises(InputError):
        normalize_interval("7min")
    with pytest.raises(DataFormatError, match="7 minutos"):
        infer_interval(pd.DatetimeIndex(["2022-01-03 10:00", "2022-01-03 10:07"]))


# -- resampling ---------------------------------------------------------------------------
def _pandas_daily(b: pd.DataFrame) -> pd.DataFrame:
    g = b.groupby(b.index.normalize())
    out = pd.DataFrame(
        {
            "open": g["open"].first(),
            "high": g["high"].max(),
            "low": g["low"].min(),
            "close": g["close"].last(),
            "adj_close": g["adj_close"].last(),
            "volume": g["volume"].sum(),
        }
    )
    out.index.name = "date"
    return out


def test_daily_from_intraday_equals_session_ohlc(win):
    b = win.drop(columns="line")
    got = resample_bars(b, "1d", source="5min")
    ref = _pandas_daily(b)
    assert len(got) == 183
    pd.testing.assert_frame_equal(got, ref, check_freq=False)


@pytest.mark.parametrize("target", ["15min", "30min", "60min"])
def test_intraday_bins_never_span_sessions(win, target):
    b = win.drop(columns="line")
    got = resample_bars(b, target, source="5min")
    agg = {
        "open": "first",
        "high": "max",
        "low": "min",
        "close": "last",
        "adj_close": "last",
        "volume": "sum",
    }
    parts = [
        day.resample(target, label="left", closed="left").agg(agg).dropna(subset=["open"])
        for _, day in b.groupby(b.index.normalize())
    ]
    ref = pd.concat(parts)
    ref.index.name = "date"
    pd.testing.assert_frame_equal(got, ref[got.columns], check_freq=False)
    # every output bar's session is the session of all its 5-minute bars
    per_session = got.groupby(got.index.normalize())["open"].size()
    assert per_session.index.equals(pd.DatetimeIndex(b.index.normalize().unique(), name="date"))
    # the daily bar from any intermediate interval is the same session OHLC
    pd.testing.assert_frame_equal(resample_bars(got, "1d"), _pandas_daily(b), check_freq=False)


def test_weekly_and_monthly_from_daily(bundled_store):
    d = bundled_store.bars("PETR4", "2021-01-01", "2021-12-31")
    wk = resample_bars(d, "1w", source="1d")
    mo = resample_bars(d, "1mo", source="1d")
    ref_w = d.groupby(d.index.to_period("W-SUN"))
    assert wk["high"].tolist() == ref_w["high"].max().tolist()
    assert wk["close"].tolist() == ref_w["close"].last().tolist()
    # labelled by the first session of the period (the bar's opening)
    assert list(wk.index) == [g.index[0] for _, g in ref_w]
    ref_m = d.groupby(d.index.to_period("M"))
    assert mo["open"].tolist() == ref_m["open"].first().tolist()
    assert mo["low"].tolist() == ref_m["low"].min().tolist()
    assert mo.index[0] == pd.Timestamp("2021-01-04")  # 2021's first session


def test_resample_rejects_finer_or_misaligned():
    b = pd.DataFrame(
        {c: [1.0] for c in ("open", "high", "low", "close", "adj_close", "volume")},
        index=pd.DatetimeIndex(["2022-01-03 10:00"], name="date"),
    )
    with pytest.raises(InputError):
        resample_bars(b, "5min", source="15min")
    with pytest.raises(InputError):
        resample_bars(b, "15min", source="30min")


def test_bars_at_resamples_from_stored_intraday(bundled_store, win):
    h = bars_at(bundled_store, "WINFUT", "60min", "2022-03-02", "2022-03-02")
    assert h.index[0] == pd.Timestamp("2022-03-02 13:00")
    day = win.loc["2022-03-02"]
    assert h["high"].max() == day["high"].max() and h["close"].iloc[-1] == day["close"].iloc[-1]
    d = bars_at(bundled_store, "WINFUT", "1d")
    assert len(d) == 183
    assert len(bars_at(bundled_store, "WINFUT", "1mo")) == 10  # 08/2021 .. 05/2022


# -- futures ------------------------------------------------------------------------------
def test_futures_specs():
    win_spec = futures_spec("WINFUT")
    assert (win_spec.point_value, win_spec.tick, win_spec.continuous) == (0.20, 5.0, True)
    assert win_spec.money(100, 2) == pytest.approx(40.0)  # 100 points × R$ 0,20 × 2
    wdo = futures_spec("WDOJ22", fee_day_trade=1.5)
    assert (wdo.point_value, wdo.tick, wdo.continuous, wdo.fee_day_trade) == (10.0, 0.5, False, 1.5)
    assert FUTURES["WDO"].fee_day_trade != 1.5  # the table is not modified
    assert futures_root("WIN$") is None and is_future_ticker("WINZ21")
    assert not is_future_ticker("PETR4")
    assert win_spec.round_to_tick(104_003) == 104_005
    with pytest.raises(InputError):
        futures_spec("PETR4")
    with pytest.raises(InputError):
        futures_spec("WIN", margin_day_trade=-1)
    with pytest.raises(InputError):
        futures_spec("WIN", corretagem=1)


def test_default_daily_update_skips_intraday_futures(tmp_path):
    """Regression: WINFUT has no daily bars, so a default update started from 2010 for all."""
    from core.data.bundled import BUNDLED_DIR as BD
    from core.data.imports import update_prices
    from core.data.sources.yahoo import YahooSource
    from core.data.store import init_db

    s = init_db("sqlite://")
    import_files(s, [BD / "yahoo" / "PETR4.csv.gz"])  # ends 2024-11-14
    f = _write(tmp_path, "WINFUT.csv", HEAD + "03/01/2022 09:00;103950;104010;103800;104000;1\n")
    assert import_files(s, [f]).status == "ok"
    calls = []

    def download(symbols, **kw):
        calls.append((list(symbols), kw))
        return pd.DataFrame()

    with pytest.raises(DataSourceError):  # nothing comes back: the update fails, logged
        update_prices(s, YahooSource(download=download), end="2024-11-20")
    assert calls and calls[0][1]["start"] == "2024-11-15"
    assert all("WIN" not in str(sym) for sym in calls[0][0])


def test_mt5_adapter_timeframes_m1_to_h1():
    from core.data.sources.mt5 import MT5_DTYPE, TIMEFRAMES, rates_to_bars

    assert [TIMEFRAMES[k] for k in ("1min", "5min", "15min", "30min", "60min")] == [
        "TIMEFRAME_M1",
        "TIMEFRAME_M5",
        "TIMEFRAME_M15",
        "TIMEFRAME_M30",
        "TIMEFRAME_H1",
    ]
    rates = np.zeros(2, dtype=MT5_DTYPE)
    rates["time"] = [
        int(pd.Timestamp(t).timestamp()) for t in ("2022-01-03 12:00", "2022-01-03 12:15")
    ]
    for f in ("open", "high", "low", "close"):
        rates[f] = 104_000.0
    bars = rates_to_bars(rates, "15min", server_tz="UTC")
    assert list(bars.index) == [pd.Timestamp("2022-01-03 09:00"), pd.Timestamp("2022-01-03 09:15")]
    check_sessions(bars.index, kind="future", interval="15min")


def test_every_import_format_has_a_label_on_the_data_page():
    """Regression: the Data page builds its format dropdown with FORMAT_LABELS[f]."""
    from components.data import FORMAT_LABELS
    from core.data.imports import FORMATS

    assert set(FORMATS) <= set(FORMAT_LABELS)


def test_non_sessions_are_the_calendars_weekends_and_holidays():
    from core.data.calendar import b3_calendar, b3_sessions, non_sessions

    rng = np.random.default_rng(7)
    days = np.datetime64("1995-01-01", "D") + rng.integers(0, 40 * 365, 3000)
    d = pd.DatetimeIndex(days).as_unit("ns") + pd.Timedelta("10h")  # any time of day
    cal = b3_calendar()
    lo, hi = cal.first_session.tz_localize(None), cal.last_session.tz_localize(None)
    judged = d.normalize()[(d.normalize() >= lo) & (d.normalize() <= hi)]
    want = judged[~judged.isin(b3_sessions(judged.min(), judged.max()))]
    got = non_sessions(d)
    assert got.equals(want) and pd.Timestamp("2022-04-21") not in b3_sessions(lo, hi)
    assert list(non_sessions(pd.DatetimeIndex(["2022-04-21", "2022-04-22"]))) == [
        pd.Timestamp("2022-04-21")  # Tiradentes; the next day is a session
    ]
