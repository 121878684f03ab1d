"""Alert evaluation over real bundled bars: firings checked by hand, once per bar, cooldown,
no duplicate after a restart, account events, data health and the CLI."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from core.alerts import engine as E
from core.alerts.rules import Rule, add_rule, get_rule, list_rules, remove_rule, set_enabled
from core.data.store import init_db
from core.errors import InputError, UnknownTickerError
from tests.helpers import real_bars


@dataclass
class Bar:
    """A BarEvent as the runner hands it to its hooks (core.trading.feeds contract)."""

    ticker: str
    time: pd.Timestamp
    open: float
    high: float
    low: float
    close: float
    volume: float


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    path = tmp_path_factory.mktemp("alerts") / "template.db"
    store = init_db(f"sqlite:///{path}")
    from core.data.actions import write_actions
    from core.data.bundled import bundled_actions

    for t in ("PETR4", "VALE3", "MGLU3"):
        store.upsert_instrument(t, kind="stock")
        store.write_bars(t, real_bars(t), "bundled")
    write_actions(store, bundled_actions("MGLU3"), "bundled")  # 10:1 reverse split 01/02/2024
    store.dispose()
    return path


@pytest.fixture
def db(template, tmp_path):
    path = tmp_path / "alerts.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def store(db):
    s = init_db(db)
    yield s
    s.dispose()


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("core.alerts.dispatch.dispatch", lambda store, f: calls.append(f))
    return calls


def _cross_dates(store, ticker, n, start, end):
    c = store.bars(ticker)["close"]
    sma = c.rolling(n).mean()
    hit = (c > sma) & (c.shift(1) <= sma.shift(1))
    hit = hit[(hit.index >= start) & (hit.index <= end)]
    return list(hit[hit].index)


def test_petr4_crosses_above_sma50_fires_on_hand_computed_dates(store, sent):
    rule = add_rule(
        store,
        Rule(
            "PETR4 cruza acima da MMS 50",
            tickers=["petr4"],
            condition="crosses_above(close, sma(50))",
            channels=["inapp", "telegram"],
        ),
    )
    firings = E.evaluate_range(store, "2022-01-01", "2024-12-31", send=True)
    expected = _cross_dates(store, "PETR4", 50, "2022-01-01", "2024-12-31")
    assert len(expected) >= 5
    assert [f.bar_time for f in firings] == expected
    f = firings[0]
    assert (f.rule_id, f.ticker, f.kind, f.channels) == (
        rule.id,
        "PETR4",
        "expr",
        ["inapp", "telegram"],
    )
    close = float(store.bars("PETR4", f.bar_time, f.bar_time)["close"].iloc[0])
    assert f.values["close"] == pytest.approx(close)
    assert f.values["sma(50)"] < f.values["close"]
    assert f.bar_time.strftime("%d/%m/%Y") in f.message and "sma(50) R$ " in f.message
    from core.textfmt import brl

    assert f"close {brl(close)}" in f.message  # pt-BR money: R$ 12,34
    assert [x.id for x in sent] == [x.id for x in firings]  # each new firing dispatched once


def test_no_duplicate_after_restart_or_second_evaluation(db, sent):
    s1 = init_db(db)
    add_rule(s1, Rule("cruza", tickers=["PETR4"], condition="crosses_above(close, sma(20))"))
    first = E.evaluate_range(s1, "2023-01-01", "2023-12-31", send=True)
    assert first and all(f.new for f in first) and len(sent) == len(first)
    s1.dispose()
    s2 = init_db(db)  # a restart: a new engine on the same database
    again = E.evaluate_range(s2, "2023-01-01", "2023-12-31", send=True)
    assert [f.id for f in again] == [f.id for f in first]
    assert not any(f.new for f in again)
    last = first[-1]
    row = s2.bars("PETR4", last.bar_time, last.bar_time).iloc[0]
    ev = Bar("PETR4", last.bar_time, *row[["open", "high", "low", "close", "volume"]])
    hook = E.evaluate_bar(s2, ev)
    assert [(f.id, f.new) for f in hook] == [(last.id, False)]
    assert len(sent) == len(first)  # nothing dispatched twice
    assert len(E.list_firings(s2)) == len(first)
    s2.dispose()


def test_evaluate_bar_replay_equals_range_and_fires_once_per_bar(store, sent):
    add_rule(store, Rule("x", tickers=["VALE3"], condition="crosses_below(close, ema(9))"))
    bars = store.bars("VALE3", "2024-01-01", "2024-02-29")
    hooked = []
    for t, r in bars.iterrows():
        ev = Bar("VALE3", t, r["open"], r["high"], r["low"], r["close"], r["volume"])
        hooked += E.evaluate_bar(store, ev)
        hooked += E.evaluate_bar(store, ev)  # the same bar twice: nothing new
    new = [f for f in hooked if f.new]
    assert len(hooked) == 2 * len(new) and len(sent) == len(new)
    dry = E.evaluate_range(store, "2024-01-01", "2024-02-29", persist=False)
    assert [f.bar_time for f in new] == [f.bar_time for f in dry] and new


def test_live_bar_not_in_store_is_evaluated(store):
    add_rule(store, Rule("acima de 1000", tickers=["PETR4"], condition="close > 1000"))
    last = store.bars("PETR4").index[-1]
    t = last + pd.Timedelta(days=3)
    out = E.evaluate_bar(store, Bar("PETR4", t, 10, 2000, 10, 1500, 1e6))
    assert [(f.bar_time, f.values["close"]) for f in out] == [(t, 1500.0)]
    assert E.evaluate_bar(store, Bar("PETR4", t + pd.Timedelta(days=1), 10, 20, 5, 15, 1e6)) == []


def test_cooldown_in_bars_matches_greedy_hand_count(store):
    add_rule(store, Rule("alta", tickers=["PETR4"], condition="close > open", cooldown=3))
    firings = E.evaluate_range(store, "2024-01-01", "2024-12-31")
    b = store.bars("PETR4", "2024-01-01", "2024-12-31")
    up = list(np.flatnonzero((b["close"] > b["open"]).to_numpy()))
    expected, last = [], None
    for i in up:
        if last is None or i - last > 3:
            expected.append(b.index[i])
            last = i
    assert [f.bar_time for f in firings] == expected
    assert len(expected) < len(up)
    # the cooldown also counts stored firings: the bar right after the last one stays quiet
    pos = b.index.get_loc(expected[-1])
    nxt = b.index[pos + 1] if pos + 1 < len(b) else None
    if nxt is not None:
        r = b.loc[nxt]
        out = E.evaluate_bar(
            store, Bar("PETR4", nxt, r["open"], r["high"], r["low"], r["close"], 1)
        )
        assert out == []


def test_strategy_rule_fires_on_the_strategy_signals(store):
    add_rule(
        store,
        Rule(
            "médias",
            kind="strategy",
            tickers=["VALE3"],
            params={
                "strategy": "sma_cross",
                "strategy_params": {"fast": "10", "slow": "30"},
                "signals": ["entry_long"],
            },
        ),
    )
    assert get_rule(store, "médias").params["strategy_params"] == {"fast": 10, "slow": 30}
    firings = E.evaluate_range(store, "2023-01-01", "2024-12-31")
    c = store.bars("VALE3")["adj_close"]
    f10, f30 = c.rolling(10).mean(), c.rolling(30).mean()
    hit = (f10 > f30) & (f10.shift(1) <= f30.shift(1))
    hit = hit[(hit.index >= "2023-01-01") & (hit.index <= "2024-12-31")]
    assert [f.bar_time for f in firings] == list(hit[hit].index) and firings
    assert all(f.values["signals"] == ["entry_long"] for f in firings)
    assert "compra" in firings[0].message


class _Champion:
    model_id = 7
    trained_until = pd.Timestamp("2024-06-28")
    tickers = ["PETR4"]
    metrics = {
        "confidence_bins": [
            {"lo": 0.6, "hi": 1.0, "proven": True},
            {"lo": 0.0, "hi": 0.4, "proven": False},
        ]
    }

    def predict_proba_up(self, bars, index_bars=None):
        # up on even positions (0.7, in the proven bin), 0.3 on odd ones (not proven)
        return pd.Series(np.where(np.arange(len(bars)) % 2 == 0, 0.7, 0.3), index=bars.index)


def test_model_rule_only_after_training_and_in_proven_bins(store, monkeypatch):
    monkeypatch.setattr(E._Ctx, "champion", lambda self: _Champion())
    add_rule(store, Rule("modelo", kind="model"))  # no tickers: the champion's
    firings = E.evaluate_range(store, "2024-06-01", "2024-07-31")
    b = store.bars("PETR4")
    pos = {t: i for i, t in enumerate(b.index)}
    assert firings
    assert all(f.bar_time > _Champion.trained_until for f in firings)
    assert all(pos[f.bar_time] % 2 == 0 for f in firings)
    expected = [t for t in b.loc["2024-07-01":"2024-07-31"].index if pos[t] % 2 == 0]
    assert [f.bar_time for f in firings] == expected
    assert firings[0].values["direction"] == "Alta" and "ALTA" in firings[0].message


@pytest.mark.slow
def test_anomaly_rule_flags_the_march_2020_crash(store):
    add_rule(store, Rule("anomalia", kind="anomaly", tickers=["PETR4"]))
    firings = E.evaluate_range(store, "2020-03-09", "2020-03-09")
    assert [f.bar_time for f in firings] == [pd.Timestamp("2020-03-09")]
    assert firings[0].values["ret_1"] < -0.2  # PETR4 fell ~30 % that day


def test_data_health_behind_and_failed_update(store):
    add_rule(store, Rule("dados", kind="data_health", tickers=["PETR4"], params={"max_behind": 2}))
    last = store.last_date("PETR4")
    from core.data.calendar import next_session

    one = next_session(last)
    assert E.check_data_health(store, reference=one) == []  # one session behind: fine
    two = next_session(one)
    out = E.check_data_health(store, reference=two, failed="Yahoo inacessível")
    assert [f.event_key for f in out] == ["update_failed", "behind"]
    assert out[1].values["behind"] == {"PETR4": 2} and "PETR4 (2 pregões" in out[1].message
    assert not any(f.new for f in E.check_data_health(store, reference=two, failed="x"))


def test_rule_crud_owner_and_validation(store):
    add_rule(store, Rule("a", tickers=["PETR4"], condition="close > 1", owner="ana"))
    add_rule(store, Rule("a", tickers=["PETR4"], condition="close > 2", owner="bia"))
    with pytest.raises(InputError, match="Já existe"):
        add_rule(store, Rule("A", tickers=["PETR4"], condition="close > 3", owner="ana"))
    assert [r.owner for r in list_rules(store)] == ["ana", "bia"]
    assert [r.condition for r in list_rules(store, "bia")] == ["close > 2"]
    with pytest.raises(InputError, match="use o id"):
        get_rule(store, "a")
    assert not set_enabled(store, "a", False, owner="ana").enabled
    assert E.evaluate_range(store, "2024-01-02", "2024-01-02", owner="ana") == []
    remove_rule(store, "a", owner="bia")
    assert [r.owner for r in list_rules(store)] == ["ana"]
    with pytest.raises(InputError, match="posição"):
        add_rule(store, Rule("b", tickers=["PETR4"], condition="close >"))
    with pytest.raises(InputError, match="ticker"):
        add_rule(store, Rule("b", condition="close > 1"))
    with pytest.raises(UnknownTickerError, match="PETR4"):  # PETR5: "Você quis dizer: PETR4?"
        add_rule(store, Rule("b", tickers=["PETR5"], condition="close > 1"))
    with pytest.raises(InputError, match="Canal desconhecido"):
        add_rule(store, Rule("b", tickers=["PETR4"], condition="close > 1", channels=["sms"]))
    with pytest.raises(InputError, match="Estratégia desconhecida"):
        add_rule(store, Rule("b", kind="strategy", tickers=["PETR4"], params={"strategy": "nope"}))


def test_firing_history_survives_rule_removal(store):
    add_rule(store, Rule("r", tickers=["PETR4"], condition="crosses_above(close, sma(50))"))
    n = len(E.evaluate_range(store, "2024-01-01", "2024-12-31"))
    remove_rule(store, "r")
    hist = E.list_firings(store)
    assert len(hist) == n > 0 and all(f.rule_id is None and f.rule_name == "r" for f in hist)


def test_cli_add_list_run_remove(db, capsys):
    from dashboard.cli import main

    assert (
        main(
            [
                "alerts",
                "--db",
                db,
                "add",
                "--name",
                "PETR4 MMS 50",
                "--ticker",
                "PETR4",
                "--condition",
                "crosses_above(close, sma(50))",
                "--cooldown",
                "2",
                "--json",
            ]
        )
        == 0
    )
    added = json.loads(capsys.readouterr().out)
    assert added["kind"] == "expr" and added["cooldown"] == 2 and added["channels"] == ["inapp"]
    assert (
        main(
            [
                "alerts",
                "--db",
                db,
                "add",
                "--name",
                "x",
                "--ticker",
                "PETR4",
                "--condition",
                "close > sma(50",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("erro: Condição inválida na posição 15") and "\n" not in err
    assert (
        main(
            ["alerts", "--db", db, "run", "--start", "2024-01-01", "--end", "31/12/2024", "--json"]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert rows and {"rule", "ticker", "bar_time", "values", "message", "new"} <= set(rows[0])
    assert all(r["new"] for r in rows)
    assert main(["alerts", "--db", db, "run", "--start", "2024-01-01", "--end", "2024-12-31"]) == 0
    text = capsys.readouterr().out
    assert f"{len(rows)} disparos (0 novos)" in text and "PETR4 MMS 50" in text
    assert main(["alerts", "--db", db, "add", "--name", "dados", "--kind", "data_health"]) == 0
    capsys.readouterr()
    assert main(["alerts", "--db", db, "check", "--json"]) == 0
    (health,) = json.loads(capsys.readouterr().out)  # the bundled data is behind today
    assert health["rule"] == "dados" and health["kind"] == "data_health" and health["new"]
    assert main(["alerts", "--db", db, "remove", "dados"]) == 0
    capsys.readouterr()
    assert main(["alerts", "--db", db, "list", "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["PETR4 MMS 50"]
    assert main(["alerts", "--db", db, "remove", "PETR4 MMS 50"]) == 0
    assert main(["alerts", "--db", db, "remove", "PETR4 MMS 50"]) == 2
    assert "não encontrado" in capsys.readouterr().err


def test_evaluate_latest_only_new_bars_since_the_rule_was_created(store, sent):
    from sqlalchemy import update

    from core.alerts.models import AlertRule

    rule = add_rule(store, Rule("alta", tickers=["PETR4"], condition="close > 0"))
    assert E.evaluate_latest(store) == []  # created after the last stored session
    b = store.bars("PETR4")
    created = b.index[-3] + pd.Timedelta(hours=15)  # 12:00 in São Paulo on that session
    with store.transaction() as conn:
        conn.execute(
            update(AlertRule.__table__)
            .where(AlertRule.__table__.c.id == rule.id)
            .values(created_at=created.to_pydatetime())
        )
    out = E.evaluate_latest(store)
    assert [f.bar_time for f in out] == list(b.index[-3:]) and len(sent) == 3
    assert not any(f.new for f in E.evaluate_latest(store)) and len(sent) == 3


def test_in_proven_bin_is_the_rule_of_predict_next():
    from core.ml.predictions import in_proven_bin

    bins = {
        "confidence_bins": [
            {"lo": 0.6, "hi": 1.0, "proven": True},
            {"lo": 0.0, "hi": 0.4, "proven": False},
        ]
    }
    assert in_proven_bin(bins, 0.6) and in_proven_bin(bins, 1.0) and in_proven_bin(bins, 0.99)
    assert not in_proven_bin(bins, 0.59) and not in_proven_bin(bins, 0.1)
    assert not in_proven_bin(bins, float("nan"))
    assert not in_proven_bin({}, 0.9)  # a model trained before the bins existed


def test_a_reverse_split_never_fakes_a_crossing_and_values_stay_traded(store):
    """MGLU3's traded close jumps from R$ 2,10 to R$ 20,60 on the 10:1 reverse split of
    01/02/2024 (+4,9 % on the new share basis, R$ 19,64 -> R$ 20,60)."""
    c = store.bars("MGLU3", None, "2024-03-28")["close"]
    naive = (c > 10) & (c.shift(1) <= 10)
    assert bool(naive.loc["2024-02-01"])  # what an alert on unadjusted prices would send
    add_rule(store, Rule("dez", tickers=["MGLU3"], condition="crosses_above(close, 10)"))
    add_rule(store, Rule("mglu", tickers=["MGLU3"], condition="crosses_above(close, sma(50))"))
    firings = E.evaluate_range(store, "2024-01-02", "2024-03-28")
    assert [f for f in firings if f.rule_name == "dez"] == []  # no crossing of R$ 10
    # the SMA(50) crossing that day is real on the new basis (19,64 -> 20,60 against 19,76)
    # and its SMA is in the day's shares, not a mix of R$ 2 and R$ 20 closes
    (split_day,) = [f for f in firings if f.bar_time == pd.Timestamp("2024-02-01")]
    assert split_day.values["close"] == pytest.approx(20.60)
    assert split_day.values["sma(50)"] == pytest.approx(19.7564, abs=1e-3)
    assert c.rolling(50).mean().loc["2024-02-01"] < 3  # the unadjusted average
    for f in firings:
        assert f.values["close"] == pytest.approx(float(c.loc[f.bar_time]))  # traded that day
    # the runner hook agrees with the range on the bars around the split
    hooked = []
    for t, r in store.bars("MGLU3", "2024-01-25", "2024-02-08").iterrows():
        ev = Bar("MGLU3", t, r["open"], r["high"], r["low"], r["close"], r["volume"])
        hooked += [f for f in E.evaluate_bar(store, ev) if f.rule_name == "mglu"]
    lo, hi = pd.Timestamp("2024-01-25"), pd.Timestamp("2024-02-08")
    window = [f.bar_time for f in firings if f.rule_name == "mglu" and lo <= f.bar_time <= hi]
    assert [f.bar_time for f in hooked] == window and window
