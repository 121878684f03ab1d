"""Real PostgreSQL and Redis servers for the integration tests.

Where they come from, in order:

1. ``PREGAO_TEST_POSTGRES_URL`` / ``PREGAO_TEST_REDIS_URL`` (an admin URL for PostgreSQL: the
   tests create and drop one database per test);
2. the servers started by ``scripts/services.sh`` on their default local ports
   (``postgresql+psycopg://pregao:pregao@127.0.0.1:5432/postgres``, ``redis://127.0.0.1:6379/0``).

When neither answers, the test is skipped on a developer machine and fails when
``PREGAO_TEST_REQUIRE_SERVICES=1`` (set by ``.ci/run``), so CI never skips them silently.
"""

from __future__ import annotations

import os
import socket
import uuid

import pytest

DEFAULT_PG = "postgresql+psycopg://pregao:pregao@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def require_or_skip(what: str) -> None:
    msg = f"{what} is not available (run scripts/services.sh, or set PREGAO_TEST_* URLs)"
    if os.environ.get("PREGAO_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_admin_url() -> str | None:
    """An admin URL of a reachable PostgreSQL server, or None."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = os.environ.get("PREGAO_TEST_POSTGRES_URL") or DEFAULT_PG
    u = make_url(url)
    if not _port_open(u.host or "127.0.0.1", u.port or 5432):
        return None
    try:
        eng = create_engine(url)
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
    except Exception:
        return None
    return url


def fresh_postgres_database(admin_url: str):
    """Create an empty database; returns ``(url, drop)``."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = "pregao_t_" + uuid.uuid4().hex[:12]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


def redis_url() -> str | None:
    """URL of a reachable Redis server, or None."""
    url = os.environ.get("PREGAO_TEST_REDIS_URL") or DEFAULT_REDIS
    import redis

    try:
        r = redis.Redis.from_url(url, socket_connect_timeout=1)
        r.ping()
        r.close()
    except Exception:
        return None
    return url
