"""Replay ≡ backtest on real bundled data, the ``paper run`` CLI against ``backtest``, and
crash-resume with a real ``kill -9`` (issue 12).

Every trade of a replay is compared with :func:`core.backtest.runner.run_backtest` of the
same strategy, capital, costs and sizing on the same window: ticker, entry and exit dates,
shares, exit reason, prices and fees to 1e-6. Trades the backtest closes at the last bar
(``fim``) are positions the paper account still holds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from core.backtest.engine import EngineConfig
from core.backtest.runner import run_backtest
from core.backtest.sizing import Sizing
from core.trading.accounts import create_account
from core.trading.broker import PaperBroker
from core.trading.monitor import account_trades
from core.trading.runner import StrategyRunner, runner_status

ROOT = Path(__file__).resolve().parents[2]
FIVE = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3"]


def assert_same_trades(bt: pd.DataFrame, store, account: str) -> int:
    """Every closed backtest trade equals the account's; ``fim`` trades are open positions."""
    paper = account_trades(store, account)
    closed = bt[bt["exit_reason"] != "fim"]
    key = ["exit_date", "entry_date", "ticker"]
    a = closed.sort_values(key).reset_index(drop=True)
    b = paper.sort_values(key).reset_index(drop=True)
    assert len(a) == len(b), (len(a), len(b))
    for x, y in zip(a.itertuples(), b.itertuples(), strict=True):
        assert (x.ticker, x.entry_date, x.exit_date, int(x.shares), x.exit_reason) == (
            y.ticker,
            y.entry_date,
            y.exit_date,
            int(y.shares),
            y.exit_reason,
        )
        for f in ("entry_price", "exit_price", "fees", "pnl"):
            assert abs(getattr(x, f) - getattr(y, f)) < 1e-6, (f, x, y)
    still = bt[bt["exit_reason"] == "fim"]
    held = {p.ticker: p.qty for p in PaperBroker(store, account).positions() if p.qty}
    assert held == {r.ticker: int(r.shares) for r in still.itertuples()}
    return len(a)


def _replay(store, account, strategy, tickers, start, end, cfg, params=None):
    create_account(store, account, cfg.cash, costs="b3")
    r = StrategyRunner(store, account, strategy, tickers, params, cfg, start=start, end=end)
    st = r.run()
    assert st.status == "concluído"
    assert r.drift == []
    bt = run_backtest(store, strategy, tickers, start, end, params=params, config=cfg)
    return bt, st


@pytest.mark.slow
@pytest.mark.parametrize(
    ("strategy", "tickers", "cfg"),
    [
        ("wave3", FIVE, EngineConfig(reinvest=False)),
        (
            "sma_cross",
            ["PETR4", "VALE3", "ITUB4", "BBAS3"],
            EngineConfig(reinvest=False, max_positions=2, stop_loss=0.05, take_profit=0.10),
        ),
        (
            "mean_reversion",
            ["PETR4", "VALE3", "ABEV3"],
            EngineConfig(reinvest=False, sizing=Sizing("percent", 30.0), max_bars=10),
        ),
        (
            "breakout",
            ["PETR4", "VALE3", "B3SA3"],
            EngineConfig(reinvest=False, sizing=Sizing("fixed", 20_000.0), stop_loss=0.04),
        ),
    ],
)
def test_replay_equals_backtest(bundled_store, strategy, tickers, cfg):
    bt, st = _replay(
        bundled_store, f"eq-{strategy}", strategy, tickers, "2024-01-01", "2024-06-30", cfg
    )
    n = assert_same_trades(bt.trades, bundled_store, f"eq-{strategy}")
    assert n >= 3, f"{strategy}: too few trades ({n}) to compare anything"
    assert st.bars_done == st.bars_total > 100


def _cli(env, *args, check=True):
    p = subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if check:
        assert p.returncode == 0, p.stderr
    return p


@pytest.fixture
def cli_env(tmp_path, seeded_sqlite):
    db = tmp_path / "pregao.db"
    shutil.copy(seeded_sqlite, db)
    env = {**os.environ, "PREGAO_DATABASE_URL": f"sqlite:///{db}", "PYTHONPATH": str(ROOT)}
    env.pop("PREGAO_MODE", None)
    return env


@pytest.mark.slow
def test_cli_paper_run_wave3_2024_equals_backtest(cli_env):
    """Acceptance: ``paper run`` of wave3 on 2024 on five stocks = ``backtest``'s trades."""
    win = ["--start", "2024-01-01", "--end", "2024-12-31"]
    _cli(cli_env, "paper", "create", "--name", "w3", "--cash", "100000")
    _cli(
        cli_env,
        "paper",
        "run",
        "--account",
        "w3",
        "--strategy",
        "wave3",
        "--tickers",
        *FIVE,
        *win,
        "--json",
    )
    bt = json.loads(
        _cli(
            cli_env,
            "backtest",
            "--strategy",
            "wave3",
            "--tickers",
            *FIVE,
            *win,
            "--json",
            "--no-save",
            "--no-reinvest",
        ).stdout
    )["trades"]
    rep = json.loads(_cli(cli_env, "paper", "report", "--account", "w3", "--json").stdout)
    for k in (
        "equity",
        "cash",
        "n_trades",
        "win_rate",
        "win_rate_ci",
        "sharpe",
        "max_drawdown_pct",
        "trades",
        "red_flags",
    ):
        assert k in rep
    closed = [t for t in bt if t["exit_reason"] != "fim"]
    key = lambda t: (t["exit_date"], t["entry_date"], t["ticker"])  # noqa: E731
    assert len(closed) == len(rep["trades"]) == rep["n_trades"] > 10
    for x, y in zip(sorted(closed, key=key), sorted(rep["trades"], key=key), strict=True):
        assert set(x) == set(y)
        for k in ("ticker", "direction", "entry_date", "exit_date", "shares", "exit_reason"):
            assert x[k] == y[k], (k, x, y)
        for k in ("entry_price", "exit_price", "fees", "pnl"):
            assert abs(x[k] - y[k]) < 1e-6, (k, x, y)


@pytest.mark.slow
def test_cli_paper_run_refuses_what_it_cannot_replay(cli_env):
    _cli(cli_env, "paper", "create", "--name", "x", "--cash", "100000")
    base = ["paper", "run", "--account", "x", "--strategy", "sma_cross", "--tickers", "PETR4"]
    for extra, word in (
        (["--adjusted"], "ajustados"),
        (["--trailing", "5"], "Stop móvel"),
        (["--cash-interest", "100"], "CDI"),
        (["--reinvest"], "Reinvestir"),
        (["--cash", "5000"], "capital"),
    ):
        p = _cli(cli_env, *base, *extra, check=False)
        assert p.returncode == 2, (extra, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and word in lines[0], (extra, p.stderr)


def _fills(db_url, account):
    from core.data.store import init_db

    store = init_db(db_url)
    try:
        b = PaperBroker(store, account)
        fills = [(f.ticker, f.side, f.qty, round(f.price, 9), f.time) for f in b.fills()]
        orders = [(o.ticker, o.side, o.qty, o.role, o.status) for o in b.orders()]
        return fills, sorted(orders, key=str), runner_status(store, account)
    finally:
        store.dispose()


@pytest.mark.slow
def test_kill_9_mid_replay_resumes_without_loss_or_duplicate(cli_env):
    """A real ``kill -9`` of ``paper run`` mid-replay, a restart, and the same fills and
    orders as an uninterrupted run."""
    url = cli_env["PREGAO_DATABASE_URL"]
    tick = ["PETR4", "VALE3", "ITUB4"]
    args = [
        "--strategy",
        "wave3",
        "--tickers",
        *tick,
        "--start",
        "2024-01-01",
        "--end",
        "2024-06-30",
    ]
    for name in ("full", "killed"):
        _cli(cli_env, "paper", "create", "--name", name, "--cash", "100000")
    _cli(cli_env, "paper", "run", "--account", "full", *args, "--json")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard",
            "paper",
            "run",
            "--account",
            "killed",
            *args,
            "--speed",
            "20",
            "--json",
        ],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 600
        done = 0
        while time.time() < deadline:
            time.sleep(0.5)
            st = _fills(url, "killed")[2]
            done = 0 if st is None else st.bars_done
            if done >= 40:
                break
        assert done >= 40, "the runner never got going"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    st = _fills(url, "killed")[2]
    assert st.status == "rodando" and 40 <= st.bars_done < st.bars_total  # killed mid-replay
    _cli(cli_env, "paper", "run", "--account", "killed", *args, "--json")
    full, killed = _fills(url, "full"), _fills(url, "killed")
    assert killed[2].status == "concluído" and killed[2].bars_done == full[2].bars_done
    assert killed[0] == full[0]  # same fills: none lost, none doubled
    assert killed[1] == full[1]  # same orders and states
    assert len(full[0]) >= 6
