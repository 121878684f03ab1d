"""CSV exports: pt-BR for Excel by default, the machine format on request."""

from __future__ import annotations

import pandas as pd

from components.export import BOM, csv_text


def _frame():
    return pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-11-14"]),
            "entrada": ["2024-11-13"],
            "close": [1234.5678],
            "volume": [33010.0],
            "ticker": ["PETR4"],
        }
    )


def test_pt_br_by_default():
    text = csv_text(
        _frame(), headers={"date": "Data", "close": "Fechamento"}, decimals={"volume": 0}
    )
    head, row = text.splitlines()
    assert text.startswith(BOM) and head == BOM + "Data;entrada;Fechamento;volume;ticker"
    assert row == "14/11/2024;13/11/2024;1234,57;33010;PETR4"


def test_machine_format_on_request():
    head, row = csv_text(_frame(), headers={"date": "Data"}, machine=True, decimals=6).splitlines()
    assert head == "date,entrada,close,volume,ticker"
    assert row == "2024-11-14,2024-11-13,1234.567800,33010.000000,PETR4"
