"""A real team deployment on loopback for tests and benchmarks.

:func:`start_team_stack` creates a PostgreSQL database, runs ``python -m dashboard init
--admin ana`` (password on stdin) and ``users add``, then starts a Celery worker and
``gunicorn -w N app:server`` in team mode on a free port. :func:`login` and
:func:`callback` drive it over HTTP like the browser does (``requests``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import ROOT, free_port

PASSWORD = "correct horse battery"
USERS = {"ana": "admin", "caio": "trader", "bia": "viewer"}


@dataclass
class TeamStack:
    base: str
    env: dict
    data_dir: Path
    procs: list = field(default_factory=list)

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dashboard", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


def inbox_dir(data_dir: Path) -> Path:
    """The stack's import folder (a sibling of the data directory)."""
    return data_dir.parent / (data_dir.name + "-inbox")


def start_team_stack(
    data_dir: Path, pg_url: str, redis_url: str, *, workers: int = 2, extra_env=None
) -> TeamStack:
    """Start the stack (see the module docstring); call ``stop()`` when done."""
    import redis

    rurl = redis_url.rsplit("/", 1)[0] + "/9"
    redis.Redis.from_url(rurl).flushdb()
    inbox = inbox_dir(data_dir)  # import folders never lie inside the data directory
    inbox.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREGAO_")}
    env.update(
        PREGAO_DATA_DIR=str(data_dir),
        PREGAO_DATABASE_URL=pg_url,
        PREGAO_MODE="team",
        PREGAO_SECRET_KEY=secrets.token_urlsafe(48),
        PREGAO_REDIS_URL=rurl,
        PREGAO_COOKIE_SECURE="0",
        PREGAO_IMPORT_DIRS=str(inbox),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    port = free_port()
    stack = TeamStack(f"http://127.0.0.1:{port}", env, data_dir)
    first = True
    for name, role in USERS.items():
        if first:
            r = stack.cli("init", "--admin", name, stdin=PASSWORD + "\n")
            first = False
        else:
            r = stack.cli("users", "add", name, "--role", role, stdin=PASSWORD + "\n")
        if r.returncode != 0:
            raise RuntimeError(f"setup failed: {r.stderr[-2000:]}")
    wlog = open(data_dir / "worker.log", "w")
    stack.procs.append(
        subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "app.celery_app", "worker", "--pool=solo",
                "--loglevel=info", "--without-heartbeat", "--without-gossip", "--without-mingle",
            ],
            cwd=ROOT, env=env, stdout=wlog, stderr=subprocess.STDOUT,
        )
    )  # fmt: skip
    glog = open(data_dir / "gunicorn.log", "w")
    stack.procs.append(
        subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                "--timeout", "120", "app:server",
            ],
            cwd=ROOT, env=env, stdout=glog, stderr=subprocess.STDOUT,
        )
    )  # fmt: skip
    import requests

    deadline = time.time() + 120
    while time.time() < deadline:
        if any(p.poll() is not None for p in stack.procs):
            stack.stop()
            raise RuntimeError(
                "stack exited: " + (data_dir / "gunicorn.log").read_text()[-3000:]
                + (data_dir / "worker.log").read_text()[-2000:]
            )  # fmt: skip
        try:
            if requests.get(stack.base + "/login", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        stack.stop()
        raise RuntimeError("gunicorn did not answer: " + (data_dir / "gunicorn.log").read_text())
    while "ready" not in (data_dir / "worker.log").read_text():
        if time.time() > deadline:
            stack.stop()
            raise RuntimeError("worker not ready: " + (data_dir / "worker.log").read_text())
        time.sleep(0.5)
    return stack


def csrf_token(session, base: str) -> str:
    html = session.get(base + "/login", timeout=30).text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(base: str, user: str, password: str = PASSWORD):
    """A ``requests.Session`` logged in as ``user`` (raises on failure)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    s = requests.Session()
    # A browser resends a request whose reused keep-alive connection the server had just
    # closed (gunicorn's keepalive = 5 s); requests does not, and such a stale socket showed
    # up as a "page ConnectionError" in the load benchmark. GETs only: never a second POST.
    retry = Retry(total=1, connect=1, read=1, status=0, allowed_methods=frozenset({"GET"}))
    s.mount("http://", HTTPAdapter(max_retries=retry))
    r = s.post(
        base + "/login",
        data={"username": user, "password": password, "csrf_token": csrf_token(s, base)},
        allow_redirects=False,
        timeout=30,
    )
    if r.status_code != 302:
        raise RuntimeError(f"login {user}: {r.status_code}")
    return s


def dependencies(session, base: str) -> dict[str, dict]:
    """``output id -> callback spec`` from ``/_dash-dependencies``."""
    return {cb["output"]: cb for cb in session.get(base + "/_dash-dependencies", timeout=30).json()}


def callback(session, base: str, deps: dict, prefix: str, values: dict, timeout: float = 60):
    """POST the callback whose output id starts with ``prefix``; returns the response."""
    cb_id = next(k for k in deps if k.startswith(prefix))
    cb = deps[cb_id]

    def dep(d):
        return {
            "id": d["id"],
            "property": d["property"],
            "value": values.get((d["id"], d["property"])),
        }

    outs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
        for o in cb_id.strip(".").split("...")
    ]
    body = {
        "output": cb_id,
        "outputs": outs if cb_id.startswith("..") else outs[0],
        "inputs": [dep(d) for d in cb["inputs"]],
        "state": [dep(d) for d in cb["state"]],
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in cb["inputs"]],
    }
    return session.post(base + "/_dash-update-component", json=body, timeout=timeout)


def layout_values(tree) -> dict:
    """``(id, prop) -> value`` of every component with an id in a layout JSON tree."""
    out: dict = {}

    def walk(node):
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and "type" in node and "namespace" in node:
                cid = props.get("id")
                for k, v in props.items():
                    if cid is not None and k not in ("children", "id"):
                        key = json.dumps(cid, sort_keys=True) if isinstance(cid, dict) else cid
                        out[(key, k)] = v
                walk(props.get("children"))
            else:
                for v in node.values():
                    walk(v)

    walk(tree)
    return out


def run_backtest_job(session, base: str, deps: dict, timeout: float = 300) -> tuple[bool, float]:
    """Run the Backtest page's default form as the browser does: draw the page, fill the
    strategy's parameters, start the background job (Celery) and poll it to its end.

    Returns ``(ok, seconds)``: ok = the job stored a run (the output is a run id).
    """
    t0 = time.perf_counter()
    html = session.get(base + "/backtest", timeout=60).text
    config = json.loads(re.search(r'id="_dash-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    end_id = config.get("end_id")
    router = next(k for k in deps if "_pages_content" in k)
    page = callback(
        session,
        base,
        deps,
        router,
        {("_pages_location", "pathname"): "/backtest", ("_pages_location", "search"): ""},
    ).json()
    values = layout_values(page["response"])
    strategy = values.get(("backtest-strategy", "value"))
    params = callback(
        session,
        base,
        deps,
        "..backtest-params.children",
        {("backtest-strategy", "value"): strategy},
    ).json()
    pvals = layout_values(params["response"])
    pids = [json.loads(k) for (k, prop) in pvals if prop == "value" and k.startswith("{")]
    job_id = next(k for k in deps if k.startswith("..backtest-run-id.data...backtest-alert"))
    cb = deps[job_id]

    def dep(d):
        if isinstance(d["id"], str) and d["id"].startswith("{"):  # pattern-matching ALL
            prop = d["property"]
            return [
                {"id": i, "property": prop, "value": pvals[(json.dumps(i, sort_keys=True), "value")]
                 if prop == "value" else i}
                for i in pids
            ]  # fmt: skip
        value = values.get((d["id"], d["property"]))
        if d["property"] == "data" and d["id"].endswith("-start"):
            value = {"token": secrets.token_hex(8), "trigger": "backtest-run"}
        if d["id"] == "job-session":
            value = "bench-" + secrets.token_hex(6)
        return {"id": d["id"], "property": d["property"], "value": value}

    outs = [
        {"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
        for o in job_id.strip(".").split("...")
    ]
    body = {
        "output": job_id,
        "outputs": outs,
        "inputs": [dep(d) for d in cb["inputs"]],
        "state": [dep(d) for d in cb["state"]],
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in cb["inputs"]],
    }
    url = base + "/_dash-update-component"
    r = session.post(url, params={"endId": end_id}, json=body, timeout=60)
    handles = r.json()
    if "cacheKey" not in handles:
        return False, time.perf_counter() - t0
    q = {"endId": end_id, "cacheKey": handles["cacheKey"], "job": handles["job"]}
    while time.perf_counter() - t0 < timeout:
        time.sleep(0.5)
        r = session.post(url, params=q, json=body, timeout=60)
        if r.status_code == 200 and r.content:
            got = r.json()
            if "response" in got:
                rid = got["response"].get("backtest-run-id", {}).get("data")
                return isinstance(rid, int), time.perf_counter() - t0
    return False, time.perf_counter() - t0
