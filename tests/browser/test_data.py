"""Browser test of the Data page (/data): upload a small CSV, preview, import with progress,
see the import log row; the offline "Atualizar" says the source is unreachable."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import start_app, stop_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def data_app(tmp_path_factory, seeded_sqlite):
    """An app of its own: these tests write to the store (other pages' tests share
    ``app_server``)."""
    data_dir = tmp_path_factory.mktemp("data_app")
    shutil.copy(seeded_sqlite, data_dir / "pregao.db")
    proc, base = start_app(data_dir, {"PREGAO_SCHEDULER": "0"})
    yield base
    stop_app(proc)


# A small ProfitChart-style export written for this test (semicolon, decimal comma,
# dd/mm/aaaa) for a ticker that is not in the bundled data.
PROFIT_CSV = (
    "Ativo;Data;Abertura;Máxima;Mínima;Fechamento;Volume;Quantidade\n"
    "TSTE3;02/01/2024;10,00;10,50;9,90;10,20;1.020.000,00;100.000\n"
    "TSTE3;03/01/2024;10,20;10,80;10,10;10,70;1.070.000,00;100.000\n"
    "TSTE3;04/01/2024;10,70;10,90;10,40;10,50;2.100.000,00;200.000\n"
)


def test_upload_preview_import_and_log(page, data_app, tmp_path):
    f = tmp_path / "TSTE3_profit.csv"
    f.write_text(PROFIT_CSV, encoding="utf-8")
    page.goto(data_app + "/data")
    page.wait_for_selector("#data-upload")
    page.set_input_files("#data-upload input[type=file]", str(f))
    page.wait_for_selector("#data-upload-badge")
    page.click("#data-preview-btn")
    page.wait_for_selector("#data-preview-format")
    assert "ProfitChart" in page.inner_text("#data-preview-format")
    assert "TSTE3" in page.inner_text("#data-preview")
    page.click("#data-import-btn")
    page.wait_for_selector("#data-import-alert", timeout=45_000)
    text = page.inner_text("#data-import-alert")
    assert "3 barras novas" in text, text
    # progress reached the end and the log shows the run
    page.wait_for_function(
        "document.querySelector('#data-log') && "
        "document.querySelector('#data-log').innerText.includes('TSTE3_profit.csv')"
    )
    row = page.locator(".data-log-row", has_text="TSTE3_profit.csv").first
    assert "ok" in row.inner_text()
    page.wait_for_function(
        "document.querySelector('#data-progress .progress-bar')"
        ".getAttribute('aria-valuenow') === '100'"
    )
    assert "3 barras novas" in page.inner_text("#data-progress-label")


def test_update_offline_says_unreachable(page, data_app):
    page.goto(data_app + "/data")
    page.click("#data-update-yahoo")
    page.wait_for_selector("#data-update-alert", timeout=45_000)
    assert "inacessível" in page.inner_text("#data-update-alert")
    page.click("#data-update-mt5")
    # the click clears the Yahoo message at once; the MT5 one replaces it
    page.wait_for_function(
        "((document.querySelector('#data-update-alert') || {}).innerText || '')"
        ".includes('MetaTrader 5')"
    )
    text = page.inner_text("#data-update-alert")
    assert "indisponível" in text or "não inicializou" in text


def test_bad_file_shows_file_and_line(page, data_app, tmp_path):
    f = tmp_path / "ruim.csv"
    f.write_text("coluna_a,coluna_b\n1,2\n")
    page.goto(data_app + "/data")
    page.set_input_files("#data-upload input[type=file]", str(f))
    page.wait_for_selector("#data-upload-badge")
    page.click("#data-preview-btn")
    page.wait_for_selector("#data-preview-error")
    assert "ruim.csv, linha 1" in page.inner_text("#data-preview-error")
    page.click("#data-import-btn")
    page.wait_for_selector("#data-import-alert", timeout=45_000)
    text = page.inner_text("#data-import-alert")
    assert "Nada foi gravado" in text and "ruim.csv, linha 1" in text
    page.wait_for_function("document.querySelector('#data-log').innerText.includes('ruim.csv')")
    assert "falhou" in page.locator(".data-log-row", has_text="ruim.csv").first.inner_text()


def test_reimporting_a_changed_file_imports_it_again(page, data_app, tmp_path):
    """End to end: importing the same path again after the file changed imports the change
    (issue 11 saw the previous message back in 0,5 s). The regression test of the result
    cache itself is ``tests/unit/test_background_jobs.py``."""
    f = tmp_path / "TSTF3_profit.csv"
    f.write_text(PROFIT_CSV.replace("TSTE3", "TSTF3"), encoding="utf-8")
    page.goto(data_app + "/data")
    page.fill("#data-path", str(f))
    page.click("#data-import-btn")
    page.wait_for_function(
        "((document.querySelector('#data-import-alert') || {}).innerText || '')"
        ".includes('3 barras novas')",
        timeout=45_000,
    )
    # the file gained a session; the user opens the page again and imports the same path
    # (same form, same first click: the old cache key was the same)
    f.write_text(
        PROFIT_CSV.replace("TSTE3", "TSTF3")
        + "TSTF3;05/01/2024;10,50;10,60;10,30;10,40;1.040.000,00;100.000\n",
        encoding="utf-8",
    )
    page.goto(data_app + "/data")
    page.fill("#data-path", str(f))
    page.click("#data-import-btn")
    page.wait_for_function(
        "((document.querySelector('#data-import-alert') || {}).innerText || '')"
        ".includes('1 barras novas')",
        timeout=45_000,
    )
    assert "3 iguais" in page.inner_text("#data-import-alert")
