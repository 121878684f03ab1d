"""Builders for the Models page: metric tables with CIs, folds, confusion matrix, ROC,
calibration, importances, trading view, predictions and the registry.

Pure functions: plain data in (the dicts of :func:`core.ml.training.train_models`, records
of the registry and predictions), Dash components or ``go.Figure`` out.
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import html

from components.format import fmt_brl, fmt_date, fmt_int, fmt_num, fmt_pct
from components.labels import target_label
from components.theme import apply_theme, graph_config
from core.ml.stats import ALPHA, p_verdict, reported_p

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
    "confidence_bins_table",
    "skipped_list",
    "plural",
    "meta_report",
]


def plural(n, one: str, many: str) -> str:
    """``"1 previsão"``, ``"3 previsões"`` (count in pt-BR digits)."""
    return f"{fmt_int(n)} {one if n == 1 else many}"


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
OUTCOME_LABELS = {
    "promoted": "promovido",
    "kept": "campeão mantido",
    "rejected": "reprovado",
}


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
    rows.append(
        html.Tr(
            [
                html.Td("Teste vs melhor referência"),
                html.Td(p_verdict(summary), colSpan=2),
            ]
        )
    )
    mde = summary.get("mde") or {}
    if mde:
        rows.append(
            html.Tr(
                [
                    html.Td("Efeito mínimo detectável (80% de poder)"),
                    html.Td(fmt_pct(mde.get("accuracy"))),
                    html.Td(
                        f"+{fmt_num(100 * mde.get('effect', float('nan')), 1)} p.p. sobre a "
                        f"referência; n efetivo {fmt_int(round(mde.get('n_effective', 0)))}; "
                        f"chance de detectar 55%: {fmt_pct(mde.get('power_55'), 0)}"
                    ),
                ]
            )
        )
    skill = summary.get("skill") or {}
    if skill:
        rows.append(
            html.Tr(
                [
                    html.Td("Habilidade de Brier vs taxa-base"),
                    html.Td(fmt_pct(skill.get("brier_skill"), 2, sign=True)),
                    html.Td(
                        f"Brier {fmt_num(skill.get('brier'), 4)} vs "
                        f"{fmt_num(skill.get('brier_ref'), 4)}"
                    ),
                ]
            )
        )
        rows.append(
            html.Tr(
                [
                    html.Td("Habilidade de log-loss vs taxa-base"),
                    html.Td(fmt_pct(skill.get("log_loss_skill"), 2, sign=True)),
                    html.Td(
                        f"{fmt_num(skill.get('log_loss'), 4)} vs "
                        f"{fmt_num(skill.get('log_loss_ref'), 4)}"
                    ),
                ]
            )
        )
    share = summary.get("fold_share")
    nf = len(summary.get("folds") or [])
    rows.append(
        html.Tr(
            [
                html.Td("Dobras que superam a sua referência"),
                html.Td(fmt_pct(share, 0)),
                html.Td(
                    f"{fmt_int(round(share * nf))} de {fmt_int(nf)}"
                    if share is not None and share == share
                    else "uma só dobra"
                ),
            ]
        )
    )
    if summary.get("ci_method"):
        rows.append(
            html.Tr(
                html.Td(
                    f"Intervalos: {summary['ci_method']}"
                    + (
                        f"; probabilidades calibradas ({summary['calibration']})"
                        if summary.get("calibration")
                        else "; probabilidades sem calibração"
                    ),
                    colSpan=3,
                    className="text-muted small",
                )
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
    if eq.get("cdi"):
        fig.add_scatter(x=eq["date"], y=eq["cdi"], mode="lines", name="CDI")
    fig.update_yaxes(title="R$ por R$ 1 investido", tickprefix="R$ ")
    return _layout(fig, f"Operando quando P(alta) ≥ {fmt_pct(trading['threshold'], 0)}", theme)


def trading_table(trading: dict) -> html.Div:
    """Return, Sharpe, drawdown and trades of the strategy and of buy-and-hold."""
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "",
                    "Retorno",
                    "Retorno anual",
                    "Sharpe (vs CDI)" if trading.get("engine") else "Sharpe (rf 0)",
                    "Drawdown máx.",
                    "Operações",
                    "Exposição",
                )
            ]
        )
    )
    body = []
    sides = [("strategy", "Modelo"), ("buy_hold", "Comprar e manter")]
    if trading.get("cdi"):
        sides.append(("cdi", "CDI"))
    for key, label in sides:
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
    note = (
        f"Backtest no motor (abertura seguinte, lotes, custos B3 {fmt_brl(trading.get('costs_brl'))}"
        f", IR {fmt_brl(trading.get('taxes_brl'))}; retorno após IR "
        f"{fmt_pct(trading.get('after_tax_return'))}; caixa parado rende o CDI)."
        if trading.get("engine")
        else "Visão simplificada (arquivo externo): sem CDI, sem IR, caixa não rende."
    )
    return html.Div(
        [
            dbc.Table([head, html.Tbody(body)], size="sm", striped=True, className="mb-1"),
            html.Div(note, className="small text-muted"),
        ]
    )


def _graph(fig: go.Figure):
    from dash import dcc

    return dcc.Graph(figure=fig, config=graph_config(displayModeBar=False))


def result_card(result: dict, theme: str | None = None) -> dbc.Card:
    """Everything about one trained model, with its "Promover" button (figures in ``theme``)."""
    s = result["summary"]
    acc = s["metrics"]["accuracy"]
    best = s["baselines"][s["best_baseline"]]
    p = reported_p(s)
    verdict_ok = p == p and p <= ALPHA and acc["value"] > best["value"]
    verdict = dbc.Alert(
        [
            html.B(
                f"Acurácia {fmt_pct(acc['value'])} (IC 95% {fmt_pct(acc['lo'])} – "
                f"{fmt_pct(acc['hi'])}, n = {fmt_int(s['n'])})"
            ),
            f" vs {BASELINE_LABELS[s['best_baseline']].lower()} {fmt_pct(best['value'])}. ",
            "Vantagem estatisticamente significativa a 5% — "
            if verdict_ok
            else "Sem vantagem significativa sobre a referência ingênua — ",
            f"{p_verdict(s)}.",
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
        html.H6("Acerto por faixa de P(alta) (fora da amostra)"),
        confidence_bins_table(s),
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
    """The approval gates of a promotion attempt: each gate with its number, rule and detail."""

    def val(c) -> str:
        v = c.get("value")
        if c.get("gate") == "cover_champion":
            return f"{fmt_int(v)} de {fmt_int(c.get('threshold'))} ativos"
        return fmt_num(v, 4)

    items = [
        html.Li(
            [
                html.Span("✔ " if c["passed"] else "✘ ", className="me-1"),
                html.B(c["label"]),
                f": {val(c)}",
                ""
                if c.get("gate") == "cover_champion"
                else f" (regra {c.get('comparison', '')} {fmt_num(c['threshold'], 4)})",
                html.Div(c["detail"], className="small text-muted") if c.get("detail") else None,
            ],
            className="gate-" + ("ok" if c["passed"] else "fail"),
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


def confidence_bins_table(summary: dict) -> dbc.Table | html.Div:
    """Out-of-sample hit rate per P(up) bin vs the baseline; "comprovada" bins are the only
    ones in which a prediction is flagged."""
    bins = summary.get("confidence_bins") or []
    if not bins:
        return html.Div("Sem faixas (alvo de 3 classes ou modelo antigo).", className="text-muted")
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in ("P(alta)", "n", "Acerto", "Referência", "p (Holm)", "Faixa comprovada")
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(f"{fmt_pct(b['lo'], 0)} – {fmt_pct(b['hi'], 0)}"),
                html.Td(fmt_int(b["n"])),
                html.Td(fmt_pct(b.get("hit"), 1)),
                html.Td(fmt_pct(b.get("base"), 1)),
                html.Td(fmt_num(b.get("p_holm"), 3)),
                html.Td("sim" if b.get("proven") else "não"),
            ]
        )
        for b in bins
    ]
    return dbc.Table(
        [head, html.Tbody(body)], size="sm", striped=True, className="mb-2 models-bins"
    )


def predictions_table(records: list[dict]) -> dbc.Table | html.Div:
    """The champion's predictions: probability, direction, signal strength ``|2p − 1|`` (not a
    probability), the "faixa comprovada" badge and how many B3 sessions the data is behind."""
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
                    "Força do sinal",
                    "Pregões de atraso",
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
                    [fmt_num(r["confidence"], 2)]
                    + (
                        [" ", dbc.Badge("faixa comprovada", color="warning")]
                        if r["high_confidence"]
                        else []
                    )
                ),
                html.Td(
                    fmt_int(r.get("sessions_behind")),
                    className="text-danger" if (r.get("sessions_behind") or 0) > 0 else "",
                ),
            ]
        )
        for r in records
    ]
    return dbc.Table(
        [head, html.Tbody(body)], size="sm", striped=True, hover=True, id="models-predictions-table"
    )


def prediction_alerts(records: list[dict], live: dict | None, drift: dict | None = None) -> list:
    """In-app alerts: predictions in proven bins, the live hit rate and the drift test."""
    out = []
    hc = [r for r in records if r.get("high_confidence")]
    if hc:
        out.append(
            dbc.Alert(
                "Previsões em faixas de acerto comprovado: "
                + "; ".join(
                    f"{r['ticker']} {r['direction'].lower()} ({fmt_pct(r['p_up'], 1)})" for r in hc
                ),
                color="warning",
                className="py-2",
            )
        )
    stale = [r for r in records if (r.get("sessions_behind") or 0) > 0]
    if stale:
        worst = max(r["sessions_behind"] for r in stale)
        out.append(
            dbc.Alert(
                f"Dados desatualizados em {plural(len(stale), 'ativo', 'ativos')} (até "
                f"{plural(worst, 'pregão', 'pregões')} de atraso): a previsão vale para o pregão "
                "seguinte ao último dado, não para o próximo pregão de hoje. Atualize os dados.",
                color="danger",
                className="py-2",
                id="models-stale-alert",
            )
        )
    if live:
        out.append(dbc.Alert(live["message"], color="light", className="py-2"))
    if drift:
        out.append(
            dbc.Alert(
                drift.get("message", ""),
                color="danger" if drift.get("alarm") else "light",
                className="py-2",
                id="models-drift",
            )
        )
    return out


def skipped_list(skipped: list[dict]) -> html.Details | None:
    """The instruments not forecast, each with its reason (None when nothing was skipped)."""
    if not skipped:
        return None
    return html.Details(
        [
            html.Summary(f"Sem previsão: {plural(len(skipped), 'ativo', 'ativos')}"),
            html.Ul([html.Li(f"{s['ticker']}: {s['reason']}") for s in skipped]),
        ],
        className="small text-muted mt-2",
        id="models-skipped",
    )


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
                    "p (conservador)",
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
                html.Td(fmt_num(m.get("p_value_reported", m["p_value"]), 3)),
                html.Td(fmt_int(m["n"])),
            ]
        )
        for m in models
    ]
    return dbc.Table([head, html.Tbody(body)], size="sm", striped=True, id="models-registry-table")


def promotions_table(promotions: list[dict]) -> dbc.Table | html.Div:
    """History of champion changes."""
    if not promotions:
        return html.Div("Nenhuma promoção nem retreino ainda.", className="text-muted")
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in ("Quando", "Alvo", "Resultado", "Modelo", "Campeão anterior", "Motivo")
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(fmt_date(p["promoted_at"])),
                html.Td(target_label(p["target"])),
                html.Td(OUTCOME_LABELS.get(p.get("outcome") or "promoted", p.get("outcome"))),
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


META_SIDES = {
    "without": "Sem filtro",
    "with_filter": "Com filtro",
    "sized": "Dimensionado (P → aposta)",
}


def meta_report(res: dict) -> html.Div:
    """Meta-labelling report: verdict against seed 002's gates, metrics, and the same
    out-of-sample trades with and without the filter (:class:`core.ml.meta.MetaResult`)."""
    m = res["metrics"]
    req = res["request"]
    verdict = dbc.Alert(
        res["message"],
        color="success" if res["passed"] else "danger",
        className="py-2",
        id="models-meta-verdict",
    )
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "",
                    "Operações",
                    "Tomadas",
                    "Acerto",
                    "Retorno médio",
                    "Sharpe por operação",
                )
            ]
        )
    )
    body = [
        html.Tr(
            [
                html.Td(lbl),
                html.Td(fmt_int(res["comparison"][k]["trades"])),
                html.Td(fmt_int(res["comparison"][k]["taken"])),
                html.Td(fmt_pct(res["comparison"][k]["win_rate"], 1)),
                html.Td(fmt_pct(res["comparison"][k]["mean_return"], 3)),
                html.Td(fmt_num(res["comparison"][k]["sharpe"], 2)),
            ]
        )
        for k, lbl in META_SIDES.items()
    ]
    gates = gate_report(
        {"checks": res["gates"], "message": "Regras da semente 002", "promoted": res["passed"]}
    )
    gates.id = "models-meta-gates"
    return html.Div(
        [
            verdict,
            html.P(
                f"{plural(res['n_trades'], 'operação', 'operações')} da estratégia "
                f"{req['strategy']}, {fmt_int(res['n_oos'])} fora da amostra "
                f"({req['folds']} dobras walk-forward, barreiras {fmt_num(req['pt'], 1)}σ / "
                f"{fmt_num(req['sl'], 1)}σ, limite de {plural(req['max_hold'], 'pregão', 'pregões')}"
                f"). Acurácia {fmt_pct(m['accuracy'])}, ROC-AUC {fmt_num(m['roc_auc'], 3)}, "
                f"acerto sem filtro {fmt_pct(m['base_win_rate'])}, com filtro "
                f"{fmt_pct(m['filtered_win_rate'])} (p = {fmt_num(m['p_value'], 3)}).",
                className="small",
            ),
            dbc.Table([head, html.Tbody(body)], size="sm", striped=True, id="models-meta-table"),
            gates,
        ]
    )
