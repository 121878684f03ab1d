"""The progress area of a long job, one builder for every page.

:func:`job_progress` lays out the bar, the status line under it and the hidden pieces the
job wiring (:func:`dashboard.background.job_callback`) needs: a poll interval and two
stores. :func:`progress_view` turns a job's state into the props of those pieces, so the
start, the progress, the end, a failure and a cancel look the same on every page.

Ids, for a ``prefix`` such as ``"backtest"``: ``{prefix}-progress`` (the bar),
``{prefix}-progress-label`` (the status line), ``{prefix}-job-poll`` (``dcc.Interval``),
``{prefix}-job-start`` and ``{prefix}-job-token`` (``dcc.Store``).
"""

from __future__ import annotations

from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.format import fmt_pct

__all__ = ["job_progress", "progress_view", "ProgressView", "job_ids", "POLL_MS"]

#: Milliseconds between two reads of a running job's state.
POLL_MS = 500

_COLORS = {
    "starting": "primary",
    "running": "primary",
    "done": "success",
    "failed": "danger",
    "cancelled": "secondary",
    "interrupted": "warning",
}


def job_ids(prefix: str) -> dict[str, str]:
    """The component ids of the progress area of ``prefix``."""
    return {
        "bar": f"{prefix}-progress",
        "label": f"{prefix}-progress-label",
        "poll": f"{prefix}-job-poll",
        "start": f"{prefix}-job-start",
        "token": f"{prefix}-job-token",
    }


def job_progress(prefix: str, className: str = "mt-2") -> html.Div:
    """The progress area of a page's long job: bar, status line, poll interval, stores.

    Parameters
    ----------
    prefix : str
        Id prefix (see the module docstring).
    className : str
        CSS classes of the wrapping ``Div``.

    Returns
    -------
    dash.html.Div
    """
    ids = job_ids(prefix)
    return html.Div(
        [
            dbc.Progress(
                id=ids["bar"],
                value=0,
                label="",
                striped=True,
                animated=False,
                style={"height": "1.2rem"},
            ),
            html.Div(id=ids["label"], className="small text-muted mt-1", **{"aria-live": "polite"}),
            dcc.Interval(id=ids["poll"], interval=POLL_MS, disabled=True),
            dcc.Store(id=ids["start"]),
            dcc.Store(id=ids["token"]),
        ],
        className=className,
    )


@dataclass(frozen=True)
class ProgressView:
    """Props of the progress area for one state of a job.

    ``value`` 0..100 and ``label`` of the bar, its ``color`` and ``animated`` flag, the
    status line ``text``, and ``busy`` (True while the job runs: start buttons disabled,
    "Cancelar" enabled, the poll on).
    """

    value: int
    label: str
    color: str
    animated: bool
    text: str
    busy: bool


def progress_view(status: str, fraction: float = 0.0, message: str = "") -> ProgressView:
    """How the progress area shows a job in ``status`` at ``fraction`` with ``message``.

    Parameters
    ----------
    status : str
        ``starting`` (clicked, not yet running), ``running``, ``done``, ``failed``,
        ``cancelled`` or ``interrupted``.
    fraction : float
        Progress in [0, 1].
    message : str
        The job's last message (pt-BR).

    Returns
    -------
    ProgressView
    """
    fraction = max(0.0, min(1.0, float(fraction or 0.0)))
    pct = int(round(100 * fraction))
    color = _COLORS.get(status, "primary")
    if status == "starting":
        return ProgressView(0, "", color, True, message or "Iniciando…", True)
    if status == "running":
        text = f"{fmt_pct(fraction, 0)} · {message}" if message else fmt_pct(fraction, 0)
        return ProgressView(pct, fmt_pct(fraction, 0), color, True, text, True)
    if status == "done":
        return ProgressView(100, "Pronto", color, False, message or "Concluído", False)
    if status == "cancelled":
        text = f"Cancelado (em {fmt_pct(fraction, 0)})" if pct else "Cancelado"
        return ProgressView(100, "Cancelado", color, False, text, False)
    if status == "failed":
        return ProgressView(100, "Falhou", color, False, message or "Falhou", False)
    if status == "interrupted":
        return ProgressView(100, "Interrompido", color, False, message or "Interrompido", False)
    return ProgressView(0, "", "primary", False, "", False)
