"""Layout of the Models page (``/models``): the training form, the retrain, predictions,
meta-labelling, anomalies and registry cards, and the page frame that holds them.

Pure builders: the page reads the store and hands plain data in (tickers, strategy options,
the already-built predictions and registry blocks); no I/O here.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.inputs import dropdown
from components.jobs import job_progress
from core.ml.models import MODEL_LABELS

__all__ = [
    "TARGET_OPTIONS",
    "VALIDATION_OPTIONS",
    "training_form",
    "intro",
    "meta_card",
    "models_page",
]

TARGET_OPTIONS = [
    {"label": "Direção do próximo pregão", "value": "direction"},
    {"label": "3 classes em 5 pregões (±2%)", "value": "three_class"},
]
VALIDATION_OPTIONS = [
    {"label": "Walk-forward (janela crescente)", "value": "walk-forward"},
    {"label": "Holdout cronológico (últimos 20%)", "value": "holdout"},
    {"label": "K-fold purgado com embargo", "value": "purged-kfold"},
]


def training_form(tickers: list[str], default: list[str]) -> dbc.Card:
    """Instruments, target, models, validation, folds, options, train/cancel and progress."""
    return dbc.Card(
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
                job_progress("models", className="mt-3"),
            ]
        ),
        className="mb-3",
    )


def intro() -> html.P:
    """What every number on the page is (out of sample, beside naive baselines)."""
    return html.P(
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


def meta_card(tickers: list[str], strategy_options: list[dict]) -> dbc.Card:
    """Meta-labelling card: strategy, instruments (indices left out), run/cancel, progress.

    ``strategy_options``: ``{"label", "value"}`` of every strategy the filter can wrap.
    """
    options = strategy_options
    stocks = [t for t in tickers if not t.startswith("^")]
    return dbc.Card(
        [
            dbc.CardHeader(
                "Meta-rotulagem: filtro de ML para as operações de uma estratégia",
                className="fw-semibold",
            ),
            dbc.CardBody(
                [
                    html.P(
                        "Rotula as operações históricas da estratégia (backtest com custos B3) "
                        "pela tripla barreira, treina um modelo secundário walk-forward que "
                        "decide se cada operação deve ser feita e compara, nas mesmas operações "
                        "fora da amostra, com e sem o filtro — contra as regras da semente 002.",
                        className="text-muted small",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                dropdown(
                                    id="models-meta-strategy",
                                    options=options,
                                    value="wave3",
                                    clearable=False,
                                ),
                                md=3,
                            ),
                            dbc.Col(
                                dropdown(
                                    id="models-meta-tickers",
                                    options=stocks,
                                    value=stocks[:5],
                                    multi=True,
                                    placeholder="Ativos (vazio = todas as ações)",
                                ),
                                md=6,
                            ),
                            dbc.Col(
                                [
                                    dbc.Button(
                                        "Avaliar",
                                        id="models-meta-run",
                                        color="primary",
                                        size="sm",
                                        className="me-2",
                                    ),
                                    dbc.Button(
                                        "Cancelar",
                                        id="models-meta-cancel",
                                        color="secondary",
                                        outline=True,
                                        size="sm",
                                        disabled=True,
                                    ),
                                ],
                                md=3,
                            ),
                        ],
                        className="mb-2",
                    ),
                    job_progress("models-meta", className=""),
                    html.Div(id="models-meta-result", className="mt-2"),
                ]
            ),
        ],
        className="mb-3",
    )


def models_page(
    tickers: list[str],
    default: list[str],
    strategy_options: list[dict],
    predictions: list,
    registry: list,
) -> html.Div:
    """The whole page: form, results area, retrain, predictions, meta-labelling, anomalies,
    registry. ``predictions``/``registry`` are the children of their cards."""
    return html.Div(
        [
            html.H3("Modelos"),
            intro(),
            training_form(tickers, default),
            html.Div(id="models-promote-msg"),
            dcc.Loading(html.Div(id="models-results"), type="default"),
            dbc.Card(
                dbc.CardBody(
                    [
                        html.Div(
                            [
                                html.Span(
                                    "Retreino do campeão (o mesmo do agendamento semanal): "
                                    "treina a receita do campeão e só o substitui se passar "
                                    "nas regras de aprovação; um empate mantém o campeão.",
                                    className="small text-muted me-2",
                                ),
                                dbc.Button(
                                    "Retreinar agora",
                                    id="models-retrain",
                                    color="secondary",
                                    size="sm",
                                    className="me-2",
                                ),
                                dbc.Button(
                                    "Cancelar",
                                    id="models-retrain-cancel",
                                    color="secondary",
                                    outline=True,
                                    size="sm",
                                    disabled=True,
                                ),
                            ]
                        ),
                        job_progress("models-retrain"),
                        html.Div(id="models-retrain-msg", className="mt-2"),
                    ]
                ),
                className="mb-3",
            ),
            dbc.Card(
                [
                    dbc.CardHeader(
                        [
                            html.Span(
                                "Previsões do campeão para o próximo pregão",
                                className="fw-semibold",
                            ),
                            dbc.Button(
                                "Atualizar e registrar",
                                id="models-refresh",
                                size="sm",
                                color="link",
                                className="float-end p-0",
                                title="Avalia as previsões passadas e registra as novas",
                            ),
                        ]
                    ),
                    dbc.CardBody(html.Div(predictions, id="models-predictions")),
                ],
                className="mb-3",
            ),
            meta_card(tickers, strategy_options),
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
                    dbc.CardBody(html.Div(registry, id="models-registry")),
                ]
            ),
        ]
    )
