"""``alerts test``, ``alerts run --send`` and ``alerts deliveries`` through ``dashboard.cli.main``
on a copy of the bundled data, against a local Telegram-shaped server and a local SMTP server.

The issue's "done when", from the command line: a rule "PETR4 cruza acima da MMS 50" fires
during a replay of stored bars and each firing reaches Telegram and e-mail exactly once,
even when the replay is run again.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from dashboard.cli import main
from tests.fakes.smtp import FakeSMTP
from tests.fakes.telegram import FakeTelegram

TOKEN = "777:CLI-secret"


@pytest.fixture
def env(tmp_path, seeded_sqlite, monkeypatch):
    for k in list(os.environ):
        if k.startswith("PREGAO_"):
            monkeypatch.delenv(k)
    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with FakeTelegram(TOKEN, chats=("1001",)) as tg, FakeSMTP() as smtp:
        monkeypatch.setenv("PREGAO_TELEGRAM_TOKEN", TOKEN)
        monkeypatch.setenv("PREGAO_TELEGRAM_CHAT_ID", "1001")
        monkeypatch.setenv("PREGAO_TELEGRAM_API_URL", tg.api_url)
        monkeypatch.setenv("PREGAO_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PREGAO_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("PREGAO_SMTP_FROM", "alertas@pregao.local")
        monkeypatch.setenv("PREGAO_SMTP_TO", "ana@exemplo.com.br")
        yield tg, smtp
    from core.alerts import dispatch

    dispatch.stop_worker(2)
    dispatch.configure(None)


def test_alerts_test_channel(env, capsys):
    tg, _smtp = env
    assert main(["alerts", "test", "--channel", "telegram", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["channel"] == "telegram"
    assert TOKEN not in json.dumps(out) and "CLI-secret" not in json.dumps(out)
    assert len(tg.sent) == 1 and "Mensagem de teste" in tg.sent[0]["text"]
    assert main(["alerts", "test", "--channel", "discord"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("erro: o teste por discord falhou") and err.count("\n") == 1


def test_replay_reaches_telegram_and_email_once(env, capsys):
    tg, smtp = env
    assert main([
        "alerts", "add", "--name", "PETR4 cruza acima da MMS 50", "--ticker", "PETR4",
        "--condition", "crosses_above(close, sma(50))", "--channels", "inapp,telegram,email",
    ]) == 0  # fmt: skip
    capsys.readouterr()
    args = ["alerts", "run", "--start", "2024-01-01", "--end", "2024-11-14", "--send", "--json"]
    assert main(args) == 0
    firings = json.loads(capsys.readouterr().out)
    assert firings and all(f["new"] for f in firings)
    assert len(tg.sent) == len(firings) and len(smtp.messages) == len(firings)
    for m in tg.sent:
        assert "PETR4 cruza acima da MMS 50" in m["text"]
    assert main(["alerts", "deliveries", "--json"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert len(log) == 2 * len(firings) and {d["status"] for d in log} == {"sent"}
    # the same replay again: stored once, sent once
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert not any(f["new"] for f in again)
    assert len(tg.sent) == len(firings) and len(smtp.messages) == len(firings)
