"""The shared strategy interface.

A strategy turns canonical bars into a **signal frame** on the same index (see
:data:`core.backtest.engine.SIGNAL_COLUMNS`): booleans ``entry_long, exit_long, entry_short,
exit_short`` computed from data up to the close of each bar, and optional absolute price
levels ``stop``, ``target`` and ``entry_level`` attached to an entry. The engine acts at the
next bar's open, so a strategy never needs to (and must not) look at later bars.

Parameters are declared as :class:`Param` objects with a type and a range; the page builds
its form from them, the CLI parses ``k=v`` pairs with them and the optimiser samples them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from core.errors import InputError

__all__ = ["Param", "Strategy", "crossed_above", "crossed_below", "empty_signals"]


@dataclass(frozen=True)
class Param:
    """One declared strategy parameter.

    Parameters
    ----------
    name : str
        Keyword name.
    kind : {"int", "float", "bool", "choice"}
    default : Any
    low, high : float, optional
        Inclusive range for ``int``/``float`` (also the optimiser's search range).
    step : float, optional
        Granularity of the search (``int`` defaults to 1).
    choices : tuple, optional
        Allowed values for ``choice``.
    label : str
        pt-BR label for the form.
    optimize : bool
        Whether walk-forward optimisation searches this parameter.
    """

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    label: str = ""
    optimize: bool = True

    def coerce(self, value: Any) -> Any:
        """Parse and validate ``value`` (strings accepted); raises :class:`InputError`."""
        try:
            if self.kind == "int":
                f = float(value)
                if f != int(f):
                    raise ValueError
                v: Any = int(f)
            elif self.kind == "float":
                v = float(value)
            elif self.kind == "bool":
                if isinstance(value, str):
                    if value.lower() not in ("1", "0", "true", "false", "sim", "não", "yes", "no"):
                        raise ValueError
                    v = value.lower() in ("1", "true", "sim", "yes")
                else:
                    v = bool(value)
            else:
                v = value
                if v not in self.choices:
                    raise ValueError
        except (TypeError, ValueError):
            allowed = f" ({', '.join(map(str, self.choices))})" if self.choices else ""
            raise InputError(
                f"Parâmetro {self.name}: valor inválido {value!r} (esperado {self.kind}{allowed})."
            ) from None
        if self.kind in ("int", "float"):
            if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
                raise InputError(
                    f"Parâmetro {self.name}={v} fora do intervalo [{self.low}, {self.high}]."
                )
        return v

    def to_dict(self) -> dict:
        """Plain description (for the page's form and ``--json`` listings)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "low": self.low,
            "high": self.high,
            "step": self.step,
            "choices": list(self.choices),
            "label": self.label or self.name,
        }


class Strategy(ABC):
    """Base class of every strategy.

    Subclasses set ``name``, ``label`` and ``description`` (pt-BR), ``params`` and implement
    :meth:`signals`. ``Strategy(**params)`` validates the parameters against their
    declarations (unknown names and out-of-range values raise :class:`InputError`);
    :attr:`p` holds the complete parameter dict.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    #: One pt-BR paragraph for the page (the module docstring is the English reference).
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    #: True when the strategy sets its own stop/target levels.
    sets_stops: ClassVar[bool] = False
    #: Default proventos policy when the run does not choose (``EngineConfig.reinvest``):
    #: False keeps them as cash, as a broker account does.
    reinvests: ClassVar[bool] = False
    #: True for day-trade strategies defined on intraday bars (they give no signal, or no
    #: meaningful one, on daily bars).
    intraday: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        declared = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(declared))
        if unknown:
            raise InputError(
                f"Parâmetros desconhecidos para {self.name}: {', '.join(unknown)} "
                f"(aceitos: {', '.join(declared) or 'nenhum'})."
            )
        self.p: dict[str, Any] = {
            n: d.coerce(params[n]) if n in params else d.default for n, d in declared.items()
        }
        self.validate()

    def validate(self) -> None:
        """Cross-parameter checks (override; raise :class:`InputError`)."""
        return None

    def prepare(self, store=None) -> None:
        """Resolve external resources (e.g. a model) before :meth:`signals` (default: none)."""
        return None

    def warmup(self) -> int:
        """Bars of history the indicators need before signals are meaningful."""
        nums = [v for v in self.p.values() if isinstance(v, int) and not isinstance(v, bool)]
        return 2 * max(nums, default=20) + 10

    @abstractmethod
    def signals(self, bars: pd.DataFrame) -> pd.DataFrame:
        """Signal frame for canonical ``bars`` (same index); data up to t only."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.p.items())})"


#: The four flag columns of a signal frame, in their canonical order (a prebuilt Index: a
#: frame built on it skips the column-name inference, a third of a small frame's cost).
FLAG_COLUMNS = pd.Index(["entry_long", "exit_long", "entry_short", "exit_short"])


def flag_frame(
    index: pd.Index,
    entry_long: np.ndarray,
    exit_long: np.ndarray,
    entry_short: np.ndarray,
    exit_short: np.ndarray,
) -> pd.DataFrame:
    """A signal frame of the four boolean flags (no levels), as one block.

    Parameters
    ----------
    index : pandas.Index
        The bars' index (n rows).
    entry_long, exit_long, entry_short, exit_short : numpy.ndarray
        Boolean arrays of shape (n,).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FLAG_COLUMNS` (bool), index ``index``: the same frame as
        ``pd.DataFrame({"entry_long": ..., ...}, index=index)``, built in a fraction of
        the time (a paper replay calls a strategy once per bar and ticker).

    Raises
    ------
    ValueError
        If an array's length is not ``len(index)``.
    """
    flags = np.empty((len(index), 4), dtype=bool)
    for k, a in enumerate((entry_long, exit_long, entry_short, exit_short)):
        a = np.asarray(a, dtype=bool)
        if a.shape != (len(index),):
            raise ValueError(f"flag array of shape {a.shape}, expected ({len(index)},)")
        flags[:, k] = a
    return pd.DataFrame(flags, index=index, columns=FLAG_COLUMNS, copy=False)


def empty_signals(index: pd.Index) -> pd.DataFrame:
    """A signal frame with every flag False and no levels."""
    n = len(index)
    f = np.zeros(n, dtype=bool)
    return pd.DataFrame(
        {"entry_long": f, "exit_long": f.copy(), "entry_short": f.copy(), "exit_short": f.copy()},
        index=index,
    )


def crossed_above(a: pd.Series | np.ndarray, b: pd.Series | np.ndarray) -> np.ndarray:
    """True on bars where ``a`` closes above ``b`` after being at or below it the bar before."""
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    out = np.zeros(len(a), dtype=bool)
    out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out


def crossed_below(a, b) -> np.ndarray:
    """True on bars where ``a`` closes below ``b`` after being at or above it the bar before."""
    return crossed_above(b, a)
