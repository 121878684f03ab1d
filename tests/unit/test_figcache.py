"""Issue 15 load: the content-addressed figure cache never serves a stale figure."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from components import figcache

CALLS: list = []


def _build(df: pd.DataFrame, theme: str | None = None):
    """A stand-in for a Plotly builder (anything with ``to_dict()``)."""
    CALLS.append(1)
    fig = {"data": [{"x": list(df.index), "y": list(df["close"]), "name": theme or "light"}]}
    return SimpleNamespace(to_dict=lambda: fig)


def test_same_inputs_hit_and_any_change_misses(monkeypatch):
    figcache.clear()
    CALLS.clear()
    df = pd.DataFrame({"close": [1.0, 2.0]}, index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    a = figcache.cached_figure(_build, df, "light")
    b = figcache.cached_figure(_build, df.copy(), "light")
    assert a is b and len(CALLS) == 1 and a["data"][0]["y"] == [1.0, 2.0]
    corrected = df.copy()
    corrected.iloc[-1, 0] = 2.5  # a corrected price: a new figure, never the old one
    assert figcache.cached_figure(_build, corrected, "light")["data"][0]["y"] == [1.0, 2.5]
    assert figcache.cached_figure(_build, df, "dark")["data"][0]["name"] == "dark"
    assert len(CALLS) == 3 and figcache.stats()["hits"] == 1
    monkeypatch.setattr(figcache, "MAX_ENTRIES", 2)
    figcache.cached_figure(_build, df, "other")
    assert figcache.stats()["entries"] == 2  # least recently used dropped
    figcache.clear()


def test_backtest_results_tab_draws_its_empty_figures_once(monkeypatch):
    """Issue 15 (load): the Backtest page's four empty charts (two distinct messages) are
    built once per process, not at every page render (regression: 4 plotly builds, ~60 % of
    the page's CPU, per render)."""
    import components.backtest_form as bf
    from components import figcache

    built = []
    real = bf.empty_figure

    def counting(message, theme=None):
        built.append(message)
        return real(message, theme)

    counting.__qualname__ = "test_empty_figure"  # its own cache keys
    monkeypatch.setattr(bf, "empty_figure", counting)
    figcache.clear()
    first = bf.results_tab()
    again = bf.results_tab()
    assert sorted(built) == ["", bf.EMPTY_RESULT]
    from plotly.io.json import to_json_plotly

    assert to_json_plotly(first) == to_json_plotly(again)  # the same page, as Dash sends it


class _FakeRedis:
    """A dict with Redis's get/set(ex=)."""

    def __init__(self, fail: bool = False):
        self.data: dict = {}
        self.fail = fail

    def get(self, key):
        if self.fail:
            raise ConnectionError("redis down")
        return self.data.get(key)

    def set(self, key, value, ex=None):
        if self.fail:
            raise ConnectionError("redis down")
        assert ex and ex > 0
        self.data[key] = value.encode() if isinstance(value, str) else value


def test_shared_store_builds_once_for_every_process():
    """Issue 15 (load): with a shared store (Redis in team mode), a figure another web
    worker built is read back instead of built again; the JSON Dash sends is the same."""
    from plotly.io.json import to_json_plotly

    df = pd.DataFrame({"close": [1.0, 2.0]}, index=pd.date_range("2024-01-02", periods=2))
    redis = _FakeRedis()
    try:
        figcache.share(redis)
        figcache.clear()
        CALLS.clear()
        first = figcache.cached_figure(_build, df, "dark")
        assert len(CALLS) == 1 and len(redis.data) == 1
        figcache.clear()  # "another process": its own cache is empty
        again = figcache.cached_figure(_build, df, "dark")
        assert len(CALLS) == 1 and figcache.stats()["shared_hits"] == 1
        assert to_json_plotly(again) == to_json_plotly(first)
        figcache.clear()
        figcache.cached_figure(_build, df, "light")  # other inputs: built
        assert len(CALLS) == 2
    finally:
        figcache.share(None)
        figcache.clear()


def test_shared_store_errors_fall_back_to_building():
    df = pd.DataFrame({"close": [1.0]}, index=pd.date_range("2024-01-02", periods=1))
    try:
        figcache.share(_FakeRedis(fail=True))
        figcache.clear()
        CALLS.clear()
        fig = figcache.cached_figure(_build, df, "dark")
        assert len(CALLS) == 1 and fig["data"][0]["name"] == "dark"
    finally:
        figcache.share(None)
        figcache.clear()


def test_cached_figures_are_plain_json():
    """Issue 15 (load): a cached figure is stored as plain JSON values (numpy arrays in
    plotly's typed-array form), so each request that sends it needs no plotly encoder
    hook; what Dash sends is unchanged (regression: to_dict() kept numpy arrays)."""
    import json

    import numpy as np
    import plotly.graph_objects as go
    from plotly.io.json import to_json_plotly

    def build(n):  # a time axis, as every price chart has (plotly keeps it as numpy)
        x = pd.date_range("2024-01-02", periods=n, freq="B").to_numpy()
        return go.Figure(go.Scatter(x=x, y=np.linspace(0.0, 1.0, n)))

    figcache.clear()
    fig = figcache.cached_figure(build, 50)
    json.dumps(fig)  # the standard encoder alone: no numpy object left
    assert to_json_plotly(fig) == to_json_plotly(build(50).to_dict())
    figcache.clear()
