"""Threaded web workers: the first requests of a fresh process arrive together.

Regression test (issue 15, the flaky viewer probe of ``test_team_stack.py``): under load the
stack's readiness probe timed out and retried while the first request of a ``gthread``
worker was still in Dash's set-up. Dash marks ``_setup_server`` done *before* it copies the
pages' callbacks into ``app.callback_map``; the second request then wrapped the half-filled
map with the role decorator and the page callbacks copied afterwards stayed unguarded for the
life of that worker — a viewer's forged "Importar" answered 200 instead of 403.

The set-up is made slow here (layout validation sleeps, as on a machine at load 10) and
three first requests are sent at once, in a fresh process (the pages' callbacks are
registered once per process). Every server callback must come out wrapped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow]

SCRIPT = textwrap.dedent(
    """
    import sys, threading, time
    import dash._validate as V
    from core.data.store import init_db
    from dashboard import create_app
    from dashboard.settings import load_settings
    from dashboard.users import add_user

    d = sys.argv[1]
    url = f"sqlite:///{d}/pregao.db"
    store = init_db(url)
    add_user(store, "ana", "correct horse battery", "admin")
    store.dispose()
    env = {
        "PREGAO_DATA_DIR": d, "PREGAO_DATABASE_URL": url, "PREGAO_MODE": "team",
        "PREGAO_SECRET_KEY": "s" * 48, "PREGAO_REDIS_URL": "redis://127.0.0.1:1/0",
        "PREGAO_ALLOW_SQLITE": "1", "PREGAO_COOKIE_SECURE": "0",
    }
    app = create_app("app", load_settings(env=env, env_file=None))
    slow = V.validate_layout

    def validate_layout(*a, **k):  # a busy machine: the set-up takes a while
        time.sleep(1.0)
        return slow(*a, **k)

    V.validate_layout = validate_layout
    codes = []

    def first_request():
        codes.append(app.server.test_client().get("/login").status_code)

    threads = [threading.Thread(target=first_request) for _ in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join()
    cbs = [cb["callback"] for cb in app.callback_map.values() if cb.get("callback")]
    bare = [k for k, cb in app.callback_map.items()
            if cb.get("callback") and not getattr(cb["callback"], "required_role", None)]
    print("codes", sorted(codes))
    print("callbacks", len(cbs))
    print("unguarded", len(bare), bare[:3])
    """
)


def test_concurrent_first_requests_leave_no_callback_unguarded(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    out = dict(line.split(" ", 1) for line in p.stdout.strip().splitlines())
    assert out["codes"] == "[200, 200, 200]"
    assert int(out["callbacks"]) > 50  # the pages' callbacks are there
    assert out["unguarded"].startswith("0 "), out["unguarded"]
