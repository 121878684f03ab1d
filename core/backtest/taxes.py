"""Monthly Brazilian income tax (IR) on stock trades of an individual.

Rules applied (defaults in :class:`TaxRules`, all configurable)
--------------------------------------------------------------
Sources: Lei nº 11.033/2004 (arts. 2º and 3º) and Instrução Normativa RFB nº 1.585/2015
(the consolidated rules on capital-market income, arts. 56-65), as summarised each year
in Receita Federal's "Perguntas e Respostas IRPF" (chapter "Renda variável").

* **Swing trades** (*operações comuns*): 15 % on the month's net gain (Lei 11.033/2004,
  art. 2º, II). Gains are **exempt** in a month whose total stock sales are at most
  R$ 20.000,00 (Lei 11.033/2004, art. 3º, I). The exemption covers gains only; a loss
  of any month is carried forward.
* **Day trades** (bought and sold in the same session): 20 % on the month's net gain;
  no exemption (IN RFB 1.585/2015).
* **Losses** are carried forward indefinitely and offset only gains of the **same kind**
  (swing against swing, day trade against day trade).
* **Withholding** (IRRF, "dedo-duro"): 0,005 % of each swing-trade sale (Lei 11.033/2004,
  art. 2º, § 1º) and 1 % of each day's positive day-trade result. Withheld amounts are
  credited against the tax due in the month and, when larger, in later months.
* A DARF below R$ 10,00 is not paid; it is added to the next month (Lei nº 9.430/1996,
  art. 68).
* Costs (fees, brokerage, borrow) reduce the gain: the trades' ``pnl`` is net of them.

Simplifications (stated): the month of a trade is its exit month; the "sale" of a short
trade (its opening sale) counts toward that exit month's sales; withholding credits of both
kinds form one pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TaxRules", "TAX_COLUMNS", "tax_report", "total_tax"]

#: Columns of :func:`tax_report` (R$ unless stated).
TAX_COLUMNS: tuple[str, ...] = (
    "month",
    "swing_sales",
    "swing_result",
    "swing_exempt",
    "swing_loss_offset",
    "swing_loss_carried",
    "swing_base",
    "swing_tax",
    "day_trade_result",
    "day_trade_loss_offset",
    "day_trade_loss_carried",
    "day_trade_base",
    "day_trade_tax",
    "withheld",
    "credit_used",
    "darf",
    "carried_to_next_month",
)


@dataclass(frozen=True)
class TaxRules:
    """Rates and limits of the monthly IR on stocks (fractions; R$)."""

    swing_rate: float = 0.15
    day_trade_rate: float = 0.20
    monthly_exemption: float = 20_000.0
    swing_withholding: float = 0.00005
    day_trade_withholding: float = 0.01
    min_darf: float = 10.0


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in TAX_COLUMNS})


def tax_report(trades: pd.DataFrame, rules: TaxRules | None = None) -> pd.DataFrame:
    """Month-by-month income tax of a list of closed trades.

    Parameters
    ----------
    trades : pandas.DataFrame
        Closed trades with at least ``direction`` ("compra" long / "venda" short),
        ``entry_value``, ``exit_value``, ``pnl`` (R$, net of costs), ``exit_date`` and
        ``day_trade`` (bool).
    rules : TaxRules, optional

    Returns
    -------
    pandas.DataFrame
        One row per calendar month from the first to the last exit month, columns
        :data:`TAX_COLUMNS`: ``month`` is a ``Period`` ("2024-03"); ``swing_exempt`` a bool;
        ``*_loss_carried`` the loss balances after the month; ``darf`` the tax paid that
        month (R$); ``carried_to_next_month`` a DARF below the minimum deferred.
    """
    rules = rules or TaxRules()
    if trades is None or len(trades) == 0:
        return _empty()
    t = trades.copy()
    t["exit_date"] = pd.to_datetime(t["exit_date"])
    t["month"] = t["exit_date"].dt.to_period("M")
    is_long = t["direction"].to_numpy() == "compra"
    t["sale_value"] = np.where(is_long, t["exit_value"], t["entry_value"])
    months = pd.period_range(t["month"].min(), t["month"].max(), freq="M")
    carry_sw = carry_dt = credit = pending = 0.0
    rows = []
    for mth in months:
        tm = t[t["month"] == mth]
        sw, dt = tm[~tm["day_trade"].astype(bool)], tm[tm["day_trade"].astype(bool)]
        sales = float(sw["sale_value"].sum())
        res_sw = float(sw["pnl"].sum())
        res_dt = float(dt["pnl"].sum())
        exempt = bool(sales <= rules.monthly_exemption and res_sw > 0)
        off_sw = 0.0
        base_sw = 0.0
        if res_sw < 0:
            carry_sw += -res_sw
        elif not exempt:
            off_sw = min(carry_sw, res_sw)
            carry_sw -= off_sw
            base_sw = res_sw - off_sw
        off_dt = 0.0
        base_dt = 0.0
        if res_dt < 0:
            carry_dt += -res_dt
        else:
            off_dt = min(carry_dt, res_dt)
            carry_dt -= off_dt
            base_dt = res_dt - off_dt
        tax_sw = rules.swing_rate * base_sw
        tax_dt = rules.day_trade_rate * base_dt
        daily_dt = dt.groupby(dt["exit_date"].dt.normalize())["pnl"].sum() if len(dt) else []
        withheld = rules.swing_withholding * sales + rules.day_trade_withholding * float(
            sum(v for v in daily_dt if v > 0)
        )
        credit += withheld
        due = tax_sw + tax_dt
        used = min(credit, due)
        credit -= used
        darf = due - used + pending
        if darf < rules.min_darf:
            pending, darf = darf, 0.0
        else:
            pending = 0.0
        rows.append(
            {
                "month": mth,
                "swing_sales": sales,
                "swing_result": res_sw,
                "swing_exempt": exempt,
                "swing_loss_offset": off_sw,
                "swing_loss_carried": carry_sw,
                "swing_base": base_sw,
                "swing_tax": tax_sw,
                "day_trade_result": res_dt,
                "day_trade_loss_offset": off_dt,
                "day_trade_loss_carried": carry_dt,
                "day_trade_base": base_dt,
                "day_trade_tax": tax_dt,
                "withheld": withheld,
                "credit_used": used,
                "darf": darf,
                "carried_to_next_month": pending,
            }
        )
    return pd.DataFrame(rows, columns=list(TAX_COLUMNS))


def total_tax(report: pd.DataFrame) -> float:
    """Income tax borne over the report, R$: DARFs + all withholding + a DARF still pending."""
    if len(report) == 0:
        return 0.0
    return (
        float(report["darf"].sum())
        + float(report["withheld"].sum())
        + float(report["carried_to_next_month"].iloc[-1])
    )
