"""The backtest job: one request type, its defaults and ranges, and the call into the engine.

The Backtest page, ``python -m dashboard backtest`` and any scheduled job build a
:class:`BacktestRequest` with :func:`build_backtest_request` from what the trader typed and
run it with :func:`run_backtest_request`; nothing else decides a default.

Units: money in R$; ``stop_loss``, ``take_profit``, ``trailing_stop`` are fractions of the
entry price (typed in % by the trader); ``size_value`` is in the unit of the sizing method
(R$ for ``fixed``, % of equity for the others, see :mod:`core.backtest.sizing`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.errors import InputError
from core.requests.parsing import (
    is_empty,
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_money,
    parse_number,
    parse_percent,
    parse_tickers,
    shorten,
)

if TYPE_CHECKING:
    from core.backtest.engine import EngineConfig
    from core.backtest.runner import BacktestResult
    from core.data.store import Store

__all__ = [
    "SIZING_DEFAULTS",
    "LOT_CHOICES",
    "DEFAULT_CASH",
    "DEFAULT_ADJUSTED",
    "INTERVAL_CHOICES",
    "DEFAULT_FLATTEN_MINUTES",
    "DEFAULT_SLIPPAGE_TICKS",
    "BacktestRequest",
    "strategy_params",
    "build_backtest_request",
    "run_backtest_request",
]

Progress = Callable[[float, str], None]

#: Default ``size_value`` per sizing method: R$ 10.000 per entry; 10 % of equity; 1 % of
#: equity risked to the stop (Van Tharp's 1 % rule: ten losers in a row cost ~10 %, not
#: ~65 %); 10 % of equity before Kelly has 10 closed trades. ``all_in`` ignores it.
SIZING_DEFAULTS: dict[str, float | None] = {
    "all_in": None,
    "fixed": 10_000.0,
    "percent": 10.0,
    "risk": 1.0,
    "kelly": 10.0,
    "contracts": 1.0,
}
#: Bar intervals offered for a backtest (aliases such as ``5m`` are accepted and normalised).
INTERVAL_CHOICES: tuple[str, ...] = ("1d", "5min", "15min", "30min", "60min", "1min")
#: Day trade: minutes before the session's end by which positions are closed.
DEFAULT_FLATTEN_MINUTES = 10
#: Futures: slippage per fill in ticks (WIN: one tick = 5 points = R$ 1,00 per contract).
DEFAULT_SLIPPAGE_TICKS = 1.0
#: The page's lot picker: (lot size, fractional remainder).
LOT_CHOICES: dict[str, tuple[int, bool]] = {
    "100f": (100, True),
    "100": (100, False),
    "1": (1, True),
}
#: Initial cash when none is typed (R$).
DEFAULT_CASH = 100_000.0
#: Trade traded prices (proventos as cash, splits on positions) unless told otherwise; the
#: adjusted series is a labelled approximation (the engine's price-mode default).
DEFAULT_ADJUSTED = False


@dataclass(frozen=True)
class BacktestRequest:
    """One backtest, validated.

    Attributes
    ----------
    strategy : str
        Key of :data:`core.strategies.STRATEGIES`.
    tickers : tuple of str
        Upper-case B3 tickers, unique.
    params : dict
        The strategy's complete, coerced parameters (defaults filled in).
    start, end : pandas.Timestamp or None
        Trading window (None: the stored history's ends).
    cash : float
        Initial cash, R$ (> 0, finite).
    costs : {"b3", "none"}
    sizing : str
        One of :data:`SIZING_METHODS`.
    size_value : float or None
        See the module docstring; None only for ``all_in``.
    lot_size : int
    fractional : bool
    stop_loss, take_profit, trailing_stop : float
        Fractions in [0, 1); 0 disables.
    max_bars : int
        Time stop in bars, 0 disables.
    allow_short : bool
    max_positions : int or None
    adjusted : bool
        Trade the dividend-adjusted series (a labelled approximation) instead of traded prices.
    reinvest : bool or None
        Reinvest proventos; None: the strategy's default (buy_and_hold reinvests).
    cash_interest : float
        Interest on idle cash as a fraction of the CDI (0 disables, 1 = 100 % of the CDI).
    interval : str
        Bar interval (:data:`INTERVAL_CHOICES`), ``1d`` by default.
    day_trade : bool
        Close every position before the session's end; nothing held overnight.
    flatten_minutes : int
        Day trade: minutes before the session's end (0-240, default 10).
    margin_per_contract, fee_per_contract : float or None
        Futures: margin and day-trade B3 fee per contract in R$ (None: the contract's
        documented defaults, :mod:`core.data.futures`).
    slippage_ticks : float
        Futures: slippage per fill in ticks (default 1).
    """

    strategy: str
    tickers: tuple[str, ...]
    params: dict = field(default_factory=dict)
    start: Any = None
    end: Any = None
    cash: float = DEFAULT_CASH
    costs: str = "b3"
    sizing: str = "all_in"
    size_value: float | None = None
    lot_size: int = 100
    fractional: bool = True
    stop_loss: float = 0.0
    take_profit: float = 0.0
    trailing_stop: float = 0.0
    max_bars: int = 0
    allow_short: bool = False
    max_positions: int | None = None
    adjusted: bool = DEFAULT_ADJUSTED
    reinvest: bool | None = None
    cash_interest: float = 0.0
    interval: str = "1d"
    day_trade: bool = False
    flatten_minutes: int = DEFAULT_FLATTEN_MINUTES
    margin_per_contract: float | None = None
    fee_per_contract: float | None = None
    slippage_ticks: float = DEFAULT_SLIPPAGE_TICKS

    def engine_config(self) -> EngineConfig:
        """The :class:`core.backtest.engine.EngineConfig` of this request."""
        from core.backtest.costs import cost_preset
        from core.backtest.engine import EngineConfig
        from core.backtest.sizing import Sizing

        sizing = Sizing(
            method=self.sizing,
            value=self.size_value if self.size_value is not None else Sizing().value,
            lot_size=self.lot_size,
            fractional=self.fractional,
        )
        return EngineConfig(
            cash=self.cash,
            costs=cost_preset(self.costs),
            sizing=sizing,
            stop_loss=self.stop_loss,
            take_profit=self.take_profit,
            trailing_stop=self.trailing_stop,
            max_bars=self.max_bars,
            allow_short=self.allow_short,
            max_positions=self.max_positions,
            reinvest=self.reinvest,
            cash_interest=self.cash_interest,
            day_trade=self.day_trade,
            flatten_minutes=self.flatten_minutes,
            margin_per_contract=self.margin_per_contract,
            fee_per_contract_day_trade=self.fee_per_contract,
            slippage_ticks=self.slippage_ticks,
        )


def strategy_params(strategy: str, params: Any, *, complete: bool = True) -> dict:
    """Validated parameters of ``strategy`` from a mapping or ``"k=v,k2=v2"`` text.

    Numbers may be typed in pt-BR (``"0,5"``). An empty numeric field of the form is an error
    (not a silent default). With ``complete`` the result holds every declared parameter
    (defaults filled in); otherwise only those given, coerced.

    Raises
    ------
    InputError
        Unknown strategy or parameter, empty or out-of-range value, bad ``k=v`` text.
    """
    from core.strategies import STRATEGIES, get_strategy

    name = parse_choice(strategy, "Estratégia", STRATEGIES, default="sma_cross")
    cls = STRATEGIES[name]
    declared = {p.name: p for p in cls.params}
    if isinstance(params, str) or params is None:
        raw: dict[str, Any] = {}
        for item in (params or "").split(","):
            item = item.strip()
            if not item:
                continue
            if "=" not in item:
                raise InputError(
                    f"Parâmetro {shorten(item, 30)} inválido: use chave=valor (ex.: fast=10,slow=30)."
                )
            k, v = item.split("=", 1)
            raw[k.strip()] = v.strip()
    else:
        raw = dict(params)
    given: dict[str, Any] = {}
    for k, v in raw.items():
        p = declared.get(k)
        if p is not None and p.kind in ("int", "float"):
            if is_empty(v):
                raise InputError(
                    f"Parâmetro {p.label or p.name}: vazio ou fora do intervalo [{p.low}, {p.high}]."
                )
            given[k] = parse_number(v, f"Parâmetro {p.label or p.name}")
            continue
        if is_empty(v):
            continue
        given[k] = v
    strat = get_strategy(name, **given)
    if complete:
        return dict(strat.p)
    return {k: strat.p[k] for k in given}


def build_backtest_request(
    strategy: Any = None,
    tickers: Any = None,
    *,
    params: Any = None,
    start: Any = None,
    end: Any = None,
    cash: Any = None,
    costs: Any = None,
    sizing: Any = None,
    size_value: Any = None,
    lot: Any = None,
    lot_size: Any = None,
    fractional: Any = None,
    stop_loss: Any = None,
    take_profit: Any = None,
    trailing_stop: Any = None,
    max_bars: Any = None,
    allow_short: Any = None,
    max_positions: Any = None,
    adjusted: Any = None,
    reinvest: Any = None,
    cash_interest: Any = None,
    interval: Any = None,
    day_trade: Any = None,
    flatten_minutes: Any = None,
    margin_per_contract: Any = None,
    fee_per_contract: Any = None,
    slippage_ticks: Any = None,
) -> BacktestRequest:
    """Validate raw input (widget values or CLI strings) into a :class:`BacktestRequest`.

    Every argument may be empty (``None``/``""``): its default applies. Percent fields
    (``stop_loss``, ``take_profit``, ``trailing_stop``) are typed in %; ``cash`` in R$ (any
    form :func:`core.requests.parsing.parse_money` accepts); ``lot`` is a key of
    :data:`LOT_CHOICES` (the page) and ``lot_size``/``fractional`` the CLI's equivalent.

    Raises
    ------
    InputError
        Any value out of range, with a pt-BR message naming the field.
    """
    from core.backtest.costs import COST_PRESETS
    from core.backtest.sizing import SIZING_METHODS
    from core.strategies import STRATEGIES

    params_v = strategy_params(strategy, params)
    name = parse_choice(strategy, "Estratégia", STRATEGIES, default="sma_cross")
    sizing_v = parse_choice(sizing, "Dimensionamento", SIZING_METHODS, default="all_in")
    if sizing_v == "fixed":
        size_v = parse_money(size_value, "Valor do dimensionamento (R$)", default=None)
    elif sizing_v == "contracts":
        q = parse_int(size_value, "Quantidade (contratos)", default=None, lo=1, hi=100_000)
        size_v = None if q is None else float(q)
    else:
        size_v = parse_number(
            size_value, "Valor do dimensionamento (%)", lo=0, hi=100, lo_open=True, unit="%"
        )
    if size_v is None:
        size_v = SIZING_DEFAULTS[sizing_v]
    if not is_empty(lot):
        key = str(lot).strip()
        if key not in LOT_CHOICES:
            raise InputError(
                f"Lote: {shorten(lot, 10)} desconhecido; use {', '.join(LOT_CHOICES)}."
            )
        lot_v, frac_v = LOT_CHOICES[key]
    else:
        lot_v = parse_int(lot_size, "Lote (ações)", default=100, lo=1, hi=100_000)
        frac_v = parse_bool(fractional, "Fracionário", default=True)
    start_v, end_v = parse_date(start, "Início"), parse_date(end, "Fim")
    if start_v is not None and end_v is not None and start_v >= end_v:
        raise InputError("O início do período deve ser anterior ao fim.")
    sl = parse_percent(stop_loss, "Stop-loss", default=0.0, lo=0, hi=100, hi_open=True)
    tp = parse_percent(take_profit, "Alvo", default=0.0, lo=0, hi=100, hi_open=True)
    tr = parse_percent(trailing_stop, "Stop móvel", default=0.0, lo=0, hi=100, hi_open=True)
    req = BacktestRequest(
        strategy=name,
        tickers=parse_tickers(tickers, "Ativos"),
        params=params_v,
        start=start_v,
        end=end_v,
        cash=parse_money(cash, "Capital inicial (R$)", default=DEFAULT_CASH),
        costs=parse_choice(costs, "Custos", COST_PRESETS, default="b3"),
        sizing=sizing_v,
        size_value=size_v,
        lot_size=lot_v,
        fractional=frac_v,
        stop_loss=sl,
        take_profit=tp,
        trailing_stop=tr,
        max_bars=parse_int(max_bars, "Stop de tempo (barras)", default=0, lo=0, hi=10_000),
        allow_short=parse_bool(allow_short, "Venda a descoberto", default=False),
        max_positions=parse_int(max_positions, "Máx. posições abertas", default=None, lo=1),
        adjusted=parse_bool(adjusted, "Preços ajustados", default=DEFAULT_ADJUSTED),
        reinvest=None if is_empty(reinvest) else parse_bool(reinvest, "Reinvestir proventos"),
        cash_interest=parse_number(
            cash_interest, "Juros sobre o caixa (% do CDI)", default=0.0, lo=0, hi=200, unit="%"
        )
        / 100.0,
        interval=_parse_interval(interval),
        day_trade=parse_bool(day_trade, "Day trade", default=False),
        flatten_minutes=parse_int(
            flatten_minutes,
            "Encerrar antes do fim do pregão (min)",
            default=DEFAULT_FLATTEN_MINUTES,
            lo=0,
            hi=240,
        ),
        margin_per_contract=parse_money(
            margin_per_contract, "Margem por contrato (R$)", default=None, hi=1_000_000
        ),
        fee_per_contract=parse_money(
            fee_per_contract, "Taxa por contrato (R$)", default=None, allow_zero=True, hi=1_000
        ),
        slippage_ticks=parse_number(
            slippage_ticks, "Derrapagem (ticks)", default=DEFAULT_SLIPPAGE_TICKS, lo=0, hi=100
        ),
    )
    return req


def _parse_interval(value: Any) -> str:
    """The canonical interval of ``value`` (empty: ``1d``); pt-BR error naming the field."""
    from core.data.intraday import normalize_interval

    if is_empty(value):
        return "1d"
    try:
        iv = normalize_interval(str(value))
    except InputError:
        iv = ""
    if iv not in INTERVAL_CHOICES:
        raise InputError(
            f"Intervalo: {shorten(value, 10)} inválido; use {', '.join(INTERVAL_CHOICES)}."
        )
    return iv


def run_backtest_request(
    store: Store, req: BacktestRequest, *, progress: Progress | None = None
) -> BacktestResult:
    """Run ``req`` (:func:`core.backtest.runner.run_backtest`); the result is not stored.

    Raises
    ------
    InputError, UnknownTickerError
        From the engine (e.g. risk sizing without a stop, a ticker not stored).
    """
    from core.backtest.runner import run_backtest

    return run_backtest(
        store,
        req.strategy,
        list(req.tickers),
        req.start,
        req.end,
        params=dict(req.params),
        config=req.engine_config(),
        adjusted=req.adjusted,
        progress=progress,
        interval=req.interval,
    )
