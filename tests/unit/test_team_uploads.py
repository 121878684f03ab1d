"""Import sources the web app may read (issue 15 probes, issue 11's data-directory rule).

Each test fails on the code before ``dashboard.uploads``: the Data page then read any server
path, kept absolute paths in the browser, had no size/line/column limits and never deleted
uploads.
"""

from __future__ import annotations

import base64
import gzip
import time
from pathlib import Path

import pytest

from core.errors import InputError
from dashboard.settings import load_settings
from dashboard.uploads import (
    MAX_COLUMNS,
    check_limits,
    discard,
    resolve_targets,
    save_upload,
    upload_dir,
)

CSV = "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,10,11,9,10.5,10.5,1000\n"


def _settings(tmp_path, **env):
    base = {"PREGAO_DATA_DIR": str(tmp_path / "data")}
    base.update(env)
    return load_settings(env=base, env_file=None)


def _team(tmp_path, **env):
    return _settings(tmp_path, PREGAO_MODE="team", PREGAO_SECRET_KEY="k" * 40, **env)


def _data_url(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


def test_forged_upload_path_is_refused_and_the_browser_never_holds_a_server_path(tmp_path):
    s = _team(tmp_path)
    saved = save_upload(_data_url(CSV), "PETR4.csv", s)
    assert set(saved) == {"token", "name"} and "/" not in saved["token"]
    assert str(tmp_path) not in repr(saved)
    paths, names = resolve_targets([saved], None, s, "trader")
    assert names == ["PETR4.csv"] and paths[0].read_text() == CSV
    for forged in (
        [{"path": "/etc/passwd", "name": "innocent.csv"}],
        [{"token": "../../../../etc/passwd", "name": "innocent.csv"}],
        [{"token": "0" * 32 + "_nao-existe.csv", "name": "x.csv"}],
        ["/etc/passwd"],
    ):
        with pytest.raises(InputError, match="inválido ou expirado"):
            resolve_targets(forged, None, s, "admin")


@pytest.mark.parametrize("role", ["viewer", "trader", "admin", None])
def test_team_mode_without_import_dirs_reads_no_server_path(tmp_path, role):
    s = _team(tmp_path)
    for probe in ("/etc/shadow", "/etc/passwd", "../../etc/passwd", __file__):
        with pytest.raises(InputError) as exc:
            resolve_targets([], probe, s, role)
        assert "root" not in str(exc.value) and "/etc" not in str(exc.value)


def test_server_paths_only_for_admins_inside_import_dirs(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "PETR4.csv").write_text(CSV)
    s = _team(tmp_path, PREGAO_IMPORT_DIRS=str(inbox))
    paths, _ = resolve_targets([], str(inbox / "PETR4.csv"), s, "admin")
    assert paths == [(inbox / "PETR4.csv").resolve()]
    with pytest.raises(InputError, match="administradores"):
        resolve_targets([], str(inbox / "PETR4.csv"), s, "trader")
    # escaping the folder with .. or a symlink is refused
    (inbox / "link").symlink_to("/etc/passwd")
    for probe in (str(inbox / ".." / ".." / "etc" / "passwd"), str(inbox / "link"), "/etc/passwd"):
        with pytest.raises(InputError, match="não permitido"):
            resolve_targets([], probe, s, "admin")


def test_refusal_does_not_reveal_whether_a_file_exists(tmp_path):
    s = _team(tmp_path, PREGAO_IMPORT_DIRS=str(tmp_path / "inbox"))
    msgs = set()
    for probe in ("/etc/passwd", "/etc/does-not-exist-pregao"):
        with pytest.raises(InputError) as exc:
            resolve_targets([], probe, s, "admin")
        msgs.add(str(exc.value))
    assert len(msgs) == 1


def test_files_of_the_data_directory_are_never_import_sources(tmp_path):
    """Issue 11: a preview of pregao.db dropped SQLite's POSIX locks and lost writes."""
    s = _settings(tmp_path)  # local mode: any path except the data directory
    data = Path(s.data_dir)
    data.mkdir(parents=True)
    for name in ("pregao.db", "pregao.db-wal", "cache/x"):
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_bytes(b"SQLite format 3\x00")
        with pytest.raises(InputError, match="não permitido"):
            resolve_targets([], str(data / name), s, "admin")
    # also a database kept outside the data directory
    other = tmp_path / "elsewhere" / "team.db"
    other.parent.mkdir()
    other.write_bytes(b"SQLite format 3\x00")
    s2 = _settings(tmp_path, PREGAO_DATABASE_URL=f"sqlite:///{other}")
    with pytest.raises(InputError, match="não permitido"):
        resolve_targets([], str(other), s2, "admin")
    ok = tmp_path / "PETR4.csv"
    ok.write_text(CSV)
    assert resolve_targets([], str(ok), s, "admin")[0] == [ok.resolve()]


def test_a_huge_header_is_refused_before_pandas_in_well_under_a_second(tmp_path):
    s = _settings(tmp_path)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(3_000_000)) + "\n1\n")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="linha com mais de"):
        check_limits(wide, s)
    assert time.perf_counter() - t0 < 5
    cols = tmp_path / "cols.csv"
    cols.write_text(",".join("c" for _ in range(MAX_COLUMNS + 1)) + "\n")
    with pytest.raises(InputError, match="colunas"):
        check_limits(cols, s)
    gz = tmp_path / "wide.csv.gz"
    gz.write_bytes(gzip.compress(wide.read_bytes()))
    with pytest.raises(InputError, match="linha com mais de"):
        check_limits(gz, s)


def test_upload_size_limit_and_cleanup(tmp_path):
    s = _settings(tmp_path, PREGAO_MAX_UPLOAD_MB="1")
    with pytest.raises(InputError, match="limite de 1 MB"):
        save_upload(_data_url(b"x" * (1024 * 1024 + 10)), "big.csv", s)
    saved = save_upload(_data_url(CSV), "PETR4.csv", s)
    paths, _ = resolve_targets([saved], None, s, "trader")
    outside = tmp_path / "keep.csv"
    outside.write_text(CSV)
    discard([*paths, outside], s)
    assert not paths[0].exists() and outside.exists()
    # stale uploads are swept at the next upload
    old = upload_dir(s) / ("a" * 32 + "_old.csv")
    old.write_text(CSV)
    import os

    os.utime(old, (time.time() - 7 * 3600,) * 2)
    save_upload(_data_url(CSV), "new.csv", s)
    assert not old.exists()


def test_unknown_layout_message_does_not_quote_the_file(tmp_path):
    from core.data.imports import detect_file_format
    from core.errors import DataFormatError

    secret = tmp_path / "notes.txt"
    secret.write_text("root:*:19000:0:99999:7:::\n")
    with pytest.raises(DataFormatError) as exc:
        detect_file_format(secret)
    assert "root" not in str(exc.value) and "layout desconhecido" in str(exc.value)
