"""Backup and restore: back up, change the data, restore, compare checksums (issue 15)."""

from __future__ import annotations

import hashlib
import os
import tarfile
import time

import pytest

from core.errors import InputError
from dashboard.backup import app_is_running, backup, hold_app_lock, prune, restore
from dashboard.settings import load_settings


def _checksum(store) -> str:
    """SHA-256 of every row of the market-data and ML tables, in a fixed order."""
    h = hashlib.sha256()
    with store.engine.connect() as c:
        for table, order in (
            ("instruments", "ticker"),
            ("bars", "instrument_id, interval, date"),
            ("rates", "series, date"),
        ):
            for row in c.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}"):  # noqa: S608
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def _change(store):
    with store.transaction() as c:
        c.exec_driver_sql(
            "DELETE FROM bars WHERE instrument_id IN (SELECT id FROM instruments WHERE ticker='PETR4')"
        )
        c.exec_driver_sql("UPDATE bars SET close = close * 2")


@pytest.fixture
def sqlite_store(tmp_path, seeded_sqlite):
    import shutil

    from core.data.store import init_db

    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    url = f"sqlite:///{tmp_path / 'pregao.db'}"
    settings = load_settings(
        env={"PREGAO_DATA_DIR": str(tmp_path), "PREGAO_DATABASE_URL": url}, env_file=None
    )
    store = init_db(url)
    yield settings, store
    store.dispose()


def test_sqlite_backup_change_restore_same_checksum(sqlite_store, tmp_path):
    settings, store = sqlite_store
    before = _checksum(store)
    res = backup(settings, store, tmp_path / "bk")
    assert res.path.name.startswith("pregao-backup-") and res.dialect == "sqlite"
    with tarfile.open(res.path) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "database.sqlite3" in names
    assert any(n.startswith("ml/ml_") and n.endswith(".csv") for n in names)
    _change(store)
    assert _checksum(store) != before
    restore(settings, store, res.path)
    from core.data.store import init_db

    again = init_db(settings.database_url)
    assert _checksum(again) == before
    again.dispose()


def test_restore_refuses_while_the_app_holds_the_store(sqlite_store, tmp_path):
    settings, store = sqlite_store
    res = backup(settings, store, tmp_path / "bk")
    assert not app_is_running(settings)
    hold_app_lock(settings)  # what create_app does in every app process
    assert app_is_running(settings)
    with pytest.raises(InputError, match="pare-o"):
        restore(settings, store, res.path)
    restore(settings, store, res.path, force=True)


def test_corrupt_backup_is_refused(sqlite_store, tmp_path):
    settings, store = sqlite_store
    bad = tmp_path / "pregao-backup-x.tar.gz"
    bad.write_bytes(b"not a tar")
    with pytest.raises(InputError, match="não é uma cópia"):
        restore(settings, store, bad)


def test_prune_keeps_thirty_days(tmp_path):
    old, new = tmp_path / "pregao-backup-old.tar.gz", tmp_path / "pregao-backup-new.tar.gz"
    for p in (old, new):
        p.write_bytes(b"x")
    os.utime(old, (time.time() - 31 * 86400,) * 2)
    assert prune(tmp_path, 30) == [old]
    assert new.exists() and not old.exists()
