"""The SQLAlchemy store: one :func:`init_db` entry point and a small :class:`Store` facade.

SQLite is the embedded default (``sqlite:///path/pregao.db``; ``sqlite://`` is in memory);
PostgreSQL works the same (``postgresql+psycopg://user:pass@host/db``). The schema is managed by
Alembic migrations in ``core/data/migrations``, applied by :func:`init_db`.

Bars come out in the canonical frame of :mod:`core.data.schema`.

Read cache
----------
Repeated reads are served from memory: :meth:`Store.cached` keeps the result of a read
under the *data version* of the kind of data it reads (its *scope*, :data:`SCOPE_TABLES`:
``market`` — instruments, bars, rates, corporate actions —, ``users``, ``drawings``,
``watchlists``, ``models``). :meth:`Store.data_version` is a token that changes on every
committed write to a table of the scope, by this process or any other one (a CLI import, a
Celery worker, another web worker), and only then: a saved backtest run, an audit row or an
order leaves the cached quotes in place (issue 15, load).

* The counters: table ``data_versions``, one row per scope, bumped inside the writing
  transaction by triggers on the scope's tables (Alembic 0022), so a write through any path
  (ORM, raw SQL, ``COPY``, the ``sqlite3`` shell) counts, and a rolled-back one does not.
* PostgreSQL: one ``SELECT`` of the counters per check (once per web request, see
  :meth:`Store.version_pinned`).
* SQLite file: ``PRAGMA data_version`` on a dedicated, never-writing probe connection says
  whether any other connection committed since the last check; only then are the counters
  read again. The file's inode is part of the token (a replaced file is a new database).
  The ``market`` scope is the exception (:data:`SQLITE_WIDE_SCOPES`): on SQLite its token is
  that data_version itself, moved by every commit as before Alembic 0022 — a row trigger on
  ``bars`` (SQLite has no statement triggers) would double the cost of a bar import.
  In-memory SQLite: the market part counts this engine's commits.
* A database without ``data_versions`` (before Alembic 0022): one database-wide token for
  every scope, as before — SQLite's data_version, PostgreSQL's ``pg_current_snapshot()``,
  this engine's commit count for in-memory SQLite.
* A restore brings the counters back to the backup's values: :meth:`Store.bump_data_versions`
  moves them past every value seen before.

The version is read *before* the data, so a write landing in between can only cost a
second read, never serve an old one. Cached frames are copied on the way out: callers may
modify what they get.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from core.data.models import (
    DEFAULT_LOT,
    INSTRUMENT_KINDS,
    VOLUME_UNITS,
    Bar,
    Instrument,
    Rate,
    default_volume_unit,
)
from core.data.schema import BAR_COLUMNS, empty_bars, validate_bars
from core.errors import InputError, StoreError, UnknownTickerError

__all__ = [
    "init_db",
    "Store",
    "WriteResult",
    "redact_url",
    "MIGRATIONS_DIR",
    "READ_CACHE_BYTES",
    "CacheStats",
    "SCOPES",
    "SCOPE_TABLES",
    "SQLITE_WIDE_SCOPES",
]

log = logging.getLogger(__name__)

#: Folder of the Alembic scripts.
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_BAR_TABLE = Bar.__table__
_RATE_TABLE = Rate.__table__
_INSTR_TABLE = Instrument.__table__


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe to print)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=120000")  # writers queue (see _sqlite_begin)
    cur.close()


def _sqlite_manual_begin(dbapi_conn, _record) -> None:
    # SQLAlchemy emits BEGIN itself (see _sqlite_begin), so that writers can take the lock
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn) -> None:
    """Start SQLite transactions: ``BEGIN IMMEDIATE`` for writers, plain ``BEGIN`` for reads.

    A writer takes SQLite's write lock before it reads anything, so two writers (two
    imports at once) queue on the busy timeout instead of both reading and then failing to
    upgrade their locks (``database is locked`` / a unique-constraint race).
    """
    write = conn.get_execution_options().get("pregao_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"URL de banco de dados inválida: {url!r} ({exc}).") from exc
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 120}
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            try:
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"Não foi possível abrir o banco de dados {redact_url(url)}: {exc}"
                ) from exc
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StoreError(
            f"Não foi possível abrir o banco de dados {redact_url(url)}: {exc}"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if parsed.database not in (None, "", ":memory:"):
            # a file shared by processes: writers lock first (one in-memory database has a
            # single connection and keeps the driver's own transaction handling)
            event.listen(engine, "connect", _sqlite_manual_begin)
            event.listen(engine, "begin", _sqlite_begin)
        if parsed.database not in (None, "", ":memory:"):
            raw = engine.raw_connection()  # outside any transaction (journal mode needs it)
            try:
                driver = raw.driver_connection
                if driver is not None:
                    driver.execute("PRAGMA journal_mode=WAL")
            finally:
                raw.close()
    return engine


_REV_RE = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_RE = re.compile(r"^down_revision\s*(?::[^=]*)?=(.*)$", re.M)


def _script_heads() -> set[str]:
    """Head revision(s) of the migration scripts, read from their text (no Alembic import)."""
    revs, downs = set(), set()
    for f in (MIGRATIONS_DIR / "versions").glob("*.py"):
        text = f.read_text(encoding="utf-8")
        rev, down = _REV_RE.search(text), _DOWN_RE.search(text)
        if rev is None:
            continue
        revs.add(rev.group(1))
        if down is not None:
            downs.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return revs - downs


def _at_head(engine: Engine) -> bool:
    """True when the database's ``alembic_version`` already names every script head.

    Opening an up-to-date database is then one query instead of importing Alembic (about
    1 s of start-up for every CLI command); any doubt falls back to the real upgrade.
    """
    try:
        heads = _script_heads()
        with engine.connect() as conn:
            rows = {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
    except (SQLAlchemyError, OSError, UnicodeDecodeError):
        return False
    return bool(heads) and rows == heads


def _upgrade(engine: Engine) -> None:
    if _at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def init_db(url: str) -> Store:
    """Open (creating if needed) the database at ``url`` and migrate it to the latest schema.

    Parameters
    ----------
    url : str
        SQLAlchemy URL: ``sqlite:///file.db``, ``sqlite://`` (in memory) or
        ``postgresql+psycopg://user:password@host:port/dbname``.

    Returns
    -------
    Store
        A facade bound to the migrated database.

    Raises
    ------
    StoreError
        One line naming the (password-redacted) URL when the database cannot be opened or
        migrated: bad URL, server down, wrong credentials, unwritable file.
    """
    engine = _create_engine(url)
    try:
        _upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(
            f"Não foi possível abrir o banco de dados {redact_url(url)}: {reason}"
        ) from exc
    except OSError as exc:
        engine.dispose()
        raise StoreError(
            f"Não foi possível abrir o banco de dados {redact_url(url)}: {exc}"
        ) from exc
    return Store(engine)


@dataclass(frozen=True)
class WriteResult:
    """Counts of a bar write: rows inserted, rows whose values changed, rows already equal."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


#: Default memory budget of one store's read cache (bytes of cached frames).
READ_CACHE_BYTES = 128 * 2**20

T = TypeVar("T")

#: Probe connections inherited through ``fork()``: never closed in the child (closing a
#: SQLite handle of the parent's could checkpoint or drop its locks), only kept.
_INHERITED_PROBES: list[sqlite3.Connection] = []

#: Objects whose ``_lock`` a forked child must not inherit (:func:`_fresh_locks_in_child`).
_FORK_LOCKED: weakref.WeakSet = weakref.WeakSet()


def _fresh_locks_in_child() -> None:
    """Give every data-version tracker and read cache a new lock in a forked child.

    Background jobs run in processes forked from a web server thread (Dash's
    DiskcacheManager) while other request threads check the data version; a lock one of
    them held at that instant would stay locked forever in the child, and the job would hang
    at its first cached read (seen as a portfolio run that never ended under load)."""
    for obj in list(_FORK_LOCKED):
        obj._lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_locks_in_child)

#: A partition's version before its first read (equal to no token).
_NO_VERSION = object()


#: What each read-cache scope depends on: the tables whose writes move its counter (the
#: triggers of Alembic revision 0022). :meth:`Store.cached` takes one scope or several.
SCOPE_TABLES: dict[str, tuple[str, ...]] = {
    "market": (
        "instruments",
        "bars",
        "rates",
        "corporate_actions",
        "data_flags",
        "source_priority",
    ),
    "users": ("users",),
    "drawings": ("chart_drawings",),
    "watchlists": ("watchlists", "watchlist_entries"),
    "models": ("ml_models", "ml_promotions"),
}

#: The scopes of :data:`SCOPE_TABLES`.
SCOPES: tuple[str, ...] = tuple(SCOPE_TABLES)

#: Scopes whose version on SQLite moves with *every* commit (``PRAGMA data_version``), not
#: by triggers: a row trigger on ``bars`` would cost about as much as inserting the bar
#: (issue 14's import speed; SQLite has no statement triggers). Scoped on PostgreSQL.
SQLITE_WIDE_SCOPES: tuple[str, ...] = ("market",)

_COUNTERS_SQL = "SELECT scope, version FROM data_versions"


def _scopes(scope: str | Sequence[str]) -> tuple[str, ...]:
    """``scope`` as a sorted tuple of known scope names (ValueError otherwise)."""
    names = (scope,) if isinstance(scope, str) else tuple(scope)
    bad = [s for s in names if s not in SCOPE_TABLES]
    if bad or not names:
        raise ValueError(f"Unknown read-cache scope {bad or names!r}; known: {', '.join(SCOPES)}.")
    return tuple(sorted(set(names)))


class _DataVersion:
    """The tokens of :meth:`Store.data_version` (module docstring, "Read cache")."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        _FORK_LOCKED.add(self)
        self.local = 0  # commits of this engine (and write transactions of this Store) so far
        self.writing = 0  # write transactions of this Store open right now
        self.dialect = engine.dialect.name
        self._engine = engine
        db = engine.url.database if self.dialect == "sqlite" else None
        self._path = None if db in (None, "", ":memory:") else str(Path(db).expanduser())
        self._probe: sqlite3.Connection | None = None
        self._probe_pid = 0
        self._probe_inode: tuple[int, int] | None = None
        self._seen: tuple | None = None  # SQLite file: (inode, data_version) of ``_counters``
        self._counters: dict[str, Hashable] = {}
        self._scoped: bool | None = None  # data_versions exists (None: not checked yet)
        self._pins = threading.local()  # per thread: [depth, local when read, database part]
        event.listen(engine, "commit", self._bump)

    @property
    def supported(self) -> bool:
        return self.dialect in ("sqlite", "postgresql")

    @property
    def shared_connection(self) -> bool:
        """In-memory SQLite: one connection for everyone, so a read during a write
        transaction sees its uncommitted rows (the cache is bypassed meanwhile)."""
        return self.dialect == "sqlite" and self._path is None

    def _bump(self, _conn: Any = None) -> None:
        with self._lock:
            self.local += 1

    @contextmanager
    def write(self):
        """Mark a write transaction of this process: in-memory SQLite's reads bypass the
        cache meanwhile, and pinned versions are read again when it ends."""
        with self._lock:
            self.writing += 1
        try:
            yield
        finally:
            with self._lock:
                self.writing -= 1
                self.local += 1

    def _sqlite_probe(self) -> tuple[sqlite3.Connection, tuple[int, int]]:
        path = self._path
        if path is None:  # pragma: no cover - guarded by the caller
            raise StoreError("No SQLite file to probe.")
        st = os.stat(path)
        inode = (st.st_dev, st.st_ino)
        pid = os.getpid()
        if self._probe is not None and (self._probe_pid != pid or self._probe_inode != inode):
            if self._probe_pid != pid:
                _INHERITED_PROBES.append(self._probe)
            else:
                self._probe.close()
            self._probe = None
        if self._probe is None:
            self._probe = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=30
            )
            self._probe_pid, self._probe_inode = pid, inode
            self._seen = None  # data_version values of two connections are not comparable
        return self._probe, inode

    def _has_counters(self) -> bool:
        """Whether the database has ``data_versions`` (Alembic 0022); checked once."""
        if self._scoped is None:
            if self.dialect == "postgresql":
                with self._engine.connect() as conn:
                    self._scoped = (
                        conn.exec_driver_sql("SELECT to_regclass('data_versions')").scalar()
                        is not None
                    )
            elif self._path is not None:
                with self._lock:
                    probe, _ = self._sqlite_probe()
                    row = probe.execute(
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                        "AND name = 'data_versions'"
                    ).fetchone()
                self._scoped = row is not None
            else:
                with self._engine.connect() as conn:
                    self._scoped = (
                        conn.exec_driver_sql(
                            "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                            "AND name = 'data_versions'"
                        ).first()
                        is not None
                    )
        return self._scoped

    def _read_counters(self) -> dict[str, Hashable]:
        if self._path is None:
            with self._engine.connect() as conn:
                counters: dict[str, Hashable] = dict(conn.exec_driver_sql(_COUNTERS_SQL).all())
            if self.dialect == "sqlite":  # in-memory: the market part is our own commits
                with self._lock:
                    counters.update(dict.fromkeys(SQLITE_WIDE_SCOPES, (self.local, ())))
            return counters
        with self._lock:
            probe, inode = self._sqlite_probe()
            seen = (inode, probe.execute("PRAGMA data_version").fetchone()[0])
            if seen != self._seen:
                rows = probe.execute(_COUNTERS_SQL).fetchall()
                self._counters = {s: (inode, v) for s, v in rows}
                self._counters.update(dict.fromkeys(SQLITE_WIDE_SCOPES, seen))
                self._seen = seen
            return self._counters

    def _database_part(self) -> dict[str, Hashable]:
        """Each scope's token as the database says now.

        With ``data_versions`` (Alembic 0022): the scope's counter (SQLite file: read only
        when ``PRAGMA data_version`` says another connection committed, and paired with the
        file's inode). Without it (an older database): one database-wide token for every
        scope — SQLite's data_version and inode, PostgreSQL's current snapshot, this
        engine's commit count for in-memory SQLite."""
        if self._has_counters():
            try:
                return self._read_counters()
            except (SQLAlchemyError, sqlite3.Error):
                self._scoped = None  # gone (a restored older backup)? check again
                if self._has_counters():
                    raise
        token: Hashable
        if self._path is not None:
            with self._lock:
                probe, inode = self._sqlite_probe()
                token = (*inode, int(probe.execute("PRAGMA data_version").fetchone()[0]))
        elif self.dialect == "postgresql":
            with self._engine.connect() as conn:
                token = conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar()
        else:
            token = ()
        with self._lock:
            local = self.local
        return dict.fromkeys(SCOPES, (local, token))

    def _database(self) -> dict[str, Hashable]:
        """:meth:`_database_part`, read at most once per pinned block in this thread (again
        after a commit of this process)."""
        pin = getattr(self._pins, "value", None)
        if pin is None:
            return self._database_part()
        with self._lock:
            local = self.local
        if pin[2] is None or pin[1] != local:
            pin[1], pin[2] = local, self._database_part()
        return pin[2]

    def current(self, scopes: tuple[str, ...]) -> tuple:
        """A value that differs from every earlier one after any committed write to a table
        of ``scopes`` (and equal after writes elsewhere: scoped, Alembic 0022).

        Inside :meth:`pinned` the database's part is read once (at the first call) and
        reused; this process's own commits make the next call read it again."""
        db = self._database()
        return tuple(db.get(s) for s in scopes)

    @contextmanager
    def pinned(self):
        """Read the database's part of the token at most once in this thread meanwhile."""
        pin = getattr(self._pins, "value", None)
        if pin is None:
            self._pins.value = [1, None, None]
        else:
            pin[0] += 1
        try:
            yield
        finally:
            pin = self._pins.value
            pin[0] -= 1
            if pin[0] == 0:
                self._pins.value = None

    def close(self) -> None:
        with self._lock:
            if self._probe is not None and self._probe_pid == os.getpid():
                self._probe.close()
            self._probe = None
            self._seen = None
            self._scoped = None


@dataclass(frozen=True)
class CacheStats:
    """Counters of a store's read cache: ``hits``, ``misses``, ``entries``, ``bytes``."""

    hits: int
    misses: int
    entries: int
    bytes: int


def _size_of(value: Any) -> int:
    """Bytes a cached value holds, roughly (frames and arrays exactly, the rest estimated)."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return int(np.sum(value.memory_usage(index=True, deep=False))) + 512
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + 128
    if hasattr(value, "__dataclass_fields__"):
        return 256 + sum(_size_of(getattr(value, f)) for f in value.__dataclass_fields__)
    if isinstance(value, dict):
        return 1024 + sum(64 + _size_of(v) for v in value.values())
    if isinstance(value, list | tuple):
        return 1024 + sum(64 + _size_of(v) for v in value)
    return 64


def _copy(value: Any) -> Any:
    """What a caller gets from the cache: its own copy of anything mutable."""
    if isinstance(value, pd.DataFrame | pd.Series | np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


class _ReadCache:
    """LRU of read results bounded in bytes, in partitions (one per tuple of scopes), each
    valid for one data version of its scopes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        _FORK_LOCKED.add(self)
        self._versions: dict[tuple[str, ...], Hashable] = {}
        self._keys: dict[tuple[str, ...], set] = {}
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def _drop(self, part: tuple[str, ...]) -> None:
        for k in self._keys.pop(part, ()):
            item = self._items.pop(k, None)
            if item is not None:
                self._bytes -= item[1]

    def get(self, part: tuple[str, ...], version: Hashable, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if self._versions.get(part, _NO_VERSION) != version:
                self._drop(part)
                self._versions[part] = version
            item = self._items.get((part, key))
            if item is None:
                self.misses += 1
                return False, None
            self._items.move_to_end((part, key))
            self.hits += 1
            return True, item[0]

    def put(self, part: tuple[str, ...], version: Hashable, key: Hashable, value: Any) -> None:
        size = _size_of(value)
        if size > self.max_bytes:
            return
        with self._lock:
            if self._versions.get(part, _NO_VERSION) != version:
                return  # the data changed while it was read: keep nothing
            k = (part, key)
            old = self._items.pop(k, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[k] = (value, size)
            self._keys.setdefault(part, set()).add(k)
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                (p, _) = gone = next(iter(self._items))
                _, s = self._items.pop(gone)
                self._keys.get(p, set()).discard(gone)
                self._bytes -= s

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._keys.clear()
            self._bytes = 0
            self._versions.clear()

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self.hits, self.misses, len(self._items), self._bytes)


def _to_datetime_index(values: Iterable) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(list(values)), name="date").astype("datetime64[ns]")


class Store:
    """Read and write instruments, bars and rates.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        An engine whose database is already migrated (use :func:`init_db`).
    cache_bytes : int
        Memory budget of the read cache (module docstring); 0 turns it off.

    Notes
    -----
    Methods that write accept an optional open ``conn``; when given, they join that
    transaction (so an import of many instruments is all or nothing), otherwise each call is
    its own transaction. Reads without ``conn`` go through the read cache.
    """

    def __init__(self, engine: Engine, *, cache_bytes: int = READ_CACHE_BYTES) -> None:
        self.engine = engine
        self._version = _DataVersion(engine)
        self._cache = _ReadCache(max(int(cache_bytes), 0))

    # -- plumbing -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The password-redacted database URL."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self):
        """Context manager yielding a connection inside one write transaction.

        Commits on success, rolls back on error. On SQLite the transaction takes the write
        lock first (``BEGIN IMMEDIATE``), so concurrent writers wait for each other.
        """
        with self._version.write(), self.engine.connect() as conn:
            conn.execution_options(pregao_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _conn(self, conn: Connection | None):
        """``conn``, or a new write transaction (SQLite: ``BEGIN IMMEDIATE``) for a write."""
        if conn is not None:
            yield conn
        else:
            with self.transaction() as c:
                yield c

    @contextmanager
    def _read(self, conn: Connection | None):
        """``conn``, or a new read-only connection (plain ``BEGIN``: never SQLite's write
        lock, so reads neither queue behind an import nor deadlock a writer's own thread)."""
        if conn is not None:
            yield conn
        else:
            with self.engine.connect() as c:
                yield c

    def dispose(self) -> None:
        """Close every pooled connection (and the read cache's probe)."""
        self._cache.clear()
        self._version.close()
        self.engine.dispose()

    # -- read cache ---------------------------------------------------------------------
    def data_version(self, scope: str | Sequence[str] = "market") -> Hashable:
        """A token that changes after every committed write to a table of ``scope``
        (:data:`SCOPE_TABLES`), by any process, and stays equal after writes elsewhere
        (module docstring, "Read cache"; on SQLite the ``market`` scope moves with every
        commit, :data:`SQLITE_WIDE_SCOPES`). Cheap: one pragma (SQLite) or one query
        (PostgreSQL).

        Raises
        ------
        ValueError
            On an unknown scope.
        """
        return self._version.current(_scopes(scope))

    def bump_data_versions(self) -> None:
        """Move every scope's data version past any value it had before (after writes that
        bypass the triggers, such as a restore from a backup, which brings the counters back
        to the backup's values): each counter becomes at least the current time in
        microseconds, which no counter counted up by single writes since then can reach."""
        if not self._version._has_counters():
            return
        now = time.time_ns() // 1000
        with self.transaction() as conn:
            conn.execute(
                text(
                    "UPDATE data_versions SET version = CASE WHEN version + 1 > :now "
                    "THEN version + 1 ELSE :now END"
                ),
                {"now": now},
            )

    @contextmanager
    def version_pinned(self):
        """Within the block, this thread's cached reads check the data version once.

        :meth:`cached` normally asks the database for its version at every call (one
        query on PostgreSQL); a web request that does several cached reads — the Quotes
        callback does six or more — pins it for its duration (``dashboard.runtime`` does it
        for every request): the first cached read asks, the others reuse the answer. Writes
        committed by *this* process make the next cached read ask again (a callback that
        writes and then reads sees its write); another process's write committed during the
        block is seen by the next block — every read of the block shares one snapshot of
        the data version, as if the request had started a moment earlier. Blocks nest.
        """
        with self._version.pinned():
            yield

    def cached(
        self, key: Hashable, load: Callable[[], T], *, scope: str | Sequence[str] = "market"
    ) -> T:
        """``load()``, computed once per data version of ``scope`` and served from memory
        afterwards.

        For reads (and what is computed from them alone) of the tables of ``scope``
        (:data:`SCOPE_TABLES`): the result is dropped as soon as one of those tables
        changes, in this process or another (:meth:`data_version`), and kept across writes
        to any other table (a saved backtest run, an audit row, an order).

        Parameters
        ----------
        key : hashable
            Names the read and all its arguments, e.g. ``("bars", "PETR4", None, None, "1d")``;
            start it with the module's or method's name so keys never collide.
        load : callable
            Does the read; returns a DataFrame/Series/ndarray, a dict or list (each caller gets
            a copy), or an immutable value.
        scope : str or sequence of str
            What ``load`` reads: ``"market"`` (instruments, bars, rates, corporate actions,
            data flags, source priorities — the default), ``"users"``, ``"drawings"``,
            ``"watchlists"``, ``"models"``, or several (invalidated by a write to any; on
            SQLite a ``market`` value by any commit, :data:`SQLITE_WIDE_SCOPES`). A read of a
            table outside every scope must not be cached.

        Returns
        -------
        object
            ``load()``'s result (a copy of the cached one).

        Raises
        ------
        ValueError
            On an unknown scope.
        """
        part = _scopes(scope)
        v = self._version
        if self._cache.max_bytes <= 0 or not v.supported or (v.writing and v.shared_connection):
            return load()
        version = v.current(part)
        hit, value = self._cache.get(part, version, key)
        if not hit:
            value = load()
            self._cache.put(part, version, key, value)
        return _copy(value)

    def peek(self, key: Hashable, *, scope: str | Sequence[str] = "market") -> tuple[bool, Any]:
        """``(True, value)`` when :meth:`cached` holds ``key`` of ``scope`` for the current
        data version (a copy, as :meth:`cached` gives), else ``(False, None)``; never loads
        anything.

        For a page that shows a costly result at once when it is ready and otherwise paints
        first and fills it in from a callback."""
        part = _scopes(scope)
        v = self._version
        if self._cache.max_bytes <= 0 or not v.supported or (v.writing and v.shared_connection):
            return False, None
        hit, value = self._cache.get(part, v.current(part), key)
        return (True, _copy(value)) if hit else (False, None)

    def cache_stats(self) -> CacheStats:
        """Hits, misses, entries and bytes of the read cache (for benchmarks and tests)."""
        return self._cache.stats()

    # -- instruments --------------------------------------------------------------------
    def is_empty(self) -> bool:
        """True when the store holds no bar at all."""
        with self.engine.connect() as conn:
            return conn.execute(select(_BAR_TABLE.c.date).limit(1)).first() is None

    def tickers(self, kind: str | None = None) -> list[str]:
        """Sorted list of stored tickers, optionally only one ``kind``."""
        return self.cached(("store.tickers", kind), lambda: self._tickers(kind))

    def _tickers(self, kind: str | None) -> list[str]:
        q = select(_INSTR_TABLE.c.ticker).order_by(_INSTR_TABLE.c.ticker)
        if kind is not None:
            q = q.where(_INSTR_TABLE.c.kind == kind)
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(q)]

    def instruments(self) -> pd.DataFrame:
        """Every instrument with its daily-bar coverage.

        Returns
        -------
        pandas.DataFrame
            One row per instrument, sorted by ticker, columns ``ticker, name, kind, lot_size,
            currency, volume_unit, first_date, last_date, n_bars`` (dates as Timestamps, NaT
            without bars).
        """
        return self.cached(("store.instruments",), self._instruments)

    def _instruments(self) -> pd.DataFrame:
        b = _BAR_TABLE.c
        cov = (
            select(
                b.instrument_id,
                func.min(b.date).label("first_date"),
                func.max(b.date).label("last_date"),
                func.count().label("n_bars"),
            )
            .where(b.interval == "1d")
            .group_by(b.instrument_id)
            .subquery()
        )
        i = _INSTR_TABLE.c
        q = (
            select(
                i.ticker,
                i.name,
                i.kind,
                i.lot_size,
                i.currency,
                i.volume_unit,
                cov.c.first_date,
                cov.c.last_date,
                cov.c.n_bars,
            )
            .select_from(_INSTR_TABLE.outerjoin(cov, cov.c.instrument_id == i.id))
            .order_by(i.ticker)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        cols = [
            "ticker",
            "name",
            "kind",
            "lot_size",
            "currency",
            "volume_unit",
            "first_date",
            "last_date",
            "n_bars",
        ]
        df = pd.DataFrame.from_records(rows, columns=cols)
        df["first_date"] = pd.to_datetime(df["first_date"])
        df["last_date"] = pd.to_datetime(df["last_date"])
        df["n_bars"] = df["n_bars"].fillna(0).astype(int)
        return df

    def suggest(self, ticker: str, n: int = 5) -> list[str]:
        """Stored tickers closest to ``ticker`` (prefix matches first, then similar spelling)."""
        t = (ticker or "").strip().upper()
        known = self.tickers()
        prefix = [k for k in known if t and (k.startswith(t) or t.startswith(k))]
        close = difflib.get_close_matches(t, known, n=n, cutoff=0.5)
        out: list[str] = []
        for k in prefix + close:
            if k not in out:
                out.append(k)
        return out[:n]

    def instrument(self, ticker: str, *, conn: Connection | None = None) -> dict:
        """Metadata of one instrument.

        Returns
        -------
        dict
            Keys ``id, ticker, name, kind, lot_size, currency, volume_unit``.

        Raises
        ------
        UnknownTickerError
            If ``ticker`` is not stored; carries close matches.
        """
        t = (ticker or "").strip().upper()
        if conn is None:
            row = self.cached(("store.instrument", t), lambda: self._instrument(t, None))
        else:  # inside a write transaction: what that transaction sees
            row = self._instrument(t, conn)
        if row is None:
            raise UnknownTickerError(t or ticker, self.suggest(t))
        return row

    def _instrument(self, t: str, conn: Connection | None) -> dict | None:
        i = _INSTR_TABLE.c
        with self._read(conn) as c:
            row = c.execute(
                select(i.id, i.ticker, i.name, i.kind, i.lot_size, i.currency, i.volume_unit).where(
                    i.ticker == t
                )
            ).first()
        return None if row is None else dict(row._mapping)

    def upsert_instrument(
        self,
        ticker: str,
        *,
        name: str = "",
        kind: str = "stock",
        lot_size: int | None = None,
        currency: str | None = None,
        volume_unit: str | None = None,
        conn: Connection | None = None,
    ) -> int:
        """Create the instrument if missing (or update its metadata) and return its id.

        Parameters
        ----------
        ticker : str
            B3 code (validated with :func:`core.data.tickers.validate_ticker`).
        kind : str
            One of :data:`core.data.models.INSTRUMENT_KINDS`.
        lot_size : int, optional
            Standard lot; default by kind (:data:`core.data.models.DEFAULT_LOT`).
        volume_unit : str, optional
            Unit of the volume column (:data:`core.data.models.VOLUME_UNITS`); default by
            kind for a new instrument, unchanged for an existing one.

        Raises
        ------
        InputError
            On an empty or malformed ticker, an unknown ``kind`` or ``volume_unit``.
        """
        from core.data.tickers import validate_ticker

        t = validate_ticker(ticker)
        if kind not in INSTRUMENT_KINDS:
            raise InputError(f"Tipo de instrumento inválido: {kind!r} (use {INSTRUMENT_KINDS}).")
        if volume_unit is not None and volume_unit not in VOLUME_UNITS:
            raise InputError(f"Unidade de volume inválida: {volume_unit!r} (use {VOLUME_UNITS}).")
        if lot_size is None:
            lot_size = DEFAULT_LOT.get(kind, 1)
        if currency is None:
            currency = "PTS" if kind == "index" else "BRL"
        i = _INSTR_TABLE.c
        with self._conn(conn) as c:
            row = c.execute(select(i.id).where(i.ticker == t)).first()
            values = {
                "name": name or t,
                "kind": kind,
                "lot_size": int(lot_size),
                "currency": currency,
            }
            if row is None:
                values["volume_unit"] = volume_unit or default_volume_unit(kind)
                res = c.execute(_INSTR_TABLE.insert().values(ticker=t, **values))
                return int(res.inserted_primary_key[0])
            if volume_unit is not None:
                values["volume_unit"] = volume_unit
            c.execute(_INSTR_TABLE.update().where(i.id == row[0]).values(**values))
            return int(row[0])

    # -- bars ---------------------------------------------------------------------------
    def bars(
        self,
        ticker: str,
        start=None,
        end=None,
        interval: str = "1d",
    ) -> pd.DataFrame:
        """Bars of one instrument in the canonical frame.

        Parameters
        ----------
        ticker : str
            Stored ticker (case-insensitive).
        start, end : date-like, optional
            Inclusive bounds on the bar date.
        interval : {"1d", "1h", "5m"}
            Bar interval.

        Returns
        -------
        pandas.DataFrame
            Canonical bars (see :mod:`core.data.schema`), possibly empty.

        Raises
        ------
        UnknownTickerError
            If the ticker is not stored.
        """
        inst = self.instrument(ticker)
        lo = None if start is None else pd.Timestamp(start)
        hi = None if end is None else pd.Timestamp(end)
        key = ("store.bars", inst["id"], lo, hi, interval)
        return self.cached(key, lambda: self._bars(inst["id"], start, end, interval))

    def _bars(self, instrument_id: int, start, end, interval: str) -> pd.DataFrame:
        b = _BAR_TABLE.c
        q = select(b.date, *[b[c] for c in BAR_COLUMNS]).where(
            b.instrument_id == instrument_id, b.interval == interval
        )
        if start is not None:
            q = q.where(b.date >= pd.Timestamp(start).to_pydatetime())
        if end is not None:
            end_ts = pd.Timestamp(end)
            if end_ts == end_ts.normalize():
                end_ts = end_ts + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
            q = q.where(b.date <= end_ts.to_pydatetime())
        q = q.order_by(b.date)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        if not rows:
            return empty_bars()
        arr = np.array([r[1:] for r in rows], dtype="float64")
        idx = _to_datetime_index(r[0] for r in rows)
        return pd.DataFrame(arr, index=idx, columns=list(BAR_COLUMNS))

    def closes(
        self,
        tickers: Sequence[str],
        start=None,
        end=None,
        *,
        adjusted: bool = True,
    ) -> pd.DataFrame:
        """Daily closes of several tickers side by side (outer join on dates).

        Parameters
        ----------
        tickers : sequence of str
            Stored tickers.
        adjusted : bool
            ``adj_close`` when True (default), the traded ``close`` otherwise.

        Returns
        -------
        pandas.DataFrame
            Index ``date`` (sessions where any ticker has a bar), one float column per ticker
            (in the order given), NaN where a ticker has no bar.
        """
        col = "adj_close" if adjusted else "close"
        series = {t.upper(): self.bars(t, start, end)[col] for t in tickers}
        if not series:
            return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
        out = pd.concat(series, axis=1, sort=True)
        out.index.name = "date"
        return out

    def last_date(self, ticker: str | None = None, interval: str = "1d") -> pd.Timestamp | None:
        """Date of the newest bar (of ``ticker``, or of the whole store); None when empty."""
        b = _BAR_TABLE.c
        q = select(func.max(b.date)).where(b.interval == interval)
        if ticker is not None:
            q = q.where(b.instrument_id == self.instrument(ticker)["id"])
        else:  # newest per instrument: a primary-key seek each (bars has no date index, 0021)
            newest = q.where(b.instrument_id == _INSTR_TABLE.c.id).correlate(_INSTR_TABLE)
            q = select(func.max(newest.scalar_subquery())).select_from(_INSTR_TABLE)
        with self.engine.connect() as conn:
            v = conn.execute(q).scalar()
        return None if v is None else pd.Timestamp(v)

    def write_bars(
        self,
        ticker: str,
        bars: pd.DataFrame,
        source: str,
        *,
        interval: str = "1d",
        volume_unit: str | None = None,
        conn: Connection | None = None,
    ) -> WriteResult:
        """Upsert traded bars of one instrument through the one write path.

        The rules of :mod:`core.data.upsert` apply: source priority (a worse-ranked source
        never replaces a better one's row), one volume unit per series, and ``adj_close``
        derived from the traded close and the stored corporate actions (the ``adj_close``
        column of ``bars`` is ignored). Writing the same frame twice changes nothing. The
        instrument must exist (:meth:`upsert_instrument`).

        Parameters
        ----------
        ticker : str
            Stored ticker.
        bars : pandas.DataFrame
            Canonical bars, as traded (validated with
            :func:`core.data.schema.validate_bars`).
        source : str
            Where the rows come from (``yahoo``, ``cotahist``, ``bundled`` ...).
        interval : {"1d", "1h", "5m"}
        volume_unit : str, optional
            Unit of the incoming volumes (default: the series' own unit).
        conn : sqlalchemy.Connection, optional
            Join this transaction instead of opening one.

        Returns
        -------
        WriteResult
            Counts of inserted, updated and unchanged rows (rows kept by source priority
            count as unchanged).
        """
        from core.data import actions as actions_mod
        from core.data.upsert import upsert_bars

        bars = validate_bars(bars)
        if bars.empty:
            return WriteResult()
        with self._conn(conn) as c:
            inst = self.instrument(ticker, conn=c)
            long = bars.reset_index()
            long.insert(0, "ticker", inst["ticker"])
            acts = actions_mod.load_actions(
                self, [inst["ticker"]], conn=c, include_price_factors=True
            )
            first = None
            if len(acts):  # a first value of the derived series, exact when nothing is stored
                first = actions_mod.adjusted_close(bars, acts).to_numpy()
            res = upsert_bars(
                c,
                {inst["ticker"]: inst["id"]},
                long,
                interval,
                source,
                volume_unit=volume_unit,
                adj_close=first,
            )
            if res.touched and len(acts):  # no actions: upsert_bars wrote adj_close = close
                actions_mod.recompute_adj_close(self, inst["ticker"], interval=interval, conn=c)
        return WriteResult(res.inserted, res.updated, res.unchanged + res.kept)

    def delete_bars(
        self, ticker: str, *, interval: str = "1d", conn: Connection | None = None
    ) -> int:
        """Delete every bar of ``ticker`` at ``interval``; returns the number deleted."""
        b = _BAR_TABLE.c
        with self._conn(conn) as c:
            inst = self.instrument(ticker, conn=c)
            res = c.execute(
                _BAR_TABLE.delete().where(b.instrument_id == inst["id"], b.interval == interval)
            )
            return int(res.rowcount or 0)

    # -- rates --------------------------------------------------------------------------
    def write_rates(
        self, series: str, values: pd.Series, *, conn: Connection | None = None
    ) -> WriteResult:
        """Upsert a daily rate series (e.g. ``"CDI"``, values in % per day)."""
        values = values.dropna().sort_index()
        r = _RATE_TABLE.c
        with self._conn(conn) as c:
            have = {
                pd.Timestamp(d): v
                for d, v in c.execute(select(r.date, r.value).where(r.series == series))
            }
            ins, upd, same = [], [], 0
            for d, v in values.items():
                ts = pd.Timestamp(d)
                rec = {"series": series, "date": ts.to_pydatetime(), "value": float(v)}
                if ts not in have:
                    ins.append(rec)
                elif not np.isclose(have[ts], float(v), rtol=1e-12, atol=0):
                    upd.append(rec)
                else:
                    same += 1
            if ins:
                c.execute(_RATE_TABLE.insert(), ins)
            for rec in upd:
                c.execute(
                    _RATE_TABLE.update()
                    .where(r.series == rec["series"], r.date == rec["date"])
                    .values(value=rec["value"])
                )
        return WriteResult(len(ins), len(upd), same)

    def rates(self, series: str = "CDI", start=None, end=None) -> pd.Series:
        """A stored daily rate series.

        Returns
        -------
        pandas.Series
            Index ``date`` (tz-naive), float values in % per day (CDI convention), named
            after ``series``; empty if nothing is stored.
        """
        lo = None if start is None else pd.Timestamp(start)
        hi = None if end is None else pd.Timestamp(end)
        key = ("store.rates", series, lo, hi)
        return self.cached(key, lambda: self._rates(series, start, end))

    def _rates(self, series: str, start, end) -> pd.Series:
        r = _RATE_TABLE.c
        q = select(r.date, r.value).where(r.series == series)
        if start is not None:
            q = q.where(r.date >= pd.Timestamp(start).to_pydatetime())
        if end is not None:
            q = q.where(r.date <= pd.Timestamp(end).to_pydatetime())
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(r.date)).all()
        return pd.Series(
            [v for _, v in rows],
            index=_to_datetime_index(d for d, _ in rows),
            name=series,
            dtype="float64",
        )
