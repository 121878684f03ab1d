import math

import pandas as pd
import pytest

from core import textfmt
from core.textfmt import pct


def test_pct_is_pt_br():
    assert pct(0.1437, 1) == "14,4%"
    assert pct(12.3456, 2) == "1.234,56%"
    assert pct(-0.005, 2) == "-0,50%"


def test_numbers_counts_quantities():
    assert textfmt.integer(1087) == "1.087"
    assert textfmt.integer(33010) == "33.010"
    assert textfmt.integer(586.0) == "586"
    assert textfmt.num(1234.5) == "1.234,50"
    assert textfmt.num(-0.0) == "0,00"
    assert textfmt.num(math.inf) == "∞" and textfmt.num(None) == "–"
    assert textfmt.brl(-1234.5) == "-R$ 1.234,50"
    assert textfmt.pct_value(95.3, 1) == "95,3%"
    assert textfmt.compact(33_010_000) == "33,01 mi" and textfmt.compact(2.5e9) == "2,50 bi"
    assert textfmt.compact(950) == "950"


def test_dates_from_strings_timestamps_and_missing():
    assert textfmt.date("2024-11-14") == "14/11/2024"
    assert textfmt.date(pd.Timestamp("2024-11-14 10:30")) == "14/11/2024"
    assert textfmt.date(pd.NaT) == "–" and textfmt.date(None) == "–"
    assert textfmt.datetime("2024-11-14T10:30:05", seconds=True) == "14/11/2024 10:30:05"
    assert textfmt.month(pd.Timestamp("2024-03-01")) == "03/2024"


def test_by_unit_counts_have_no_decimals():
    assert textfmt.by_unit(586, "operações") == "586"
    assert textfmt.by_unit(586.0, "pregões") == "586"
    assert textfmt.by_unit(12.345, "%") == "12,35"
    assert textfmt.by_unit(1234.5, "R$") == "R$ 1.234,50"
    assert textfmt.by_unit(True, "sim/não") == "sim"


def test_engine_message_keeps_its_full_stop():
    """Regression: '.replace(".", ",")' on the sentence gave '(recebido 150%),'."""
    from core.backtest.engine import EngineConfig
    from core.errors import InputError

    with pytest.raises(InputError) as exc:
        EngineConfig(stop_loss=1.5)
    assert str(exc.value).endswith("(recebido 150,00%).") and "%)," not in str(exc.value)


def test_one_implementation_no_sentence_wide_replace():
    """No module formats pt-BR numbers by swapping separators on its own."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("core", "components", "pages", "dashboard"):
        for path in (root / folder).rglob("*.py"):
            if path.name == "textfmt.py":
                continue
            text = path.read_text(encoding="utf-8")
            if '.replace(".", ",")' in text or '.replace(",", "X")' in text:
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
