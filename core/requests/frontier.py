"""The portfolio (efficient frontier) job: one builder, one runner, one typed result.

The Carteira page and ``python -m dashboard frontier`` build the same
:class:`core.portfolio.PortfolioRequest` with :func:`build_frontier_request` and run it with
:func:`run_frontier_request`, which returns a :class:`FrontierResult`.

Units: every rate is an annual fraction in the request. The builder takes rates already as
fractions (``target``, ``risk_free``, ``weight_min``/``weight_max``): the page converts its
%-fields with :func:`core.requests.parsing.parse_percent`, the CLI its ``0.12``/``12%``
flags with :func:`core.requests.parsing.parse_rate`. Text fields shared by both front ends
mean the same everywhere: Black-Litterman ``views`` are in % a year (``PETR4=20`` is 20 %),
per-asset bounds in % (``PETR4=5:30``), holdings in shares (``PETR4=300``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import InputError
from core.requests.parsing import (
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_money,
    parse_number,
    parse_pairs,
    parse_percent,
    parse_tickers,
    shorten,
)

if TYPE_CHECKING:
    from core.data.store import Store
    from core.portfolio import PortfolioRequest

__all__ = [
    "VIEW_RANGE",
    "FrontierResult",
    "parse_views",
    "parse_percent_range",
    "build_frontier_request",
    "run_frontier_request",
]

Progress = Callable[[float, str], None]

#: Accepted Black-Litterman views, % a year: a total loss at worst, +300 % at best (a view
#: outside that is a typo, like 2000 % from a fraction typed as a percentage).
VIEW_RANGE: tuple[float, float] = (-100.0, 300.0)


def parse_percent_range(text: str) -> tuple[float, float]:
    """``"5:30"`` (percent) -> ``(0.05, 0.30)``; used for per-asset weight bounds.

    Raises
    ------
    InputError
        Not two numbers separated by ``:`` or ``-``... in percent.
    """
    parts = [p for p in re.split(r"[:/]|(?<=\d)-", str(text).strip()) if p.strip()]
    if len(parts) != 2:
        raise InputError(f"Limite por ativo inválido {text!r}: use MIN:MAX em %, ex. 5:30.")
    try:
        lo, hi = (float(x.replace(",", ".").rstrip("%")) / 100.0 for x in parts)
    except ValueError as exc:
        raise InputError(f"Limite por ativo inválido {text!r}: use números em %.") from exc
    return lo, hi


def _view(text: Any) -> float:
    v = parse_percent(text, "Visão (% a.a.)", lo=VIEW_RANGE[0], hi=VIEW_RANGE[1], lo_open=True)
    if v is None:
        raise InputError("Visão (% a.a.): informe um número depois de '='.")
    return v


def parse_views(views: Any) -> dict[str, float] | None:
    """Black-Litterman absolute views typed in % a year (``"PETR4=20; VALE3=12,5"``) as
    fractions, None when empty: the one views parser of the page and every CLI command.

    Raises
    ------
    InputError
        A malformed pair or a view outside :data:`VIEW_RANGE`.
    """
    return parse_pairs(views, "Visões", _view) or None


def _holding(text: Any) -> int:
    v = parse_int(text, "Posição (ações)", lo=0)
    if v is None:
        raise InputError("Posição (ações): informe um número depois de '='.")
    return v


def _bounds(text: Any) -> tuple[float, float]:
    lo, hi = parse_percent_range(str(text))
    if not -1.0 <= lo <= hi <= 1.0:
        raise InputError(
            f"Limites por ativo {shorten(text, 20)}: use MIN:MAX em % com -100 ≤ MIN ≤ MAX ≤ 100."
        )
    return lo, hi


def build_frontier_request(
    tickers: Any = None,
    *,
    start: Any = None,
    end: Any = None,
    objective: Any = None,
    target: float | None = None,
    returns_method: Any = None,
    risk_model: Any = None,
    risk_free: float | None = None,
    weight_min: float | None = None,
    weight_max: float | None = None,
    asset_bounds: Any = None,
    gamma: Any = None,
    risk_aversion: Any = None,
    points: Any = None,
    views: Any = None,
    holdings: Any = None,
    capital: Any = None,
    costs: Any = None,
    out_of_sample: Any = None,
    split: Any = None,
    rebalance: Any = None,
    oos_universe: Any = None,
    lookback: Any = None,
    taxes: Any = None,
    default_risk_free: float | None = None,
) -> PortfolioRequest:
    """Validate raw input into a :class:`core.portfolio.PortfolioRequest`.

    Parameters
    ----------
    target, risk_free, weight_min, weight_max : float, optional
        Fractions (already converted by the front end); ranges: target return −100 %…500 %,
        target volatility 0…300 %, risk-free −50 %…200 %, weights −100 %…100 % with
        min ≤ max.
    split, rebalance, oos_universe, lookback, taxes : optional
        The walk-forward out-of-sample test (:func:`core.portfolio.walkforward.walk_forward`):
        earliest first rebalance, rebalancing frequency (default quarterly), universe
        (``liquid`` at each date, default, or ``chosen``), estimation window in sessions
        (60…5040, default 756) and income tax (default on).
    views : str or mapping, optional
        Black-Litterman absolute views in % a year (``"PETR4=20; VALE3=12,5"``).
    holdings : str or mapping, optional
        Current shares per ticker (a rebalance: ``capital`` is then the extra cash and may
        be 0).
    capital : str or float, optional
        R$ to allocate in B3 lots (:func:`core.requests.parsing.parse_money`); 0 without
        holdings means no allocation, like an empty field; negative is refused.
    costs : bool, optional
        Count B3 costs (default True).
    default_risk_free : float, optional
        Used when ``risk_free`` is empty (the ``PREGAO_RISK_FREE_RATE`` setting); None =
        the CDI of the window.

    Raises
    ------
    InputError
        Any value out of range, with a pt-BR message naming the field.
    """
    from core.backtest.costs import B3_DEFAULT, NO_COSTS
    from core.portfolio import (
        OBJECTIVES,
        REBALANCE,
        RETURN_METHODS,
        RISK_MODELS,
        PortfolioRequest,
        PortfolioSpec,
    )
    from core.portfolio.walkforward import UNIVERSES

    obj = parse_choice(objective, "Objetivo", OBJECTIVES, default="max_sharpe")
    if target is not None:
        if obj == "efficient_risk":
            parse_number(100 * target, "Volatilidade-alvo", lo=0, hi=300, lo_open=True, unit="%")
        else:
            parse_number(100 * target, "Retorno-alvo", lo=-100, hi=500, unit="%")
    if risk_free is None:
        risk_free = default_risk_free
    if risk_free is not None:
        parse_number(100 * risk_free, "Taxa livre de risco", lo=-50, hi=200, unit="%")
    wmin = 0.0 if weight_min is None else float(weight_min)
    wmax = 1.0 if weight_max is None else float(weight_max)
    parse_number(100 * wmin, "Peso mínimo", lo=-100, hi=100, unit="%")
    parse_number(100 * wmax, "Peso máximo", lo=-100, hi=100, lo_open=True, unit="%")
    if wmin > wmax:
        raise InputError("Peso mínimo maior que o peso máximo.")
    hold = parse_pairs(holdings, "Posições", _holding)
    cap = parse_money(capital, "Capital (R$)", allow_zero=True)
    if cap == 0 and not hold:
        cap = None  # R$ 0 and nothing held: no allocation, as an empty field
    spec = PortfolioSpec(
        objective=obj,
        target=target,
        bounds=(wmin, wmax),
        per_asset_bounds=parse_pairs(asset_bounds, "Limites por ativo", _bounds),
        gamma=parse_number(gamma, "Regularização L2 (gamma)", default=0.0, lo=0, hi=100),
        risk_aversion=parse_number(
            risk_aversion, "Aversão a risco", default=1.0, lo=0, hi=1000, lo_open=True
        ),
        views=parse_views(views),
    )
    return PortfolioRequest(
        tickers=list(parse_tickers(tickers, "Ações", minimum=2)),
        start=parse_date(start, "Início"),
        end=parse_date(end, "Fim"),
        returns_method=parse_choice(
            returns_method, "Estimador de retorno", RETURN_METHODS, default="mean_historical"
        ),
        risk_model=parse_choice(risk_model, "Modelo de risco", RISK_MODELS, default="ledoit_wolf"),
        risk_free=risk_free,
        spec=spec,
        points=parse_int(points, "Pontos da fronteira", default=50, lo=2, hi=500),
        capital=cap,
        holdings=hold or None,
        costs=B3_DEFAULT if parse_bool(costs, "Custos", default=True) else NO_COSTS,
        out_of_sample=parse_bool(out_of_sample, "Teste fora da amostra", default=False),
        split=parse_date(split, "Início do teste fora da amostra"),
        rebalance=parse_choice(rebalance, "Rebalanceamento", REBALANCE, default="quarterly"),
        oos_universe=parse_choice(oos_universe, "Universo do teste", UNIVERSES, default="liquid"),
        lookback=parse_int(lookback, "Janela de estimação (pregões)", default=756, lo=60, hi=5040),
        taxes=parse_bool(taxes, "Imposto de renda no teste", default=True),
    )


@dataclass(frozen=True)
class FrontierResult:
    """A finished portfolio analysis (:func:`core.portfolio.analyse`), typed.

    Attributes
    ----------
    window : dict
        Common history: ``start``, ``end``, ``sessions``, ``limiting_ticker``,
        ``risk_free`` (annual fraction), ``risk_free_source``.
    objective : str
    weights : dict of str -> float
        Fractions summing to 1.
    performance : dict
        ``expected_return``, ``volatility`` (annual fractions), ``sharpe``.
    metrics : dict
        ``beta``, ``alpha``, ``tracking_error``, ``information_ratio`` vs ^BVSP.
    frontier : list of dict
        Points ``{volatility, expected_return, sharpe, weights}``.
    allocation : dict or None
        Lots and orders (see :class:`core.portfolio.Allocation`), None without capital.
    out_of_sample : dict or None
    notes : list of str
        Explanations from the optimiser.
    warnings : list of str
        Liquidity warnings (:func:`core.requests.liquidity.liquidity_warnings`).
    data : dict
        The complete plain-data result (what the page keeps and draws).
    """

    window: dict
    objective: str
    weights: dict
    performance: dict
    metrics: dict
    frontier: list
    allocation: dict | None
    out_of_sample: dict | None
    notes: list
    warnings: list = field(default_factory=list)
    data: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        """The plain data the page stores and its components draw (``warnings`` included)."""
        return {**self.data, "warnings": list(self.warnings)}

    def to_json_dict(self) -> dict:
        """The CLI's ``--json`` shape, unchanged: ``window, weights, performance, frontier,
        allocation`` (and ``out_of_sample`` when asked for); the CLI prints ``warnings`` on
        stderr."""
        out = {
            "window": self.window,
            "weights": self.weights,
            "performance": self.performance,
            "frontier": [
                {
                    "volatility": p["volatility"],
                    "expected_return": p["expected_return"],
                    "geometric_return": p.get("geometric_return"),
                }
                for p in self.frontier
            ],
            "allocation": self.allocation,
        }
        if self.out_of_sample:
            keys: tuple[str, ...] = ("weights", "stats", "active", "train", "test", "method")
            keys += ("sharpe_tests", "rebalances", "notes")
            out["out_of_sample"] = {
                k: self.out_of_sample[k] for k in keys if k in self.out_of_sample
            }
        return out


def run_frontier_request(
    store: Store,
    req: PortfolioRequest,
    *,
    progress: Progress | None = None,
    record: bool = False,
    owner: str | None = None,
    mapper=None,
) -> FrontierResult:
    """Run ``req`` (:func:`core.portfolio.analyse`) and check the orders against volume.

    ``record`` stores the analysis as a portfolio run (the page does, to show the last result
    on its next load), stamped with ``owner`` (the author in team mode; None = the team's).
    ``mapper`` spreads the out-of-sample test's rebalance optimisations (None = in process).

    Raises
    ------
    InputError, UnknownTickerError
        From the optimiser.
    """
    from core.portfolio import analyse
    from core.requests.liquidity import liquidity_warnings

    res = analyse(store, req, progress=progress, record=record, owner=owner, mapper=mapper)
    warnings: list[str] = []
    alloc = res.get("allocation")
    if alloc:
        traded = {
            p["ticker"]: abs(float(p.get("shares", 0)) - float(p.get("current_shares", 0) or 0))
            for p in alloc.get("positions", [])
            if p.get("ticker")
        }
        warnings = liquidity_warnings(store, traded, res["window"]["end"])
    return FrontierResult(
        window=res["window"],
        objective=res["objective"],
        weights=res["weights"],
        performance=res["performance"],
        metrics=res["metrics"],
        frontier=res["frontier"],
        allocation=alloc,
        out_of_sample=res.get("out_of_sample"),
        notes=list(res.get("notes", [])),
        warnings=warnings,
        data=res,
    )
