"""The CLI contract: ``backtest --json`` and ``optimize --json`` shapes, errors exit 2."""

from __future__ import annotations

import json
import shutil

import pytest

from dashboard.cli import main


@pytest.fixture
def db_url(seeded_sqlite, tmp_path):
    path = tmp_path / "pregao.db"
    shutil.copy(seeded_sqlite, path)
    return f"sqlite:///{path}"


def test_backtest_json_contract(db_url, capsys):
    rc = main(
        [
            "--db",
            db_url,
            "backtest",
            "--strategy",
            "sma_cross",
            "--tickers",
            "PETR4",
            "--start",
            "2018-01-01",
            "--end",
            "2023-12-29",
            "--params",
            "fast=10,slow=30",
            "--costs",
            "none",
            "--sizing",
            "all_in",
            "--lot-size",
            "1",
            "--cash",
            "100.000,00",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert {"metrics", "trades", "equity"} <= set(out)
    assert out["metrics"]["n_trades"] == len(out["trades"]) > 0
    t = out["trades"][0]
    assert {
        "ticker",
        "entry_date",
        "entry_price",
        "exit_date",
        "exit_price",
        "shares",
        "pnl",
    } <= set(t)
    assert out["equity"][0]["equity"] == 100_000
    assert out["start"] >= "2018-01-01" and out["end"] <= "2023-12-29"
    # stored: `runs --json` lists it
    assert main(["--db", db_url, "runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[0]["id"] == out["run_id"]


def test_optimize_json(db_url, capsys):
    rc = main(
        [
            "--db",
            db_url,
            "optimize",
            "--strategy",
            "breakout",
            "--tickers",
            "VALE3",
            "--start",
            "2014-01-01",
            "--windows",
            "2",
            "--trials",
            "4",
            "--no-heatmap",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["windows"]) == 2 and {"metrics", "trades", "equity"} <= set(out)
    assert out["windows"][0]["test_start"] > out["windows"][0]["train_end"]
    # the stitched out-of-sample result is stored and can be reopened
    assert out["run_id"]
    assert main(["--db", db_url, "runs", "--show", str(out["run_id"]), "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back["metrics"]["n_trades"] == out["metrics"]["n_trades"]
    # equity starts at the close before the first test session (the starting cash)
    assert back["equity"][1]["date"] == out["windows"][0]["test_start"]
    assert back["equity"][0]["date"] < out["windows"][0]["test_start"]


@pytest.mark.parametrize(
    "argv, msg",
    [
        (["--strategy", "ml_filter", "--tickers", "PETR4"], "nenhum modelo treinado/promovido"),
        (["--strategy", "sma_cross", "--tickers", "XXXX9"], "XXXX9"),
        (["--strategy", "sma_cross", "--tickers", "PETR4", "--params", "fast=500"], "fast"),
        (["--strategy", "sma_cross", "--tickers", "PETR4", "--sizing", "risk"], "stop"),
    ],
)
def test_user_errors_exit_2(db_url, capsys, argv, msg):
    assert main(["--db", db_url, "backtest", *argv]) == 2
    assert msg in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "mode"), [([], "traded"), (["--adjusted"], "adjusted"), (["--unadjusted"], "traded")]
)
def test_backtest_json_says_the_price_mode(db_url, capsys, flags, mode):
    """Issue 9: traded prices by default; every run says which mode it used."""
    base = ["--db", db_url, "backtest", "--strategy", "buy_and_hold", "--tickers", "PETR4"]
    rc = main(
        base + ["--start", "2022-01-03", "--end", "2022-12-29", "--no-save", "--json"] + flags
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["price_mode"] == mode
    if mode == "traded":  # PETR4 paid large dividends in 2022: credited as cash, reinvested
        assert out["metrics"]["proventos_brl"] > 0


def test_backtest_refuses_an_index_with_exit_2(db_url, capsys):
    rc = main(["--db", db_url, "backtest", "--strategy", "sma_cross", "--tickers", "^BVSP"])
    assert rc == 2
    assert "índice" in capsys.readouterr().err
