"""Models page (``/models``): train and evaluate direction models honestly, promote a champion,
see its predictions for every instrument.

Thin: parse inputs, call :mod:`core.ml`, hand plain data to :mod:`components.models`.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from components import models as cm
from components.format import fmt_date, fmt_int, fmt_pct
from components.inputs import dropdown
from core.errors import PregaoError
from core.ml.models import MODEL_LABELS
from dashboard.runtime import get_settings, get_store

dash.register_page(__name__, path="/models", name="Modelos", order=4, title="Pregão · Modelos")

TARGET_OPTIONS = [
    {"label": "Direção do próximo pregão", "value": "direction"},
    {"label": "3 classes em 5 pregões (±2%)", "value": "three_class"},
]
VALIDATION_OPTIONS = [
    {"label": "Walk-forward (janela crescente)", "value": "walk-forward"},
    {"label": "Holdout cronológico (últimos 20%)", "value": "holdout"},
    {"label": "K-fold purgado com embargo", "value": "purged-kfold"},
]


def _registry():
    from core.ml.registry import ModelRegistry

    return ModelRegistry(get_store(), get_settings().data_dir / "models")


def _gates():
    from core.ml.registry import ApprovalGates

    return ApprovalGates.from_string(get_settings().ml_gates)


def _predictions_block() -> list:
    """Champion predictions + alerts (logged, earlier ones scored)."""
    from core.ml.predictions import (
        live_accuracy,
        log_predictions,
        predict_next,
        score_predictions,
    )
    from core.ml.registry import load_champion

    store = get_store()
    try:
        score_predictions(store)
        champ = load_champion(store)
    except PregaoError as exc:
        return [dbc.Alert(str(exc), color="danger")]
    if champ is None:
        return [cm.predictions_table([])]
    df = predict_next(store, champ)
    log_predictions(store, champ.model_id, df)
    live = live_accuracy(store, champ.model_id, wf_lo=champ.metrics["metrics"]["accuracy"]["lo"])
    records = df.to_dict("records")
    return [
        html.Div(
            f"Campeão #{champ.model_id}: {champ.name} — treinado até "
            f"{fmt_date(champ.trained_until)}. Acurácia walk-forward "
            f"{fmt_pct(champ.metrics['metrics']['accuracy']['value'], 1)} "
            f"(n = {fmt_int(champ.metrics['n'])}).",
            className="mb-2",
            id="models-champion-info",
        ),
        *cm.prediction_alerts(records, live),
        cm.predictions_table(records),
    ]


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
    controls = dbc.Card(
        dbc.CardBody(
            [
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Ativos (agrupados em um só conjunto)"),
                                dropdown(
                                    id="models-tickers",
                                    options=tickers,
                                    value=default,
                                    multi=True,
                                    placeholder="Escolha os ativos",
                                ),
                            ],
                            md=4,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Alvo"),
                                dbc.RadioItems(
                                    id="models-target", options=TARGET_OPTIONS, value="direction"
                                ),
                            ],
                            md=3,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Modelos"),
                                dbc.Checklist(
                                    id="models-models",
                                    options=[
                                        {"label": v, "value": k} for k, v in MODEL_LABELS.items()
                                    ],
                                    value=["logreg", "xgboost"],
                                    inline=True,
                                ),
                            ],
                            md=5,
                        ),
                    ],
                    className="mb-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label("Validação"),
                                dbc.Select(
                                    id="models-validation",
                                    options=VALIDATION_OPTIONS,
                                    value="walk-forward",
                                ),
                            ],
                            md=4,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Dobras"),
                                dbc.Input(
                                    id="models-folds", type="number", min=2, max=20, step=1, value=5
                                ),
                            ],
                            md=2,
                        ),
                        dbc.Col(
                            [
                                dbc.Label("Opções"),
                                dbc.Checklist(
                                    id="models-options",
                                    options=[
                                        {"label": "Atributos do ^BVSP", "value": "index"},
                                        {
                                            "label": "Otimizar hiperparâmetros (Optuna, mais lento)",
                                            "value": "tune",
                                        },
                                    ],
                                    value=["index"],
                                ),
                            ],
                            md=4,
                        ),
                        dbc.Col(
                            [
                                dbc.Button(
                                    [html.I(className="bi bi-play-fill me-1"), "Treinar"],
                                    id="models-train",
                                    color="primary",
                                    className="me-2 mt-4",
                                ),
                                dbc.Button(
                                    "Cancelar",
                                    id="models-cancel",
                                    color="secondary",
                                    outline=True,
                                    className="mt-4",
                                    disabled=True,
                                ),
                            ],
                            md=2,
                        ),
                    ]
                ),
                dbc.Progress(
                    id="models-progress",
                    value=0,
                    label="",
                    className="mt-3",
                    style={"height": "1.4rem"},
                ),
                html.Div(id="models-progress-msg", className="small text-muted mt-1"),
            ]
        ),
        className="mb-3",
    )
    intro = html.P(
        [
            "Todos os números são fora da amostra, ao lado das referências ingênuas (classe "
            "majoritária, sempre alta, direção anterior), com n e intervalo de confiança de 95% "
            "(bootstrap). Com vários ativos, linhas da mesma data são correlacionadas: o teste "
            "agrupado por data é o mais conservador. ",
            html.B("Promover"),
            " só troca o campeão se o modelo passar nas regras de aprovação.",
        ],
        className="text-muted small",
    )
    return html.Div(
        [
            html.H3("Modelos"),
            intro,
            controls,
            html.Div(id="models-promote-msg"),
            dcc.Loading(html.Div(id="models-results"), type="default"),
            dbc.Card(
                [
                    dbc.CardHeader(
                        [
                            html.Span(
                                "Previsões do campeão para o próximo pregão",
                                className="fw-semibold",
                            ),
                            dbc.Button(
                                "Atualizar",
                                id="models-refresh",
                                size="sm",
                                color="link",
                                className="float-end p-0",
                            ),
                        ]
                    ),
                    dbc.CardBody(html.Div(_safe(_predictions_block), id="models-predictions")),
                ],
                className="mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader("Sessões anômalas (IsolationForest)", className="fw-semibold"),
                    dbc.CardBody(
                        [
                            html.P(
                                "Sessões atípicas em volatilidade, volume e momento no histórico "
                                "do ativo (descritivo, não é previsão). Também marcadas no "
                                "gráfico de Cotações.",
                                className="text-muted small",
                            ),
                            dropdown(
                                id="models-anomaly-ticker",
                                options=tickers,
                                value=default[0] if default else None,
                                clearable=False,
                                style={"maxWidth": "240px"},
                                className="mb-2",
                            ),
                            html.Div(id="models-anomalies"),
                        ]
                    ),
                ],
                className="mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader("Registro de modelos", className="fw-semibold"),
                    dbc.CardBody(html.Div(_safe(_registry_block), id="models-registry")),
                ]
            ),
        ]
    )


def _safe(fn):
    try:
        return fn()
    except PregaoError as exc:
        return [dbc.Alert(str(exc), color="danger")]


@callback(
    Output("models-results", "children"),
    Input("models-train", "n_clicks"),
    State("models-tickers", "value"),
    State("models-target", "value"),
    State("models-models", "value"),
    State("models-validation", "value"),
    State("models-folds", "value"),
    State("models-options", "value"),
    background=True,
    running=[
        (Output("models-train", "disabled"), True, False),
        (Output("models-cancel", "disabled"), False, True),
        (Output("job-running", "data"), True, False),
    ],
    progress=[
        Output("models-progress", "value"),
        Output("models-progress", "label"),
        Output("models-progress-msg", "children"),
    ],
    cancel=[Input("models-cancel", "n_clicks")],
    prevent_initial_call=True,
)
def train(set_progress, n_clicks, tickers, target, models, validation, folds, options):
    """Background job: evaluate and register the chosen models, then show the results."""
    from core.ml.training import TrainRequest, train_models

    def progress(frac: float, msg: str) -> None:
        pct = int(round(100 * max(0.0, min(1.0, frac))))
        set_progress((pct, f"{pct}%", msg))

    try:
        if not tickers:
            raise PregaoError("Escolha pelo menos um ativo.")
        if not models:
            raise PregaoError("Escolha pelo menos um modelo.")
        try:
            folds = int(folds or 5)
        except (TypeError, ValueError):
            folds = 5
        options = options or []
        store = get_store()
        store.engine.dispose(close=False)  # fresh connections in the job's process
        req = TrainRequest(
            tickers=tuple(tickers),
            target=target or "direction",
            models=tuple(models),
            validation=validation or "walk-forward",
            folds=max(2, min(folds, 20)),
            use_index="index" in options,
            tune="tune" in options,
            horizon=5,
            threshold=0.02,
        )
        results = train_models(store, _registry(), req, progress=progress)
    except PregaoError as exc:
        set_progress((0, "", ""))
        return dbc.Alert(str(exc), color="danger", id="models-error")
    return [cm.result_card(r) for r in results]


@callback(
    Output("models-promote-msg", "children"),
    Output("models-predictions", "children"),
    Output("models-registry", "children"),
    Input({"type": "models-promote", "index": ALL}, "n_clicks"),
    Input("models-refresh", "n_clicks"),
    Input("models-results", "children"),
    prevent_initial_call=True,
)
def promote(promote_clicks, refresh, _results):
    """Apply the approval gates to the clicked model; refresh predictions and the registry."""
    trig = ctx.triggered_id
    msg = no_update
    if isinstance(trig, dict) and trig.get("type") == "models-promote":
        if not any(promote_clicks or []):
            return no_update, no_update, no_update
        try:
            rep = _registry().promote(int(trig["index"]), _gates(), reason="botão Promover")
            from dataclasses import asdict

            msg = cm.gate_report(asdict(rep))
        except PregaoError as exc:
            msg = dbc.Alert(str(exc), color="danger", dismissable=True)
    return msg, _safe(_predictions_block), _safe(_registry_block)


@callback(Output("models-anomalies", "children"), Input("models-anomaly-ticker", "value"))
def anomalies(ticker):
    """List the anomalous sessions of the chosen instrument."""
    from core.ml.anomalies import detect_anomalies

    if not ticker:
        return no_update
    try:
        out = detect_anomalies(get_store().bars(ticker))
    except PregaoError as exc:
        return dbc.Alert(str(exc), color="danger")
    return cm.anomalies_table(out.reset_index().to_dict("records"))
