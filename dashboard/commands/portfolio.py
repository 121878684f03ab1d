"""Portfolio commands: ``frontier`` (optimise, frontier, allocation), ``portfolios`` (saved),
``portfolio-backtest`` (walk-forward test, stored) and ``portfolio-runs`` (stored runs).

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
        split=args.split,
        rebalance=args.rebalance,
        oos_universe=args.oos_universe,
        lookback=args.lookback,
        taxes=not args.no_taxes,
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
        save_portfolio(
            ctx.store(),
            args.save,
            res["weights"],
            req.parameters(),
            overwrite=True,
            owner=args.owner,
        )
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
        _print_walk_forward(o)
    a = res["allocation"]
    if a:
        print(
            f"Alocação de {fmt_brl(a['capital'])}: investido {fmt_brl(a['invested'])}, custos "
            f"{fmt_brl(a['costs'])}, sobra {fmt_brl(a['cash_left'])}"
        )
        for o in a["orders"]:
            print(f"  {o['side']} {o['shares']:>6} {o['ticker']:<8} {fmt_brl(o['value'])}")
    return 0


def _print_walk_forward(o: dict) -> None:
    from components.format import fmt_brl, fmt_int, fmt_num, fmt_pct

    print(
        f"Fora da amostra (walk-forward, {len(o['rebalances'])} rebalanceamentos): primeira "
        f"janela de estimação {o['train']['start']}–{o['train']['end']}, teste "
        f"{o['test']['start']}–{o['test']['end']} ({fmt_int(o['test']['sessions'])} pregões)"
    )
    for k, st in o["stats"].items():
        extra = ""
        if "costs" in st:
            extra = f"  custos {fmt_brl(st['costs'])}  IR {fmt_brl(st['taxes'])}"
        print(
            f"  {k:<17} CAGR {fmt_pct(st['cagr']):>8}  vol. {fmt_pct(st['volatility']):>8}  "
            f"Sharpe {fmt_num(st['sharpe']):>6}  máx. queda {fmt_pct(st['max_drawdown']):>8}{extra}"
        )
    for key, label in (("vs_equal_weight", "1/N"), ("vs_min_variance", "mínima variância")):
        t = o["sharpe_tests"][key]
        print(
            f"  Sharpe da carteira − {label}: {fmt_num(t['difference'], sign=True)} "
            f"(p = {fmt_num(t['p_value'], 3)}, Jobson-Korkie/Memmel, n = {fmt_int(t['n'])})"
        )
    for n in o["notes"]:
        print(f"  Nota: {n}")


def cmd_portfolio_backtest(args, ctx) -> int:
    """Walk-forward rebalancing backtest of a portfolio rule (stored as a run)."""
    from core.backtest.costs import B3_DEFAULT, NO_COSTS
    from core.backtest.taxes import TaxRules
    from core.portfolio import PortfolioSpec, save_run, walk_forward
    from core.requests.frontier import parse_views
    from core.requests.parsing import parse_date, parse_money

    def _date(v):
        return parse_date(v, "Data")

    spec = PortfolioSpec(
        objective=args.objective,
        target=parse_rate(args.target, "Alvo"),
        bounds=parse_bounds(args.bounds),
        gamma=args.gamma,
        risk_aversion=args.risk_aversion,
        views=parse_views(args.views),
    )
    if args.universe == "chosen" and len(args.tickers or []) < 2:
        raise InputError("Com --universe chosen informe pelo menos 2 ações.")
    capital = parse_money(args.capital) if args.capital else 100_000.0
    risk_free = (
        parse_rate(args.risk_free, "Taxa livre de risco")
        if args.risk_free is not None
        else ctx.settings.risk_free_rate
    )
    wf = walk_forward(
        ctx.store(),
        spec,
        args.tickers or None,
        universe=args.universe,
        n_assets=args.n,
        start=_date(args.start),
        end=_date(args.end),
        lookback=args.lookback,
        rebalance=args.rebalance,
        returns_method=args.returns,
        risk_model=args.risk_model,
        risk_free=risk_free,
        costs=NO_COSTS if args.no_costs else B3_DEFAULT,
        taxes=None if args.no_taxes else TaxRules(),
        capital=capital or 100_000.0,
        progress=progress_printer(quiet=args.json),
    )
    out = wf.to_dict()
    out["run_id"] = save_run(ctx.store(), "walk_forward", out["parameters"], out, owner=args.owner)
    if args.json:
        print(dumps({k: v for k, v in out.items() if k not in ("equity", "drawdown")}))
        return 0
    _print_walk_forward(out)
    print(f"Salvo como execução de carteira nº {out['run_id']}.")
    return 0


def cmd_portfolio_runs(args, ctx) -> int:
    """List stored portfolio runs, or print one with --id."""
    from core.portfolio import list_runs, load_run

    store = ctx.store()
    if args.id is not None:
        print(dumps(load_run(store, args.id, owner=args.owner)))
        return 0
    recs = list_runs(store, args.kind, owner=args.owner)
    if args.json:
        print(dumps(recs))
    elif not recs:
        print("Nenhuma execução de carteira salva.")
    else:
        for r in recs:
            print(f"{r['id']:>4}  {r['kind']:<13} {r['created_at']:%d/%m/%Y %H:%M}")
    return 0


def cmd_portfolios(args, ctx) -> int:
    """List saved portfolios, or print one with --name."""
    from core.portfolio import list_portfolios, load_portfolio

    store = ctx.store()
    if args.name:
        rec = load_portfolio(store, args.name, owner=args.owner)
        print(dumps(rec))
        return 0
    recs = list_portfolios(store, owner=args.owner)
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
        "--views", metavar="T=R,...", help="Black-Litterman views in %% a year (PETR4=20)"
    )
    p.add_argument(
        "--oos", action="store_true", help="walk-forward out-of-sample test (costs, taxes)"
    )
    p.add_argument(
        "--rebalance",
        choices=lazy_choices("core.portfolio.benchmark", "REBALANCE"),
        metavar="REBALANCE",
        help="%(choices)s (default quarterly)",
    )
    p.add_argument(
        "--oos-universe",
        choices=lazy_choices("core.portfolio.walkforward", "UNIVERSES"),
        metavar="UNIVERSE",
        help="liquid: most liquid at each rebalance (no hindsight); chosen: the tickers",
    )
    p.add_argument("--lookback", metavar="N", help="estimation window (sessions, default 756)")
    p.add_argument("--split", metavar="YYYY-MM-DD", help="earliest first rebalance of --oos")
    p.add_argument("--no-taxes", action="store_true", help="no income tax in --oos")
    p.add_argument("--no-costs", action="store_true", help="ignore B3 costs")
    p.add_argument("--save", metavar="NAME", help="save the portfolio under NAME")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--owner", metavar="USER", help="save as USER's (team mode; default: the team's)"
    )
    p.set_defaults(func=cmd_frontier)

    p = sub.add_parser(
        "portfolio-backtest",
        parents=[common],
        help="walk-forward rebalancing test vs 1/N, min variance, ^BVSP, CDI (stored)",
    )
    p.add_argument("tickers", nargs="*", metavar="TICKER")
    p.add_argument(
        "--universe",
        choices=lazy_choices("core.portfolio.walkforward", "UNIVERSES"),
        default="liquid",
        metavar="UNIVERSE",
    )
    p.add_argument("--n", type=int, default=None, help="size of the liquid universe (10)")
    p.add_argument("--start", metavar="YYYY-MM-DD", help="earliest first rebalance")
    p.add_argument("--end", metavar="YYYY-MM-DD")
    p.add_argument(
        "--objective",
        choices=lazy_choices("core.portfolio.optimize", "OBJECTIVES"),
        default="max_sharpe",
        metavar="OBJECTIVE",
    )
    p.add_argument("--target", metavar="X")
    p.add_argument(
        "--returns",
        choices=lazy_choices("core.portfolio.inputs", "RETURN_METHODS"),
        default="mean_historical",
        metavar="RETURN_METHOD",
    )
    p.add_argument(
        "--risk-model",
        choices=lazy_choices("core.portfolio.inputs", "RISK_MODELS"),
        default="ledoit_wolf",
        metavar="RISK_MODEL",
    )
    p.add_argument("--risk-free", metavar="RATE")
    p.add_argument("--bounds", metavar="MIN,MAX")
    p.add_argument("--gamma", type=float, default=0.0)
    p.add_argument("--risk-aversion", type=float, default=1.0)
    p.add_argument("--views", metavar="T=R,...", help="Black-Litterman views in %% a year")
    p.add_argument("--lookback", type=int, default=756, help="estimation window (sessions)")
    p.add_argument(
        "--rebalance",
        choices=lazy_choices("core.portfolio.benchmark", "REBALANCE"),
        default="quarterly",
        metavar="REBALANCE",
    )
    p.add_argument("--capital", metavar="R$", help="starting capital (default 100000)")
    p.add_argument("--no-costs", action="store_true")
    p.add_argument("--no-taxes", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--owner", metavar="USER", help="save as USER's (team mode; default: the team's)"
    )
    p.set_defaults(func=cmd_portfolio_backtest)

    p = sub.add_parser("portfolio-runs", parents=[common], help="list stored portfolio runs")
    p.add_argument("--id", type=int, default=None, help="print one run")
    p.add_argument("--kind", choices=["analysis", "walk_forward"], default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--owner", metavar="USER", help="only what USER sees: own and team rows (default: all)"
    )
    p.set_defaults(func=cmd_portfolio_runs)

    p = sub.add_parser("portfolios", parents=[common], help="list saved portfolios")
    p.add_argument("--name", help="print one saved portfolio")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--owner", metavar="USER", help="only what USER sees: own and team rows (default: all)"
    )
    p.set_defaults(func=cmd_portfolios)
