"""Issue 15 (per-user ownership): portfolio names unique per owner, personal watchlists.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30

The chain 0012-0017 is fixed in advance so that features developed side by side never create
two Alembic heads. Once applied anywhere, a revision is never edited; later schema changes go
into a new revision on top of the head. Rules: :mod:`core.ownership`.

* ``portfolios``: the name was unique across the whole database, so one trader's "Renda"
  blocked (and revealed) another's. Now unique per owner: the table-wide unique constraint is
  dropped and a unique index on ``(coalesce(owner, ''), name)`` replaces it (NULL = the team's
  portfolios, unique among themselves too). ``owner`` itself came with 0011.
* ``user_watchlists``: one "Minha lista" per user in team mode (``owner``, ``instrument_id``,
  ``position``; primary key ``(owner, instrument_id)``). The older ``watchlist`` table stays the
  list of local mode and of the team (the CLI's). Model:
  :class:`core.data.import_models.UserWatchlistItem`.

``backtest_runs.owner`` and ``portfolios.owner`` exist since 0011, ``portfolio_runs.owner``
since 0009; ``paper_accounts.owner`` (0012) and ``alert_rules.owner`` (0014) are added by their
features. Market data and the model registry are team-wide and have no owner.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _portfolios(unique_name: bool) -> sa.Table:
    """The ``portfolios`` table as of 0011 (for SQLite's copy-and-move batch mode)."""
    return sa.Table(
        "portfolios",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=unique_name),
        sa.Column("tickers", sa.Text(), nullable=False),
        sa.Column("weights", sa.Text(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False, server_default="{}"),
        sa.Column(
            "created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()
        ),
        sa.Column("owner", sa.String(64), nullable=True),
    )


def _drop_name_unique() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # an unnamed constraint: rebuild the table without it
        op.drop_index("ix_portfolios_owner", table_name="portfolios")
        with op.batch_alter_table(
            "portfolios", copy_from=_portfolios(False), recreate="always"
        ) as batch:
            batch.alter_column("name", existing_type=sa.String(128), nullable=False)
        op.create_index("ix_portfolios_owner", "portfolios", ["owner"])
        return
    for uc in sa.inspect(bind).get_unique_constraints("portfolios"):
        if uc["column_names"] == ["name"]:
            op.drop_constraint(uc["name"], "portfolios", type_="unique")


def upgrade() -> None:
    _drop_name_unique()
    op.create_index(
        "ux_portfolios_owner_name",
        "portfolios",
        [sa.text("coalesce(owner, '')"), "name"],
        unique=True,
    )
    op.create_table(
        "user_watchlists",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column(
            "instrument_id",
            sa.Integer(),
            sa.ForeignKey("instruments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("user_watchlists")
    op.drop_index("ux_portfolios_owner_name", table_name="portfolios")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.drop_index("ix_portfolios_owner", table_name="portfolios")
        with op.batch_alter_table(
            "portfolios", copy_from=_portfolios(True), recreate="always"
        ) as batch:
            batch.alter_column("name", existing_type=sa.String(128), nullable=False)
        op.create_index("ix_portfolios_owner", "portfolios", ["owner"])
    else:
        op.create_unique_constraint("portfolios_name_key", "portfolios", ["name"])
