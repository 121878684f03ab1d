"""The Quotes view: indicators on full history, ranges, breaks, URL state."""

from __future__ import annotations

import pandas as pd
import pytest

from core import indicators as ind
from core.errors import InputError, UnknownTickerError
from core.quotes import QuoteRequest, parse_periods, quote_view


def test_view_indicators_have_no_warm_up_inside_range(bundled_store):
    v = quote_view(
        bundled_store,
        QuoteRequest(
            "PETR4",
            preset="1A",
            sma=(200,),
            ema=(9,),
            bollinger=True,
            panels=("rsi", "macd", "stochastic", "atr", "adx"),
        ),
    )
    assert v.bars.index[-1] == pd.Timestamp("2024-11-14")
    assert v.bars.index[0] >= pd.Timestamp("2023-11-14")
    full = bundled_store.bars("PETR4")
    ref = ind.sma(full.close, 200).loc[v.bars.index]
    pd.testing.assert_series_equal(v.overlays["MMS 200"], ref, check_names=False)
    for key, df in v.panels.items():
        assert not df.isna().any().any(), key
    assert set(v.panels) == {"rsi", "macd", "stochastic", "atr", "adx"}


def test_breaks_cover_b3_holidays(bundled_store):
    v = quote_view(bundled_store, QuoteRequest("PETR4", preset="1A"))
    breaks = {d.strftime("%Y-%m-%d") for d in v.breaks}
    # Proclamação da República 2023, Natal, Carnaval 2024, Consciência Negra is after the data.
    assert {"2023-11-15", "2023-12-25", "2024-02-12", "2024-02-13"} <= breaks
    assert not set(v.bars.index.strftime("%Y-%m-%d")) & breaks


def test_adjusted_candles_and_compare(bundled_store):
    v = quote_view(bundled_store, QuoteRequest("PETR4", preset="5A", adjusted=True, compare=True))
    pd.testing.assert_series_equal(
        v.bars.close, bundled_store.bars("PETR4").adj_close.loc[v.bars.index], check_names=False
    )
    assert list(v.compare.columns) == ["PETR4", "^BVSP"]
    assert v.compare.iloc[0].tolist() == [100.0, 100.0]
    assert v.stats.beta == pytest.approx(v.stats.beta)  # finite
    assert 0.3 < v.stats.beta < 2.0


def test_bad_requests(bundled_store):
    with pytest.raises(UnknownTickerError) as exc:
        quote_view(bundled_store, QuoteRequest("PETR9"))
    assert "PETR4" in exc.value.suggestions
    with pytest.raises(InputError, match="invertido"):
        quote_view(bundled_store, QuoteRequest("PETR4", start="2024-05-01", end="2024-01-01"))
    with pytest.raises(InputError, match="Nenhum pregão"):
        quote_view(bundled_store, QuoteRequest("PETR4", start="2001-01-01", end="2001-02-01"))
    with pytest.raises(InputError):
        quote_view(bundled_store, QuoteRequest("PETR4", panels=("vwap",)))


def test_parse_periods():
    assert parse_periods("50, 20 20;200") == [20, 50, 200]
    assert parse_periods("") == []
    with pytest.raises(InputError):
        parse_periods("20,abc")
    with pytest.raises(InputError):
        parse_periods("1")


def test_url_round_trip():
    req = QuoteRequest(
        "VALE3",
        preset="5A",
        sma=(20, 50),
        ema=(9,),
        bollinger=True,
        panels=("rsi", "macd"),
        adjusted=True,
        compare=True,
    )
    assert QuoteRequest.from_query(req.to_query()) == req
    custom = QuoteRequest("VALE3", start="2024-01-02", end="2024-03-28")
    assert QuoteRequest.from_query(custom.to_query()) == custom
    with pytest.raises(InputError):
        QuoteRequest.from_query({"ticker": "VALE3", "start": "02/01/2024"})
    with pytest.raises(InputError):
        QuoteRequest.from_query({"ticker": "VALE3", "panels": "rsi,foo"})


def test_anomalies_marked_inside_the_range(bundled_store):
    v = quote_view(bundled_store, QuoteRequest("PETR4", preset="5A", anomalies=True))
    assert v.anomalies is not None and len(v.anomalies) > 0
    assert v.anomalies.index.min() >= v.start and v.anomalies.index.max() <= v.end
    assert set(v.anomalies["severity"]) <= {"baixa", "média", "alta"}
    assert quote_view(bundled_store, QuoteRequest("PETR4", preset="5A")).anomalies is None
    assert QuoteRequest.from_query({"ticker": "PETR4", "anom": "1"}).anomalies


def test_period_change_follows_the_adjusted_toggle(bundled_store):
    """Regression (issue 9): with "Negociados" the card showed the adjusted change."""
    from core.quotes import QuoteRequest, quote_view

    traded = quote_view(bundled_store, QuoteRequest(ticker="PETR4", preset="5A"))
    adj = quote_view(bundled_store, QuoteRequest(ticker="PETR4", preset="5A", adjusted=True))
    bars = bundled_store.bars("PETR4", traded.start, traded.end)
    assert traded.stats.change_range == pytest.approx(
        bars["close"].iloc[-1] / bars["close"].iloc[0] - 1
    )
    assert adj.stats.change_range == pytest.approx(
        bars["adj_close"].iloc[-1] / bars["adj_close"].iloc[0] - 1
    )
    assert not traded.stats.adjusted and adj.stats.adjusted
    assert adj.stats.change_range > traded.stats.change_range  # proventos count


def test_interval_round_trips_through_the_url():
    """Issue 14: the interval buttons (5min … S, M) and the log scale live in the URL."""
    req = QuoteRequest.from_query({"ticker": "WINFUT", "iv": "S", "log": "1"})
    assert req.interval == "1w" and req.log
    assert QuoteRequest.from_query(req.to_query()) == req
    assert "iv" not in QuoteRequest("PETR4").to_query()
    with pytest.raises(InputError):
        QuoteRequest.from_query({"ticker": "PETR4", "iv": "1min"})  # not a button


def test_intraday_view_has_session_hours_vwap_and_whole_sessions(bundled_store):
    from core.strategies.vwap_reversion import session_vwap

    v = quote_view(bundled_store, QuoteRequest("WINFUT", preset="1M", interval="15min"))
    idx = v.bars.index
    assert (idx.minute % 15 == 0).all() and v.interval == "15min"
    assert v.start == idx[0].normalize() or idx[0].time() <= pd.Timestamp("09:05").time()
    first_day = idx[idx.normalize() == idx[0].normalize()]
    assert len(first_day) > 20  # a preset starts at a session's opening, not at its last bar
    lo, hi = v.hours
    minutes = idx.hour * 60 + idx.minute
    assert lo * 60 == minutes.min() and hi * 60 == minutes.max() + 15
    pd.testing.assert_series_equal(v.vwap, session_vwap(v.bars), check_names=False)
    assert v.stats is not None and v.stats.last == pytest.approx(v.bars["close"].iloc[-1])
    one = quote_view(
        bundled_store,
        QuoteRequest("WINFUT", interval="5min", start="2022-03-02", end="2022-03-02"),
    )
    assert one.bars.index[-1].date() == pd.Timestamp("2022-03-02").date()  # the end's whole day
    assert one.bars.index[-1].hour >= 17


def test_weekly_and_monthly_candles_come_from_daily_resampling(bundled_store):
    from core.data.resample import resample_bars

    daily = bundled_store.bars("PETR4")
    for iv in ("1w", "1mo"):
        v = quote_view(bundled_store, QuoteRequest("PETR4", preset="Máx", interval=iv))
        ref = resample_bars(daily, iv, source="1d")
        pd.testing.assert_frame_equal(v.bars, ref.loc[v.bars.index[0] :], check_freq=False)
        assert v.hours is None and v.vwap is None


def test_lower_panel_periods_are_editable(bundled_store):
    """Issue 14: RSI, MACD, Stochastic, ATR and ADX periods come from the URL/controls."""
    from core.quotes import PANEL_PARAMS, parse_panel_params

    req = QuoteRequest.from_query({"ticker": "PETR4", "panels": "rsi,macd", "p_rsi": "9",
                                   "p_macd": "5, 35, 5", "p_atr": "14"})  # fmt: skip
    assert req.period("rsi") == (9,) and req.period("macd") == (5, 35, 5)
    assert req.period("atr") == PANEL_PARAMS["atr"]
    q = req.to_query()
    assert q["p_rsi"] == "9" and q["p_macd"] == "5,35,5" and "p_atr" not in q
    v = quote_view(bundled_store, req)
    close = bundled_store.bars("PETR4")["close"]
    expected = ind.rsi(close, 9).reindex(v.bars.index)
    pd.testing.assert_series_equal(v.panels["rsi"]["rsi"], expected, check_names=False)
    assert v.periods == {"rsi": (9,), "macd": (5, 35, 5)}
    for panel, text in (("macd", "26,12,9"), ("rsi", "1"), ("stochastic", "14"), ("adx", "x")):
        with pytest.raises(InputError):
            parse_panel_params(panel, text)


def test_compare_up_to_three_tickers_rebased_on_the_toggle(bundled_store):
    """Issue 14: up to four tickers overlaid (rebased) or side by side."""
    from core.quotes import parse_peers

    req = QuoteRequest.from_query(
        {"ticker": "PETR4", "vs": "vale3, ITUB4,PETR4,^BVSP", "vsmode": "side"}
    )
    assert req.peers == ("VALE3", "ITUB4", "^BVSP") and req.peer_mode == "side"
    assert QuoteRequest.from_query(req.to_query()) == req
    with pytest.raises(InputError, match="no máximo 3"):
        parse_peers("VALE3,ITUB4,BBAS3,ABEV3", "PETR4")
    with pytest.raises(InputError):
        QuoteRequest.from_query({"ticker": "PETR4", "vs": "VALE3", "vsmode": "x"})
    traded = quote_view(bundled_store, QuoteRequest("PETR4", peers=("VALE3", "BBAS3")))
    adjusted = quote_view(
        bundled_store, QuoteRequest("PETR4", peers=("VALE3", "BBAS3"), adjusted=True)
    )
    for v in (traded, adjusted):
        assert list(v.rebased.columns) == ["PETR4", "VALE3", "BBAS3"]
        assert (v.rebased.iloc[0] == 100).all()
        assert v.rebased.index[0] >= v.start and v.rebased.index[-1] <= v.end
        assert set(v.peers) == {"VALE3", "BBAS3"} and v.units["BBAS3"] == "stock"
    # PETR4 paid dividends over the year: the adjusted series gains more than the traded one
    assert adjusted.rebased["PETR4"].iloc[-1] > traded.rebased["PETR4"].iloc[-1]
    # BBAS3 split 2:1 on 16/04/2024: the traded comparison is on today's share basis
    assert traded.rebased["BBAS3"].pct_change().min() > -0.2
    assert "negociados" in traded.basis and "ajustados" in adjusted.basis


def test_compare_figure_modes(bundled_store):
    from components.charts import quote_figure

    req = QuoteRequest("PETR4", peers=("VALE3", "^BVSP"))
    over = quote_figure(quote_view(bundled_store, req))
    assert [t.name for t in over.data if t.type == "scatter"] == ["PETR4", "VALE3", "^BVSP"]
    first = [t.y[0] for t in over.data if t.type == "scatter"]
    assert first == [0.0, 0.0, 0.0] and over.layout.yaxis.ticksuffix == "%"
    assert over.layout.meta["mode"] == "overlay" and "negociados" in over.layout.annotations[0].text
    side = quote_figure(
        quote_view(bundled_store, QuoteRequest("PETR4", peers=("VALE3", "^BVSP"), peer_mode="side"))
    )
    candles = [t for t in side.data if t.type == "candlestick"]
    assert [c.name for c in candles] == ["PETR4", "VALE3", "^BVSP"]
    assert {c.xaxis for c in candles} == {"x", "x2", "x3"} and side.layout.xaxis2.matches == "x3"
    assert "(pts)" in side.layout.annotations[2].text


def test_quote_view_is_computed_once_per_data_version(bundled_store, monkeypatch):
    """Issue 15 (load): the same request is served from the read cache; the caller's copy is
    its own; a write to market data recomputes (that other writes do not, on PostgreSQL:
    tests/integration/test_store_scopes.py)."""
    import core.quotes as Q

    calls = []
    real = Q.compute_quote_view
    monkeypatch.setattr(Q, "compute_quote_view", lambda *a, **k: calls.append(1) or real(*a, **k))
    req = QuoteRequest("ITUB4", preset="6M", sma=(20,), panels=("rsi",))
    first = quote_view(bundled_store, req)
    first.bars["close"] = -1.0
    first.overlays.clear()
    again = quote_view(bundled_store, req)
    assert len(calls) == 1
    assert (again.bars["close"] > 0).all() and "MMS 20" in again.overlays
    pd.testing.assert_frame_equal(again.panels["rsi"], real(bundled_store, req).panels["rsi"])
    with bundled_store.transaction() as c:  # a write to market data: recomputed
        c.exec_driver_sql("UPDATE instruments SET name = name WHERE ticker = 'ITUB4'")
    quote_view(bundled_store, req)
    assert len(calls) == 2


def test_whole_winfut_file_opens_in_daily_candles_and_a_quarter_hourly():
    """Issue 14 (regression: the whole file opened as 1,725 hourly candles of 0.75 px, the
    browser's main cost): at DETAIL_LIMIT the 183 sessions of 5-min bars open as daily
    candles, about three months still open hourly and one morning at 5 min."""
    from core.quotes import DETAIL_LIMIT, display_interval

    days = pd.bdate_range("2021-08-23", periods=183)
    per_day = pd.timedelta_range("09:00:00", "18:20:00", freq="5min")
    whole = pd.DatetimeIndex([d + t for d in days for t in per_day])
    assert len(whole) > 20_000
    assert display_interval(whole, "5min", DETAIL_LIMIT) == "1d"
    quarter = whole[: 63 * len(per_day)]
    assert display_interval(quarter, "5min", DETAIL_LIMIT) == "60min"
    morning = whole[: 3 * 42]
    assert display_interval(morning, "5min", DETAIL_LIMIT) == "5min"
