"""``python -m dashboard import|update|quality``: the exact JSON contract and exit codes."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from core.data.sources.yahoo import YahooSource
from dashboard.cli import main
from tests.datafiles import cotahist_daily


@pytest.fixture
def db(tmp_path, monkeypatch, seeded_sqlite):
    # Only `init` creates a database: the commands under test run on an existing one.
    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path / "data"))
    shutil.copy(seeded_sqlite, tmp_path / "cli.db")
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_import_json_contract_and_idempotence(db, tmp_path, capsys):
    p = cotahist_daily(tmp_path)
    assert main(["import", str(p), "--json", "--db", db]) == 0
    followed = json.loads(capsys.readouterr().out)
    assert followed["instruments"] == 23  # by default only the instruments already followed
    assert main(["import", str(p), "--json", "--all", "--db", db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["files", "instruments", "inserted", "updated", "rejected", "errors"]
    assert out["files"] == 1 and out["instruments"] == 1086 and out["errors"] == []
    assert out["inserted"] == 1086 - 23  # the followed ones were written by the first run
    assert main(["import", str(p), "--json", "--db", db]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["inserted"], again["updated"]) == (0, 0)


def test_import_errors_exit_2_with_file_and_line(db, tmp_path, capsys):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["import", str(bad), "--format", "auto", "--json", "--db", db]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["errors"][0]["file"] == "x.csv" and out["errors"][0]["line"] == 1
    assert main(["import", str(bad), "--db", db]) == 2
    out = capsys.readouterr()
    assert out.out == ""  # the failure is one line on stderr, not on stdout
    (line,) = out.err.strip().splitlines()
    assert line.startswith("erro: ") and "x.csv, linha 1" in line
    assert line.count("layout desconhecido") <= 1  # regression: it was printed twice


def test_import_generic_csv_with_mapping(db, tmp_path, capsys):
    f = tmp_path / "planilha.csv"
    f.write_text("dia;fech\n25/06/2021;29,10\n28/06/2021;29,05\n")
    rc = main(
        [
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
            "--json",
            "--db",
            db,
        ]
    )
    assert rc == 0 and json.loads(capsys.readouterr().out)["inserted"] == 2


def test_update_offline_exit_2(db, monkeypatch, capsys):
    import core.data.imports as imports

    monkeypatch.setattr(
        imports, "make_source", lambda name: YahooSource(download=lambda *a, **k: pd.DataFrame())
    )
    assert main(["update", "PETR4", "--db", db]) == 2
    assert "inacessível" in capsys.readouterr().err


def test_quality_json(db, capsys):
    assert main(["quality", "PETR4", "--json", "--db", db]) == 0
    (rec,) = json.loads(capsys.readouterr().out)
    assert rec["ticker"] == "PETR4" and 0.95 < rec["coverage"] <= 1
    assert rec["first_date"] == "2010-01-04" and isinstance(rec["flags"], list)
    assert main(["quality", "XXXX9", "--db", db]) == 2


def test_priority_command(db, capsys):
    assert main(["priority", "PETR4", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("cotahist > mt5")
    assert main(["priority", "PETR4", "yahoo", "cotahist", "--db", db]) == 0
    assert capsys.readouterr().out.strip() == "yahoo > cotahist"
    assert main(["priority", "PETR4", "foo", "--db", db]) == 2
    assert "foo" in capsys.readouterr().err


def test_bars_interval(db, capsys):
    """Issue 14: ``bars WINFUT --interval``; daily stays the default; a bad interval is one line."""
    args = ["bars", "WINFUT", "--start", "2022-03-02", "--end", "2022-03-02", "--db", db]
    assert main([*args, "--interval", "60min", "--format", "json"]) == 0
    hours = json.loads(capsys.readouterr().out)
    assert hours[0]["date"] == "2022-03-02 13:00"  # Ash Wednesday: B3 opened at 13:00
    assert list(hours[0]) == ["date", "open", "high", "low", "close", "adj_close", "volume"]
    assert main([*args, "--format", "json"]) == 0
    (day,) = json.loads(capsys.readouterr().out)
    assert day["date"] == "2022-03-02"
    assert day["high"] == max(h["high"] for h in hours) and day["close"] == hours[-1]["close"]
    assert main([*args, "--interval", "7min"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Intervalo" in err
    assert main(["bars", "PETR4", "--interval", "1w", "--end", "2024-01-31", "--db", db]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("2024-01-29,")
