"""Alembic environment: runs migrations on the connection handed over by ``init_db``.

``core.data.store.init_db`` puts an open SQLAlchemy connection in
``config.attributes["connection"]``; the ``alembic`` command line (with ``-x url=...``) is
also supported for maintainers.
"""

from alembic import context
from sqlalchemy import create_engine

from core.data.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("Alembic needs a database URL (-x url=... or sqlalchemy.url).")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
