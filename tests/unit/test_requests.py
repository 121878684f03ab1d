"""core.requests: the one set of parsers, the request builders' ranges, typed results."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import InputError
from core.requests import (
    BacktestMetrics,
    build_backtest_request,
    build_frontier_request,
    build_import_request,
    build_walk_forward_request,
    liquidity_warnings,
    parse_money,
)
from core.requests.parsing import (
    parse_date,
    parse_number,
    parse_pairs,
    parse_percent,
    parse_rate,
    parse_ticker,
    parse_tickers,
    shorten,
)

ROOT = Path(__file__).resolve().parents[2]


# -- the one money parser (the two old copies disagreed on "1234.567" and "0") ---------------
@pytest.mark.parametrize(
    "text, value",
    [
        ("100000", 100_000.0),
        ("100.000,00", 100_000.0),
        ("R$ 50.000", 50_000.0),
        ("1.234.567", 1_234_567.0),
        ("1.500", 1500.0),
        ("1234,56", 1234.56),
        ("50000.5", 50_000.5),
        ("1e6", 1_000_000.0),
        (2500, 2500.0),
    ],
)
def test_parse_money_accepts_what_a_brazilian_types(text, value):
    assert parse_money(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["1234.567", "0", "-10", "inf", "nan", "abc", "1,2,3"])
def test_parse_money_refuses_ambiguous_or_non_positive(text):
    with pytest.raises(InputError):
        parse_money(text)


def test_parse_money_zero_only_when_allowed():
    assert parse_money("0", allow_zero=True) == 0.0
    assert parse_money(None, default=7.0) == 7.0


def test_numbers_percent_rates_and_ranges():
    assert parse_number("1.234,5", "x") == 1234.5
    assert parse_percent("12,5%", "x") == pytest.approx(0.125)
    assert parse_percent(15, "x") == pytest.approx(0.15)
    assert parse_rate("0.12", "x") == pytest.approx(0.12)
    assert parse_rate("12%", "x") == pytest.approx(0.12)
    with pytest.raises(InputError, match=r"Stop \(recebido 150%\)|deve estar em"):
        parse_percent(150, "Stop", lo=0, hi=100)
    with pytest.raises(InputError, match="150%"):
        parse_percent(150, "Stop", lo=0, hi=100)


def test_dates_in_both_notations():
    assert parse_date("14/11/2024", "d") == parse_date("2024-11-14", "d")
    assert parse_date("2024-11-14T00:00:00", "d").day == 14
    with pytest.raises(InputError, match="AAAA-MM-DD"):
        parse_date("2024-13-01", "d")


@pytest.mark.parametrize("good", ["PETR4", "petr4", "TAEE11", "PETR4F", "^BVSP", "WINZ24"])
def test_b3_tickers(good):
    assert parse_ticker(good) == good.upper()


@pytest.mark.parametrize(
    "bad", ["PETR4'; DROP TABLE bars;--", "<script>alert(1)</script>", "PE TR4", "", "1234", "X"]
)
def test_ticker_syntax_refuses_free_text(bad):
    with pytest.raises(InputError):
        parse_ticker(bad)


def test_tickers_and_pairs():
    assert parse_tickers("petr4, vale3 ITUB4") == ("PETR4", "VALE3", "ITUB4")
    with pytest.raises(InputError, match="repetidos"):
        parse_tickers(["PETR4", "petr4"])
    # the pt-BR decimal comma survives inside a pair list
    assert parse_pairs("PETR4=12,5, VALE3=10", "V", float_pct) == {
        "PETR4": pytest.approx(0.125),
        "VALE3": pytest.approx(0.10),
    }
    with pytest.raises(InputError, match="duas vezes"):
        parse_pairs("PETR4=1; PETR4=2", "V", float_pct)


def float_pct(v):
    return parse_percent(v, "v")


def test_shorten_never_echoes_a_huge_field():
    s = shorten("9" * 30_000_000)
    assert len(s) < 100 and "30000000 caracteres" in s


# -- builders -------------------------------------------------------------------------------
def test_backtest_request_defaults_and_ranges():
    r = build_backtest_request("sma_cross", "PETR4")
    assert (r.cash, r.sizing, r.lot_size, r.fractional, r.costs) == (
        100_000.0,
        "all_in",
        100,
        True,
        "b3",
    )
    assert r.params == {"fast": 10, "slow": 30}
    assert build_backtest_request("sma_cross", "PETR4", sizing="risk").size_value == 1.0
    assert build_backtest_request("sma_cross", "PETR4", sizing="fixed").size_value == 10_000.0
    for kw, needle in [
        ({"cash": "inf"}, "Capital inicial"),
        ({"stop_loss": 100}, "Stop-loss"),
        ({"sizing": "percent", "size_value": 0}, "dimensionamento"),
        ({"max_positions": 0}, "posições"),
        ({"start": "2020-01-01", "end": "2019-01-01"}, "anterior"),
        ({"params": "fast=1"}, "fast"),
        ({"lot": "7"}, "Lote"),
    ]:
        with pytest.raises(InputError, match=needle):
            build_backtest_request("sma_cross", "PETR4", **kw)


def test_walk_forward_request_ranges():
    r = build_walk_forward_request(strategy="sma_cross", tickers="PETR4", params="fast=5")
    assert (r.trials, r.windows, r.train_ratio, r.fixed_params) == (30, 4, 2.0, {})
    r = build_walk_forward_request(strategy="sma_cross", tickers="PETR4", fixed_params="fast=5")
    assert r.fixed_params == {"fast": 5}
    with pytest.raises(InputError, match="treino") as e:
        build_walk_forward_request(strategy="sma_cross", tickers="PETR4", train_ratio=-1)
    assert "período" not in str(e.value)
    with pytest.raises(InputError, match="Tentativas"):
        build_walk_forward_request(strategy="sma_cross", tickers="PETR4", trials=0)


def test_frontier_request_views_in_percent_and_capital_rules():
    r = build_frontier_request(["PETR4", "VALE3"], views="PETR4=20", capital="50.000,00")
    assert r.spec.views == {"PETR4": pytest.approx(0.2)} and r.capital == 50_000.0
    assert build_frontier_request(["PETR4", "VALE3"], capital="0").capital is None
    with pytest.raises(InputError, match="Capital"):
        build_frontier_request(["PETR4", "VALE3"], capital="-1")
    assert (
        build_frontier_request(["PETR4", "VALE3"], capital="0", holdings="PETR4=100").capital == 0
    )
    with pytest.raises(InputError, match="2 ativos"):
        build_frontier_request(["PETR4"])
    with pytest.raises(InputError, match="Peso mínimo maior"):
        build_frontier_request(["PETR4", "VALE3"], weight_min=0.5, weight_max=0.2)


def test_import_request_checks_the_ticker():
    assert build_import_request(["a.csv"], ticker="petr4").ticker == "PETR4"
    with pytest.raises(InputError, match="ticker inválido"):
        build_import_request(["a.csv"], ticker="<script>")
    with pytest.raises(InputError, match="arquivo"):
        build_import_request([])


# -- typed results --------------------------------------------------------------------------
def test_backtest_metrics_cover_every_documented_metric_and_round_trip():
    from core.backtest.metrics import METRIC_INFO

    fields = set(BacktestMetrics.__dataclass_fields__) - {"extra", "order"}
    assert fields == set(METRIC_INFO)
    d = {k: 1.5 for k in METRIC_INFO} | {"n_trades": 3, "too_few_trades": True, "new_key": 9}
    m = BacktestMetrics.from_dict(d)
    assert m.n_trades == 3 and m.sharpe == 1.5 and m.extra == {"new_key": 9}
    assert list(m.to_dict()) == list(d) and m.to_dict()["new_key"] == 9


def test_backtest_metrics_of_a_real_run(bundled_store):
    from core.requests import backtest_metrics, run_backtest_request

    req = build_backtest_request("sma_cross", "PETR4", start="2020-01-02", end="2023-12-29")
    res = run_backtest_request(bundled_store, req)
    m = backtest_metrics(res)
    assert m.n_trades == res.metrics["n_trades"] == len(res.trades)
    assert m.to_dict() == pytest.approx(res.metrics, nan_ok=True)
    assert math.isclose(m.initial_equity_brl, 100_000.0)


def test_liquidity_warning_above_a_tenth_of_the_average_volume(bundled_store):
    vol = bundled_store.bars("PETR4", None, "2024-11-14")["volume"].tail(20).mean()
    assert liquidity_warnings(bundled_store, {"PETR4": 0.05 * vol}, "2024-11-14") == []
    (msg,) = liquidity_warnings(bundled_store, {"PETR4": 0.3 * vol}, "2024-11-14")
    assert "PETR4" in msg and "volume médio" in msg
    # the fractional leg counts against the same stock
    assert liquidity_warnings(bundled_store, {"PETR4": 0.06 * vol, "PETR4F": 0.06 * vol}, None)


def test_importing_core_requests_stays_light():
    code = (
        "import sys, core.requests\n"
        "heavy = [m for m in ('numba', 'sklearn', 'scipy', 'pypfopt', 'optuna', 'dash', "
        "'alembic', 'pandas') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ""


def test_backtest_with_absurd_cash_warns_about_volume(bundled_store):
    from core.requests import run_backtest_request
    from core.requests.liquidity import trade_liquidity_warnings

    small = build_backtest_request("sma_cross", "PETR4", start="2022-01-03", end="2023-12-29")
    res = run_backtest_request(bundled_store, small)
    assert trade_liquidity_warnings(bundled_store, res.trades) == []
    huge = build_backtest_request(
        "sma_cross", "PETR4", start="2022-01-03", end="2023-12-29", cash="1e12"
    )
    res = run_backtest_request(bundled_store, huge)
    (msg,) = trade_liquidity_warnings(bundled_store, res.trades)
    assert msg.startswith("PETR4") and "volume médio" in msg
