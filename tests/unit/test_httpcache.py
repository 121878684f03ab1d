"""Browser cache lifetimes of static files (issue 11: a page load revalidates nothing)."""

from __future__ import annotations

import pytest

from dashboard.httpcache import IMMUTABLE, cache_control


@pytest.mark.parametrize(
    "path, query",
    [
        ("/assets/00-bootstrap.min.css", "m=1796073838.3492754"),
        ("/assets/09-preload.js", "m=1796074160.44"),
        ("/assets/fonts/bootstrap-icons.woff2", "e34853135f9e39acf64315236852cd5a"),
        ("/_favicon.ico", "v=4.4.1"),
    ],
)
def test_fingerprinted_static_files_live_a_year(path, query):
    assert cache_control(path, query, 200) == IMMUTABLE
    assert cache_control(path, query, 304) == IMMUTABLE


@pytest.mark.parametrize(
    "path, query, status",
    [
        ("/assets/00-bootstrap.min.css", "", 200),  # no fingerprint: revalidate
        ("/assets/00-bootstrap.min.css", "x=1", 200),
        ("/assets/00-bootstrap.min.css", "m=1", 404),
        ("/_favicon.ico", "", 200),
        ("/backtest", "m=1", 200),  # pages are never cached
        ("/_dash-layout", "m=1", 200),
        ("/_dash-component-suites/dash/dcc/async-graph.js", "", 200),
    ],
)
def test_everything_else_is_left_alone(path, query, status):
    assert cache_control(path, query, status) is None


def test_prefix_of_a_mounted_app():
    assert cache_control("/pregao/assets/a.css", "m=1", 200, "/pregao/") == IMMUTABLE
    assert cache_control("/assets/a.css", "m=1", 200, "/pregao/") is None


def test_installed_on_the_flask_server(tmp_path):
    """On a Flask server serving ``assets/`` as Dash does (a static folder): before, assets
    came back ``no-cache`` (a 304 round trip per asset on every page load)."""
    from types import SimpleNamespace

    from flask import Flask

    from dashboard import httpcache

    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "x.css").write_text("body{}")
    server = Flask(__name__, static_folder=str(tmp_path / "assets"), static_url_path="/assets")
    app = SimpleNamespace(server=server, config=SimpleNamespace(routes_pathname_prefix="/"))
    httpcache.install(app)
    client = server.test_client()
    r = client.get("/assets/x.css?m=123")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == IMMUTABLE
    r = client.get("/assets/x.css")
    assert "immutable" not in r.headers.get("Cache-Control", "")
    r = client.get("/assets/nope.css?m=1")
    assert r.status_code == 404 and "immutable" not in r.headers.get("Cache-Control", "")
