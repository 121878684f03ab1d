"""The facade, the CLI contract and the page's components."""

from __future__ import annotations

import json
import shutil

import plotly.graph_objects as go
import pytest

import core.portfolio as cp
from components.portfolio import (
    allocation_view,
    frontier_figure,
    oos_figure,
    orders_csv,
    summary_cards,
    weights_csv,
    weights_figure,
)
from core.errors import InputError
from core.portfolio import PortfolioRequest, PortfolioSpec, analyse
from core.requests.parsing import parse_pairs

TICKERS = ["PETR4", "VALE3", "ITUB4", "BBDC4", "ABEV3"]


@pytest.fixture(scope="module")
def result(bundled_store):
    req = PortfolioRequest(
        TICKERS,
        start="2015-01-01",
        capital=50_000.0,
        out_of_sample=True,
        rebalance="monthly",
        points=50,
    )
    seen = []
    res = analyse(bundled_store, req, progress=lambda f, m: seen.append(f))
    assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    return res


def test_public_api_is_pinned():
    assert set(cp.__all__) >= {
        "prepare_inputs",
        "optimize_portfolio",
        "efficient_frontier",
        "allocate_lots",
        "save_portfolio",
        "list_portfolios",
        "load_portfolio",
        "analyse",
        "out_of_sample",
        "benchmark_metrics",
        "most_liquid",
    }
    for name in cp.__all__:
        assert hasattr(cp, name), name


def test_core_portfolio_knows_nothing_of_the_ui():
    import re
    from pathlib import Path

    root = Path(cp.__file__).parent
    pattern = re.compile(
        r"^\s*(import|from)\s+(dash|plotly|flask|components|pages|dashboard)\b", re.M
    )
    for f in root.glob("*.py"):
        assert not pattern.search(f.read_text()), f.name


def test_analyse_result_is_plain_json(result):
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text) == result
    assert len(result["frontier"]) >= 50
    assert sum(result["weights"].values()) == pytest.approx(1.0, abs=1e-6)
    assert result["window"]["risk_free_source"] == "CDI"
    assert set(result["metrics"]) >= {"beta", "alpha", "tracking_error", "information_ratio"}
    assert result["allocation"]["cash_left"] >= 0
    assert result["out_of_sample"]["test"]["sessions"] > 100


def test_components_draw_the_result(result):
    fig = frontier_figure(result)
    names = [t.name for t in fig.data]
    for n in [
        "Fronteira eficiente",
        "Ações",
        "IBOVESPA (^BVSP)",
        "Pesos iguais",
        "Mínima volatilidade",
        "Tangente (máx. Sharpe)",
        "Carteira escolhida",
        "Linha do mercado de capitais",
    ]:
        assert n in names, n
    front = fig.data[0]
    assert len(front.x) == len(result["frontier"])
    assert "PETR4" in front.customdata[-1][0] or "VALE3" in front.customdata[-1][0]
    assert fig.layout.separators == ",."
    assert isinstance(weights_figure(result["weights"]), go.Figure)
    oos = oos_figure(result["out_of_sample"])
    assert len(oos.data) == 10  # 5 series (walk-forward) x equity + drawdown
    assert "R$" in str(allocation_view(result["allocation"], result["prices"]))
    assert "Beta" in str(summary_cards(result))
    csv = weights_csv(result, machine=True)
    assert csv.splitlines()[0] == "ticker,weight,expected_return,volatility"
    assert len(csv.splitlines()) == len(TICKERS) + 1
    ocsv = orders_csv(result["allocation"], machine=True)
    assert ocsv.splitlines()[0].startswith("ticker,market,side,shares")
    # pt-BR by default: Excel in Brazil splits on ";" and reads the decimal comma
    br = weights_csv(result).splitlines()
    assert br[0] == "\ufeffAção;Peso (%);Retorno esperado (% a.a.);Volatilidade (% a.a.)"
    assert all(len(r.split(";")) == 4 and "." not in r for r in br[1:])
    assert orders_csv(result["allocation"]).startswith("\ufeffCódigo;Mercado;Lado (C/V);")


def test_parse_pairs():
    assert parse_pairs("petr4=300, VALE3:150", "Posições", int) == {"PETR4": 300, "VALE3": 150}
    assert parse_pairs("", "x", int) == {}
    with pytest.raises(InputError, match="TICKER=VALOR"):
        parse_pairs("PETR4 300", "Posições", int)
    with pytest.raises(InputError, match="inválido"):
        parse_pairs("PETR4=abc", "Posições", int)


def test_analyse_infeasible_is_input_error(bundled_store):
    req = PortfolioRequest(TICKERS, spec=PortfolioSpec(objective="efficient_return", target=5.0))
    with pytest.raises(InputError, match="acima do máximo viável"):
        analyse(bundled_store, req)


@pytest.fixture
def cli_db(seeded_sqlite, tmp_path):
    path = tmp_path / "cli.db"
    shutil.copy(seeded_sqlite, path)
    return f"sqlite:///{path}"


def test_cli_frontier_json_contract(cli_db, capsys, monkeypatch):
    from dashboard.cli import main

    monkeypatch.setenv("PREGAO_DATA_DIR", str(cli_db.rsplit("/", 1)[0][len("sqlite:///") :]))
    rc = main(
        [
            "frontier",
            "PETR4",
            "VALE3",
            "ITUB4",
            "--start",
            "2016-01-01",
            "--points",
            "20",
            "--capital",
            "50.000,00",
            "--bounds",
            "0,0.6",
            "--json",
            "--db",
            cli_db,
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["window", "weights", "performance", "frontier", "allocation"]
    assert set(out["performance"]) >= {"expected_return", "volatility", "sharpe"}
    assert out["performance"]["geometric_return"] < out["performance"]["expected_return"]
    assert len(out["frontier"]) == 20
    assert set(out["frontier"][0]) >= {"volatility", "expected_return"}
    assert max(out["weights"].values()) <= 0.6 + 1e-6
    assert out["allocation"]["capital"] == 50_000.0
    assert out["window"]["start"] >= "2016-01-01"


def test_cli_errors_exit_2(cli_db, capsys, monkeypatch):
    from dashboard.cli import main

    monkeypatch.setenv("PREGAO_DATA_DIR", str(cli_db.rsplit("/", 1)[0][len("sqlite:///") :]))
    rc = main(
        [
            "frontier",
            "PETR4",
            "VALE3",
            "--objective",
            "efficient_return",
            "--target",
            "500%",
            "--db",
            cli_db,
        ]
    )
    assert rc == 2
    assert "máximo viável" in capsys.readouterr().err
    rc = main(["frontier", "PETR4", "VALE3", "ITUB4", "--bounds", "0,0.2", "--db", cli_db])
    assert rc == 2
    assert "não permitem" in capsys.readouterr().err


def test_cli_save_and_list(cli_db, capsys, monkeypatch):
    from dashboard.cli import main

    monkeypatch.setenv("PREGAO_DATA_DIR", str(cli_db.rsplit("/", 1)[0][len("sqlite:///") :]))
    assert (
        main(
            ["frontier", "PETR4", "VALE3", "--objective", "hrp", "--save", "minha", "--db", cli_db]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["portfolios", "--json", "--db", cli_db]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert recs[0]["name"] == "minha" and recs[0]["parameters"]["objective"] == "hrp"


def test_cli_risk_free_setting_and_override(cli_db, capsys, monkeypatch):
    from dashboard.cli import main

    monkeypatch.setenv("PREGAO_DATA_DIR", str(cli_db.rsplit("/", 1)[0][len("sqlite:///") :]))
    monkeypatch.setenv("PREGAO_RISK_FREE_RATE", "0.05")
    assert main(["frontier", "PETR4", "VALE3", "--points", "5", "--json", "--db", cli_db]) == 0
    assert json.loads(capsys.readouterr().out)["window"]["risk_free"] == 0.05
    args = ["frontier", "PETR4", "VALE3", "--points", "5", "--risk-free", "7%", "--json"]
    assert main([*args, "--db", cli_db]) == 0
    assert json.loads(capsys.readouterr().out)["window"]["risk_free"] == pytest.approx(0.07)


def test_lot_allocation_says_when_it_drops_short_weights(bundled_store):
    req = PortfolioRequest(
        ["PETR4", "VALE3", "ABEV3"],
        start="2015-01-01",
        capital=50_000.0,
        spec=PortfolioSpec(objective="max_sharpe", bounds=(-0.5, 1.0)),
    )
    res = analyse(bundled_store, req)
    shorts = [t for t, w in res["weights"].items() if w < -1e-9]
    assert shorts  # the optimiser does use the short side here
    notes = " ".join(res["allocation"]["notes"])
    assert "vendidas" in notes and all(t in notes for t in shorts)


def test_parse_views_is_percent_a_year():
    """One views parser (core.requests), spaces around "=" allowed — the duplicate in
    core.portfolio is gone (regression: the request layer's parser refused "vale3 = 12,5")."""
    import core.portfolio
    from core.requests.frontier import parse_views

    assert not hasattr(core.portfolio, "parse_views")
    assert not hasattr(core.portfolio, "parse_pairs")

    assert parse_views("PETR4=20, vale3 = 12,5%;ITUB4=-3") == {
        "PETR4": pytest.approx(0.20),
        "VALE3": pytest.approx(0.125),
        "ITUB4": pytest.approx(-0.03),
    }
    assert parse_views("") is None
    with pytest.raises(InputError, match="Visões"):
        parse_views("PETR4 20 VALE3")


def test_cli_views_mean_percent_like_the_page(cli_db, capsys, monkeypatch):
    """Regression (issue 11): "PETR4=20" was 2000 % in the CLI and 20 % on the page."""
    from dashboard.cli import main

    monkeypatch.setenv("PREGAO_DATA_DIR", str(cli_db.rsplit("/", 1)[0][len("sqlite:///") :]))
    args = ["frontier", "PETR4", "VALE3", "--points", "5", "--views", "PETR4=20", "--json"]
    assert main([*args, "--save", "bl", "--db", cli_db]) == 0
    capsys.readouterr()
    assert main(["portfolios", "--name", "bl", "--db", cli_db]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["parameters"]["views"] == {"PETR4": pytest.approx(0.20)}
    args = ["frontier", "PETR4", "VALE3", "--points", "5", "--views", "PETR4=2000"]
    assert main([*args, "--db", cli_db]) == 2
    err = capsys.readouterr().err
    assert "PETR4" in err and "2.000%" in err  # refused, naming the view and its value


def test_cli_oos_keeps_its_keys_and_is_walk_forward(cli_db, capsys, monkeypatch):
    from dashboard.cli import main

    monkeypatch.setenv("PREGAO_DATA_DIR", str(cli_db.rsplit("/", 1)[0][len("sqlite:///") :]))
    args = ["frontier", "PETR4", "VALE3", "ITUB4", "--points", "5", "--oos", "--json"]
    args += ["--oos-universe", "chosen", "--start", "2021-01-01", "--lookback", "252"]
    assert main([*args, "--db", cli_db]) == 0
    out = json.loads(capsys.readouterr().out)["out_of_sample"]
    assert set(out) >= {"weights", "stats", "active", "train", "test"}
    assert out["method"] == "walk_forward" and len(out["rebalances"]) > 5
    assert set(out["stats"]) == {"Carteira", "Pesos iguais", "Mínima variância", "^BVSP", "CDI"}


def test_analyse_can_record_its_result(bundled_store):
    from core.portfolio import latest_run

    res = analyse(bundled_store, PortfolioRequest(["PETR4", "VALE3"], points=5), record=True)
    assert latest_run(bundled_store, "analysis")["id"] == res["run_id"]
    assert latest_run(bundled_store, "analysis")["result"]["weights"] == res["weights"]


def test_controls_from_parameters_round_trip():
    from components.portfolio import CONTROL_KEYS, controls_from_parameters
    from core.requests.frontier import parse_percent_range, parse_views

    req = PortfolioRequest(
        ["PETR4", "VALE3"],
        start="2018-01-02",
        spec=PortfolioSpec(
            objective="efficient_return",
            target=0.125,
            bounds=(0.05, 0.4),
            per_asset_bounds={"PETR4": (0.1, 0.3)},
            views={"VALE3": 0.12},
        ),
        capital=50_000.0,
        holdings={"PETR4": 100},
        out_of_sample=True,
        lookback=504,
    )
    v = controls_from_parameters(req.parameters())
    assert set(v) <= set(CONTROL_KEYS)
    assert v["target"] == 12.5 and (v["wmin"], v["wmax"]) == (5.0, 40.0)
    assert parse_views(v["views"]) == {"VALE3": pytest.approx(0.12)}
    assert parse_pairs(v["asset_bounds"], "x", parse_percent_range) == {
        "PETR4": (pytest.approx(0.1), pytest.approx(0.3))
    }
    assert v["holdings"] == "PETR4=100" and v["oos"] == ["on"] and v["lookback"] == 2.0
    assert v["start"] == "2018-01-02" and v["tickers"] == ["PETR4", "VALE3"]
