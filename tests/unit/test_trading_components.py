"""Builders of the Operações page (components/trading.py): pt-BR texts, raw grid values,
the lot / fractional split, the risk preview naming the rule, seed 002's card and flags."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from components import trading as ct


def _text(component) -> str:
    """All text under a Dash component (children, recursively)."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(_text(c) for c in component)
    return _text(getattr(component, "children", None))


def test_lot_split_names_both_books():
    assert ct.lot_split_text(257, "PETR4") == (
        "257 ações = 2 lotes de 100 (200 ações, PETR4) + 57 no fracionário (PETR4F)"
    )
    assert ct.lot_split_text(100, "VALE3") == "100 ações = 1 lote de 100 (100 ações, VALE3)"
    assert ct.lot_split_text(1, "VALE3") == "1 ação = 1 no fracionário (VALE3F)"
    assert ct.lot_split_text(12_300, "X").startswith("12.300 ações = 123 lotes")
    assert ct.lot_split_text(0, "X") == "" and ct.lot_split_text(None, "X") == ""


def test_risk_form_values_show_fractions_as_percent():
    vals = ct.risk_form_values(
        {"max_drawdown_pct": 0.15, "max_open_positions": 5, "require_stop": False, "window": None}
    )
    assert vals["max_drawdown_pct"] == 15.0
    assert vals["max_open_positions"] == 5
    assert vals["require_stop"] is False and vals["window"] == ""


def test_account_form_writes_each_default_under_its_input():
    form = ct.account_form({"max_drawdown_pct": 0.15, "max_open_positions": 0})
    text = _text(form)
    assert "Padrão: 15,0%." in text  # the seed's kill switch, in pt-BR
    assert "Padrão: desligada." in text  # 0 positions = rule off


def test_risk_preview_shows_core_message_and_value():
    msg = "Ordem rejeitada pela regra 'posição máxima por ativo': posição de R$ 35.000,00."
    box = ct.risk_preview(NS(ok=False, rule="max_position_pct", message=msg), value=35_000.0)
    text = _text(box)
    assert msg in text and "Valor estimado: R$ 35.000,00" in text
    assert box.color == "warning"
    ok = ct.risk_preview(NS(ok=True, rule="", message=""), value=1234.5)
    assert ok.color == "success" and "R$ 1.234,50" in _text(ok)
    assert _text(ct.risk_preview(None)) == ""


def test_error_box_keeps_message_and_no_traceback():
    box = ct.error_box("Quantidade: 0 ações não é válida.", "saldo", "x")
    text = _text(box)
    assert "Quantidade: 0 ações" in text and "Traceback" not in text and box.color == "danger"


def _order(**kw):
    base = dict(
        id=7, client_id=None, account="a", ticker="PETR4", side="buy", type="limit", qty=300,
        filled_qty=100, price=38.5, stop_price=None, status="parcial", reason="", tif="gtc",
        parent_id=None, oco_group=None, avg_fill_price=38.41,
        created_at=pd.Timestamp("2024-11-14 10:05"), updated_at=pd.Timestamp("2024-11-14"),
        source="strategy:wave3",
    )  # fmt: skip
    base.update(kw)
    return NS(**base)


def test_order_rows_raw_values_and_labels():
    (row,) = ct.order_rows([_order()])
    assert row["qtd"] == 300 and row["executada"] == 100 and row["preco"] == 38.5
    assert row["lado"] == "Compra" and row["tipo"] == "Limitada"
    assert row["status"] == "Parcialmente executada" and row["status_code"] == "parcial"
    assert row["validade"] == "Até cancelar" and row["origem"] == "estratégia wave3"
    assert row["criada"] == "2024-11-14 10:05"
    (row,) = ct.order_rows(
        [_order(tif=dt.date(2025, 1, 31), created_at=pd.Timestamp("2024-11-14"))]
    )
    assert row["validade"] == "Até 31/01/2025" and row["criada"] == "2024-11-14"


def test_order_result_reads_in_portuguese():
    alert = ct.order_result(_order(status="executada", filled_qty=300))
    text = _text(alert)
    assert text.startswith("Ordem nº 7: compra 300 PETR4 (limitada a R$ 38,50)")
    assert "R$ 38,41" in text and alert.color == "success"


def test_position_rows_signed_and_return():
    (row,) = ct.position_rows(
        [
            NS(
                ticker="VALE3",
                qty=-200,
                avg_price=60.0,
                last=57.0,
                market_value=-11_400.0,
                unrealized_pnl=600.0,
                realized_pnl=0.0,
            )
        ]  # fmt: skip
    )
    assert row["lado"] == "vendido" and row["qtd"] == -200
    assert row["retorno"] == 5.0  # 600 on 12.000 of cost


def test_position_rows_of_a_win_contract_in_points_and_reais():
    """Issue 14: a WINFUT position reads in contracts and points, its return on the R$ cost
    (points × R$ 0,20 × contracts), not on the points."""
    (row,) = ct.position_rows(
        [
            NS(
                ticker="WINFUT",
                qty=2,
                avg_price=120_000.0,
                last=120_500.0,
                market_value=2 * 120_500 * 0.2,
                unrealized_pnl=200.0,
                realized_pnl=0.0,
            )
        ]  # fmt: skip
    )
    assert row["unidade"] == "contratos · pts" and row["qtd"] == 2
    assert row["preco_medio"] == 120_000.0
    assert row["retorno"] == round(100 * 200.0 / (2 * 120_000 * 0.2), 2)  # 0,42 %, not 0,08 %


def test_fill_rows_value_of_a_win_fill_is_the_notional_in_reais():
    f = NS(id=1, time=pd.Timestamp("2021-09-01 09:35"), order_id=3, ticker="WINFUT",
           side="buy", qty=2, price=119560.0, fees=0.74)  # fmt: skip
    (row,) = ct.fill_rows([f])
    assert row["preco"] == 119560.0 and row["valor"] == round(2 * 119560.0 * 0.20, 2)
    assert row["unidade"] == "contratos · pts"  # not "ações" (the grid and CSV said so)


def test_orders_and_fills_headers_name_contracts_and_points_too():
    grid = ct.orders_grid("o")
    headers = [c["headerName"] for c in grid.columnDefs]
    assert "Qtd. (ações ou contratos)" in headers and "Preço limite (R$ ou pts)" in headers
    assert not [h for h in headers if h.endswith("(ações)")]
    assert ct.FILL_HEADERS["qtd"] == "Qtd. (ações ou contratos)" and "unidade" in ct.FILL_HEADERS


def test_fill_rows_value_is_qty_times_price():
    (row,) = ct.fill_rows(
        [
            NS(
                id=1,
                order_id=7,
                account="a",
                ticker="PETR4",
                side="sell",
                qty=57,
                price=38.12,
                fees=0.65,
                time=pd.Timestamp("2024-11-14"),
            )
        ]  # fmt: skip
    )
    assert row["valor"] == round(57 * 38.12, 2) and row["lado"] == "Venda"
    assert row["unidade"] == "ações · R$"
    assert row["origem"] == "barra do feed"
    (row,) = ct.fill_rows(
        [
            NS(
                id=2,
                order_id=8,
                account="a",
                ticker="PETR4",
                side="buy",
                qty=57,
                price=38.12,
                fees=0.65,
                time=pd.Timestamp("2026-11-30 10:09"),
                market_ticker="PETR4F",
                label="último fechamento de 14/11/2024 (sem feed)",
            )
        ]  # fmt: skip
    )
    assert row["livro"] == "PETR4F" and row["origem"].startswith("último fechamento de 14/11")


def test_ledger_rows_running_balance_and_settlement():
    rows = ct.ledger_rows(
        pd.DataFrame(
            {
                "time": pd.to_datetime(["2024-11-13", "2024-11-14"]),
                "settle_date": pd.to_datetime(["2024-11-13", "2024-11-18"]),
                "kind": ["deposit", "buy"],
                "ticker": [None, "PETR4"],
                "amount": [10_000.0, -3_812.0],
                "description": ["Depósito", "Compra 100 PETR4"],
            }
        )
    )
    assert [r["saldo"] for r in rows] == [10_000.0, 6_188.0]
    assert rows[1]["liquidacao"] == "2024-11-18" and rows[1]["tipo"] == "Compra"


def test_monitor_card_milestones_and_wilson_ci():
    from core.trading.monitor import StatusCard

    card = StatusCard(
        n_trades=18, next_milestone=25, to_milestone=7, wins=13, losses=5, win_rate=13 / 18,
        win_rate_ci=(0.49, 0.87), avg_return_pct=1.2, sharpe=1.8, max_drawdown_pct=-4.2,
        equity=104_500.0, initial_cash=100_000.0, return_pct=4.5,
        last_update=pd.Timestamp("2026-01-26"),
    )  # fmt: skip
    text = _text(ct.monitor_card(card))
    assert "18 / 50" in text and "faltam 7" in text
    assert "72,2% (13 G / 5 P)" in text and "IC 95% (Wilson) 49%–87%" in text
    assert "+1,20%" in text and "-4,2%" in text
    assert "R$ 104.500,00" in text and "+4,5%" in text and "26/01/2026" in text


def test_monitor_card_without_trades_shows_dashes():
    from core.trading.monitor import StatusCard

    card = StatusCard(0, 25, 25, 0, 0, float("nan"), (float("nan"), float("nan")), float("nan"),
                      float("nan"), 0.0, 100_000.0, 100_000.0, 0.0, None)  # fmt: skip
    text = _text(ct.monitor_card(card))
    assert "0 / 50" in text and "nan" not in text.lower() and "0 operações" in text


def test_red_flags_list_each_active_flag():
    flags = [
        NS(code="drawdown", message="Drawdown de 18,2% (limite 15%).", active=True),
        NS(code="sharpe", message="ok", active=False),
    ]
    view = ct.red_flags_view(flags)
    text = _text(view)
    assert "Drawdown de 18,2%" in text and "Sharpe" not in text and view.color == "danger"
    assert ct.red_flags_view([]).color == "success"


def test_ticker_heatmap_months_and_unknowns():
    hm = pd.DataFrame(
        [[-2.0, 3.0], [1.0, np.nan]], index=["PETR4", "VALE3"], columns=["2026-01", "2026-02"]
    )
    fig = ct.ticker_heatmap(hm)
    tr = fig.data[0]
    assert list(tr.x) == ["jan/2026", "fev/2026"] and list(tr.y) == ["PETR4", "VALE3"]
    assert tr.text[0][0] == "-2,0" and tr.text[0][1] == "+3,0" and tr.text[1][1] == "?"
    empty = ct.ticker_heatmap(pd.DataFrame(index=["PETR4"], dtype="float64"))
    assert not empty.data


def test_equity_figure_names_the_account_and_benchmarks():
    idx = pd.date_range("2024-01-02", periods=3)
    eq = pd.Series([100.0, 101.0, 99.0], index=idx)
    bm = pd.DataFrame({"buy_hold": [100.0, 102.0, 103.0], "bvsp": [100.0, 99.0, 98.0]}, index=idx)
    fig = ct.trading_equity_figure(eq, bm)
    assert [t.name for t in fig.data] == ["Conta simulada", "Comprar e segurar", "Ibovespa (^BVSP)"]
    empty = ct.trading_equity_figure(None)
    assert not empty.data


def test_runner_view_progress_done_over_total():
    from core.trading.runner import RunnerStatus

    st = RunnerStatus(
        account="a", strategy="wave3", params={}, tickers=["PETR4", "VALE3"], feed="replay",
        status="rodando", start=pd.Timestamp("2024-05-14"), end=pd.Timestamp("2024-11-14"),
        last_bar=pd.Timestamp("2024-07-03"), bars_done=37, bars_total=125,
    )  # fmt: skip
    view = ct.runner_view(st)
    bar = view.children[0]
    assert bar.value == pytest.approx(29.6) and bar.label == "37 / 125" and bar.animated
    text = _text(view)
    assert "rodando · 37 / 125 pregões · último 03/07/2024" in text
    assert "PETR4, VALE3" in text and "14/05/2024 a 14/11/2024" in text
    assert "Nenhum robô" in _text(ct.runner_view(None))


def test_runner_view_of_an_intraday_replay_counts_bars_with_times():
    """Issue 14: a WINFUT 5-min replay counts bars, not sessions, and shows the bar's time."""
    from core.trading.runner import RunnerStatus

    st = RunnerStatus(
        account="w", strategy="opening_range_breakout", params={}, tickers=["WINFUT"],
        feed="replay", status="rodando", start=pd.Timestamp("2021-09-01"),
        end=pd.Timestamp("2021-09-14"), last_bar=pd.Timestamp("2021-09-01 10:15"),
        bars_done=20, bars_total=856, interval="5min",
    )  # fmt: skip
    assert "20 / 856 barras de 5min · último 01/09/2021 10:15" in _text(ct.runner_view(st))


def _walk(component):
    """Every Dash component under ``component`` (itself included)."""
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from _walk(c)
        return
    if component is None or isinstance(component, (str, int, float)):
        return
    yield component
    yield from _walk(getattr(component, "children", None))


def test_book_tabs_mount_only_the_orders_grid():
    """Regression (issue 12 page load): the page built all five grids of the book at once;
    now only "Ordens" holds a grid and every other tab is an empty body built on opening."""
    import dash_ag_grid as dag

    tabs = ct.book_tabs()
    grids = [c.id for c in _walk(tabs) if isinstance(c, dag.AgGrid)]
    assert grids == ["trading-orders"]
    bodies = {c.id: c.children for c in _walk(tabs) if str(getattr(c, "id", "")).endswith("-body")}
    assert set(bodies) == {f"{t}-body" for t in ct.BOOK_TABS}
    assert all(bodies[f"{t}-body"] == [] for t in ct.LAZY_TABS)
    assert [t.label for t in tabs.children] == [lbl for lbl, _g in ct.BOOK_TABS.values()]


def test_book_tab_body_builds_its_grid_with_the_rows():
    rows = [{"ticker": "PETR4", "qtd": 100}]
    for tab, (_label, grid_id) in ct.BOOK_TABS.items():
        grid = [c for c in _walk(ct.book_tab_body(tab, rows)) if c.__class__.__name__ == "AgGrid"]
        assert [g.id for g in grid] == [grid_id]
        assert grid[0].rowData == rows
    with pytest.raises(ValueError):
        ct.book_tab_body("trading-tab-nada")
