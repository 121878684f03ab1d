"""The model jobs after evaluation: weekly retrain and the champion's prediction refresh.

``refresh_predictions`` is the one implementation of "score the earlier predictions, load the
champion, predict the next session, log it, measure live accuracy", called by
``python -m dashboard predict``, the weekly retrain job and (read-only) the Modelos page.
``build_retrain_request`` / ``run_retrain_request`` serve the CLI's ``retrain`` and the
scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.requests.parsing import parse_choice

if TYPE_CHECKING:
    import pandas as pd

    from core.data.store import Store
    from core.ml.registry import ApprovalGates, ChampionModel

__all__ = [
    "NO_CHAMPION",
    "PredictionRefresh",
    "refresh_predictions",
    "RetrainRequest",
    "build_retrain_request",
    "run_retrain_request",
]

Progress = Callable[[float, str], None]

#: Message when no model has been promoted yet.
NO_CHAMPION = (
    "Nenhum modelo campeão: treine e promova um modelo (python -m dashboard retrain "
    "ou a página Modelos)."
)


@dataclass
class PredictionRefresh:
    """The champion's next-session predictions.

    Attributes
    ----------
    champion : ChampionModel or None
        None when no model is promoted (then ``predictions`` is empty).
    predictions : pandas.DataFrame or None
        One row per instrument (:func:`core.ml.predictions.predict_next`).
    scored_now : int
        Earlier predictions scored by this refresh.
    logged : int
        Predictions written to the log by this refresh (0 when ``log=False``).
    live : dict
        :func:`core.ml.predictions.live_accuracy` (empty without a champion).
    message : str
        pt-BR summary (the live-accuracy message, or :data:`NO_CHAMPION`).
    """

    champion: ChampionModel | None
    predictions: pd.DataFrame | None
    scored_now: int = 0
    logged: int = 0
    live: dict = field(default_factory=dict)
    message: str = ""

    def records(self) -> list[dict]:
        """The predictions as plain records (empty without a champion)."""
        return [] if self.predictions is None else self.predictions.to_dict("records")


def refresh_predictions(store: Store, *, log: bool = True) -> PredictionRefresh:
    """Score earlier predictions, predict the next session with the champion, log them.

    Parameters
    ----------
    store : Store
    log : bool
        Write (score earlier predictions and log the new ones). ``False`` only reads: what a
        page render may do.

    Returns
    -------
    PredictionRefresh
    """
    from core.ml.predictions import live_accuracy, log_predictions, predict_next, score_predictions
    from core.ml.registry import load_champion

    scored = score_predictions(store) if log else 0
    champ = load_champion(store)
    if champ is None:
        return PredictionRefresh(None, None, scored_now=scored, message=NO_CHAMPION)
    df = predict_next(store, champ)
    logged = log_predictions(store, champ.model_id, df) if log else 0
    live = live_accuracy(store, champ.model_id, wf_lo=champ.metrics["metrics"]["accuracy"]["lo"])
    return PredictionRefresh(
        champ, df, scored_now=scored, logged=int(logged or 0), live=live, message=live["message"]
    )


@dataclass(frozen=True)
class RetrainRequest:
    """A retrain of the champion's recipe.

    Attributes
    ----------
    target : str
        :data:`core.ml.targets.TARGETS` (default ``direction``).
    artifact_dir : pathlib.Path
        Where model files are written (``<data dir>/models``).
    gates : ApprovalGates
        Promotion rules (``PREGAO_ML_GATES``).
    """

    target: str
    artifact_dir: Path
    gates: ApprovalGates


def build_retrain_request(
    *, target: Any = None, data_dir: Any, gates: Any = None
) -> RetrainRequest:
    """Validate the retrain inputs; ``gates`` is the ``PREGAO_ML_GATES`` text or an object.

    Raises
    ------
    InputError
        Unknown target or malformed gates.
    """
    from core.ml.registry import ApprovalGates
    from core.ml.targets import TARGETS

    g = gates if isinstance(gates, ApprovalGates) else ApprovalGates.from_string(gates or "")
    return RetrainRequest(
        target=parse_choice(target, "Alvo", TARGETS, default="direction"),
        artifact_dir=Path(str(data_dir)) / "models",
        gates=g,
    )


def run_retrain_request(
    store: Store,
    req: RetrainRequest,
    *,
    progress: Progress | None = None,
    refresh: bool = True,
) -> dict:
    """Retrain, promote if the gates pass, then (``refresh``) refresh the predictions.

    Returns :func:`core.ml.training.retrain`'s dict.
    """
    from core.ml.training import retrain

    res = retrain(store, req.artifact_dir, gates=req.gates, target=req.target, progress=progress)
    if refresh:
        refresh_predictions(store)
    return res
