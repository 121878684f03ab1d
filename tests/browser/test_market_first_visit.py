"""Issue 11: Mercado's first visit on a fresh data directory paints a placeholder at once and
then the grid (it used to show a blank page for more than 6 s while the first snapshot of
every instrument was computed inside the page's layout).

Regression test: on the old code the page had no placeholder (``#market-loading`` never
appears; the grid arrives with the first paint after the whole computation).
"""

from __future__ import annotations

import pytest

from tests.conftest import start_app, stop_app

pytestmark = pytest.mark.browser

#: Records, from the first script of the document on, the order in which the placeholder,
#: the grid's first row and the treemap appear (a MutationObserver: no polling gap can
#: miss a placeholder that is replaced quickly).
WATCH = """
window.__seen = [];
new MutationObserver(() => {
  const mark = (name, sel) => {
    if (!window.__seen.includes(name) && document.querySelector(sel)) window.__seen.push(name);
  };
  mark('placeholder', '#market-loading');
  mark('grid', '#market-grid .ag-row');
  mark('treemap', '#market-treemap .main-svg');
}).observe(document, {childList: true, subtree: true});
"""


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory):
    """The app started on an EMPTY data directory (it seeds the bundled data itself), with
    the start-up warming off so the first visit really finds a cold read cache."""
    data_dir = tmp_path_factory.mktemp("fresh")
    proc, base = start_app(data_dir, {"PREGAO_WARM": "0", "PREGAO_SCHEDULER": "0"}, timeout=240)
    yield base
    stop_app(proc)


def test_first_visit_paints_a_placeholder_then_the_grid(page, fresh_app):
    page.add_init_script(WATCH)
    page.goto(fresh_app + "/")
    page.wait_for_selector("#market-loading")
    assert "Carregando" in page.inner_text("#market-loading")
    assert page.get_attribute("#market-loading", "aria-busy") == "true"
    page.wait_for_selector('#market-grid .ag-row[row-id="PETR4"]', timeout=120_000)
    assert page.query_selector("#market-loading") is None  # replaced by the page
    assert "Dados até" in page.inner_text("#market-freshness")
    page.wait_for_selector("#market-treemap .main-svg", timeout=60_000)
    seen = page.evaluate("window.__seen")
    assert seen == ["placeholder", "grid", "treemap"], seen
    # a second visit finds the snapshot in the cache: the page comes at once, no placeholder
    page.add_init_script(WATCH)
    page.goto(fresh_app + "/")
    page.wait_for_selector('#market-grid .ag-row[row-id="PETR4"]')
    assert "placeholder" not in page.evaluate("window.__seen")
