"""``ml_filter``: keep a base strategy's entries only when the champion model agrees.

Rules (close of bar t)
----------------------
* Signals of the ``base`` strategy (run with its default parameters) are computed first.
* A long entry is kept only when the promoted direction model gives P(next session up) ≥
  ``threshold`` for bar t; a short entry only when P(up) ≤ 1 − ``threshold``.
* Exits are the base strategy's, unchanged (the filter never keeps you in a trade).
* **Out of sample only**: a model's own training dates are not a test. When the model
  says when its training data ends (``trained_until``), entries on or before that date are
  dropped, and a backtest lying entirely inside the training period is refused with a
  message; ``in_sample=True`` lifts this (an optimistic, look-ahead result, labelled so).

The model is the ML page's champion for target ``"direction"``
(``core.ml.registry.load_champion(store, target="direction")``), whose
``predict_proba_up(bars, index_bars=None)`` returns, per date, a probability computed from
data up to that date. A model object with that method can also be injected
(``MlFilter(model=...)``, for tests). With no trained/promoted model the strategy raises
:class:`NoModelError` ("nenhum modelo treinado/promovido") instead of trading unfiltered.

Source: meta-labelling, i.e. a secondary model deciding whether to act on a primary
signal (López de Prado, *Advances in Financial Machine Learning*, 2018, ch. 3.6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InputError
from core.strategies.base import Param, Strategy

__all__ = ["MlFilter", "NoModelError", "BASE_CHOICES"]

BASE_CHOICES = (
    "sma_cross",
    "trend_following",
    "mean_reversion",
    "breakout",
    "macd_crossover",
    "rsi_divergence",
    "wave3",
)

NO_MODEL_MSG = (
    "ml_filter: nenhum modelo treinado/promovido para a direção do próximo pregão. "
    "Treine e promova um modelo na página de ML antes de usar este filtro."
)


class NoModelError(InputError):
    """No champion model is available for the ML filter."""


class MlFilter(Strategy):
    name = "ml_filter"
    label = "Filtro de ML (modelo campeão)"
    params = (
        Param(
            "base",
            "choice",
            "sma_cross",
            choices=BASE_CHOICES,
            label="Estratégia base",
            optimize=False,
        ),
        Param("threshold", "float", 0.55, 0.5, 0.9, step=0.01, label="Probabilidade mínima"),
        Param(
            "in_sample",
            "bool",
            False,
            label="Aceitar datas do treino do modelo (otimista)",
            optimize=False,
        ),
    )

    def __init__(self, model=None, **params) -> None:
        super().__init__(**params)
        self.model = model
        self.index_bars: pd.DataFrame | None = None

    @property
    def sets_stops(self) -> bool:  # type: ignore[override]
        return self._base().sets_stops

    def _base(self) -> Strategy:
        from core.strategies import get_strategy

        return get_strategy(self.p["base"])

    def prepare(self, store=None) -> None:
        """Resolve the champion model from the store when none was injected.

        Raises
        ------
        NoModelError
            When the ML module is absent or no model is promoted.
        """
        if self.model is not None:
            return
        try:
            from core.ml.registry import load_champion  # provided by the ML feature
        except ImportError:
            raise NoModelError(NO_MODEL_MSG) from None
        if store is None:
            raise NoModelError(NO_MODEL_MSG)
        self.model = load_champion(store, target="direction")
        if self.model is None:
            raise NoModelError(NO_MODEL_MSG)
        try:
            self.index_bars = store.bars("^BVSP")
        except Exception:  # noqa: BLE001 - the index is optional context for the model
            self.index_bars = None

    def explain_no_trades(self, index: pd.DatetimeIndex) -> str | None:
        """Why a run over ``index`` made no trade (pt-BR), when the model explains it."""
        tu = getattr(self.model, "trained_until", None)
        if tu is None or self.p["in_sample"] or len(index) == 0:
            return None
        tu = pd.Timestamp(tu)
        if not (index > tu).any():
            return (
                "ml_filter: nenhum pregão do período é posterior ao treino do modelo campeão "
                f"(treinado até {tu:%d/%m/%Y}); sem datas fora da amostra não há entradas."
            )
        first = index[index > tu][0]
        return (
            f"ml_filter: só os pregões de {first:%d/%m/%Y} a {index[-1]:%d/%m/%Y} são "
            f"posteriores ao treino do modelo (até {tu:%d/%m/%Y}) e nenhuma entrada da "
            "estratégia-base foi confirmada pelo modelo neles."
        )

    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        if self.model is None:
            raise NoModelError(NO_MODEL_MSG)
        sig = self._base().signals(bars).copy()
        p = self.model.predict_proba_up(bars, index_bars=self.index_bars)
        p = pd.Series(p).reindex(bars.index).to_numpy(dtype="float64")
        thr = self.p["threshold"]
        with np.errstate(invalid="ignore"):
            agree_up = p >= thr
            agree_down = p <= 1 - thr
        trained_until = getattr(self.model, "trained_until", None)
        if trained_until is not None and not self.p["in_sample"]:
            trained_until = pd.Timestamp(trained_until)
            if len(bars) and bars.index[-1] <= trained_until:
                raise InputError(
                    "ml_filter: o modelo campeão foi treinado com dados até "
                    f"{trained_until:%d/%m/%Y}; um backtest dentro desse período usaria o "
                    "futuro. Escolha um período posterior ou marque 'Aceitar datas do treino "
                    "do modelo' (resultado otimista)."
                )
            oos = np.asarray(bars.index > trained_until)
            agree_up &= oos
            agree_down &= oos
        sig["entry_long"] = sig["entry_long"].to_numpy() & agree_up
        sig["entry_short"] = sig["entry_short"].to_numpy() & agree_down
        for col in ("entry_level", "stop", "target"):
            if col in sig.columns:
                keep = sig["entry_long"].to_numpy() | sig["entry_short"].to_numpy()
                sig[col] = np.where(keep, sig[col].to_numpy(), np.nan)
        sig["proba_up"] = p
        return sig
