"""Builders of the Backtest page: parameter form, metric cards, figures, grids, HTML report.

Pure functions: plain data in (pandas objects, dicts), Dash components or ``go.Figure`` out;
no I/O, no app. Percent metrics arrive as percent numbers (12.5 = 12,5 %).
"""

from __future__ import annotations

import html as _html

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import html

from components.format import (
    MISSING,
    PLOTLY_DATE,
    fmt_brl,
    fmt_date,
    fmt_datetime,
    fmt_int,
    fmt_num,
    fmt_pct_value,
)
from components.grid import brl_col, date_col, grid, int_col, num_col, pct_col, text_col
from components.inputs import dropdown
from components.labels import bt_objective_label
from components.theme import apply_theme
from core.strategies import choice_label, params_text
from core.textfmt import by_unit

__all__ = [
    "param_form",
    "metric_cards",
    "equity_figure",
    "drawdown_figure",
    "candles_figure",
    "trades_rows",
    "trades_display",
    "TRADE_HEADERS",
    "trades_grid",
    "monthly_heatmap",
    "tax_rows",
    "tax_grid",
    "runs_grid",
    "compare_figure",
    "compare_table",
    "wf_windows_table",
    "heatmap_figure",
    "report_html",
    "MONTHS",
]

MONTHS = ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"]
COLORS = {"strategy": "#0d6efd", "buy_hold": "#6c757d", "bvsp": "#fd7e14", "cdi": "#198754"}
NAMES = {
    "strategy": "Estratégia",
    "buy_hold": "Comprar e segurar",
    "bvsp": "Ibovespa (^BVSP)",
    "cdi": "CDI",
}


def _layout(
    fig: go.Figure, title: str, theme: str | None, height: int = 360, yfmt: str | None = None
) -> go.Figure:
    fig.update_layout(
        title=title,
        height=height,
        margin=dict(l=50, r=20, t=45, b=40),
        legend=dict(orientation="h", y=-0.12, x=0, yanchor="top"),
        hovermode="x unified",
    )
    fig.update_xaxes(hoverformat=PLOTLY_DATE)
    if yfmt:
        fig.update_yaxes(tickformat=yfmt)
    return apply_theme(fig, theme)


# --------------------------------------------------------------------------- form
def param_form(
    params: list[dict], values: dict | None = None, id_type: str = "backtest-param"
) -> list:
    """Inputs for declared strategy parameters (``Param.to_dict()`` dicts).

    Each input has the pattern-matching id ``{"type": id_type, "name": NAME}``.
    """
    values = values or {}
    out = []
    for p in params:
        pid = {"type": id_type, "name": p["name"]}
        v = values.get(p["name"], p["default"])
        label = p["label"]
        if p["kind"] in ("int", "float"):
            rng = (
                f" ({fmt_num(p['low'], 0 if p['kind'] == 'int' else 2)}–"
                f"{fmt_num(p['high'], 0 if p['kind'] == 'int' else 2)})"
            )
            ctl = dbc.Input(
                id=pid,
                type="number",
                value=v,
                min=p["low"],
                max=p["high"],
                step=1 if p["kind"] == "int" else (p["step"] or "any"),
                size="sm",
            )
            label += rng
        elif p["kind"] == "bool":
            ctl = dbc.Switch(id=pid, value=bool(v), label="")
        else:
            ctl = dropdown(
                id=pid,
                options=[{"label": choice_label(c), "value": c} for c in p["choices"]],
                value=v,
                clearable=False,
            )
        out.append(html.Div([dbc.Label(label, className="small mb-0"), ctl], className="mb-2"))
    if not out:
        out.append(html.Div("Sem parâmetros.", className="text-muted small"))
    return out


# --------------------------------------------------------------------------- cards
def _card(title: str, value: str, sub: str = "", color: str | None = None, cid: str = ""):
    extra = {"id": cid} if cid else {}
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(title, className="small text-muted"),
                    html.Div(
                        value,
                        className="fs-5 fw-semibold",
                        style={"color": color} if color else None,
                    ),
                    html.Div(sub, className="small text-muted"),
                ],
                className="p-2",
            ),
            className="h-100",
            **extra,
        ),
        xs=6,
        md=4,
        xl=2,
        className="mb-2",
    )


def _after_tax_equity(m: dict):
    """Final equity after income tax (runs stored before issue 9 lack the key)."""
    v = m.get("after_tax_equity_brl")
    if v is None and m.get("final_equity_brl") is not None:
        v = m["final_equity_brl"] - (m.get("taxes_brl") or 0.0)
    return v


_pct = fmt_pct_value  # backtest metrics arrive in percent (12.5 = 12,5 %)
_num = fmt_num


def metric_cards(m: dict) -> html.Div:
    """Metric cards (return, Sharpe, drawdown, trades, win rate with its 95 % CI, ...)."""
    n = int(m.get("n_trades") or 0)
    win = f"{_pct(m.get('win_rate_pct'))}" if n else MISSING
    ci = (
        f"{n} operações, IC 95% {_pct(m.get('win_rate_ci_low_pct'))}–"
        f"{_pct(m.get('win_rate_ci_high_pct'))}"
        if n
        else "sem operações"
    )
    ret = m.get("total_return_pct")
    cards = [
        _card(
            "Retorno total",
            _pct(ret),
            f"{_pct(m.get('annual_return_pct'))} a.a.",
            # a run that never traded is neither a gain nor a loss: no colour
            "#198754" if (ret or 0) > 0 else ("#dc3545" if (ret or 0) < 0 else None),
            "backtest-card-return",
        ),
        _card(
            "Comprar e segurar",
            _pct(m.get("buy_hold_return_pct")),
            f"Ibovespa {_pct(m.get('bvsp_return_pct'))} · CDI {_pct(m.get('cdi_return_pct'))}",
        ),
        _card("Sharpe (vs CDI)", _num(m.get("sharpe")), f"Sortino {_num(m.get('sortino'))}"),
        _card(
            "Drawdown máximo",
            _pct(m.get("max_drawdown_pct")),
            f"{fmt_int(m.get('max_drawdown_sessions'))} pregões · Calmar {_num(m.get('calmar'))}",
        ),
        _card("Taxa de acerto", win, ci, cid="backtest-card-winrate"),
        _card(
            "Fator de lucro",
            _num(m.get("profit_factor")),
            f"Payoff {_num(m.get('payoff'))} · expectativa {fmt_brl(m.get('expectancy_brl'))}",
        ),
        _card(
            "Patrimônio final",
            fmt_brl(m.get("final_equity_brl")),
            f"antes de IR · inicial {fmt_brl(m.get('initial_equity_brl'))}",
        ),
        _card("Custos pagos", fmt_brl(m.get("costs_brl")), "taxas B3, corretagem, aluguel"),
        _card(
            "IR devido",
            fmt_brl(m.get("taxes_brl")),
            f"patrimônio após IR {fmt_brl(_after_tax_equity(m))}",
        ),
        _card(
            "Proventos",
            fmt_brl(m.get("proventos_brl")),
            f"JCP retido {fmt_brl(m.get('jcp_withheld_brl'))} · "
            f"juros do caixa {fmt_brl(m.get('interest_brl'))}",
        ),
        _card(
            "Exposição média",
            _pct(m.get("exposure_pct")),
            f"giro {_num(m.get('turnover'))}× ao ano",
        ),
        _card(
            "Duração média",
            f"{_num(m.get('avg_holding_sessions'), 1)} pregões",
            f"{fmt_int(m.get('sessions'))} pregões no período",
        ),
        _card("Operações", fmt_int(n), "fechadas"),
    ]
    warn = []
    if m.get("too_few_trades"):
        warn.append(
            dbc.Alert(
                f"Apenas {n} operações: poucas para concluir algo (menos de 30). Veja o "
                "intervalo de confiança da taxa de acerto.",
                color="warning",
                className="py-2 mb-2",
                id="backtest-few-trades",
            )
        )
    return html.Div(warn + [dbc.Row(cards, className="g-2")])


# --------------------------------------------------------------------------- figures
def equity_figure(
    equity: pd.Series,
    benchmarks: pd.DataFrame | None = None,
    title: str = "Patrimônio (R$)",
    theme: str | None = None,
) -> go.Figure:
    """Strategy equity vs buy-and-hold, ^BVSP and CDI, all in R$ from the same cash."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=equity.index,
            y=equity.to_numpy(),
            name=NAMES["strategy"],
            line=dict(color=COLORS["strategy"], width=2),
        )
    )
    if benchmarks is not None:
        for col in ("buy_hold", "bvsp", "cdi"):
            if col in benchmarks and benchmarks[col].notna().any():
                fig.add_trace(
                    go.Scatter(
                        x=benchmarks.index,
                        y=benchmarks[col].to_numpy(),
                        name=NAMES[col],
                        line=dict(
                            color=COLORS[col], width=1.3, dash="dot" if col == "cdi" else None
                        ),
                    )
                )
    fig = _layout(fig, title, theme)
    fig.update_yaxes(tickprefix="R$ ", separatethousands=True)
    return fig


def drawdown_figure(dd: pd.Series, theme: str | None = None) -> go.Figure:
    """Drawdown (fraction ≤ 0) as a filled area, in %."""
    fig = go.Figure(
        go.Scatter(
            x=dd.index,
            y=dd.to_numpy(),
            fill="tozeroy",
            name="Drawdown",
            line=dict(color="#dc3545", width=1),
        )
    )
    return _layout(fig, "Drawdown (%)", theme, height=240, yfmt=".0%")


def candles_figure(
    bars: pd.DataFrame, trades: pd.DataFrame, ticker: str, theme: str | None = None
) -> go.Figure:
    """Candlestick of ``bars`` with each trade's entry (▲ buy / ▼ short) and exit (✕).

    Non-session days are hidden with rangebreaks: weekends, plus weekdays missing from
    ``bars`` (B3 holidays).
    """
    fig = go.Figure(
        go.Candlestick(
            x=bars.index,
            open=bars["open"],
            high=bars["high"],
            low=bars["low"],
            close=bars["close"],
            name=ticker,
            increasing_line_color="#198754",
            decreasing_line_color="#dc3545",
            showlegend=False,
        )
    )
    t = trades[trades["ticker"] == ticker] if len(trades) else trades
    if len(t):
        longs = t["direction"] == "compra"
        for mask, sym, color, name in (
            (longs, "triangle-up", "#0d6efd", "Entrada (compra)"),
            (~longs, "triangle-down", "#6f42c1", "Entrada (venda)"),
        ):
            if mask.any():
                fig.add_trace(
                    go.Scatter(
                        x=t.loc[mask, "entry_date"],
                        y=t.loc[mask, "entry_price"],
                        mode="markers",
                        marker=dict(
                            symbol=sym, size=11, color=color, line=dict(width=1, color="white")
                        ),
                        name=name,
                        customdata=np.c_[t.loc[mask, "shares"].to_numpy()],
                        hovertemplate="Entrada %{x|%d/%m/%Y}<br>R$ %{y:,.2f}<br>%{customdata[0]} "
                        "ações<extra></extra>",
                    )
                )
        win = t["pnl"] > 0
        fig.add_trace(
            go.Scatter(
                x=t["exit_date"],
                y=t["exit_price"],
                mode="markers",
                name="Saída",
                marker=dict(symbol="x", size=10, color=np.where(win, "#198754", "#dc3545")),
                customdata=np.c_[t["pnl"].to_numpy(), t["exit_reason"].to_numpy()],
                hovertemplate="Saída %{x|%d/%m/%Y}<br>R$ %{y:,.2f}<br>Resultado R$ "
                "%{customdata[0]:,.2f} (%{customdata[1]})<extra></extra>",
            )
        )
    breaks = [dict(bounds=["sat", "mon"])]
    if len(bars) > 1:
        wd = pd.bdate_range(bars.index[0], bars.index[-1])
        missing = wd.difference(bars.index)
        if len(missing):
            breaks.append(dict(values=[d.strftime("%Y-%m-%d") for d in missing]))
    fig.update_xaxes(rangebreaks=breaks, rangeslider_visible=False)
    fig = _layout(fig, f"{ticker}: operações no gráfico de candles", theme, height=420)
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(tickprefix="R$ ")
    return fig


def monthly_heatmap(monthly: pd.DataFrame, theme: str | None = None) -> go.Figure:
    """Monthly returns (%) as a year × month heatmap, red to green around zero."""
    z = monthly.to_numpy(dtype="float64") if len(monthly) else np.zeros((0, 12))
    text = [[MISSING if np.isnan(v) else fmt_num(v, 1) for v in row] for row in z]
    lim = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=MONTHS,
            y=[str(y) for y in monthly.index],
            text=text,
            texttemplate="%{text}",
            colorscale="RdYlGn",
            zmid=0,
            zmin=-lim,
            zmax=lim,
            colorbar=dict(title="%"),
            hovertemplate="%{y} %{x}: %{z:.2f}%<extra></extra>",
        )
    )
    fig = _layout(fig, "Retornos mensais (%)", theme, height=max(240, 28 * len(monthly) + 90))
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def heatmap_figure(hm: pd.DataFrame, objective: str, theme: str | None = None) -> go.Figure:
    """Stability heatmap of the objective over two parameters."""
    objective = bt_objective_label(objective)
    fig = go.Figure(
        go.Heatmap(
            z=hm.to_numpy(),
            x=[str(v) for v in hm.columns],
            y=[str(v) for v in hm.index],
            colorscale="Viridis",
            colorbar=dict(title=objective),
            hovertemplate=f"{hm.columns.name}=%{{x}}<br>{hm.index.name}=%{{y}}<br>{objective}="
            "%{z:.3f}<extra></extra>",
        )
    )
    fig = _layout(
        fig,
        f"Estabilidade: {objective} por {hm.columns.name} × {hm.index.name}",
        theme,
        height=380,
    )
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title=hm.columns.name, type="category")
    fig.update_yaxes(title=hm.index.name, type="category")
    return fig


def compare_figure(curves: dict[str, pd.Series], theme: str | None = None) -> go.Figure:
    """Several equity curves rebased to 100 at their start."""
    fig = go.Figure()
    for name, eq in curves.items():
        eq = eq.dropna()
        if len(eq):
            fig.add_trace(go.Scatter(x=eq.index, y=100 * eq / eq.iloc[0], name=name))
    return _layout(fig, "Comparação (base 100)", theme, height=380)


# --------------------------------------------------------------------------- grids
def _iso(d) -> str | None:
    """ISO date, with ``HH:MM`` for an intraday bar (a time other than midnight)."""
    if d is None or d != d:
        return None
    ts = pd.Timestamp(d)
    return ts.strftime("%Y-%m-%d %H:%M" if ts != ts.normalize() else "%Y-%m-%d")


def trades_rows(trades: pd.DataFrame) -> list[dict]:
    """Row dicts for the trades grid: raw numbers, ISO dates (the grid formats them)."""
    if len(trades) == 0:
        return []
    out = []
    for r in trades.itertuples(index=False):
        out.append(
            {
                "ticker": r.ticker,
                "direcao": r.direction,
                "entrada": _iso(r.entry_date),
                "preco_entrada": round(float(r.entry_price), 2),
                "saida": _iso(r.exit_date),
                "preco_saida": round(float(r.exit_price), 2),
                "acoes": int(r.shares),
                "lote": int(r.round_lot_shares),
                "fracionario": int(r.fractional_shares),
                "custos": round(float(r.fees + r.borrow), 2),
                "resultado": round(float(r.pnl), 2),
                "retorno": round(float(r.return_pct), 2),
                "pregoes": _sessions_held(r),
                "proventos": round(float(getattr(r, "proventos", 0.0)), 2),
                "day_trade": _day_trade_label(r),
                "motivo": r.exit_reason,
                # futures (issue 14): prices are in points, the quantity in contracts
                "pontos": _points(getattr(r, "points", None)),
            }
        )
    return out


def _fmt_when(iso: str | None) -> str:
    """``dd/mm/aaaa``, with ``hh:mm`` for an intraday trade (ISO value with a time)."""
    return fmt_datetime(iso) if iso and len(str(iso)) > 10 else fmt_date(iso)


def _sessions_held(r) -> int:
    """Sessions a trade spanned: bars for daily bars; for intraday trades (times other than
    midnight) the weekdays from the entry's day to the exit's (0 for a day trade; B3
    holidays in between are counted — a display approximation)."""
    e, x = pd.Timestamp(r.entry_date), pd.Timestamp(r.exit_date)
    if e == e.normalize() and x == x.normalize():
        return int(r.bars_held)
    return int(np.busday_count(e.date(), x.date()))


def _points(v) -> float | None:
    return None if v is None or v != v else round(float(v), 2)


def _day_trade_label(r) -> str:
    """ "sim" (opened and closed in one session), "parcial" (part of the exit matched by a
    same-session re-entry) or "não"."""
    if not r.day_trade:
        return "não"
    qty = getattr(r, "day_trade_qty", None)
    return "parcial" if qty is not None and 0 < qty < r.shares else "sim"


#: Trades grid columns: (field, pt-BR header) — also the headers of the pt-BR CSV export.
TRADE_HEADERS = {
    "ticker": "Ativo",
    "direcao": "Lado",
    "entrada": "Entrada",
    "preco_entrada": "Preço entrada (R$)",
    "saida": "Saída",
    "preco_saida": "Preço saída (R$)",
    "acoes": "Ações",
    "lote": "Lote padrão",
    "fracionario": "Fracionário",
    "custos": "Custos (R$)",
    "resultado": "Resultado (R$)",
    "retorno": "Retorno (%)",
    "proventos": "Proventos (R$)",
    "pregoes": "Pregões",
    "day_trade": "Day trade",
    "motivo": "Saída por",
    "pontos": "Pontos (futuros)",
}
#: Futures rows (``pontos`` set) show prices in points, not R$.
_PRICE_FMT = (
    "params.data && params.data.pontos != null ? ptNum(params.value, 0) + ' pts' "
    ": ptBRL(params.value, 2)"
)


def trades_display(trades: pd.DataFrame) -> pd.DataFrame:
    """The trades as pt-BR text with Portuguese headers (for the HTML report)."""
    rows = trades_rows(trades)
    money = ("preco_entrada", "preco_saida", "custos", "resultado")
    out = []
    for r in rows:
        d = dict(r)
        d["entrada"], d["saida"] = _fmt_when(r["entrada"]), _fmt_when(r["saida"])
        for k in money:
            d[k] = fmt_num(r[k], 2)
        d["retorno"] = fmt_pct_value(r["retorno"])
        for k in ("acoes", "lote", "fracionario", "pregoes"):
            d[k] = fmt_int(r[k])
        d["pontos"] = "" if r.get("pontos") is None else fmt_num(r["pontos"], 0)
        out.append(d)
    return pd.DataFrame(out, columns=list(TRADE_HEADERS)).rename(columns=TRADE_HEADERS)


def trades_grid(grid_id: str, rows: list[dict] | None = None) -> dag.AgGrid:
    """The trades table: sortable by date and number, numeric filters on raw values."""
    h = TRADE_HEADERS
    cols = [
        text_col("ticker", h["ticker"], width=90),
        text_col("direcao", h["direcao"], width=90),
        date_col("entrada", h["entrada"], valueFormatter={"function": "ptDateTime(params.value)"}),
        brl_col(
            "preco_entrada",
            h["preco_entrada"],
            width=120,
            valueFormatter={"function": _PRICE_FMT},
        ),
        date_col("saida", h["saida"], valueFormatter={"function": "ptDateTime(params.value)"}),
        brl_col(
            "preco_saida", h["preco_saida"], width=120, valueFormatter={"function": _PRICE_FMT}
        ),
        int_col("acoes", h["acoes"], width=100),
        int_col("lote", h["lote"], width=100),
        int_col("fracionario", h["fracionario"], width=125),
        brl_col("custos", h["custos"], width=110),
        brl_col(
            "resultado",
            h["resultado"],
            width=130,
            cellClassRules={"pos": "params.value > 0", "neg": "params.value < 0"},
        ),
        pct_col("retorno", h["retorno"], colored=True, width=110),
        brl_col("proventos", "Proventos (R$)", width=120),
        int_col("pregoes", h["pregoes"], width=100),
        text_col("day_trade", h["day_trade"], width=100),
        text_col("motivo", h["motivo"], width=110),
        num_col("pontos", h["pontos"], width=120),
    ]
    return grid(grid_id, rows, cols, no_rows="Nenhuma operação", page_size=20, height="420px")


def tax_rows(taxes: pd.DataFrame) -> list[dict]:
    """Row dicts for the monthly tax table (month as ``YYYY-MM``, shown ``mm/aaaa``)."""
    out = []
    for r in taxes.itertuples(index=False):
        out.append(
            {
                "mes": r.month.strftime("%Y-%m") if hasattr(r.month, "strftime") else str(r.month),
                "vendas": round(float(r.swing_sales), 2),
                "res_swing": round(float(r.swing_result), 2),
                "isento": "sim" if r.swing_exempt else "não",
                "prej_swing": round(float(r.swing_loss_carried), 2),
                "ir_swing": round(float(r.swing_tax), 2),
                "res_dt": round(float(r.day_trade_result), 2),
                "prej_dt": round(float(r.day_trade_loss_carried), 2),
                "ir_dt": round(float(r.day_trade_tax), 2),
                "irrf": round(float(r.withheld), 2),
                "darf": round(float(r.darf), 2),
            }
        )
    return out


def tax_grid(grid_id: str, rows: list[dict] | None = None) -> dag.AgGrid:
    """The monthly income-tax report table."""
    cols = [
        text_col(
            "mes",
            "Mês",
            width=100,
            pinned="left",
            valueFormatter={"function": "ptMonth(params.value)"},
        ),
        brl_col("vendas", "Vendas swing (R$)"),
        brl_col("res_swing", "Resultado swing (R$)"),
        text_col("isento", "Isento (≤ R$ 20 mil)", width=130),
        brl_col("prej_swing", "Prejuízo a compensar swing (R$)"),
        brl_col("ir_swing", "IR swing 15% (R$)"),
        brl_col("res_dt", "Resultado day trade (R$)"),
        brl_col("prej_dt", "Prejuízo a compensar DT (R$)"),
        brl_col("ir_dt", "IR day trade 20% (R$)"),
        brl_col("irrf", "IRRF retido (R$)"),
        brl_col("darf", "DARF (R$)"),
    ]
    return grid(
        grid_id, rows, cols, no_rows="Sem operações tributáveis", page_size=12, height="360px"
    )


def runs_grid(grid_id: str, rows: list[dict] | None = None) -> dag.AgGrid:
    """Stored runs with multi-row selection (to open or compare)."""
    cols = [
        int_col("id", "Nº", width=90),
        {
            **text_col("criado", "Criado em", width=150),
            "valueFormatter": {"function": "ptDateTime(params.value)"},
        },
        text_col("name", "Nome", flex=1, minWidth=180),
        text_col("strategy", "Estratégia", width=200),
        text_col("tipo", "Tipo", width=150),
        text_col("periodo", "Período", width=200),
        pct_col("total_return_pct", "Retorno (%)", colored=True, width=120),
        num_col("sharpe", "Sharpe", width=100),
        pct_col("max_drawdown_pct", "Drawdown (%)", width=120),
        int_col("n_trades", "Operações", width=110),
        text_col("code_version", "Versão do código", width=150),
    ]
    return grid(
        grid_id,
        rows,
        cols,
        no_rows="Nenhum backtest armazenado",
        height="320px",
        selection={
            "mode": "multiRow",
            "checkboxes": True,
            "headerCheckbox": False,
            "enableClickSelection": True,
        },
    )


def compare_table(
    items: list[tuple[str, dict]], keys: list[str], info: dict[str, tuple[str, str]]
) -> dbc.Table:
    """Metrics side by side: one column per run/strategy, one row per metric."""
    head = html.Thead(html.Tr([html.Th("Métrica")] + [html.Th(n) for n, _ in items]))
    rows = []
    for k in keys:
        label, unit = info.get(k, (k, ""))
        cells = []
        for _, m in items:
            s = by_unit(m.get(k), unit)
            cells.append(html.Td(s, className="text-end"))
        rows.append(html.Tr([html.Td(f"{label} [{unit}]")] + cells))
    return dbc.Table(
        [head, html.Tbody(rows)],
        bordered=False,
        hover=True,
        size="sm",
        striped=True,
        responsive=True,
        id="backtest-compare-table",
    )


def wf_windows_table(
    windows: pd.DataFrame, objective: str, strategy: str | None = None
) -> dbc.Table:
    """In-sample vs out-of-sample per walk-forward window (parameters by their pt-BR labels)."""
    objective = bt_objective_label(objective)
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "Janela",
                    "Treino",
                    "Teste",
                    "Melhores parâmetros",
                    f"{objective} (dentro)",
                    f"{objective} (fora)",
                    "Retorno dentro (%)",
                    "Retorno fora (%)",
                    "Operações fora",
                )
            ]
        )
    )
    body = []
    for r in windows.itertuples(index=False):
        body.append(
            html.Tr(
                [
                    html.Td(r.window),
                    html.Td(f"{fmt_date(r.train_start)} – {fmt_date(r.train_end)}"),
                    html.Td(f"{fmt_date(r.test_start)} – {fmt_date(r.test_end)}"),
                    html.Td(params_text(strategy or "", r.params)),
                    html.Td(_num(r.is_score)),
                    html.Td(_num(r.oos_score)),
                    html.Td(_num(r.is_return_pct)),
                    html.Td(_num(r.oos_return_pct)),
                    html.Td(fmt_int(r.oos_trades)),
                ]
            )
        )
    return dbc.Table(
        [head, html.Tbody(body)], size="sm", striped=True, responsive=True, id="backtest-wf-table"
    )


# --------------------------------------------------------------------------- report
def report_html(
    title: str,
    summary: dict[str, str],
    metrics: list[tuple[str, str, str]],
    figures: list[go.Figure],
    trades: pd.DataFrame,
    plotlyjs: str | bool = "cdn",
) -> str:
    """An HTML report of one backtest: summary, metrics, figures, trades.

    By default the figures load plotly.js (version pinned) from its CDN once, so the file is
    a few hundred kB instead of carrying a 4,8 MB copy of the library; tables and numbers
    read offline. ``plotlyjs=True`` embeds the library (a fully offline file).

    Parameters
    ----------
    summary : dict
        Label -> text (strategy, parameters, period, costs ...).
    metrics : list of (label, value, unit)
    figures : list of go.Figure
    trades : pandas.DataFrame
        Already formatted for display.
    plotlyjs : "cdn" or bool
        How the figures get plotly.js (see above).
    """
    esc = _html.escape
    parts = [
        "<!DOCTYPE html><html lang='pt-BR'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ddd;"
        "padding:.25rem .5rem;text-align:right}th{background:#f3f3f3}"
        "td:first-child{text-align:left}</style></head><body>",
        f"<h1>{esc(title)}</h1><table>",
    ]
    parts += [f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in summary.items()]
    parts.append(
        "</table><h2>Métricas</h2><table><tr><th>Métrica</th><th>Valor</th><th>Unidade</th></tr>"
    )
    parts += [
        f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{esc(c)}</td></tr>" for a, b, c in metrics
    ]
    parts.append("</table>")
    if plotlyjs == "cdn" and figures:
        parts.append(
            "<p style='font-size:.8rem;color:#666'>Os gráficos carregam o plotly.js da "
            "internet (cdn.plot.ly); tabelas e números abrem sem conexão.</p>"
        )
    for i, fig in enumerate(figures):
        fig = go.Figure(fig).update_layout(separators=",.")
        parts.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=plotlyjs if i == 0 else False,
                config={"locale": "pt-BR", "displaylogo": False},
            )
        )
    parts.append("<h2>Operações</h2>")
    parts.append(trades.to_html(index=False, border=0))
    parts.append("</body></html>")
    return "\n".join(parts)
