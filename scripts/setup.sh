#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install the runtime (and, with --dev, test) dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
req=requirements.txt; [ "${1:-}" = "--dev" ] && req=requirements-dev.txt
stamp=.venv/.installed-$(cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)-$(basename $req)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -r "$req"
  touch "$stamp"
fi
