"""Settings: defaults, then .env, then PREGAO_* variables; validated with readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.settings import SettingsError, load_settings


def test_defaults(tmp_path):
    s = load_settings(env={}, env_file=None)
    assert s.host == "127.0.0.1" and s.port == 8050 and s.mode == "local"
    assert s.database_url == f"sqlite:///{Path.home() / '.pregao' / 'pregao.db'}"


def test_env_file_then_environment_override(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("PREGAO_PORT=9000\nPREGAO_DATA_DIR=/tmp/x\n")
    s = load_settings(env={"PREGAO_PORT": "9100"}, env_file=env_file)
    assert s.port == 9100
    assert s.data_dir == Path("/tmp/x")
    assert s.database_url == "sqlite:////tmp/x/pregao.db"


def test_every_problem_reported_at_once():
    with pytest.raises(SettingsError) as exc:
        load_settings(
            env={"PREGAO_PORT": "abc", "PREGAO_MODE": "cloud", "PREGAO_TYPO": "1"}, env_file=None
        )
    msg = str(exc.value)
    assert "PREGAO_PORT='abc'" in msg and "PREGAO_MODE" in msg and "PREGAO_TYPO" in msg


def test_team_mode_needs_secret_and_secrets_are_redacted():
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(env={"PREGAO_MODE": "team"}, env_file=None)
    s = load_settings(
        env={
            "PREGAO_MODE": "team",
            "PREGAO_SECRET_KEY": "s3cr3t",
            "PREGAO_DATABASE_URL": "postgresql+psycopg://u:pw@db/pregao",
        },
        env_file=None,
    )
    red = s.redacted()
    assert red["secret_key"] == "***" and "pw" not in red["database_url"]


def test_risk_free_rate_accepts_decimal_comma():
    assert (
        load_settings(env={"PREGAO_RISK_FREE_RATE": "0,1065"}, env_file=None).risk_free_rate
        == 0.1065
    )
    with pytest.raises(SettingsError, match="RISK_FREE_RATE"):
        load_settings(env={"PREGAO_RISK_FREE_RATE": "10%"}, env_file=None)


def test_test_suite_variables_are_not_settings():
    s = load_settings(
        env={"PREGAO_TEST_REQUIRE_SERVICES": "1", "PREGAO_TEST_POSTGRES_URL": "x"}, env_file=None
    )
    assert s.port == 8050
