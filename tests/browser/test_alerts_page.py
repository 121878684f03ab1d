"""The Alertas page in a real browser: a rule built with the condition builder, "Avaliar
agora" fires it on the newest bars, the bell counts the unread firings, a toast shows on the
page, the history lists them and the firing reaches a local Telegram-shaped server."""

from __future__ import annotations

import shutil
import time

import pytest

from tests.conftest import start_app, stop_app
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.browser

TOKEN = "4242:BROWSER-secret"


@pytest.fixture(scope="module")
def tg():
    with FakeTelegram(TOKEN, chats=("777",)) as srv:
        yield srv


@pytest.fixture(scope="module")
def alerts_app(tmp_path_factory, seeded_sqlite, tg):
    data_dir = tmp_path_factory.mktemp("alerts_app")
    shutil.copy(seeded_sqlite, data_dir / "pregao.db")
    proc, base = start_app(
        data_dir,
        {
            "PREGAO_TELEGRAM_TOKEN": TOKEN,
            "PREGAO_TELEGRAM_CHAT_ID": "777",
            "PREGAO_TELEGRAM_API_URL": tg.api_url,
            "PREGAO_ALERTS_WORKER": "1",
        },
    )
    yield base
    stop_app(proc)


def _pick(page, selector: str, text: str) -> None:
    page.click(selector)
    search = page.wait_for_selector(".dash-dropdown-search")
    search.fill(text)
    page.wait_for_selector(f".dash-dropdown-option >> text={text}").click()
    page.keyboard.press("Escape")


def test_create_rule_evaluate_bell_toast_history_and_telegram(alerts_app, page, tg):
    page.goto(alerts_app + "/alerts")
    page.wait_for_selector("#alerts-save")
    assert page.inner_text("#alerts-bell-count") == ""
    page.fill("#alerts-name", "Ibovespa fechou acima de zero")
    _pick(page, "#alerts-tickers", "^BVSP")
    # builder: Fechamento maior que Número 0
    _pick(page, "#alerts-b-cmp", "maior que")
    _pick(page, "#alerts-b-right", "Número")
    page.fill("#alerts-b-right-params", "0")
    page.click("#alerts-b-insert")
    page.wait_for_function(
        "() => document.querySelector('#alerts-condition').value === 'close > 0'"
    )
    page.wait_for_selector("#alerts-condition-msg.text-success")
    # free text is validated by the server's parser, with the position of the error
    page.fill("#alerts-condition", "close > > 0")
    page.wait_for_selector("#alerts-condition-msg.text-danger")
    assert "posição" in page.inner_text("#alerts-condition-msg")
    page.fill("#alerts-condition", "close > 0")
    page.wait_for_selector("#alerts-condition-msg.text-success")
    page.click("#alerts-channels >> text=Telegram")
    page.click("#alerts-save")
    page.wait_for_selector("#alerts-save-msg >> text=criado")
    assert "Ibovespa fechou acima de zero" in page.inner_text("#alerts-rules-table")

    # replay the last 30 days of stored bars, sending to the channels
    page.click("#alerts-replay-send")
    page.click("#alerts-replay")
    page.wait_for_selector("#alerts-eval-msg >> text=Avaliação concluída")
    n_new = int(page.inner_text("#alerts-eval-msg").split(":")[1].split()[0])
    assert n_new >= 1
    # the bell counts them at once (the page kicks it) and a toast opens on this page
    page.wait_for_function(
        f"() => document.querySelector('#alerts-bell-count')?.innerText === '{n_new}'"
    )
    toast = page.wait_for_selector("#alerts-toast", state="visible")
    assert "Ibovespa fechou acima de zero" in toast.inner_text()
    # the history lists the firings, with their Telegram delivery
    page.click("text=Histórico")
    hist = page.wait_for_selector("#alerts-history-table")
    assert "^BVSP" in hist.inner_text()
    # the delivery worker of the app sent each firing to the local Telegram server
    deadline = time.time() + 30
    while time.time() < deadline and len(tg.sent) < n_new:
        time.sleep(0.2)
    assert len(tg.sent) == n_new
    assert all(m["chat_id"] == "777" and m["parse_mode"] == "HTML" for m in tg.sent)
    assert "Ibovespa fechou acima de zero" in tg.sent[0]["text"]

    # another page: the bell is there with the same count; marking read clears it
    page.goto(alerts_app + "/")
    page.wait_for_function(
        f"() => document.querySelector('#alerts-bell-count')?.innerText === '{n_new}'"
    )
    page.goto(alerts_app + "/alerts")
    page.wait_for_selector("#alerts-mark-read")
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")
    page.click("#alerts-mark-read")
    page.wait_for_selector(f"#alerts-read-msg >> text={n_new} alerta(s) marcado(s)")
    page.wait_for_function("() => document.querySelector('#alerts-bell-count')?.innerText === ''")
    # a second replay of the same period re-sends nothing
    page.click("#alerts-replay-send")
    page.click("#alerts-replay")
    page.wait_for_selector("#alerts-eval-msg >> text=0 disparo(s) novo(s)")
    time.sleep(1.5)
    assert len(tg.sent) == n_new


def test_channels_tab_redacts_and_tests(alerts_app, page, tg):
    page.goto(alerts_app + "/alerts?aba=canais")
    card = page.wait_for_selector("#alerts-channel-telegram")
    text = card.inner_text()
    assert "configurado" in text and "BROWSER-secret" not in text and "777" in text
    assert "não configurado" in page.inner_text("#alerts-channel-discord")
    before = len(tg.sent)
    page.click("#alerts-channel-telegram >> text=Enviar teste")
    page.wait_for_selector("#alerts-test-msg >> text=Teste enviado")
    assert len(tg.sent) == before + 1
    assert "Mensagem de teste" in tg.sent[-1]["text"]


def test_edit_pause_delete_a_rule(alerts_app, page):
    page.goto(alerts_app + "/alerts")
    page.wait_for_selector("#alerts-save")
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")
    page.fill("#alerts-name", "IFR sobrevendido")
    _pick(page, "#alerts-tickers", "VALE3")
    page.fill("#alerts-condition", "rsi(14) < 30")
    page.wait_for_selector("#alerts-condition-msg.text-success")
    page.click("#alerts-save")
    page.wait_for_selector("#alerts-save-msg >> text=criado")
    row = "#alerts-rules-table tr:has-text('IFR sobrevendido')"
    page.click(f"{row} >> text=Pausar")
    page.wait_for_selector(f"{row} >> text=pausado")
    page.click(f"{row} >> text=Editar")
    page.wait_for_function(
        "() => document.querySelector('#alerts-name').value === 'IFR sobrevendido'"
    )
    assert page.input_value("#alerts-condition") == "rsi(14) < 30"
    page.fill("#alerts-name", "IFR abaixo de 25")
    page.fill("#alerts-condition", "rsi(14) < 25")
    page.click("#alerts-save")
    page.wait_for_selector("#alerts-save-msg >> text=atualizado")
    row = "#alerts-rules-table tr:has-text('IFR abaixo de 25')"
    page.wait_for_selector(f"{row} >> text=pausado")  # editing keeps it paused
    assert "IFR sobrevendido" not in page.inner_text("#alerts-rules-table")
    page.click(f"{row} >> text=Excluir")
    page.wait_for_selector("#alerts-save-msg >> text=excluído")
    assert "IFR abaixo de 25" not in page.inner_text("#alerts-rules-table")
