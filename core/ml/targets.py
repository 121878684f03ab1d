"""Targets (labels) for direction models.

``C_t`` is the dividend-adjusted close (``adj_close``). A label at date ``t`` describes what
happens *after* ``t``; it is NaN where the future is not yet known (the last ``horizon``
rows). The label of ``t`` becomes known at the close of ``t + horizon``, which the splitters
of :mod:`core.ml.validation` use to purge training rows.

* ``direction``: 1 if ``ln(C_{t+1} / C_t) > 0`` else 0 (horizon 1).
* ``three_class``: with ``R = C_{t+k} / C_t - 1``: 2 (up) if ``R > θ``, 0 (down) if
  ``R < -θ``, 1 (flat) otherwise; defaults ``k = 5`` sessions, ``θ = 0.02``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InputError

__all__ = ["TargetSpec", "TARGETS", "make_target", "direction", "three_class", "CLASS_LABELS"]

#: Display labels (pt-BR) of the classes of each target.
CLASS_LABELS: dict[str, list[str]] = {
    "direction": ["Queda", "Alta"],
    "three_class": ["Queda", "Lateral", "Alta"],
}


@dataclass(frozen=True)
class TargetSpec:
    """A target: ``name`` in :data:`TARGETS`, ``horizon`` in sessions, ``threshold`` fraction."""

    name: str = "direction"
    horizon: int = 1
    threshold: float = 0.02

    @property
    def n_classes(self) -> int:
        """2 for direction, 3 for three_class."""
        return 2 if self.name == "direction" else 3

    @property
    def up_class(self) -> int:
        """The class code meaning "up"."""
        return 1 if self.name == "direction" else 2


TARGETS = ("direction", "three_class")


def direction(bars: pd.DataFrame) -> pd.Series:
    """Next-session direction: 1.0 up (log return > 0), 0.0 otherwise, NaN on the last row."""
    c = bars["adj_close"].astype("float64")
    fwd = np.log(c.shift(-1) / c)
    y = (fwd > 0).astype("float64")
    y[fwd.isna()] = np.nan
    return y.rename("y")


def three_class(bars: pd.DataFrame, horizon: int = 5, threshold: float = 0.02) -> pd.Series:
    """k-session three-class label: 0 down, 1 flat, 2 up (module docstring); NaN at the end."""
    if horizon < 1:
        raise InputError("O horizonte deve ser ≥ 1 sessão.")
    if not 0 < threshold < 1:
        raise InputError("O limiar deve estar entre 0 e 1 (fração, ex.: 0.02).")
    c = bars["adj_close"].astype("float64")
    fwd = c.shift(-horizon) / c - 1
    y = pd.Series(1.0, index=c.index)
    y[fwd > threshold] = 2.0
    y[fwd < -threshold] = 0.0
    y[fwd.isna()] = np.nan
    return y.rename("y")


def make_target(bars: pd.DataFrame, spec: TargetSpec) -> pd.Series:
    """Labels of ``bars`` for ``spec`` (see the module docstring).

    Raises
    ------
    InputError
        On an unknown target name.
    """
    if spec.name == "direction":
        return direction(bars)
    if spec.name == "three_class":
        return three_class(bars, spec.horizon, spec.threshold)
    raise InputError(f"Alvo desconhecido {spec.name!r}; use {', '.join(TARGETS)}.")
