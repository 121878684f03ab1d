"""Backtest commands: ``backtest``, ``optimize``, ``strategies`` and ``runs``.

``python -m dashboard backtest --strategy NAME --tickers T... [--start] [--end]
[--params k=v,...] [--costs none|b3] [--sizing all_in|fixed|percent|risk|kelly]
[--lot-size N] [--cash R$] [--json]`` prints (with ``--json``)
``{"metrics": {...}, "trades": [{"ticker", "entry_date", "entry_price", "exit_date",
"exit_price", "shares", "pnl", ...}], "equity": [{"date", "equity"}...], ...}``.
``optimize`` takes the same options plus the walk-forward ones and prints the same shape
for the stitched out-of-sample result, with ``windows`` and ``heatmap``.
"""

from __future__ import annotations

from core import textfmt
from core.backtest.costs import COST_PRESETS, cost_preset
from core.backtest.engine import EngineConfig
from core.backtest.metrics import METRIC_INFO
from core.backtest.optimize import OBJECTIVES, walk_forward
from core.backtest.runner import run_backtest
from core.backtest.runs import list_runs, load_run, save_run
from core.backtest.sizing import SIZING_METHODS, Sizing
from core.errors import InputError
from core.strategies import STRATEGIES, parse_params
from dashboard.cli import dumps, progress_printer


def parse_money(text: str) -> float:
    """Parse ``"100000"``, ``"100.000,00"`` or ``"R$ 50.000"`` into R$."""
    s = str(text).replace("R$", "").replace(" ", "").strip()
    if "," in s:
        s = s.replace(".", "").replace(",", ".")
    elif s.count(".") > 1 or (s.count(".") == 1 and len(s.split(".")[1]) == 3):
        s = s.replace(".", "")
    try:
        v = float(s)
    except ValueError:
        raise InputError(f"Valor em R$ inválido: {text!r} (ex.: 100000 ou 100.000,00).") from None
    if not v > 0:
        raise InputError(f"O valor em R$ deve ser positivo: {text!r}.")
    return v


def _pct(v: float | None, name: str) -> float:
    if v is None:
        return 0.0
    if not 0 <= v < 100:
        raise InputError(f"{name} deve estar entre 0 e 100 (%).")
    return v / 100.0


def config_from_args(args) -> EngineConfig:
    """The engine configuration from the shared command-line options."""
    sizing = Sizing(
        method=args.sizing,
        value=args.size_value
        if args.size_value is not None
        else (10_000.0 if args.sizing == "fixed" else (1.0 if args.sizing == "risk" else 10.0)),
        lot_size=args.lot_size,
        fractional=not args.no_fractional,
    )
    return EngineConfig(
        cash=parse_money(args.cash),
        costs=cost_preset(args.costs),
        sizing=sizing,
        stop_loss=_pct(args.stop_loss, "--stop-loss"),
        take_profit=_pct(args.take_profit, "--take-profit"),
        trailing_stop=_pct(args.trailing, "--trailing"),
        max_bars=args.max_bars,
        allow_short=args.short,
        max_positions=args.max_positions,
    )


def _print_metrics(metrics: dict) -> None:
    for k, v in metrics.items():
        label, unit = METRIC_INFO.get(k, (k, ""))
        print(f"  {label:<48} {textfmt.by_unit(v, unit):>16} {unit}")


def cmd_backtest(args, ctx) -> int:
    """Run one backtest, store it (unless --no-save) and print the result."""
    config = config_from_args(args)
    store = ctx.store()
    res = run_backtest(
        store,
        args.strategy,
        args.tickers,
        args.start,
        args.end,
        params=parse_params(args.params),
        config=config,
        adjusted=not args.unadjusted,
        progress=None if args.json else progress_printer(),
    )
    if not args.no_save:
        save_run(store, res, name=args.name or "")
    if args.json:
        print(dumps(res.to_json_dict()))
        return 0
    print(
        f"{res.strategy} {res.params} em {', '.join(res.tickers)}: "
        f"{res.start:%d/%m/%Y} a {res.end:%d/%m/%Y}"
        + (f" (backtest nº {res.run_id})" if res.run_id else "")
    )
    _print_metrics(res.metrics)
    if res.params.get("in_sample"):
        print("  Atenção: resultado otimista – inclui datas usadas no treino do modelo de ML.")
    if res.metrics.get("too_few_trades"):
        print("  Atenção: menos de 30 operações – pouco para concluir algo.")
    if len(res.trades):
        cols = [
            "ticker",
            "entry_date",
            "entry_price",
            "exit_date",
            "exit_price",
            "shares",
            "pnl",
            "exit_reason",
        ]
        print(res.trades[cols].tail(args.last).to_string(index=False))
    return 0


def cmd_optimize(args, ctx) -> int:
    """Walk-forward optimisation; prints the stitched out-of-sample result."""
    config = config_from_args(args)
    store = ctx.store()
    hm = None
    if args.heatmap:
        parts = [p.strip() for p in args.heatmap.split(",") if p.strip()]
        if len(parts) != 2:
            raise InputError("--heatmap espera dois parâmetros: ex. fast,slow.")
        hm = (parts[0], parts[1])
    res = walk_forward(
        store,
        args.strategy,
        args.tickers,
        args.start,
        args.end,
        fixed_params=parse_params(args.params),
        config=config,
        n_windows=args.windows,
        train_ratio=args.train_ratio,
        anchored=args.mode == "anchored",
        objective=args.objective,
        n_trials=args.trials,
        heatmap=hm if hm else (not args.no_heatmap),
        adjusted=not args.unadjusted,
        seed=args.seed,
        progress=None if args.json else progress_printer(),
    )
    if not args.no_save:
        res.run_id = save_run(
            store, res.to_backtest_result(), name=args.name or "", kind="walk_forward"
        )
    if args.json:
        print(dumps(res.to_json_dict()))
        return 0
    print(
        f"Walk-forward {res.strategy} ({'ancorado' if res.anchored else 'rolante'}, "
        f"objetivo {res.objective}, {res.n_trials} tentativas por janela)"
    )
    w = res.windows.copy()
    w["params"] = w["params"].map(lambda d: ", ".join(f"{k}={v}" for k, v in d.items()))
    print(w.to_string(index=False))
    print("Fora da amostra (janelas de teste encadeadas):")
    _print_metrics(res.oos_metrics)
    return 0


def cmd_strategies(args, ctx) -> int:
    """List strategies and their declared parameters."""
    data = [
        {
            "name": n,
            "label": c.label,
            "params": [p.to_dict() for p in c.params],
            "doc": (c.__module__ and __import__(c.__module__, fromlist=["x"]).__doc__ or ""),
        }
        for n, c in STRATEGIES.items()
    ]
    if args.json:
        print(dumps(data))
        return 0
    for d in data:
        ps = ", ".join(
            f"{p['name']}={p['default']}"
            + (f" [{p['low']}..{p['high']}]" if p["low"] is not None else "")
            for p in d["params"]
        )
        print(f"{d['name']:<16} {d['label']:<40} {ps}")
    return 0


def cmd_runs(args, ctx) -> int:
    """List stored runs, or reopen one with --show ID."""
    store = ctx.store()
    if args.show is not None:
        res = load_run(store, args.show)
        if args.json:
            print(dumps(res.to_json_dict()))
        else:
            print(
                f"Backtest nº {res.run_id}: {res.strategy} {res.params} em "
                f"{', '.join(res.tickers)} ({res.extra.get('code_version')})"
            )
            _print_metrics(res.metrics)
        return 0
    df = list_runs(store, limit=args.limit)
    if args.json:
        print(dumps(df.to_dict(orient="records")))
    else:
        print(df.to_string(index=False) if len(df) else "Nenhum backtest armazenado.")
    return 0


def _common_options(p) -> None:
    p.add_argument(
        "--strategy",
        required=True,
        choices=list(STRATEGIES),
        metavar="NAME",
        help=f"one of: {', '.join(STRATEGIES)}",
    )
    p.add_argument("--tickers", nargs="+", required=True, metavar="T", help="one or more tickers")
    p.add_argument("--start", metavar="YYYY-MM-DD")
    p.add_argument("--end", metavar="YYYY-MM-DD")
    p.add_argument("--params", metavar="k=v,...", help="strategy parameters")
    p.add_argument("--costs", choices=list(COST_PRESETS), default="b3")
    p.add_argument("--sizing", choices=list(SIZING_METHODS), default="all_in")
    p.add_argument(
        "--size-value",
        type=float,
        metavar="X",
        help="R$ (fixed), %% of equity (percent, kelly before 10 trades), %% risked (risk)",
    )
    p.add_argument("--lot-size", type=int, default=100, metavar="N")
    p.add_argument(
        "--no-fractional",
        action="store_true",
        help="whole lots only (no fractional-market remainder)",
    )
    p.add_argument("--cash", default="100000", metavar="R$", help="initial cash (R$)")
    p.add_argument("--stop-loss", type=float, metavar="%%")
    p.add_argument("--take-profit", type=float, metavar="%%")
    p.add_argument("--trailing", type=float, metavar="%%")
    p.add_argument("--max-bars", type=int, default=0, metavar="N", help="time stop in bars")
    p.add_argument("--short", action="store_true", help="allow short sales (borrow fee)")
    p.add_argument("--max-positions", type=int, metavar="N")
    p.add_argument(
        "--unadjusted", action="store_true", help="trade quoted prices (default: dividend-adjusted)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub, common) -> None:
    """Add ``backtest``, ``optimize``, ``strategies`` and ``runs`` to the CLI."""
    p = sub.add_parser("backtest", parents=[common], help="backtest a strategy")
    _common_options(p)
    p.add_argument("--name", help="name of the stored run")
    p.add_argument("--no-save", action="store_true", help="do not store the run")
    p.add_argument("--last", type=int, default=20, help="trades to list (text output)")
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("optimize", parents=[common], help="walk-forward optimisation (Optuna)")
    _common_options(p)
    p.add_argument("--objective", choices=list(OBJECTIVES), default="sharpe")
    p.add_argument("--mode", choices=["rolling", "anchored"], default="rolling")
    p.add_argument("--windows", type=int, default=4)
    p.add_argument("--train-ratio", type=float, default=2.0, help="training span in test spans")
    p.add_argument("--trials", type=int, default=30, help="Optuna trials per window")
    p.add_argument("--heatmap", metavar="X,Y", help="two parameters for the stability map")
    p.add_argument("--no-heatmap", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", help="name of the stored out-of-sample run")
    p.add_argument("--no-save", action="store_true", help="do not store the result")
    p.set_defaults(func=cmd_optimize)

    p = sub.add_parser("strategies", parents=[common], help="list strategies and parameters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_strategies)

    p = sub.add_parser("runs", parents=[common], help="list or reopen stored backtests")
    p.add_argument("--show", type=int, metavar="ID")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)
