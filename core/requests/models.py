"""The model jobs after evaluation: weekly retrain and the champion's prediction refresh.

``refresh_predictions`` is the one implementation of "score the earlier predictions, load the
champion, predict the next session, log it, measure live accuracy", called by
``python -m dashboard predict``, the weekly retrain job and (read-only) the Modelos page.
``build_retrain_request`` / ``run_retrain_request`` serve the CLI's ``retrain`` and the
scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.requests.parsing import parse_choice

if TYPE_CHECKING:
    from core.data.store import Store
    from core.ml.predictions import PredictionRefresh
    from core.ml.registry import ApprovalGates

__all__ = [
    "NO_CHAMPION",
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


def refresh_predictions(store: Store, *, log: bool = True) -> PredictionRefresh:
    """The champion's prediction refresh: :func:`core.ml.predictions.refresh_predictions`.

    The one implementation lives in :mod:`core.ml.predictions`; this front door only maps the
    request layer's ``log`` (write: score earlier predictions and log the new ones) onto its
    ``write`` flag. ``log=False`` only reads: what a page render may do.
    """
    from core.ml.predictions import refresh_predictions as _refresh

    return _refresh(store, write=log)


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
    from core.ml.training import retrain, retrain_and_refresh

    if refresh:
        return retrain_and_refresh(
            store, req.artifact_dir, gates=req.gates, target=req.target, progress=progress
        )
    return retrain(store, req.artifact_dir, gates=req.gates, target=req.target, progress=progress)
