"""Browser test of the Data page (/data): upload a small CSV, preview, import with progress,
see the import log row; the offline "Atualizar" says the source is unreachable."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# A small ProfitChart-style export written for this test (semicolon, decimal comma,
# dd/mm/aaaa) for a ticker that is not in the bundled data.
PROFIT_CSV = (
    "Ativo;Data;Abertura;Máxima;Mínima;Fechamento;Volume;Quantidade\n"
    "TSTE3;02/01/2024;10,00;10,50;9,90;10,20;1.020.000,00;100.000\n"
    "TSTE3;03/01/2024;10,20;10,80;10,10;10,70;1.070.000,00;100.000\n"
    "TSTE3;04/01/2024;10,70;10,90;10,40;10,50;2.100.000,00;200.000\n"
)


def test_upload_preview_import_and_log(page, app_server, tmp_path):
    f = tmp_path / "TSTE3_profit.csv"
    f.write_text(PROFIT_CSV, encoding="utf-8")
    page.goto(app_server + "/data")
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
    assert page.locator("#data-progress .progress-bar").get_attribute("aria-valuenow") == "100"


def test_update_offline_says_unreachable(page, app_server):
    page.goto(app_server + "/data")
    page.click("#data-update-yahoo")
    page.wait_for_selector("#data-update-alert", timeout=45_000)
    assert "inacessível" in page.inner_text("#data-update-alert")
