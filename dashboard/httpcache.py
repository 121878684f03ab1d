"""Browser cache lifetimes of the app's static files (issue 11: page loads).

Dash serves its component bundles under fingerprinted URLs with a one-year lifetime, but the
files of ``assets/`` (Bootstrap CSS, the icons, the app's scripts) only with ``no-cache``:
every page load by address or F5 sent about ten conditional requests and waited for their
``304`` before the first paint (the CSS blocks rendering, the scripts run in order). Their
URLs already carry a fingerprint — Dash appends ``?m=<modification time>`` to each asset
and a changed file gets a new URL — so they can be kept for a year and never revalidated;
the same holds for the icon font (``?<content hash>`` written by Bootstrap Icons' CSS) and
Dash's favicon (``?v=<Dash version>``). A URL without such a query string keeps Flask's
revalidation (nothing may outlive a change of the file it names).

:func:`install` adds the header to the Flask server; :func:`cache_control` is the rule.
"""

from __future__ import annotations

__all__ = ["IMMUTABLE", "cache_control", "install"]

#: ``Cache-Control`` of a fingerprinted static file: one year, never revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"


def cache_control(path: str, query: str, status: int, prefix: str = "/") -> str | None:
    """The ``Cache-Control`` value for a GET response, or None to leave it as it is.

    Parameters
    ----------
    path : str
        The request path, e.g. ``/assets/10-pregao.css``.
    query : str
        The raw query string (without ``?``), e.g. ``m=1796073838.35``.
    status : int
        The response's HTTP status; only ``200`` and ``304`` are given a lifetime.
    prefix : str
        The app's ``routes_pathname_prefix`` (``/`` unless mounted under a path).

    Returns
    -------
    str or None
        :data:`IMMUTABLE` for a fingerprinted file of ``assets/`` (``?m=...``), a file of
        ``assets/fonts/`` named with any query string, and the favicon with ``?v=...``;
        None for anything else (pages, callbacks, un-fingerprinted URLs, errors).
    """
    if status not in (200, 304) or not query:
        return None
    if not prefix.endswith("/"):
        prefix += "/"
    rel = path[len(prefix) :] if path.startswith(prefix) else None
    if rel is None:
        return None
    keys = {part.split("=", 1)[0] for part in query.split("&") if part}
    if rel.startswith("assets/"):
        if "m" in keys or rel.startswith("assets/fonts/"):
            return IMMUTABLE
        return None
    if rel == "_favicon.ico" and "v" in keys:
        return IMMUTABLE
    return None


def install(app) -> None:
    """Give fingerprinted static responses of ``app`` (a Dash app) a one-year lifetime."""
    from flask import request

    prefix = app.config.routes_pathname_prefix or "/"

    @app.server.after_request
    def _cache_headers(response):
        if request.method in ("GET", "HEAD"):
            value = cache_control(
                request.path, request.query_string.decode("latin-1"), response.status_code, prefix
            )
            if value is not None:
                response.headers["Cache-Control"] = value
        return response
