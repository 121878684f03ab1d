"""components.seed: a layout seeded with its callbacks' first answers."""

from __future__ import annotations

import pytest
from dash import dcc, html, no_update

from components.seed import seed_props


def _tree():
    return html.Div(
        [
            dcc.Store(id="s"),
            html.Div(id="box", style={"display": "none"}),
            html.Div(html.Span(id="deep")),
        ]
    )


def test_values_land_on_the_components():
    root = _tree()
    seed_props(root, [("deep", "children"), ("box", "style")], ["olá", None])
    assert root["deep"].children == "olá"
    assert root["box"].style is None  # None replaces a value the layout had


def test_no_update_and_unset_none_leave_the_layout_alone():
    root = _tree()
    seed_props(root, [("s", "data"), ("box", "style")], [None, no_update])
    assert "data" not in root["s"].to_plotly_json()["props"]  # a Store stays unset
    assert root["box"].style == {"display": "none"}


def test_errors():
    with pytest.raises(KeyError):
        seed_props(_tree(), [("missing", "children")], [1])
    with pytest.raises(ValueError):
        seed_props(_tree(), [("deep", "children")], [1, 2])
