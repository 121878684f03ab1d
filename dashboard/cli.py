"""``python -m dashboard <command>``: the command line over the same ``core`` functions as the pages.

Every command accepts ``--db URL`` (overrides ``PREGAO_DATABASE_URL``). User errors
(:class:`core.errors.PregaoError`, bad settings) print one line on stderr and exit with
status 2. Commands live in :mod:`dashboard.commands` (one module per feature).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

import dashboard.commands
from core.data.store import Store
from core.errors import PregaoError
from dashboard.settings import Settings, SettingsError, load_settings

__all__ = ["main", "Context", "build_parser", "progress_printer", "dumps"]


class Context:
    """What a command handler needs: settings and a lazily opened store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    def store(self, *, load_data: bool = True) -> Store:
        """Open, migrate and (when empty) fill the store with the bundled data."""
        if self._store is None:
            from dashboard import runtime

            self._store = runtime.configure(self.settings, load_data=load_data)
        return self._store


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
    {"import", "update", "retrain", "promote", "backtest", "optimize", "restore", "priority"}
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
        print(f"erro: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
