"""``python -m dashboard <command>``: the command line over the same ``core`` functions as the pages.

Every command accepts ``--db URL`` (overrides ``PREGAO_DATABASE_URL``). User errors
(:class:`core.errors.PregaoError`, bad settings, a database that refuses a write) print one
line on stderr (long fields shortened) and exit with status 2. Only ``init`` creates a
database: any other command on a SQLite file that does not exist stops with that line instead
of silently creating an empty database. Commands live in :mod:`dashboard.commands` (one
module per feature) and import their heavy modules inside the handlers, so ``--help`` and
the store commands start quickly.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dashboard.commands
from core.errors import PregaoError, StoreError
from dashboard.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from core.data.store import Store

__all__ = [
    "main",
    "Context",
    "build_parser",
    "progress_printer",
    "dumps",
    "lazy_choices",
    "error_line",
    "warn",
]

#: Longest error line the CLI prints (characters); longer messages are cut with their length.
MAX_ERROR_CHARS = 500


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except (ArgumentError, ValueError):
        return None
    db = u.database
    if (
        not u.drivername.startswith("sqlite")
        or not db
        or db == ":memory:"
        or db.startswith("file:")
    ):
        return None
    return Path(db).expanduser()


class Context:
    """What a command handler needs: settings and a lazily opened store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    def store(self, *, load_data: bool = False, create: bool = False) -> Store:
        """Open and migrate the store.

        Parameters
        ----------
        load_data : bool
            Load the bundled data when the database is empty (``init``).
        create : bool
            Allow creating a new SQLite file (``init`` only). Otherwise a missing file is an
            error: a typo in ``--db`` must not create an empty database somewhere.

        Raises
        ------
        StoreError
            The database does not exist (and ``create`` is False) or cannot be opened.
        """
        if self._store is None:
            from core.data.store import redact_url
            from dashboard import runtime

            path = sqlite_path(self.settings.database_url)
            if path is not None and not create and not path.is_file():
                raise StoreError(
                    f"Banco de dados não encontrado: {redact_url(self.settings.database_url)}. "
                    "Confira o caminho ou crie-o com: python -m dashboard init (com o mesmo --db)."
                )
            self._store = runtime.configure(self.settings, load_data=load_data)
        return self._store


class _LazyChoices:
    """An argparse ``choices`` container that imports its vocabulary on first use.

    argparse only looks at ``choices`` when it checks a value of that command or prints its
    help, so listing e.g. the strategies does not import the backtest engine for every
    command.
    """

    def __init__(self, loader: Callable[[], Iterable[str]]) -> None:
        self._loader = loader
        self._items: list[str] | None = None

    def _get(self) -> list[str]:
        if self._items is None:
            self._items = [str(x) for x in self._loader()]
        return self._items

    def __contains__(self, item: object) -> bool:
        return item in self._get()

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __getitem__(self, i: int) -> str:
        return self._get()[i]


def lazy_choices(module: str, name: str) -> _LazyChoices:
    """``choices=`` for argparse: the keys of ``module.name`` (a dict or a sequence), loaded
    only when a command needs them."""

    def load() -> Iterable[str]:
        return list(getattr(importlib.import_module(module), name))

    return _LazyChoices(load)


def error_line(message: Any, limit: int = MAX_ERROR_CHARS) -> str:
    """One line of at most ``limit`` characters: newlines folded, the rest cut with its size."""
    s = " ".join(str(message).split())
    if len(s) > limit:
        s = f"{s[: limit - 1]}… ({len(s)} caracteres)"
    return s


def warn(message: Any) -> None:
    """Print one warning line on stderr (``aviso: ...``); the command goes on."""
    print(f"aviso: {error_line(message)}", file=sys.stderr)


def progress_printer(quiet: bool = False) -> Callable[[float, str], None]:
    """A ``progress(fraction, message)`` callable that draws a bar on stderr."""

    def progress(fraction: float, message: str = "") -> None:
        if quiet or not sys.stderr.isatty():
            return
        n = int(30 * max(0.0, min(1.0, fraction)))
        sys.stderr.write(f"\r[{'#' * n}{'.' * (30 - n)}] {fraction:6.1%} {message[:60]:<60}")
        if fraction >= 1:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return progress


def _default(o: Any):
    import numpy as np
    import pandas as pd

    if isinstance(o, (pd.Timestamp,)):
        return o.strftime("%Y-%m-%d") if o == o.normalize() else o.isoformat()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if np.isnan(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _clean_nan(o: Any):
    if isinstance(o, float) and (o != o or o in (float("inf"), float("-inf"))):
        return None
    if isinstance(o, dict):
        return {k: _clean_nan(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean_nan(v) for v in o]
    return o


def dumps(obj: Any, indent: int | None = 2) -> str:
    """JSON text of ``obj``: NaN/inf become null, Timestamps ISO dates, numpy scalars numbers."""
    return json.dumps(_clean_nan(obj), default=_default, ensure_ascii=False, indent=indent)


#: Commands that write to the store: recorded in the audit log (team access, issue 15).
WRITE_COMMANDS = frozenset(
    {
        "import",
        "update",
        "retrain",
        "promote",
        "backtest",
        "optimize",
        "restore",
        "priority",
        "paper",
        "alerts",
    }
)


def _audit_write(args, ctx: Context, argv, code: int) -> None:
    """Record a writing command (who = the OS user, what = the command line) in the audit log."""
    if getattr(args, "command", None) not in WRITE_COMMANDS or ctx._store is None:
        return
    import getpass

    from dashboard.users import audit

    try:
        who = "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        who = "cli"
    line = " ".join(sys.argv[1:] if argv is None else argv)
    try:
        audit(ctx._store, "cli", username=who, detail=line[:500], ip="cli", ok=code == 0)
    except Exception:  # noqa: BLE001 - the audit never fails the command
        logging.getLogger(__name__).warning("audit of %r failed", line, exc_info=True)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command of :mod:`dashboard.commands` registered."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (overrides PREGAO_DATABASE_URL)",
    )
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="Pregão: B3 analytics from the command line.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mod in sorted(pkgutil.iter_modules(dashboard.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"dashboard.commands.{mod.name}")
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status (0 ok, 2 user error)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    from sqlalchemy.exc import SQLAlchemyError

    try:
        settings = load_settings()
        if getattr(args, "db", None):
            settings = settings.with_overrides(database_url=args.db)
        ctx = Context(settings)
        code = 2
        try:
            code = int(args.func(args, ctx) or 0)
        finally:
            _audit_write(args, ctx, argv, code)
        return code
    except (PregaoError, SettingsError) as exc:
        print(f"erro: {error_line(exc)}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        # e.g. two writers racing on SQLite: nothing was committed; say so in one line.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(
            f"erro: o banco de dados recusou a operação ({type(exc).__name__}: "
            f"{error_line(reason, 200)}); a operação não foi concluída, tente de novo.",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:
        return 0
