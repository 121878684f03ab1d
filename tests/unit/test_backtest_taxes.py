"""Hand-computed monthly income-tax reports."""

from __future__ import annotations

import pandas as pd
import pytest

from core.backtest.taxes import TaxRules, tax_report, total_tax


def trade(exit_date, pnl, sale, day_trade=False, direction="compra"):
    return {
        "direction": direction,
        "entry_value": sale - pnl,
        "exit_value": sale,
        "pnl": pnl,
        "exit_date": pd.Timestamp(exit_date),
        "day_trade": day_trade,
    }


def report(rows, **kw):
    return tax_report(pd.DataFrame(rows), TaxRules(**kw)).set_index("month")


def test_swing_gain_with_sales_up_to_20k_is_exempt():
    r = report([trade("2024-01-10", 1_500, 19_000), trade("2024-01-20", 500, 1_000)])
    row = r.loc[pd.Period("2024-01")]
    assert row.swing_sales == 20_000 and bool(row.swing_exempt)
    assert row.swing_tax == 0 and row.darf == 0
    # R$ 0,95 and R$ 0,05 of IRRF on the two sale days: R$ 1,00 or less is not withheld
    # (Lei 11.033/2004, art. 2º) — the old report withheld R$ 1,00.
    assert row.withheld == 0.0


def test_swing_gain_above_exemption_pays_15_percent_minus_withholding():
    r = report([trade("2024-02-05", 3_000, 30_000)])
    row = r.loc[pd.Period("2024-02")]
    assert not row.swing_exempt
    assert row.swing_tax == pytest.approx(450.0)
    assert row.withheld == pytest.approx(1.5)
    assert row.darf == pytest.approx(448.5)


def test_losses_carry_forward_by_kind():
    rows = [
        trade("2024-01-10", -1_000, 25_000),  # swing loss
        trade("2024-01-11", -200, 5_000, day_trade=True),  # day-trade loss
        trade("2024-02-10", 1_500, 25_000),  # swing gain, taxable
        trade("2024-02-12", 500, 4_000, day_trade=True),  # day-trade gain
    ]
    r = report(rows)
    jan, feb = r.loc[pd.Period("2024-01")], r.loc[pd.Period("2024-02")]
    assert jan.swing_loss_carried == 1_000 and jan.day_trade_loss_carried == 200
    assert feb.swing_loss_offset == 1_000 and feb.swing_base == 500
    assert feb.swing_tax == pytest.approx(75.0)
    assert feb.day_trade_loss_offset == 200 and feb.day_trade_base == 300
    assert feb.day_trade_tax == pytest.approx(60.0)
    # day-trade withholding: 1 % of the day's positive result (R$ 500)
    assert feb.withheld == pytest.approx(25_000 * 0.00005 + 5.0)
    # January withheld R$ 1,25 (no tax due) is credited in February
    assert feb.darf == pytest.approx(75 + 60 - (25_000 * 0.00005) * 2 - 5.0)


def test_exempt_month_does_not_consume_carried_losses():
    rows = [
        trade("2024-01-10", -1_000, 25_000),
        trade("2024-02-10", 800, 10_000),
        trade("2024-03-10", 2_000, 30_000),
    ]
    r = report(rows)
    assert bool(r.loc[pd.Period("2024-02")].swing_exempt)
    assert r.loc[pd.Period("2024-02")].swing_loss_carried == 1_000
    mar = r.loc[pd.Period("2024-03")]
    assert mar.swing_base == 1_000 and mar.swing_tax == pytest.approx(150)


def test_darf_below_10_reais_is_deferred():
    rows = [trade("2024-01-10", 60, 21_000), trade("2024-02-10", 100, 21_000)]
    r = report(rows, swing_withholding=0.0)
    jan, feb = r.loc[pd.Period("2024-01")], r.loc[pd.Period("2024-02")]
    assert jan.darf == 0 and jan.carried_to_next_month == pytest.approx(9.0)
    assert feb.darf == pytest.approx(15.0 + 9.0)
    assert total_tax(r.reset_index()) == pytest.approx(24.0)


def test_empty_trades_give_empty_report():
    assert len(tax_report(pd.DataFrame())) == 0
