"""Portfolio commands: ``frontier`` (optimise, frontier, allocation) and ``portfolios`` (saved).

``python -m dashboard frontier PETR4 VALE3 ITUB4 --objective max_sharpe --capital 50000 --json``
prints ``{"window", "weights", "performance": {"expected_return", "volatility", "sharpe"},
"frontier": [{"volatility", "expected_return"}, ...], "allocation"}`` (annual fractions;
``allocation`` is null without ``--capital``).
"""

from __future__ import annotations

import re

from core.errors import InputError
from core.requests import build_frontier_request, run_frontier_request
from core.requests.parsing import parse_rate
from dashboard.cli import dumps, lazy_choices, progress_printer, warn


def parse_bounds(s: str | None) -> tuple[float | None, float | None]:
    """``"0,0.3"`` or ``"0%,30%"`` -> (0.0, 0.3); None -> (None, None) (the defaults)."""
    if s is None:
        return (None, None)
    parts = [p for p in re.split(r"[;,]", s) if p.strip()]
    if len(parts) != 2:
        raise InputError(f"Limites inválidos {s!r}: use MIN,MAX (por exemplo 0,0.3).")
    return (parse_rate(parts[0], "Peso mínimo"), parse_rate(parts[1], "Peso máximo"))


def frontier_request_from_args(args, settings=None):
    """The :class:`core.portfolio.PortfolioRequest` of ``frontier``'s arguments.

    Rates (``--target``, ``--risk-free``, ``--bounds``) are fractions or ``N%``; views are in
    % a year like on the page (``PETR4=20`` is 20 %).
    """
    wmin, wmax = parse_bounds(args.bounds)
    return build_frontier_request(
        args.tickers,
        start=args.start,
        end=args.end,
        objective=args.objective,
        target=parse_rate(args.target, "Alvo"),
        returns_method=args.returns,
        risk_model=args.risk_model,
        risk_free=parse_rate(args.risk_free, "Taxa livre de risco"),
        weight_min=wmin,
        weight_max=wmax,
        asset_bounds=args.asset_bounds,
        gamma=args.gamma,
        risk_aversion=args.risk_aversion,
        points=args.points,
        views=args.views,
        holdings=args.holdings,
        capital=args.capital,
        costs=not args.no_costs,
        out_of_sample=args.oos,
        rebalance=args.rebalance,
        default_risk_free=getattr(settings, "risk_free_rate", None),
    )


def cmd_frontier(args, ctx) -> int:
    """Optimise a portfolio, print weights, frontier and (with --capital) B3 orders."""
    from components.format import fmt_brl, fmt_num, fmt_pct
    from core.portfolio import OBJECTIVES, save_portfolio

    req = frontier_request_from_args(args, ctx.settings)
    result = run_frontier_request(ctx.store(), req, progress=progress_printer(quiet=args.json))
    res = result.data
    if args.save:
        save_portfolio(ctx.store(), args.save, res["weights"], req.parameters(), overwrite=True)
    for w in result.warnings:
        warn(w)
    if args.json:
        print(dumps(result.to_json_dict()))
        return 0
    w = res["window"]
    print(
        f"Janela comum: {w['start']} a {w['end']} ({w['sessions']} pregões; limitada por "
        f"{w['limiting_ticker']}). Livre de risco: {fmt_pct(w['risk_free'])} a.a. "
        f"({w['risk_free_source']})."
    )
    print(f"Objetivo: {OBJECTIVES[res['objective']]}")
    for t, x in sorted(res["weights"].items(), key=lambda kv: -kv[1]):
        if abs(x) > 1e-6:
            print(f"  {t:<8} {fmt_pct(x)}")
    p = res["performance"]
    print(
        f"Retorno esperado {fmt_pct(p['expected_return'])} a.a., volatilidade {fmt_pct(p['volatility'])} "
        f"a.a., Sharpe {fmt_num(p['sharpe'])}"
    )
    m = res["metrics"]
    print(
        f"vs ^BVSP: beta {fmt_num(m['beta'])}, alfa {fmt_pct(m['alpha'])} a.a., tracking error "
        f"{fmt_pct(m['tracking_error'])}, IR {fmt_num(m['information_ratio'])}"
    )
    print(f"Fronteira: {len(res['frontier'])} pontos")
    for n in res["notes"]:
        print(f"Nota: {n}")
    if res["out_of_sample"]:
        o = res["out_of_sample"]
        print(
            f"Fora da amostra: treino {o['train']['start']}–{o['train']['end']}, "
            f"teste {o['test']['start']}–{o['test']['end']} ({o['test']['sessions']} pregões)"
        )
        for k, st in o["stats"].items():
            print(
                f"  {k:<13} retorno {fmt_pct(st['total_return'])}  Sharpe {fmt_num(st['sharpe'])}  "
                f"máx. queda {fmt_pct(st['max_drawdown'])}"
            )
    a = res["allocation"]
    if a:
        print(
            f"Alocação de {fmt_brl(a['capital'])}: investido {fmt_brl(a['invested'])}, custos "
            f"{fmt_brl(a['costs'])}, sobra {fmt_brl(a['cash_left'])}"
        )
        for o in a["orders"]:
            print(f"  {o['side']} {o['shares']:>6} {o['ticker']:<8} {fmt_brl(o['value'])}")
    return 0


def cmd_portfolios(args, ctx) -> int:
    """List saved portfolios, or print one with --name."""
    from core.portfolio import list_portfolios, load_portfolio

    store = ctx.store()
    if args.name:
        rec = load_portfolio(store, args.name)
        print(dumps(rec))
        return 0
    recs = list_portfolios(store)
    if args.json:
        print(dumps(recs))
    elif not recs:
        print("Nenhuma carteira salva.")
    else:
        for r in recs:
            top = ", ".join(
                f"{t} {w:.0%}"
                for t, w in sorted(r["weights"].items(), key=lambda kv: -kv[1])
                if w > 0.005
            )
            print(f"{r['name']}  ({r['created_at']:%d/%m/%Y %H:%M})  {top}")
    return 0


def register(sub, common) -> None:
    """Add ``frontier`` and ``portfolios`` to the CLI."""
    p = sub.add_parser(
        "frontier",
        parents=[common],
        help="Markowitz portfolio, efficient frontier and B3 lot allocation",
    )
    p.add_argument("tickers", nargs="+", metavar="TICKER")
    p.add_argument("--start", metavar="YYYY-MM-DD")
    p.add_argument("--end", metavar="YYYY-MM-DD")
    p.add_argument(
        "--objective",
        choices=lazy_choices("core.portfolio.optimize", "OBJECTIVES"),
        metavar="OBJECTIVE",
        help="%(choices)s",
    )
    p.add_argument("--target", metavar="X", help="target return/volatility (0.15 or 15%%)")
    p.add_argument(
        "--returns",
        choices=lazy_choices("core.portfolio.inputs", "RETURN_METHODS"),
        metavar="RETURNS",
        help="%(choices)s",
    )
    p.add_argument(
        "--risk-model",
        choices=lazy_choices("core.portfolio.inputs", "RISK_MODELS"),
        metavar="RISK_MODEL",
        help="%(choices)s",
    )
    p.add_argument("--risk-free", metavar="RATE", help="annual rate (default: CDI of the window)")
    p.add_argument("--bounds", metavar="MIN,MAX", help="weight bounds per asset (default 0,1)")
    p.add_argument(
        "--asset-bounds", metavar="T=MIN:MAX,...", help="per-asset bounds in %% (PETR4=5:30)"
    )
    p.add_argument("--points", metavar="N", help="frontier points (default 50)")
    p.add_argument(
        "--capital",
        metavar="R$",
        help="capital to allocate in B3 lots; warns when an order exceeds 10%% of the "
        "average daily volume",
    )
    p.add_argument("--holdings", metavar="T=N,...", help="current shares (rebalance orders)")
    p.add_argument("--gamma", help="L2 regularisation (default 0)")
    p.add_argument("--risk-aversion", help="for max_quadratic_utility (default 1)")
    p.add_argument(
        "--views",
        metavar="T=R;...",
        help="Black-Litterman absolute views in %% a year, as on the page (PETR4=20 is 20 %%)",
    )
    p.add_argument("--oos", action="store_true", help="out-of-sample check (70%% train)")
    p.add_argument(
        "--rebalance",
        choices=lazy_choices("core.portfolio.benchmark", "REBALANCE"),
        metavar="REBALANCE",
        help="%(choices)s",
    )
    p.add_argument("--no-costs", action="store_true", help="ignore B3 costs")
    p.add_argument("--save", metavar="NAME", help="save the portfolio under NAME")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_frontier)

    p = sub.add_parser("portfolios", parents=[common], help="list saved portfolios")
    p.add_argument("--name", help="print one saved portfolio")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_portfolios)
