"""Corporate actions and the Yahoo-style adjusted close.

Checked three ways: against a naive per-date loop of the textbook formula, against Yahoo's
own split-adjusted closes (COTAHIST 2021-06-25 x later splits/bonus shares), and by
recovering Yahoo's Adj Close from the cash events its own Adj Close/Close ratio implies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.actions import (
    adjusted_close,
    adjustment_factors,
    implied_dividends,
    load_actions,
    read_actions_csv,
    write_actions,
)
from core.data.bundled import BUNDLED_DIR, read_yahoo_csv
from core.data.imports import import_files
from core.data.sources.cotahist import read_cotahist
from core.data.store import init_db
from core.errors import InputError
from tests.datafiles import cotahist_daily


def naive_adjusted(dates, close, actions):
    """For every date, multiply the factors of every later event, one by one (cash paid
    on the same ex-date is one event, as Yahoo reports one amount per ex-date)."""
    cash = (
        actions[actions["kind"].isin(["dividend", "jcp"])]
        .groupby("date", as_index=False)["value"]
        .sum()
    )
    cash["kind"] = "dividend"
    actions = pd.concat([actions[~actions["kind"].isin(["dividend", "jcp"])], cash])
    out = []
    for i, d in enumerate(dates):
        f = 1.0
        for a in actions.itertuples():
            if a.date <= d:
                continue
            if a.kind in ("split", "reverse_split", "bonus"):
                f /= a.value
            else:
                prev = max(j for j in range(len(dates)) if dates[j] < a.date)
                f *= 1 - a.value / close[prev]
        out.append(close[i] * f)
    return np.array(out)


def test_vectorised_equals_naive_loop():
    rng = np.random.default_rng(7)
    dates = pd.bdate_range("2020-01-01", periods=120)
    close = 20 + np.cumsum(rng.normal(0, 0.3, len(dates)))
    acts = pd.DataFrame(
        {
            "date": [dates[10], dates[30], dates[30], dates[55], dates[80], dates[100]],
            "kind": ["dividend", "jcp", "dividend", "split", "bonus", "reverse_split"],
            "value": [0.5, 0.2, 0.3, 2.0, 1.1, 0.25],
        }
    )
    bars = pd.DataFrame({"close": close}, index=dates)
    ours = adjusted_close(bars, acts).to_numpy()
    np.testing.assert_allclose(ours, naive_adjusted(list(dates), close, acts), rtol=1e-12)
    assert ours[-1] == close[-1]  # the newest bar is never changed


@pytest.mark.parametrize(
    "ticker, events",
    [
        ("BBAS3", [("2024-04-16", "split", 2.0)]),  # 2-for-1 split
        ("BBDC4", [("2024-03-18", "bonus", 1.1)]),  # 10% bonus shares
    ],
)
def test_split_adjusted_cotahist_equals_yahoo_close(tmp_path, ticker, events):
    """SOURCES.md: Yahoo's Close on 2021-06-25 is COTAHIST x later split factors."""
    raw = read_cotahist(cotahist_daily(tmp_path), markets=[10], tickers=[ticker])
    yahoo = read_yahoo_csv(BUNDLED_DIR / "yahoo" / f"{ticker}.csv.gz")
    acts = pd.DataFrame(events, columns=["date", "kind", "value"])
    S, D = adjustment_factors(pd.DatetimeIndex(raw["date"]), raw["close"].to_numpy(), acts)
    assert raw["close"].iloc[0] * S[0] == pytest.approx(yahoo.loc["2021-06-25", "close"], rel=1e-6)
    assert D[0] == 1.0


def test_recover_yahoo_adj_close_from_its_dividends():
    y = read_yahoo_csv(BUNDLED_DIR / "yahoo" / "PETR4.csv.gz")
    y = y[y["volume"] > 0]
    divs = implied_dividends(y)
    assert 20 < len(divs) < 120  # PETR4 pays several times a year
    ours = adjusted_close(y, divs, close_is_split_adjusted=True)
    # Yahoo anchors Adj Close at the newest bar; so do we
    np.testing.assert_allclose(ours.to_numpy(), y["adj_close"].to_numpy(), rtol=2e-5)


def test_actions_table_and_recomputed_adj_close(tmp_path):
    s = init_db("sqlite://")
    import_files(s, [cotahist_daily(tmp_path)], everything=True)
    f = tmp_path / "acoes.csv"
    f.write_text(
        "ticker,date,kind,value\nPETR4,2021-07-01,dividend,1.00\nPETR4,2021-07-01,split,2\n"
    )
    acts = read_actions_csv(f)
    assert write_actions(s, acts, "csv") == 2
    assert write_actions(s, acts, "csv") == 0  # idempotent
    stored = load_actions(s, ["PETR4"])
    assert list(stored["kind"]) == ["dividend", "split"]
    # adj_close is derived as soon as the actions are written (and stays so on re-import)
    import_files(s, [cotahist_daily(tmp_path)])
    b = s.bars("PETR4")
    assert b["close"].iloc[0] == 29.10
    assert b["adj_close"].iloc[0] == pytest.approx(29.10 * 0.5 * (1 - 1.0 / 29.10))


def test_bad_actions_rejected():
    with pytest.raises(InputError, match="desconhecido"):
        adjusted_close(
            pd.DataFrame({"close": [1.0]}, index=pd.DatetimeIndex(["2024-01-02"])),
            pd.DataFrame({"date": ["2024-01-03"], "kind": ["merger"], "value": [1]}),
        )
    with pytest.raises(InputError, match="positivos"):
        adjusted_close(
            pd.DataFrame({"close": [1.0]}, index=pd.DatetimeIndex(["2024-01-02"])),
            pd.DataFrame({"date": ["2024-01-03"], "kind": ["split"], "value": [0]}),
        )


def test_actions_csv_through_the_importer(tmp_path):
    s = init_db("sqlite://")
    import_files(s, [cotahist_daily(tmp_path)], everything=True)
    f = tmp_path / "eventos.csv"
    f.write_text("ticker,date,kind,value\nVALE3,2021-07-01,dividend,2.00\n")
    rep = import_files(s, [f])
    assert rep.status == "ok" and rep.formats == ["actions"] and rep.instruments == 1
    assert s.bars("VALE3")["adj_close"].iloc[0] == pytest.approx(112.40 * (1 - 2.0 / 112.40))
    g = tmp_path / "eventos2.csv"
    g.write_text("ticker,date,kind,value\nNAOEXISTE3,2021-07-01,dividend,2.00\n")
    bad = import_files(s, [g])
    assert bad.status == "failed" and "NAOEXISTE3" in bad.errors[0]["reason"]
