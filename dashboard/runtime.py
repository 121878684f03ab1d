"""Process-wide handles that pages and the CLI share: the settings and the store.

The store is an engine (a connection pool), safe to share between requests; no per-user
state lives here (per-user state is in ``dcc.Store``, the database or the cache).

Fork safety: background jobs run in forked processes (Dash's DiskcacheManager, gunicorn
workers, Celery's prefork pool). A pooled connection must never be used by two processes, so
:func:`get_store` notices when it is called in a process other than the one that opened the
pool and gives that process a fresh pool (SQLAlchemy's ``Engine.dispose(close=False)``: the
parent's connections are left alone). Callers simply use :func:`get_store`.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from core.data.store import Store, init_db
from dashboard.settings import Settings, load_settings

__all__ = [
    "configure",
    "get_settings",
    "get_store",
    "check_durable",
    "pin_data_version_per_request",
]

log = logging.getLogger(__name__)
_lock = threading.Lock()
_settings: Settings | None = None
_store: Store | None = None
#: Process that opened ``_store``'s pool.
_store_pid: int = 0


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork time would stay locked forever in the child.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def configure(settings: Settings, *, load_data: bool = True) -> Store:
    """Open (and migrate) the database named by ``settings``; load the bundled data if empty.

    Raises
    ------
    core.errors.StoreError
        When the database cannot be opened (one line naming the redacted URL).
    """
    global _settings, _store, _store_pid
    with _lock:
        store = init_db(settings.database_url)
        if load_data:
            from core.data.bundled import load_bundled  # heavy (calendar, cleaning): lazily

            report = load_bundled(store)
            if report.loaded:
                log.info(
                    "Loaded the bundled B3 data: %d bars in %.1f s", report.bars, report.seconds
                )
        if _store is not None and _store is not store:
            _store.dispose()
        _settings, _store, _store_pid = settings, store, os.getpid()
        return store


def get_settings() -> Settings:
    """The active settings (loaded from the environment on first use)."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def get_store() -> Store:
    """The active store (opened from the settings on first use), safe after a fork.

    In a process forked after the pool was opened (a background job, a worker), the first
    call replaces the inherited pool by a fresh one, so the child never talks through the
    parent's connections.
    """
    global _store_pid
    if _store is None:
        return configure(get_settings())
    pid = os.getpid()
    if _store_pid != pid:
        with _lock:
            if _store_pid != pid:
                _store.engine.dispose(close=False)
                _store_pid = pid
                log.debug("Fresh connection pool for forked process %d", pid)
    return _store


def pin_data_version_per_request(server) -> None:
    """Every request of ``server`` checks the store's data version once (issue 15, load).

    Wraps each request in :meth:`core.data.store.Store.version_pinned`: the login's user
    lookup and every cached read of the callback share one version query instead of one
    each (six or more round trips to PostgreSQL for a Quotes callback). Installed as the
    first ``before_request`` hook; the pin ends in ``teardown_request``, which Flask runs
    whatever happened.
    """
    from flask import g

    def _pin() -> None:
        cm = get_store().version_pinned()
        cm.__enter__()
        g.pregao_version_pin = cm

    def _unpin(_exc=None) -> None:
        cm = g.pop("pregao_version_pin", None)
        if cm is not None:
            cm.__exit__(None, None, None)

    server.before_request_funcs.setdefault(None, []).insert(0, _pin)
    server.teardown_request(_unpin)


def _deleted_open_files(db_path: Path) -> list[str]:
    """Paths of this process's open descriptors that point to a deleted file of the database
    ``db_path`` (the file itself, its ``-wal`` or its ``-shm``). Linux only; [] elsewhere."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return []
    names = {str(db_path), f"{db_path}-wal", f"{db_path}-shm"}
    out = []
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.endswith(" (deleted)") and target[: -len(" (deleted)")] in names:
            out.append(target)
    return out


#: Seconds the durability check may spend reading a SQLite database.
CHECK_SECONDS = 1.0


def check_durable(store: Store) -> None:
    """Make sure what was just committed through ``store`` is really on disk to stay.

    A long job calls this before it reports success. For a SQLite file it checks that none
    of this process's open descriptors points to a database, WAL or shared-memory file that
    was deleted or replaced behind the app (then SQLite commits into a file nobody will read
    again and the write is lost at the next start), and that a fresh connection can read the
    database (``PRAGMA quick_check``, at most :data:`CHECK_SECONDS`: a malformed file fails
    here rather than later). Other databases: no check (the server confirms its commits).

    Raises
    ------
    core.errors.StoreError
        With a pt-BR message that says the write was not confirmed and what to do.
    """
    from core.errors import StoreError

    url = store.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    db_path = Path(url.database).expanduser().resolve()
    gone = _deleted_open_files(db_path)
    if gone or not db_path.exists():
        raise StoreError(
            f"A gravação não foi confirmada: o arquivo do banco de dados {db_path.name} (ou o "
            "seu diário WAL) foi apagado ou substituído por outro processo enquanto o app o "
            "usava, e o que foi gravado agora se perderia. Feche o app, rode "
            "`python -m dashboard init` e repita a operação."
        )
    import sqlite3
    import time

    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        # Bounded cost: a big database is checked for CHECK_SECONDS at most (an interrupted
        # check found nothing wrong in what it read).
        deadline = time.monotonic() + CHECK_SECONDS
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 20_000)
        try:
            row = conn.execute("PRAGMA quick_check(1)").fetchone()
        except sqlite3.OperationalError as exc:
            if "interrupt" not in str(exc).lower():
                raise
            row = ("ok",)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"A gravação não foi confirmada: o banco de dados {db_path.name} não pôde ser "
            f"lido ({exc}). Restaure um backup ou recrie-o com `python -m dashboard init`."
        ) from exc
    if not row or row[0] != "ok":
        raise StoreError(
            f"A gravação não foi confirmada: o banco de dados {db_path.name} está corrompido "
            f"({row[0] if row else 'sem resposta'}). Restaure um backup ou recrie-o com "
            "`python -m dashboard init`."
        )
