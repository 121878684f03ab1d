"""The CLI contract (README: errors are one line on stderr, exit 2) probed as a user runs it.

Each test here failed on the code before issue 11's request layer: import failures went to
stdout twice, a 30 MB field was echoed in full, ``--cash inf`` ran, an empty ``--file`` gave a
pandas traceback, a typo in ``--db`` created a new database, ``--train-ratio -1`` blamed the
period and ``--capital 1e12`` bought billions of shares without a word.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(args, data_dir, db=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env["PREGAO_DATA_DIR"] = str(data_dir)
    cmd = [sys.executable, "-m", "dashboard", *args]
    if db:
        cmd += ["--db", db]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def one_error_line(p) -> str:
    assert p.returncode == 2, (p.stdout[-500:], p.stderr[-2000:])
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr[-2000:]
    assert lines[0].startswith("erro: ") and "Traceback" not in p.stderr
    return lines[0]


@pytest.fixture
def seeded_dir(tmp_path, seeded_sqlite):
    # the data directory is a subfolder: files of the data directory are never import sources
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(seeded_sqlite, data / "pregao.db")
    return data


def test_import_failure_is_one_shortened_line_on_stderr(seeded_dir, tmp_path):
    big = tmp_path / "big.csv"
    huge = "9" * 30_000_000  # a 30 MB field
    big.write_text(f"Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,{huge},1,1,1,1,100\n")
    p = run(["import", str(big), "--ticker", "PETR4"], seeded_dir)
    line = one_error_line(p)
    assert p.stdout == ""  # not on stdout, not twice
    assert "big.csv, linha 2" in line and len(line) <= 600
    p = run(["import", str(big), "--ticker", "PETR4", "--json"], seeded_dir)
    one_error_line(p)
    out = json.loads(p.stdout)  # the JSON contract still holds, with the reason shortened
    assert out["errors"][0]["line"] == 2 and len(out["errors"][0]["reason"]) <= 300
    assert len(p.stdout) < 10_000


def test_import_refuses_a_ticker_that_is_not_b3_syntax(seeded_dir, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,1,1,1,1,1,100\n")
    for bad in ("PETR4'; DROP TABLE bars;--", "<script>alert(1)</script>"):
        line = one_error_line(run(["import", str(f), "--ticker", bad], seeded_dir))
        assert "ticker inválido" in line
    p = run(["instruments", "--json"], seeded_dir)
    assert not [r for r in json.loads(p.stdout) if "'" in r["ticker"] or "<" in r["ticker"]]


def test_backtest_cash_inf_is_refused(seeded_dir):
    p = run(
        ["backtest", "--strategy", "sma_cross", "--tickers", "PETR4", "--cash", "inf"], seeded_dir
    )
    assert "Capital inicial" in one_error_line(p)


def test_evaluate_empty_file_is_a_clear_error(seeded_dir, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    line = one_error_line(run(["evaluate", "--file", str(empty)], seeded_dir))
    assert "vazio" in line and "empty.csv" in line
    header_only = tmp_path / "header.csv"
    header_only.write_text("\n\n")
    line = one_error_line(run(["evaluate", "--file", str(header_only)], seeded_dir))
    assert "header.csv" in line


def test_db_typo_does_not_create_a_database(tmp_path):
    target = tmp_path / "typo" / "x.db"
    line = one_error_line(run(["instruments"], tmp_path, db=f"sqlite:///{target}"))
    assert "não encontrado" in line and "init" in line
    assert not target.exists() and not target.parent.exists()
    # init is the one command that creates it
    p = run(["init"], tmp_path, db=f"sqlite:///{target}")
    assert p.returncode == 0, p.stderr
    assert target.exists()
    assert run(["instruments"], tmp_path, db=f"sqlite:///{target}").returncode == 0


def test_optimize_train_ratio_blames_the_train_ratio(seeded_dir):
    p = run(
        ["optimize", "--strategy", "sma_cross", "--tickers", "PETR4", "--train-ratio", "-1"],
        seeded_dir,
    )
    line = one_error_line(p)
    assert "treino" in line.lower() and "período" not in line.lower()


def test_capital_far_above_traded_volume_warns(seeded_dir):
    p = run(
        [
            "frontier",
            "PETR4",
            "VALE3",
            "--objective",
            "min_volatility",
            "--capital",
            "1e12",
            "--json",
        ],
        seeded_dir,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    warnings = [w for w in p.stderr.splitlines() if w.startswith("aviso: ")]
    assert warnings and "volume médio" in warnings[0]
    assert {"window", "weights", "allocation"} <= set(json.loads(p.stdout))
    p = run(
        ["frontier", "PETR4", "VALE3", "--objective", "min_volatility", "--capital", "50000"],
        seeded_dir,
    )
    assert p.returncode == 0 and "aviso:" not in p.stderr
