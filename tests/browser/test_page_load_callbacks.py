"""Issue 11: a page loaded by its address arrives with what its load-time callbacks used to
answer, so no callback round trip (and none waiting on another) sits before its first useful
paint. Only the job-adoption callbacks remain (a page picks up a job still running)."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.browser

#: page -> (selector of its first useful paint, id prefix of its own callbacks)
PAGES = {
    "/backtest": ("#backtest-equity .main-svg", "backtest-"),
    "/portfolio": ("#portfolio-frontier .main-svg", "portfolio-"),
    "/data": ("#data-instruments .ag-row", "data-"),
}


def _idle(page):
    page.wait_for_function("!document.querySelector('[data-dash-is-loading=\"true\"]')")


def _own_callbacks(page, url: str, ready: str, prefix: str) -> list[str]:
    """Outputs of the page's own callbacks (ids starting with ``prefix``) sent while ``url``
    loads until ``ready`` shows and the page is idle, job adoption left out."""
    sent: list[str] = []

    def on_request(req):
        if "/_dash-update-component" in req.url:
            sent.append(str((req.post_data_json or {}).get("output", "")))

    page.on("request", on_request)
    page.goto(url)
    page.wait_for_selector(ready)
    _idle(page)
    page.remove_listener("request", on_request)
    return [o for o in sent if prefix in o and "-progress.value" not in o]


@pytest.mark.parametrize("path", list(PAGES))
def test_page_load_sends_none_of_its_own_callbacks(app_server, page, path):
    ready, prefix = PAGES[path]
    assert _own_callbacks(page, app_server + path, ready, prefix) == []


def test_backtest_arrives_with_its_parameters_and_follows_the_strategy(app_server, page):
    _own_callbacks(page, app_server + "/backtest", *PAGES["/backtest"])
    # the hidden "Comparar" tab draws no empty chart (its chart comes with a comparison;
    # before, every load drew it)
    assert page.query_selector("#backtest-compare-fig") is None
    assert page.query_selector("#backtest-compare-fig-box") is not None
    # nor an AG Grid of stored runs: it is built with its rows when the tab opens
    assert page.query_selector("#backtest-runs") is None
    assert len(page.query_selector_all(".ag-root-wrapper")) == 2  # trades and taxes
    fields = page.query_selector_all('[id*="backtest-param"]')
    assert fields  # the default strategy's parameters came with the page
    assert page.inner_text("#backtest-strategy-doc").strip()
    before = page.inner_text("#backtest-strategy-doc")
    page.click("#backtest-strategy")
    page.get_by_role("listbox").get_by_text("Rompimento (canal de Donchian)").click()
    page.wait_for_function(
        "t => document.querySelector('#backtest-strategy-doc').innerText !== t", arg=before
    )


def test_data_mapping_follows_the_format(app_server, page):
    _own_callbacks(page, app_server + "/data", *PAGES["/data"])
    assert not page.is_visible("#data-mapping")
    page.select_option("#data-format", "csv")
    page.wait_for_selector("#data-mapping", state="visible")


def test_data_grid_fills_after_the_paint_when_the_report_was_not_ready(
    browser, seeded_sqlite, tmp_path
):
    """A just-started app without warming: the layout has no quality report, the page ticks
    once and its grid fills (the refresh no longer fires by itself on load)."""
    from tests.conftest import start_app, stop_app

    shutil.copy(seeded_sqlite, tmp_path / "pregao.db")
    proc, base = start_app(tmp_path, {"PREGAO_WARM": "0", "PREGAO_SCHEDULER": "0"})
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="pt-BR")
    pg = ctx.new_page()
    try:
        pg.goto(base + "/data")
        pg.wait_for_selector("#data-instruments .ag-row", timeout=60_000)
    finally:
        ctx.close()
        stop_app(proc)
