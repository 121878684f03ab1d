"""Backups of the store while the app runs, restore, and the daily schedule's pruning.

A backup is one ``pregao-backup-<UTC stamp>.tar.gz`` holding

* ``database.sqlite3`` – a consistent copy made with SQLite's online backup API
  (``sqlite3.Connection.backup``: pages are copied under SQLite's own locks, so writers keep
  working and the WAL is never touched from outside), or ``database.pgdump`` –
  ``pg_dump --format=custom`` of a PostgreSQL store (password passed in ``PGPASSWORD``, never
  on the command line);
* ``ml/<table>.csv`` – the ML tables (training runs, promotions, predictions) as CSV, readable
  without the app;
* ``manifest.json`` – when, which dialect, the Alembic revision and the SHA-256 of the
  database file.

:func:`restore` verifies that checksum and refuses while an app process holds the store
(every app process keeps a shared ``flock`` on ``<DATA_DIR>/app.lock``,
:func:`hold_app_lock`; PostgreSQL: other sessions on the database) unless ``force=True``.
SQLite restores through the same backup API into the live file; PostgreSQL through
``pg_restore --clean --if-exists --no-owner``.

The scheduled backup (``PREGAO_BACKUP_TIME``, default 03:00 America/Sao_Paulo; Celery beat
in team mode, the in-app scheduler locally) keeps ``PREGAO_BACKUP_KEEP_DAYS`` (30) days
(:func:`prune`).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.data.store import Store
from core.errors import InputError, StoreError
from dashboard.settings import Settings

__all__ = [
    "BackupResult",
    "backup",
    "restore",
    "prune",
    "hold_app_lock",
    "app_is_running",
    "PREFIX",
]

PREFIX = "pregao-backup-"
_ML_PREFIX = "ml_"
_LOCK_FD: dict[str, int] = {}


@dataclass(frozen=True)
class BackupResult:
    """A written backup: ``path`` (the .tar.gz), database ``sha256``, ``bytes``, ``seconds``."""

    path: Path
    sha256: str
    bytes: int
    seconds: float
    dialect: str


def _lock_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "app.lock"


def hold_app_lock(settings: Settings) -> None:
    """Take a shared lock that says "an app process uses this store" (kept for the process's life)."""
    path = _lock_path(settings)
    key = str(path)
    if key in _LOCK_FD:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    _LOCK_FD[key] = fd


def app_is_running(settings: Settings) -> bool:
    """True when some process holds :func:`hold_app_lock` on this data directory."""
    path = _lock_path(settings)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _sqlite_file(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    if u.database in (None, "", ":memory:"):
        raise InputError("Banco em memória não tem cópia de segurança.")
    return Path(u.database).expanduser()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _pg_env(url: str) -> tuple[dict[str, str], str]:
    u = make_url(url)
    env = dict(os.environ)
    env.update(
        PGHOST=u.host or "127.0.0.1",
        PGPORT=str(u.port or 5432),
        PGUSER=u.username or "",
        PGDATABASE=u.database or "",
    )
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return env, u.database or ""


def _run(cmd: list[str], env: dict[str, str]) -> None:
    exe = shutil.which(cmd[0])
    if exe is None:
        raise StoreError(f"{cmd[0]} não encontrado: instale o cliente do PostgreSQL.")
    proc = subprocess.run([exe, *cmd[1:]], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        first = (proc.stderr or "").strip().splitlines()[:1]
        raise StoreError(f"{cmd[0]} falhou: {first[0] if first else proc.returncode}")


def _revision(store: Store) -> str:
    try:
        with store.engine.connect() as c:
            return str(c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar())
    except sa.exc.SQLAlchemyError:
        return ""


def _ml_csvs(store: Store) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    names = [t for t in sa.inspect(store.engine).get_table_names() if t.startswith(_ML_PREFIX)]
    with store.engine.connect() as c:
        for name in sorted(names):
            res = c.execute(sa.text(f'SELECT * FROM "{name}"'))  # noqa: S608 - own table names
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(res.keys())
            for row in res:
                w.writerow(["" if v is None else v for v in row])
            out[name] = buf.getvalue().encode()
    return out


def backup(settings: Settings, store: Store, to_dir: str | Path | None = None) -> BackupResult:
    """Write a consistent backup of ``store`` (see the module docstring).

    Parameters
    ----------
    settings : Settings
    store : Store
        The open store (the app may keep writing meanwhile).
    to_dir : path, optional
        Target folder (default ``PREGAO_BACKUP_DIR``, i.e. ``<DATA_DIR>/backups``).

    Returns
    -------
    BackupResult

    Raises
    ------
    StoreError
        ``pg_dump`` missing or failing; the folder cannot be written.
    InputError
        An in-memory SQLite store.
    """
    t0 = time.perf_counter()
    folder = Path(to_dir or settings.backup_dir or Path(settings.data_dir) / "backups")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Não foi possível criar a pasta de cópias ({folder.name}).") from exc
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{PREFIX}{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tmpdir = Path(tmp)
        db_file = _sqlite_file(store.url) if store.dialect == "sqlite" else None
        if db_file is not None:
            inner = tmpdir / "database.sqlite3"
            src = sqlite3.connect(str(db_file), timeout=30)
            dst = sqlite3.connect(str(inner))
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
            dialect = "sqlite"
        else:
            inner = tmpdir / "database.pgdump"
            env, _ = _pg_env(store.engine.url.render_as_string(hide_password=False))
            _run(["pg_dump", "--format=custom", "--no-owner", "-f", str(inner)], env)
            dialect = "postgresql"
        digest = _sha256(inner)
        manifest = {
            "created_at": stamp,
            "dialect": dialect,
            "database_file": inner.name,
            "sha256": digest,
            "alembic_revision": _revision(store),
        }
        with tarfile.open(target, "w:gz") as tar:
            tar.add(inner, arcname=inner.name)
            for name, data in _ml_csvs(store).items():
                info = tarfile.TarInfo(f"ml/{name}.csv")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            raw = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return BackupResult(target, digest, target.stat().st_size, time.perf_counter() - t0, dialect)


def _other_pg_sessions(store: Store) -> int:
    with store.engine.connect() as c:
        return int(
            c.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
        )


def restore(settings: Settings, store: Store, archive: str | Path, *, force: bool = False) -> dict:
    """Bring a backup made by :func:`backup` back into ``store``.

    Returns
    -------
    dict
        The archive's manifest.

    Raises
    ------
    InputError
        Not a Pregão backup, a checksum mismatch, a backup of the other dialect, or the app
        holds the store and ``force`` is False.
    StoreError
        ``pg_restore`` missing or failing.
    """
    path = Path(archive)
    if not path.is_file():
        raise InputError(f"Cópia {path.name} não encontrada.")
    if not force and app_is_running(settings):
        raise InputError("O app está usando o banco: pare-o antes de restaurar (ou use --force).")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        try:
            with tarfile.open(path, "r:gz") as tar:
                tar.extractall(tmpdir, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise InputError(f"{path.name} não é uma cópia do Pregão.") from exc
        man_path = tmpdir / "manifest.json"
        if not man_path.is_file():
            raise InputError(f"{path.name} não é uma cópia do Pregão (sem manifest.json).")
        manifest = json.loads(man_path.read_text())
        inner = tmpdir / manifest.get("database_file", "")
        if not inner.is_file() or _sha256(inner) != manifest.get("sha256"):
            raise InputError(f"{path.name}: soma de verificação não confere; cópia corrompida.")
        if manifest.get("dialect") != store.dialect:
            raise InputError(
                f"A cópia é de {manifest.get('dialect')} e o banco atual é {store.dialect}."
            )
        if store.dialect == "sqlite":
            db_file = _sqlite_file(store.url)
            store.dispose()
            src = sqlite3.connect(str(inner))
            dst = sqlite3.connect(str(db_file), timeout=30)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
        else:
            if not force and _other_pg_sessions(store) > 0:
                raise InputError(
                    "Há outras conexões ao banco: pare o app e os workers (ou use --force)."
                )
            store.dispose()
            env, _ = _pg_env(store.engine.url.render_as_string(hide_password=False))
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "-d",
                    env["PGDATABASE"],
                    str(inner),
                ],
                env,
            )
        # the restored counters are the backup's: move them past any value a running
        # process has cached data under (core.data.store, "Read cache")
        store.bump_data_versions()
    return manifest


def prune(folder: str | Path, keep_days: int, *, now: float | None = None) -> list[Path]:
    """Delete backups in ``folder`` older than ``keep_days`` days; return the deleted paths."""
    limit = (now or time.time()) - keep_days * 86400
    gone = []
    for p in Path(folder).glob(f"{PREFIX}*.tar.gz"):
        with contextlib.suppress(OSError):
            if p.stat().st_mtime < limit:
                p.unlink()
                gone.append(p)
    return gone
