"""Cleaning rules of the bundled data (SOURCES.md) on hand-made frames and on the real files."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data.bundled import (
    BUNDLED_DIR,
    REPAIR_TOLERANCE,
    bundled_instruments,
    clean_bars,
    read_bundled_bars,
    read_bundled_cdi,
    read_yahoo_csv,
)
from tests.helpers import make_bars

# Zero-volume rows per file, from shared/data/SOURCES.md ("vol0").
SOURCES_VOL0 = {
    "ABEV3": 22,
    "AZUL4": 10,
    "B3SA3": 30,
    "BBAS3": 28,
    "BBDC4": 136,
    "CMIG4": 24,
    "COGN3": 171,
    "CPLE6": 25,
    "CVCB3": 12,
    "GGBR4": 122,
    "HAPV3": 1,
    "ITSA4": 38,
    "ITUB4": 34,
    "LREN3": 91,
    "MGLU3": 24,
    "MRVE3": 30,
    "PETR3": 26,
    "PETR4": 54,
    "PRIO3": 48,
    "RAIL3": 17,
    "USIM5": 40,
    "VALE3": 27,
    "VIVA3": 0,
}
# OHLC-inconsistent rows per file ("ohlc_bad").
SOURCES_OHLC_BAD = {
    "ABEV3": 3,
    "AZUL4": 0,
    "B3SA3": 5,
    "BBAS3": 4,
    "BBDC4": 3,
    "CMIG4": 9,
    "COGN3": 1,
    "CPLE6": 4,
    "CVCB3": 0,
    "GGBR4": 3,
    "HAPV3": 0,
    "ITSA4": 3,
    "ITUB4": 2,
    "LREN3": 0,
    "MGLU3": 1,
    "MRVE3": 3,
    "PETR3": 1,
    "PETR4": 1,
    "PRIO3": 0,
    "RAIL3": 0,
    "USIM5": 0,
    "VALE3": 2,
    "VIVA3": 0,
}


def test_zero_volume_rows_dropped_for_stocks_kept_for_index():
    bars = make_bars(
        [(10, 11, 9, 10.5, 1000), (10.5, 10.5, 10.5, 10.5, 0), (10.5, 12, 10, 11, 500)]
    )
    out, rep = clean_bars(bars, "X", drop_zero_volume=True)
    assert len(out) == 2 and rep.dropped_zero_volume == 1
    out, rep = clean_bars(bars, "^X", drop_zero_volume=False)
    assert len(out) == 3 and rep.dropped_zero_volume == 0


def test_small_ohlc_breach_repaired_large_one_dropped():
    small = 10.0 * REPAIR_TOLERANCE / 2  # within tolerance of a ~10 close
    bars = make_bars(
        [
            (10, 11, 9, 10, 100),  # clean
            (10, 10.0 - small, 9, 10, 100),  # high a bit below the open: repaired
            (10, 11, 9, 13, 100),  # close 13 far above high 11: dropped
        ]
    )
    out, rep = clean_bars(bars, "X")
    assert rep.repaired_ohlc == 1 and rep.dropped_ohlc == 1
    assert len(out) == 2
    row = out.iloc[1]
    assert row.high >= max(row.open, row.close) and row.low <= min(row.open, row.close)


def test_non_session_dates_dropped():
    # 2024-11-15 (Proclamação da República) and 2024-11-20 (Consciência Negra) are B3 holidays.
    idx = pd.DatetimeIndex(["2024-11-14", "2024-11-15", "2024-11-18", "2024-11-20"], name="date")
    bars = make_bars([(10, 11, 9, 10, 100)] * 4).set_axis(idx)
    out, rep = clean_bars(bars, "X")
    assert rep.dropped_non_session == 2
    assert list(out.index.strftime("%Y-%m-%d")) == ["2024-11-14", "2024-11-18"]


def test_bad_prices_dropped():
    bars = make_bars([(10, 11, 9, 10, 100), (0, 11, 9, 10, 100), (10, 11, 9, float("nan"), 100)])
    out, rep = clean_bars(bars, "X")
    assert rep.dropped_bad_price == 2 and len(out) == 1


@pytest.mark.parametrize("ticker", sorted(SOURCES_VOL0))
def test_real_files_match_sources_counts(ticker):
    raw = read_yahoo_csv(BUNDLED_DIR / f"yahoo/{ticker}.csv.gz")
    out, rep = read_bundled_bars(ticker)
    assert rep.rows_in == len(raw)
    assert rep.dropped_zero_volume == SOURCES_VOL0[ticker]
    # Every OHLC-inconsistent row that survives the zero-volume drop is repaired or dropped.
    assert rep.repaired_ohlc + rep.dropped_ohlc <= SOURCES_OHLC_BAD[ticker]
    assert (out.low <= out[["open", "close"]].min(axis=1)).all()
    assert (out.high >= out[["open", "close"]].max(axis=1)).all()
    assert out.index.is_monotonic_increasing and out.index.is_unique
    assert (out.volume > 0).all()


def test_index_keeps_zero_volume_rows_and_multiindex_header():
    out, rep = read_bundled_bars("^BVSP")
    assert rep.rows_in == 4331
    assert rep.dropped_zero_volume == 0
    assert (out.volume == 0).sum() >= 40  # SOURCES: 47 such rows, real prices
    assert out.index[0] == pd.Timestamp("2008-01-02")
    assert (out.adj_close == out.close).all()


def test_known_real_values():
    petr, _ = read_bundled_bars("PETR4")
    assert petr.loc["2021-06-25", "close"] == pytest.approx(29.10, abs=1e-4)  # = COTAHIST
    assert petr.index[-1] == pd.Timestamp("2024-11-14")
    assert petr.close.iloc[-1] == pytest.approx(37.27, abs=1e-4)
    bvsp, _ = read_bundled_bars("^BVSP")
    assert bvsp.loc["2019-12-30", "close"] == pytest.approx(115964, abs=1)


def test_manifest_and_cdi():
    man = bundled_instruments()
    assert len(man) == 24 and (man.kind == "stock").sum() == 23
    cdi = read_bundled_cdi()
    assert len(cdi) == 2717
    y2024 = (1 + cdi.loc["2024"] / 100).prod() - 1
    assert y2024 == pytest.approx(0.1088, abs=0.0005)  # published CDI 2024: 10.88 %
