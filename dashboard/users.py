"""Users, roles, login throttling and the audit log of team mode (tables of revision 0011).

Roles, from least to most power: ``viewer`` (looks, never acts), ``trader`` (backtests,
models, uploads, own portfolios) and ``admin`` (everything, plus users, imports from server
paths and model promotion). :func:`has_role` compares them.

Passwords are hashed with werkzeug's scrypt (``generate_password_hash``, N=2**15, r=8, p=1)
and must pass :func:`check_password_policy` (NIST SP 800-63B section 5.1.1.2: length over
composition rules, refuse the user name and well-known passwords).

Brute-force protection (:func:`authenticate`)
---------------------------------------------
* per account: after :data:`FREE_FAILURES` consecutive failures each new attempt must wait
  ``2 ** (n - FREE_FAILURES)`` seconds (1, 2, 4 ... capped at :data:`MAX_DELAY_S`); at
  :data:`LOCK_AFTER` failures the account is locked until an admin runs
  ``python -m dashboard users unlock NAME``;
* per IP address: failures of the last :data:`IP_WINDOW_S` seconds (from the audit log, so
  every web worker sees the same count) beyond :data:`IP_FREE_FAILURES` impose the same
  growing delay; an admin lifts it with ``users unlock --ip ADDRESS``.

Every login, failure, refusal, user change and acting callback is written to ``audit_log``
(who, when, what, from where) by :func:`audit`.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from core.data.store import Store
from core.errors import InputError

__all__ = [
    "ROLES",
    "User",
    "LoginResult",
    "AuditEntry",
    "users_table",
    "audit_table",
    "has_role",
    "check_password_policy",
    "validate_username",
    "add_user",
    "get_user",
    "get_user_by_id",
    "list_users",
    "set_password",
    "set_role",
    "set_active",
    "unlock",
    "authenticate",
    "audit",
    "audit_entries",
    "count_admins",
]

#: Roles in increasing order of power.
ROLES: tuple[str, ...] = ("viewer", "trader", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}

#: Consecutive failures of one account allowed before delays start.
FREE_FAILURES = 3
#: Consecutive failures after which the account is locked (an admin unlocks it).
LOCK_AFTER = 10
#: Failures from one IP address in :data:`IP_WINDOW_S` allowed before delays start.
IP_FREE_FAILURES = 10
#: Window of the per-IP count, seconds.
IP_WINDOW_S = 900
#: Longest delay imposed between attempts, seconds.
MAX_DELAY_S = 900
#: Minimum password length (NIST SP 800-63B: at least 8; we ask 12 for a trading desk).
MIN_PASSWORD = 12
MAX_PASSWORD = 256

_COMMON = {
    "123456789012",
    "senha1234567",
    "password1234",
    "qwertyuiop12",
    "pregao123456",
    "ibovespa1234",
    "administrador",
    "trocarasenha",
}
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


@functools.cache
def _dummy_hash() -> str:
    """A valid hash to compare against when the user does not exist (same cost either way)."""
    return generate_password_hash("pregao-dummy-password")


_meta = sa.MetaData()
users_table = sa.Table(
    "users",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("locked", sa.Boolean, nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False),
    sa.Column("last_failed_at", sa.DateTime),
    sa.Column("last_login_at", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("password_changed_at", sa.DateTime),
)
audit_table = sa.Table(
    "audit_log",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.DateTime, nullable=False),
    sa.Column("username", sa.String(64)),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("ip", sa.String(64), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
)


@dataclass(frozen=True)
class User:
    """A user of team mode (never carries the password itself).

    Attributes
    ----------
    id : int
    username : str
        Lower case, 3-64 characters ``[a-z0-9._-]``.
    role : str
        One of :data:`ROLES`.
    active : bool
        False once disabled (cannot log in; sessions end at the next request).
    locked : bool
        True after :data:`LOCK_AFTER` consecutive failures.
    failed_logins : int
        Consecutive failed logins.
    session_token : str
        A short digest of the password hash: changing the password ends every session.
    """

    id: int
    username: str
    role: str
    active: bool
    locked: bool
    failed_logins: int
    last_login_at: dt.datetime | None
    created_at: dt.datetime | None
    session_token: str


@dataclass(frozen=True)
class LoginResult:
    """Outcome of :func:`authenticate`.

    Attributes
    ----------
    user : User or None
        The user when the login succeeded.
    message : str
        pt-BR message for the login page ("" on success).
    retry_after : int
        Seconds to wait before the next attempt (0 = none); HTTP 429 when > 0.
    """

    user: User | None
    message: str = ""
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        """True when the credentials were accepted."""
        return self.user is not None


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log: who, when (UTC), what, from where, success."""

    ts: dt.datetime
    username: str | None
    action: str
    detail: str
    ip: str
    ok: bool


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _token(pw_hash: str) -> str:
    import hashlib

    return hashlib.sha256(pw_hash.encode()).hexdigest()[:16]


def _user(row) -> User:
    return User(
        id=row.id,
        username=row.username,
        role=row.role,
        active=bool(row.active),
        locked=bool(row.locked),
        failed_logins=int(row.failed_logins),
        last_login_at=row.last_login_at,
        created_at=row.created_at,
        session_token=_token(row.password_hash),
    )


def has_role(role: str | None, needed: str) -> bool:
    """True when ``role`` is at least ``needed`` (``admin`` > ``trader`` > ``viewer``)."""
    if needed not in _RANK:
        raise ValueError(f"unknown role {needed!r} (use {', '.join(ROLES)})")
    return role in _RANK and _RANK[role] >= _RANK[needed]


def validate_username(name: str) -> str:
    """Return the normalised (lower-case) user name.

    Raises
    ------
    InputError
        Not 3-64 characters of ``a-z 0-9 . _ -`` starting with a letter or digit.
    """
    n = (name or "").strip().lower()
    if not _USERNAME_RE.fullmatch(n):
        raise InputError(
            "Nome de usuário inválido: use 3 a 64 caracteres a-z, 0-9, '.', '_' ou '-', "
            "começando por letra ou número."
        )
    return n


def _role(role: str) -> str:
    r = (role or "").strip().lower()
    if r not in _RANK:
        raise InputError(f"Papel {role!r} desconhecido: use {', '.join(ROLES)}.")
    return r


def check_password_policy(password: str, username: str = "") -> None:
    """Refuse weak passwords (NIST SP 800-63B 5.1.1.2).

    Raises
    ------
    InputError
        Shorter than :data:`MIN_PASSWORD` characters, longer than 256, one repeated
        character, containing the user name, or a well-known password.
    """
    pw = password or ""
    if len(pw) < MIN_PASSWORD:
        raise InputError(f"Senha curta demais: use pelo menos {MIN_PASSWORD} caracteres.")
    if len(pw) > MAX_PASSWORD:
        raise InputError(f"Senha longa demais: no máximo {MAX_PASSWORD} caracteres.")
    if len(set(pw)) < 4:
        raise InputError("Senha fraca: use caracteres variados (não repita o mesmo).")
    if username and username.lower() in pw.lower():
        raise InputError("A senha não pode conter o nome de usuário.")
    if pw.lower() in _COMMON:
        raise InputError("Senha conhecida demais: escolha outra.")


def audit(
    store: Store,
    action: str,
    *,
    username: str | None = None,
    detail: str = "",
    ip: str = "",
    ok: bool = True,
    conn=None,
) -> None:
    """Append one entry to the audit log (who, when, what, from where).

    Parameters
    ----------
    action : str
        Short code: ``login``, ``login_failed``, ``login_refused``, ``logout``,
        ``user_add``, ``user_role``, ``user_passwd``, ``user_disable``, ``user_enable``,
        ``user_unlock``, ``ip_unlock``, ``action`` (a callback that acts) ...
    detail : str
        What was done, truncated to 2000 characters; never a password.
    """
    row = dict(
        ts=_now(),
        username=username,
        action=action[:64],
        detail=(detail or "")[:2000],
        ip=(ip or "")[:64],
        ok=bool(ok),
    )
    if conn is not None:
        conn.execute(audit_table.insert().values(**row))
        return
    with store.transaction() as c:
        c.execute(audit_table.insert().values(**row))


def audit_entries(
    store: Store, limit: int = 200, *, username: str | None = None, action: str | None = None
) -> list[AuditEntry]:
    """The latest audit entries, newest first."""
    q = sa.select(audit_table).order_by(audit_table.c.id.desc()).limit(int(limit))
    if username:
        q = q.where(audit_table.c.username == username)
    if action:
        q = q.where(audit_table.c.action == action)
    with store.engine.connect() as c:
        return [
            AuditEntry(r.ts, r.username, r.action, r.detail, r.ip, bool(r.ok)) for r in c.execute(q)
        ]


def get_user(store: Store, username: str) -> User | None:
    """The user called ``username`` (any case), or None."""
    name = (username or "").strip().lower()
    with store.engine.connect() as c:
        row = c.execute(sa.select(users_table).where(users_table.c.username == name)).first()
    return _user(row) if row else None


def get_user_by_id(store: Store, user_id: int) -> User | None:
    """The user with primary key ``user_id``, or None."""
    with store.engine.connect() as c:
        row = c.execute(sa.select(users_table).where(users_table.c.id == int(user_id))).first()
    return _user(row) if row else None


def list_users(store: Store) -> list[User]:
    """Every user, by name."""
    with store.engine.connect() as c:
        rows = c.execute(sa.select(users_table).order_by(users_table.c.username)).all()
    return [_user(r) for r in rows]


def count_admins(store: Store) -> int:
    """Number of active admins."""
    with store.engine.connect() as c:
        return int(
            c.execute(
                sa.select(sa.func.count())
                .select_from(users_table)
                .where(users_table.c.role == "admin", users_table.c.active.is_(True))
            ).scalar_one()
        )


def add_user(
    store: Store, username: str, password: str, role: str, *, actor: str | None = None, ip=""
) -> User:
    """Create a user.

    Raises
    ------
    InputError
        Invalid name, role or password, or the name is taken.
    """
    name = validate_username(username)
    r = _role(role)
    check_password_policy(password, name)
    now = _now()
    with store.transaction() as c:
        if c.execute(sa.select(users_table.c.id).where(users_table.c.username == name)).first():
            raise InputError(f"O usuário {name!r} já existe.")
        c.execute(
            users_table.insert().values(
                username=name,
                password_hash=generate_password_hash(password),
                role=r,
                active=True,
                locked=False,
                failed_logins=0,
                created_at=now,
                password_changed_at=now,
            )
        )
        audit(store, "user_add", username=actor, detail=f"{name} ({r})", ip=ip, conn=c)
    user = get_user(store, name)
    assert user is not None  # noqa: S101 - just inserted in the same process
    return user


def _require(store: Store, username: str) -> User:
    user = get_user(store, username)
    if user is None:
        raise InputError(f"Usuário {username!r} não existe.")
    return user


def _update(store: Store, user: User, action: str, detail: str, actor, ip, **values) -> None:
    with store.transaction() as c:
        c.execute(users_table.update().where(users_table.c.id == user.id).values(**values))
        audit(store, action, username=actor, detail=detail, ip=ip, conn=c)


def set_password(store: Store, username: str, password: str, *, actor=None, ip="") -> None:
    """Change a password (ends the user's sessions; also unlocks the account)."""
    user = _require(store, username)
    check_password_policy(password, user.username)
    _update(
        store,
        user,
        "user_passwd",
        user.username,
        actor,
        ip,
        password_hash=generate_password_hash(password),
        password_changed_at=_now(),
        failed_logins=0,
        locked=False,
    )


def _last_admin_guard(store: Store, user: User, what: str) -> None:
    if user.role == "admin" and user.active and count_admins(store) <= 1:
        raise InputError(f"Não é possível {what} o único administrador ativo.")


def set_role(store: Store, username: str, role: str, *, actor=None, ip="") -> None:
    """Change a user's role (never leaves the team without an active admin)."""
    user = _require(store, username)
    r = _role(role)
    if r != "admin":
        _last_admin_guard(store, user, "rebaixar")
    _update(store, user, "user_role", f"{user.username}: {user.role} -> {r}", actor, ip, role=r)


def set_active(store: Store, username: str, active: bool, *, actor=None, ip="") -> None:
    """Disable (``active=False``) or re-enable a user."""
    user = _require(store, username)
    if not active:
        _last_admin_guard(store, user, "desativar")
    action = "user_enable" if active else "user_disable"
    _update(store, user, action, user.username, actor, ip, active=bool(active))


def unlock(
    store: Store, username: str | None = None, *, ip_address: str | None = None, actor=None, ip=""
) -> None:
    """Lift the lock of an account (``username``) or the delay of an IP (``ip_address``)."""
    if username:
        user = _require(store, username)
        _update(store, user, "user_unlock", user.username, actor, ip, locked=False, failed_logins=0)
    if ip_address:
        audit(store, "ip_unlock", username=actor, detail=ip_address, ip=ip_address)


def _delay(failures: int, free: int) -> int:
    if failures < free:
        return 0
    return int(min(MAX_DELAY_S, 2 ** (failures - free)))


def _ip_failures(c, ip: str, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    since = now - dt.timedelta(seconds=IP_WINDOW_S)
    last_unlock = c.execute(
        sa.select(sa.func.max(audit_table.c.ts)).where(
            audit_table.c.ip == ip, audit_table.c.action == "ip_unlock"
        )
    ).scalar()
    if last_unlock is not None and last_unlock > since:
        since = last_unlock
    row = c.execute(
        sa.select(sa.func.count(), sa.func.max(audit_table.c.ts)).where(
            audit_table.c.ip == ip,
            audit_table.c.action == "login_failed",
            audit_table.c.ts > since,
        )
    ).first()
    return int(row[0]), row[1]


def authenticate(
    store: Store, username: str, password: str, ip: str = "", *, now: dt.datetime | None = None
) -> LoginResult:
    """Check credentials with per-account and per-IP throttling; audit the attempt.

    Parameters
    ----------
    username, password : str
        As typed on the login form (the name is case-insensitive).
    ip : str
        The client's address (after the trusted proxies).
    now : datetime, optional
        UTC time (tests).

    Returns
    -------
    LoginResult
        ``user`` on success; else a pt-BR message that never says whether the name exists
        (except that a locked account says it is locked), and ``retry_after`` seconds when
        throttled.
    """
    now = now or _now()
    name = (username or "").strip().lower()[:64]
    invalid = "Usuário ou senha inválidos."
    with store.transaction() as c:
        n_ip, last_ip = _ip_failures(c, ip, now)
        wait_ip = _delay(n_ip, IP_FREE_FAILURES)
        if wait_ip and last_ip is not None:
            left = math.ceil((last_ip + dt.timedelta(seconds=wait_ip) - now).total_seconds())
            if left > 0:
                audit(
                    store,
                    "login_refused",
                    username=name,
                    detail="ip throttled",
                    ip=ip,
                    ok=False,
                    conn=c,
                )
                return LoginResult(
                    None, f"Muitas tentativas deste endereço: aguarde {left} s.", left
                )
        row = c.execute(sa.select(users_table).where(users_table.c.username == name)).first()
        if row is not None:
            if row.locked:
                audit(
                    store, "login_refused", username=name, detail="locked", ip=ip, ok=False, conn=c
                )
                return LoginResult(
                    None,
                    "Conta bloqueada após tentativas demais: peça a um administrador que a "
                    "desbloqueie.",
                )
            wait = _delay(int(row.failed_logins), FREE_FAILURES)
            if wait and row.last_failed_at is not None:
                left = math.ceil(
                    (row.last_failed_at + dt.timedelta(seconds=wait) - now).total_seconds()
                )
                if left > 0:
                    audit(
                        store,
                        "login_refused",
                        username=name,
                        detail="throttled",
                        ip=ip,
                        ok=False,
                        conn=c,
                    )
                    return LoginResult(None, f"Muitas tentativas: aguarde {left} s.", left)
        good = check_password_hash(
            row.password_hash if row is not None else _dummy_hash(), password or ""
        )
        if row is not None and good and row.active:
            c.execute(
                users_table.update()
                .where(users_table.c.id == row.id)
                .values(failed_logins=0, last_login_at=now)
            )
            audit(store, "login", username=name, ip=ip, conn=c)
            user = _user(row)
            return LoginResult(user)
        if row is not None:
            failures = int(row.failed_logins) + 1
            c.execute(
                users_table.update()
                .where(users_table.c.id == row.id)
                .values(
                    failed_logins=failures,
                    last_failed_at=now,
                    locked=failures >= LOCK_AFTER,
                )
            )
            reason = "disabled" if not row.active else "bad password"
        else:
            reason = "unknown user"
        audit(store, "login_failed", username=name, detail=reason, ip=ip, ok=False, conn=c)
    return LoginResult(None, invalid)
