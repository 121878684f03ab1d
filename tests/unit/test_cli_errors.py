"""``dashboard.cli.main``: every failure is one short line on stderr with exit status 2."""

from __future__ import annotations

import shutil

import pytest

from dashboard.cli import error_line, main


@pytest.fixture
def db(tmp_path, seeded_sqlite, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("PREGAO_DATA_DIR", str(data))
    shutil.copy(seeded_sqlite, data / "cli.db")
    return f"sqlite:///{data / 'cli.db'}"


def test_a_database_error_is_one_line_exit_2(db, tmp_path, monkeypatch, capsys):
    # Two imports racing on SQLite used to end in a 40-line IntegrityError traceback (exit 1).
    from sqlalchemy.exc import IntegrityError

    import dashboard.commands.imports as cmd

    def boom(*a, **k):
        raise IntegrityError(
            "INSERT INTO instruments ...", {}, Exception("UNIQUE constraint failed: x\nmore")
        )

    monkeypatch.setattr(cmd, "run_import_request", boom)
    src = tmp_path / "src"  # never inside the data directory (not an import source)
    src.mkdir()
    f = src / "a.csv"
    f.write_text("Date,Close\n2024-01-02,1\n")
    assert main(["import", str(f), "--ticker", "PETR4", "--db", db]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    (line,) = out.err.strip().splitlines()
    assert line.startswith("erro: ") and "UNIQUE constraint failed" in line


def test_a_huge_argument_is_not_echoed(db, capsys):
    assert main(["bars", "X" * 1_000_000, "--db", db]) == 2
    err = capsys.readouterr().err
    assert len(err) < 700 and len(err.strip().splitlines()) == 1


def test_error_line_folds_and_cuts():
    assert error_line("a\nb  c") == "a b c"
    s = error_line("x" * 10_000, 100)
    assert len(s) < 130 and "10000 caracteres" in s
