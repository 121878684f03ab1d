"""Pure builders of layout pieces and Plotly figures: plain data in, Dash/Plotly objects out.

No app, no page, no I/O here. Tested by asserting on ``fig.data`` / ``fig.layout``.
"""
