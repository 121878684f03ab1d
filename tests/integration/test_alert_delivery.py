"""Alert delivery end to end against local servers: Telegram- and Discord-shaped HTTP
servers, a JSON webhook receiver and an SMTP server (aiosmtpd), with the real worker threads.

A channel answering 500 or hanging past its timeout is retried and logged while the others
deliver; nothing is sent twice after a restart; the Telegram bot answers only its chats.
"""

from __future__ import annotations

import time

import pytest

from core.alerts import dispatch as dp
from core.alerts.bot import TelegramBot
from core.alerts.channels import ChannelConfig
from tests.fakes.discord import FakeDiscord, FakeWebhook
from tests.fakes.firing import FakeFiring
from tests.fakes.smtp import FakeSMTP
from tests.fakes.telegram import FakeTelegram

TOKEN = "555:INTEGRATION-secret"
FAST = dp.RetryPolicy(base=0.2, cap=0.5, max_attempts=5)


@pytest.fixture
def store(store_url):
    from core.data.store import init_db

    s = init_db(store_url)
    yield s
    dp.stop_worker(2)
    dp.configure(None)
    s.dispose()


@pytest.fixture
def services():
    with (
        FakeTelegram(TOKEN, chats=("1001",)) as tg,
        FakeDiscord() as dc,
        FakeWebhook() as wh,
        FakeSMTP() as smtp,
    ):
        cfg = ChannelConfig(
            telegram_token=TOKEN,
            telegram_chat_ids=("1001",),
            telegram_api_url=tg.api_url,
            discord_webhook_url=dc.webhook_url,
            webhook_url=wh.url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_from="alertas@pregao.local",
            smtp_to=("ana@exemplo.com.br",),
            timeout=0.3,
        )
        yield cfg, tg, dc, wh, smtp


def _wait(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


ALL = ["inapp", "telegram", "discord", "email", "webhook"]


def test_failing_and_hanging_channels_are_retried_while_the_others_deliver(store, services):
    cfg, tg, dc, wh, smtp = services
    tg.fail_next(2, 500, b'{"ok":false,"error_code":500,"description":"Internal Server Error"}')
    dc.hang_next(2, 1.5)  # longer than the 0,3 s timeout: the client gives up twice
    dp.start_worker(store, cfg, policy=FAST, poll=0.1, intervals={})
    t0 = time.monotonic()
    ids = dp.dispatch(store, FakeFiring(id=1, channels=ALL))
    returned_after = time.monotonic() - t0
    assert len(ids) == 4
    # webhook and e-mail arrive while Discord is still hanging / backing off
    assert _wait(lambda: wh.requests and smtp.messages)
    discord_rows = dp.list_deliveries(store, channel="discord")
    assert discord_rows[0].status != "sent"
    assert _wait(lambda: all(r.status == "sent" for r in dp.list_deliveries(store)), 20)
    rows = {r.channel: r for r in dp.list_deliveries(store)}
    assert rows["telegram"].attempts == 3 and "HTTP 500" in rows["telegram"].last_error
    assert rows["discord"].attempts == 3 and "tempo esgotado" in rows["discord"].last_error
    assert rows["webhook"].attempts == 1 and rows["email"].attempts == 1
    assert TOKEN not in rows["telegram"].last_error
    assert len(tg.sent) == 1 and len(dc.accepted) == 1 and len(smtp.messages) == 1
    assert returned_after < 1.0  # dispatch never waited for a channel (Discord hangs 1,5 s)


def test_a_channel_that_keeps_failing_gives_up_after_the_bound(store, services):
    cfg, tg, *_ = services
    tg.fail_next(10, 502, b"")
    dp.start_worker(store, cfg, policy=dp.RetryPolicy(base=0.1, cap=0.2, max_attempts=3),
                    poll=0.1, intervals={})  # fmt: skip
    dp.dispatch(store, FakeFiring(id=2, channels=["telegram"]))
    assert _wait(lambda: dp.list_deliveries(store)[0].status == "failed", 10)
    (row,) = dp.list_deliveries(store)
    assert row.attempts == 3 and "desistiu após 3 tentativas" in row.last_error
    assert len(tg.sends()) == 3


def test_no_resend_after_restart(store, services):
    cfg, tg, *_ = services
    dp.start_worker(store, cfg, policy=FAST, poll=0.1, intervals={})
    dp.dispatch(store, FakeFiring(id=1, channels=["telegram"]))
    assert _wait(lambda: len(tg.sent) == 1)
    dp.stop_worker(2)  # the app stops ...
    dp.dispatch(store, FakeFiring(id=2, channels=["telegram"]))  # ... a CLI run queues one
    time.sleep(0.3)
    assert len(tg.sent) == 1
    dp.start_worker(store, cfg, policy=FAST, poll=0.1, intervals={})  # the app starts again
    dp.dispatch(store, FakeFiring(id=1, channels=["telegram"]))  # a re-run of the same range
    assert _wait(lambda: len(tg.sent) == 2)
    time.sleep(0.5)
    assert len(tg.sent) == 2
    assert "Firing" not in tg.sent[1]["text"] and tg.sent[0]["text"] == tg.sent[1]["text"]


def test_telegram_bot_answers_only_authorised_chats(store, services):
    cfg, tg, *_ = services
    bot = TelegramBot(store, cfg, poll_timeout=1).start()
    try:
        tg.push_message("666", "/status")  # a stranger: ignored
        tg.push_message("1001", "/status")
        assert _wait(lambda: len(tg.sent) == 1, 10)
        assert tg.sent[0]["chat_id"] == "1001" and "Status do Pregão" in tg.sent[0]["text"]
        tg.push_message("1001", "/pausar 2")
        assert _wait(lambda: len(tg.sent) == 2, 10)
        assert "pausadas por 2,0 h" in tg.sent[1]["text"]
        assert set(dp.paused_channels(store)) == {"telegram", "discord", "email", "webhook"}
        tg.push_message("1001", "/sinais")
        assert _wait(lambda: len(tg.sent) == 3, 10)
        assert "Nenhum disparo" in tg.sent[2]["text"]
        tg.push_message("1001", "/retomar")
        assert _wait(lambda: len(tg.sent) == 4, 10)
        assert dp.paused_channels(store) == {}
    finally:
        bot.stop(3)
    assert all(m["chat_id"] == "1001" for m in tg.sent)
