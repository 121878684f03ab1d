"""Backtest commands: ``backtest``, ``optimize``, ``strategies`` and ``runs``.

``python -m dashboard backtest --strategy NAME --tickers T... [--start] [--end]
[--params k=v,...] [--costs none|b3] [--sizing all_in|fixed|percent|risk|kelly]
[--lot-size N] [--cash R$] [--json]`` prints (with ``--json``)
``{"metrics": {...}, "trades": [{"ticker", "entry_date", "entry_price", "exit_date",
"exit_price", "shares", "pnl", ...}], "equity": [{"date", "equity"}...], ...}``.
``optimize`` takes the same options plus the walk-forward ones and prints the same shape
for the stitched out-of-sample result, with ``windows`` and ``heatmap``.

Intraday and day trade: ``--interval 5min|15min|30min|60min|1min|1d`` (default 1d; ``5m``,
``1h`` accepted), ``--day-trade`` (close everything ``--flatten-minutes`` before the
session's end, default 10), and for futures ``--contracts N`` (= ``--sizing contracts
--size-value N``), ``--margin R$`` and ``--fee-per-contract R$`` (day-trade fee) per
contract, ``--slippage-ticks N``. ``--json`` then adds ``interval`` and ``day_trade``, and
each trade ``qty`` (contracts) and, for futures, ``points``; intraday dates are
``YYYY-MM-DD HH:MM``.
"""

from __future__ import annotations

import argparse

from core.requests import (
    backtest_metrics,
    build_backtest_request,
    build_walk_forward_request,
    run_backtest_request,
    run_walk_forward_request,
)
from core.requests.liquidity import trade_liquidity_warnings
from core.requests.parsing import fmt_number
from dashboard.cli import dumps, lazy_choices, progress_printer, warn


def _backtest_fields(args) -> dict:
    """The shared options as :func:`core.requests.build_backtest_request` keywords."""
    from core.errors import InputError

    sizing, size_value = args.sizing, args.size_value
    contracts = getattr(args, "contracts", None)
    if contracts is not None:
        if sizing not in (None, "contracts") or size_value is not None:
            raise InputError("Use --contracts ou --sizing/--size-value, não os dois.")
        sizing, size_value = "contracts", contracts
    extra = {}
    for name in ("interval", "flatten_minutes", "margin", "fee_per_contract", "slippage_ticks"):
        v = getattr(args, name, None)
        if v is not None:
            extra["margin_per_contract" if name == "margin" else name] = v
    if getattr(args, "day_trade", False):
        extra["day_trade"] = True
    return dict(
        strategy=args.strategy,
        tickers=args.tickers,
        params=args.params,
        start=args.start,
        end=args.end,
        cash=args.cash,
        costs=args.costs,
        sizing=sizing,
        size_value=size_value,
        lot_size=args.lot_size,
        fractional=not args.no_fractional,
        stop_loss=args.stop_loss,
        take_profit=args.take_profit,
        trailing_stop=args.trailing,
        max_bars=args.max_bars,
        allow_short=args.short,
        max_positions=args.max_positions,
        adjusted=_adjusted(args),
        reinvest=getattr(args, "reinvest", None),
        cash_interest=getattr(args, "cash_interest", None),
        **extra,
    )


def backtest_request_from_args(args):
    """The :class:`core.requests.BacktestRequest` of ``backtest``'s arguments."""
    return build_backtest_request(**_backtest_fields(args))


def walk_forward_request_from_args(args):
    """The :class:`core.requests.WalkForwardRequest` of ``optimize``'s arguments."""
    fields = _backtest_fields(args)
    fixed = fields.pop("params")
    return build_walk_forward_request(
        **fields,
        fixed_params=fixed,
        objective=args.objective,
        mode=args.mode,
        windows=args.windows,
        train_ratio=args.train_ratio,
        trials=args.trials,
        heatmap=False if args.no_heatmap else (args.heatmap or True),
        seed=args.seed,
    )


def _adjusted(args) -> bool | None:
    """Price mode from ``--adjusted`` (approximation) / ``--unadjusted`` (the default now);
    None when neither is given (the request's default)."""
    from core.errors import InputError

    if getattr(args, "adjusted", False) and args.unadjusted:
        raise InputError("Use --adjusted ou --unadjusted, não os dois.")
    if getattr(args, "adjusted", False):
        return True
    return False if args.unadjusted else None


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "sim" if v else "não"
    if isinstance(v, float):
        if v != v:
            return "–"
        return fmt_number(v, 2)
    return str(v)


def _print_metrics(metrics: dict) -> None:
    from core.backtest.metrics import METRIC_INFO

    for k, v in metrics.items():
        label, unit = METRIC_INFO.get(k, (k, ""))
        print(f"  {label:<48} {_fmt(v):>16} {unit}")


def cmd_backtest(args, ctx) -> int:
    """Run one backtest, store it (unless --no-save) and print the result."""
    from core.backtest.runs import save_run

    req = backtest_request_from_args(args)
    store = ctx.store()
    res = run_backtest_request(store, req, progress=None if args.json else progress_printer())
    if not args.no_save:
        save_run(store, res, name=args.name or "", owner=args.owner)
    for w in trade_liquidity_warnings(store, res.trades):
        warn(w)
    if args.json:
        print(dumps(res.to_json_dict()))
        return 0
    print(
        f"{res.strategy} {res.params} em {', '.join(res.tickers)}: "
        f"{res.start:%d/%m/%Y} a {res.end:%d/%m/%Y}"
        + (f" (backtest nº {res.run_id})" if res.run_id else "")
    )
    print(f"  Preços: {res.price_mode_label}")
    if res.interval != "1d" or res.config.day_trade:
        mode = (
            f" · day trade (zera {res.config.flatten_minutes} min antes do fim do pregão)"
            if res.config.day_trade
            else ""
        )
        print(f"  Barras: {res.interval}{mode}")
    for note in res.extra.get("notes", []):
        print(f"  {note}")
    metrics = backtest_metrics(res)
    _print_metrics(metrics.to_dict())
    if res.params.get("in_sample"):
        print("  Atenção: resultado otimista – inclui datas usadas no treino do modelo de ML.")
    if metrics.too_few_trades:
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
        if "points" in res.trades.columns and res.trades["points"].notna().any():
            cols[cols.index("shares")] = "qty"
            cols.insert(cols.index("pnl"), "points")
        print(res.trades[cols].tail(args.last).to_string(index=False))
    return 0


def cmd_optimize(args, ctx) -> int:
    """Walk-forward optimisation; prints the stitched out-of-sample result."""
    from core.backtest.runs import save_run

    req = walk_forward_request_from_args(args)
    store = ctx.store()
    res = run_walk_forward_request(store, req, progress=None if args.json else progress_printer())
    if not args.no_save:
        res.run_id = save_run(
            store,
            res.to_backtest_result(),
            name=args.name or "",
            kind="walk_forward",
            owner=args.owner,
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
    from core.strategies import STRATEGIES

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
    from core.backtest.runs import list_runs, load_run

    store = ctx.store()
    if args.show is not None:
        res = load_run(store, args.show, owner=args.owner)
        if args.json:
            print(dumps(res.to_json_dict()))
        else:
            print(
                f"Backtest nº {res.run_id}: {res.strategy} {res.params} em "
                f"{', '.join(res.tickers)} ({res.extra.get('code_version')})"
            )
            _print_metrics(res.metrics)
        return 0
    df = list_runs(store, limit=args.limit, owner=args.owner)
    if args.json:
        print(dumps(df.to_dict(orient="records")))
    else:
        print(df.to_string(index=False) if len(df) else "Nenhum backtest armazenado.")
    return 0


def _common_options(p) -> None:
    p.add_argument(
        "--strategy",
        required=True,
        choices=lazy_choices("core.strategies", "STRATEGIES"),
        metavar="NAME",
        help="one of: %(choices)s",
    )
    p.add_argument("--tickers", nargs="+", required=True, metavar="T", help="one or more tickers")
    p.add_argument("--start", metavar="YYYY-MM-DD")
    p.add_argument("--end", metavar="YYYY-MM-DD")
    p.add_argument("--params", metavar="k=v,...", help="strategy parameters")
    p.add_argument(
        "--costs",
        choices=lazy_choices("core.backtest.costs", "COST_PRESETS"),
        metavar="COSTS",
        help="%(choices)s",
    )
    p.add_argument(
        "--sizing",
        choices=lazy_choices("core.backtest.sizing", "SIZING_METHODS"),
        metavar="SIZING",
        help="%(choices)s",
    )
    p.add_argument(
        "--size-value",
        metavar="X",
        help="R$ (fixed, default 10000), %% of equity (percent 10, kelly before 10 trades 10), "
        "%% of equity risked to the stop (risk, default 1)",
    )
    p.add_argument("--lot-size", metavar="N", help="round lot in shares (default 100)")
    p.add_argument(
        "--no-fractional",
        action="store_true",
        help="whole lots only (no fractional-market remainder)",
    )
    p.add_argument("--cash", metavar="R$", help="initial cash (R$, default 100000)")
    p.add_argument("--stop-loss", metavar="PCT", help="in %% of the entry price")
    p.add_argument("--take-profit", metavar="PCT", help="in %% of the entry price")
    p.add_argument("--trailing", metavar="PCT", help="in %% of the entry price")
    p.add_argument("--max-bars", metavar="N", help="time stop in bars")
    p.add_argument("--short", action="store_true", help="allow short sales (borrow fee)")
    p.add_argument("--max-positions", metavar="N")
    p.add_argument(
        "--unadjusted",
        action="store_true",
        help="trade traded prices with proventos as cash (the default; kept for old scripts)",
    )
    p.add_argument(
        "--adjusted",
        action="store_true",
        help="trade the dividend-adjusted series (a labelled approximation)",
    )
    p.add_argument(
        "--reinvest",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="reinvest proventos (default: buy_and_hold yes, other strategies keep cash)",
    )
    p.add_argument(
        "--cash-interest",
        type=float,
        metavar="PCT",
        help="interest on idle cash, %% of the CDI (default 0)",
    )
    p.add_argument(
        "--interval",
        metavar="INTERVAL",
        help="bar interval: 1d (default), 5min, 15min, 30min, 60min, 1min (5m, 1h accepted); "
        "coarser ones are resampled inside sessions",
    )
    p.add_argument(
        "--day-trade",
        action="store_true",
        help="close every position before the session's end (nothing held overnight)",
    )
    p.add_argument(
        "--flatten-minutes",
        metavar="MIN",
        help="day trade: minutes before the session's end to close positions (default 10)",
    )
    p.add_argument(
        "--contracts",
        metavar="N",
        help="fixed quantity per entry (futures contracts); same as --sizing contracts "
        "--size-value N",
    )
    p.add_argument(
        "--margin", metavar="R$", help="futures: margin per contract (default: the contract's)"
    )
    p.add_argument(
        "--fee-per-contract",
        metavar="R$",
        help="futures: B3 day-trade fee per contract and side (default: the contract's)",
    )
    p.add_argument(
        "--slippage-ticks", metavar="N", help="futures: slippage per fill in ticks (default 1)"
    )
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub, common) -> None:
    """Add ``backtest``, ``optimize``, ``strategies`` and ``runs`` to the CLI."""
    p = sub.add_parser("backtest", parents=[common], help="backtest a strategy")
    _common_options(p)
    p.add_argument("--name", help="name of the stored run")
    p.add_argument("--no-save", action="store_true", help="do not store the run")
    p.add_argument("--last", type=int, default=20, help="trades to list (text output)")
    p.add_argument(
        "--owner", metavar="USER", help="store the run as USER's (team mode; default: the team's)"
    )
    p.set_defaults(func=cmd_backtest)

    p = sub.add_parser("optimize", parents=[common], help="walk-forward optimisation (Optuna)")
    _common_options(p)
    p.add_argument(
        "--objective",
        choices=lazy_choices("core.backtest.optimize", "OBJECTIVES"),
        metavar="OBJECTIVE",
        help="%(choices)s",
    )
    p.add_argument("--mode", choices=["rolling", "anchored"])
    p.add_argument("--windows", help="out-of-sample windows (default 4)")
    p.add_argument("--train-ratio", help="training span in test spans (default 2)")
    p.add_argument("--trials", help="Optuna trials per window (default 30)")
    p.add_argument("--heatmap", metavar="X,Y", help="two parameters for the stability map")
    p.add_argument("--no-heatmap", action="store_true")
    p.add_argument("--seed", help="sampler seed (default 0)")
    p.add_argument("--name", help="name of the stored out-of-sample run")
    p.add_argument("--no-save", action="store_true", help="do not store the result")
    p.add_argument(
        "--owner", metavar="USER", help="store the run as USER's (team mode; default: the team's)"
    )
    p.set_defaults(func=cmd_optimize)

    p = sub.add_parser("strategies", parents=[common], help="list strategies and parameters")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_strategies)

    p = sub.add_parser("runs", parents=[common], help="list or reopen stored backtests")
    p.add_argument("--show", type=int, metavar="ID")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--owner", metavar="USER", help="only what USER sees: own and team runs (default: all)"
    )
    p.set_defaults(func=cmd_runs)
