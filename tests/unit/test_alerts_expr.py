"""The alert expression language: results on real PETR4 bars checked against plain pandas,
no lookahead, and pt-BR parse errors that name the position and the token."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.alerts.expr import parse
from core.errors import InputError
from tests.helpers import make_bars, real_bars


@pytest.fixture(scope="module")
def petr4() -> pd.DataFrame:
    return real_bars("PETR4")


def _dates(mask) -> list[pd.Timestamp]:
    return list(pd.Series(mask).pipe(lambda s: s[s.astype(bool)]).index)


def test_crosses_above_sma50_matches_pandas(petr4):
    c = petr4["close"]
    sma = c.rolling(50).mean()
    expected = (c > sma) & (c.shift(1) <= sma.shift(1))
    got = parse("crosses_above(close, sma(50))").evaluate(petr4)
    assert got.dtype == bool and got.index.equals(petr4.index)
    assert _dates(got) == _dates(expected)
    assert 20 < int(got.sum()) < len(petr4) // 10  # a real crossing count, not every bar
    assert not got.iloc[:50].any()  # warm-up: SMA(50) undefined


def test_crosses_below_and_pt_br_alias(petr4):
    c = petr4["close"]
    sma = c.rolling(20).mean()
    expected = (c < sma) & (c.shift(1) >= sma.shift(1))
    got = parse("crosses_below(close, MMS(20))").evaluate(petr4)
    assert _dates(got) == _dates(expected)
    assert parse("IFR(14) < 30").canonical == "rsi(14) < 30"


def test_portuguese_keywords_and_fields_are_the_same_condition(petr4):
    pt = parse("fechamento > abertura e não máxima < mms(20) ou ifr(14) < 30")
    en = parse("close > open and not high < sma(20) or rsi(14) < 30")
    assert pt.canonical == en.canonical
    assert pt.evaluate(petr4).equals(en.evaluate(petr4))
    with pytest.raises(InputError, match="ponto como separador decimal"):
        parse("close > 1,5")


def test_enters_and_leaves_bollinger_channel_match_pandas(petr4):
    c = petr4["close"]
    mid = c.rolling(20).mean()
    sd = c.rolling(20).std(ddof=0)
    lo, hi = mid - 2 * sd, mid + 2 * sd
    inside = (c >= lo) & (c <= hi)
    valid = lo.notna() & lo.shift(1).notna()
    enters = valid & inside & ~inside.shift(1, fill_value=True)
    leaves = valid & ~inside & inside.shift(1, fill_value=False)
    e = parse("enters_channel(close, bollinger(20,2).lower, bollinger(20,2).upper)")
    lv = parse("leaves_channel(close, bollinger(20, 2).lower, bollinger(20, 2).upper)")
    ge, gl = e.evaluate(petr4), lv.evaluate(petr4)
    # TA-Lib's BBANDS and pandas' rolling std may differ in the last bits: allow a tie or two
    assert len(set(_dates(ge)) ^ set(_dates(enters))) <= 2
    assert len(set(_dates(gl)) ^ set(_dates(leaves))) <= 2
    assert ge.sum() > 50 and gl.sum() > 50
    assert not (ge & gl).any()


def test_boolean_logic_and_arithmetic_match_pandas(petr4):
    v, c, o = petr4["volume"], petr4["close"], petr4["open"]
    expected = (v > 2 * v.rolling(20).mean()) & (c > o) | ~(c >= c.shift(1) - 0.5)
    got = parse(
        "volume > 2 * sma(volume, 20) and close > open or not close >= prev(close) - 0.5"
    ).evaluate(petr4)
    assert _dates(got) == _dates(expected.fillna(False))


def test_highest_breakout_matches_pandas(petr4):
    h, c = petr4["high"], petr4["close"]
    expected = c > h.rolling(20).max().shift(1)
    got = parse("close > prev(highest(high, 20))").evaluate(petr4)
    assert _dates(got) == _dates(expected)


def test_no_lookahead_prefix_gives_same_value(petr4):
    e = parse("crosses_above(macd(12,26,9).line, macd(12,26,9).signal) or rsi(14) < 30")
    full = e.evaluate(petr4)
    for k in (200, 1000, len(petr4) - 7):
        assert bool(e.evaluate(petr4.iloc[:k]).iloc[-1]) == bool(full.iloc[k - 1])


def test_values_report_operands(petr4):
    e = parse("crosses_above(close, sma(50)) and rsi(14) > 50")
    cond, vals = e.evaluate_with_values(petr4)
    assert list(vals.columns) == ["close", "sma(50)", "rsi(14)"]
    i = int(np.flatnonzero(cond.to_numpy())[0])
    assert vals["close"].iat[i] > vals["sma(50)"].iat[i]
    assert vals["close"].iat[i] == petr4["close"].iat[i]


def test_empty_frame_and_flat_series():
    flat = make_bars([(10, 10, 10, 10, 100)] * 30)
    assert not parse("crosses_above(close, sma(5))").evaluate(flat).any()
    assert parse("close == 10").evaluate(flat).all()
    assert len(parse("close > 1").evaluate(flat.iloc[:0])) == 0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("close @ 3", "posição 7 ('@')"),
        ("close >", "posição 8 (fim da condição)"),
        ("close > sma(50", "posição 15 (fim da condição)"),
        ("close > foo", "posição 9 ('foo')"),
        ("close > sma(0)", "posição 13 ('0')"),
        ("close > sma(2.5)", "posição 13 ('2.5')"),
        ("close > sma", "posição 9 ('sma')"),
        ("bollinger(20,2).top > close", "posição 17 ('top')"),
        ("crosses_above(close)", "posição 1 ('crosses_above')"),
        ("1 < 2 < 3", "posição 7 ('<')"),
        ("rsi(14) < 30 and", "posição 17"),
        ("(close > 1) + 2 > 1", "posição 1 ('(')"),
        ("close > open and 5", "posição 18 ('5')"),
        ("__import__(os)", "posição 1 ('__import__')"),
        ("sma(close, 20, 3) > 1", "posição 16 ('3')"),
    ],
)
def test_parse_errors_name_position_and_token(text, fragment):
    with pytest.raises(InputError) as exc:
        parse(text)
    msg = str(exc.value)
    assert fragment in msg, msg
    assert msg.startswith("Condição")


def test_number_result_and_empty_are_errors():
    with pytest.raises(InputError, match="número, não verdadeiro/falso"):
        parse("sma(50)")
    with pytest.raises(InputError, match="vazia"):
        parse("   ")
    with pytest.raises(InputError, match="rápido deve ser menor"):
        parse("macd(26, 12, 9).hist > 0")
