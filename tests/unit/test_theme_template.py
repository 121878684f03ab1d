"""Issue 11: themed figures skip re-validating plotly's template (it cost ~0.1 s per figure).

The fast path must give exactly what the validated assignment gives, and never share the
registered template with a figure."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
import pytest

from components.theme import apply_theme, template_for


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_fast_template_equals_the_validated_assignment(theme):
    fig = apply_theme(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])), theme)
    slow = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    slow.update_layout(template=template_for(theme))
    assert fig.layout.template.to_plotly_json() == slow.layout.template.to_plotly_json()
    assert fig.to_dict()["layout"]["template"] == slow.to_dict()["layout"]["template"]


def test_figure_template_is_a_copy_and_validation_stays_on():
    fig = apply_theme(go.Figure(), "light")
    fig.layout.template.layout.font.size = 99
    assert pio.templates[template_for("light")].layout.font.size != 99
    with pytest.raises(ValueError):
        fig.update_layout(not_a_layout_property=1)
