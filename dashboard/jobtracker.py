"""Server-side registry of the long jobs a browser session started, one slot per job kind.

Every page's long job (import, update, backtest, walk-forward, training, portfolio) runs as a
Dash background callback; this registry is what lets a page that was left mid-job and opened
again pick the job up (progress, "Cancelar" enabled) or learn how it ended, and what lets a
"Cancelar" click stop a job that another page instance started.

Keys are ``(session, kind)``: ``session`` is a random id kept in the browser's local storage
(the app-level ``dcc.Store`` ``job-session``), ``kind`` names the page's job (``"backtest"``,
``"data-import"`` ...). A new run of the same kind replaces the slot; each run carries a
``token`` made by the browser at the click, so a page never mistakes the previous run for the
one it just started.

Storage follows the background-callback manager: the diskcache folder of the
:class:`dash.DiskcacheManager` locally (shared by the web process and the job processes it
forks), Redis with the :class:`dash.CeleryManager` (shared by web and worker hosts). Each
record lives 24 hours. The job writes its record; a cancel writes a separate flag, so the two
never overwrite each other.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = [
    "JobRecord",
    "JobTracker",
    "JobHandle",
    "JobCancelled",
    "RUNNING",
    "DONE",
    "FAILED",
    "CANCELLED",
    "INTERRUPTED",
    "TERMINAL",
]

RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
INTERRUPTED = "interrupted"
TERMINAL = frozenset({DONE, FAILED, CANCELLED, INTERRUPTED})

#: Seconds a record is kept.
TTL = 24 * 3600
#: Seconds between two progress writes of one job (the page polls every 0,5 s): progress
#: calls only update memory; a small thread of the job writes the latest state this often.
PROGRESS_EVERY = 0.2
#: Minimum seconds between two reads of the cancel flag inside a job.
CANCEL_CHECK_EVERY = 0.3
#: Longest message kept (characters): a message quoting a huge input is shortened.
MAX_MESSAGE = 400


def _short(message: str, limit: int = MAX_MESSAGE) -> str:
    message = str(message or "")
    return message if len(message) <= limit else message[: limit - 1].rstrip() + "…"


class JobCancelled(Exception):
    """Raised inside a job by :meth:`JobHandle.progress` once the user asked to cancel.

    The background-callback wrapper catches it and returns no update: a cancelled job
    acknowledges nothing (core writes run in one transaction and roll back).
    """


@dataclass(frozen=True)
class JobRecord:
    """State of one run of a job kind in one browser session.

    Attributes
    ----------
    kind, token : str
        The job kind and the run's token (made by the browser at the click).
    status : str
        ``running``, ``done``, ``failed``, ``cancelled`` or ``interrupted`` (the process
        died without saying how it ended).
    fraction : float
        Progress in [0, 1].
    message : str
        Last progress message, or the final one ("Pronto: backtest nº 4 salvo.").
    result : Any
        A small JSON-able value the job left for a page that picks the run up after it
        ended (a run id, a refresh token ...); None when there is none.
    job_id : str
        The background manager's handle (a process id locally, a Celery task id in team
        mode), used to stop the process on cancel; empty until the job started.
    started, updated : float
        Unix times of the start and of the last write.
    """

    kind: str
    token: str
    status: str = RUNNING
    fraction: float = 0.0
    message: str = ""
    result: Any = None
    job_id: str = ""
    started: float = 0.0
    updated: float = 0.0

    @property
    def running(self) -> bool:
        """True while the job has not ended."""
        return self.status == RUNNING

    @property
    def percent(self) -> int:
        """Progress as a whole percentage 0..100."""
        return int(round(100 * max(0.0, min(1.0, self.fraction))))


class _DiskBackend:
    def __init__(self, cache) -> None:
        self.cache = cache

    def get(self, key: str) -> str | None:
        return self.cache.get(key)

    def set(self, key: str, value: str) -> None:
        self.cache.set(key, value, expire=TTL)


class _RedisBackend:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)

    def get(self, key: str) -> str | None:
        raw = self.client.get(key)
        return raw.decode("utf-8") if isinstance(raw, bytes) else raw

    def set(self, key: str, value: str) -> None:
        self.client.set(key, value, ex=TTL)


class _MemoryBackend:
    """In-process dictionary (unit tests, or a page callback run without a manager)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self.data[key] = value


class JobTracker:
    """Read and write :class:`JobRecord` slots.

    Parameters
    ----------
    backend : object
        Anything with ``get(key) -> str | None`` and ``set(key, str)``; build one with
        :meth:`for_diskcache`, :meth:`for_redis` or :meth:`in_memory`.
    manager : dash background-callback manager, optional
        Used to stop a job's process on cancel and to tell whether a job said to be running
        is still alive (``terminate_job`` / ``job_running``).
    """

    def __init__(self, backend, manager=None) -> None:
        self.backend = backend
        self.manager = manager

    @classmethod
    def for_diskcache(cls, cache, manager=None) -> JobTracker:
        """Tracker on a ``diskcache.Cache`` (the local background manager's folder)."""
        return cls(_DiskBackend(cache), manager)

    @classmethod
    def for_redis(cls, url: str, manager=None) -> JobTracker:
        """Tracker on Redis (team mode, shared with the Celery workers)."""
        return cls(_RedisBackend(url), manager)

    @classmethod
    def in_memory(cls, manager=None) -> JobTracker:
        """Tracker in a dictionary of this process (tests)."""
        return cls(_MemoryBackend(), manager)

    # -- keys ----------------------------------------------------------------------------
    @staticmethod
    def _key(session: str, kind: str) -> str:
        return f"pregao-job:{session}:{kind}"

    @staticmethod
    def _flag(session: str, kind: str, token: str, what: str) -> str:
        return f"pregao-job:{session}:{kind}:{token}:{what}"

    # -- records -------------------------------------------------------------------------
    def get(self, session: str, kind: str) -> JobRecord | None:
        """The latest run of ``kind`` in ``session``, with cancel and liveness applied.

        A run whose cancel flag is set reads as ``cancelled``; a run said to be running
        whose process is gone reads as ``interrupted`` (and is stored so).
        """
        raw = self.backend.get(self._key(session, kind))
        if not raw:
            return None
        rec = JobRecord(**json.loads(raw))
        if rec.running and self.backend.get(self._flag(session, kind, rec.token, "cancel")):
            return replace(rec, status=CANCELLED, message="Cancelado")
        if rec.running and rec.job_id and not self._alive(rec.job_id):
            # Re-read: the job may have written its final state between the two reads.
            raw = self.backend.get(self._key(session, kind))
            rec = JobRecord(**json.loads(raw)) if raw else rec
            if rec.running:
                rec = replace(
                    rec,
                    status=INTERRUPTED,
                    message="Interrompido: o processo do trabalho terminou sem concluir.",
                )
                self.put(session, rec)
        return rec

    def put(self, session: str, rec: JobRecord) -> None:
        """Store ``rec`` as the latest run of its kind in ``session``."""
        rec = replace(rec, updated=time.time())
        self.backend.set(self._key(session, rec.kind), json.dumps(asdict(rec), default=str))

    def _alive(self, job_id: str) -> bool:
        if self.manager is None:
            return True
        try:
            return bool(self.manager.job_running(job_id))
        except Exception:  # noqa: BLE001 - an unknown handle: trust the record
            return True

    def cancel_requested(self, session: str, kind: str, token: str) -> bool:
        """True once :meth:`cancel` was called for this run."""
        return bool(self.backend.get(self._flag(session, kind, token, "cancel")))

    def cancel(self, session: str, kind: str, token: str | None) -> JobRecord | None:
        """Ask the run ``token`` (or the latest run when None) to stop; stop its process.

        Sets the cancel flag (the job's next progress call raises :class:`JobCancelled`,
        a job that has not started yet will not start) and, when the job's process is
        known, terminates it through the background manager. Returns the record as it now
        reads, or None when there is no such run. A run that already ended is left as is.
        """
        rec = self.get(session, kind)
        if token is None:
            if rec is None:
                return None
            token = rec.token
        if rec is not None and rec.token == token and rec.status in TERMINAL:
            return rec
        self.backend.set(self._flag(session, kind, token, "cancel"), "1")
        if rec is not None and rec.token == token:
            if rec.job_id and self.manager is not None:
                try:
                    self.manager.terminate_job(rec.job_id)
                except Exception:  # noqa: BLE001 - the cooperative flag still stops it
                    pass
            rec = replace(rec, status=CANCELLED, message="Cancelado")
            self.put(session, rec)
            return rec
        return None

    def mark_seen(self, session: str, kind: str, token: str) -> None:
        """Remember that a page showed how the run ``token`` ended."""
        self.backend.set(self._flag(session, kind, token, "seen"), "1")

    def seen(self, session: str, kind: str, token: str) -> bool:
        """True once a page showed how the run ``token`` ended."""
        return bool(self.backend.get(self._flag(session, kind, token, "seen")))


class JobHandle:
    """What a page's job function receives instead of ``set_progress``.

    Parameters
    ----------
    tracker : JobTracker
    session, kind, token : str
        The slot and the run (see :class:`JobRecord`).
    trigger : str, optional
        Id of the button that started the run (pages with several start buttons).
    job_id : str, optional
        The background manager's handle of the process running the job.
    """

    def __init__(
        self,
        tracker: JobTracker,
        session: str,
        kind: str,
        token: str,
        trigger: str | None = None,
        job_id: str = "",
    ) -> None:
        self.tracker = tracker
        self.session = session
        self.kind = kind
        self.token = token
        self.trigger = trigger
        self._rec = JobRecord(kind=kind, token=token, job_id=job_id, started=time.time())
        self._dirty = False
        self._last_check = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    @property
    def record(self) -> JobRecord:
        """The run's state as this job last wrote it."""
        return self._rec

    def start(self, flush_every: float = PROGRESS_EVERY) -> None:
        """Write the running record and start writing progress every ``flush_every`` s.

        Raises
        ------
        JobCancelled
            When the run was cancelled before it started.
        """
        self._check_cancel(force=True)
        self.tracker.put(self.session, self._rec)
        if flush_every > 0:
            self._flusher = threading.Thread(
                target=self._flush_loop, args=(flush_every,), daemon=True, name="job-progress"
            )
            self._flusher.start()

    def _flush_loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - progress display must never kill the job
                pass

    def flush(self) -> None:
        """Write the latest progress now if it changed since the last write."""
        with self._lock:
            if not self._dirty or self.ended:
                return
            rec, self._dirty = self._rec, False
        self.tracker.put(self.session, rec)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (fraction 0..1, message in Portuguese); the core ``progress`` callable.

        Raises
        ------
        JobCancelled
            When the user asked to cancel this run.
        """
        try:
            fraction = float(fraction)
        except (TypeError, ValueError):
            fraction = self._rec.fraction
        fraction = max(0.0, min(1.0, fraction))
        with self._lock:
            if not self.ended:
                self._rec = replace(
                    self._rec, fraction=fraction, message=_short(message) or self._rec.message
                )
                self._dirty = True
        self._check_cancel()

    def cancel_requested(self) -> bool:
        """True once the user asked to cancel this run (for core ``cancel=`` callables)."""
        return self.tracker.cancel_requested(self.session, self.kind, self.token)

    def _check_cancel(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_check < CANCEL_CHECK_EVERY:
            return
        self._last_check = now
        if self.tracker.cancel_requested(self.session, self.kind, self.token):
            raise JobCancelled(self.token)

    def done(self, message: str = "Concluído", result: Any = None) -> None:
        """End the run successfully with a final ``message`` and an optional ``result``.

        The end is written by :meth:`commit` (the job wrapper calls it once the job's
        writes are known to be durable).
        """
        self._end(DONE, message, result, fraction=1.0)

    def fail(self, message: str) -> None:
        """End the run as failed; ``message`` says why (pt-BR, shown in the progress area)."""
        self._end(FAILED, f"Falhou: {message}")

    def cancelled(self) -> None:
        """End the run as cancelled."""
        self._end(CANCELLED, "Cancelado")

    @property
    def ended(self) -> bool:
        """True once :meth:`done`, :meth:`fail` or :meth:`cancelled` was called."""
        return self._rec.status in TERMINAL

    def reset_end(self) -> None:
        """Forget an end not yet committed (a durability check failed after ``done``)."""
        if self.ended:
            self._rec = replace(self._rec, status=RUNNING, result=None)

    def commit(self) -> None:
        """Write the run's end (``done`` with "Concluído" when nothing else was said)."""
        self._stop.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=5)
        with self._lock:
            if not self.ended:
                self.done()
            rec = self._rec
        self.tracker.put(self.session, rec)

    def _end(self, status: str, message: str, result: Any = None, fraction=None) -> None:
        if self._rec.status in TERMINAL:
            return
        self._rec = replace(
            self._rec,
            status=status,
            message=_short(message),
            result=result,
            fraction=self._rec.fraction if fraction is None else fraction,
        )


def current_job_id() -> str:
    """The background manager's handle of the running job: the Celery task id inside a
    Celery worker, else this process id (the :class:`dash.DiskcacheManager` handle)."""
    current_task = None
    if "celery" in sys.modules:  # only a Celery worker has a current task
        from celery import current_task
    if current_task is not None and getattr(current_task, "request", None) is not None:
        task_id = getattr(current_task.request, "id", None)
        if task_id:
            return str(task_id)
    return str(os.getpid())
