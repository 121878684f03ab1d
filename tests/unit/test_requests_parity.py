"""Page ↔ CLI parity: the same inputs through the page's form code and the CLI's argument code
give the same request object, per job (issue 11, "One request layer").

The page modules are imported with ``dash.register_page`` stubbed and Dash's global callback
registry restored afterwards, so nothing leaks into other tests. Regression tests for the
drift the issue lists: Black-Litterman views (20 % on the page, 2000 % in the CLI), the
"risk" sizing default (10 % vs 1 %), walk-forward trials (25 vs 30).
"""

from __future__ import annotations

import importlib
import sys

import pytest

from core.requests import (
    DEFAULT_CASH,
    DEFAULT_TRIALS,
    SIZING_DEFAULTS,
    build_import_request,
)
from dashboard.cli import build_parser
from dashboard.commands.backtest import backtest_request_from_args, walk_forward_request_from_args
from dashboard.commands.imports import import_request_from_args
from dashboard.commands.ml import evaluate_request_from_args
from dashboard.commands.portfolio import frontier_request_from_args
from dashboard.settings import load_settings


def _import_page(name: str):
    import dash
    import dash._callback as cbm

    saved_list = list(cbm.GLOBAL_CALLBACK_LIST)
    saved_map = dict(cbm.GLOBAL_CALLBACK_MAP)
    saved_register = dash.register_page
    dash.register_page = lambda *a, **k: None
    try:
        return importlib.import_module(f"pages.{name}")
    finally:
        dash.register_page = saved_register
        cbm.GLOBAL_CALLBACK_LIST[:] = saved_list
        cbm.GLOBAL_CALLBACK_MAP.clear()
        cbm.GLOBAL_CALLBACK_MAP.update(saved_map)
        sys.modules.pop(f"pages.{name}", None)


@pytest.fixture(scope="module")
def pages():
    return {n: _import_page(n) for n in ("backtest", "portfolio", "models", "data")}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path):
    for k in list(__import__("os").environ):
        if k.startswith("PREGAO_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path))


def cli(*argv):
    return build_parser().parse_args(list(argv))


# -- backtest ------------------------------------------------------------------------------
def _sma_params():
    from core.strategies import STRATEGIES

    decl = STRATEGIES["sma_cross"].params
    return [p.default for p in decl], [{"type": "backtest-param", "name": p.name} for p in decl]


def backtest_form(
    *,
    strategy="sma_cross",
    tickers=("PETR4",),
    start="2015-01-02",
    end="2024-11-14",
    costs="b3",
    sizing="all_in",
    size_value=None,
    lot="100f",
    cash=DEFAULT_CASH,
    stop_loss=None,
    take_profit=None,
    trailing=None,
    max_bars=None,
    short=False,
    max_positions=None,
    reinvest="",
    adjusted=False,
    interval="1d",
    day_trade=False,
    flatten=10,
    margin=None,
    fee=None,
    pvals=None,
    pids=None,
):
    """The Backtest form's State values in ``_FORM_STATES`` order, with the layout's defaults."""
    dv, di = _sma_params()
    return (
        strategy,
        dv if pvals is None else pvals,
        di if pids is None else pids,
        list(tickers),
        start,
        end,
        costs,
        sizing,
        size_value,
        lot,
        cash,
        stop_loss,
        take_profit,
        trailing,
        max_bars,
        short,
        max_positions,
        reinvest,
        adjusted,
        interval,
        day_trade,
        flatten,
        margin,
        fee,
    )


def page_backtest_request(pages, form):
    from core.requests import build_backtest_request

    return build_backtest_request(**pages["backtest"]._form_fields(*form))


BT = ["backtest", "--strategy", "sma_cross", "--tickers", "PETR4"]
WINDOW = ["--start", "2015-01-02", "--end", "2024-11-14"]


@pytest.mark.parametrize(
    "form_kw, argv",
    [
        ({}, []),
        ({"cash": 50_000}, ["--cash", "R$ 50.000,00"]),
        # regression: the page defaulted "risk" sizing to 10 %, the CLI to 1 %
        ({"sizing": "risk", "stop_loss": 5}, ["--sizing", "risk", "--stop-loss", "5"]),
        ({"sizing": "fixed", "size_value": 20_000}, ["--sizing", "fixed", "--size-value", "20000"]),
        ({"sizing": "percent"}, ["--sizing", "percent"]),
        ({"lot": "100"}, ["--no-fractional"]),
        ({"lot": "1"}, ["--lot-size", "1"]),
        ({"costs": "none", "adjusted": False}, ["--costs", "none", "--unadjusted"]),
        (
            {"take_profit": 12.5, "trailing": 3, "max_bars": 20, "short": True, "max_positions": 2},
            [
                "--take-profit",
                "12,5",
                "--trailing",
                "3",
                "--max-bars",
                "20",
                "--short",
                "--max-positions",
                "2",
            ],
        ),
        ({"pvals": [5, 50]}, ["--params", "fast=5,slow=50"]),
        # issue 14: interval, day trade and futures contracts
        (
            {
                "interval": "5min",
                "day_trade": True,
                "flatten": 15,
                "sizing": "contracts",
                "size_value": 3,
                "margin": 150,
                "fee": 0.3,
            },
            [
                "--interval",
                "5m",
                "--day-trade",
                "--flatten-minutes",
                "15",
                "--contracts",
                "3",
                "--margin",
                "150",
                "--fee-per-contract",
                "0,30",
            ],
        ),
    ],
)
def test_backtest_page_and_cli_build_the_same_request(pages, form_kw, argv):
    page = page_backtest_request(pages, backtest_form(**form_kw))
    cmd = backtest_request_from_args(cli(*BT, *WINDOW, *argv))
    assert page == cmd


def test_risk_sizing_defaults_to_one_percent_everywhere(pages):
    page = page_backtest_request(pages, backtest_form(sizing="risk", stop_loss=5))
    assert page.size_value == SIZING_DEFAULTS["risk"] == 1.0
    assert page.engine_config().sizing.value == 1.0


def test_page_and_cli_refuse_the_same_bad_input(pages):
    from core.errors import InputError

    with pytest.raises(InputError, match="Capital inicial") as a:
        page_backtest_request(pages, backtest_form(cash=float("inf")))
    with pytest.raises(InputError, match="Capital inicial") as b:
        backtest_request_from_args(cli(*BT, "--cash", "inf"))
    assert "finito" in str(a.value) and "finito" in str(b.value)
    with pytest.raises(InputError, match="vazio"):
        page_backtest_request(pages, backtest_form(pvals=[None, 30]))


# -- walk-forward --------------------------------------------------------------------------
def test_walk_forward_page_and_cli_build_the_same_request(pages):
    bt = pages["backtest"]
    form = backtest_form()
    fields = bt._form_fields(*form)
    fields.pop("params")
    from core.requests import build_walk_forward_request

    # the page's controls at their layout defaults: objective sharpe, rolling, 4 windows, trials
    page = build_walk_forward_request(
        **fields, objective="sharpe", mode="rolling", windows=4, trials=DEFAULT_TRIALS
    )
    cmd = walk_forward_request_from_args(
        cli("optimize", "--strategy", "sma_cross", "--tickers", "PETR4", *WINDOW)
    )
    assert page == cmd
    assert page.trials == cmd.trials == 30  # regression: the page used 25, the CLI 30


def test_walk_forward_page_layout_default_trials_is_the_request_default():
    from components.backtest_form import wf_tab

    tab = wf_tab()
    found = []

    def walk(c):
        if getattr(c, "id", None) == "backtest-wf-trials":
            found.append(c.value)
        kids = getattr(c, "children", None)
        for ch in kids if isinstance(kids, (list, tuple)) else [kids]:
            if ch is not None and not isinstance(ch, (str, int, float)):
                walk(ch)

    walk(tab)
    assert found == [DEFAULT_TRIALS]


# -- frontier ------------------------------------------------------------------------------
def portfolio_controls(**kw):
    """The Carteira controls in ``build_request`` order, with the layout's defaults."""
    c = dict(
        tickers=["PETR4", "VALE3", "ITUB4"],
        start=None,
        end=None,
        objective="max_sharpe",
        target=None,
        returns="mean_historical",
        risk_model="ledoit_wolf",
        risk_free=None,
        wmin=0,
        wmax=100,
        gamma=0,
        risk_aversion=1,
        points=50,
        views=None,
        holdings=None,
        asset_bounds=None,
        capital=None,
        oos=[],
        oos_universe="liquid",
        lookback_years=3,
        rebalance="quarterly",
    )
    c.update(kw)
    return list(c.values())


FR = ["frontier", "PETR4", "VALE3", "ITUB4"]


@pytest.mark.parametrize(
    "page_kw, argv",
    [
        ({}, []),
        # regression: a view of 20 was 20 % on the page and 2000 % in the CLI
        ({"views": "PETR4=20"}, ["--views", "PETR4=20"]),
        ({"views": "PETR4=12,5; VALE3=-5"}, ["--views", "PETR4=12,5%;VALE3=-5"]),
        (
            {"objective": "efficient_return", "target": 15},
            ["--objective", "efficient_return", "--target", "0.15"],
        ),
        (
            {"objective": "efficient_return", "target": 15},
            ["--objective", "efficient_return", "--target", "15%"],
        ),
        (
            {"risk_free": 10.5, "wmin": 5, "wmax": 40},
            ["--risk-free", "10,5%", "--bounds", "0.05,0.4"],
        ),
        ({"capital": 50_000}, ["--capital", "50.000,00"]),
        (
            {"holdings": "PETR4=300", "capital": 0, "asset_bounds": "VALE3=5:30"},
            ["--holdings", "PETR4=300", "--capital", "0", "--asset-bounds", "VALE3=5:30"],
        ),
        ({"oos": ["on"], "rebalance": "monthly"}, ["--oos", "--rebalance", "monthly"]),
    ],
)
def test_frontier_page_and_cli_build_the_same_request(pages, page_kw, argv):
    page = pages["portfolio"].build_request(*portfolio_controls(**page_kw))
    cmd = frontier_request_from_args(cli(*FR, *argv), load_settings(env_file=None))
    assert page == cmd


def test_black_litterman_view_is_twenty_percent_in_both(pages):
    page = pages["portfolio"].build_request(*portfolio_controls(views="PETR4=20"))
    cmd = frontier_request_from_args(cli(*FR, "--views", "PETR4=20"))
    assert page.spec.views == cmd.spec.views == {"PETR4": pytest.approx(0.20)}


def test_view_out_of_range_is_refused_with_the_ticker():
    from core.errors import InputError

    with pytest.raises(InputError, match="PETR4") as e:
        frontier_request_from_args(cli(*FR, "--views", "PETR4=2000"))
    assert "300" in str(e.value)


# -- evaluate ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "form, argv",
    [
        ((["PETR4"], "direction", ["xgboost"], "walk-forward", 5, ["index"]), []),
        (
            (["VALE3"], "three_class", ["logreg"], "purged-kfold", 3, ["index", "tune"]),
            [
                "--target",
                "three_class",
                "--model",
                "logreg",
                "--validation",
                "purged-kfold",
                "--folds",
                "3",
                "--tune",
            ],
        ),
        (
            (["PETR4"], "direction", ["rf"], "holdout", 5, []),
            ["--model", "rf", "--validation", "holdout", "--no-index"],
        ),
    ],
)
def test_evaluate_page_and_cli_build_the_same_request(pages, form, argv):
    page = pages["models"].evaluate_request_from_form(*form)
    ticker = form[0][0]
    cmd = evaluate_request_from_args(cli("evaluate", "--ticker", ticker, *argv))
    assert page == cmd


def test_evaluate_folds_out_of_range_is_an_error_not_a_silent_default(pages):
    from core.errors import InputError

    with pytest.raises(InputError, match="Dobras"):
        pages["models"].evaluate_request_from_form(
            ["PETR4"], "direction", ["xgboost"], "walk-forward", 50, []
        )
    with pytest.raises(InputError, match="Dobras"):
        evaluate_request_from_args(cli("evaluate", "--ticker", "PETR4", "--folds", "50"))


# -- import --------------------------------------------------------------------------------
def test_import_page_and_cli_build_the_same_request(pages, tmp_path):
    f = tmp_path / "planilha.csv"
    f.write_text("dia;fech\n25/06/2021;29,10\n")
    data = pages["data"]
    values = ["dia" if k == "date" else ("fech" if k == "close" else None) for k in data.MAP_FIELDS]
    page = build_import_request(
        [str(f)],
        format="csv",
        ticker="zzzz3",
        mapping=data._mapping("csv", values, ",", True),
        fractional=False,
    )
    cmd = import_request_from_args(
        cli(
            "import",
            str(f),
            "--format",
            "csv",
            "--ticker",
            "ZZZZ3",
            "--map-date",
            "dia",
            "--map-close",
            "fech",
            "--decimal",
            ",",
            "--dayfirst",
        )
    )
    assert page == cmd
