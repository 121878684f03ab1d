"""The model-evaluation job (Modelos page "Treinar", ``python -m dashboard evaluate``).

:func:`build_evaluate_request` turns the form or the flags into an :class:`EvaluateRequest`
(a :class:`core.ml.training.TrainRequest` plus, for the CLI, a price file);
:func:`run_evaluate_request` runs it with :func:`core.ml.training.train_models`.

Ranges: folds 2–20; three-class horizon 1–60 sessions and threshold 0–50 % (typed as a
fraction, ``0.02`` = 2 %, the CLI's long-standing convention); feature lookback 1–60.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import DataFormatError, InputError
from core.requests.parsing import (
    is_empty,
    parse_bool,
    parse_choice,
    parse_int,
    parse_number,
    parse_tickers,
    shorten,
)

if TYPE_CHECKING:
    import pandas as pd

    from core.data.store import Store
    from core.ml.registry import ModelRegistry
    from core.ml.training import TrainRequest

__all__ = [
    "DEFAULT_FOLDS",
    "DEFAULT_HORIZON",
    "DEFAULT_THRESHOLD",
    "EvaluateRequest",
    "build_evaluate_request",
    "read_price_file_checked",
    "run_evaluate_request",
]

Progress = Callable[[float, str], None]

#: Validation folds.
DEFAULT_FOLDS = 5
#: Sessions ahead of the three-class target.
DEFAULT_HORIZON = 5
#: Three-class threshold (fraction): moves within ±2 % are "flat".
DEFAULT_THRESHOLD = 0.02


@dataclass(frozen=True)
class EvaluateRequest:
    """What to evaluate.

    Attributes
    ----------
    train : TrainRequest
        Tickers, target, models, validation and features.
    file : pathlib.Path or None
        A price file to evaluate on instead of stored tickers (CLI ``--file``).
    """

    train: TrainRequest
    file: Path | None = None


def build_evaluate_request(
    *,
    tickers: Any = None,
    file: Any = None,
    target: Any = None,
    models: Any = None,
    validation: Any = None,
    folds: Any = None,
    horizon: Any = None,
    threshold: Any = None,
    lookback: Any = None,
    use_index: Any = None,
    tune: Any = None,
) -> EvaluateRequest:
    """Validate raw input into an :class:`EvaluateRequest`.

    ``tickers`` and ``models`` take a list or comma-separated text; exactly one of
    ``tickers`` / ``file`` is needed. ``file`` must exist, be a regular file and not be
    empty (it is read by :func:`read_price_file_checked` when the job runs).

    Raises
    ------
    InputError
        Any value out of range, with a pt-BR message naming the field.
    """
    from core.ml.models import MODEL_NAMES
    from core.ml.targets import TARGETS
    from core.ml.training import TrainRequest
    from core.ml.validation import VALIDATIONS

    path = None
    if not is_empty(file):
        if not is_empty(tickers):
            raise InputError("Escolha ativos ou um arquivo de preços, não os dois.")
        path = Path(str(file)).expanduser()
        if not path.is_file():
            raise InputError(f"Arquivo de preços não encontrado: {shorten(path, 80)}.")
        if path.stat().st_size == 0:
            raise InputError(f"Arquivo de preços vazio: {shorten(path.name, 80)}.")
        ticks: tuple[str, ...] = ()
    else:
        ticks = parse_tickers(tickers, "Ativos")
    if is_empty(models):
        model_list = ["xgboost"]
    elif isinstance(models, str):
        model_list = [m for m in models.replace(";", ",").split(",") if m.strip()]
    else:
        model_list = list(models)
    if not model_list:
        raise InputError("Escolha pelo menos um modelo.")
    mods = tuple(parse_choice(m, "Modelo", MODEL_NAMES) for m in model_list)
    if len(set(mods)) != len(mods):
        raise InputError("Modelos repetidos na lista.")
    train = TrainRequest(
        tickers=ticks,
        target=parse_choice(target, "Alvo", TARGETS, default="direction"),
        horizon=parse_int(horizon, "Horizonte (pregões)", default=DEFAULT_HORIZON, lo=1, hi=60),
        threshold=parse_number(
            threshold,
            "Limiar do alvo de três classes",
            default=DEFAULT_THRESHOLD,
            lo=0,
            hi=0.5,
            lo_open=True,
        ),
        models=mods,
        validation=parse_choice(validation, "Validação", VALIDATIONS, default="walk-forward"),
        folds=parse_int(folds, "Dobras", default=DEFAULT_FOLDS, lo=2, hi=20),
        lookback=parse_int(lookback, "Janela de atributos (pregões)", default=1, lo=1, hi=60),
        use_index=parse_bool(use_index, "Atributos do ^BVSP", default=True),
        tune=parse_bool(tune, "Otimizar hiperparâmetros", default=False),
    )
    return EvaluateRequest(train=train, file=path)


def read_price_file_checked(path: str | Path) -> pd.DataFrame:
    """Read a price file for evaluation, turning any parser failure into one clear error.

    Raises
    ------
    InputError
        Missing or empty file.
    DataFormatError
        Unreadable content (no header, wrong encoding, malformed rows, no usable bars).
    """
    import pandas as pd

    from core.errors import PregaoError
    from core.ml.study import read_price_file

    p = Path(path)
    if not p.is_file():
        raise InputError(f"Arquivo de preços não encontrado: {shorten(p, 80)}.")
    if p.stat().st_size == 0:
        raise InputError(f"Arquivo de preços vazio: {shorten(p.name, 80)}.")
    try:
        bars = read_price_file(p)
    except PregaoError:
        raise
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataFormatError(
            f"{p.name}: não é um CSV de preços legível ({shorten(exc, 80)}); "
            "esperado investing.com ou Yahoo.",
            str(p),
            None,
        ) from None
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise DataFormatError(
            f"{p.name}: colunas ou valores inesperados ({shorten(exc, 80)}); esperado "
            "investing.com (Data, Último...) ou Yahoo (Date, Close...).",
            str(p),
            None,
        ) from None
    if len(bars) < 2:
        raise DataFormatError(f"{p.name}: sem barras de preço utilizáveis.", str(p), None)
    return bars


def run_evaluate_request(
    store: Store | None,
    req: EvaluateRequest,
    *,
    registry: ModelRegistry | None = None,
    progress: Progress | None = None,
) -> list[dict]:
    """Evaluate (and with ``registry``, register) the models of ``req``.

    Returns :func:`core.ml.training.train_models`'s list (one dict per model).

    Raises
    ------
    InputError, UnknownTickerError, DataFormatError
    """
    from core.ml.training import train_models

    if req.file is not None:
        bars = read_price_file_checked(req.file)
        return train_models(None, registry, req.train, frames={"ARQUIVO": bars}, progress=progress)
    return train_models(store, registry, req.train, progress=progress)
