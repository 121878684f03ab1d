"""``python -m dashboard users ...`` and ``init --admin``: passwords never on the command line."""

from __future__ import annotations

import io
import json

import pytest

from dashboard.cli import main

PW = "correct horse battery"


@pytest.fixture
def db(tmp_path, monkeypatch):
    """An existing (empty) database: only ``init`` creates one (issue 11's CLI contract)."""
    from core.data.store import init_db

    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'pregao.db'}"
    init_db(url).dispose()
    return url


def _run(monkeypatch, capsys, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_users_commands(db, monkeypatch, capsys):
    code, out, _ = _run(monkeypatch, capsys, ["init", "--db", db, "--admin", "Root"], PW + "\n")
    assert code == 0 and "root criado (admin)" in out
    code, _, err = _run(
        monkeypatch, capsys, ["users", "add", "bia", "--role", "viewer", "--db", db], "short\n"
    )
    assert code == 2 and "curta" in err and len(err.strip().splitlines()) == 1
    assert (
        _run(
            monkeypatch, capsys, ["users", "add", "bia", "--role", "viewer", "--db", db], PW + "\n"
        )[0]
        == 0
    )
    assert _run(monkeypatch, capsys, ["users", "role", "bia", "trader", "--db", db])[0] == 0
    code, out, _ = _run(monkeypatch, capsys, ["users", "list", "--json", "--db", db])
    rows = {r["username"]: r for r in json.loads(out)}
    assert rows["bia"]["role"] == "trader" and rows["root"]["role"] == "admin"
    assert _run(monkeypatch, capsys, ["users", "disable", "bia", "--db", db])[0] == 0
    code, _, err = _run(monkeypatch, capsys, ["users", "disable", "root", "--db", db])
    assert code == 2 and "único administrador" in err
    assert (
        _run(monkeypatch, capsys, ["users", "passwd", "bia", "--db", db], "another long pass 9\n")[
            0
        ]
        == 0
    )
    assert _run(monkeypatch, capsys, ["users", "unlock", "bia", "--db", db])[0] == 0
    code, out, _ = _run(monkeypatch, capsys, ["users", "audit", "--json", "--db", db])
    actions = [e["action"] for e in json.loads(out)]
    assert {"user_add", "user_role", "user_disable", "user_passwd", "user_unlock"} <= set(actions)
    assert PW not in out


def test_password_is_not_an_argument():
    from dashboard.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["users", "add", "x", "--role", "admin", "--password", "p"])


def test_cli_import_refuses_files_of_the_data_directory(db, tmp_path, monkeypatch, capsys):
    """Issue 11: importing the app's own pregao.db dropped SQLite's locks and lost writes."""
    (tmp_path / "pregao.db").write_bytes(b"SQLite format 3\x00")
    for target in (tmp_path / "pregao.db", tmp_path / "pregao.db-wal"):
        code, _, err = _run(monkeypatch, capsys, ["import", str(target), "--db", db])
        assert code == 2 and "diretório de dados" in err


def test_writing_commands_are_audited(db, tmp_path, monkeypatch, capsys):
    csv = tmp_path.parent / (tmp_path.name + "-in") / "PETR4.csv"  # outside the data dir
    csv.parent.mkdir()
    csv.write_text("Date,Open,High,Low,Close,Adj Close,Volume\n2024-11-18,10,11,9,10.5,10.5,1000\n")
    code, out, err = _run(monkeypatch, capsys, ["import", str(csv), "--db", db])
    assert code == 0, err
    code, out, _ = _run(monkeypatch, capsys, ["users", "audit", "--json", "--db", db])
    entries = [e for e in json.loads(out) if e["action"] == "cli"]
    assert entries and "import" in entries[0]["detail"] and entries[0]["username"].startswith("cli")
