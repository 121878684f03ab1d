"""``users`` (team accounts) and the password prompt shared with ``init --admin``.

``python -m dashboard users add NAME --role viewer|trader|admin`` · ``list [--json]`` ·
``passwd NAME`` · ``role NAME ROLE`` · ``disable NAME`` · ``enable NAME`` ·
``unlock NAME`` / ``unlock --ip ADDRESS`` · ``audit [--limit N] [--json]``.

Passwords are never taken from the command line (they would land in the shell history and
``ps``): they are read from a prompt (twice) on a terminal, else one line from stdin.
"""

from __future__ import annotations

import getpass
import sys

from core.errors import InputError

__all__ = ["register", "read_password", "create_user"]


def read_password(prompt: str = "Senha: ") -> str:
    """The new password: prompted twice on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        pw = getpass.getpass(prompt)
        if getpass.getpass("Repita a senha: ") != pw:
            raise InputError("As senhas não conferem.")
        return pw
    line = sys.stdin.readline()
    if not line:
        raise InputError("Informe a senha na entrada padrão (uma linha).")
    return line.rstrip("\r\n")


def _actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except Exception:
        return "cli"


def create_user(store, name: str, role: str) -> None:
    """Create ``name`` with ``role``, reading the password (``init --admin`` and ``users add``)."""
    from dashboard.users import add_user, check_password_policy, validate_username

    name = validate_username(name)
    pw = read_password(f"Senha de {name}: ")
    check_password_policy(pw, name)
    user = add_user(store, name, pw, role, actor=_actor(), ip="cli")
    print(f"Usuário {user.username} criado ({user.role}).")


def _cmd(args, ctx) -> int:
    from dashboard import users as U

    store = ctx.store(load_data=False)
    act = args.action
    if act == "add":
        create_user(store, args.name, args.role)
    elif act == "list":
        rows = U.list_users(store)
        if args.json:
            from dashboard.cli import dumps

            print(
                dumps(
                    [
                        {
                            "username": u.username,
                            "role": u.role,
                            "active": u.active,
                            "locked": u.locked,
                            "failed_logins": u.failed_logins,
                            "last_login_at": u.last_login_at,
                        }
                        for u in rows
                    ]
                )
            )
        else:
            for u in rows:
                state = "bloqueado" if u.locked else ("ativo" if u.active else "desativado")
                last = u.last_login_at.strftime("%d/%m/%Y %H:%M") if u.last_login_at else "-"
                print(f"{u.username:<24} {u.role:<8} {state:<11} último login {last}")
    elif act == "passwd":
        name = U.validate_username(args.name)
        U.set_password(
            store, name, read_password(f"Nova senha de {name}: "), actor=_actor(), ip="cli"
        )
        print(f"Senha de {name} alterada; as sessões abertas foram encerradas.")
    elif act == "role":
        U.set_role(store, args.name, args.role, actor=_actor(), ip="cli")
        print(f"{args.name}: papel {args.role}.")
    elif act in ("disable", "enable"):
        U.set_active(store, args.name, act == "enable", actor=_actor(), ip="cli")
        print(f"{args.name}: {'reativado' if act == 'enable' else 'desativado'}.")
    elif act == "unlock":
        if not args.name and not args.ip:
            raise InputError("Informe o usuário ou --ip ENDEREÇO.")
        U.unlock(store, args.name, ip_address=args.ip, actor=_actor(), ip="cli")
        print("Desbloqueado.")
    elif act == "audit":
        entries = U.audit_entries(store, args.limit)
        if args.json:
            from dashboard.cli import dumps

            print(dumps([e.__dict__ for e in entries]))
        else:
            for e in entries:
                ok = "ok" if e.ok else "FALHA"
                print(
                    f"{e.ts:%d/%m/%Y %H:%M:%S} {e.username or '-':<16} {e.action:<14} {ok:<5} {e.ip:<15} {e.detail}"
                )
    return 0


def register(sub, common) -> None:
    """Add ``users`` to the CLI."""
    p = sub.add_parser("users", parents=[common], help="team users (login, roles, audit)")
    p.set_defaults(func=_cmd)
    us = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = us.add_parser("add", parents=[common], help="create a user (password from prompt/stdin)")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=["viewer", "trader", "admin"])
    a = us.add_parser("list", parents=[common], help="list users")
    a.add_argument("--json", action="store_true")
    a = us.add_parser("passwd", parents=[common], help="change a password (prompt/stdin)")
    a.add_argument("name")
    a = us.add_parser("role", parents=[common], help="change a role")
    a.add_argument("name")
    a.add_argument("role", choices=["viewer", "trader", "admin"])
    for verb in ("disable", "enable"):
        a = us.add_parser(verb, parents=[common], help=f"{verb} a user")
        a.add_argument("name")
    a = us.add_parser("unlock", parents=[common], help="lift an account lock or an IP delay")
    a.add_argument("name", nargs="?")
    a.add_argument("--ip", metavar="ADDRESS")
    a = us.add_parser("audit", parents=[common], help="latest audit-log entries")
    a.add_argument("--limit", type=int, default=50)
    a.add_argument("--json", action="store_true")
