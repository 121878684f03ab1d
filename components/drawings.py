"""Chart drawings as Plotly shapes and back (the Quotes page's drawing tools).

:func:`drawing_shapes` renders :class:`core.drawings.Drawing` rows as editable layout
shapes of the price panel (``xref="x"``, ``yref="y"``), each named ``"<kind>:<id>"``;
:func:`shapes_to_drawings` reads the shapes Plotly reports after the user drew, moved or
erased one (``relayoutData``) back into drawings. A Fibonacci retracement is an editable
segment (``fib:<id>``) plus one non-editable level line per ratio (``fibl:<id>:<k>``),
re-derived from the segment at every save.
"""

from __future__ import annotations

import pandas as pd

from components.format import fmt_num, fmt_pct
from core.drawings import KINDS, Drawing, fib_levels

__all__ = [
    "is_drawing_shape",
    "drawing_toolbar",
    "TOOLS",
    "drawing_shapes",
    "shapes_to_drawings",
    "apply_shape_edits",
    "dragmode_for",
]

#: Drawing tools of the page: value -> label.
TOOLS: dict[str, str] = {
    "none": "Navegar",
    "trend": "Linha de tendência",
    "level": "Nível horizontal",
    "rect": "Retângulo",
    "fib": "Fibonacci",
}
_COLORS = {"trend": "#2f80ed", "level": "#9b51e0", "rect": "#2f80ed", "fib": "#f2994a"}


def dragmode_for(tool: str | None) -> str:
    """Plotly ``layout.dragmode`` of a drawing tool (``zoom`` when not drawing)."""
    return {"trend": "drawline", "level": "drawline", "fib": "drawline", "rect": "drawrect"}.get(
        tool or "none", "zoom"
    )


def _x(t) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def drawing_shapes(drawings: list[Drawing], decimals: int | None = None) -> list[dict]:
    """Plotly layout shapes of ``drawings`` (price panel, data coordinates).

    Levels span the whole width and carry their price as a label; Fibonacci levels carry
    the ratio and the price (pt-BR, :mod:`components.format`; ``decimals`` None = 0 for
    prices of 1.000 or more — index points — else 2).
    """
    out: list[dict] = []
    for d in drawings:
        decimals = decimals if decimals is not None else (0 if abs(d.y0) >= 1000 else 2)
        color = (d.style or {}).get("color") or _COLORS[d.kind]
        line = {"color": color, "width": (d.style or {}).get("width", 1.5)}
        name = f"{d.kind}:{d.id}"
        if d.kind == "level":
            out.append(
                {
                    "type": "line",
                    "name": name,
                    "xref": "x domain",
                    "yref": "y",
                    "x0": 0,
                    "x1": 1,
                    "y0": d.y0,
                    "y1": d.y0,
                    "line": line,
                    "editable": True,
                    "label": {
                        "text": fmt_num(d.y0, decimals),
                        "textposition": "end",
                        "font": {"size": 10, "color": color},
                    },
                }
            )
            continue
        base = {
            "name": name,
            "xref": "x",
            "yref": "y",
            "x0": _x(d.x0),
            "x1": _x(d.x1),
            "y0": d.y0,
            "y1": d.y1,
            "line": line,
            "editable": True,
        }
        if d.kind == "rect":
            out.append({**base, "type": "rect", "fillcolor": "rgba(47,128,237,0.10)"})
            continue
        if d.kind == "fib":
            out.append({**base, "type": "line", "line": {**line, "dash": "dot"}})
            left, right = sorted((pd.Timestamp(d.x0), pd.Timestamp(d.x1)))
            for k, (ratio, price) in enumerate(fib_levels(d.y0, d.y1)):
                out.append(
                    {
                        "type": "line",
                        "name": f"fibl:{d.id}:{k}",
                        "xref": "x",
                        "yref": "y",
                        "x0": _x(left),
                        "x1": _x(right),
                        "y0": price,
                        "y1": price,
                        "editable": False,
                        "line": {"color": color, "width": 1},
                        "label": {
                            "text": f"{fmt_pct(ratio, 1)} · {fmt_num(price, decimals)}",
                            "textposition": "end",
                            "font": {"size": 10, "color": color},
                        },
                    }
                )
            continue
        out.append({**base, "type": "line"})
    return out


def is_drawing_shape(shape: dict, *, with_fib_levels: bool = True) -> bool:
    """Whether a layout shape is a user's drawing (or, with ``with_fib_levels``, one of a
    Fibonacci drawing's level lines) rather than a panel guide line (``xref="x3 domain"``)."""
    name = str(shape.get("name") or "")
    if name:
        prefix = name.split(":", 1)[0]
        return prefix in KINDS or (with_fib_levels and prefix == "fibl")
    # a shape the user just drew in the price panel (panel guide lines are "x3 domain" etc.)
    return shape.get("xref", "x") == "x" and shape.get("yref", "y") == "y"


def shapes_to_drawings(
    shapes: list[dict], ticker: str, tool: str | None, previous: list[Drawing]
) -> list[Drawing]:
    """Drawings from the price panel's shapes as Plotly reports them.

    Parameters
    ----------
    shapes : list of dict
        ``layout.shapes`` (every panel; guide lines of lower panels and Fibonacci level
        lines are skipped).
    ticker : str
    tool : str or None
        The active tool (:data:`TOOLS`): names the kind of a shape drawn just now (a line
        drawn with ``level`` becomes a horizontal level at its first point, with ``fib`` a
        retracement).
    previous : list of Drawing
        The stored drawings the shapes were rendered from (a level keeps its time).

    Returns
    -------
    list of Drawing
        With the ``id`` of the drawing each shape came from (None for new ones).
    """
    by_id = {d.id: d for d in previous}
    out: list[Drawing] = []
    for s in shapes or []:
        if not isinstance(s, dict) or not is_drawing_shape(s, with_fib_levels=False):
            continue
        name = str(s.get("name") or "")
        kind, ident = (name.split(":", 1) + [""])[:2] if name else ("", "")
        old = by_id.get(int(ident)) if ident.isdigit() else None
        if not kind:
            if s.get("type") == "rect":
                kind = "rect"
            else:
                kind = tool if tool in ("trend", "level", "fib") else "trend"
        try:
            y0, y1 = float(s["y0"]), float(s["y1"])
        except (KeyError, TypeError, ValueError):
            continue
        if kind == "level":
            if s.get("xref") == "x domain" and old is not None:
                x0, x1 = old.x0, old.x1
            else:
                x0 = x1 = pd.Timestamp(s.get("x0"))
            y1 = y0
        else:
            try:
                x0, x1 = pd.Timestamp(s["x0"]), pd.Timestamp(s["x1"])
            except (KeyError, TypeError, ValueError):
                continue
        out.append(
            Drawing(
                ticker=ticker,
                kind=kind,
                x0=x0,
                x1=x1,
                y0=y0,
                y1=y1,
                id=old.id if old is not None else None,
                owner=old.owner if old is not None else None,
                style=old.style if old is not None else {},
            )
        )
    return out


def apply_shape_edits(shapes: list[dict], relayout: dict) -> list[dict] | None:
    """``shapes`` after a ``relayoutData`` event, or None when it changes no shape.

    Plotly reports a new or erased shape as the full list (``{"shapes": [...]}``) and a
    moved one as ``{"shapes[2].x0": ..., "shapes[2].y0": ...}``.
    """
    if not relayout:
        return None
    if isinstance(relayout.get("shapes"), list):
        return [dict(s) for s in relayout["shapes"]]
    edits = {k: v for k, v in relayout.items() if k.startswith("shapes[")}
    if not edits:
        return None
    out = [dict(s) for s in shapes or []]
    for key, value in edits.items():
        idx, _, prop = key[len("shapes[") :].partition("].")
        if idx.isdigit() and int(idx) < len(out) and prop:
            out[int(idx)][prop] = value
    return out


def drawing_toolbar(tool: str = "none"):
    """The drawing-tool buttons above the Quotes chart, with a one-line hint."""
    import dash_bootstrap_components as dbc
    from dash import html

    return html.Div(
        [
            dbc.RadioItems(
                id="quotes-draw-tool",
                options=[{"label": v, "value": k} for k, v in TOOLS.items()],
                value=tool,
                inline=True,
                className="btn-group",
                inputClassName="btn-check",
                labelClassName="btn btn-outline-secondary btn-sm",
                labelCheckedClassName="active",
            ),
            html.Small(
                "Desenhe no gráfico de preços; arraste para mover. Para apagar, clique no "
                "desenho e use “Apagar forma” na barra do gráfico. Os desenhos ficam salvos "
                "por ticker.",
                className="text-muted ms-2",
            ),
        ],
        className="d-flex align-items-center flex-wrap gap-2 mb-1",
    )
