"""``python -m dashboard paper``: JSON contract keys, the issue's bad-input list (exit 2, one
line on stderr, nothing half-written), manual trading offline with ``--fill now``."""

from __future__ import annotations

import json

import pytest

from dashboard.cli import main
from tests import trading_helpers as th

paper_template, paper_store = th.paper_template, th.paper_store  # fixtures


@pytest.fixture
def db(paper_store, capsys):
    url = str(paper_store.engine.url)
    assert main(["paper", "create", "--name", "c", "--cash", "100000", "--db", url]) == 0
    capsys.readouterr()
    return url


def _run(capsys, db, *argv):
    rc = main(["paper", *argv, "--db", db])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _counts(store):
    from sqlalchemy import text

    with store.engine.connect() as c:
        return {
            t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in (
                "paper_orders",
                "paper_fills",
                "paper_ledger",
                "paper_positions",
                "paper_order_events",
            )
        }


def test_order_fill_now_then_positions_fills_orders_ledger_json(capsys, db, paper_store):
    rc, out, err = _run(
        capsys,
        db,
        "order",
        "--account",
        "c",
        "--ticker",
        "PETR4",
        "--side",
        "buy",
        "--qty",
        "150",
        "--fill",
        "now",
        "--json",
    )
    assert rc == 0, err
    o = json.loads(out)
    assert o["status"] == "executada" and [f["market_ticker"] for f in o["fills"]] == [
        "PETR4",
        "PETR4F",
    ]
    assert "sem feed" in o["fills"][0]["label"]
    rc, out, _ = _run(capsys, db, "positions", "--account", "c", "--json")
    (p,) = json.loads(out)
    assert list(p)[:6] == ["ticker", "qty", "avg_price", "last", "market_value", "unrealized_pnl"]
    assert p["qty"] == 150 and p["last"] == 10.0
    rc, out, _ = _run(capsys, db, "orders", "--account", "c", "--json")
    assert list(json.loads(out)[0])[:10] == [
        "id",
        "client_id",
        "ticker",
        "side",
        "type",
        "qty",
        "filled_qty",
        "price",
        "status",
        "reason",
    ]
    rc, out, _ = _run(capsys, db, "fills", "--account", "c", "--json")
    assert list(json.loads(out)[0])[:7] == [
        "order_id",
        "ticker",
        "side",
        "qty",
        "price",
        "fees",
        "time",
    ]
    rc, out, _ = _run(capsys, db, "ledger", "--account", "c", "--json")
    assert [r["kind"] for r in json.loads(out)] == ["deposit", "buy", "fee"]
    rc, out, _ = _run(capsys, db, "list", "--json")
    assert json.loads(out)[0]["name"] == "c"
    rc, out, _ = _run(capsys, db, "positions", "--account", "c")
    assert "PETR4: 150 ações" in out


BAD = [
    (["--ticker", "PETR9", "--qty", "100"], "não encontrado"),
    (["--qty", "0"], "positiva"),
    (["--qty", "-100"], "positiva"),
    (["--qty", "1.5"], "inteira"),
    (["--ticker", "PETR4F", "--qty", "150"], "fracionário"),
    (["--qty", "100", "--type", "limit", "--price", "-5"], "positivo"),
    (["--qty", "100", "--type", "limit", "--price", "10.005"], "tick"),
    (["--qty", "100", "--tif", "2024-12-25"], "pregão"),
    (["--qty", "100", "--side", "hold"], "Lado"),
]


@pytest.mark.parametrize("args, word", BAD)
def test_bad_input_exits_2_one_line_nothing_written(capsys, db, paper_store, args, word):
    before = _counts(paper_store)
    base = {"--ticker": "PETR4", "--side": "buy"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    argv = ["order", "--account", "c"] + [x for kv in base.items() for x in kv]
    rc, out, err = _run(capsys, db, *argv)
    assert rc == 2 and err.count("\n") == 1 and word in err, err
    assert _counts(paper_store) == before


def test_not_a_lot_multiple_in_a_round_lot_account(capsys, db, paper_store):
    assert (
        main(["paper", "create", "--name", "lots", "--cash", "1e5", "--no-fractional", "--db", db])
        == 0
    )
    capsys.readouterr()
    before = _counts(paper_store)
    rc, _, err = _run(
        capsys,
        db,
        "order",
        "--account",
        "lots",
        "--ticker",
        "PETR4",
        "--side",
        "buy",
        "--qty",
        "150",
    )
    assert rc == 2 and "múltiplo do lote" in err and _counts(paper_store) == before


def test_insufficient_cash_and_risk_breach_exit_2_with_rule(capsys, db, paper_store):
    rc, _, err = _run(
        capsys,
        db,
        "order",
        "--account",
        "c",
        "--ticker",
        "PETR4",
        "--side",
        "buy",
        "--qty",
        "100000",
    )
    assert rc == 2 and "saldo insuficiente" in err and "R$" in err
    assert (
        main(
            [
                "paper",
                "create",
                "--name",
                "k",
                "--cash",
                "1e5",
                "--risk",
                "require_stop=true",
                "--db",
                db,
            ]
        )
        == 0
    )
    capsys.readouterr()
    rc, _, err = _run(
        capsys, db, "order", "--account", "k", "--ticker", "PETR4", "--side", "buy", "--qty", "100"
    )
    assert rc == 2 and "stop obrigatório" in err
    counts = _counts(paper_store)
    assert (
        counts["paper_fills"] == 0
        and counts["paper_positions"] == 0
        and counts["paper_ledger"] == 2
    )


def test_duplicate_client_id_returns_first_order_writes_nothing(capsys, db, paper_store):
    argv = [
        "order",
        "--account",
        "c",
        "--ticker",
        "PETR4",
        "--side",
        "buy",
        "--qty",
        "100",
        "--client-id",
        "x1",
        "--json",
    ]
    rc, out, _ = _run(capsys, db, *argv)
    first = json.loads(out)
    before = _counts(paper_store)
    rc, out, _ = _run(capsys, db, *argv)
    assert rc == 0 and json.loads(out)["id"] == first["id"] and _counts(paper_store) == before


def test_cancel_filled_order_exits_2(capsys, db, paper_store):
    rc, out, _ = _run(
        capsys,
        db,
        "order",
        "--account",
        "c",
        "--ticker",
        "PETR4",
        "--side",
        "buy",
        "--qty",
        "100",
        "--fill",
        "now",
        "--json",
    )
    oid = str(json.loads(out)["id"])
    before = _counts(paper_store)
    rc, _, err = _run(capsys, db, "cancel", "--account", "c", "--order", oid)
    assert rc == 2 and "executada" in err and _counts(paper_store) == before


def test_unknown_account_and_kill(capsys, db):
    rc, _, err = _run(capsys, db, "positions", "--account", "nope")
    assert rc == 2 and "não encontrada" in err
    _run(
        capsys,
        db,
        "order",
        "--account",
        "c",
        "--ticker",
        "PETR4",
        "--side",
        "buy",
        "--qty",
        "100",
        "--fill",
        "now",
    )
    rc, out, _ = _run(capsys, db, "kill", "--account", "c", "--json")
    assert rc == 0 and json.loads(out)[0]["status"] == "executada"
    rc, out, _ = _run(capsys, db, "positions", "--account", "c", "--json")
    assert json.loads(out) == []


def test_ptbr_numbers_for_cash_and_prices(capsys, db):
    rc, out, err = _run(capsys, db, "create", "--name", "br", "--cash", "R$ 100.000,00", "--json")
    assert rc == 0, err
    assert json.loads(out)["initial_cash"] == 100_000.0
    rc, out, err = _run(
        capsys,
        db,
        "order",
        "--account",
        "br",
        "--ticker",
        "PETR4",
        "--side",
        "buy",
        "--qty",
        "100",
        "--type",
        "limit",
        "--price",
        "9,50",
        "--json",
    )
    assert rc == 0, err
    assert json.loads(out)["price"] == 9.5


def test_create_day_trade_account_uses_the_day_trade_margin_for_win(capsys, db, paper_store):
    """Issue 14: ``paper create --day-trade``: a WINFUT order needs the day-trade margin
    (R$ 100 per contract by default), not the overnight one (R$ 3.200)."""
    from core.trading import PaperBroker

    assert (
        main(["paper", "create", "--name", "dt", "--cash", "1000", "--day-trade", "--db", db]) == 0
    )
    capsys.readouterr()
    paper_store.upsert_instrument("WINFUT", kind="future")
    b = PaperBroker(paper_store, "dt")
    assert b._future("WINFUT").margin == 100.0
    rc, out, err = _run(
        capsys, db, "order", "--account", "dt", "--ticker", "WINFUT", "--side", "buy",
        "--qty", "5", "--type", "limit", "--price", "120000",
    )  # fmt: skip
    assert rc == 0, err  # 5 × R$ 100 + fees fits in R$ 1.000 (5 × R$ 3.200 would not)
