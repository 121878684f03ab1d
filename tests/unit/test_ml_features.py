"""Features: documented, causal (no lookahead), equal to independent formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.bundled import read_bundled_bars
from core.errors import InputError
from core.ml.features import (
    BASE_FEATURES,
    FEATURE_DOCS,
    INDEX_FEATURES,
    SEED_FEATURES,
    build_features,
    feature_columns,
)


@pytest.fixture(scope="module")
def petr4():
    return read_bundled_bars("PETR4")[0].iloc[-700:]


@pytest.fixture(scope="module")
def bvsp():
    return read_bundled_bars("^BVSP")[0]


def test_every_feature_is_documented_and_seed_set_has_20():
    assert set(BASE_FEATURES) | set(INDEX_FEATURES) == set(FEATURE_DOCS)
    assert len(SEED_FEATURES) == 20 and set(SEED_FEATURES) <= set(BASE_FEATURES)
    for name, (formula, window) in FEATURE_DOCS.items():
        assert formula and window >= 0, name


@pytest.mark.parametrize("lookback", [1, 5])
def test_no_lookahead_when_future_rows_change_or_vanish(petr4, bvsp, lookback):
    full = build_features(petr4, bvsp, lookback=lookback)
    rng = np.random.default_rng(1)
    for cut in (200, 450, 650):
        t = petr4.index[cut]
        # 1) remove every row after t (bars and index)
        trunc = build_features(petr4.loc[:t], bvsp.loc[:t], lookback=lookback)
        pd.testing.assert_frame_equal(trunc, full.loc[:t])
        # 2) scramble every row after t
        later = petr4.copy()
        after = later.index > t
        later.loc[after, ["open", "high", "low", "close", "adj_close"]] *= rng.uniform(
            0.5, 1.5, (after.sum(), 1)
        )
        later.loc[after, "volume"] *= 7
        bv = bvsp.copy()
        bv.loc[bv.index > t, "adj_close"] *= 1.3
        changed = build_features(later, bv, lookback=lookback)
        pd.testing.assert_frame_equal(changed.loc[:t], full.loc[:t])
        assert not changed.loc[petr4.index[cut + 1] :].equals(full.loc[petr4.index[cut + 1] :])


def test_features_match_independent_formulas(petr4):
    f = build_features(petr4)
    c = petr4["adj_close"]
    fac = petr4["adj_close"] / petr4["close"]
    i = 500
    t = petr4.index[i]
    r = np.log(c.to_numpy()[1:] / c.to_numpy()[:-1])
    assert f.loc[t, "ret_1"] == pytest.approx(r[i - 1])
    assert f.loc[t, "ret_3"] == pytest.approx(r[i - 3])
    assert f.loc[t, "mom_10"] == pytest.approx(c.iloc[i] / c.iloc[i - 10] - 1)
    assert f.loc[t, "vol_20"] == pytest.approx(np.std(r[i - 20 : i], ddof=1))
    assert f.loc[t, "px_sma20"] == pytest.approx(c.iloc[i] / c.iloc[i - 19 : i + 1].mean() - 1)
    hi = (petr4["high"] * fac).iloc[i - 19 : i + 1].max()
    assert f.loc[t, "dist_high20"] == pytest.approx(c.iloc[i] / hi - 1)
    v = petr4["volume"]
    assert f.loc[t, "volume_ratio"] == pytest.approx(v.iloc[i] / v.iloc[i - 19 : i + 1].mean())
    assert f.loc[t, f"dow_{t.day_of_week}"] == 1.0
    assert f.loc[t, ["regime_bull", "regime_bear", "regime_side"]].sum() == 1.0


def test_lookback_columns_are_shifted_copies(petr4):
    f = build_features(petr4, features=list(SEED_FEATURES), lookback=5)
    assert list(f.columns) == feature_columns(list(SEED_FEATURES), 5)
    assert f.shape[1] == 100
    pd.testing.assert_series_equal(
        f["mom_5__lag3"].iloc[10:], f["mom_5"].shift(3).iloc[10:], check_names=False
    )


def test_bad_inputs_raise_input_error(petr4):
    with pytest.raises(InputError):
        build_features(petr4, features=["nope"])
    with pytest.raises(InputError):
        build_features(petr4, features=["idx_ret_1"])
    with pytest.raises(InputError):
        build_features(petr4, lookback=0)
