"""``python app.py`` stops with one clear line on a bad database or bad settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "env, needle",
    [
        (
            {"PREGAO_DATABASE_URL": "postgresql+psycopg://u:pw@127.0.0.1:1/pregao"},
            "127.0.0.1:1/pregao",
        ),
        ({"PREGAO_PORT": "http"}, "PREGAO_PORT='http'"),
    ],
)
def test_bad_start_is_one_line(tmp_path, env, needle):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    base.update(PREGAO_DATA_DIR=str(tmp_path), **env)
    p = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 2
    lines = [line for line in p.stderr.strip().splitlines() if "Pregão não pôde iniciar" in line]
    assert len(lines) == 1 and needle in lines[0]
    assert ":pw@" not in p.stderr
