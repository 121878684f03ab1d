"""The command line, run as a user runs it (``python -m dashboard``) in a subprocess."""

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


def run(args, tmp_path, db=None, check_rc=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env["PREGAO_DATA_DIR"] = str(tmp_path)
    cmd = [sys.executable, "-m", "dashboard", *args]
    if db:
        cmd += ["--db", db]
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if check_rc is not None:
        assert p.returncode == check_rc, p.stderr
    return p


@pytest.fixture
def seeded_dir(tmp_path, seeded_sqlite):
    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    return tmp_path


def test_init_creates_and_loads_once(tmp_path):
    p = run(["init"], tmp_path, check_rc=0)
    assert "25 instrumentos" in p.stdout  # 23 stocks, ^BVSP, WINFUT (issue 14)
    p = run(["init"], tmp_path, check_rc=0)
    assert "nada carregado" in p.stdout


def test_instruments_json(seeded_dir):
    p = run(["instruments", "--json"], seeded_dir, check_rc=0)
    data = json.loads(p.stdout)
    petr = next(r for r in data if r["ticker"] == "PETR4")
    assert petr["last_date"] == "2024-11-14" and petr["lot_size"] == 100 and petr["kind"] == "stock"


def test_bars_csv_json_and_adjusted(seeded_dir):
    p = run(
        ["bars", "PETR4", "--start", "2024-11-01", "--end", "2024-11-14"], seeded_dir, check_rc=0
    )
    lines = p.stdout.strip().splitlines()
    assert lines[0] == "date,open,high,low,close,adj_close,volume"
    assert lines[-1].startswith("2024-11-14,") and len(lines) == 1 + 10
    p = run(
        ["bars", "petr4", "--start", "2024-11-14", "--format", "json", "--adjusted"],
        seeded_dir,
        check_rc=0,
    )
    rec = json.loads(p.stdout)[0]
    assert rec["date"] == "2024-11-14"
    assert rec["close"] == pytest.approx(rec["adj_close"])
    p = run(
        ["bars", "PETR4", "--start", "2020-01-01", "--end", "2020-12-31", "--format", "json"],
        seeded_dir,
        check_rc=0,
    )
    df = pd.DataFrame(json.loads(p.stdout))
    assert df.date.min() >= "2020-01-01" and df.date.max() <= "2020-12-31" and len(df) > 240


@pytest.mark.parametrize(
    "args, needle",
    [
        (["bars", "PETR"], "PETR4"),
        (["bars", "PETR4", "--start", "2024-13-01"], "AAAA-MM-DD"),
        (["bars", "PETR4", "--start", "2024-05-01", "--end", "2024-01-01"], "invertido"),
    ],
)
def test_errors_exit_2_with_one_message(seeded_dir, args, needle):
    p = run(args, seeded_dir, check_rc=2)
    assert needle in p.stderr
    assert p.stdout == ""


def test_unreachable_database_is_one_clear_line(tmp_path):
    p = run(["instruments"], tmp_path, db="postgresql+psycopg://u:secret@127.0.0.1:1/x", check_rc=2)
    assert "127.0.0.1:1/x" in p.stderr and "secret" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
