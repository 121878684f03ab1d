"""Shared fixtures.

* ``bundled_store`` – session-wide in-memory SQLite store holding the bundled real data
  (read-only: never write to it in a test).
* ``empty_store`` – a fresh, migrated, empty in-memory SQLite store per test.
* ``sqlite_file_url`` – a fresh SQLite file URL per test.
* ``pg_url`` – a fresh, empty PostgreSQL database per test on a real server (see
  ``tests/services.py``); skipped locally when no server can be reached, a failure in CI
  (``PREGAO_TEST_REQUIRE_SERVICES=1``).
* ``redis_url`` – a real Redis server (same rules).
* ``store_url`` – parametrised over SQLite file and PostgreSQL: store tests that must pass on
  both take this one.
* ``app_server`` – the real app started by ``python app.py`` on a free port with a temp data
  dir, one per test module (browser tests).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests import services  # noqa: E402


def pytest_addoption(parser):
    parser.addoption(
        "--headed", action="store_true", default=False, help="show the browser in browser tests"
    )


@pytest.fixture(scope="session")
def bundled_store():
    from core.data.bundled import load_bundled
    from core.data.store import init_db

    store = init_db("sqlite://")
    load_bundled(store)
    yield store
    store.dispose()


@pytest.fixture
def empty_store():
    from core.data.store import init_db

    store = init_db("sqlite://")
    yield store
    store.dispose()


@pytest.fixture
def sqlite_file_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    url = services.postgres_admin_url()
    if url is None:
        services.require_or_skip("PostgreSQL")
    return url


@pytest.fixture
def pg_url(pg_server) -> str:
    url, drop = services.fresh_postgres_database(pg_server)
    yield url
    drop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = services.redis_url()
    if url is None:
        services.require_or_skip("Redis")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_url")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Path:
    """A SQLite file with the bundled data, made once per session (copy it to write)."""
    from core.data.bundled import load_bundled
    from core.data.store import init_db

    path = tmp_path_factory.mktemp("seed") / "pregao.db"
    store = init_db(f"sqlite:///{path}")
    load_bundled(store)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


def stop_app(proc, timeout: float = 10.0) -> None:
    """Stop an app started by :func:`start_app`: SIGTERM, then SIGKILL after ``timeout`` s."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_app(data_dir: Path, env_extra: dict | None = None, timeout: float = 90.0):
    """Start ``python app.py`` with ``data_dir``; returns ``(process, base_url)``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env.update(
        PREGAO_DATA_DIR=str(data_dir),
        PREGAO_PORT=str(port),
        PREGAO_HOST="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    env.update(env_extra or {})
    log = open(data_dir / "app.log", "w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited: {(data_dir / 'app.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"app did not start: {(data_dir / 'app.log').read_text()[-3000:]}")


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, seeded_sqlite):
    """The real app on a free port over a fresh copy of the seeded SQLite file.

    One app per test module: a module's tests never see what another module wrote
    (a model promoted by the Models tests, runs saved by the Backtest tests ...), so
    they pass in any order and alone.
    """
    data_dir = tmp_path_factory.mktemp("app")
    shutil.copy(seeded_sqlite, data_dir / "pregao.db")
    proc, base = start_app(data_dir)
    yield base
    stop_app(proc)


@pytest.fixture(scope="session")
def browser(request):
    """A Playwright Chromium browser on the system's /usr/bin/chromium (headless)."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).exists():
        services.require_or_skip("Chromium (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            headless=not request.config.getoption("--headed"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    # bypass_csp: Playwright evaluates string predicates with eval, which the app's CSP
    # (no 'unsafe-eval') forbids; tests/integration/test_team_stack.py browses with the CSP on.
    ctx = browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="pt-BR", bypass_csp=True
    )
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()
