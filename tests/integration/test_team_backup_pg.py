"""Backup/restore on a real PostgreSQL server (pg_dump / pg_restore): same checksums back."""

from __future__ import annotations

import pytest

from dashboard.backup import backup, restore
from dashboard.settings import load_settings
from tests.unit.test_team_backup import _change, _checksum

pytestmark = pytest.mark.integration


def test_postgres_backup_change_restore_same_checksum(pg_url, tmp_path):
    from core.data.bundled import load_bundled
    from core.data.store import init_db

    store = init_db(pg_url)
    load_bundled(store)
    settings = load_settings(
        env={"PREGAO_DATA_DIR": str(tmp_path), "PREGAO_DATABASE_URL": pg_url}, env_file=None
    )
    before = _checksum(store)
    res = backup(settings, store, tmp_path / "bk")
    assert res.dialect == "postgresql"
    _change(store)
    assert _checksum(store) != before
    restore(settings, store, res.path)
    again = init_db(pg_url)
    assert _checksum(again) == before
    again.dispose()
