"""Issue 14: a day-trade backtest on the bundled WINFUT 5-minute bars through the CLI, as a
trader runs it (``python -m dashboard backtest --interval 5min --day-trade ...``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(args, data_dir, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env["PREGAO_DATA_DIR"] = str(data_dir)
    cmd = [sys.executable, "-m", "dashboard", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def seeded_dir(tmp_path, seeded_sqlite):
    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    return tmp_path


BT = ["backtest", "--strategy", "opening_range_breakout", "--tickers", "WINFUT"]


def test_orb_day_trade_on_winfut_5min_json(seeded_dir):
    p = run(
        [*BT, "--interval", "5min", "--day-trade", "--contracts", "2", "--short", "--json"],
        seeded_dir,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout)
    assert out["interval"] == "5min" and out["day_trade"] is True
    trades = out["trades"]
    assert len(trades) > 100
    for t in trades:
        e, x = pd.Timestamp(t["entry_date"]), pd.Timestamp(t["exit_date"])
        assert e.normalize() == x.normalize() and e.hour >= 9  # same session, intraday times
        assert t["qty"] == t["shares"] == 2 and t["day_trade"] is True
        # WIN: R$ 0,20 per point per contract, fees 2 x R$ 0,25 per contract
        assert t["pnl"] == pytest.approx(t["points"] * 0.20 * 2 - 1.0)
        assert t["entry_price"] % 5 == 0 or t["exit_reason"] != "sinal"  # WIN tick: 5 points
    m = out["metrics"]
    assert m["sessions"] == 183 and m["n_trades"] == len(trades)
    assert m["costs_brl"] == pytest.approx(len(trades) * 1.0)
    assert m["taxes_brl"] >= 0
    # the stored run reopens with its intraday curve, trades in points and R$ P&L
    shown = json.loads(run(["runs", "--show", str(out["run_id"]), "--json"], seeded_dir).stdout)
    assert shown["interval"] == "5min" and len(shown["equity"]) == len(out["equity"])
    assert shown["equity"][-1] == out["equity"][-1]
    assert [t["points"] for t in shown["trades"]] == pytest.approx([t["points"] for t in trades])


def test_interval_errors_are_one_line(seeded_dir):
    p = run([*BT, "--interval", "2min"], seeded_dir)
    assert p.returncode == 2 and p.stderr.strip().startswith("erro: ")
    assert "Intervalo" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = run([*BT, "--contracts", "2", "--sizing", "percent"], seeded_dir)
    assert p.returncode == 2 and "--contracts" in p.stderr
