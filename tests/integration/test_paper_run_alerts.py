"""``paper run`` delivers the alerts its replay fires before it exits (issue 12).

A rule on PETR4's bars (telegram + in-app) fires during a ``paper run`` replay through
``dashboard.cli.main``; when the command returns, every firing has reached a local
Telegram-shaped server, and the output counts them (``--json``: the new key ``alerts``,
the existing keys unchanged). Before, the firings were only queued: nothing reached
Telegram until the app was opened.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from dashboard.cli import main
from tests.fakes.telegram import FakeTelegram

TOKEN = "555:RUN-secret"
RUN = ["--strategy", "sma_cross", "--tickers", "PETR4", "--params", "fast=3,slow=8"]
WIN = ["--start", "2024-03-01", "--end", "2024-05-31"]


@pytest.fixture
def env(tmp_path, seeded_sqlite, monkeypatch):
    for k in list(os.environ):
        if k.startswith("PREGAO_"):
            monkeypatch.delenv(k)
    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with FakeTelegram(TOKEN, chats=("1001",)) as tg:
        monkeypatch.setenv("PREGAO_TELEGRAM_TOKEN", TOKEN)
        monkeypatch.setenv("PREGAO_TELEGRAM_CHAT_ID", "1001")
        monkeypatch.setenv("PREGAO_TELEGRAM_API_URL", tg.api_url)
        yield tg
    from core.alerts import dispatch

    dispatch.stop_worker(2)
    dispatch.configure(None)


def _rule(capsys, name, cond):
    assert main([
        "alerts", "add", "--name", name, "--ticker", "PETR4", "--condition", cond,
        "--channels", "inapp,telegram",
    ]) == 0  # fmt: skip
    capsys.readouterr()


def test_paper_run_drains_alert_deliveries_before_exit(env, capsys):
    tg = env
    _rule(capsys, "PETR4 cruza acima da MMS 5", "crosses_above(close, sma(5))")
    assert main(["paper", "create", "--name", "p", "--cash", "100000"]) == 0
    capsys.readouterr()
    assert main(["paper", "run", "--account", "p", *RUN, *WIN, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for k in ("account", "strategy", "tickers", "status", "last_bar", "bars_done", "bars_total"):
        assert k in out  # the existing contract
    al = out["alerts"]
    assert out["status"] == "concluído" and al["firings"] >= 2
    # delivered before the command returned: one Telegram message per firing, none queued
    assert len(tg.sent) == al["firings"] == al["sent"]
    assert al["pending"] == al["failed"] == 0
    assert all("PETR4 cruza acima da MMS 5" in m["text"] for m in tg.sent)


def test_paper_run_text_output_counts_deliveries(env, capsys):
    tg = env
    _rule(capsys, "PETR4 cruza abaixo da MMS 5", "crosses_below(close, sma(5))")
    assert main(["paper", "create", "--name", "q", "--cash", "100000"]) == 0
    capsys.readouterr()
    assert main(["paper", "run", "--account", "q", *RUN, *WIN]) == 0
    text = capsys.readouterr().out
    n = len(tg.sent)
    assert n >= 2
    assert f"Alertas: {n} disparos; entregas: {n} enviadas, 0 falharam" in text
