"""Delivery of firings: the log, the durable queue, retries, rate limits and the worker.

:func:`dispatch` is what the engine calls after storing a firing. It never blocks on a
channel and never raises: it stores the in-app notification, writes one ``pending`` row per
external (channel, target) in ``alert_deliveries`` and wakes the worker. The database table
IS the queue, so

- a firing written by the CLI, a forked background job or another app process is delivered
  by whichever process runs a :class:`DeliveryWorker` (the app starts one);
- after a restart the worker resumes ``pending`` and ``retrying`` rows; a ``sent`` row is
  never sent again, and the unique key (firing, channel, target) makes a second
  :func:`dispatch` of the same firing a no-op;
- a row is *claimed* by an atomic ``UPDATE ... WHERE status IN ('pending', 'retrying')``
  before it is sent, so two workers (gunicorn processes) never send the same row.

At most once after a crash: a row caught mid-send by a crash (``sending`` older than the
lease) is marked ``failed`` with "interrompido", not re-sent — whether the service got it is
unknown, and a duplicate order-style alert is worse than a missing one that the history and
the bell still show. Retries after a timeout may, rarely, duplicate (the webhook carries
``X-Pregao-Delivery`` for receivers that deduplicate).

Worker: one daemon thread per channel, so a hanging or failing channel (timeouts, HTTP 500)
delays only itself. Retries use bounded exponential backoff (:class:`RetryPolicy`: 5 s,
10 s, 20 s ... capped at 300 s, 8 attempts, about 10 minutes in all) and honour the
service's ``retry_after``. Rate limits (:data:`MIN_INTERVAL`): Telegram about one message a
second per chat (Bot API FAQ), Discord 30 a minute per webhook, e-mail one a second.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.alerts.channels import base as chbase
from core.alerts.channels.base import (
    CHANNEL_LABELS,
    CHANNELS,
    EXTERNAL_CHANNELS,
    ChannelConfig,
    DeliveryResult,
    firing_dict,
)
from core.alerts.delivery_models import AlertChannelState, AlertDelivery

__all__ = [
    "dispatch",
    "enqueue",
    "configure",
    "current_config",
    "RetryPolicy",
    "MIN_INTERVAL",
    "DeliveryWorker",
    "start_worker",
    "stop_worker",
    "process_due",
    "recover_interrupted",
    "send_test",
    "DeliveryRecord",
    "list_deliveries",
    "ChannelStatus",
    "channel_statuses",
    "pause_channel",
    "resume_channel",
    "paused_channels",
    "backoff_seconds",
]

log = logging.getLogger(__name__)
_D = AlertDelivery.__table__
_S = AlertChannelState.__table__

#: Minimum seconds between two messages to the same (channel, target).
MIN_INTERVAL: dict[str, float] = {"telegram": 1.05, "discord": 2.0, "email": 1.0, "webhook": 0.2}
#: Seconds after which a ``sending`` row is considered abandoned by a crashed process.
LEASE_SECONDS = 300.0
#: A row still waiting this long after it was queued (no app ran to deliver it) is dropped
#: as ``skipped`` ("expirado"): a day-old alert is noise on a phone; the history keeps it.
MAX_AGE = dt.timedelta(hours=24)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: attempt ``n`` failed → wait ``min(cap, base * 2**(n-1))``.

    Parameters
    ----------
    base : float
        Seconds before the first retry (default 5).
    cap : float
        Longest wait between two attempts (default 300).
    max_attempts : int
        Attempts in all, the first included (default 8); then the row is ``failed``.
    """

    base: float = 5.0
    cap: float = 300.0
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if not (self.base > 0 and self.cap >= self.base and 1 <= self.max_attempts <= 50):
            raise ValueError("RetryPolicy: need base > 0, cap >= base, 1 <= max_attempts <= 50")


def backoff_seconds(attempt: int, policy: RetryPolicy, retry_after: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based), at least the
    service's ``retry_after`` and at most ``policy.cap`` (unless the service asks for more)."""
    wait = min(policy.cap, policy.base * 2 ** max(0, attempt - 1))
    if retry_after is not None and retry_after > wait:
        wait = float(retry_after)
    return wait


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# -- process configuration ---------------------------------------------------------------
_lock = threading.Lock()
_config: ChannelConfig | None = None
_worker: DeliveryWorker | None = None


def configure(config: ChannelConfig | None) -> None:
    """Set the channel configuration of this process (the dashboard calls it at start)."""
    global _config
    with _lock:
        _config = config
        if _worker is not None and config is not None:
            _worker.config = config


def current_config() -> ChannelConfig | None:
    """The configuration given to :func:`configure` (None when never configured)."""
    return _config


# -- enqueue -----------------------------------------------------------------------------
def _channels_of(firing: Any) -> list[str]:
    raw = chbase._get(firing, "channels") or []
    if isinstance(raw, str):
        raw = [c for c in raw.replace(";", ",").split(",")]
    out = []
    for c in raw:
        c = str(c).strip().lower()
        if c and c in CHANNELS and c not in out:
            out.append(c)
    return out


def enqueue(
    store, firing: Any, config: ChannelConfig | None = None, *, policy: RetryPolicy | None = None
) -> list[int]:
    """Write the delivery rows of ``firing``'s external channels; returns the new row ids.

    A channel that ``config`` says is not configured gets a ``skipped`` row ("canal não
    configurado"), so the history says why nothing arrived; a paused channel a ``skipped``
    row too. With ``config`` None every row is ``pending`` (a worker with a configuration
    decides later). Rows that already exist (same firing, channel, target) are left alone.
    """
    policy = policy or RetryPolicy()
    d = firing_dict(firing)
    now = _utcnow()
    paused = paused_channels(store)
    ids: list[int] = []
    rows: list[dict] = []
    for channel in _channels_of(firing):
        if channel == "inapp":
            continue
        targets: tuple[str, ...]
        if config is not None and not config.configured(channel):
            targets, status, err = ("",), "skipped", "canal não configurado"
        elif channel in paused:
            targets = config.targets(channel) if config is not None else ("",)
            status, err = "skipped", "canal pausado"
        else:
            targets = config.targets(channel) if config is not None else ("",)
            status, err = "pending", ""
        for target in targets:
            rows.append(
                dict(
                    firing_id=d["id"],
                    channel=channel,
                    target=str(target),
                    status=status,
                    attempts=0,
                    max_attempts=policy.max_attempts,
                    next_attempt_at=now,
                    last_error=err,
                    payload=d,
                    created_at=now,
                    updated_at=now,
                )
            )
    if not rows:
        return ids
    try:  # one transaction for the whole firing (a per-row commit costs an fsync each)
        with store.transaction() as conn:
            done = set()
            if d["id"] is not None:
                done = {
                    (c, t)
                    for c, t in conn.execute(
                        select(_D.c.channel, _D.c.target).where(_D.c.firing_id == d["id"])
                    )
                }
            for row in rows:
                if (row["channel"], row["target"]) not in done:
                    ids.append(conn.execute(insert(_D).values(**row)).inserted_primary_key[0])
    except IntegrityError:  # a concurrent dispatch of the same firing: keep what is there
        ids = []
        for row in rows:
            try:
                with store.transaction() as conn:
                    ids.append(conn.execute(insert(_D).values(**row)).inserted_primary_key[0])
            except IntegrityError:
                continue
    return ids


def dispatch(store, firing: Any) -> list[int]:
    """Deliver ``firing``: in-app now, the other channels through the worker (never blocks).

    The engine calls this after storing a firing. It stores the in-app notification (every
    firing reaches the bell and the history, whatever its channels), writes the delivery
    rows and wakes this process's worker. It never raises: a problem is logged.

    Parameters
    ----------
    store : core.data.store.Store
    firing : core.alerts Firing (or a dict with its fields)

    Returns
    -------
    list of int
        Ids of the delivery rows written (empty when none or on error).
    """
    from core.alerts.channels import inapp

    try:
        owner = chbase._get(firing, "owner")
        res = inapp.send(_config, firing, store=store, owner=owner)
        if not res.ok:
            log.warning("in-app delivery failed: %s", res.error)
        w = _worker
        ids = enqueue(store, firing, _config, policy=w.policy if w is not None else None)
    except Exception:  # noqa: BLE001 - delivery must never break evaluation
        log.exception("dispatch failed for firing %s", chbase._get(firing, "id"))
        return []
    if ids and w is not None:
        w.wake()
    return ids


# -- pause ---------------------------------------------------------------------------------
def pause_channel(store, channel: str, until: dt.datetime | None = None, by: str = "") -> None:
    """Pause ``channel`` (``"all"`` = every external channel) until ``until`` (naive UTC; None =
    until :func:`resume_channel`). Firings meanwhile are logged as ``skipped``."""
    chans = EXTERNAL_CHANNELS if channel == "all" else (channel,)
    for c in chans:
        if c not in EXTERNAL_CHANNELS:
            raise ValueError(
                f"canal desconhecido {c!r} (use {', '.join(EXTERNAL_CHANNELS)} ou all)"
            )
    now = _utcnow()
    with store.transaction() as conn:
        for c in chans:
            conn.execute(_S.delete().where(_S.c.channel == c))
            conn.execute(
                insert(_S).values(channel=c, paused_until=until, paused_by=by[:80], updated_at=now)
            )


def resume_channel(store, channel: str = "all") -> None:
    """Resume ``channel`` (``"all"`` = every channel)."""
    with store.transaction() as conn:
        q = _S.delete()
        if channel != "all":
            q = q.where(_S.c.channel == channel)
        conn.execute(q)


def paused_channels(store) -> dict[str, dt.datetime | None]:
    """``{channel: paused_until}`` of the channels paused now (expired pauses left out)."""
    now = _utcnow()
    with store.engine.connect() as conn:
        rows = conn.execute(select(_S.c.channel, _S.c.paused_until)).all()
    return {c: u for c, u in rows if u is None or u > now}


# -- the worker ----------------------------------------------------------------------------
def _worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def recover_interrupted(store, lease_seconds: float = LEASE_SECONDS) -> int:
    """Mark ``sending`` rows older than the lease ``failed`` (a crash mid-send; not re-sent)."""
    cutoff = _utcnow() - dt.timedelta(seconds=lease_seconds)
    with store.transaction() as conn:
        return conn.execute(
            update(_D)
            .where(_D.c.status == "sending", _D.c.claimed_at < cutoff)
            .values(
                status="failed",
                last_error="interrompido durante o envio (o app parou); não reenviado para não "
                "duplicar",
                updated_at=_utcnow(),
            )
        ).rowcount


class _Limiter:
    """Minimum spacing between messages per (channel, target) in this process."""

    def __init__(self, intervals: dict[str, float]) -> None:
        self.intervals = dict(intervals)
        self.next_ok: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()

    def wait_time(self, channel: str, target: str, clock: Callable[[], float]) -> float:
        with self.lock:
            return max(0.0, self.next_ok.get((channel, target), 0.0) - clock())

    def mark(self, channel: str, target: str, clock: Callable[[], float], extra: float = 0) -> None:
        with self.lock:
            gap = max(self.intervals.get(channel, 0.0), extra)
            self.next_ok[(channel, target)] = clock() + gap


def _send_row(row, config: ChannelConfig) -> DeliveryResult:
    from core.alerts import channels

    kw: dict[str, Any] = {"target": row.target or None}
    if row.channel == "webhook":
        kw["delivery_id"] = row.id
    try:
        return channels.send(row.channel, config, row.payload, **kw)
    except Exception as exc:  # noqa: BLE001 - a channel bug must not kill the worker
        log.exception("channel %s raised", row.channel)
        return DeliveryResult(
            False, row.channel, retryable=True, error=config.redact(f"erro interno: {exc}")[:500]
        )


def _due_rows(store, channel: str, limit: int) -> list:
    """The due ``pending``/``retrying`` rows of ``channel``, oldest first (not claimed yet)."""
    with store.engine.connect() as conn:
        return conn.execute(
            select(_D)
            .where(
                _D.c.channel == channel,
                _D.c.status.in_(("pending", "retrying")),
                _D.c.next_attempt_at <= _utcnow(),
            )
            .order_by(_D.c.next_attempt_at, _D.c.id)
            .limit(limit)
        ).all()


def process_due(
    store,
    config: ChannelConfig,
    channel: str,
    *,
    policy: RetryPolicy | None = None,
    limiter: _Limiter | None = None,
    worker_id: str | None = None,
    limit: int = 20,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    stop: threading.Event | None = None,
) -> int:
    """Claim and send the due rows of ``channel`` once (one pass); returns rows attempted.

    Each row: claimed atomically (``sending``, ``attempts + 1``), sent once, then ``sent``,
    ``retrying`` (with ``next_attempt_at`` from :func:`backoff_seconds`) or ``failed``. A
    paused or unconfigured channel turns its due rows ``skipped``.
    """
    policy = policy or RetryPolicy()
    limiter = limiter or _Limiter(MIN_INTERVAL)
    worker_id = worker_id or _worker_id()
    rows = _due_rows(store, channel, limit)
    if not rows:
        return 0
    skip_reason = ""
    if not config.configured(channel):
        skip_reason = "canal não configurado"
    elif channel in paused_channels(store):
        skip_reason = "canal pausado"
    done = 0
    for row in rows:
        if stop is not None and stop.is_set():
            break
        reason = skip_reason
        if not reason and row.created_at < _utcnow() - MAX_AGE:
            reason = "expirado: mais de 24 h na fila sem ser enviado"
        if reason:
            with store.transaction() as conn:
                conn.execute(
                    update(_D)
                    .where(_D.c.id == row.id, _D.c.status.in_(("pending", "retrying")))
                    .values(status="skipped", last_error=reason, updated_at=_utcnow())
                )
            continue
        wait = limiter.wait_time(channel, row.target, clock)
        if wait > 0:
            sleep(wait)
        with store.transaction() as conn:
            claimed = conn.execute(
                update(_D)
                .where(_D.c.id == row.id, _D.c.status.in_(("pending", "retrying")))
                .values(
                    status="sending",
                    attempts=_D.c.attempts + 1,
                    claimed_by=worker_id,
                    claimed_at=_utcnow(),
                    updated_at=_utcnow(),
                )
            ).rowcount
        if claimed != 1:
            continue  # another worker took it
        attempt = row.attempts + 1
        res = _send_row(row, config)
        limiter.mark(channel, row.target, clock, res.retry_after or 0.0)
        done += 1
        vals: dict[str, Any] = {"updated_at": _utcnow(), "claimed_by": None}
        if res.ok:  # last_error keeps the failure of an earlier attempt, if any
            vals.update(status="sent", sent_at=_utcnow())
        elif res.retryable and attempt < min(row.max_attempts, policy.max_attempts):
            wait_s = backoff_seconds(attempt, policy, res.retry_after)
            vals.update(
                status="retrying",
                last_error=config.redact(res.error)[:500],
                next_attempt_at=_utcnow() + dt.timedelta(seconds=wait_s),
            )
        else:
            why = config.redact(res.error)[:460]
            if res.retryable:
                why = f"{why} (desistiu após {attempt} tentativas)"
            vals.update(status="failed", last_error=why[:500])
        with store.transaction() as conn:
            conn.execute(update(_D).where(_D.c.id == row.id).values(**vals))
        if not res.ok:
            log.warning(
                "delivery %s via %s attempt %d: %s", row.id, channel, attempt, vals["last_error"]
            )
    return done


class DeliveryWorker:
    """Background delivery: one daemon thread per external channel, polling the log.

    Parameters
    ----------
    store : core.data.store.Store
    config : ChannelConfig
    policy : RetryPolicy, optional
    poll : float
        Seconds between two looks at the log when not woken (default 1).
    intervals : dict, optional
        Per-channel minimum spacing (default :data:`MIN_INTERVAL`).
    """

    def __init__(
        self,
        store,
        config: ChannelConfig,
        *,
        policy: RetryPolicy | None = None,
        poll: float = 1.0,
        intervals: dict[str, float] | None = None,
    ) -> None:
        if poll <= 0:
            raise ValueError("poll must be > 0")
        self.store = store
        self.config = config
        self.policy = policy or RetryPolicy()
        self.poll = poll
        self.limiter = _Limiter(MIN_INTERVAL if intervals is None else intervals)
        self.worker_id = _worker_id()
        self._stop = threading.Event()
        self._wake = {c: threading.Event() for c in EXTERNAL_CHANNELS}
        self._threads: list[threading.Thread] = []

    def start(self) -> DeliveryWorker:
        """Recover interrupted rows and start the threads (idempotent)."""
        if self._threads:
            return self
        try:
            n = recover_interrupted(self.store)
            if n:
                log.warning("%d deliveries were interrupted by a stop and are not re-sent", n)
        except Exception:  # noqa: BLE001
            log.exception("could not recover interrupted deliveries")
        for c in EXTERNAL_CHANNELS:
            t = threading.Thread(target=self._run, args=(c,), name=f"alerts-{c}", daemon=True)
            self._threads.append(t)
            t.start()
        return self

    def wake(self) -> None:
        """Look at the log now (a new row was written)."""
        for e in self._wake.values():
            e.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the threads to stop after their current attempt and wait up to ``timeout``."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def _run(self, channel: str) -> None:
        while not self._stop.is_set():
            try:
                n = process_due(
                    self.store,
                    self.config,
                    channel,
                    policy=self.policy,
                    limiter=self.limiter,
                    worker_id=self.worker_id,
                    stop=self._stop,
                )
            except Exception:  # noqa: BLE001 - e.g. database briefly locked: try again
                log.exception("delivery worker %s", channel)
                n = 0
            if n == 0:
                self._wake[channel].wait(self.poll)
                self._wake[channel].clear()

    def pending(self) -> int:
        """Rows still waiting (``pending``, ``retrying`` or ``sending``)."""
        with self.store.engine.connect() as conn:
            return conn.execute(
                select(func.count()).where(_D.c.status.in_(("pending", "retrying", "sending")))
            ).scalar_one()

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is waiting or ``timeout`` seconds passed; True when drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return True
            self.wake()
            time.sleep(0.1)
        return self.pending() == 0


def start_worker(store, config: ChannelConfig, **kw) -> DeliveryWorker:
    """Configure this process and start its worker (replacing a previous one)."""
    global _worker
    configure(config)
    with _lock:
        old = _worker
        _worker = None
    if old is not None:
        old.stop(1.0)
    w = DeliveryWorker(store, config, **kw).start()
    with _lock:
        _worker = w
    return w


def stop_worker(timeout: float = 5.0) -> None:
    """Stop this process's worker (if any)."""
    global _worker
    with _lock:
        w, _worker = _worker, None
    if w is not None:
        w.stop(timeout)


# -- test messages ---------------------------------------------------------------------------
def send_test(store, config: ChannelConfig, channel: str) -> DeliveryResult:
    """ "Enviar teste": send a sample message through ``channel`` now and log it.

    Synchronous and bounded by ``config.timeout`` (per Telegram chat). The log row has
    ``firing_id`` NULL. Telegram: every configured chat; the result is the first failure or
    the last success.

    Raises
    ------
    ValueError
        For an unknown channel (pt-BR message).
    """
    if channel not in CHANNELS:
        raise ValueError(f"canal desconhecido {channel!r} (use {', '.join(CHANNELS)})")
    from core.alerts import channels

    firing = chbase.sample_firing(channel)
    if channel == "inapp":
        return channels.send("inapp", config, firing, store=store)
    if not config.configured(channel):
        return DeliveryResult(False, channel, error=f"{CHANNEL_LABELS[channel]} não configurado")
    result: DeliveryResult | None = None
    for target in config.targets(channel):
        res = channels.send(channel, config, firing, target=target or None)
        now = _utcnow()
        with store.transaction() as conn:
            conn.execute(
                insert(_D).values(
                    firing_id=None,
                    channel=channel,
                    target=str(target),
                    status="sent" if res.ok else "failed",
                    attempts=1,
                    max_attempts=1,
                    next_attempt_at=now,
                    last_error=config.redact(res.error)[:500],
                    payload=firing_dict(firing),
                    created_at=now,
                    updated_at=now,
                    sent_at=now if res.ok else None,
                )
            )
        if result is None or result.ok:
            result = res
    return result  # type: ignore[return-value]  # targets() is never empty


# -- reading the log -------------------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryRecord:
    """One row of the delivery log (``last_error`` redacted; times naive UTC)."""

    id: int
    firing_id: int | None
    channel: str
    target: str
    status: str
    attempts: int
    last_error: str
    rule_name: str
    ticker: str | None
    message: str
    created_at: pd.Timestamp
    updated_at: pd.Timestamp
    sent_at: pd.Timestamp | None
    next_attempt_at: pd.Timestamp | None
    test: bool


def list_deliveries(
    store,
    *,
    firing_id: int | None = None,
    channel: str | None = None,
    status: str | None = None,
    ids: list[int] | None = None,
    limit: int = 200,
) -> list[DeliveryRecord]:
    """The delivery log, newest first, optionally filtered (``ids``: these rows only)."""
    if not 1 <= limit <= 10_000:
        raise ValueError("limit must be 1-10000")
    q = select(_D).order_by(_D.c.id.desc()).limit(limit)
    if firing_id is not None:
        q = q.where(_D.c.firing_id == int(firing_id))
    if channel:
        q = q.where(_D.c.channel == channel)
    if status:
        q = q.where(_D.c.status == status)
    if ids is not None:
        q = q.where(_D.c.id.in_([int(i) for i in ids]))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    out = []
    for r in rows:
        p = r.payload or {}
        out.append(
            DeliveryRecord(
                id=r.id,
                firing_id=r.firing_id,
                channel=r.channel,
                target=r.target,
                status=r.status,
                attempts=r.attempts,
                last_error=r.last_error,
                rule_name=str(p.get("rule_name", "")),
                ticker=p.get("ticker"),
                message=str(p.get("message", "")),
                created_at=pd.Timestamp(r.created_at),
                updated_at=pd.Timestamp(r.updated_at),
                sent_at=pd.Timestamp(r.sent_at) if r.sent_at is not None else None,
                next_attempt_at=(
                    pd.Timestamp(r.next_attempt_at) if r.status == "retrying" else None
                ),
                test=r.firing_id is None,
            )
        )
    return out


@dataclass(frozen=True)
class ChannelStatus:
    """A channel as the page and ``alerts test`` show it (everything redacted)."""

    channel: str
    label: str
    configured: bool
    where: str
    paused_until: str | None
    paused: bool
    last_sent_at: pd.Timestamp | None
    last_error: str
    waiting: int
    failed: int


def channel_statuses(store, config: ChannelConfig) -> list[ChannelStatus]:
    """One :class:`ChannelStatus` per channel, in :data:`CHANNELS` order."""
    paused = paused_channels(store)
    with store.engine.connect() as conn:
        agg = conn.execute(
            select(_D.c.channel, _D.c.status, func.count(), func.max(_D.c.sent_at)).group_by(
                _D.c.channel, _D.c.status
            )
        ).all()
        last_err = dict(
            conn.execute(
                select(_D.c.channel, _D.c.last_error)
                .where(_D.c.status == "failed")
                .order_by(_D.c.id.desc())
                .limit(50)
            ).all()[::-1]
        )
    counts: dict[tuple[str, str], int] = {}
    last_sent: dict[str, Any] = {}
    for ch, st, n, ls in agg:
        counts[(ch, st)] = n
        if ls is not None and (ch not in last_sent or ls > last_sent[ch]):
            last_sent[ch] = ls
    out = []
    for c in CHANNELS:
        until = paused.get(c, "x") if c in paused else "x"
        out.append(
            ChannelStatus(
                channel=c,
                label=CHANNEL_LABELS[c],
                configured=config.configured(c),
                where=config.describe(c),
                paused=c in paused,
                paused_until=(until.isoformat() if isinstance(until, dt.datetime) else None),
                last_sent_at=pd.Timestamp(last_sent[c]) if c in last_sent else None,
                last_error=config.redact(last_err.get(c, "")),
                waiting=sum(counts.get((c, s), 0) for s in ("pending", "retrying", "sending")),
                failed=counts.get((c, "failed"), 0),
            )
        )
    return out
