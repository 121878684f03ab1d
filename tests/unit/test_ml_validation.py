"""Splitters: time order, no lookahead (gap = horizon - 1), purge and embargo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.ml.validation import (
    HoldoutSplit,
    PurgedKFold,
    WalkForwardSplit,
    date_splits,
    make_splitter,
)


@pytest.mark.parametrize("horizon", [1, 5])
@pytest.mark.parametrize(
    "splitter_factory",
    [
        lambda h: HoldoutSplit(0.2, horizon=h),
        lambda h: WalkForwardSplit(5, "expanding", horizon=h),
        lambda h: WalkForwardSplit(4, "rolling", horizon=h),
    ],
)
def test_forward_splitters_never_train_on_unknown_labels(splitter_factory, horizon):
    n = 1000
    splits = list(splitter_factory(horizon).split(n))
    assert splits
    prev_test_end = -1
    for tr, te in splits:
        assert len(tr) and len(te)
        assert np.all(np.diff(te) == 1)  # contiguous test block
        # every training label (known at i + horizon) is known before the first test decision
        assert tr.max() + horizon <= te.min()
        assert not set(tr) & set(te)
        assert te.min() > prev_test_end
        prev_test_end = te.max()


def test_rolling_window_has_fixed_length_and_expanding_grows():
    roll = [len(tr) for tr, _ in WalkForwardSplit(4, "rolling").split(1000)]
    grow = [len(tr) for tr, _ in WalkForwardSplit(4, "expanding").split(1000)]
    assert len(set(roll)) == 1
    assert grow == sorted(grow) and grow[0] < grow[-1]


@pytest.mark.parametrize("horizon", [1, 5])
def test_purged_kfold_purges_overlap_and_embargoes(horizon):
    n, emb = 1000, 0.02
    splits = list(PurgedKFold(5, horizon=horizon, embargo=emb).split(n))
    assert sorted(np.concatenate([te for _, te in splits]).tolist()) == list(range(n))
    for tr, te in splits:
        t0, t1 = te.min(), te.max()
        for i in tr:
            # sample i's label window [i, i + h] must not overlap the test's [t0, t1 + h]
            assert i + horizon < t0 or i > t1 + horizon
        # embargo: nothing right after the test block
        after = tr[tr > t1]
        if len(after):
            assert after.min() > t1 + horizon + int(np.ceil(emb * n)) - 1


def test_date_splits_keep_each_date_on_one_side():
    dates = pd.DatetimeIndex(np.repeat(pd.bdate_range("2020-01-01", periods=300), 3))
    for tr, te in date_splits(dates, WalkForwardSplit(3)):
        assert dates[tr].max() < dates[te].min()
        assert not set(dates[tr]) & set(dates[te])


def test_unknown_validation_and_too_little_data():
    with pytest.raises(InputError):
        make_splitter("kfold")
    with pytest.raises(InputError):
        list(WalkForwardSplit(10).split(50))
