"""Issue 11 figures: CLI start-up against a bare ``import pandas, sqlalchemy``.

Run: ``.venv/bin/python -m pytest tests/benchmarks/test_cli_bench.py -s``
Goal: ``python -m dashboard --help``, ``instruments`` and ``bars PETR4`` each ≤ 1,5× the bare
import (every process is a fresh interpreter, as a user runs it; medians of 5 runs after one
warm-up). Also prints which heavy packages each command imports, the cause of a slow
start.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.benchmarks.conftest import report

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sklearn", "numba", "scipy", "dash", "plotly", "pypfopt", "cvxpy", "optuna", "alembic")
BASELINE = ["-c", "import pandas, sqlalchemy"]
COMMANDS = {
    "--help": ["-m", "dashboard", "--help"],
    "instruments": ["-m", "dashboard", "instruments"],
    "bars PETR4": ["-m", "dashboard", "bars", "PETR4"],
}


def _run(args: list[str], env: dict) -> float:
    """Wall time (s) of one ``python <args>``."""
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    wall = time.perf_counter() - t
    assert p.returncode == 0, p.stderr
    return wall


def _median(args, env, repeat=5):
    _run(args, env)  # warm the OS file cache and __pycache__
    runs = [_run(args, env) for _ in range(repeat)]
    return statistics.median(runs)


def _heavy_imports(args, env) -> list[str]:
    code = (
        "import runpy, sys; sys.argv = ['dashboard', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('dashboard', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, *args[2:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = [x for x in p.stderr.splitlines() if x.startswith("HEAVY=")]
    return line[-1][6:].split(",") if line and line[-1][6:] else []


def test_cli_startup(tmp_path, seeded_sqlite):
    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env["PREGAO_DATA_DIR"] = str(tmp_path)
    base = _median(BASELINE, env)
    rows = [("import pandas, sqlalchemy (baseline)", f"{base:.2f} s")]
    for name, args in COMMANDS.items():
        t = _median(args, env)
        heavy = _heavy_imports(args, env)
        rows.append(
            (
                f"python -m dashboard {name}",
                f"{t:.2f} s  = {t / base:.2f}× baseline  heavy imports: {', '.join(heavy) or '–'}",
            )
        )
    report("CLI start-up, median of 5 fresh processes (goal ≤ 1,5× the baseline)", rows)
