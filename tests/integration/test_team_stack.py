"""Team mode as deployed: gunicorn -w 2 + Celery worker + PostgreSQL + Redis on loopback.

The login flow in Chromium, lockout and unlock, CSRF, headers, 404, the import probes over
HTTP, roles (a viewer looks but cannot act; an admin imports from the import folder through
a background job on the Celery worker).
"""

from __future__ import annotations

import pytest

from tests import services
from tests.team_stack import (
    PASSWORD,
    callback,
    csrf_token,
    dependencies,
    inbox_dir,
    login,
    start_team_stack,
)

pytestmark = [pytest.mark.integration]

CSV = "Date,Open,High,Low,Close,Adj Close,Volume\n2024-11-18,10,11,9,10.5,10.5,1000\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, pg_server, redis_url):
    url, drop = services.fresh_postgres_database(pg_server)
    st = start_team_stack(tmp_path_factory.mktemp("teamstack"), url, redis_url)
    yield st
    st.stop()
    drop()


def test_every_url_needs_a_login_and_headers_leak_nothing(stack):
    import requests

    base = stack.base
    r = requests.get(base + "/data", allow_redirects=False, timeout=30)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert requests.get(base + "/_dash-layout", timeout=30).status_code == 401
    assert requests.post(base + "/_dash-update-component", json={}, timeout=30).status_code == 401
    login_page = requests.get(base + "/login", timeout=30)
    h = login_page.headers
    assert "Werkzeug" not in h.get("Server", "") and "Python" not in h.get("Server", "")
    assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    s = login(base, "bia")
    assert s.get(base + "/pagina-que-nao-existe", timeout=30).status_code == 404
    assert s.get(base + "/quotes?ticker=PETR4", timeout=30).status_code == 200


def test_login_form_needs_its_csrf_token(stack):
    import requests

    s = requests.Session()
    csrf_token(s, stack.base)
    r = s.post(
        stack.base + "/login",
        data={"username": "ana", "password": PASSWORD, "csrf_token": "forjado"},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 400


def _fail(base, user):
    import requests

    s = requests.Session()
    return s.post(
        base + "/login",
        data={"username": user, "password": "errada errada", "csrf_token": csrf_token(s, base)},
        allow_redirects=False,
        timeout=30,
    )


def test_lockout_then_admin_unlock(stack):

    import sqlalchemy as sa

    base = stack.base
    assert (
        stack.cli("users", "add", "duda", "--role", "trader", stdin=PASSWORD + "\n").returncode == 0
    )
    for _ in range(3):
        assert _fail(base, "duda").status_code == 401
    eng = sa.create_engine(stack.env["PREGAO_DATABASE_URL"])

    def failures(n: int, ago: str) -> None:  # fast-forward the count (timing-proof on a busy CI)
        with eng.begin() as c:
            c.execute(
                sa.text(
                    f"UPDATE users SET failed_logins = {n}, last_failed_at = "
                    f"(now() at time zone 'utc') - interval '{ago}' WHERE username = 'duda'"
                )
            )

    failures(6, "0 seconds")
    r = _fail(base, "duda")
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 8
    failures(8, "0 seconds")
    r2 = _fail(base, "duda")
    assert r2.status_code == 429 and int(r2.headers["Retry-After"]) > int(r.headers["Retry-After"])
    # an hour of slow guessing later: the tenth failure locks the account
    failures(9, "1 day")
    eng.dispose()
    _fail(base, "duda")
    with pytest.raises(RuntimeError):
        login(base, "duda")  # the right password no longer opens it
    assert "bloqueada" in _fail(base, "duda").text
    assert stack.cli("users", "unlock", "duda").returncode == 0
    assert stack.cli("users", "unlock", "--ip", "127.0.0.1").returncode == 0
    login(base, "duda")
    audit = stack.cli("users", "audit", "--json").stdout
    assert "login_failed" in audit and "user_unlock" in audit


def test_viewer_looks_but_cannot_act_and_probes_fail(stack):
    base = stack.base
    viewer = login(base, "bia")
    deps = dependencies(viewer, base)
    r = callback(viewer, base, deps, "..data-import-result", {("data-import-btn", "n_clicks"): 1})
    assert r.status_code == 403
    r = callback(viewer, base, deps, "..backtest-run-id.data...", {("backtest-run", "n_clicks"): 1})
    assert r.status_code == 403
    r = callback(viewer, base, deps, "..models-promote-msg", {})
    assert r.status_code == 403
    admin = login(base, "ana")
    for probe in ("/etc/shadow", "../../etc/passwd", str(stack.data_dir / "gunicorn.log")):
        r = callback(
            admin,
            base,
            deps,
            "data-preview",
            {("data-preview-btn", "n_clicks"): 1, ("data-path", "value"): probe},
        )
        assert r.status_code == 200
        assert "não permitido" in str(r.json()) and "root" not in r.text
    trader = login(base, "caio")
    forged = [{"path": "/etc/passwd", "name": "innocent.csv"}]
    r = callback(
        trader,
        base,
        deps,
        "data-preview",
        {("data-preview-btn", "n_clicks"): 1, ("data-files", "data"): forged},
    )
    assert "inválido ou expirado" in str(r.json()) and "root" not in r.text


@pytest.fixture
def strict_page(browser):
    """A page that enforces the app's Content-Security-Policy (the shared fixture bypasses it)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="pt-BR")
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    errors: list[str] = []
    pg.on(
        "console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None
    )
    pg.csp_errors = errors
    yield pg
    ctx.close()


def test_admin_imports_from_the_import_folder_on_the_celery_worker(stack, strict_page):
    page = strict_page
    (inbox_dir(stack.data_dir) / "PETR4.csv").write_text(CSV)
    base = stack.base
    page.goto(base + "/quotes?ticker=PETR4")  # the chart draws under the CSP
    assert "/login" in page.url
    page.fill("#username", "ana")
    page.fill("#password", "senha errada aqui")
    page.click("#login-submit")
    assert "inválidos" in page.inner_text("#login-message")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.locator("#quotes-graph .main-svg").first.wait_for()
    assert page.url.endswith("/quotes?ticker=PETR4")
    page.goto(base + "/data")
    page.wait_for_selector("#data-path")
    page.fill("#data-path", str(inbox_dir(stack.data_dir) / "PETR4.csv"))
    page.press("#data-path", "Enter")
    page.click("#data-import-btn")
    page.locator("#data-import-result .alert").wait_for(timeout=120_000)
    text = page.inner_text("#data-import-result")
    assert "não permitido" not in text and "administradores" not in text, text
    assert "succeeded" in (stack.data_dir / "worker.log").read_text()
    assert page.csp_errors == []
    # logout ends the session
    page.click("#user-menu a:has-text('Sair')")
    page.wait_for_selector("#login-form")
    page.goto(base + "/data")
    assert "/login" in page.url


def test_each_user_sees_own_rows_and_cannot_open_another_users_by_id(stack):
    """Per-user data (issue 15): a trader lists their own and the team's runs and portfolios,
    never another user's, and a forged id or name of another user's row is refused; the admin
    sees every row. Regression: every row was listed and opened for every user."""
    from core.data.store import init_db
    from core.portfolio import save_portfolio
    from tests.unit.test_team_ownership import _result

    store = init_db(stack.env["PREGAO_DATABASE_URL"])
    try:
        from core.backtest.runs import save_run

        ana_run = save_run(store, _result("ana"), name="run da ana", owner="ana")
        caio_run = save_run(store, _result("caio"), name="run do caio", owner="caio")
        team_run = save_run(store, _result("team"), name="run do time")
        save_portfolio(store, "Carteira da ana", {"PETR4": 1.0}, owner="ana")
    finally:
        store.dispose()
    base = stack.base

    def _text(r):
        import json

        return json.dumps(r.json(), ensure_ascii=False)

    trader = login(base, "caio")
    deps = dependencies(trader, base)

    def run_ids(session):
        # the stored-runs grid is built with its rows when the "Comparar" tab opens
        r = callback(
            session,
            base,
            deps,
            "backtest-runs-box.children",
            {("backtest-tabs", "active_tab"): "backtest-tab-compare"},
        )
        assert r.status_code == 200
        grid = r.json()["response"]["backtest-runs-box"]["children"]
        assert grid["props"]["id"] == "backtest-runs"
        return {row["id"] for row in grid["props"]["rowData"]}

    assert {caio_run, team_run} <= run_ids(trader) and ana_run not in run_ids(trader)
    opened = callback(
        trader, base, deps, "..backtest-title", {("backtest-run-id", "data"): caio_run}
    )
    assert "run do caio" in _text(opened) or "sma" in _text(opened).lower()
    forged = callback(
        trader, base, deps, "..backtest-title", {("backtest-run-id", "data"): ana_run}
    )
    assert forged.status_code == 200 and "não encontrado" in _text(forged)
    assert "run da ana" not in _text(forged)
    r = callback(
        trader,
        base,
        deps,
        next(k for k in deps if "portfolio-load-message" in k),
        {("portfolio-load", "n_clicks"): 1, ("portfolio-load-name", "value"): "Carteira da ana"},
    )
    assert "não encontrada" in _text(r) and "PETR4" not in _text(r)
    admin = login(base, "ana")
    assert {ana_run, caio_run, team_run} <= run_ids(admin)
