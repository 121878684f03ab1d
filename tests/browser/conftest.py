"""Browser-test hygiene: no browser test may write a file tracked by git.

Screenshots and downloads go to ``tmp_path``; the guard below fails a test module that
touched a tracked file (e.g. regenerated ``docs/screenshots/*.png`` as a side effect).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT


def _tracked_mtimes() -> dict[str, int] | None:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # not a git checkout: nothing to guard
    stamps = {}
    for name in out.decode("utf-8", "replace").split("\0"):
        if not name:
            continue
        try:
            stamps[name] = (ROOT / name).stat().st_mtime_ns
        except OSError:
            continue
    return stamps


@pytest.fixture(autouse=True, scope="module")
def no_tracked_file_written():
    before = _tracked_mtimes()
    yield
    if before is None:
        return
    after = _tracked_mtimes() or {}
    changed = sorted(n for n, t in after.items() if n in before and before[n] != t)
    assert not changed, f"browser tests wrote tracked files: {changed}"
