"""Background jobs: the manager, chosen in one place from the settings, and the one wiring
every page's long job goes through.

Manager
-------
* local mode (no ``PREGAO_REDIS_URL``): :class:`dash.DiskcacheManager` on ``CACHE_DIR``;
* with a Redis URL (team mode): :class:`dash.CeleryManager` on a Celery app whose broker and
  result backend are that Redis. Start a worker with
  ``celery -A app.celery_app worker --loglevel=info``.

No result is ever served from a cache: the managers get no result-cache key (Dash then deletes a
result as soon as the page has read it), and every run carries a fresh token in its
arguments, so two clicks with the same form are two runs, never one answer handed out twice.

Page jobs
---------
:func:`job_callback` replaces ``@callback(..., background=True, progress=..., running=...,
cancel=...)`` on the pages. With the progress area of :func:`components.jobs.job_progress` it
gives every long job the same behaviour:

* the click disables the start buttons, enables "Cancelar", resets the bar to "Iniciando…"
  and clears the page's previous message at once (a clientside callback);
* the job reports progress through :class:`dashboard.jobtracker.JobHandle` into the
  server-side :class:`dashboard.jobtracker.JobTracker`, which the page polls;
* a page opened while a job of its kind runs in the same browser picks it up (bar, message,
  "Cancelar" enabled), and one opened after it ended shows how it ended;
* "Cancelar" stops the process and the bar reads "Cancelado", even for a job another page
  instance started;
* a job that wrote to the database checks that the write is durable before it reports
  success (:func:`dashboard.runtime.check_durable`); a database error becomes a pt-BR
  message, never an acknowledgement.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dash
from dash import Input, Output, State, no_update

from dashboard.jobtracker import (
    CANCELLED,
    DONE,
    TERMINAL,
    JobCancelled,
    JobHandle,
    JobTracker,
    current_job_id,
)
from dashboard.settings import Settings

__all__ = [
    "make_manager",
    "job_callback",
    "run_job",
    "poll_answer",
    "PollAnswer",
    "get_tracker",
    "set_tracker",
    "SESSION_STORE",
]

log = logging.getLogger(__name__)

#: Id of the app-level ``dcc.Store`` (local storage) holding the browser's job-session id.
SESSION_STORE = "job-session"

_tracker: JobTracker | None = None


def get_tracker() -> JobTracker:
    """The job tracker of this process (an in-memory one until :func:`make_manager` ran)."""
    global _tracker
    if _tracker is None:
        _tracker = JobTracker.in_memory()
    return _tracker


def set_tracker(tracker: JobTracker | None) -> None:
    """Replace the job tracker (tests)."""
    global _tracker
    _tracker = tracker


class _NoLostResult:
    """Close Dash's race between reading a job's result and asking whether the job still runs.

    Dash reads the result first and asks ``job_running`` second; a job that writes its result
    and exits between the two reads looks "cancelled" (the poll answers 204 and the page never
    gets the result that sits in the cache). The manager remembers, per request thread, the job
    whose result it just found missing; if that job is no longer alive but its result is now
    there, it still counts as running, so Dash answers "poll again" and the next poll delivers.
    """

    _missing = threading.local()

    def get_result(self, key, job):  # noqa: ANN001 - Dash's manager signature
        result = super().get_result(key, job)  # type: ignore[misc]
        self._missing.job = (job, key) if result is self.UNDEFINED else None  # type: ignore[attr-defined]
        return result

    def job_running(self, job):  # noqa: ANN001
        if super().job_running(job):  # type: ignore[misc]
            return True
        missing = getattr(self._missing, "job", None)
        self._missing.job = None
        return bool(missing and missing[0] == job and self.result_ready(missing[1]))  # type: ignore[attr-defined]


class _ForkWhileNotCompiling:
    """Fork a local job only while no other thread is inside numba's compiler.

    The local manager forks the job from a web thread; if another thread (the start-up
    warm-up, another job's request) held numba's global compiler lock at that instant, the
    child would inherit it locked by a thread that does not exist there and hang at its
    first compiled call (a model training or a backtest that never ended). Holding the
    (reentrant) lock across the fork makes the child's only thread its owner instead.
    """

    def call_job_fn(self, key, job_fn, args, context):  # noqa: ANN001 - Dash's signature
        import sys

        mod = sys.modules.get("numba.core.compiler_lock")
        if mod is None:
            return super().call_job_fn(key, job_fn, args, context)  # type: ignore[misc]
        with mod.global_compiler_lock:
            return super().call_job_fn(key, job_fn, args, context)  # type: ignore[misc]


def _manager_class(base: type, *mixins: type) -> type:
    return type(base.__name__, (*mixins, _NoLostResult, base), {"__module__": __name__})


def make_manager(settings: Settings):
    """Return ``(manager, celery_app_or_None)`` for ``settings`` and set up the job tracker.

    The manager has no result-cache key: results are never reused between runs.
    """
    global _tracker
    if settings.redis_url:
        from celery import Celery
        from dash import CeleryManager

        celery_app = Celery("pregao", broker=settings.redis_url, backend=settings.redis_url)
        celery_app.conf.update(task_track_started=True, broker_connection_retry_on_startup=True)
        from dashboard import fanout  # heavy chunks over the workers (team mode)

        fanout.register(celery_app, settings.secret_key, enabled=settings.is_team)
        manager = _manager_class(CeleryManager)(celery_app)
        from dashboard.paper_runners import register_celery_task

        register_celery_task(celery_app, settings)  # unattended paper-trading runners
        _tracker = JobTracker.for_redis(settings.redis_url, manager)
        return manager, celery_app
    import diskcache
    from dash import DiskcacheManager

    cache_dir = settings.cache_dir or settings.data_dir / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = diskcache.Cache(str(cache_dir))
    manager = _manager_class(DiskcacheManager, _ForkWhileNotCompiling)(cache)
    _tracker = JobTracker.for_diskcache(cache, manager)
    return manager, None


# -- page wiring -------------------------------------------------------------------------


def _ui_outputs(ids: dict, run_ids: Sequence[str], cancel: str | None) -> list[Output]:
    outs = [
        Output(ids["bar"], "value", allow_duplicate=True),
        Output(ids["bar"], "label", allow_duplicate=True),
        Output(ids["bar"], "color", allow_duplicate=True),
        Output(ids["bar"], "animated", allow_duplicate=True),
        Output(ids["label"], "children", allow_duplicate=True),
        Output(ids["poll"], "disabled", allow_duplicate=True),
    ]
    outs += [Output(r, "disabled", allow_duplicate=True) for r in run_ids]
    if cancel:
        outs.append(Output(cancel, "disabled", allow_duplicate=True))
    return outs


def _ui_values(view, n_run: int, has_cancel: bool) -> list:
    vals = [view.value, view.label, view.color, view.animated, view.text, not view.busy]
    vals += [view.busy] * n_run
    if has_cancel:
        vals.append(not view.busy)
    return vals


_START_JS = """
function() {
    const nc = window.dash_clientside.no_update;
    const trig = (window.dash_clientside.callback_context.triggered || [])[0];
    const n0 = arguments[arguments.length - 1] || 0;  // the poll's n_intervals at the click
    if (!trig || !trig.value) {
        return Array(%(n_out)d).fill(nc);
    }
    const trigger = trig.prop_id.split('.')[0];
    const token = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    return [{token: token, trigger: trigger}, {token: token, adopted: false, n0: n0}]
        .concat(%(ui)s).concat(%(clear)s);
}
"""


def job_callback(
    kind: str,
    *deps,
    run: str | Sequence[str],
    cancel: str | None = None,
    progress: str | None = None,
    clear: Sequence[tuple[str, str, object]] = (),
    adopt: Output | None = None,
    restore: bool = False,
    writes: bool = False,
    **kwargs,
) -> Callable:
    """Register a page's long job as a tracked background callback.

    Parameters
    ----------
    kind : str
        Job kind, unique in the app (``"backtest"``, ``"data-import"`` ...): one running job
        of a kind per browser session.
    *deps : Output and State
        The job's outputs and the form values it reads. No ``Input``: the start buttons
        (``run``) trigger the job.
    run : str or sequence of str
        Id(s) of the start button(s); disabled while the job runs.
    cancel : str, optional
        Id of the "Cancelar" button; enabled while the job runs.
    progress : str, optional
        Prefix of the page's :func:`components.jobs.job_progress` area (default ``kind``).
    clear : sequence of (id, prop, value)
        Props reset at the click, e.g. the previous error alert.
    adopt : Output, optional
        Receives the run's ``result`` (see :meth:`JobHandle.done`) when a page picks up a
        run that another page instance started and that ended since.
    restore : bool
        With ``adopt``: a freshly opened page also gets the result of the session's last
        successful run even if it was shown before (e.g. the last computed portfolio).
    writes : bool
        The job writes to the database: check the write is durable before success.
    **kwargs
        Passed to :func:`dash.callback` (``interval`` ...).

    Returns
    -------
    callable
        Decorator for ``fn(job, *states)`` where ``job`` is a
        :class:`dashboard.jobtracker.JobHandle` (``job.progress`` is the core ``progress``
        callable, ``job.done(message, result)`` ends the run, ``job.fail(message)`` marks a
        failure the page reports itself, ``job.trigger`` names the button clicked).
    """
    from components.jobs import job_ids, progress_view

    if any(isinstance(d, Input) for d in deps):
        raise ValueError("job_callback: the start buttons (run=) are the only inputs.")
    outputs = [d for d in deps if isinstance(d, Output)]
    states = [d for d in deps if isinstance(d, State)]
    run_ids = [run] if isinstance(run, str) else list(run)
    ids = job_ids(progress or kind)
    ui_outs = _ui_outputs(ids, run_ids, cancel)
    n_run, has_cancel = len(run_ids), bool(cancel)

    # 1. The click: new token, busy UI, previous message cleared (no server round trip).
    starting = _ui_values(progress_view("starting"), n_run, has_cancel)
    clear_outs = [Output(cid, prop, allow_duplicate=True) for cid, prop, _ in clear]
    dash.clientside_callback(
        _START_JS
        % {
            "n_out": 2 + len(ui_outs) + len(clear_outs),
            "ui": json.dumps(starting),
            "clear": json.dumps([v for _, _, v in clear]),
        },
        Output(ids["start"], "data"),
        Output(ids["token"], "data", allow_duplicate=True),
        *ui_outs,
        *clear_outs,
        *[Input(r, "n_clicks") for r in run_ids],
        State(ids["poll"], "n_intervals"),
        prevent_initial_call=True,
    )

    # 2. Poll: follow the run this page started, or pick up the session's latest one.
    poll_outs = [*ui_outs, Output(ids["token"], "data", allow_duplicate=True)]
    if adopt is not None:
        poll_outs.append(Output(adopt.component_id, adopt.component_property, allow_duplicate=True))

    @dash.callback(
        *poll_outs,
        Input(ids["poll"], "n_intervals"),
        Input(SESSION_STORE, "data"),
        State(ids["token"], "data"),
        prevent_initial_call="initial_duplicate",
    )
    def _poll(n, session, mine):
        ans = poll_answer(get_tracker(), session, kind, mine, restore=restore, n_polls=n)
        if ans.status is None:
            return [no_update] * len(poll_outs)
        view = progress_view(ans.status, ans.fraction, ans.message)
        out = [*_ui_values(view, n_run, has_cancel), ans.token or no_update]
        if adopt is not None:
            out.append(no_update if ans.result is NOTHING else ans.result)
        return out

    # 3. Cancel: stop the run this page shows, whoever started it.
    if cancel:

        @dash.callback(
            *ui_outs,
            Input(cancel, "n_clicks"),
            State(ids["token"], "data"),
            State(SESSION_STORE, "data"),
            prevent_initial_call=True,
        )
        def _cancel(n, mine, session):
            if not n or not session:
                return [no_update] * len(ui_outs)
            tracker = get_tracker()
            token = (mine or {}).get("token")
            rec = tracker.cancel(session, kind, token)
            if rec is not None and rec.status != "cancelled":
                view = progress_view(rec.status, rec.fraction, rec.message)  # it had ended
            else:
                view = progress_view("cancelled", rec.fraction if rec else 0.0)
            if rec is not None:
                tracker.mark_seen(session, kind, rec.token)
            return _ui_values(view, n_run, has_cancel)

    # 4. The job itself.
    n_outputs = len(outputs)

    def decorator(fn: Callable) -> Callable:
        @dash.callback(
            *outputs,
            Input(ids["start"], "data"),
            *states,
            State(SESSION_STORE, "data"),
            background=True,
            prevent_initial_call=True,
            **kwargs,
        )
        @functools.wraps(fn)
        def _job(start, *args):
            *form, session = args
            if not start or not start.get("token"):
                return no_update if n_outputs == 1 else [no_update] * n_outputs
            return run_job(
                fn,
                JobHandle(
                    get_tracker(),
                    session or "sem-sessao",
                    kind,
                    start["token"],
                    start.get("trigger"),
                    current_job_id(),
                ),
                form,
                n_outputs,
                writes=writes,
            )

        return fn

    return decorator


#: "No value" marker of :class:`PollAnswer` (``None`` is a valid job result).
NOTHING = object()


@dataclass(frozen=True)
class PollAnswer:
    """What a page's progress poll shows: ``status`` None changes nothing; ``token`` is the
    new value of the page's token store (None: unchanged); ``result`` goes to the page's
    ``adopt`` output (:data:`NOTHING`: unchanged)."""

    status: str | None = None
    fraction: float = 0.0
    message: str = ""
    token: dict | None = None
    result: Any = NOTHING


#: Polls after a click with no sign of the run before the page says it is queued (~10 s).
QUEUED_AFTER_POLLS = 20


def poll_answer(
    tracker: JobTracker,
    session: str | None,
    kind: str,
    mine: dict | None,
    *,
    restore: bool = False,
    n_polls: int | None = None,
) -> PollAnswer:
    """Decide what a page shows for its job ``kind`` at a poll.

    Parameters
    ----------
    tracker : JobTracker
    session : str or None
        The browser's job-session id.
    kind : str
        The page's job kind.
    mine : dict or None
        The page's token store: ``{"token", "adopted"}`` of the run it follows, None on a
        freshly opened page.
    restore : bool
        A fresh page also gets the result of the last successful run even if shown before.
    n_polls : int, optional
        The poll's ``n_intervals`` (compared with ``mine["n0"]``, its value at the click, to
        tell a user whose run waits for a free worker).

    Returns
    -------
    PollAnswer
        A fresh page picks up a running run, or shows once how an unseen run ended (and gets
        its result); a page that just clicked keeps "Iniciando…" until its run registers;
        a followed run shows its progress and, at the end, how it ended.
    """
    if not session:
        return PollAnswer()
    rec = tracker.get(session, kind)
    token = (mine or {}).get("token")
    adopted = bool((mine or {}).get("adopted"))
    if token is None:
        if rec is None:
            return PollAnswer()
        if rec.status in TERMINAL and tracker.seen(session, kind, rec.token):
            if not (restore and rec.status == DONE):
                return PollAnswer()
        token, adopted = rec.token, True
    elif rec is None or rec.token != token:
        if tracker.cancel_requested(session, kind, token):
            return PollAnswer(CANCELLED)
        waited = (n_polls or 0) - int((mine or {}).get("n0") or 0)
        if waited >= QUEUED_AFTER_POLLS:
            return PollAnswer("starting", message="Na fila: aguardando um processo livre…")
        return PollAnswer()  # clicked, the run has not registered yet: "Iniciando…"
    if rec.status in TERMINAL:
        tracker.mark_seen(session, kind, rec.token)
    return PollAnswer(
        rec.status,
        rec.fraction,
        rec.message,
        token={"token": token, "adopted": adopted},
        result=rec.result if adopted and rec.status == DONE else NOTHING,
    )


def run_job(fn: Callable, job: JobHandle, form: Sequence, n_outputs: int, *, writes: bool):
    """Run a page's job function under ``job``: record start and end, turn cancel and errors
    into a state the page can show, check durability of writes. Returns the outputs.

    A :class:`JobCancelled` or any error returns no update for every output (nothing is
    acknowledged); the error's pt-BR message goes to the run's state and to the app's
    global alert.
    """
    from core.errors import PregaoError, StoreError
    from dashboard.runtime import check_durable, get_store

    nothing = no_update if n_outputs == 1 else [no_update] * n_outputs
    try:
        job.start()
        out = fn(job, *form)
        if writes and job.record.status != "failed":
            check_durable(get_store())
    except JobCancelled:
        job.cancelled()
        job.commit()
        return nothing
    except Exception as exc:  # noqa: BLE001 - every failure is shown, none acknowledged
        msg = _error_message(exc, PregaoError, StoreError)
        if not isinstance(exc, PregaoError):
            log.warning("job %s failed: %s", job.kind, type(exc).__name__)
        job.reset_end()
        job.fail(msg)
        job.commit()
        _show_global_error(msg)
        return nothing
    job.commit()
    return out


def _error_message(exc: Exception, PregaoError, StoreError) -> str:
    if isinstance(exc, PregaoError):
        return str(exc)
    try:
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:  # pragma: no cover
        SQLAlchemyError = ()  # noqa: N806
    # Never the exception text on a team server (dashboard.security): an id the administrator
    # finds in the log. Locally the trader is the administrator: the database's reason helps.
    from dashboard.runtime import get_settings
    from dashboard.security import error_reference, generic_error_message

    if isinstance(exc, SQLAlchemyError):
        eid = error_reference(exc, "background job: database")
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        detail = f"código {eid}" if get_settings().is_team else reason
        return (
            f"O banco de dados recusou a gravação ({detail}); nada foi confirmado. "
            "Se o erro persistir, feche o app e restaure um backup do banco."
        )
    return generic_error_message(error_reference(exc, "background job")) + " Nada foi confirmado."


def _show_global_error(msg: str) -> None:
    try:
        dash.set_props("global-error", {"children": msg, "is_open": True})
    except Exception:  # noqa: BLE001 - outside a callback (tests): the state says it
        pass
