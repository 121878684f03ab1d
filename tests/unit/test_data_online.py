"""Online sources on recorded payloads: yfinance's exact ``yf.download`` frame shape and
MetaTrader 5's exact ``copy_rates_range`` dtype; offline behaviour; incremental updates."""

from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import BUNDLED_DIR, read_yahoo_csv
from core.data.imports import import_files, import_log, update_prices
from core.data.sources.mt5 import MT5_DTYPE, MT5Source, rates_to_bars
from core.data.sources.yahoo import UNREACHABLE, YahooSource, frame_to_bars, yahoo_symbol
from core.data.store import init_db
from core.errors import DataSourceError


def recorded_download(symbols, start, end, actions=True) -> pd.DataFrame:
    """A frame in yf.download's exact shape (auto_adjust=False, actions=True,
    group_by='column'): MultiIndex columns (Price, Ticker) sorted by price name, index
    'Date' tz-naive; values are real (the bundled Yahoo files)."""
    parts = {}
    for sym in symbols:
        t = sym.removesuffix(".SA")
        f = BUNDLED_DIR / ("BVSP.csv.gz" if t == "^BVSP" else f"yahoo/{t}.csv.gz")
        y = read_yahoo_csv(f).loc[start:end]
        parts[sym] = pd.DataFrame(
            {
                "Adj Close": y["adj_close"],
                "Close": y["close"],
                "Dividends": 0.0,
                "High": y["high"],
                "Low": y["low"],
                "Open": y["open"],
                "Stock Splits": 0.0,
                "Volume": y["volume"].astype("int64"),
            }
        )
    df = pd.concat(parts, axis=1).swaplevel(0, 1, axis=1).sort_index(axis=1, level=0)
    df.columns.names = ["Price", "Ticker"]
    df.index.name = "Date"
    if not actions:
        df = df.drop(columns=["Dividends", "Stock Splits"], level=0)
    return df


def test_symbols():
    assert yahoo_symbol("petr4") == "PETR4.SA"
    assert yahoo_symbol("IBOV") == yahoo_symbol("^BVSP") == "^BVSP"


def test_translation_of_recorded_frame():
    df = recorded_download(["PETR4.SA", "^BVSP"], "2024-11-01", "2024-11-14")
    df.loc[df.index[2], ("Close", "PETR4.SA")] = np.nan  # yfinance leaves holes as NaN
    for c in ("Open", "High", "Low", "Adj Close"):
        df.loc[df.index[2], (c, "PETR4.SA")] = np.nan
    df.loc[df.index[3], ("Dividends", "PETR4.SA")] = 0.5
    p = frame_to_bars(df)
    assert sorted(p.bars) == ["PETR4", "^BVSP"] and p.kinds["^BVSP"] == "index"
    petr = p.bars["PETR4"]
    assert len(petr) == len(df) - 1
    ref = read_yahoo_csv(BUNDLED_DIR / "yahoo/PETR4.csv.gz").loc["2024-11-01":"2024-11-14"]
    np.testing.assert_allclose(petr["close"], ref["close"].drop(ref.index[2]))
    assert p.actions.iloc[0].to_dict() == {
        "ticker": "PETR4",
        "date": df.index[3],
        "kind": "dividend",
        "value": 0.5,
    }
    # group_by="ticker" puts the ticker level first: same result
    q = frame_to_bars(df.swaplevel(0, 1, axis=1))
    pd.testing.assert_frame_equal(q.bars["PETR4"], petr)


def test_intraday_tz_aware_index_becomes_sao_paulo_wall_time():
    df = recorded_download(["PETR4.SA"], "2024-11-13", "2024-11-14", actions=False)
    df.index = pd.DatetimeIndex(["2024-11-13 13:00", "2024-11-14 13:00"]).tz_localize("UTC")
    p = frame_to_bars(df, interval="1h")
    assert list(p.bars["PETR4"].index.hour) == [10, 10]


def test_empty_frame_is_unreachable_error():
    src = YahooSource(download=lambda *a, **k: pd.DataFrame())
    with pytest.raises(DataSourceError) as ei:
        src.fetch(["PETR4"], "2024-01-01", "2024-01-31")
    assert str(ei.value) == UNREACHABLE and "inacessível" in str(ei.value)

    def boom(*a, **k):
        raise OSError("DNS")

    with pytest.raises(DataSourceError, match="inacessível"):
        YahooSource(download=boom).fetch(["PETR4"])


def _offline() -> bool:
    try:
        socket.getaddrinfo("query2.finance.yahoo.com", 443)
        return False
    except OSError:
        return True


@pytest.mark.skipif(not _offline(), reason="Yahoo is reachable from here")
def test_real_yfinance_offline_says_unreachable():
    with pytest.raises(DataSourceError, match="inacessível"):
        YahooSource().fetch(["PETR4"], "2024-01-02", "2024-01-05")


def test_update_is_incremental_from_last_stored_date():
    s = init_db("sqlite://")
    import_files(s, [BUNDLED_DIR / "yahoo" / "PETR4.csv.gz"])  # ends 2024-11-14
    # pretend the store stops on 2024-11-08
    with s.transaction() as conn:
        conn.exec_driver_sql("delete from bars where date > '2024-11-08 23:59:59'")
    calls = []

    def download(symbols, **kw):
        calls.append(kw)
        return recorded_download(symbols, "2024-11-04", "2024-11-14")

    rep = update_prices(s, YahooSource(download=download), ["PETR4"], end="2024-11-14")
    assert calls[0]["start"] == "2024-11-09" and calls[0]["end"] == "2024-11-15"
    assert calls[0]["auto_adjust"] is False
    assert rep.inserted == 4 and rep.updated == 0  # 11, 12, 13, 14 Nov
    assert s.last_date("PETR4") == pd.Timestamp("2024-11-14")
    again = update_prices(s, YahooSource(download=download), ["PETR4"], end="2024-11-14")
    assert again.files == 0 and len(calls) == 1  # nothing to fetch


def test_offline_update_is_logged_and_raises():
    s = init_db("sqlite://")
    import_files(s, [BUNDLED_DIR / "yahoo" / "PETR4.csv.gz"])
    with pytest.raises(DataSourceError):
        update_prices(s, YahooSource(download=lambda *a, **k: pd.DataFrame()), ["PETR4"])
    log = import_log(s)
    assert log["status"].iloc[0] == "failed" and "inacessível" in log["message"].iloc[0]


# -- MetaTrader 5 -------------------------------------------------------------------------
def recorded_rates(times, ohlc, real=None) -> np.ndarray:
    arr = np.zeros(len(times), dtype=MT5_DTYPE)
    arr["time"] = [int(pd.Timestamp(t).timestamp()) for t in times]
    for k, f in enumerate(("open", "high", "low", "close")):
        arr[f] = [r[k] for r in ohlc]
    arr["tick_volume"] = 1234
    arr["spread"] = 1
    arr["real_volume"] = real if real is not None else 0
    return arr


def test_mt5_dtype_is_exact():
    assert MT5_DTYPE.descr == [
        ("time", "<i8"),
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("tick_volume", "<u8"),
        ("spread", "<i4"),
        ("real_volume", "<u8"),
    ]


def test_mt5_daily_and_intraday_translation():
    ohlc = [(29.69, 29.79, 28.95, 29.10), (29.18, 29.27, 28.67, 29.05)]
    d1 = rates_to_bars(
        recorded_rates(["2021-06-25", "2021-06-28"], ohlc, [84950900, 40341200]), "1d"
    )
    assert list(d1.index) == list(pd.to_datetime(["2021-06-25", "2021-06-28"]))
    assert d1["close"].tolist() == [29.10, 29.05] and d1["volume"].iloc[0] == 84950900
    assert (d1["adj_close"] == d1["close"]).all()
    h1 = rates_to_bars(recorded_rates(["2021-06-25 13:00", "2021-06-25 14:00"], ohlc), "1h")
    assert list(h1.index.hour) == [10, 11]  # UTC -> America/Sao_Paulo
    assert h1["volume"].iloc[0] == 1234  # no real volume: tick volume
    m5 = rates_to_bars(
        recorded_rates(["2021-06-25 13:00", "2021-06-25 13:05"], ohlc),
        "5m",
        server_tz="America/Sao_Paulo",
    )
    assert list(m5.index.strftime("%H:%M")) == ["13:00", "13:05"]


class FakeMT5:
    TIMEFRAME_D1, TIMEFRAME_H1, TIMEFRAME_M5 = 16408, 16385, 5

    def __init__(self, ok=True):
        self.ok = ok

    def initialize(self):
        return self.ok

    def last_error(self):
        return (-10004, "No IPC connection")

    def copy_rates_range(self, symbol, timeframe, date_from, date_to):
        assert timeframe == self.TIMEFRAME_D1
        return recorded_rates(["2021-06-25"], [(29.69, 29.79, 28.95, 29.10)], [84950900])


def test_mt5_source_fake_terminal_and_unavailable():
    p = MT5Source(FakeMT5()).fetch(["PETR4"], "2021-06-25", "2021-06-25")
    assert p.bars["PETR4"]["close"].iloc[0] == 29.10 and p.source == "mt5"
    ok, why = MT5Source(FakeMT5(ok=False)).available()
    assert not ok and "No IPC" in why
    with pytest.raises(DataSourceError, match="não inicializou"):
        MT5Source(FakeMT5(ok=False)).fetch(["PETR4"])


def test_mt5_without_package_says_why():
    pytest.importorskip("pytest")
    try:
        import MetaTrader5  # noqa: F401

        pytest.skip("MetaTrader5 installed")
    except ImportError:
        pass
    try:
        import mt5linux  # noqa: F401

        pytest.skip("mt5linux installed")
    except ImportError:
        pass
    ok, why = MT5Source().available()
    assert not ok and "MetaTrader5" in why and "mt5linux" in why
