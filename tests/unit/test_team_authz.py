"""Team mode in process: the login guard, roles in every callback, CSRF, headers, probes.

The app is built once (team mode on a SQLite file with ``PREGAO_ALLOW_SQLITE=1``; Redis is
named but never contacted: no background job is launched here) and driven with Flask's test
client. The callback-map test enumerates ``app.callback_map`` and calls every callback
without a session and as each role, with the page function replaced by a stub, so it tests
exactly the wrapper the server runs and never runs a job.
"""

from __future__ import annotations

import re

import pytest

from dashboard import authz
from dashboard import users as U

PW = "correct horse battery"
ROLES = ("viewer", "trader", "admin")


@pytest.fixture(scope="module")
def team_app(tmp_path_factory):
    from core.data.store import init_db
    from dashboard import create_app
    from dashboard.settings import load_settings

    d = tmp_path_factory.mktemp("team")
    url = f"sqlite:///{d / 'pregao.db'}"
    store = init_db(url)
    for role in ROLES:
        U.add_user(store, f"u-{role}", PW, role)
    env = {
        "PREGAO_DATA_DIR": str(d),
        "PREGAO_DATABASE_URL": url,
        "PREGAO_MODE": "team",
        "PREGAO_SECRET_KEY": "s" * 48,
        "PREGAO_REDIS_URL": "redis://127.0.0.1:1/0",
        "PREGAO_ALLOW_SQLITE": "1",
        "PREGAO_COOKIE_SECURE": "0",
    }
    app = create_app("app", load_settings(env=env, env_file=None))
    app.server.config["TESTING"] = True
    app.server.test_client().get("/login")  # first request: Dash setup + callback wrapping
    yield app
    store.dispose()


def _csrf(client) -> str:
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(app, role):
    c = app.server.test_client()
    r = c.post(
        "/login",
        data={"username": f"u-{role}", "password": PW, "csrf_token": _csrf(c), "next": "/data"},
    )
    assert r.status_code == 302 and r.headers["Location"] == "/data", r.get_data(as_text=True)
    return c


def _payload(app, cb_id, values=None):
    """A /_dash-update-component body for ``cb_id`` with ``values[(id, prop)]`` filled in."""
    values = values or {}
    cb = app.callback_map[cb_id]

    def dep(d):
        return {**d, "value": values.get((d["id"], d["property"]))}

    outs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
        for o in cb_id.strip(".").split("...")
    ]
    return {
        "output": cb_id,
        "outputs": outs if cb_id.startswith("..") else outs[0],
        "inputs": [dep(d) for d in cb["inputs"]],
        "state": [dep(d) for d in cb["state"]],
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in cb["inputs"]],
    }


def test_every_route_needs_a_login_except_the_login_page(team_app):
    c = team_app.server.test_client()
    for path in ("/", "/quotes?ticker=PETR4", "/data", "/admin", "/nao-existe"):
        r = c.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")
    for path in ("/_dash-layout", "/_dash-dependencies"):
        assert c.get(path).status_code == 401
    assert c.get("/assets/dashAgGridFunctions.js").status_code == 302  # to the login page
    cb = next(iter(k for k in team_app.callback_map if "data-preview" in k))
    assert c.post("/_dash-update-component", json=_payload(team_app, cb)).status_code == 401
    login = c.get("/login")
    assert login.status_code == 200
    html = login.get_data(as_text=True)
    for field in ('name="username"', 'name="password"', 'name="csrf_token"', "Lembrar-me"):
        assert field in html
    assert c.get("/assets/00-bootstrap.min.css").status_code == 200


def test_login_needs_the_csrf_token_and_rotates_the_session(team_app):
    c = team_app.server.test_client()
    _csrf(c)
    r = c.post("/login", data={"username": "u-admin", "password": PW, "csrf_token": "forged"})
    assert r.status_code == 400 and "Sessão expirada" in r.get_data(as_text=True)
    r = c.post("/login", data={"username": "u-admin", "password": PW})
    assert r.status_code == 400
    c2 = _login(team_app, "admin")
    cookie = c2.get_cookie("pregao_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert c2.get("/data").status_code == 200
    assert c2.get("/_dash-layout").status_code == 200
    # an open redirect through ?next= is refused
    c3 = team_app.server.test_client()
    r = c3.post(
        "/login",
        data={
            "username": "u-viewer",
            "password": PW,
            "csrf_token": _csrf(c3),
            "next": "//evil.example/x",
        },
    )
    assert r.headers["Location"] == "/"
    c2.get("/logout")
    assert c2.get("/data").status_code == 302


def test_remember_me_sets_a_hardened_cookie(team_app):
    c = team_app.server.test_client()
    r = c.post(
        "/login",
        data={"username": "u-trader", "password": PW, "csrf_token": _csrf(c), "remember": "1"},
    )
    assert r.status_code == 302
    rem = c.get_cookie("pregao_remember")
    assert rem is not None and rem.http_only and rem.same_site == "Lax"


def test_wrong_password_is_401_and_audited(team_app):
    c = team_app.server.test_client()
    r = c.post(
        "/login",
        data={"username": "u-viewer", "password": "nope nope nope", "csrf_token": _csrf(c)},
    )
    assert r.status_code == 401 and "inválidos" in r.get_data(as_text=True)
    from dashboard.runtime import get_store

    assert U.audit_entries(get_store(), 5, action="login_failed")[0].username == "u-viewer"


def test_every_callback_is_classified_and_enforced_for_each_role(team_app):
    """Enumerate app.callback_map; call every callback anonymously and as each role."""
    server = team_app.server
    calls = []
    seen = 0
    for cb in team_app.callback_map.values():
        func = cb.get("callback")
        if func is None:  # clientside callbacks run in the browser only
            continue
        seen += 1
        key = authz.policy_key(func)
        assert key in authz.POLICY, f"callback {key} is not classified in dashboard.authz.POLICY"
        need = func.required_role
        assert need == authz.POLICY[key]
        original = func.__wrapped__
        func.__wrapped__ = lambda *a, _k=key, **k: calls.append(_k) or "ran"
        try:
            for role in (None, *ROLES):
                with server.test_request_context("/_dash-update-component", method="POST"):
                    if role is not None:
                        from flask_login import login_user

                        from dashboard.auth import SessionUser
                        from dashboard.runtime import get_store

                        login_user(SessionUser(U.get_user(get_store(), f"u-{role}")))
                    allowed = role is not None and U.has_role(role, need)
                    if allowed:
                        assert func() == "ran", (key, role)
                    else:
                        with pytest.raises(Exception) as exc:
                            func()
                        assert exc.value.response.status_code == (401 if role is None else 403)
        finally:
            func.__wrapped__ = original
    assert seen >= 25
    # acting callbacks exist for each level
    levels = set(authz.POLICY.values())
    assert levels == {"viewer", "trader", "admin"}


def test_viewer_cannot_act_over_http_and_the_refusal_is_audited(team_app):
    c = _login(team_app, "viewer")
    cb = next(k for k in team_app.callback_map if k.startswith("..data-import-result"))
    r = c.post(
        "/_dash-update-component", json=_payload(team_app, cb, {("data-import-btn", "n_clicks"): 1})
    )
    assert r.status_code == 403 and "Sem permissão" in r.get_json()["error"]
    from dashboard.runtime import get_store

    e = U.audit_entries(get_store(), 1, action="action")[0]
    assert e.username == "u-viewer" and not e.ok and "pages.data._import" in e.detail
    # a cross-site POST and a non-JSON POST are refused before Dash (CSRF)
    body = _payload(team_app, cb)
    r = c.post("/_dash-update-component", json=body, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = c.post(
        "/_dash-update-component", data="x=1", content_type="application/x-www-form-urlencoded"
    )
    assert r.status_code == 400


@pytest.mark.parametrize("probe", ["/etc/shadow", "/etc/passwd", "../../etc/passwd"])
def test_data_preview_of_server_files_reveals_nothing(team_app, probe):
    """The probe: the Data preview with data-path=/etc/shadow quoted the file's first line."""
    c = _login(team_app, "admin")
    cb = next(k for k in team_app.callback_map if k.startswith("data-preview"))
    values = {
        ("data-preview-btn", "n_clicks"): 1,
        ("data-path", "value"): probe,
        ("data-format", "value"): "auto",
    }
    r = c.post("/_dash-update-component", json=_payload(team_app, cb, values))
    assert r.status_code == 200
    text = str(r.get_json())
    assert "root" not in text and "primeira linha" not in text and "não encontrado" not in text
    assert "não permitido" in text


def test_forged_data_files_value_is_refused(team_app):
    c = _login(team_app, "trader")
    cb = next(k for k in team_app.callback_map if k.startswith("data-preview"))
    values = {
        ("data-preview-btn", "n_clicks"): 1,
        ("data-files", "data"): [{"path": "/etc/passwd", "name": "innocent.csv"}],
        ("data-format", "value"): "auto",
    }
    text = str(c.post("/_dash-update-component", json=_payload(team_app, cb, values)).get_json())
    assert "root" not in text and "inválido ou expirado" in text


def test_security_headers_404_and_no_version_leak(team_app):
    c = _login(team_app, "viewer")
    r = c.get("/")
    assert r.status_code == 200
    h = r.headers
    assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "'sha256-" in csp and "''" not in csp
    assert "Werkzeug" not in h.get("Server", "") and "Python" not in h.get("Server", "")
    assert c.get("/nao-existe").status_code == 404
    assert c.get("/quotes").status_code == 200
    assert c.get("/login").headers["X-Frame-Options"] == "DENY"
    assert team_app.server.secret_key == "s" * 48
    assert team_app.server.config["MAX_CONTENT_LENGTH"] > 200 * 1024 * 1024


def test_unexpected_errors_show_an_id_not_the_exception(team_app, caplog):
    from dashboard import _on_error

    with pytest.MonkeyPatch.context() as mp:
        shown = {}
        mp.setattr("dash.set_props", lambda _id, props: shown.update(props))
        _on_error(RuntimeError("SELECT secret FROM users WHERE x"))
    msg = shown["children"]
    assert "SELECT" not in msg and "RuntimeError" not in msg
    eid = re.search(r"código ([0-9a-f]{8})", msg).group(1)
    assert eid in caplog.text and "SELECT secret" in caplog.text


def test_admin_page_lists_users_and_audit_for_admins_only(team_app):
    viewer = _login(team_app, "viewer")
    cb = next(k for k in team_app.callback_map if "page-content" in k or "_pages_content" in k)
    body = _payload(team_app, cb, {("_pages_location", "pathname"): "/admin"})
    text = str(viewer.post("/_dash-update-component", json=body).get_json())
    assert "Acesso restrito" in text and "u-admin" not in text
    admin = _login(team_app, "admin")
    text = str(admin.post("/_dash-update-component", json=body).get_json())
    assert "u-viewer" in text and "entrou" in text
