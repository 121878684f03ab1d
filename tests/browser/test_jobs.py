"""Long jobs in a real browser: a page left mid-job picks the job up again, "Cancelar" says
"Cancelado", a new run resets the previous label and message, and an identical run is run
again (never served from a cache). The Backtest page's walk-forward is the long job here;
every page's long job goes through the same wiring (dashboard.background.job_callback)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

LABEL = "#backtest-wf-progress-label"


def _label_matches(page, selector: str, pattern: str, timeout: float = 240_000) -> str:
    # generous: a job's first run in a fresh process compiles the numba engine, on a
    # machine shared with other test runs
    page.wait_for_function(
        "([s, p]) => { const el = document.querySelector(s);"
        " return el && new RegExp(p).test(el.innerText); }",
        arg=[selector, pattern],
        timeout=timeout,
    )
    return page.inner_text(selector)


def _open_walk_forward(page, base):
    page.goto(base + "/backtest")
    page.wait_for_selector("#backtest-params input")
    page.get_by_role("tab", name="Walk-forward").click()


def test_leave_mid_job_come_back_cancel_and_run_again(app_server, page):
    _open_walk_forward(page, app_server)
    page.fill("#backtest-wf-windows", "3")
    page.fill("#backtest-wf-trials", "400")  # long enough to leave and come back
    page.click("#backtest-wf-run")
    _label_matches(page, LABEL, r"Janela 1/3")
    # leave the page mid-job, come back
    page.click("#nav-links a:has-text('Mercado')")
    page.wait_for_selector("#market-freshness")
    page.click("#nav-links a:has-text('Backtest')")
    page.wait_for_selector("#backtest-params input")
    page.get_by_role("tab", name="Walk-forward").click()
    # the page picked the running job up: progress moves, Rodar disabled, Cancelar enabled
    first = _label_matches(page, LABEL, r"\d+% · Janela")
    page.wait_for_function(
        "([s, t]) => document.querySelector(s).innerText !== t", arg=[LABEL, first]
    )
    assert page.is_disabled("#backtest-wf-run")
    assert page.is_enabled("#backtest-wf-cancel")
    page.click("#backtest-wf-cancel")
    text = _label_matches(page, LABEL, r"^Cancelado")
    assert "Janela" not in text
    assert page.inner_text("#backtest-wf-progress") == "Cancelado"
    assert page.is_enabled("#backtest-wf-run") and page.is_disabled("#backtest-wf-cancel")

    # a new run starts from a clean slate ...
    page.fill("#backtest-wf-windows", "2")
    page.fill("#backtest-wf-trials", "4")
    page.click("#backtest-wf-run")
    assert "Cancelado" not in _label_matches(page, LABEL, r"^(Iniciando|\d+%|Pronto)")
    done = _label_matches(page, LABEL, r"^Pronto")
    first_id = re.search(r"nº (\d+)", done).group(1)
    page.wait_for_selector("#backtest-wf-saved")
    assert f"nº {first_id}" in page.inner_text("#backtest-wf-saved")
    # ... and the same run again is run again: a new stored backtest, not the old answer
    page.click("#backtest-wf-run")
    _label_matches(page, LABEL, r"^(Iniciando|\d+%)")  # the old "Pronto" is gone at once
    again = _label_matches(page, LABEL, rf"^Pronto: .*nº (?!{first_id}\b)\d+")
    second_id = re.search(r"nº (\d+)", again).group(1)
    assert int(second_id) > int(first_id)
    page.wait_for_function(
        "t => (document.querySelector('#backtest-wf-saved') || {}).innerText"
        " && document.querySelector('#backtest-wf-saved').innerText.includes(t)",
        arg=f"nº {second_id}",
    )


def test_new_run_clears_the_previous_error(app_server, page):
    page.goto(app_server + "/backtest")
    page.wait_for_selector("#backtest-params input")
    page.click("#backtest-strategy")
    page.get_by_role("listbox").get_by_text("Filtro de ML (modelo campeão)").click()
    page.wait_for_selector("text=Estratégia base")
    page.click("#backtest-run")
    _label_matches(page, "#backtest-progress-label", r"^Falhou: .*nenhum modelo")
    page.wait_for_selector("#backtest-alert.show, #backtest-alert:visible")
    page.click("#backtest-strategy")
    page.get_by_role("listbox").get_by_text("Cruzamento de médias (SMA)").click()
    page.wait_for_selector("#backtest-params >> text=Média rápida")
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")
    page.click("#backtest-run")
    # at the click, before the job answers: the old alert and the old label are gone
    page.wait_for_selector("#backtest-alert", state="hidden")
    assert "Falhou" not in page.inner_text("#backtest-progress-label")
    _label_matches(page, "#backtest-progress-label", r"^Pronto: backtest nº \d+")
    page.wait_for_selector("#backtest-result-title")
