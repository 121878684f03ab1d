"""Monthly Brazilian income tax (IR) on the trades of an individual, by instrument kind.

Rules applied (defaults in :class:`TaxRules`, all configurable)
--------------------------------------------------------------
Sources: Lei nº 11.033/2004 (arts. 2º and 3º), Lei nº 8.668/1993 (art. 18, FII), Lei nº
9.249/1995 (arts. 9º and 10, proventos) and Instrução Normativa RFB nº 1.585/2015 (the
consolidated rules on capital-market income, arts. 56-65), as summarised each year in
Receita Federal's "Perguntas e Respostas IRPF" (chapter "Renda variável").

* **Swing trades** (*operações comuns*) in stocks, ETFs and BDRs: 15 % on the month's net
  gain (Lei 11.033/2004, art. 2º, II).
* **Exemption** (Lei 11.033/2004, art. 3º, I): the net gain on **stocks** (kind ``stock``)
  is exempt in a month whose stock sales total at most R$ 20.000,00. It does not cover ETFs
  (IN RFB 1.585/2015, art. 59, § 2º), BDRs, FIIs or day trades; a loss is never exempt
  and is carried forward.
* **Day-trade sales and the R$ 20.000 test** (decision): the law sums "o valor das
  alienações realizadas em cada mês" in the cash market without excluding day trades, so by
  default day-trade sales of stocks **count** toward the limit
  (``TaxRules.day_trade_sales_count_for_exemption``; the conservative reading — a month
  is never wrongly declared exempt). Set it to False for the narrower reading.
* **Day trades** (bought and sold in the same session, IN RFB 1.585/2015 art. 65): 20 % on
  the month's net gain; the matched quantity of a same-session exit and re-entry is a day
  trade, the rest keeps its average cost (the engine books ``day_trade_pnl`` /
  ``swing_pnl`` per trade).
* **FII** quotas: 20 % on every gain, swing or day trade, no exemption (Lei 8.668/1993,
  art. 18 as amended by Lei 11.033/2004); their losses offset only FII gains.
* **Futures** (kind ``future``: WIN, WDO): swing trades 15 % and day trades 20 % of the
  month's net gain, never exempt (the R$ 20.000 exemption is for stocks only); a day trade
  of futures joins the month's day-trade result of every market, so its losses offset only
  day-trade gains (IN RFB 1.585/2015, arts. 56-57 and 65); 1 % IRRF on each day's positive
  day-trade result. Simplification: the 0,005 % swing withholding is taken on the trade's
  notional at exit instead of on the positive daily settlements (*ajustes*).
* **Indices** are not tradable (the runner refuses them).
* **Losses** are carried forward indefinitely and offset only gains of the same kind
  (swing against swing, day trade against day trade, FII against FII).
* **Withholding** (IRRF, "dedo-duro"): 0,005 % of each day's swing-trade sales (Lei
  11.033/2004, art. 2º, § 1º) and 1 % of each day's positive day-trade result; a
  withholding of R$ 1,00 or less is not made (Lei 11.033/2004, art. 2º). Withheld amounts
  are credited against the month's tax and, when larger, later months'.
* A DARF below R$ 10,00 is not paid; it is added to the next month (Lei nº 9.430/1996,
  art. 68).
* **Proventos are never trading gains**: cash dividends are exempt (Lei 9.249/1995, art.
  10) and JCP is taxed at source at 15 % (art. 9, § 2º), which the engine withholds when it
  credits them; trades' ``pnl`` excludes them (in the adjusted-price mode the runner
  removes the dividends embedded in prices from ``swing_pnl``).
* Costs (fees, brokerage, borrow) reduce the gain: the trades' results are net of them.

Simplifications (stated): the month of a trade is its exit month; the "sale" of a short
trade (its opening sale) counts toward that exit month's sales; withholding credits of all
kinds form one pool; kinds ``fund`` and ``other`` are taxed like ETFs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

from core.backtest.metrics import month_codes, trade_rows, trade_values
from core.frames import frame_from_columns

__all__ = [
    "TaxRules",
    "TAX_COLUMNS",
    "TaxReport",
    "tax_report",
    "build_tax_report",
    "total_tax",
    "monthly_tax_paid",
]

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
    "stock_sales",
    "exempt_gain",
    "fii_result",
    "fii_loss_carried",
    "fii_tax",
)


_FLOAT_TAX_COLUMNS = [c for c in TAX_COLUMNS if c not in ("month", "swing_exempt")]
_MONTHLY = pd.PeriodDtype("M")
_FLOAT_AT = {c: j for j, c in enumerate(_FLOAT_TAX_COLUMNS)}
#: Positions in ``_FLOAT_TAX_COLUMNS`` of the balances a month without exits carries over.
_BALANCES = [
    _FLOAT_TAX_COLUMNS.index(c)
    for c in (
        "swing_loss_carried",
        "day_trade_loss_carried",
        "carried_to_next_month",
        "fii_loss_carried",
    )
]


@dataclass(frozen=True)
class TaxRules:
    """Rates and limits of the monthly IR (fractions; R$)."""

    swing_rate: float = 0.15
    day_trade_rate: float = 0.20
    fii_rate: float = 0.20
    monthly_exemption: float = 20_000.0
    swing_withholding: float = 0.00005
    day_trade_withholding: float = 0.01
    min_withholding: float = 1.0
    min_darf: float = 10.0
    day_trade_sales_count_for_exemption: bool = True


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in TAX_COLUMNS})


def _col(t, name: str, default) -> np.ndarray:
    if name in t:
        return trade_values(t, name)
    return default() if callable(default) else np.full(trade_rows(t), default)


def tax_report(
    trades: pd.DataFrame,
    rules: TaxRules | None = None,
    kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Month-by-month income tax of a list of closed trades.

    Parameters
    ----------
    trades : pandas.DataFrame or mapping of str to array
        Closed trades (a frame, or its columns as arrays (m,)) with at least ``ticker``, ``direction`` ("compra" long / "venda"
        short), ``entry_value``, ``exit_value``, ``pnl`` (R$, net of costs), ``exit_date``
        and ``day_trade`` (bool); optionally the engine's ``swing_pnl``, ``day_trade_pnl``,
        ``sale_value`` and ``day_trade_sale_value`` (partial day trades).
    rules : TaxRules, optional
    kinds : mapping ticker -> instrument kind, optional
        ``stock`` (default), ``etf``, ``bdr``, ``fii``, ``future``, ``fund``, ``other``.

    Returns
    -------
    pandas.DataFrame
        One row per calendar month from the first to the last exit month, columns
        :data:`TAX_COLUMNS`: ``month`` is a ``Period`` ("2024-03"); ``swing_exempt`` a bool;
        ``*_loss_carried`` the loss balances after the month; ``darf`` the tax paid that
        month (R$); ``carried_to_next_month`` a DARF below the minimum deferred.
    """
    return build_tax_report(trades, rules, kinds).frame


@dataclass(frozen=True)
class TaxReport:
    """A monthly tax report with the arrays its totals are computed from.

    Attributes
    ----------
    frame : pandas.DataFrame
        What :func:`tax_report` returns (columns :data:`TAX_COLUMNS`).
    months : numpy.ndarray
        int64 (m,), months since 1970-01 (the ordinals of ``frame["month"]``).
    darf, withheld : numpy.ndarray
        float64 (m,), R$: the columns of the same names.
    pending : float
        ``carried_to_next_month`` of the last month, R$ (0 for an empty report).
    """

    frame: pd.DataFrame
    months: np.ndarray
    darf: np.ndarray
    withheld: np.ndarray
    pending: float

    @classmethod
    def of(cls, report: pd.DataFrame) -> TaxReport:
        """The arrays of a report frame (:func:`tax_report`'s shape)."""
        if len(report) == 0:
            z = np.zeros(0)
            return cls(report, np.zeros(0, dtype=np.int64), z, z, 0.0)
        return cls(
            report,
            pd.PeriodIndex(report["month"], freq="M").asi8,
            report["darf"].to_numpy(dtype="float64"),
            report["withheld"].to_numpy(dtype="float64"),
            float(report["carried_to_next_month"].iloc[-1]),
        )

    def total(self) -> float:
        """Income tax borne, R$ (:func:`total_tax`; sums skip NaN as pandas' do)."""
        if len(self.darf) == 0:
            return 0.0
        return float(_nansum(self.darf)) + float(_nansum(self.withheld)) + self.pending

    def paid(self, index: pd.DatetimeIndex, months: np.ndarray | None = None) -> np.ndarray:
        """Tax leaving the account per bar of the sorted ``index``, R$ (float64 (n,)): the
        values of :func:`monthly_tax_paid`; ``months``: :func:`month_codes` of ``index``
        when the caller has them."""
        vals = np.zeros(len(index))
        if len(self.darf) == 0 or len(index) == 0:
            return vals
        if months is None:
            months = month_codes(pd.DatetimeIndex(index).to_numpy())
        per = months - 1970 * 12
        pos = np.clip(np.searchsorted(per, self.months, side="right") - 1, 0, len(index) - 1)
        np.add.at(vals, pos, self.darf + self.withheld)
        vals[-1] += self.pending
        return vals


def _nansum(a: np.ndarray) -> float:
    """pandas' ``Series.sum()`` of a float array (NaN skipped) with numpy."""
    mask = np.isnan(a)
    return np.where(mask, 0.0, a).sum() if mask.any() else a.sum()


def build_tax_report(
    trades: pd.DataFrame | None,
    rules: TaxRules | None = None,
    kinds: Mapping[str, str] | None = None,
) -> TaxReport:
    """:func:`tax_report` with its totals' arrays (one pass; a backtest's tax report, total
    and monthly payments come from it). Same parameters as :func:`tax_report`.

    Returns
    -------
    TaxReport
    """
    rules = rules or TaxRules()
    if trades is None or trade_rows(trades) == 0:
        return TaxReport.of(_empty())
    exits = trades["exit_date"]
    # a naive DatetimeIndex (the engine's trade arrays): its datetime64 values as they are
    naive_index = isinstance(exits, pd.DatetimeIndex) and exits.tz is None
    exit_np = np.asarray(exits) if naive_index else trade_values(trades, "exit_date")
    if exit_np.dtype.kind != "M":  # not naive datetime64 (any unit is fine): parse
        exit_np = pd.DatetimeIndex(pd.to_datetime(exit_np)).to_numpy()
    dt_flag = trade_values(trades, "day_trade", bool)
    pnl = trade_values(trades, "pnl", "float64")
    if "swing_pnl" in trades:
        sw_pnl = trade_values(trades, "swing_pnl", "float64")
        dt_pnl = trade_values(trades, "day_trade_pnl", "float64")
    else:
        sw_pnl = np.where(dt_flag, 0.0, pnl)
        dt_pnl = np.where(dt_flag, pnl, 0.0)
    if "sale_value" in trades:
        sale = trade_values(trades, "sale_value", "float64")
        dt_sale = trade_values(trades, "day_trade_sale_value", "float64")
    else:
        is_long = trade_values(trades, "direction") == "compra"
        sale = np.where(
            is_long,
            trade_values(trades, "exit_value", "float64"),
            trade_values(trades, "entry_value", "float64"),
        )
        dt_sale = np.where(dt_flag, sale, 0.0)
    sw_sale = sale - dt_sale
    tick = _col(trades, "ticker", "")
    kmap = {str(k).upper(): v for k, v in (kinds or {}).items()}
    # each distinct ticker's kind looked up once (a backtest has a handful of tickers)
    kind_of = {t: kmap.get(str(t).upper(), "stock") for t in set(tick)}
    if len(kind_of) == 1:  # one kind for every trade: constant masks
        (only,) = kind_of.values()
        is_stock = np.full(len(tick), only == "stock")
        is_fii = np.full(len(tick), only == "fii")
    else:
        kind = np.array([kind_of[t] for t in tick], dtype=object)
        is_stock = kind == "stock"
        is_fii = kind == "fii"
    common = ~is_fii

    # year * 12 + month - 1 (numpy calendar months; pandas field access is slow)
    mcode = exit_np.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    m0 = int(mcode.min())
    nm = int(mcode.max()) - m0 + 1
    mi = mcode - m0

    def bc(w):
        return np.bincount(mi, weights=np.asarray(w, dtype="float64"), minlength=nm)

    res_stock = bc(np.where(is_stock, sw_pnl, 0.0))
    res_other = bc(np.where(common & ~is_stock, sw_pnl, 0.0))
    res_dt = bc(np.where(common, dt_pnl, 0.0))
    res_fii = bc(np.where(is_fii, sw_pnl + dt_pnl, 0.0))
    sw_sales = bc(sw_sale)
    stock_sales = bc(
        np.where(
            is_stock,
            sw_sale + (dt_sale if rules.day_trade_sales_count_for_exemption else 0.0),
            0.0,
        )
    )
    # Withholding per sale day (amounts of R$ 1,00 or less are not withheld).
    days = exit_np.astype("datetime64[D]").astype(np.int64)
    if len(days) > 1 and (days[1:] >= days[:-1]).all():  # exits in date order (the engine's)
        first = np.concatenate(([True], days[1:] != days[:-1]))
        uday, inv = days[first], np.cumsum(first) - 1
    else:
        uday, inv = np.unique(days, return_inverse=True)
    w_sw = rules.swing_withholding * np.bincount(inv, weights=sw_sale, minlength=len(uday))
    w_dt = rules.day_trade_withholding * np.maximum(
        np.bincount(inv, weights=dt_pnl, minlength=len(uday)), 0.0
    )
    w_sw = np.where(w_sw > rules.min_withholding, w_sw, 0.0)
    w_dt = np.where(w_dt > rules.min_withholding, w_dt, 0.0)
    day_m = np.zeros(len(uday), dtype=np.int64)
    day_m[inv] = mi
    withheld_m = np.bincount(day_m, weights=w_sw + w_dt, minlength=nm)

    # The month-to-month carry (losses, credits, a deferred DARF) is sequential: one pass on
    # plain floats over the months with an exit (no per-month pandas objects). A month
    # without any exit changes no balance and books nothing: its row is zeros except the
    # balances carried, copied from the month before (a pending DARF stays pending: it is
    # always below ``min_darf``, as it was deferred for being so).
    active = np.flatnonzero(np.bincount(mi, minlength=nm))
    rows = []
    exempt_m = np.zeros(nm, dtype=bool)
    carry_sw = carry_dt = carry_fii = credit = pending = 0.0
    l_stock, l_other, l_dt, l_fii = (
        res_stock[active].tolist(),
        res_other[active].tolist(),
        res_dt[active].tolist(),
        res_fii[active].tolist(),
    )
    l_sws, l_sts, l_wh = (
        sw_sales[active].tolist(),
        stock_sales[active].tolist(),
        withheld_m[active].tolist(),
    )
    limit, min_darf = rules.monthly_exemption, rules.min_darf
    r_sw, r_dt, r_fii = rules.swing_rate, rules.day_trade_rate, rules.fii_rate
    for x in range(len(active)):
        rs, ro = l_stock[x], l_other[x]
        exempt = bool(l_sts[x] <= limit and rs > 0)
        exempt_gain = rs if exempt else 0.0
        net_sw = ro if exempt else rs + ro
        off_sw = base_sw = 0.0
        if net_sw < 0:
            carry_sw += -net_sw
        else:
            off_sw = min(carry_sw, net_sw)
            carry_sw -= off_sw
            base_sw = net_sw - off_sw
        rd = l_dt[x]
        off_dt = base_dt = 0.0
        if rd < 0:
            carry_dt += -rd
        else:
            off_dt = min(carry_dt, rd)
            carry_dt -= off_dt
            base_dt = rd - off_dt
        rf_ = l_fii[x]
        base_fii = 0.0
        if rf_ < 0:
            carry_fii += -rf_
        else:
            off = min(carry_fii, rf_)
            carry_fii -= off
            base_fii = rf_ - off
        tax_sw = r_sw * base_sw
        tax_dt = r_dt * base_dt
        tax_fii = r_fii * base_fii
        withheld = l_wh[x]
        credit += withheld
        due = tax_sw + tax_dt + tax_fii
        used = min(credit, due)
        credit -= used
        darf = due - used + pending
        if darf < min_darf:
            pending, darf = darf, 0.0
        else:
            pending = 0.0
        rows.append(
            (
                l_sws[x],
                rs + ro,
                off_sw,
                carry_sw,
                base_sw,
                tax_sw,
                rd,
                off_dt,
                carry_dt,
                base_dt,
                tax_dt,
                withheld,
                used,
                darf,
                pending,
                l_sts[x],
                exempt_gain,
                rf_,
                carry_fii,
                tax_fii,
            )
        )
        exempt_m[active[x]] = exempt
    width = len(_FLOAT_TAX_COLUMNS)
    table = np.zeros((nm, width))
    # the rows' floats in one flat pass (numpy's nested-sequence discovery is 2× slower)
    flat = np.fromiter(chain.from_iterable(rows), np.float64, len(rows) * width)
    table[active] = flat.reshape(len(rows), width)
    if len(active) < nm:
        last = np.zeros(nm, dtype=np.int64)
        last[active] = active
        last = np.maximum.accumulate(last)
        table[:, _BALANCES] = table[:, _BALANCES][last]
    ordinals = np.arange(m0 - 1970 * 12, m0 - 1970 * 12 + nm, dtype=np.int64)
    months = pd.arrays.PeriodArray(ordinals, dtype=_MONTHLY)
    # one construction, block by block (the same frame as a float table plus two inserts)
    out = frame_from_columns(
        {
            c: months
            if c == "month"
            else exempt_m
            if c == "swing_exempt"
            else table[:, _FLOAT_AT[c]]
            for c in TAX_COLUMNS
        }
    )
    darf_i, wh_i = _FLOAT_TAX_COLUMNS.index("darf"), _FLOAT_TAX_COLUMNS.index("withheld")
    pend_i = _FLOAT_TAX_COLUMNS.index("carried_to_next_month")
    return TaxReport(out, ordinals, table[:, darf_i], table[:, wh_i], float(table[-1, pend_i]))


def total_tax(report: pd.DataFrame) -> float:
    """Income tax borne over the report, R$: DARFs + all withholding + a DARF still pending."""
    return TaxReport.of(report).total()


def monthly_tax_paid(report: pd.DataFrame, index: pd.DatetimeIndex) -> pd.Series:
    """Tax leaving the account per session of ``index`` (R$): each month's withholding and
    DARF on the month's last session in ``index`` (a DARF is due by the last business day of
    the next month; booking it at the month's end is the conservative side), and a DARF still
    pending at the end on the last session.

    Returns
    -------
    pandas.Series
        Same index, R$ ≥ 0 (zeros where nothing is paid).
    """
    return pd.Series(TaxReport.of(report).paid(index), index=index, name="tax")
