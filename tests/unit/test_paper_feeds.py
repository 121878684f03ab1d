"""Market feeds (issue 12): replay of stored bars, Yahoo's chart JSON, MetaTrader 5 rates."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.trading.feeds import (
    BarEvent,
    FeedUnavailable,
    MT5Feed,
    ReplayFeed,
    YahooFeed,
    parse_yahoo_chart,
)
from tests.helpers import make_bars

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "trading"
PAYLOAD = (FIX / "yahoo_chart_petr4_5d.json").read_bytes()


@pytest.fixture
def two_tickers(empty_store):
    a = make_bars([(10, 11, 9, 10.5, 100), (10.5, 12, 10, 11, 200), (11, 11.5, 10.5, 11.2, 300)])
    b = make_bars([(20, 21, 19, 20.5, 10), (20.5, 22, 20, 21, 20)], start="2024-01-03")
    for t, f in (("AAAA3", a), ("BBBB4", b)):
        empty_store.upsert_instrument(t, kind="stock")
        empty_store.write_bars(t, f, "csv")
    return empty_store


def test_replay_feed_groups_bars_by_time_in_ticker_order(two_tickers):
    feed = ReplayFeed(two_tickers, ["BBBB4", "AAAA3"], "2024-01-01", "2024-01-31")
    groups = list(feed.groups())
    assert [g[0].time for g in groups] == list(
        pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"])
    )
    assert [[e.ticker for e in g] for g in groups] == [
        ["AAAA3"],
        ["BBBB4", "AAAA3"],
        ["BBBB4", "AAAA3"],
    ]
    e = groups[1][1]
    assert (e.open, e.high, e.low, e.close, e.volume) == (10.5, 12.0, 10.0, 11.0, 200.0)
    assert len(list(feed.bars())) == 5
    assert feed.times == [g[0].time for g in groups]


def test_replay_feed_resumes_after_a_bar_and_paces_at_speed(two_tickers):
    naps: list[float] = []
    feed = ReplayFeed(
        two_tickers, ["AAAA3", "BBBB4"], after="2024-01-02", speed=4, sleep=naps.append
    )
    times = [g[0].time for g in feed.groups()]
    assert times == list(pd.to_datetime(["2024-01-03", "2024-01-04"]))
    assert naps == [0.25]  # one pause between the two bar times, none before the first


def test_replay_feed_bad_input(two_tickers):
    with pytest.raises(InputError, match="Velocidade"):
        ReplayFeed(two_tickers, ["AAAA3"], speed=-1)
    with pytest.raises(InputError, match="Nenhuma barra"):
        ReplayFeed(two_tickers, ["AAAA3"], "2025-01-01", "2025-02-01")


def test_bar_event_as_bar_is_what_the_broker_takes():
    e = BarEvent("PETR4", pd.Timestamp("2024-01-02"), 1.0, 2.0, 0.5, 1.5, 10.0)
    bar = e.as_bar()
    assert list(bar.index) == ["open", "high", "low", "close", "volume"] and bar["low"] == 0.5


def test_parse_yahoo_chart_recorded_payload():
    df = parse_yahoo_chart(PAYLOAD, "PETR4")
    # 13:00 UTC of each session is 10:00 in São Paulo: the session date; the null bar goes
    assert list(df.index) == list(
        pd.to_datetime(["2024-11-08", "2024-11-11", "2024-11-12", "2024-11-13", "2024-11-14"])
    )
    assert df.loc["2024-11-12"].tolist() == [36.36, 37.11, 36.34, 36.93, 39412300.0]


def test_parse_yahoo_chart_error_object_says_why():
    with pytest.raises(FeedUnavailable, match="No data found"):
        parse_yahoo_chart((FIX / "yahoo_chart_not_found.json").read_text(), "XXXX3")
    with pytest.raises(FeedUnavailable, match="ilegível"):
        parse_yahoo_chart(b"<html>", "PETR4")


def test_yahoo_feed_yields_closed_sessions_once_from_injected_transport():
    urls: list[str] = []

    def get(url, timeout):
        urls.append(url)
        return PAYLOAD

    now = pd.Timestamp("2024-11-14 15:00")  # session of the 14th still open
    feed = YahooFeed(
        ["PETR4"], after="2024-11-11", max_polls=2, get=get, now=lambda: now, sleep=lambda s: None
    )
    got = list(feed.bars())
    assert [e.time for e in got] == list(pd.to_datetime(["2024-11-12", "2024-11-13"]))
    assert urls[0].startswith("https://query1.finance.yahoo.com/v8/finance/chart/PETR4.SA?")
    assert "interval=1d" in urls[0] and len(urls) == 2  # the second poll yields nothing new


def test_yahoo_feed_unreachable_says_so_in_portuguese():
    def get(url, timeout):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    feed = YahooFeed(["PETR4"], max_polls=1, get=get, sleep=lambda s: None)
    with pytest.raises(
        FeedUnavailable, match="Yahoo Finance inacessível para PETR4.*--feed replay"
    ):
        list(feed.bars())


def test_yahoo_feed_through_a_local_http_server():
    class H(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = (
                PAYLOAD
                if "PETR4.SA" in self.path
                else b'{"chart":{"result":null,"error":{"description":"x"}}}'
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = HTTPServer(("127.0.0.1", 0), H)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        base = f"http://127.0.0.1:{srv.server_port}/v8/finance/chart/{{symbol}}"
        feed = YahooFeed(
            ["PETR4"], base_url=base, max_polls=1, now=lambda: pd.Timestamp("2024-11-20 12:00")
        )
        assert [e.close for e in feed.bars()] == [36.18, 36.25, 36.93, 36.88, 37.27]
    finally:
        srv.shutdown()


class FakeMT5:
    """MetaTrader5's API as the package exposes it (module-level functions and constants)."""

    TIMEFRAME_D1 = 16408

    def __init__(self, ok=True):
        self.ok = ok

    def initialize(self):
        return self.ok

    def last_error(self):
        return (-10003, "IPC initialize failed, MetaTrader 5 x64 not found")

    def copy_rates_range(self, symbol, timeframe, date_from, date_to):
        from core.data.sources.mt5 import MT5_DTYPE

        days = pd.to_datetime(["2024-11-13", "2024-11-14"])
        t = (days - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
        return np.array(
            [
                (t[0], 36.95, 37.07, 36.53, 36.88, 5000, 1, 34090000),
                (t[1], 36.92, 37.33, 36.86, 37.27, 4000, 1, 30262100),
            ],
            dtype=MT5_DTYPE,
        )


def test_mt5_feed_translates_copy_rates():
    feed = MT5Feed(
        ["PETR4"], mt5=FakeMT5(), max_polls=1, now=lambda: pd.Timestamp("2024-11-15 12:00")
    )
    got = list(feed.bars())
    assert [(e.time, e.close, e.volume) for e in got] == [
        (pd.Timestamp("2024-11-13"), 36.88, 34090000.0),
        (pd.Timestamp("2024-11-14"), 37.27, 30262100.0),
    ]


def test_mt5_feed_terminal_down_says_why():
    feed = MT5Feed(["PETR4"], mt5=FakeMT5(ok=False), max_polls=1)
    with pytest.raises(FeedUnavailable, match="MetaTrader 5 não iniciou o terminal"):
        list(feed.bars())
    assert json.dumps(FakeMT5().last_error())
