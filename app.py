"""Pregão: start the app (local mode: http://127.0.0.1:8050, no login).

``python app.py`` runs the development server; ``gunicorn app:server`` serves it in production.
In team mode with Redis, start a worker with ``celery -A app.celery_app worker``.
"""

from __future__ import annotations

import logging
import sys

from core.errors import StoreError
from dashboard import create_app
from dashboard.settings import SettingsError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("alembic").setLevel(logging.WARNING)

try:
    app = create_app(__name__)
except (StoreError, SettingsError) as exc:
    print(f"Pregão não pôde iniciar: {exc}", file=sys.stderr)
    sys.exit(2)

server = app.server
celery_app = app.celery_app

if __name__ == "__main__":
    s = app.settings
    print(
        f"Pregão em http://{s.host}:{s.port}/ (banco: {s.redacted()['database_url']})", flush=True
    )
    from dashboard.security import QuietRequestHandler

    app.run(host=s.host, port=s.port, debug=s.debug, request_handler=QuietRequestHandler)
