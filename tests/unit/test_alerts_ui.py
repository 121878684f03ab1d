"""Condition builder (picker values -> expression text the parser accepts), the page's
components on plain data, and the Telegram bot's answers (pure function)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from core.alerts import builder as B
from core.alerts.bot import answer
from core.alerts.channels import ChannelConfig
from core.alerts.expr import parse
from core.errors import InputError


@pytest.mark.parametrize(
    "left,lp,cmp,right,rp,text",
    [
        ("close", "", "crosses_above", "sma", "50", "crosses_above(close, sma(50))"),
        ("rsi", "14", "<", "number", "30", "rsi(14) < 30"),
        ("macd_hist", "12;26;9", ">", "number", "0", "macd(12, 26, 9).hist > 0"),
        (
            "close",
            "",
            "crosses_below",
            "bb_lower",
            "20, 2",
            "crosses_below(close, bollinger(20, 2).lower)",
        ),
        ("volume", "", ">=", "volume_sma", "20", "volume >= sma(volume, 20)"),
        ("close", "", "<=", "number", "1,5", "close <= 1.5"),
        ("ema", "", ">", "sma", "", "ema(9) > sma(50)"),  # defaults
    ],
)
def test_builder_writes_text_the_parser_accepts(left, lp, cmp, right, rp, text):
    out = B.condition_text(B.operand_text(left, lp), cmp, B.operand_text(right, rp))
    assert out == text
    parse(out)  # the one parser agrees


def test_builder_joins_and_refuses_bad_params():
    assert B.join("rsi(14) < 30", "close > sma(200)", "and") == "rsi(14) < 30 and close > sma(200)"
    assert B.join("", "close > 1") == "close > 1"
    with pytest.raises(InputError, match="3 parâmetro"):
        B.operand_text("macd", "12, 26")
    with pytest.raises(InputError, match="não é um número"):
        B.operand_text("sma", "abc")
    with pytest.raises(InputError):
        B.condition_text("close", "=>", "open")


def test_components_render_on_plain_data():
    from components.alerts import (
        channel_cards,
        history_table,
        rule_form,
        rules_table,
        toast_children,
    )
    from core.alerts.channels.inapp import InboxItem
    from core.alerts.dispatch import ChannelStatus, DeliveryRecord
    from core.alerts.rules import CHANNELS, Rule

    rule_form(["PETR4"], B.OPERANDS, B.COMPARISONS, list(CHANNELS))
    r = Rule(name="x", tickers=["PETR4"], condition="close > 1", id=3, enabled=False)
    html = str(rules_table([r]))
    assert "Retomar" in html and "pausado" in html
    assert "Nenhum alerta" in str(rules_table([]))

    class F:
        id, rule_name, ticker, message = 1, "x", "PETR4", "msg"
        bar_time, values = pd.Timestamp("2024-11-14"), {"close": 38.5}

    now = pd.Timestamp("2024-11-14 21:00")
    d = DeliveryRecord(1, 1, "telegram", "1001", "retrying", 2, "HTTP 500", "x", "PETR4", "m",
                       now, now, None, now, False)  # fmt: skip
    t = str(history_table([F()], {1: [d]}, {1}))
    assert "Telegram 1001: nova tentativa" in t and "38,50" in t and "14/11/2024" in t
    st = ChannelStatus("telegram", "Telegram", True, "https://api.telegram.org/*** · token ***",
                       None, False, now, "", 0, 1)  # fmt: skip
    assert "Enviar teste" in str(channel_cards([st]))
    item = InboxItem(1, 1, 3, "x", "PETR4", "critical", "msg", pd.Timestamp("2024-11-14"),
                     now, False)  # fmt: skip
    header, body, icon = toast_children(item, more=2)
    assert header == "x · PETR4" and icon == "danger" and "e mais 2" in str(body)


CFG = ChannelConfig(telegram_token="1:t", telegram_chat_ids=("1001",))


def test_bot_ignores_strangers_and_non_commands(empty_store):
    assert answer(empty_store, CFG, "/status", "666") is None
    assert answer(empty_store, CFG, "oi", "1001") is None
    assert "comandos" in answer(empty_store, CFG, "/start", "1001")
    assert "Comando desconhecido" in answer(empty_store, CFG, "/xyz", "1001")


def test_bot_commands(empty_store):
    s = answer(empty_store, CFG, "/status@pregao_bot", "1001")
    assert "Status do Pregão" in s and "banco vazio" in s and "Alertas ativos: 0 de 0" in s
    assert "Nenhum disparo" in answer(empty_store, CFG, "/sinais", "1001")
    assert "Nenhuma conta simulada" in answer(empty_store, CFG, "/posicoes", "1001")
    assert "Use /pausar" in answer(empty_store, CFG, "/pausar abc", "1001")
    assert "até /retomar" in answer(empty_store, CFG, "/pausar", "1001")
    from core.alerts.dispatch import paused_channels

    assert set(paused_channels(empty_store)) == {"telegram", "discord", "email", "webhook"}
    assert "retomadas" in answer(empty_store, CFG, "/retomar", "1001")
    assert paused_channels(empty_store) == {}
    assert dt  # noqa: B018


def test_bell_counts_and_toasts_only_newer_items(empty_store, monkeypatch):
    from dash import no_update

    from core.alerts.channels import inapp
    from dashboard import notifications
    from tests.fakes.firing import FakeFiring

    monkeypatch.setattr("dashboard.runtime.get_store", lambda: empty_store)
    text, style, is_open, *_rest, seen = notifications.bell(0, 0, None)
    assert (text, style["display"], is_open, seen) == ("", "none", no_update, 0)
    inapp.send(None, FakeFiring(id=1), store=empty_store)
    text, style, is_open, *_rest, seen = notifications.bell(1, 0, None)  # page just loaded
    assert text == "1" and style["display"] == "inline-block" and is_open is no_update
    inapp.send(None, FakeFiring(id=2, rule_name="Nova"), store=empty_store)
    text, _s, is_open, header, _body, icon, seen2 = notifications.bell(2, 0, seen)
    assert text == "2" and is_open is True and header.startswith("Nova") and seen2 > seen
    assert notifications.bell(3, 0, seen2)[2] is no_update  # nothing newer: no second toast
