"""Delivery log, retries with bounded backoff, rate limits, no re-send after a restart."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from core.alerts import dispatch as dp
from core.alerts.channels import ChannelConfig, DeliveryResult, inapp
from core.alerts.delivery_models import AlertDelivery
from tests.fakes.firing import FakeFiring

CFG = ChannelConfig(
    telegram_token="1:tok-SECRET",
    telegram_chat_ids=("1001", "1002"),
    discord_webhook_url="https://discord.com/api/webhooks/1/d-SECRET",
    webhook_url="http://hooks.local/x",
)


@pytest.fixture(scope="module")
def _store():
    from core.data.store import init_db

    s = init_db("sqlite://")
    yield s
    s.dispose()


@pytest.fixture
def store(_store):
    from core.alerts.delivery_models import AlertChannelState, AlertInbox

    with _store.transaction() as conn:
        for m in (AlertDelivery, AlertInbox, AlertChannelState):
            conn.execute(m.__table__.delete())
    yield _store
    dp.configure(None)


class Script:
    """A fake ``channels.send``: answers from a list per channel, records every call."""

    def __init__(self, answers: dict[str, list[DeliveryResult]] | None = None):
        self.answers = answers or {}
        self.calls: list[tuple[str, str | None, dict]] = []

    def __call__(self, channel, config, firing, **kw):
        self.calls.append((channel, kw.get("target"), firing))
        queue = self.answers.get(channel)
        if queue:
            return queue.pop(0)
        return DeliveryResult(True, channel)


@pytest.fixture
def script(monkeypatch):
    s = Script()
    monkeypatch.setattr("core.alerts.channels.send", s)
    return s


def _rows(store):
    return {(r.channel, r.target): r for r in dp.list_deliveries(store)}


def _due_now(store):
    with store.transaction() as conn:
        conn.execute(
            update(AlertDelivery.__table__)
            .values(next_attempt_at=dt.datetime(2000, 1, 1))
            .where(AlertDelivery.__table__.c.status == "retrying")
        )


def test_dispatch_stores_inapp_and_queues_one_row_per_target(store):
    dp.configure(CFG)
    f = FakeFiring(channels=["inapp", "telegram", "discord", "email"])
    ids = dp.dispatch(store, f)
    rows = _rows(store)
    assert set(rows) == {("telegram", "1001"), ("telegram", "1002"), ("discord", ""), ("email", "")}
    assert len(ids) == 4
    assert rows[("email", "")].status == "skipped"
    assert rows[("email", "")].last_error == "canal não configurado"
    assert rows[("telegram", "1001")].status == "pending"
    st = inapp.bell_state(store)
    assert st.unread == 1 and st.newest.rule_name == f.rule_name and st.newest.ticker == "PETR4"
    # the same firing again (a re-run, a restart): nothing new
    assert dp.dispatch(store, f) == []
    assert len(dp.list_deliveries(store)) == 4 and inapp.unread_count(store) == 1


def test_dispatch_never_raises(store, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("db down")

    monkeypatch.setattr(dp, "enqueue", boom)
    assert dp.dispatch(store, FakeFiring()) == []


def test_inbox_read_state(store):
    for i in (1, 2, 3):
        inapp.send(None, FakeFiring(id=i), store=store, owner="ana" if i == 3 else None)
    assert inapp.unread_count(store) == 3
    assert inapp.unread_count(store, owner="bia") == 2
    assert inapp.mark_read(store, owner="bia") == 2
    assert inapp.unread_count(store) == 1
    assert [x.read for x in inapp.inbox(store)] == [False, True, True]


def test_success_is_sent_once(store, script):
    dp.enqueue(store, FakeFiring(channels=["telegram"]), CFG)
    n = dp.process_due(store, CFG, "telegram", sleep=lambda s: None)
    assert n == 2
    assert {r.status for r in dp.list_deliveries(store)} == {"sent"}
    assert sorted(t for _, t, _ in script.calls) == ["1001", "1002"]
    assert dp.process_due(store, CFG, "telegram", sleep=lambda s: None) == 0


def test_retry_with_bounded_backoff_then_give_up(store, script):
    policy = dp.RetryPolicy(base=5, cap=20, max_attempts=4)
    fail = DeliveryResult(False, "discord", retryable=True, error="HTTP 500")
    script.answers["discord"] = [fail] * 4
    dp.enqueue(store, FakeFiring(channels=["discord"]), CFG, policy=policy)
    waits = []
    for attempt in range(1, 5):
        before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert dp.process_due(store, CFG, "discord", policy=policy, sleep=lambda s: None) == 1
        (row,) = dp.list_deliveries(store)
        assert row.attempts == attempt
        if attempt < 4:
            assert row.status == "retrying" and row.last_error == "HTTP 500"
            waits.append(round((row.next_attempt_at.to_pydatetime() - before).total_seconds()))
            assert dp.process_due(store, CFG, "discord", policy=policy) == 0  # not due yet
            _due_now(store)
    assert waits == [5, 10, 20]
    assert row.status == "failed" and "desistiu após 4 tentativas" in row.last_error


def test_backoff_is_bounded_and_honours_retry_after():
    p = dp.RetryPolicy()
    seq = [dp.backoff_seconds(n, p) for n in range(1, 10)]
    assert seq == [5, 10, 20, 40, 80, 160, 300, 300, 300]
    assert dp.backoff_seconds(1, p, retry_after=42) == 42
    with pytest.raises(ValueError):
        dp.RetryPolicy(base=10, cap=5)


def test_not_retryable_fails_at_once_with_redacted_error(store, script):
    script.answers["discord"] = [
        DeliveryResult(
            False, "discord", error="HTTP 401 for https://discord.com/api/webhooks/1/d-SECRET"
        )
    ]
    dp.enqueue(store, FakeFiring(channels=["discord"]), CFG)
    dp.process_due(store, CFG, "discord")
    (row,) = dp.list_deliveries(store)
    assert row.status == "failed" and row.attempts == 1
    assert "SECRET" not in row.last_error


def test_telegram_rate_limit_one_message_per_second_per_chat(store, script):
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    cfg = ChannelConfig(telegram_token="1:t", telegram_chat_ids=("1001",))
    for i in range(3):
        dp.enqueue(store, FakeFiring(id=i + 1, channels=["telegram"]), cfg)
    lim = dp._Limiter(dp.MIN_INTERVAL)
    assert (
        dp.process_due(store, cfg, "telegram", limiter=lim, clock=lambda: now[0], sleep=sleep) == 3
    )
    assert slept == [pytest.approx(1.05)] * 2


def test_restart_resumes_pending_and_never_resends_sent(store, script):
    dp.enqueue(store, FakeFiring(id=1, channels=["webhook"]), CFG)
    dp.process_due(store, CFG, "webhook")
    dp.enqueue(store, FakeFiring(id=2, channels=["webhook"]), CFG)  # queued, then "crash"
    # a new process: same database, new worker
    dp.dispatch(store, FakeFiring(id=1, channels=["webhook"]))  # e.g. a re-run of the range
    dp.process_due(store, CFG, "webhook", worker_id="new-process")
    sent_ids = [c[2]["id"] for c in script.calls]
    assert sent_ids == [1, 2]
    assert {r.firing_id: r.status for r in dp.list_deliveries(store)} == {1: "sent", 2: "sent"}


def test_a_row_caught_mid_send_by_a_crash_is_not_resent(store, script):
    dp.enqueue(store, FakeFiring(id=5, channels=["webhook"]), CFG)
    t = AlertDelivery.__table__
    with store.transaction() as conn:
        conn.execute(
            update(t).values(status="sending", attempts=1, claimed_at=dt.datetime(2000, 1, 1))
        )
    assert dp.recover_interrupted(store) == 1
    assert dp.process_due(store, CFG, "webhook") == 0
    (row,) = dp.list_deliveries(store)
    assert row.status == "failed" and "interrompido" in row.last_error
    assert script.calls == []


def test_two_workers_never_send_the_same_row(store, script, monkeypatch):
    dp.enqueue(store, FakeFiring(id=9, channels=["webhook"]), CFG)
    stale = dp._due_rows(store, "webhook", 20)  # worker b reads the row as pending ...
    assert dp.process_due(store, CFG, "webhook", worker_id="a") == 1  # ... a sends it ...
    monkeypatch.setattr(dp, "_due_rows", lambda *a: stale)
    assert dp.process_due(store, CFG, "webhook", worker_id="b") == 0  # ... b's claim fails
    assert len(script.calls) == 1


def test_paused_channel_is_skipped_and_resumed(store, script):
    dp.pause_channel(store, "telegram", by="bot")
    assert "telegram" in dp.paused_channels(store)
    dp.enqueue(store, FakeFiring(id=1, channels=["telegram"]), CFG)
    assert {r.status for r in dp.list_deliveries(store)} == {"skipped"}
    dp.resume_channel(store, "telegram")
    dp.enqueue(store, FakeFiring(id=2, channels=["telegram"]), CFG)
    dp.process_due(store, CFG, "telegram", sleep=lambda s: None)
    assert [c[2]["id"] for c in script.calls] == [2, 2]
    past = dt.datetime(2000, 1, 1)
    dp.pause_channel(store, "all", until=past)
    assert dp.paused_channels(store) == {}


def test_send_test_logs_and_statuses(store, script):
    res = dp.send_test(store, CFG, "discord")
    assert res.ok
    (row,) = dp.list_deliveries(store)
    assert row.test and row.status == "sent" and row.firing_id is None
    st = {s.channel: s for s in dp.channel_statuses(store, CFG)}
    assert st["discord"].configured and st["discord"].last_sent_at is not None
    assert not st["email"].configured and st["email"].where == "não configurado"
    assert "SECRET" not in st["discord"].where and "SECRET" not in st["telegram"].where
    assert not dp.send_test(store, CFG, "email").ok
    with pytest.raises(ValueError):
        dp.send_test(store, CFG, "pombo")


def test_settings_build_the_config_and_redact_it():
    from dashboard.settings import SettingsError, load_settings

    env = {
        "PREGAO_DATA_DIR": "/tmp/x",
        "PREGAO_TELEGRAM_TOKEN": "123:tok-SECRET",
        "PREGAO_TELEGRAM_CHAT_ID": "1001, -2002",
        "PREGAO_DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/1/d-SECRET",
        "PREGAO_SMTP_HOST": "smtp.exemplo.com.br",
        "PREGAO_SMTP_PORT": "465",
        "PREGAO_SMTP_USER": "ana",
        "PREGAO_SMTP_PASSWORD": "pw-SECRET",
        "PREGAO_SMTP_FROM": "alertas@exemplo.com.br",
        "PREGAO_SMTP_TO": "ana@exemplo.com.br;bia@exemplo.com.br",
        "PREGAO_WEBHOOK_URL": "https://hooks.exemplo.com/in/KEY-SECRET",
    }
    s = load_settings(env=env, env_file=None)
    cfg = s.channel_config()
    assert cfg.telegram_chat_ids == ("1001", "-2002")
    assert cfg.smtp_to == ("ana@exemplo.com.br", "bia@exemplo.com.br") and cfg.smtp_port == 465
    assert cfg.telegram_api_url == "https://api.telegram.org"
    assert all(cfg.configured(c) for c in ("telegram", "discord", "email", "webhook"))
    assert "SECRET" not in repr(s.redacted())
    with pytest.raises(SettingsError) as e:
        load_settings(
            env={**env, "PREGAO_TELEGRAM_CHAT_ID": "abc", "PREGAO_SMTP_PORT": "x"}, env_file=None
        )
    assert "TELEGRAM_CHAT_ID" in str(e.value) and "SMTP_PORT" in str(e.value)
    assert "SECRET" not in str(e.value)


def test_a_day_old_queued_row_expires_instead_of_being_sent(store, script):
    dp.enqueue(store, FakeFiring(id=11, channels=["webhook"]), CFG)
    with store.transaction() as conn:
        conn.execute(update(AlertDelivery.__table__).values(created_at=dt.datetime(2000, 1, 1)))
    dp.process_due(store, CFG, "webhook")
    (row,) = dp.list_deliveries(store)
    assert row.status == "skipped" and "expirado" in row.last_error and script.calls == []
