#!/usr/bin/env bash
# Set up and run the whole test suite: unit, integration (real PostgreSQL and Redis when
# installed, started here), browser (headless Chromium), then print the benchmark figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
bash scripts/services.sh
.venv/bin/python -m ruff check .
.venv/bin/python -m pytest "$@"
