"""Team mode refuses to start when it is not safe to expose (dashboard.security.check_startup)."""

from __future__ import annotations

import pytest

from dashboard import users as U
from dashboard.security import check_startup, is_loopback
from dashboard.settings import SettingsError, load_settings

GOOD = {
    "PREGAO_MODE": "team",
    "PREGAO_SECRET_KEY": "k" * 40,
    "PREGAO_REDIS_URL": "redis://127.0.0.1:6379/0",
    "PREGAO_DATABASE_URL": "postgresql+psycopg://u:p@db/pregao",
}


def _s(**env):
    return load_settings(env={**GOOD, **env}, env_file=None)


@pytest.mark.parametrize(
    "env, match",
    [
        ({"PREGAO_SECRET_KEY": "x"}, "32 bytes"),
        ({"PREGAO_SECRET_KEY": "changeme"}, "32 bytes"),
        ({"PREGAO_REDIS_URL": ""}, "REDIS_URL"),
        ({"PREGAO_DATABASE_URL": "sqlite:////tmp/x.db"}, "PostgreSQL"),
        ({"PREGAO_DEBUG": "1", "PREGAO_HOST": "0.0.0.0"}, "DEBUG"),
        ({"PREGAO_DEBUG": "1"}, "DEBUG"),
    ],
)
def test_unsafe_team_settings_are_refused(env, match):
    with pytest.raises(SettingsError, match=match):
        check_startup(_s(**env))


def test_sqlite_only_with_allow_sqlite_and_an_admin_is_required(empty_store):
    s = _s(PREGAO_DATABASE_URL="sqlite:////tmp/x.db", PREGAO_ALLOW_SQLITE="1")
    with pytest.raises(SettingsError, match="admin user"):
        check_startup(s, empty_store)
    U.add_user(empty_store, "root", "correct horse battery", "admin")
    check_startup(s, empty_store)


def test_local_mode_refuses_debug_off_loopback():
    check_startup(load_settings(env={"PREGAO_DEBUG": "1"}, env_file=None))
    with pytest.raises(SettingsError, match="DEBUG"):
        check_startup(
            load_settings(env={"PREGAO_DEBUG": "1", "PREGAO_HOST": "0.0.0.0"}, env_file=None)
        )
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and not is_loopback("0.0.0.0")


def test_new_settings_are_validated():
    with pytest.raises(SettingsError) as exc:
        load_settings(
            env={
                "PREGAO_IMPORT_DIRS": "relative/dir",
                "PREGAO_MAX_UPLOAD_MB": "0",
                "PREGAO_BACKUP_TIME": "3h",
            },
            env_file=None,
        )
    msg = str(exc.value)
    assert "IMPORT_DIRS" in msg and "MAX_UPLOAD_MB" in msg and "BACKUP_TIME" in msg
    s = load_settings(env={"PREGAO_IMPORT_DIRS": "/srv/a:/srv/b"}, env_file=None)
    assert [str(d) for d in s.import_dirs] == ["/srv/a", "/srv/b"]
    assert s.cookie_secure is False and _s().cookie_secure is True


def test_import_dirs_overlapping_the_data_directory_are_refused(tmp_path):
    for d in (tmp_path / "data" / "inbox", tmp_path / "data"):
        s = load_settings(
            env={"PREGAO_DATA_DIR": str(tmp_path / "data"), "PREGAO_IMPORT_DIRS": str(d)},
            env_file=None,
        )
        with pytest.raises(SettingsError, match="lies in the data directory"):
            check_startup(s)
    ok = load_settings(
        env={"PREGAO_DATA_DIR": str(tmp_path / "data"), "PREGAO_IMPORT_DIRS": str(tmp_path)},
        env_file=None,
    )
    check_startup(ok)
