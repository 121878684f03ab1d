"""Drawings as Plotly shapes and back (the Quotes page's drawing tools, issue 14)."""

from __future__ import annotations

import pandas as pd

from components.drawings import (
    apply_shape_edits,
    dragmode_for,
    drawing_shapes,
    is_drawing_shape,
    shapes_to_drawings,
)
from core.drawings import FIB_RATIOS, Drawing

T0, T1 = pd.Timestamp("2022-03-02 10:00"), pd.Timestamp("2022-03-03 15:30")
GUIDE = {"type": "line", "xref": "x3 domain", "yref": "y3", "x0": 0, "x1": 1, "y0": 70, "y1": 70}


def _drawn_line(y0=110_000.0, y1=112_000.0):
    return {"type": "line", "xref": "x", "yref": "y", "x0": str(T0), "x1": str(T1), "y0": y0,
            "y1": y1}  # fmt: skip


def test_a_line_drawn_with_the_level_tool_becomes_a_labelled_level():
    got = shapes_to_drawings([GUIDE, _drawn_line()], "WINFUT", "level", [])
    assert [(d.kind, d.y0, d.y1, d.id) for d in got] == [("level", 110_000.0, 110_000.0, None)]
    stored = [Drawing(**{**got[0].__dict__, "id": 7})]
    (shape,) = drawing_shapes(stored)
    assert shape["name"] == "level:7" and shape["xref"] == "x domain"
    assert shape["label"]["text"] == "110.000"  # pt-BR, points
    again = shapes_to_drawings([GUIDE, shape], "WINFUT", "trend", stored)  # keeps kind and time
    assert [(d.kind, d.id, d.x0) for d in again] == [("level", 7, T0)]


def test_fib_segment_renders_its_levels_and_reads_back_as_one_drawing():
    fib = Drawing(ticker="PETR4", kind="fib", x0=T0, x1=T1, y0=30.0, y1=40.0, id=3)
    shapes = drawing_shapes([fib])
    assert len(shapes) == 1 + len(FIB_RATIOS)
    labels = [s["label"]["text"] for s in shapes[1:]]
    assert "61,8% · 36,18" in labels
    assert not shapes[1]["editable"]
    back = shapes_to_drawings(shapes, "PETR4", "none", [fib])
    assert [(d.kind, d.id, d.y0, d.y1) for d in back] == [("fib", 3, 30.0, 40.0)]


def test_rectangles_and_guides():
    rect = {**_drawn_line(), "type": "rect"}
    (d,) = shapes_to_drawings([rect, GUIDE], "PETR4", "trend", [])
    assert d.kind == "rect"
    assert not is_drawing_shape(GUIDE) and is_drawing_shape(rect)
    assert dragmode_for("rect") == "drawrect" and dragmode_for(None) == "zoom"


def test_relayout_edits_move_one_shape_or_replace_the_list():
    shapes = [GUIDE, _drawn_line()]
    moved = apply_shape_edits(shapes, {"shapes[1].y0": 111_111.0, "shapes[1].x0": "2022-03-04"})
    assert moved[1]["y0"] == 111_111.0 and moved[1]["x0"] == "2022-03-04"
    assert shapes[1]["y0"] == 110_000.0  # not mutated
    assert apply_shape_edits(shapes, {"shapes": [GUIDE]}) == [GUIDE]
    assert apply_shape_edits(shapes, {"xaxis.range[0]": "2022-03-01"}) is None
