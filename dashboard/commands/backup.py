"""``backup [--to DIR]`` and ``restore FILE [--force]`` (see :mod:`dashboard.backup`)."""

from __future__ import annotations

__all__ = ["register"]


def _backup(args, ctx) -> int:
    from dashboard.backup import backup

    res = backup(ctx.settings, ctx.store(load_data=False), args.to)
    if args.json:
        from dashboard.cli import dumps

        print(
            dumps(
                {
                    "path": str(res.path),
                    "sha256": res.sha256,
                    "bytes": res.bytes,
                    "seconds": round(res.seconds, 3),
                    "dialect": res.dialect,
                }
            )
        )
    else:
        print(f"Cópia gravada em {res.path} ({res.bytes / 1e6:.1f} MB, {res.seconds:.1f} s).")
    return 0


def _restore(args, ctx) -> int:
    from dashboard.backup import restore

    man = restore(ctx.settings, ctx.store(load_data=False), args.file, force=args.force)
    print(f"Restaurado: cópia de {man['created_at']} (revisão {man.get('alembic_revision')}).")
    return 0


def register(sub, common) -> None:
    """Add ``backup`` and ``restore`` to the CLI."""
    p = sub.add_parser("backup", parents=[common], help="consistent backup of the store")
    p.add_argument("--to", metavar="DIR", help="target folder (default PREGAO_BACKUP_DIR)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_backup)
    p = sub.add_parser("restore", parents=[common], help="restore a backup (app stopped)")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="restore even while the app runs")
    p.set_defaults(func=_restore)
