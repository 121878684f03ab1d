"""Who may see and change a per-user row (issue 15: per-user data in team mode).

Per-user tables (saved portfolios, backtest runs, portfolio runs, watchlists, paper accounts,
alert rules) carry a nullable ``owner`` column: the user name of the author in team mode,
NULL for rows of the team (local mode, the CLI, rows made before login existed).

Two clauses, one rule each, used by every core function that lists, fetches or changes such
rows; each takes ``owner: str | None``:

* :func:`visible` – reading. ``None`` = no filtering (local mode; team-mode admins see all);
  a user name = that user's rows **and** the team's rows (NULL owner, shared with everyone).
  Another user's row is never visible: fetching it by id or name answers "not found", exactly
  as for a row that does not exist (no probing of what others have).
* :func:`owned` – changing (delete, overwrite). ``None`` = any row; a user name = that user's
  rows only (team rows are changed by an admin or the CLI).

The web layer resolves the filter with ``dashboard.auth.current_owner()`` and the author
stamped on new rows with ``dashboard.auth.current_author()``; core never imports dashboard.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, true

from core.errors import InputError

__all__ = ["MAX_OWNER_LEN", "check_owner", "visible", "owned", "same_owner"]

#: Longest user name (``users.username`` is String(64)).
MAX_OWNER_LEN = 64


def check_owner(owner: str | None) -> str | None:
    """Validate an owner argument.

    Parameters
    ----------
    owner : str or None
        A user name (1–64 characters, stripped) or None.

    Returns
    -------
    str or None
        The stripped name, or None.

    Raises
    ------
    InputError
        An empty or over-long name, or a non-string.
    """
    if owner is None:
        return None
    if not isinstance(owner, str) or not owner.strip() or len(owner.strip()) > MAX_OWNER_LEN:
        raise InputError(f"Usuário inválido: {owner!r} (1 a {MAX_OWNER_LEN} caracteres).")
    return owner.strip()


def visible(column, owner: str | None) -> ColumnElement[bool]:
    """SQL clause: rows of ``column``'s table that ``owner`` may read (see the module doc).

    Parameters
    ----------
    column : sqlalchemy column
        The table's ``owner`` column.
    owner : str or None
        None = every row; a user name = own rows and the team's (NULL) rows.
    """
    owner = check_owner(owner)
    if owner is None:
        return true()
    return or_(column == owner, column.is_(None))


def owned(column, owner: str | None) -> ColumnElement[bool]:
    """SQL clause: rows ``owner`` may change: None = every row, a name = own rows only."""
    owner = check_owner(owner)
    if owner is None:
        return true()
    return column == owner


def same_owner(column, owner: str | None) -> ColumnElement[bool]:
    """SQL clause: rows stamped exactly with ``owner`` (None = the team's NULL rows).

    For per-author bookkeeping (a name unique per author, pruning an author's old rows).
    """
    owner = check_owner(owner)
    return column.is_(None) if owner is None else column == owner
