"""ML commands: ``evaluate``, ``retrain``, ``predict``, ``models``, ``promote``, ``study``.

* ``evaluate (--ticker T | --file CSV) [--target direction|three_class]
  [--model logreg|rf|xgboost|lightgbm|svm] [--validation holdout|walk-forward|purged-kfold]
  [--folds N] [--json]``: per-fold and aggregate out-of-sample metrics, baselines, CIs and
  the p-value (nothing is stored);
* ``retrain [--target T] [--json]``: the scheduled job's function, run now;
* ``predict [--json]``: the champion's next-session probabilities for every instrument
  (logged, and earlier predictions scored);
* ``models [--json]`` lists the registry; ``promote ID`` applies the approval gates;
* ``study seed-ibov [--json] [--markdown PATH]``: the seed study beside the seed's table.
"""

from __future__ import annotations

from dataclasses import asdict

from core import textfmt
from core.ml.models import MODEL_LABELS, MODEL_NAMES
from core.ml.targets import TARGETS
from core.ml.validation import VALIDATIONS
from dashboard.cli import dumps, progress_printer


def _artifact_dir(ctx):
    return ctx.settings.data_dir / "models"


def _gates(ctx):
    from core.ml.registry import ApprovalGates

    return ApprovalGates.from_string(getattr(ctx.settings, "ml_gates", "") or "")


def _pct(v) -> str:
    return "  —  " if v is None or v != v else f"{textfmt.pct(v, 2):>6}"


def _print_result(res: dict) -> None:
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
            print(
                f"{k:<10} {textfmt.num(m['value'], 4)}  [{textfmt.num(m['lo'], 4)} – {textfmt.num(m['hi'], 4)}]"
            )
        else:
            print(f"{k:<10} {_pct(m['value'])}  [{_pct(m['lo'])} – {_pct(m['hi'])}]")
    print("\nReferência            acurácia  IC 95%")
    for k, m in s["baselines"].items():
        mark = "  ← melhor" if k == s["best_baseline"] else ""
        print(f"{k:<20} {_pct(m['value'])}  [{_pct(m['lo'])} – {_pct(m['hi'])}]{mark}")
    print(
        f"\nTeste binomial (acurácia > melhor referência): p = {textfmt.num(s['p_value'], 4)}"
        f"{' — significativo a 5%' if s['p_value'] < 0.05 else ' — não significativo'}"
    )
    pdates = s.get("p_value_dates")
    if pdates is not None and pdates == pdates:
        print(
            f"Teste agrupado por data ({s['n_dates']} datas, conservador): p = {textfmt.num(pdates, 4)}"
        )
    cons = s["consistency"]
    print(
        "Consistência (1 − desvio das dobras): "
        + ("— (uma só dobra)" if cons != cons else f"{textfmt.num(cons, 3)}")
    )
    t = res["trading"]
    print(f"\nOperando comprado quando P(alta) ≥ {textfmt.num(t['threshold'], 2)}, com custos B3:")
    for k, lbl in (("strategy", "Modelo"), ("buy_hold", "Comprar e manter")):
        p = t[k]
        print(
            f"  {lbl:<18} retorno {_pct(p['total_return'])}  Sharpe {textfmt.num(p['sharpe'], 2)}  "
            f"drawdown {_pct(p['max_drawdown'])}  operações {p.get('trades', 0)}"
        )


def cmd_evaluate(args, ctx) -> int:
    """Evaluate one model out of sample on a stored ticker or a price file."""
    from core.ml.study import read_price_file
    from core.ml.training import TrainRequest, train_models

    req = TrainRequest(
        tickers=(args.ticker,) if args.ticker else (),
        target=args.target,
        horizon=args.horizon,
        threshold=args.threshold,
        models=(args.model,),
        validation=args.validation,
        folds=args.folds,
        lookback=args.lookback,
        use_index=not args.no_index,
        tune=args.tune,
    )
    prog = progress_printer(quiet=args.json)
    if args.file:
        bars = read_price_file(args.file)
        results = train_models(None, None, req, frames={"ARQUIVO": bars}, progress=prog)
    else:
        results = train_models(ctx.store(), None, req, progress=prog)
    if args.json:
        print(dumps([{k: v for k, v in r.items() if k != "roc"} for r in results]))
    else:
        for r in results:
            _print_result(r)
    return 0


def cmd_retrain(args, ctx) -> int:
    """Retrain the champion's recipe (or the default) and promote it if it passes the gates."""
    from core.ml.training import retrain

    res = retrain(
        ctx.store(),
        _artifact_dir(ctx),
        gates=_gates(ctx),
        target=args.target,
        progress=progress_printer(quiet=args.json),
    )
    if args.json:
        print(dumps(res))
        return 0
    s = res["summary"]
    print(
        f"Modelo #{res['model_id']} ({s['model_label']}, {len(s['tickers'])} ativos) treinado "
        f"em {textfmt.num(res['seconds'], 1)} s: acurácia {_pct(s['metrics']['accuracy']['value'])} "
        f"(IC {_pct(s['metrics']['accuracy']['lo'])}–{_pct(s['metrics']['accuracy']['hi'])}), "
        f"melhor referência {_pct(s['baselines'][s['best_baseline']]['value'])}, "
        f"p = {textfmt.num(s['p_value'], 3)}."
    )
    for c in res["gate_report"]["checks"]:
        print(
            f"  [{'ok' if c['passed'] else 'X '}] {c['label']}: {textfmt.num(c['value'], 4)} "
            f"(limite {textfmt.num(c['threshold'], 4)})"
        )
    print(res["message"])
    return 0


def cmd_predict(args, ctx) -> int:
    """Print (and log) the champion's P(up) for the next session of every instrument."""
    from core.ml.predictions import live_accuracy, log_predictions, predict_next, score_predictions
    from core.ml.registry import load_champion

    store = ctx.store()
    scored = score_predictions(store)
    champ = load_champion(store)
    if champ is None:
        msg = (
            "Nenhum modelo campeão: treine e promova um modelo (python -m dashboard retrain "
            "ou a página Modelos)."
        )
        if args.json:
            print(dumps({"model_id": None, "predictions": [], "message": msg}))
        else:
            print(msg)
        return 0
    df = predict_next(store, champ)
    log_predictions(store, champ.model_id, df)
    live = live_accuracy(store, champ.model_id, wf_lo=champ.metrics["metrics"]["accuracy"]["lo"])
    if args.json:
        print(
            dumps(
                {
                    "model_id": champ.model_id,
                    "model": champ.name,
                    "trained_until": champ.trained_until,
                    "scored_now": scored,
                    "live": live,
                    "predictions": df.to_dict("records"),
                }
            )
        )
        return 0
    print(f"Campeão #{champ.model_id}: {champ.name} (treinado até {champ.trained_until:%d/%m/%Y})")
    print(f"{'ativo':<8} {'data-base':<11} {'próx. pregão':<12} {'P(alta)':>8}  direção  confiança")
    for r in df.itertuples(index=False):
        flag = "  ★" if r.high_confidence else ""
        print(
            f"{r.ticker:<8} {r.as_of:%d/%m/%Y}  {r.target_date:%d/%m/%Y}   {r.p_up:7.1%}  "
            f"{r.direction:<7}  {r.confidence:7.1%}{flag}"
        )
    print(live["message"])
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
        for c in rep.checks:
            print(
                f"  [{'ok' if c['passed'] else 'X '}] {c['label']}: {textfmt.num(c['value'], 4)} "
                f"(limite {textfmt.num(c['threshold'], 4)})"
            )
        print(rep.message)
    return 0 if rep.promoted or rep.passed else 1


def cmd_study(args, ctx) -> int:
    """Run the seed study (IBOVESPA next-day direction) beside the seed's table."""
    from pathlib import Path

    from core.ml.study import seed_ibov_study, study_markdown

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
    p.add_argument("--target", choices=TARGETS, default="direction")
    p.add_argument(
        "--model",
        choices=MODEL_NAMES,
        default="xgboost",
        help=", ".join(f"{k}: {v}" for k, v in MODEL_LABELS.items()),
    )
    p.add_argument("--validation", choices=VALIDATIONS, default="walk-forward")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--horizon", type=int, default=5, help="sessões do alvo three_class")
    p.add_argument("--threshold", type=float, default=0.02, help="limiar do alvo three_class")
    p.add_argument("--lookback", type=int, default=1, help="janela achatada de atributos")
    p.add_argument("--no-index", action="store_true", help="sem os atributos do ^BVSP")
    p.add_argument("--tune", action="store_true", help="Optuna aninhado em cada janela")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("retrain", parents=[common], help="retreinar e promover se aprovado")
    p.add_argument("--target", choices=TARGETS, default="direction")
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

    p = sub.add_parser("study", parents=[common], help="estudos reproduzidos")
    ssub = p.add_subparsers(dest="study", metavar="STUDY", required=True)
    q = ssub.add_parser("seed-ibov", parents=[common], help="estudo da semente: IBOV próximo dia")
    q.add_argument("--file", default=None, help="arquivo (padrão: o embutido)")
    q.add_argument("--markdown", default=None, metavar="PATH", help="gravar o relatório em PATH")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_study)
