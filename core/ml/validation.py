"""Time-ordered splitters: chronological holdout, walk-forward, purged k-fold with embargo.

Each splitter has ``split(n)`` yielding ``(train, test)`` integer position arrays over ``n``
time-ordered samples (for pooled multi-ticker data the positions index *dates*; see
:func:`date_splits`). The label of sample ``i`` is known at ``i + horizon`` (see
:mod:`core.ml.targets`), so:

* holdout and walk-forward keep a gap of ``horizon - 1`` samples between the last training
  sample and the first test sample: every training label is known when the first test
  prediction is made (``max(train) + horizon <= min(test)``);
* purged k-fold (López de Prado, *Advances in Financial Machine Learning*, 2018, ch. 7)
  removes from the training set every sample whose label window ``[i, i + horizon]``
  overlaps the test block's ``[min(test), max(test) + horizon]`` and embargoes the
  ``ceil(embargo * n)`` samples after the test block.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError

__all__ = [
    "HoldoutSplit",
    "WalkForwardSplit",
    "PurgedKFold",
    "VALIDATIONS",
    "make_splitter",
    "date_splits",
]

VALIDATIONS = ("holdout", "walk-forward", "purged-kfold")
Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class HoldoutSplit:
    """One split: the first ``1 - test_size`` of the samples train, the last ``test_size`` test."""

    test_size: float = 0.2
    horizon: int = 1

    def split(self, n: int) -> Iterator[Split]:
        """Yield one ``(train, test)`` pair (see the module docstring)."""
        if not 0 < self.test_size < 1:
            raise InputError("test_size deve estar entre 0 e 1.")
        n_test = max(1, int(round(n * self.test_size)))
        start = n - n_test
        train_end = start - (self.horizon - 1)
        if train_end < 10:
            raise InputError(f"Amostras insuficientes para o holdout ({n}).")
        yield np.arange(0, train_end), np.arange(start, n)

    def get_n_splits(self) -> int:
        return 1


@dataclass(frozen=True)
class WalkForwardSplit:
    """Walk-forward: ``n_splits`` consecutive test blocks after an initial training window.

    Parameters
    ----------
    n_splits : int
        Number of folds (test blocks), each retrained.
    mode : {"expanding", "rolling"}
        Expanding: train on everything before the block; rolling: on the last
        ``train_size`` samples before it.
    test_size : int, optional
        Samples per test block (default ``n // (n_splits + 1)``, as scikit-learn's
        ``TimeSeriesSplit``).
    train_size : int, optional
        Rolling window length (default: the first fold's training length).
    horizon : int
        Label horizon; the gap between train and test is ``horizon - 1``.
    """

    n_splits: int = 5
    mode: str = "expanding"
    test_size: int | None = None
    train_size: int | None = None
    horizon: int = 1

    def split(self, n: int) -> Iterator[Split]:
        """Yield ``n_splits`` ``(train, test)`` pairs in time order."""
        if self.n_splits < 1:
            raise InputError("O número de dobras deve ser ≥ 1.")
        if self.mode not in ("expanding", "rolling"):
            raise InputError("mode deve ser 'expanding' ou 'rolling'.")
        test_size = self.test_size or n // (self.n_splits + 1)
        first = n - self.n_splits * test_size
        gap = self.horizon - 1
        if test_size < 1 or first - gap < 20:
            raise InputError(
                f"Amostras insuficientes ({n}) para {self.n_splits} dobras walk-forward."
            )
        window = self.train_size or (first - gap)
        for k in range(self.n_splits):
            start = first + k * test_size
            train_end = start - gap
            train_start = 0 if self.mode == "expanding" else max(0, train_end - window)
            yield np.arange(train_start, train_end), np.arange(start, start + test_size)

    def get_n_splits(self) -> int:
        return self.n_splits


@dataclass(frozen=True)
class PurgedKFold:
    """K contiguous test blocks; training rows purged of label overlap and embargoed after."""

    n_splits: int = 5
    horizon: int = 1
    embargo: float = 0.01

    def split(self, n: int) -> Iterator[Split]:
        """Yield ``n_splits`` ``(train, test)`` pairs (test blocks in time order)."""
        if self.n_splits < 2:
            raise InputError("O k-fold purgado exige pelo menos 2 dobras.")
        if n < self.n_splits * 10:
            raise InputError(f"Amostras insuficientes ({n}) para {self.n_splits} dobras.")
        emb = int(math.ceil(self.embargo * n))
        idx = np.arange(n)
        for block in np.array_split(idx, self.n_splits):
            t0, t1 = int(block[0]), int(block[-1])
            # sample i's label spans [i, i + h]; the test's spans [t0, t1 + h]
            overlap = (idx + self.horizon >= t0) & (idx <= t1 + self.horizon)
            embargoed = (idx > t1) & (idx <= t1 + self.horizon + emb)
            train = idx[~overlap & ~embargoed]
            yield train, block

    def get_n_splits(self) -> int:
        return self.n_splits


def make_splitter(
    validation: str,
    folds: int = 5,
    horizon: int = 1,
    *,
    mode: str = "expanding",
    test_size: float = 0.2,
    embargo: float = 0.01,
):
    """The splitter for a validation name of :data:`VALIDATIONS`.

    Raises
    ------
    InputError
        On an unknown validation name.
    """
    if validation == "holdout":
        return HoldoutSplit(test_size=test_size, horizon=horizon)
    if validation == "walk-forward":
        return WalkForwardSplit(n_splits=folds, mode=mode, horizon=horizon)
    if validation == "purged-kfold":
        return PurgedKFold(n_splits=folds, horizon=horizon, embargo=embargo)
    raise InputError(f"Validação desconhecida {validation!r}; use {', '.join(VALIDATIONS)}.")


def date_splits(dates: pd.DatetimeIndex | np.ndarray, splitter) -> list[Split]:
    """Row positions of each split when several rows share a date (pooled tickers).

    The splitter runs on the sorted unique dates; every row of a date goes where its date
    goes, so no date is ever on both sides.
    """
    d = pd.DatetimeIndex(dates)
    uniq = np.unique(d.values)
    codes = np.searchsorted(uniq, d.values)
    out = []
    for tr, te in splitter.split(len(uniq)):
        out.append((np.flatnonzero(np.isin(codes, tr)), np.flatnonzero(np.isin(codes, te))))
    return out
