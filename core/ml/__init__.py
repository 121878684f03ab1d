"""Machine learning on B3 bars: features, targets, models, honest validation and evaluation,
a trading view, tuning, a registry with champion/challenger, predictions and anomalies.

Submodules: :mod:`features`, :mod:`targets`, :mod:`models`, :mod:`validation`,
:mod:`evaluation`, :mod:`trading`, :mod:`tuning`, :mod:`training`, :mod:`registry`,
:mod:`predictions`, :mod:`anomalies`, :mod:`study`, :mod:`tables`.
"""

from core.ml.registry import ChampionModel, load_champion

__all__ = ["ChampionModel", "load_champion"]
