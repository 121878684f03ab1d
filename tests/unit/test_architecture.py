"""The house rules: core/ stays free of UI code; pages never import pages or the app."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_CORE = {
    "dash",
    "flask",
    "flask_login",
    "plotly",
    "dash_bootstrap_components",
    "dash_ag_grid",
    "components",
    "pages",
    "dashboard",
    "app",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_ui_code():
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & FORBIDDEN_IN_CORE)
        for p in (ROOT / "core").rglob("*.py")
        if _imports(p) & FORBIDDEN_IN_CORE
    }
    assert offenders == {}


def test_core_scan_sees_every_module():
    # The scan above must actually read core's files (guards against a wrong ROOT).
    assert len(list((ROOT / "core").rglob("*.py"))) >= 10


def test_pages_do_not_import_pages_or_app():
    offenders = {
        p.name: sorted(_imports(p) & {"pages", "app"})
        for p in (ROOT / "pages").glob("*.py")
        if _imports(p) & {"pages", "app"}
    }
    assert offenders == {}


def test_components_are_pure_builders():
    bad = {"pages", "app", "dashboard", "sqlalchemy"}
    offenders = {
        p.name: sorted(_imports(p) & bad)
        for p in (ROOT / "components").glob("*.py")
        if _imports(p) & bad
    }
    assert offenders == {}
