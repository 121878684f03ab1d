"""Operações page in a real browser: create a paper account, send an order, see the
position and the cash ledger; start a replay, see the equity move and a red flag appear."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def _idle(page):
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")


def _grid_rows(page, grid_id: str) -> list[dict]:
    return page.evaluate(
        "id => { const out = []; dash_ag_grid.getApi(id).forEachNode(n => out.push(n.data));"
        " return out; }",
        grid_id,
    )


def _create_account(page, base, name, cash="100000", **risk):
    page.goto(base + "/trading")
    page.wait_for_selector("#trading-new-name", state="attached")
    if not page.is_visible("#trading-new-name"):
        page.click("#trading-new-toggle")
        page.wait_for_selector("#trading-new-name", state="visible")
    page.fill("#trading-new-name", name)
    page.fill("#trading-new-cash", cash)
    for key, value in risk.items():
        page.fill(f'[id*="\\"name\\":\\"{key}\\""][id*="trading-risk"]', str(value))
    _idle(page)
    page.click("#trading-create")
    page.wait_for_selector("#trading-create-ok")
    assert name in page.inner_text("#trading-create-ok")
    # the new account is selected and its cards show the cash in pt-BR
    page.wait_for_selector("#trading-card-equity")


def test_manual_order_shows_position_and_ledger(app_server, page):
    _create_account(page, app_server, "manual-1")
    assert "R$ 100.000,00" in page.inner_text("#trading-card-equity")
    # the ticket: 257 shares split into round lots and the fractional market
    page.fill("#trading-qty", "257")
    page.wait_for_function(
        "document.querySelector('#trading-lot-split').innerText.includes('fracionário')"
    )
    split = page.inner_text("#trading-lot-split")
    assert "2 lotes de 100" in split and "57 no fracionário (PETR4F)" in split
    # the pre-trade risk preview answers before sending
    page.wait_for_selector("#trading-preview-ok, #trading-preview-rejected")
    page.click("#trading-submit")
    page.wait_for_selector("#trading-order-ok")
    assert "Ordem nº" in page.inner_text("#trading-order-ok")
    page.wait_for_selector("#trading-orders .ag-row")
    # the position
    page.get_by_role("tab", name="Posições").click()
    page.wait_for_selector('#trading-positions .ag-row[row-id="PETR4"]')
    row = page.inner_text('#trading-positions .ag-row[row-id="PETR4"]')
    assert "257" in row and "R$" in row
    # the ledger: the deposit and the purchase, settled D+2
    page.get_by_role("tab", name="Extrato de caixa").click()
    page.wait_for_function("document.querySelectorAll('#trading-ledger .ag-row').length >= 2")
    rows = _grid_rows(page, "trading-ledger")
    buy = [r for r in rows if r["ticker"] == "PETR4" and r["valor"] < 0]
    assert buy and rows[0]["valor"] == 100_000.0  # the deposit, then the purchase (a debit)
    assert buy[0]["liquidacao"] > buy[0]["data"][:10]  # settles D+2, after the trade
    assert "-R$" in page.inner_text("#trading-ledger")
    # the fills export: pt-BR CSV for Excel
    with page.expect_download() as dl:
        page.click("#trading-export-fills")
    text = open(dl.value.path(), encoding="utf-8").read()
    assert text.startswith(
        "\ufeffNº;Data/hora;Ordem;Ativo;Lado;Qtd. (ações ou contratos);Unidade;Preço (R$ ou pts)"
    )
    assert "ações · R$" in text  # the unit of every row (contracts · pts for futures)
    assert "PETR4" in text and "Compra" in text
    # a limit order far below the market stays open; select it and cancel it
    page.get_by_role("tab", name="Ordens").click()
    page.select_option("#trading-type", "limit")
    page.fill("#trading-qty", "100")
    page.fill("#trading-price", "1")
    page.fill("#trading-stop-loss", "")
    page.fill("#trading-target", "")
    _idle(page)
    page.click("#trading-submit")
    page.wait_for_function(
        "(document.querySelector('#trading-order-ok') || {}).innerText"
        " && document.querySelector('#trading-order-ok').innerText.includes('limitada')"
    )
    oid = re.search(r"nº (\d+)", page.inner_text("#trading-order-ok")).group(1)
    page.wait_for_selector(f'#trading-orders .ag-row[row-id="{oid}"]')
    # modify it (200 shares at R$ 2,00): the broker answers and the grid shows the new order
    page.click(f'#trading-orders .ag-row[row-id="{oid}"] [col-id="ticker"]')
    page.fill("#trading-mod-qty", "200")
    page.fill("#trading-mod-price", "2")
    _idle(page)
    page.click("#trading-modify")
    page.wait_for_function(
        "id => { let r = null; dash_ag_grid.getApi('trading-orders').forEachNode(n => {"
        " if (String(n.data.id) === id) r = n.data; }); return r && r.qtd === 200"
        " && r.preco === 2; }",
        arg=oid,
    )
    assert f"nº {oid}" in page.inner_text("#trading-mod-alert")
    page.click(f'#trading-orders .ag-row[row-id="{oid}"] [col-id="ticker"]')
    page.click("#trading-cancel-order")
    page.wait_for_function(  # replaces the modification's answer
        "(document.querySelector('#trading-mod-alert') || {}).innerText"
        " && document.querySelector('#trading-mod-alert').innerText.includes('cancelada')"
    )
    page.select_option("#trading-type", "market")
    # a bad order: the error names the field, no traceback
    page.fill("#trading-qty", "0")
    _idle(page)
    page.click("#trading-submit")
    page.wait_for_selector("#trading-order-error")
    err = page.inner_text("#trading-order-error")
    assert "uantidade" in err and "Traceback" not in err
    # kill switch (confirmed): the position is flattened, the account blocked, a new order
    # refused by the risk rule; unblocking lets orders in again
    page.once("dialog", lambda d: d.accept())
    page.click("#trading-kill-button")
    page.wait_for_selector("#trading-blocked")
    assert "Kill switch acionado" in page.inner_text("#trading-account-alert")
    page.get_by_role("tab", name="Posições").click()
    page.wait_for_function(
        "dash_ag_grid.getApi('trading-positions').getDisplayedRowCount() === 0", timeout=60_000
    )
    page.fill("#trading-qty", "100")
    _idle(page)
    page.click("#trading-submit")
    page.wait_for_function(
        "(document.querySelector('#trading-order-error') || {}).innerText"
        " && document.querySelector('#trading-order-error').innerText.includes('bloqueada')"
    )
    page.click("#trading-unblock")
    page.wait_for_selector("#trading-blocked", state="detached")
    assert "desbloqueada" in page.inner_text("#trading-account-alert")
    page.wait_for_selector("#trading-preview-ok")


def _pick(page, dropdown_id: str, label: str):
    page.click(f"#{dropdown_id}")
    page.get_by_role("listbox").get_by_text(label).click()


def test_replay_moves_equity_and_raises_a_red_flag(app_server, page):
    _create_account(page, app_server, "replay-1")
    # a short replay window from the URL (the last sessions of the bundled data)
    page.goto(app_server + "/trading?account=replay-1&replay_start=2024-09-02")
    page.wait_for_selector("#trading-card-equity")
    # buy-and-hold on one ticker: it trades on the first bar, so the equity moves
    _pick(page, "trading-strategy", "Comprar e segurar (referência)")
    page.wait_for_selector("#trading-params >> text=Sem parâmetros.")
    # a strict red-flag threshold (drawdown above 0,1 %) that any held position breaks
    page.click("#trading-flags-summary")
    page.fill('[id*="max_drawdown_pct"][id*="trading-flag"]', "0.1")
    _idle(page)
    page.click("#trading-run")
    # the runner works unattended; the page follows it without reloading
    page.wait_for_function(
        "(document.querySelector('#trading-run-progress-label') || {}).innerText"
        " && document.querySelector('#trading-run-progress-label').innerText"
        ".startsWith('concluído')",
        timeout=240_000,
    )
    assert "pregões" in page.inner_text("#trading-run-progress-label")
    page.click("#trading-flags-apply")
    page.wait_for_selector("#trading-flags", timeout=60_000)
    assert "Drawdown" in page.inner_text("#trading-flags")
    # the equity chart: the account's curve moved off the initial cash, beside ^BVSP (the
    # "#trading-flags" box above may be an earlier refresh's: wait for the finished run's
    # curve instead of reading whatever is drawn at that moment)
    page.wait_for_selector("#trading-equity .scatterlayer .trace")
    page.wait_for_function(
        "() => { const gd = document.querySelector('#trading-equity .js-plotly-plot');"
        " return !!(gd && gd.calcdata && gd.calcdata[0] && gd.calcdata[0].length > 5); }",
        timeout=60_000,
    )
    data = page.evaluate(
        "() => { const gd = document.querySelector('#trading-equity .js-plotly-plot');"
        " return gd.calcdata.map(c => ({name: c[0].trace.name, y: c.map(p => p.y)})); }"
    )
    acct = data[0]
    assert acct["name"] == "Conta simulada" and len(acct["y"]) > 5
    assert len({round(y, 2) for y in acct["y"]}) > 1
    assert any(t["name"].startswith("Ibovespa") for t in data)
    assert "0 / 50" in page.inner_text("#trading-monitor-trades") or "/ 50" in page.inner_text(
        "#trading-monitor-trades"
    )
    # exports of the run: the signal log (pt-BR headers) and seed 002's ML training data
    with page.expect_download() as dl:
        page.click("#trading-export-signals")
    text = open(dl.value.path(), encoding="utf-8").read()
    assert text.startswith("\ufeffData/hora;Estratégia;Ativo;Sinal") and "PETR4" in text
    with page.expect_download() as dl:
        page.click("#trading-export-ml")
    head = open(dl.value.path(), encoding="utf-8").read().splitlines()[0]
    assert "trade_id" in head and "features" in head
    # choosing WINFUT (5-minute bars of 08/2021-05/2022) moves the replay onto its bars
    page.click("#trading-auto-tickers .dash-dropdown-clear")
    page.click("#trading-auto-tickers")
    page.get_by_role("listbox").get_by_text("WINFUT", exact=False).first.click()
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => document.querySelector('#trading-interval').value === '5min'", timeout=30_000
    )
    dates = page.eval_on_selector_all(
        ".dash-datepicker-start-date, .dash-datepicker-end-date", "els => els.map(e => e.value)"
    )
    assert "18/04/2022" in dates and "18/05/2022" in dates, dates


def _own_callbacks(page, base, path: str, ready: str) -> list[str]:
    """Outputs of the page's own callbacks sent while ``path`` loads until ``ready`` shows
    (the page-content and bell callbacks of the app shell are not the page's)."""
    sent: list[str] = []

    def on_request(req):
        if "/_dash-update-component" in req.url:
            sent.append(str((req.post_data_json or {}).get("output", "")))

    page.on("request", on_request)
    page.goto(base + path)
    page.wait_for_selector(ready)
    _idle(page)
    page.remove_listener("request", on_request)
    return [o for o in sent if "trading-" in o]


def test_page_arrives_complete_without_callback_round_trips(app_server, page):
    """Issue 11: the account's cards, the monitor, the ticket's fields and preview and the
    strategy's parameters come with the page (before: five callbacks, two of them chained,
    ran after the page arrived and before its first useful paint)."""
    ready = "#trading-equity .main-svg"
    assert _own_callbacks(page, app_server, "/trading", ready) == []
    assert page.is_visible("#trading-no-account")
    assert page.query_selector_all('[id*="trading-param"]')  # the default strategy's form
    assert not page.is_visible("#trading-price")  # a market order has no limit price
    # the seeded answers are the callbacks' answers: they still follow the inputs
    page.select_option("#trading-type", "limit")
    page.wait_for_selector("#trading-price", state="visible")
    page.fill("#trading-qty", "150")
    page.wait_for_function(
        "document.querySelector('#trading-lot-split').innerText.includes('fracionário')"
    )
    # an account named in the address: its cards and monitor come with the page too
    _create_account(page, app_server, "seeded-1", cash="50000")
    own = _own_callbacks(page, app_server, "/trading?account=seeded-1", ready)
    assert own == []
    assert "R$ 50.000,00" in page.inner_text("#trading-card-equity")
    page.wait_for_selector("#trading-monitor *")
