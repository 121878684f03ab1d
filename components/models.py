"""Builders for the Models page: metric tables with CIs, folds, confusion matrix, ROC,
calibration, importances, trading view, predictions and the registry.

Pure functions: plain data in (the dicts of :func:`core.ml.training.train_models`, records
of the registry and predictions), Dash components or ``go.Figure`` out.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from components.format import fmt_date, fmt_int, fmt_num, fmt_pct
from components.labels import target_label
from components.theme import apply_theme, graph_config

__all__ = [
    "METRIC_LABELS",
    "BASELINE_LABELS",
    "metrics_table",
    "folds_table",
    "confusion_figure",
    "roc_figure",
    "calibration_figure",
    "importance_figure",
    "equity_figure",
    "trading_table",
    "result_card",
    "gate_report",
    "predictions_table",
    "prediction_alerts",
    "registry_table",
    "promotions_table",
    "anomalies_table",
]

METRIC_LABELS = {
    "accuracy": "Acurácia",
    "precision": "Precisão",
    "recall": "Revocação",
    "f1": "F1",
    "roc_auc": "ROC-AUC",
    "brier": "Brier (menor é melhor)",
    "log_loss": "Log loss (menor é melhor)",
}
BASELINE_LABELS = {
    "majority": "Classe majoritária",
    "always_up": "Sempre alta",
    "previous": "Direção anterior",
}
CLASS_LABELS = {2: ["Queda", "Alta"], 3: ["Queda", "Lateral", "Alta"]}
VALIDATION_LABELS = {
    "walk-forward": "walk-forward",
    "holdout": "holdout cronológico",
    "purged-kfold": "k-fold purgado com embargo",
}
STATUS_LABELS = {"champion": "Campeão", "challenger": "Desafiante", "retired": "Aposentado"}


def _layout(fig: go.Figure, title: str, theme: str | None, height: int = 300) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=height,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return apply_theme(fig, theme)


def _fmt_metric(key: str, v) -> str:
    return fmt_num(v, 4) if key in ("brier", "log_loss") else fmt_pct(v)


def metrics_table(summary: dict) -> dbc.Table:
    """Metrics with 95 % CIs, then the baselines' accuracies on the same rows and the tests."""
    head = html.Thead(html.Tr([html.Th("Métrica"), html.Th("Valor"), html.Th("IC 95%")]))
    rows = [
        html.Tr(
            [
                html.Td(METRIC_LABELS.get(k, k)),
                html.Td(_fmt_metric(k, m["value"])),
                html.Td(f"{_fmt_metric(k, m['lo'])} – {_fmt_metric(k, m['hi'])}"),
            ]
        )
        for k, m in summary["metrics"].items()
    ]
    rows.append(html.Tr(html.Td(html.B("Referências (acurácia)"), colSpan=3)))
    for k, m in summary["baselines"].items():
        best = " (melhor)" if k == summary["best_baseline"] else ""
        rows.append(
            html.Tr(
                [
                    html.Td(BASELINE_LABELS.get(k, k) + best),
                    html.Td(fmt_pct(m["value"])),
                    html.Td(f"{fmt_pct(m['lo'])} – {fmt_pct(m['hi'])}"),
                ]
            )
        )
    p = summary["p_value"]
    pd_ = summary.get("p_value_dates")
    rows.append(
        html.Tr(
            [
                html.Td("Teste binomial vs melhor referência"),
                html.Td(f"p = {fmt_num(p, 4)}"),
                html.Td("significativo a 5%" if p < 0.05 else "não significativo"),
            ]
        )
    )
    if pd_ is not None and pd_ == pd_:
        rows.append(
            html.Tr(
                [
                    html.Td("Teste agrupado por data (conservador)"),
                    html.Td(f"p = {fmt_num(pd_, 4)}"),
                    html.Td(f"{fmt_int(summary.get('n_dates'))} datas"),
                ]
            )
        )
    rows.append(
        html.Tr(
            [
                html.Td("Consistência (1 − desvio das dobras)"),
                html.Td(fmt_num(summary["consistency"], 3)),
                html.Td(""),
            ]
        )
    )
    return dbc.Table([head, html.Tbody(rows)], size="sm", striped=True, className="mb-2")


def folds_table(summary: dict) -> dbc.Table:
    """One row per fold: windows, sizes, accuracy, ROC-AUC and the best baseline."""
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "Dobra",
                    "Treino",
                    "Teste",
                    "n treino",
                    "n teste",
                    "Acurácia",
                    "ROC-AUC",
                    "Melhor ref.",
                )
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(f["fold"]),
                html.Td(f"{fmt_date(f['train_start'])} – {fmt_date(f['train_end'])}"),
                html.Td(f"{fmt_date(f['test_start'])} – {fmt_date(f['test_end'])}"),
                html.Td(fmt_int(f["n_train"])),
                html.Td(fmt_int(f["n_test"])),
                html.Td(fmt_pct(f["accuracy"])),
                html.Td(fmt_pct(f["roc_auc"])),
                html.Td(fmt_pct(f["baseline"])),
            ]
        )
        for f in summary["folds"]
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True, className="mb-2")


def confusion_figure(summary: dict, theme: str | None = None) -> go.Figure:
    """Heatmap of the confusion matrix (rows true class, columns predicted)."""
    cm = summary["confusion"]
    labels = CLASS_LABELS.get(len(cm), [str(i) for i in range(len(cm))])
    fig = go.Figure(
        go.Heatmap(
            z=cm,
            x=[f"prev. {lbl}" for lbl in labels],
            y=[f"real {lbl}" for lbl in labels],
            colorscale="Blues",
            showscale=False,
            text=[[fmt_int(v) for v in r] for r in cm],
            texttemplate="%{text}",
            hovertemplate="%{y} / %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Matriz de confusão", theme)


def roc_figure(roc: dict, theme: str | None = None) -> go.Figure:
    """ROC curve of P(up) with the chance diagonal."""
    fig = go.Figure()
    fig.add_scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name="Modelo")
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="Acaso", line={"dash": "dash"})
    fig.update_xaxes(title="Falsos positivos", tickformat=".0%")
    fig.update_yaxes(title="Verdadeiros positivos", tickformat=".0%")
    return _layout(fig, "Curva ROC (fora da amostra)", theme)


def calibration_figure(cal: dict, theme: str | None = None) -> go.Figure:
    """Reliability diagram: mean predicted P(up) vs observed frequency of up, per bin."""
    fig = go.Figure()
    fig.add_scatter(
        x=cal["predicted"],
        y=cal["observed"],
        mode="lines+markers",
        name="Modelo",
        customdata=cal["count"],
        hovertemplate="prev. %{x:.1%} · obs. %{y:.1%} · n=%{customdata}<extra></extra>",
    )
    lo = min(cal["predicted"] + cal["observed"] + [0.4])
    hi = max(cal["predicted"] + cal["observed"] + [0.6])
    fig.add_scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="Perfeita", line={"dash": "dash"})
    fig.update_xaxes(title="P(alta) prevista", tickformat=".0%")
    fig.update_yaxes(title="Frequência de alta", tickformat=".0%")
    return _layout(fig, "Calibração", theme)


def importance_figure(summary: dict, top: int = 15, theme: str | None = None) -> go.Figure:
    """Horizontal bars of permutation importance (and normalised gain) of the top features."""
    rows = summary.get("importance") or []
    rows = rows[:top][::-1]
    fig = go.Figure()
    fig.add_bar(
        y=[r["feature"] for r in rows],
        x=[r["permutation"] for r in rows],
        orientation="h",
        name="Permutação (queda da métrica)",
    )
    if any(r.get("gain") is not None and r.get("gain") == r.get("gain") for r in rows):
        fig.add_bar(
            y=[r["feature"] for r in rows],
            x=[r["gain"] for r in rows],
            orientation="h",
            name="Ganho (fração)",
        )
    fig.update_layout(barmode="group")
    return _layout(fig, "Importância dos atributos", theme, height=420)


def equity_figure(trading: dict, theme: str | None = None) -> go.Figure:
    """Growth of R$ 1: the model's long/flat strategy vs buy-and-hold (out of sample)."""
    eq = trading["equity"]
    fig = go.Figure()
    fig.add_scatter(x=eq["date"], y=eq["strategy"], mode="lines", name="Modelo (com custos)")
    fig.add_scatter(x=eq["date"], y=eq["buy_hold"], mode="lines", name="Comprar e manter")
    fig.update_yaxes(title="R$ por R$ 1 investido", tickprefix="R$ ")
    return _layout(fig, f"Operando quando P(alta) ≥ {fmt_pct(trading['threshold'], 0)}", theme)


def trading_table(trading: dict) -> dbc.Table:
    """Return, Sharpe, drawdown and trades of the strategy and of buy-and-hold."""
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "",
                    "Retorno",
                    "Retorno anual",
                    "Sharpe (rf 0)",
                    "Drawdown máx.",
                    "Operações",
                    "Exposição",
                )
            ]
        )
    )
    body = []
    for key, label in (("strategy", "Modelo"), ("buy_hold", "Comprar e manter")):
        p = trading[key]
        body.append(
            html.Tr(
                [
                    html.Td(label),
                    html.Td(fmt_pct(p["total_return"])),
                    html.Td(fmt_pct(p["annual_return"])),
                    html.Td(fmt_num(p["sharpe"], 2)),
                    html.Td(fmt_pct(p["max_drawdown"])),
                    html.Td(fmt_int(p.get("trades"))),
                    html.Td(fmt_pct(p.get("exposure"), 0)),
                ]
            )
        )
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True)


def _graph(fig: go.Figure):
    from dash import dcc

    return dcc.Graph(figure=fig, config=graph_config(displayModeBar=False))


def result_card(result: dict, theme: str | None = None) -> dbc.Card:
    """Everything about one trained model, with its "Promover" button (figures in ``theme``)."""
    s = result["summary"]
    acc = s["metrics"]["accuracy"]
    best = s["baselines"][s["best_baseline"]]
    verdict_ok = s["p_value"] < 0.05 and (
        s.get("p_value_dates") is None
        or s.get("p_value_dates") != s.get("p_value_dates")
        or s["p_value_dates"] < 0.05
    )
    verdict = dbc.Alert(
        [
            html.B(
                f"Acurácia {fmt_pct(acc['value'])} (IC 95% {fmt_pct(acc['lo'])} – "
                f"{fmt_pct(acc['hi'])}, n = {fmt_int(s['n'])})"
            ),
            f" vs {BASELINE_LABELS[s['best_baseline']].lower()} {fmt_pct(best['value'])}. ",
            "Vantagem estatisticamente significativa a 5%."
            if verdict_ok
            else "Sem vantagem significativa sobre a referência ingênua.",
        ],
        color="success" if verdict_ok else "secondary",
        className="py-2",
    )
    mid = result.get("model_id")
    header = [
        html.Span(
            f"{s['model_label']} · {', '.join(s['tickers'][:6])}"
            f"{'…' if len(s['tickers']) > 6 else ''} · "
            f"{VALIDATION_LABELS.get(s['validation'], s['validation'])}",
            className="fw-semibold",
        ),
    ]
    if mid is not None:
        header.append(
            dbc.Button(
                "Promover",
                id={"type": "models-promote", "index": int(mid)},
                size="sm",
                color="primary",
                className="float-end",
                n_clicks=0,
            )
        )
        header.append(html.Span(f" #{mid}", className="text-muted ms-2"))
    body = [
        verdict,
        dbc.Row(
            [
                dbc.Col(metrics_table(s), md=6),
                dbc.Col(_graph(confusion_figure(s, theme)), md=6),
            ]
        ),
        html.H6("Dobras"),
        folds_table(s),
        dbc.Row(
            [
                dbc.Col(_graph(roc_figure(result["roc"], theme)), md=6),
                dbc.Col(_graph(calibration_figure(result["calibration"], theme)), md=6),
            ]
        ),
        dbc.Row(
            [
                dbc.Col(_graph(importance_figure(s, theme=theme)), md=6),
                dbc.Col(
                    [
                        _graph(equity_figure(result["trading"], theme)),
                        trading_table(result["trading"]),
                    ],
                    md=6,
                ),
            ]
        ),
    ]
    return dbc.Card(
        [dbc.CardHeader(header), dbc.CardBody(body)],
        className="mb-3 models-result",
    )


def gate_report(report: dict) -> dbc.Alert:
    """The approval gates of a promotion attempt, each passed or failed."""
    items = [
        html.Li(
            f"{'✔' if c['passed'] else '✘'} {c['label']}: {fmt_num(c['value'], 4)} "
            f"(limite {fmt_num(c['threshold'], 4)})"
        )
        for c in report.get("checks", [])
    ]
    return dbc.Alert(
        [html.Div(report.get("message", "")), html.Ul(items, className="mb-0")]
        if items
        else report.get("message", ""),
        color="success" if report.get("promoted") else "warning",
        dismissable=True,
        id="models-gate-alert",
    )


def predictions_table(records: list[dict]) -> dbc.Table | html.Div:
    """The champion's predictions for every instrument (probability, direction, confidence)."""
    if not records:
        return html.Div(
            "Nenhum modelo campeão ainda: treine um modelo e clique em Promover.",
            className="text-muted",
            id="models-no-champion",
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "Ativo",
                    "Último pregão",
                    "Previsão para",
                    "P(alta)",
                    "Direção",
                    "Confiança",
                )
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(r["ticker"]),
                html.Td(fmt_date(r["as_of"])),
                html.Td(fmt_date(r["target_date"])),
                html.Td(fmt_pct(r["p_up"], 1)),
                html.Td(
                    r["direction"],
                    className="text-success" if r["direction"] == "Alta" else "text-danger",
                ),
                html.Td(
                    [fmt_pct(r["confidence"], 1)]
                    + (
                        [" ", dbc.Badge("alta confiança", color="warning")]
                        if r["high_confidence"]
                        else []
                    )
                ),
            ]
        )
        for r in records
    ]
    return dbc.Table(
        [head, html.Tbody(body)], size="sm", striped=True, hover=True, id="models-predictions-table"
    )


def prediction_alerts(records: list[dict], live: dict | None) -> list:
    """In-app alerts: high-confidence predictions and the drift warning."""
    out = []
    hc = [r for r in records if r.get("high_confidence")]
    if hc:
        out.append(
            dbc.Alert(
                "Previsões de alta confiança: "
                + "; ".join(
                    f"{r['ticker']} {r['direction'].lower()} ({fmt_pct(r['p_up'], 1)})" for r in hc
                ),
                color="warning",
                className="py-2",
            )
        )
    if live:
        out.append(
            dbc.Alert(
                live["message"], color="danger" if live.get("drift") else "light", className="py-2"
            )
        )
    return out


def registry_table(models: list[dict]) -> dbc.Table | html.Div:
    """Models in the registry, newest first."""
    if not models:
        return html.Div("Registro vazio.", className="text-muted")
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "#",
                    "Modelo",
                    "Situação",
                    "Treinado até",
                    "Acurácia",
                    "ROC-AUC",
                    "Melhor ref.",
                    "p",
                    "n",
                )
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(m["id"]),
                html.Td(m["name"]),
                html.Td(
                    dbc.Badge(
                        STATUS_LABELS.get(m["status"], m["status"]),
                        color="success" if m["status"] == "champion" else "secondary",
                    )
                ),
                html.Td(fmt_date(m["train_end"])),
                html.Td(fmt_pct(m["accuracy"])),
                html.Td(fmt_pct(m["roc_auc"])),
                html.Td(fmt_pct(m["baseline"])),
                html.Td(fmt_num(m["p_value"], 3)),
                html.Td(fmt_int(m["n"])),
            ]
        )
        for m in models
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True, id="models-registry-table")


def promotions_table(promotions: list[dict]) -> dbc.Table | html.Div:
    """History of champion changes."""
    if not promotions:
        return html.Div("Nenhuma promoção ainda.", className="text-muted")
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Quando", "Alvo", "Novo campeão", "Anterior", "Motivo")])
    )
    body = [
        html.Tr(
            [
                html.Td(fmt_date(p["promoted_at"])),
                html.Td(target_label(p["target"])),
                html.Td(f"#{p['model_id']}"),
                html.Td(
                    "—"
                    if p["previous_model_id"] is None
                    or p["previous_model_id"] != p["previous_model_id"]
                    else f"#{int(p['previous_model_id'])}"
                ),
                html.Td(p["reason"]),
            ]
        )
        for p in promotions
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True)


SEVERITY_COLORS = {"alta": "danger", "média": "warning", "baixa": "secondary"}


def anomalies_table(records: list[dict], limit: int = 30) -> dbc.Table | html.Div:
    """Anomalous sessions (newest first) with severity badge, score and that day's return."""
    if not records:
        return html.Div("Nenhuma sessão anômala encontrada.", className="text-muted")
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("Data", "Severidade", "Pontuação", "Retorno do dia")])
    )
    rows = sorted(records, key=lambda r: r["date"], reverse=True)[:limit]
    body = [
        html.Tr(
            [
                html.Td(fmt_date(r["date"])),
                html.Td(dbc.Badge(r["severity"], color=SEVERITY_COLORS.get(r["severity"], "info"))),
                html.Td(fmt_num(r["score"], 3)),
                html.Td(fmt_pct(r["ret_1"], 2, sign=True)),
            ]
        )
        for r in rows
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True, id="models-anomalies-table")
