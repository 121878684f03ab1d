"""Store round trip on in-memory SQLite."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.store import init_db, redact_url
from core.errors import InputError, StoreError, UnknownTickerError
from tests.helpers import make_bars


def test_round_trip_and_idempotent_upsert(empty_store):
    s = empty_store
    s.upsert_instrument("petr4", name="Petrobras PN")
    bars = make_bars([(10, 11, 9, 10.5, 1000), (10.5, 12, 10, 11.5, 2000)])
    r1 = s.write_bars("PETR4", bars, "test")
    assert (r1.inserted, r1.updated, r1.unchanged) == (2, 0, 0)
    r2 = s.write_bars("PETR4", bars, "test")
    assert (r2.inserted, r2.updated, r2.unchanged) == (0, 0, 2)
    changed = bars.copy()
    changed.iloc[1, changed.columns.get_loc("close")] = 11.6
    r3 = s.write_bars("PETR4", changed, "test")
    assert (r3.inserted, r3.updated, r3.unchanged) == (0, 1, 1)
    got = s.bars("PETR4")
    # adj_close is derived by the store (no corporate actions here: equal to the close)
    pd.testing.assert_frame_equal(got, changed.assign(adj_close=changed["close"]), check_freq=False)
    assert got.index.name == "date"


def test_bars_filters_dates_inclusive(empty_store):
    s = empty_store
    s.upsert_instrument("VALE3")
    s.write_bars("VALE3", make_bars([(1, 2, 0.5, 1.5, 10)] * 5, start="2024-01-01"), "t")
    got = s.bars("VALE3", start="2024-01-02", end="2024-01-04")
    assert list(got.index.strftime("%d")) == ["02", "03", "04"]


def test_unknown_ticker_suggests(empty_store):
    for t in ("PETR3", "PETR4", "VALE3"):
        empty_store.upsert_instrument(t)
    with pytest.raises(UnknownTickerError) as exc:
        empty_store.bars("PETR")
    assert exc.value.suggestions[:2] == ["PETR3", "PETR4"]
    assert "PETR4" in str(exc.value)


def test_transaction_is_all_or_nothing(empty_store):
    s = empty_store
    s.upsert_instrument("ITUB4")
    with pytest.raises(RuntimeError):
        with s.transaction() as conn:
            s.write_bars("ITUB4", make_bars([(1, 2, 0.5, 1.5, 10)]), "t", conn=conn)
            raise RuntimeError("boom")
    assert s.bars("ITUB4").empty


def test_rates_round_trip(empty_store):
    cdi = pd.Series([0.04, 0.041], index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    r = empty_store.write_rates("CDI", cdi)
    assert r.inserted == 2
    assert empty_store.write_rates("CDI", cdi).unchanged == 2
    got = empty_store.rates("CDI")
    assert got.tolist() == [0.04, 0.041]


def test_bad_input(empty_store):
    with pytest.raises(InputError):
        empty_store.upsert_instrument("")
    with pytest.raises(InputError):
        empty_store.upsert_instrument("XPTO3", kind="crypto")
    empty_store.upsert_instrument("XPTO3")
    with pytest.raises(InputError):
        empty_store.write_bars(
            "XPTO3", make_bars([(1, 2, 0.5, 1.5, 10)]).drop(columns="volume"), "t"
        )


@pytest.mark.parametrize(
    "bad", ["PETR4'; DROP TABLE bars;--", "<script>alert(1)</script>", "PE TR4", "4PETR", "X"]
)
def test_malformed_tickers_are_refused(empty_store, bad):
    """Regression: any string used to become an instrument (issue 11)."""
    with pytest.raises(InputError, match="Ticker inválido"):
        empty_store.upsert_instrument(bad)
    assert empty_store.tickers() == []


def test_write_bars_honours_source_priority(empty_store):
    """Regression: Store.write_bars used to let any source overwrite a better one."""
    s = empty_store
    s.upsert_instrument("PETR4")
    bars = make_bars([(10, 11, 9, 10.5, 1000)])
    s.write_bars("PETR4", bars, "cotahist")
    worse = bars.assign(close=10.4)
    r = s.write_bars("PETR4", worse, "yahoo")
    assert (r.inserted, r.updated) == (0, 0)
    assert s.bars("PETR4")["close"].iloc[0] == 10.5


def test_init_db_errors_name_the_url(tmp_path):
    with pytest.raises(StoreError, match="inválida"):
        init_db("not a url")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=str(blocker)):
        init_db(f"sqlite:///{blocker}/sub/db.sqlite")


def test_redact_url():
    assert redact_url("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"


def test_bundled_store_contents(bundled_store):
    df = bundled_store.instruments()
    assert len(df) == 25  # 23 stocks, ^BVSP and the intraday WINFUT (issue 14)
    assert set(df.kind) == {"stock", "index", "future"}
    petr = df.set_index("ticker").loc["PETR4"]
    assert petr.last_date == pd.Timestamp("2024-11-14") and petr.lot_size == 100
    assert df.set_index("ticker").loc["^BVSP"].currency == "PTS"
    assert len(bundled_store.rates("CDI")) == 2717
