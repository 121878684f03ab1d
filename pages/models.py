"""Models page (``/models``): train and evaluate direction models honestly, promote a champion,
see its predictions for every instrument.

Thin: parse inputs, call :mod:`core.ml`, hand plain data to :mod:`components.models` (results)
and :mod:`components.models_form` (the form and the cards of the layout).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update

from components import models as cm
from components import models_form as mf
from components.format import fmt_date, fmt_int, fmt_pct
from components.models_form import TARGET_OPTIONS, VALIDATION_OPTIONS  # noqa: F401 - re-export
from core.errors import PregaoError
from dashboard.background import job_callback
from dashboard.runtime import get_settings, get_store

dash.register_page(__name__, path="/models", name="Modelos", order=4, title="Pregão · Modelos")


def _registry():
    from core.ml.registry import ModelRegistry

    return ModelRegistry(get_store(), get_settings().data_dir / "models")


def _gates():
    from core.ml.registry import ApprovalGates

    return ApprovalGates.from_string(get_settings().ml_gates)


def _predictions_block(write: bool = False) -> list:
    """Champion predictions, staleness, skipped instruments, live hit rate and drift.

    ``write=False`` on page render: nothing is written to the database (scoring and logging
    happen on the "Atualizar e registrar" button, in the CLI ``predict`` and the weekly job).
    """
    from core.ml.predictions import refresh_predictions

    try:
        ref = refresh_predictions(get_store(), write=write)
    except PregaoError as exc:
        return [dbc.Alert(str(exc), color="danger")]
    if ref.model_id is None:
        return [cm.predictions_table([])]
    records = ref.predictions.to_dict("records")
    acc = ref.metrics["metrics"]["accuracy"]["value"]
    info = (
        f"Campeão #{ref.model_id}: {ref.model_name} — treinado até "
        f"{fmt_date(ref.trained_until)}; acurácia fora da amostra {fmt_pct(acc, 1)} "
        f"(n = {fmt_int(ref.metrics['n'])}). Dados comparados com o pregão de "
        f"{fmt_date(ref.reference)}."
    )
    out = [html.Div(info, className="mb-2", id="models-champion-info")]
    out += [dbc.Alert(w, color="warning", className="py-2") for w in ref.warnings]
    if write:
        out.append(
            dbc.Alert(
                f"{cm.plural(ref.logged, 'previsão registrada', 'previsões registradas')}; "
                f"{cm.plural(ref.scored_now, 'previsão avaliada', 'previsões avaliadas')}.",
                color="info",
                className="py-2",
                dismissable=True,
            )
        )
    out += cm.prediction_alerts(records, ref.live, ref.drift)
    out.append(cm.predictions_table(records))
    skipped = cm.skipped_list(ref.skipped)
    if skipped is not None:
        out.append(skipped)
    return out


def _registry_block() -> list:
    reg = _registry()
    models = reg.list_models().to_dict("records")
    promos = reg.promotions().to_dict("records")
    return [
        cm.registry_table(models),
        html.H6("Histórico de promoções", className="mt-3"),
        cm.promotions_table(promos),
    ]


def layout(**kwargs):
    try:
        tickers = get_store().tickers()
    except PregaoError as exc:
        return dbc.Alert(str(exc), color="danger")
    default = ["PETR4"] if "PETR4" in tickers else tickers[:1]
    return mf.models_page(
        tickers,
        default,
        _strategy_options(),
        predictions=_safe(_predictions_block),
        registry=_safe(_registry_block),
    )


def _strategy_options() -> list[dict]:
    """Strategies meta-labelling can filter (every one but ``ml_filter`` itself)."""
    from core.strategies import STRATEGIES

    return [
        {"label": cls.label or name, "value": name}
        for name, cls in STRATEGIES.items()
        if name != "ml_filter"
    ]


def _safe(fn):
    try:
        return fn()
    except PregaoError as exc:
        return [dbc.Alert(str(exc), color="danger")]


def evaluate_request_from_form(tickers, target, models, validation, folds, options):
    """The form as a :class:`core.requests.EvaluateRequest` (the one builder of the job)."""
    from core.requests import build_evaluate_request

    options = options or []
    return build_evaluate_request(
        tickers=tickers or None,
        target=target,
        models=models or [],
        validation=validation,
        folds=folds,
        use_index="index" in options,
        tune="tune" in options,
    )


@job_callback(
    "models",
    Output("models-results", "children"),
    State("models-tickers", "value"),
    State("models-target", "value"),
    State("models-models", "value"),
    State("models-validation", "value"),
    State("models-folds", "value"),
    State("models-options", "value"),
    run="models-train",
    cancel="models-cancel",
    clear=[("models-results", "children", None)],
    writes=True,
)
def train(job, tickers, target, models, validation, folds, options):
    """Background job: evaluate and register the chosen models, then show the results."""
    from core.requests import run_evaluate_request

    try:
        req = evaluate_request_from_form(tickers, target, models, validation, folds, options)
        store = get_store()
        results = run_evaluate_request(store, req, registry=_registry(), progress=job.progress)
    except PregaoError as exc:
        job.fail(str(exc))
        return dbc.Alert(str(exc), color="danger", id="models-error")
    job.done(f"Treino concluído: {len(results)} modelo(s) registrado(s).")
    return [cm.result_card(r) for r in results]


@callback(
    Output("models-promote-msg", "children"),
    Output("models-predictions", "children"),
    Output("models-registry", "children"),
    Input({"type": "models-promote", "index": ALL}, "n_clicks"),
    Input("models-refresh", "n_clicks"),
    Input("models-results", "children"),
    Input("models-retrain-msg", "children"),
    prevent_initial_call=True,
)
def promote(promote_clicks, refresh, _results, _retrained):
    """Apply the approval gates to the clicked model; refresh predictions and the registry."""
    trig = ctx.triggered_id
    msg = no_update
    if (trig == "models-results" and not _results) or (
        trig == "models-retrain-msg" and not _retrained
    ):
        return no_update, no_update, no_update  # cleared at the start of a job
    if isinstance(trig, dict) and trig.get("type") == "models-promote":
        if not any(promote_clicks or []):
            return no_update, no_update, no_update
        try:
            rep = _registry().promote(int(trig["index"]), _gates(), reason="botão Promover")
            from dataclasses import asdict

            msg = cm.gate_report(asdict(rep))
        except PregaoError as exc:
            msg = dbc.Alert(str(exc), color="danger", dismissable=True)
    write = trig == "models-refresh"
    return msg, _safe(lambda: _predictions_block(write=write)), _safe(_registry_block)


@callback(Output("models-anomalies", "children"), Input("models-anomaly-ticker", "value"))
def anomalies(ticker):
    """List the anomalous sessions of the chosen instrument."""
    from core.ml.anomalies import stored_anomalies

    if not ticker:
        return no_update
    try:
        out = stored_anomalies(get_store(), ticker)  # once per data version (issue 11)
    except PregaoError as exc:
        return dbc.Alert(str(exc), color="danger")
    return cm.anomalies_table(out.reset_index().to_dict("records"))


@job_callback(
    "models-retrain",
    Output("models-retrain-msg", "children"),
    run="models-retrain",
    cancel="models-retrain-cancel",
    clear=[("models-retrain-msg", "children", None)],
    writes=True,
)
def retrain_now(job):
    """Background job: the weekly retrain's function (:func:`dashboard.jobs.retrain.run_retrain`)."""
    from dashboard.jobs.retrain import run_retrain

    try:
        res = run_retrain(get_settings(), progress=job.progress)
    except PregaoError as exc:
        job.fail(str(exc))
        return dbc.Alert(str(exc), color="danger", id="models-retrain-error")
    job.done(f"Pronto: {res['message']}" if res.get("message") else "Pronto")
    return cm.gate_report({**res["gate_report"], "message": res["message"]})


@job_callback(
    "models-meta",
    Output("models-meta-result", "children"),
    State("models-meta-strategy", "value"),
    State("models-meta-tickers", "value"),
    run="models-meta-run",
    cancel="models-meta-cancel",
    clear=[("models-meta-result", "children", None)],
)
def meta_run(job, strategy, tickers):
    """Background job: :func:`core.ml.meta.meta_label` for the chosen strategy."""
    from core.ml.meta import MetaRequest, meta_label

    try:
        res = meta_label(
            get_store(),
            MetaRequest(strategy=strategy or "wave3", tickers=tuple(tickers or ())),
            progress=job.progress,
        )
    except PregaoError as exc:
        job.fail(str(exc))
        return dbc.Alert(str(exc), color="danger", id="models-meta-error")
    job.done("Pronto")
    return cm.meta_report(res.to_dict())
