"""ML commands: ``evaluate``, ``retrain``, ``predict``, ``models``, ``promote``, ``study``.

* ``evaluate (--ticker T | --file CSV) [--target direction|three_class]
  [--model logreg|rf|xgboost|lightgbm|svm] [--validation holdout|walk-forward|purged-kfold]
  [--folds N] [--json]``: per-fold and aggregate out-of-sample metrics, baselines, CIs and
  the p-value (nothing is stored);
* ``retrain [--target T] [--json]``: the scheduled job's function, run now;
* ``predict [--json]``: the champion's next-session probabilities for the instruments it
  was evaluated on, with staleness and what was skipped (logged, earlier ones scored);
* ``models [--json]`` lists the registry; ``promote ID`` applies the approval gates;
* ``study seed-ibov [--json] [--markdown PATH]``: the seed study beside the seed's table;
* ``meta-label [--strategy wave3] [--tickers ...] [--model M] [--gates ...] [--json]``:
  meta-labelling of a base strategy's trades against seed 002's gates
  (:func:`core.ml.meta.meta_label`).
"""

from __future__ import annotations

from dataclasses import asdict

from core.requests import (
    build_evaluate_request,
    build_retrain_request,
    run_evaluate_request,
    run_retrain_request,
)
from dashboard.cli import dumps, lazy_choices, progress_printer


def evaluate_request_from_args(args):
    """The :class:`core.requests.EvaluateRequest` of ``evaluate``'s arguments."""
    return build_evaluate_request(
        tickers=[args.ticker] if args.ticker else None,
        file=args.file,
        target=args.target,
        models=[args.model] if args.model else None,
        validation=args.validation,
        folds=args.folds,
        horizon=args.horizon,
        threshold=args.threshold,
        lookback=args.lookback,
        use_index=not args.no_index,
        tune=args.tune,
    )


def _artifact_dir(ctx):
    return ctx.settings.data_dir / "models"


def _gates(ctx):
    from core.ml.registry import ApprovalGates

    return ApprovalGates.from_string(getattr(ctx.settings, "ml_gates", "") or "")


def _pct(v) -> str:
    from core.textfmt import pct

    return "  —  " if v is None or v != v else f"{pct(v):>6}"


def _print_result(res: dict) -> None:
    from core.ml.stats import p_verdict
    from core.textfmt import num, pct

    s = res["summary"]
    print(
        f"\n{s['model_label']} — alvo {s['target']}, validação {s['validation']}, "
        f"n = {s['n']} previsões fora da amostra ({', '.join(s['tickers'])})"
    )
    print(
        "\nDobra  treino                  teste                   n_teste  acurácia  "
        "ROC-AUC  melhor ref."
    )
    for f in s["folds"]:
        print(
            f"{f['fold']:>5}  {str(f['train_start'])[:10]}..{str(f['train_end'])[:10]}  "
            f"{str(f['test_start'])[:10]}..{str(f['test_end'])[:10]}  {f['n_test']:>7}  "
            f"{_pct(f['accuracy'])}   {_pct(f['roc_auc'])}  {_pct(f['baseline'])}"
        )
    print("\nMétrica     valor    IC 95%")
    for k, m in s["metrics"].items():
        if k in ("brier", "log_loss"):
            print(f"{k:<10} {num(m['value'], 4)}  [{num(m['lo'], 4)} – {num(m['hi'], 4)}]")
        else:
            print(f"{k:<10} {_pct(m['value'])}  [{_pct(m['lo'])} – {_pct(m['hi'])}]")
    print("\nReferência            acurácia  IC 95%")
    for k, m in s["baselines"].items():
        mark = "  ← melhor" if k == s["best_baseline"] else ""
        print(f"{k:<20} {_pct(m['value'])}  [{_pct(m['lo'])} – {_pct(m['hi'])}]{mark}")
    print(f"\nAcurácia > melhor referência ({num(s['n_dates'], 0)} datas): {p_verdict(s)}")
    mde = s.get("mde") or {}
    if mde:
        print(
            f"Efeito mínimo detectável (α 5%, poder 80%): acurácia {pct(mde['accuracy'])} "
            f"(+{num(100 * mde['effect'], 1)} p.p.; n efetivo {num(mde['n_effective'], 0)}); "
            f"chance de detectar 55%: {pct(mde['power_55'], 0)}"
        )
    sk = s.get("skill") or {}
    if sk:
        print(
            f"Habilidade vs taxa-base: Brier {pct(sk['brier_skill'])}, log-loss "
            f"{pct(sk['log_loss_skill'])} (calibração: {s.get('calibration') or 'nenhuma'})"
        )
    share = s.get("fold_share")
    print(
        "Dobras que superam a sua referência: "
        + ("— (uma só dobra)" if share is None or share != share else pct(share, 0))
    )
    t = res["trading"]
    how = (
        "backtest no motor: abertura seguinte, lotes, custos B3, IR, caixa no CDI; Sharpe vs CDI"
        if t.get("engine")
        else "visão simplificada: sem CDI nem IR; Sharpe com rf 0"
    )
    print(f"\nOperando comprado quando P(alta) ≥ {pct(t['threshold'], 0)} ({how}):")
    sides = [("strategy", "Modelo"), ("buy_hold", "Comprar e manter")]
    if t.get("cdi"):
        sides.append(("cdi", "CDI"))
    for k, lbl in sides:
        p = t[k]
        print(
            f"  {lbl:<18} retorno {pct(p['total_return'])}  Sharpe {num(p['sharpe'], 2)}  "
            f"drawdown {pct(p['max_drawdown'])}  operações {p.get('trades', 0)}"
        )
    if t.get("engine"):
        print(
            f"  custos R$ {num(t['costs_brl'])}, IR R$ {num(t['taxes_brl'])}, retorno após IR "
            f"{pct(t['after_tax_return'])}"
        )


def cmd_evaluate(args, ctx) -> int:
    """Evaluate one model out of sample on a stored ticker or a price file."""
    req = evaluate_request_from_args(args)
    prog = progress_printer(quiet=args.json)
    store = None if req.file is not None else ctx.store()
    results = run_evaluate_request(store, req, progress=prog)
    if args.json:
        print(dumps([{k: v for k, v in r.items() if k != "roc"} for r in results]))
    else:
        for r in results:
            _print_result(r)
    return 0


def _print_checks(checks: list[dict]) -> None:
    from core.textfmt import num

    for c in checks:
        rule = f"regra {c.get('comparison', '')} {num(c['threshold'], 4)}"
        print(f"  [{'ok' if c['passed'] else 'X '}] {c['label']}: {num(c['value'], 4)} ({rule})")
        if c.get("detail"):
            print(f"        {c['detail']}")


def cmd_retrain(args, ctx) -> int:
    """Retrain the champion's recipe (or the default), promote it if it passes the gates and
    refresh the champion's predictions (what the weekly job and the page's "Retreinar agora"
    do: :func:`core.ml.training.retrain_and_refresh`)."""
    from core.ml.stats import p_verdict

    req = build_retrain_request(
        target=args.target,
        data_dir=ctx.settings.data_dir,
        gates=getattr(ctx.settings, "ml_gates", "") or "",
    )
    res = run_retrain_request(ctx.store(), req, progress=progress_printer(quiet=args.json))
    if args.json:
        print(dumps(res))
        return 0
    s = res["summary"]
    print(
        f"Modelo #{res['model_id']} ({s['model_label']}, {len(s['tickers'])} ativos) treinado "
        f"em {res['seconds']:.1f} s: acurácia {_pct(s['metrics']['accuracy']['value'])} "
        f"(IC {_pct(s['metrics']['accuracy']['lo'])}–{_pct(s['metrics']['accuracy']['hi'])}), "
        f"melhor referência {_pct(s['baselines'][s['best_baseline']]['value'])}; "
        f"{p_verdict(s)}."
    )
    _print_checks(res["gate_report"]["checks"])
    print(res["message"])
    return 0


def cmd_predict(args, ctx) -> int:
    """Print (and log) the champion's P(up) for the next session of its instruments."""
    from core.ml.predictions import refresh_predictions
    from core.textfmt import num, pct

    ref = refresh_predictions(ctx.store(), write=True)
    if ref.model_id is None:
        if args.json:
            print(dumps({"model_id": None, "predictions": [], "message": ref.message}))
        else:
            print(ref.message)
        return 0
    df = ref.predictions
    if args.json:
        print(
            dumps(
                {
                    "model_id": ref.model_id,
                    "model": ref.model_name,
                    "trained_until": ref.trained_until,
                    "scored_now": ref.scored_now,
                    "logged": ref.logged,
                    "reference_session": ref.reference,
                    "live": ref.live,
                    "drift": ref.drift,
                    "warnings": ref.warnings,
                    "skipped": ref.skipped,
                    "predictions": df.to_dict("records"),
                }
            )
        )
        return 0
    print(f"Campeão #{ref.model_id}: {ref.model_name} (treinado até {ref.trained_until:%d/%m/%Y})")
    for w in ref.warnings:
        print(f"Aviso: {w}")
    print(
        f"{'ativo':<8} {'data-base':<11} {'previsto p/':<12} {'P(alta)':>8}  direção  força  atraso"
    )
    for r in df.itertuples(index=False):
        flag = "  ★ faixa comprovada" if r.high_confidence else ""
        print(
            f"{r.ticker:<8} {r.as_of:%d/%m/%Y}  {r.target_date:%d/%m/%Y}   {pct(r.p_up, 1):>7}  "
            f"{r.direction:<7}  {num(r.confidence, 2):>5}  {r.sessions_behind:>3}{flag}"
        )
    behind = [r for r in df.itertuples(index=False) if r.sessions_behind > 0]
    if behind:
        print(
            f"Atenção: {len(behind)} {'ativo' if len(behind) == 1 else 'ativos'} com dados "
            f"atrasados em relação ao pregão de {ref.reference:%d/%m/%Y}; atualize os dados."
        )
    for sk in ref.skipped:
        print(f"Sem previsão — {sk['ticker']}: {sk['reason']}")
    print(ref.live["message"])
    print(ref.drift.get("message", ""))
    return 0


def cmd_models(args, ctx) -> int:
    """List the registry."""
    from core.ml.registry import ModelRegistry

    reg = ModelRegistry(ctx.store(), _artifact_dir(ctx))
    df = reg.list_models()
    if args.json:
        print(
            dumps(
                {"models": df.to_dict("records"), "promotions": reg.promotions().to_dict("records")}
            )
        )
    elif df.empty:
        print("Registro vazio.")
    else:
        print(df.drop(columns=["tickers"]).to_string(index=False))
    return 0


def cmd_promote(args, ctx) -> int:
    """Apply the approval gates to a model and promote it if it passes."""
    from core.ml.registry import ModelRegistry

    rep = ModelRegistry(ctx.store(), _artifact_dir(ctx)).promote(args.id, _gates(ctx))
    if args.json:
        print(dumps(asdict(rep)))
    else:
        _print_checks(rep.checks)
        print(rep.message)
    return 0 if rep.promoted or rep.passed else 1


def cmd_meta_label(args, ctx) -> int:
    """Meta-label a base strategy's trades and test the ML filter against seed 002's gates."""
    from core.ml.meta import MetaGates, MetaRequest, meta_label
    from core.textfmt import num, pct

    req = MetaRequest(
        strategy=args.strategy,
        tickers=tuple(args.tickers or ()),
        pt=args.pt,
        sl=args.sl,
        max_hold=args.max_hold,
        model=args.model,
        folds=args.folds,
        threshold=args.threshold,
    )
    res = meta_label(
        ctx.store(),
        req,
        MetaGates.from_string(args.gates or ""),
        progress=progress_printer(quiet=args.json),
    )
    if args.json:
        d = res.to_dict()
        if not args.trades:
            d.pop("trades")
        print(dumps(d))
        return 0
    m = res.metrics
    print(
        f"Meta-rotulagem de {req.strategy}: {res.n_trades} operações, {res.n_oos} fora da "
        f"amostra ({req.model}, {req.folds} dobras, barreiras {num(req.pt, 1)}σ/"
        f"{num(req.sl, 1)}σ, limite {req.max_hold} pregões)"
    )
    print(
        f"Acurácia {pct(m['accuracy'])}  ROC-AUC {num(m['roc_auc'], 3)}  Brier "
        f"{num(m['brier'], 4)}  acerto sem filtro {pct(m['base_win_rate'])}  com filtro "
        f"{pct(m['filtered_win_rate'])} (p = {num(m['p_value'], 3)})"
    )
    print("\n                 operações  tomadas  acerto   retorno médio  Sharpe")
    for k, lbl in (
        ("without", "Sem filtro"),
        ("with_filter", "Com filtro"),
        ("sized", "Dimensionado"),
    ):
        c = res.comparison[k]
        print(
            f"{lbl:<16} {c['trades']:>9}  {c['taken']:>7}  {pct(c['win_rate'], 1):>6}  "
            f"{pct(c['mean_return'], 3):>13}  {num(c['sharpe'], 2):>6}"
        )
    print("\nRegras da semente 002:")
    _print_checks([{**g, "detail": ""} for g in res.gates])
    print(res.message)
    return 0


def cmd_study(args, ctx) -> int:
    """Run the seed study (IBOVESPA next-day direction) beside the seed's table."""
    from pathlib import Path

    from core.ml.study import seed_ibov_study, study_markdown
    from core.requests import read_price_file_checked

    if args.file:
        read_price_file_checked(args.file)  # a missing/empty/unreadable file: one clear line
    res = seed_ibov_study(args.file, progress=progress_printer(quiet=args.json))
    if args.markdown:
        Path(args.markdown).write_text(study_markdown(res), encoding="utf-8")
    if args.json:
        print(dumps(res))
    else:
        print(study_markdown(res))
    return 0


def register(sub, common) -> None:
    """Add the ML commands to the CLI."""
    p = sub.add_parser("evaluate", parents=[common], help="avaliar um modelo fora da amostra")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--ticker", help="ativo do banco (ex.: PETR4)")
    src.add_argument("--file", help="arquivo de preços (CSV investing.com ou Yahoo)")
    p.add_argument(
        "--target",
        choices=lazy_choices("core.ml.targets", "TARGETS"),
        metavar="TARGET",
        help="%(choices)s",
    )
    p.add_argument(
        "--model",
        choices=lazy_choices("core.ml.models", "MODEL_NAMES"),
        metavar="MODEL",
        help="%(choices)s (padrão xgboost)",
    )
    p.add_argument(
        "--validation",
        choices=lazy_choices("core.ml.validation", "VALIDATIONS"),
        metavar="VALIDATION",
        help="%(choices)s",
    )
    p.add_argument("--folds", help="dobras, 2 a 20 (padrão 5)")
    p.add_argument("--horizon", help="sessões do alvo three_class (padrão 5)")
    p.add_argument("--threshold", help="limiar do alvo three_class, fração (padrão 0.02)")
    p.add_argument("--lookback", help="janela achatada de atributos (padrão 1)")
    p.add_argument("--no-index", action="store_true", help="sem os atributos do ^BVSP")
    p.add_argument("--tune", action="store_true", help="Optuna aninhado em cada janela")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("retrain", parents=[common], help="retreinar e promover se aprovado")
    p.add_argument(
        "--target",
        choices=lazy_choices("core.ml.targets", "TARGETS"),
        metavar="TARGET",
        help="%(choices)s",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser("predict", parents=[common], help="previsões do campeão p/ o próximo pregão")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("models", parents=[common], help="listar o registro de modelos")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("promote", parents=[common], help="promover um modelo (regras de aprovação)")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_promote)

    p = sub.add_parser(
        "meta-label",
        parents=[common],
        help="meta-rotulagem das operações de uma estratégia (regras da semente 002)",
    )
    p.add_argument("--strategy", default="wave3", help="estratégia base (ex.: wave3, sma_cross)")
    p.add_argument("--tickers", nargs="*", default=None, help="ativos (padrão: todas as ações)")
    p.add_argument(
        "--model",
        choices=lazy_choices("core.ml.models", "MODEL_NAMES"),
        metavar="MODEL",
        default="logreg",
    )
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--pt", type=float, default=2.0, help="barreira superior (múltiplos de σ)")
    p.add_argument("--sl", type=float, default=2.0, help="barreira inferior (múltiplos de σ)")
    p.add_argument("--max-hold", type=int, default=10, help="limite de tempo (pregões)")
    p.add_argument("--threshold", type=float, default=0.5, help="P(ganho) mínima p/ operar")
    p.add_argument("--gates", default="", help="ex.: min_trades=50,min_accuracy=0.75")
    p.add_argument("--trades", action="store_true", help="incluir as operações no JSON")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_meta_label)

    p = sub.add_parser("study", parents=[common], help="estudos reproduzidos")
    ssub = p.add_subparsers(dest="study", metavar="STUDY", required=True)
    q = ssub.add_parser("seed-ibov", parents=[common], help="estudo da semente: IBOV próximo dia")
    q.add_argument("--file", default=None, help="arquivo (padrão: o embutido)")
    q.add_argument("--markdown", default=None, metavar="PATH", help="gravar o relatório em PATH")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_study)
