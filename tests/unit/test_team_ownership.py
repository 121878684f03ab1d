"""Issue 15: per-user data. Each user sees their own rows and the team's, never another
user's — not in a list and not by id or name — and changes only their own.

Regression tests: before, ``list_portfolios``/``list_runs`` listed every user's rows,
``load_run(store, id)`` opened anyone's run, one trader's saved portfolio name blocked another's,
and the watchlist was one list for the whole desk.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.backtest.engine import TRADE_COLUMNS, EngineConfig
from core.backtest.runner import BacktestResult
from core.backtest.runs import count_runs, delete_run, list_runs, load_run, save_run
from core.data.watchlist import add_to_watchlist, remove_from_watchlist, watchlist
from core.errors import InputError
from core.ownership import check_owner
from core.portfolio import delete_portfolio, list_portfolios, load_portfolio, save_portfolio
from core.portfolio import list_runs as list_pf_runs
from core.portfolio import load_run as load_pf_run
from core.portfolio import save_run as save_pf_run


def _result(tag: str) -> BacktestResult:
    idx = pd.DatetimeIndex(pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]), name="date")
    eq = pd.Series([100.0, 101.0, 102.0], index=idx)
    return BacktestResult(
        strategy="sma_cross",
        params={"tag": tag},
        tickers=["PETR4"],
        start=idx[0],
        end=idx[-1],
        config=EngineConfig(),
        equity=eq,
        benchmarks=pd.DataFrame(index=idx),
        drawdown=eq * 0,
        exposure=eq * 0,
        trades=pd.DataFrame(columns=list(TRADE_COLUMNS)),
        metrics={"total_return_pct": 2.0},
        monthly=pd.DataFrame(),
        taxes=pd.DataFrame(),
    )


def test_backtest_runs_are_per_user(empty_store):
    s = empty_store
    s.upsert_instrument("PETR4")
    team = save_run(s, _result("team"))
    ana = save_run(s, _result("ana"), owner="ana")
    caio = save_run(s, _result("caio"), owner="caio")
    assert set(list_runs(s)["id"]) == {team, ana, caio}  # None: local mode / admins
    assert set(list_runs(s, owner="caio")["id"]) == {team, caio}
    assert list_runs(s, owner="caio").set_index("id").loc[caio, "owner"] == "caio"
    assert count_runs(s, owner="ana") == 2 and count_runs(s) == 3
    assert load_run(s, caio, owner="caio").params["tag"] == "caio"
    assert load_run(s, team, owner="caio").params["tag"] == "team"  # shared with the team
    with pytest.raises(InputError) as other:
        load_run(s, ana, owner="caio")  # by id: refused, not just hidden
    with pytest.raises(InputError) as missing:
        load_run(s, 999, owner="caio")
    assert str(other.value).replace(str(ana), "N") == str(missing.value).replace("999", "N")
    assert load_run(s, ana).params["tag"] == "ana"  # admin / local
    assert not delete_run(s, ana, owner="caio") and not delete_run(s, team, owner="caio")
    assert delete_run(s, caio, owner="caio")
    assert set(list_runs(s)["id"]) == {team, ana}


def test_saved_portfolios_are_per_user(empty_store):
    s = empty_store
    w = {"PETR4": 0.5, "VALE3": 0.5}
    save_portfolio(s, "Renda", w, owner="ana")
    # the same name for another user and for the team: no clash, nothing revealed
    save_portfolio(s, "Renda", {"PETR4": 1.0}, owner="caio")
    save_portfolio(s, "Renda", {"VALE3": 1.0})
    save_portfolio(s, "Time", w)
    with pytest.raises(InputError, match="Já existe"):
        save_portfolio(s, "Renda", w, owner="ana")
    save_portfolio(s, "Renda", {"ITUB4": 1.0}, owner="ana", overwrite=True)
    assert sorted(r["name"] for r in list_portfolios(s, owner="caio")) == [
        "Renda",
        "Renda",
        "Time",
    ]
    assert {r["owner"] for r in list_portfolios(s, owner="caio")} == {"caio", None}
    assert len(list_portfolios(s)) == 4
    assert load_portfolio(s, "Renda", owner="caio")["weights"] == {"PETR4": 1.0}  # own first
    assert load_portfolio(s, "Renda", owner="ana")["weights"] == {"ITUB4": 1.0}
    assert load_portfolio(s, "Renda", owner="bia")["weights"] == {"VALE3": 1.0}  # the team's
    save_portfolio(s, "Segredo", w, owner="ana")
    with pytest.raises(InputError) as exc:
        load_portfolio(s, "Segredo", owner="caio")
    assert "Segredo" not in str(exc.value).split("Salvas:")[1]  # the list shows caio's view
    assert not delete_portfolio(s, "Segredo", owner="caio")
    assert not delete_portfolio(s, "Time", owner="caio")  # the team's: admins only
    assert delete_portfolio(s, "Renda", owner="caio")
    assert load_portfolio(s, "Renda", owner="caio")["weights"] == {"VALE3": 1.0}
    assert load_portfolio(s, "Renda", owner="ana")["weights"] == {"ITUB4": 1.0}


def test_portfolio_runs_are_per_user(empty_store):
    s = empty_store
    team = save_pf_run(s, "walk_forward", {}, {"who": "team"})
    ana = save_pf_run(s, "walk_forward", {}, {"who": "ana"}, owner="ana")
    caio = save_pf_run(s, "analysis", {}, {"who": "caio"}, owner="caio")
    assert {r["id"] for r in list_pf_runs(s, owner="caio")} == {team, caio}
    assert {r["id"] for r in list_pf_runs(s)} == {team, ana, caio}
    assert load_pf_run(s, caio, owner="caio")["result"] == {"who": "caio"}
    assert load_pf_run(s, team, owner="caio")["owner"] is None
    with pytest.raises(InputError, match="não encontrada"):
        load_pf_run(s, ana, owner="caio")
    assert load_pf_run(s, ana)["owner"] == "ana"


def test_watchlists_are_per_user(empty_store):
    s = empty_store
    for t in ("PETR4", "VALE3", "ITUB4"):
        s.upsert_instrument(t)
    add_to_watchlist(s, ["PETR4", "VALE3"])  # the team's (local mode's) list
    assert watchlist(s, owner="ana") == ["PETR4", "VALE3"]  # a new user starts from it
    add_to_watchlist(s, ["ITUB4"], owner="ana")
    remove_from_watchlist(s, ["PETR4"], owner="caio")
    assert watchlist(s, owner="ana") == ["PETR4", "VALE3", "ITUB4"]
    assert watchlist(s, owner="caio") == ["VALE3"]
    assert watchlist(s) == ["PETR4", "VALE3"]  # nobody else's list changed


@pytest.mark.parametrize("bad", ["", "   ", "x" * 65, 3])
def test_owner_is_validated(bad):
    with pytest.raises(InputError):
        check_owner(bad)


def test_cli_owner_flag_filters_and_refuses(tmp_path, monkeypatch, capsys):
    """``--owner USER`` on the listing commands shows what USER sees; another user's row by
    name is an error (one line, exit 2)."""
    import json

    from core.data.store import init_db
    from dashboard.cli import main

    monkeypatch.setenv("PREGAO_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'pregao.db'}"
    s = init_db(url)
    save_portfolio(s, "Da ana", {"PETR4": 1.0}, owner="ana")
    save_portfolio(s, "Do time", {"VALE3": 1.0})
    s.dispose()
    assert main(["portfolios", "--db", url, "--owner", "caio", "--json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["Do time"]
    assert main(["portfolios", "--db", url, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["portfolios", "--db", url, "--owner", "caio", "--name", "Da ana"]) == 2
    err = capsys.readouterr().err
    assert "não encontrada" in err and len(err.strip().splitlines()) == 1
