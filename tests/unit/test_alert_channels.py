"""Alert channels against local fakes of Telegram, Discord, a webhook and SMTP (no internet).

Payloads are compared byte for byte where the service is strict: Telegram's HTML escaping
and Discord's embed.
"""

from __future__ import annotations

import json

import pytest

from core.alerts.channels import ChannelConfig, discord, email, telegram, webhook
from core.alerts.channels.base import firing_dict
from tests.fakes.discord import FakeDiscord, FakeWebhook
from tests.fakes.firing import FakeFiring
from tests.fakes.smtp import FakeSMTP
from tests.fakes.telegram import FakeTelegram, html_error

TOKEN = "123456:TEST-token_abc"


@pytest.fixture
def tg():
    with FakeTelegram(TOKEN, chats=("1001", "-2002")) as srv:
        yield srv


def _cfg(**kw) -> ChannelConfig:
    kw.setdefault("timeout", 2.0)
    return ChannelConfig(**kw)


def test_escape_html_follows_the_bot_api():
    assert telegram.escape_html("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"
    assert telegram.escape_html("R$ 1.234,56 (-2,5%)") == "R$ 1.234,56 (-2,5%)"


def test_escape_markdown_v2_escapes_every_reserved_character():
    assert telegram.escape_markdown_v2("R$ 1.234,56 (-2,5%)!") == "R$ 1\\.234,56 \\(\\-2,5%\\)\\!"
    assert telegram.escape_markdown_v2("_*[]()~`>#+-=|{}.!\\") == "".join(
        "\\" + c for c in "_*[]()~`>#+-=|{}.!\\"
    )


def test_telegram_send_message_bytes(tg):
    f = FakeFiring(rule_name="Cruzamento <MMS> & cia", values={"close": 38.5, "sma(50)": 1234.5})
    res = telegram.send(
        _cfg(telegram_token=TOKEN, telegram_chat_ids=("1001",), telegram_api_url=tg.api_url), f
    )
    assert res.ok, res.error
    assert res.detail == "1"
    (req,) = tg.sends()
    assert req.method == "POST"
    assert req.path == f"/bot{TOKEN}/sendMessage"
    assert req.headers["content-type"] == "application/json; charset=utf-8"
    expected = (
        '{"chat_id":"1001","text":"⚠️ <b>Cruzamento &lt;MMS&gt; &amp; cia · PETR4</b>\\n'
        "PETR4 fechou a R$ 38,50, acima da MMS 50 (R$ 37,12)\\n\\n"
        '• close: <b>38,50</b>\\n• sma(50): <b>1.234,50</b>\\n\\n<i>02/06/2025</i>",'
        '"parse_mode":"HTML","link_preview_options":{"is_disabled":true}}'
    ).encode()
    assert req.body == expected
    assert html_error(json.loads(req.body)["text"]) is None


def test_telegram_unescaped_text_would_be_refused_by_the_fake(tg):
    """The fake refuses what Telegram refuses: proves the escaping test can fail."""
    res = telegram.send_text(
        _cfg(telegram_token=TOKEN, telegram_chat_ids=("1001",), telegram_api_url=tg.api_url),
        "1001",
        "<b>MMS <50> & cia</b>",
    )
    assert not res.ok and not res.retryable
    assert "can't parse entities" in res.error


def test_telegram_errors_are_classified_and_redacted(tg):
    cfg = _cfg(telegram_token=TOKEN, telegram_chat_ids=("999",), telegram_api_url=tg.api_url)
    res = telegram.send(cfg, FakeFiring())
    assert not res.ok and not res.retryable and res.status_code == 400
    assert "chat not found" in res.error
    bad = _cfg(
        telegram_token="999:WRONG-secret", telegram_chat_ids=("1001",), telegram_api_url=tg.api_url
    )
    res = telegram.send(bad, FakeFiring())
    assert res.status_code == 401 and not res.retryable
    assert "WRONG-secret" not in res.error
    tg.fail_next(
        1,
        429,
        json.dumps(
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            }
        ).encode(),
    )
    res = telegram.send(
        cfg.__class__(**{**cfg.__dict__, "telegram_chat_ids": ("1001",)}), FakeFiring()
    )
    assert not res.ok and res.retryable and res.retry_after == 7.0
    tg.fail_next(1, 502, b"<html>Bad Gateway</html>")
    res = telegram.send(
        _cfg(telegram_token=TOKEN, telegram_chat_ids=("1001",), telegram_api_url=tg.api_url),
        FakeFiring(),
    )
    assert not res.ok and res.retryable and res.status_code == 502


def test_telegram_timeout_is_retryable_and_never_shows_the_token(tg):
    tg.hang_next(1, 1.0)
    cfg = _cfg(
        telegram_token=TOKEN, telegram_chat_ids=("1001",), telegram_api_url=tg.api_url, timeout=0.2
    )
    res = telegram.send(cfg, FakeFiring())
    assert not res.ok and res.retryable
    assert "tempo esgotado" in res.error and TOKEN not in res.error


def test_telegram_to_a_closed_port_is_a_retryable_network_failure():
    cfg = _cfg(
        telegram_token=TOKEN, telegram_chat_ids=("1001",), telegram_api_url="http://127.0.0.1:9"
    )
    res = telegram.send(cfg, FakeFiring())
    assert not res.ok and res.retryable and TOKEN not in res.error


def test_discord_embed_bytes():
    with FakeDiscord() as srv:
        res = discord.send(_cfg(discord_webhook_url=srv.webhook_url), FakeFiring())
        assert res.ok and res.status_code == 204
        (req,) = srv.requests
    expected = (
        '{"username":"Pregão","allowed_mentions":{"parse":[]},"embeds":[{'
        '"title":"PETR4 cruza acima da MMS 50 · PETR4",'
        '"description":"PETR4 fechou a R$ 38,50, acima da MMS 50 (R$ 37,12)",'
        '"color":15844367,'
        '"fields":[{"name":"Ativo","value":"PETR4","inline":true},'
        '{"name":"close","value":"38,50","inline":true},'
        '{"name":"sma(50)","value":"37,12","inline":true},'
        '{"name":"Barra","value":"02/06/2025","inline":true}],'
        '"footer":{"text":"Pregão · regra PETR4 cruza acima da MMS 50"},'
        '"timestamp":"2025-06-02T18:45:03+00:00"}]}'
    ).encode()
    assert req.body == expected


@pytest.mark.parametrize(
    "sev,color",
    [("info", 0x3498DB), ("warning", 0xF1C40F), ("critical", 0xE74C3C), ("bogus", 0x3498DB)],
)
def test_discord_colour_by_severity(sev, color):
    assert discord.payload(FakeFiring(severity=sev))["embeds"][0]["color"] == color


def test_discord_limits_are_respected():
    f = FakeFiring(rule_name="x" * 400, message="m" * 5000, values={f"v{i}": i for i in range(40)})
    with FakeDiscord() as srv:
        res = discord.send(_cfg(discord_webhook_url=srv.webhook_url), f)
        assert res.ok, res.error  # the fake enforces Discord's documented limits


def test_discord_rate_limit_and_redaction():
    with FakeDiscord() as srv:
        srv.fail_next(
            1,
            429,
            b'{"message": "You are being rate limited.", "retry_after": 0.5, "global": false}',
        )
        res = discord.send(_cfg(discord_webhook_url=srv.webhook_url), FakeFiring())
        assert not res.ok and res.retryable and res.retry_after == 0.5
        cfg = _cfg(discord_webhook_url=srv.webhook_url.replace("SECRET", "OTHER"))
        res = discord.send(cfg, FakeFiring())
        assert res.status_code == 401 and not res.retryable
        assert "OTHER" not in res.error


def test_webhook_json_and_delivery_header():
    with FakeWebhook() as srv:
        res = webhook.send(_cfg(webhook_url=srv.url), FakeFiring(), delivery_id=42)
        assert res.ok
        (req,) = srv.requests
    assert req.headers["x-pregao-delivery"] == "42"
    body = req.json()
    assert body == {
        "event": "alert.firing",
        "app": "pregao",
        "delivery_id": 42,
        "firing": firing_dict(FakeFiring()),
    }
    assert body["firing"]["bar_time"] == "2025-06-02T00:00:00"
    assert body["firing"]["values"] == {"close": 38.5, "sma(50)": 37.123}


def test_email_is_delivered_with_login():
    with FakeSMTP(auth=("ana", "pw-SECRET")) as srv:
        cfg = _cfg(
            smtp_host="127.0.0.1",
            smtp_port=srv.port,
            smtp_user="ana",
            smtp_password="pw-SECRET",
            smtp_from="alertas@pregao.local",
            smtp_to=("ana@exemplo.com.br", "bia@exemplo.com.br"),
        )
        res = email.send(cfg, FakeFiring())
        assert res.ok, res.error
        (m,) = srv.messages
    assert m["rcpt_tos"] == ["ana@exemplo.com.br", "bia@exemplo.com.br"]
    msg = m["message"]
    assert msg["Subject"] == "[Pregão] PETR4 cruza acima da MMS 50 · PETR4"
    assert msg["From"] == "alertas@pregao.local"
    body = msg.get_content()
    assert "PETR4 fechou a R$ 38,50" in body and "sma(50): 37,12" in body
    assert "Barra: 02/06/2025" in body


def test_email_wrong_password_is_not_retried_and_redacted():
    with FakeSMTP(auth=("ana", "right")) as srv:
        cfg = _cfg(
            smtp_host="127.0.0.1",
            smtp_port=srv.port,
            smtp_user="ana",
            smtp_password="wrong-SECRET",
            smtp_from="a@b.c",
            smtp_to=("d@e.f",),
        )
        res = email.send(cfg, FakeFiring())
    assert not res.ok and not res.retryable and res.status_code == 535
    assert "wrong-SECRET" not in res.error


def test_email_transient_reply_is_retryable():
    with FakeSMTP() as srv:
        srv.fail_next(1, "451 Try again later")
        cfg = _cfg(smtp_host="127.0.0.1", smtp_port=srv.port, smtp_from="a@b.c", smtp_to=("d@e.f",))
        res = email.send(cfg, FakeFiring())
        assert not res.ok and res.retryable and res.status_code == 451
        assert email.send(cfg, FakeFiring()).ok


def test_email_refuses_to_send_a_password_in_clear_to_a_remote_host(monkeypatch):
    import smtplib

    class NoTLS:
        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *a):
            pass

        def ehlo(self):
            pass

        def has_extn(self, name):
            return False

        def login(self, *a):
            raise AssertionError("login without TLS")

        def send_message(self, m):
            raise AssertionError("sent")

    monkeypatch.setattr(smtplib, "SMTP", NoTLS)
    cfg = _cfg(
        smtp_host="smtp.exemplo.com.br",
        smtp_port=587,
        smtp_user="u",
        smtp_password="p",
        smtp_from="a@b.c",
        smtp_to=("d@e.f",),
    )
    res = email.send(cfg, FakeFiring())
    assert not res.ok and "STARTTLS" in res.error


def test_config_redacts_and_describes():
    cfg = ChannelConfig(
        telegram_token=TOKEN,
        telegram_chat_ids=("1001",),
        discord_webhook_url="https://discord.com/api/webhooks/1/tok-SECRET",
        smtp_host="smtp.x",
        smtp_user="u",
        smtp_password="pw-SECRET",
        smtp_from="a@b.c",
        smtp_to=("d@e.f",),
        webhook_url="https://hooks.example.com/in?key=KEY-SECRET",
    )
    text = (
        f"{TOKEN} https://discord.com/api/webhooks/1/tok-SECRET pw-SECRET "
        "https://hooks.example.com/in?key=KEY-SECRET"
    )
    red = cfg.redact(text)
    assert "SECRET" not in red and "TEST-token" not in red
    assert "https://discord.com/***" in red
    for c in ("telegram", "discord", "email", "webhook"):
        assert cfg.configured(c)
        assert "SECRET" not in cfg.describe(c) and "TEST-token" not in cfg.describe(c)
    assert not ChannelConfig().configured("telegram")
    assert ChannelConfig().describe("email") == "não configurado"


def test_email_upgrades_with_starttls_before_login(monkeypatch):
    import smtplib

    calls = []

    class TLSServer:
        def __init__(self, host, port, timeout):
            calls.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *a):
            pass

        def ehlo(self):
            calls.append("ehlo")

        def has_extn(self, name):
            return name == "starttls"

        def starttls(self, context):
            calls.append("starttls")

        def login(self, user, pw):
            calls.append(("login", user))

        def send_message(self, m):
            calls.append("send")
            return {}

    monkeypatch.setattr(smtplib, "SMTP", TLSServer)
    cfg = _cfg(smtp_host="smtp.exemplo.com.br", smtp_port=587, smtp_user="u", smtp_password="p",
               smtp_from="a@b.c", smtp_to=("d@e.f",))  # fmt: skip
    assert email.send(cfg, FakeFiring()).ok
    assert calls == [("connect", "smtp.exemplo.com.br", 587), "ehlo", "starttls", "ehlo",
                     ("login", "u"), "send"]  # fmt: skip
