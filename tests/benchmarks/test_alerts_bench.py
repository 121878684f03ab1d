"""Alert evaluation figures: a rule over 20 years of PETR4 (``alerts run``) and the per-bar
cost of the runner hook (``evaluate_bar``). Figures only, never asserted."""

from __future__ import annotations

from types import SimpleNamespace

from core.alerts import engine as E
from core.alerts.rules import Rule, add_rule
from core.data.store import init_db
from tests.benchmarks.conftest import median_time, report
from tests.helpers import real_bars


def test_alerts_evaluation_figures(tmp_path, monkeypatch):
    monkeypatch.setattr("core.alerts.dispatch.dispatch", lambda store, f: None)
    store = init_db(f"sqlite:///{tmp_path / 'bench.db'}")
    store.upsert_instrument("PETR4", kind="stock")
    store.write_bars("PETR4", real_bars("PETR4"), "bundled")
    add_rule(store, Rule("mms", tickers=["PETR4"], condition="crosses_above(close, sma(50))"))
    add_rule(
        store,
        Rule("macd", tickers=["PETR4"], condition="crosses_above(macd().line, macd().signal)"),
    )
    n_bars = len(store.bars("PETR4"))
    t_range, _ = median_time(lambda: E.evaluate_range(store, persist=False), repeat=3)
    bars = store.bars("PETR4", "2024-01-01", "2024-03-31")
    events = [
        SimpleNamespace(ticker="PETR4", time=t, **r[["open", "high", "low", "close", "volume"]])
        for t, r in bars.iterrows()
    ]
    t_hook, _ = median_time(lambda: [E.evaluate_bar(store, e) for e in events], repeat=3)
    report(
        "alerts",
        [
            ("evaluate_range, 2 rules × PETR4", f"{t_range * 1000:.0f} ms for {n_bars} bars"),
            ("evaluate_bar (hook), 2 rules", f"{t_hook / len(events) * 1000:.1f} ms per bar"),
        ],
    )
    store.dispose()
