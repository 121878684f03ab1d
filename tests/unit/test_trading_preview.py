"""The order ticket's pre-trade preview (PaperBroker.preview, what the Operações page calls)
gives the verdict the broker gives on submit — same risk rules, same cash check — and
writes nothing."""

from __future__ import annotations

import pytest

from core.errors import InputError
from core.trading import create_account
from core.trading.broker import OrderRequest, PaperBroker
from core.trading.risk import RiskRejected, RiskRules
from tests.helpers import make_bars


@pytest.fixture
def store(empty_store):
    empty_store.upsert_instrument("PETR4", name="Petrobras PN", kind="stock")
    bars = make_bars([(38.0, 38.5, 37.5, 38.0, 1e6)] * 5, start="2024-11-11")
    empty_store.write_bars("PETR4", bars, "csv")
    return empty_store


def _req(account, qty, **kw):
    return OrderRequest(account=account, ticker="PETR4", side="buy", qty=qty, **kw)


def preview_order(store, req):
    return PaperBroker(store, req.account).preview(req)


def _counts(store, account):
    b = PaperBroker(store, account)
    return len(b.orders()), len(b.ledger())


def test_preview_ok_splits_lots_and_estimates_value(store):
    create_account(store, "a", 100_000.0)
    before = _counts(store, "a")
    p = preview_order(store, _req("a", 257))
    assert p.ok and (p.round_lot_qty, p.fractional_qty) == (200, 57)
    assert p.est_value == pytest.approx(257 * p.est_price) and p.est_fees > 0
    assert p.est_price >= 38.0  # the last close plus slippage
    assert _counts(store, "a") == before  # nothing written


@pytest.mark.parametrize(
    ("rules", "qty", "rule"),
    [
        (RiskRules(max_position_pct=0.2), 1_000, "max_position_pct"),  # R$ 38.000 > 20 %
        (RiskRules(require_stop=True), 100, "require_stop"),
        (RiskRules(), 3_000, "saldo"),  # R$ 114.000 > R$ 100.000 of cash
    ],
)
def test_preview_names_the_same_rule_submit_rejects_with(store, rules, qty, rule):
    create_account(store, "r", 100_000.0, risk=rules)
    p = preview_order(store, _req("r", qty))
    assert not p.ok and p.rule == rule
    with pytest.raises(RiskRejected) as exc:
        PaperBroker(store, "r").submit(_req("r", qty))
    assert exc.value.rule == rule and exc.value.message == p.message


def test_preview_bad_input_names_the_field(store):
    create_account(store, "b", 100_000.0)
    with pytest.raises(InputError, match="Quantidade"):
        preview_order(store, _req("b", 0))
    with pytest.raises(InputError, match="tick"):
        preview_order(store, _req("b", 100, type="limit", price=38.005))
