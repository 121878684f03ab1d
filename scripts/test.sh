#!/usr/bin/env bash
# Set up and run the whole test suite: unit, integration (real PostgreSQL and Redis when
# installed, started here), browser (headless Chromium), then print the benchmark figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
bash scripts/services.sh
.venv/bin/python -m ruff check .
# Type check of the domain layer (config: [tool.mypy] in pyproject.toml).
.venv/bin/python -m mypy core
# Three tiers, each in its own process: unit tests on both cores (pytest-xdist), then the
# integration tests (real PostgreSQL/Redis/Celery) and the browser tests (Chromium) one by one.
.venv/bin/python -m pytest tests/unit -n 2 "$@"
.venv/bin/python -m pytest tests/integration "$@"
.venv/bin/python -m pytest tests/browser "$@"
