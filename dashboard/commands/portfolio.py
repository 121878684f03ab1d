"""Portfolio commands: ``frontier`` (optimise, frontier, allocation) and ``portfolios`` (saved).

``python -m dashboard frontier PETR4 VALE3 ITUB4 --objective max_sharpe --capital 50000 --json``
prints ``{"window", "weights", "performance": {"expected_return", "volatility", "sharpe"},
"frontier": [{"volatility", "expected_return"}, ...], "allocation"}`` (annual fractions;
``allocation`` is null without ``--capital``).
"""

from __future__ import annotations

import re

import pandas as pd

from core.backtest.costs import B3_DEFAULT, NO_COSTS
from core.errors import InputError
from core.portfolio import (
    OBJECTIVES,
    REBALANCE,
    RETURN_METHODS,
    RISK_MODELS,
    PortfolioRequest,
    PortfolioSpec,
    analyse,
    list_portfolios,
    load_portfolio,
    parse_pairs,
    parse_percent_range,
    save_portfolio,
)
from core.textfmt import brl as fmt_brl
from core.textfmt import num as fmt_num
from core.textfmt import pct as fmt_pct
from dashboard.cli import dumps, progress_printer


def _date(s: str | None) -> pd.Timestamp | None:
    if s is None:
        return None
    try:
        return pd.Timestamp(pd.to_datetime(s, format="%Y-%m-%d"))
    except (ValueError, TypeError) as exc:
        raise InputError(f"Data inválida {s!r}: use AAAA-MM-DD.") from exc


def parse_rate(s: str | None, what: str) -> float | None:
    """``"0.12"`` or ``"12%"`` (also ``"12,5%"``) -> 0.12 / 0.125; None stays None."""
    if s is None:
        return None
    txt = s.strip().replace(",", ".")
    pct = txt.endswith("%")
    try:
        v = float(txt.rstrip("%"))
    except ValueError as exc:
        raise InputError(f"{what} inválido {s!r}: use fração (0.12) ou percentual (12%).") from exc
    return v / 100.0 if pct else v


def parse_money(s: str | None) -> float | None:
    """``"50000"``, ``"50.000,00"``, ``"R$ 50.000"`` -> 50000.0."""
    if s is None:
        return None
    txt = s.replace("R$", "").replace(" ", "").strip()
    if "," in txt:
        txt = txt.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(\.\d{3})+", txt):
        txt = txt.replace(".", "")
    try:
        v = float(txt)
    except ValueError as exc:
        raise InputError(f"Capital inválido {s!r}: use por exemplo 50000 ou 50.000,00.") from exc
    if v < 0:
        raise InputError("O capital não pode ser negativo.")
    return v


def parse_bounds(s: str | None) -> tuple[float, float]:
    """``"0,0.3"`` or ``"0%,30%"`` -> (0.0, 0.3)."""
    if s is None:
        return (0.0, 1.0)
    parts = [p for p in re.split(r"[;,]", s) if p.strip()]
    if len(parts) != 2:
        raise InputError(f"Limites inválidos {s!r}: use MIN,MAX (por exemplo 0,0.3).")
    return (parse_rate(parts[0], "Limite"), parse_rate(parts[1], "Limite"))


def cmd_frontier(args, ctx) -> int:
    """Optimise a portfolio, print weights, frontier and (with --capital) B3 orders."""
    start, end = _date(args.start), _date(args.end)
    spec = PortfolioSpec(
        objective=args.objective,
        target=parse_rate(args.target, "Alvo"),
        bounds=parse_bounds(args.bounds),
        per_asset_bounds=parse_pairs(args.asset_bounds, "Limites por ativo", parse_percent_range),
        gamma=args.gamma,
        risk_aversion=args.risk_aversion,
        views=parse_pairs(args.views, "Visões", lambda v: parse_rate(v, "Visão")) or None,
    )
    holdings = parse_pairs(args.holdings, "Posições", lambda v: int(float(v)))
    req = PortfolioRequest(
        tickers=args.tickers,
        start=start,
        end=end,
        returns_method=args.returns,
        risk_model=args.risk_model,
        risk_free=parse_rate(args.risk_free, "Taxa livre de risco")
        if args.risk_free is not None
        else ctx.settings.risk_free_rate,
        spec=spec,
        points=args.points,
        capital=parse_money(args.capital),
        holdings=holdings or None,
        costs=NO_COSTS if args.no_costs else B3_DEFAULT,
        out_of_sample=args.oos,
        rebalance=args.rebalance,
    )
    res = analyse(ctx.store(), req, progress=progress_printer(quiet=args.json))
    if args.save:
        save_portfolio(ctx.store(), args.save, res["weights"], req.parameters(), overwrite=True)
    out = {
        "window": res["window"],
        "weights": res["weights"],
        "performance": res["performance"],
        "frontier": [
            {"volatility": p["volatility"], "expected_return": p["expected_return"]}
            for p in res["frontier"]
        ],
        "allocation": res["allocation"],
    }
    if args.oos:
        out["out_of_sample"] = {
            k: res["out_of_sample"][k] for k in ("weights", "stats", "active", "train", "test")
        }
    if args.json:
        print(dumps(out))
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
                f"{t} {fmt_pct(w, 0)}"
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
    p.add_argument("--objective", choices=list(OBJECTIVES), default="max_sharpe")
    p.add_argument("--target", metavar="X", help="target return/volatility (0.15 or 15%%)")
    p.add_argument("--returns", choices=list(RETURN_METHODS), default="mean_historical")
    p.add_argument("--risk-model", choices=list(RISK_MODELS), default="ledoit_wolf")
    p.add_argument("--risk-free", metavar="RATE", help="annual rate (default: CDI of the window)")
    p.add_argument("--bounds", metavar="MIN,MAX", help="weight bounds per asset (default 0,1)")
    p.add_argument(
        "--asset-bounds", metavar="T=MIN:MAX,...", help="per-asset bounds in %% (PETR4=5:30)"
    )
    p.add_argument("--points", type=int, default=50, metavar="N", help="frontier points")
    p.add_argument("--capital", metavar="R$", help="capital to allocate in B3 lots")
    p.add_argument("--holdings", metavar="T=N,...", help="current shares (rebalance orders)")
    p.add_argument("--gamma", type=float, default=0.0, help="L2 regularisation")
    p.add_argument("--risk-aversion", type=float, default=1.0, help="for max_quadratic_utility")
    p.add_argument("--views", metavar="T=R,...", help="Black-Litterman absolute views")
    p.add_argument("--oos", action="store_true", help="out-of-sample check (70%% train)")
    p.add_argument("--rebalance", choices=list(REBALANCE), default="none")
    p.add_argument("--no-costs", action="store_true", help="ignore B3 costs")
    p.add_argument("--save", metavar="NAME", help="save the portfolio under NAME")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_frontier)

    p = sub.add_parser("portfolios", parents=[common], help="list saved portfolios")
    p.add_argument("--name", help="print one saved portfolio")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_portfolios)
