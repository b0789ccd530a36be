"""reference currencies: a data migration

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

currencies = sa.table(
    "currencies",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("minor_units", sa.Integer),
)


def upgrade() -> None:
    op.bulk_insert(
        currencies,
        [
            {"code": "CHF", "name": "Swiss franc", "minor_units": 2},
            {"code": "EUR", "name": "Euro", "minor_units": 2},
            {"code": "JPY", "name": "Japanese yen", "minor_units": 0},
            {"code": "USD", "name": "US dollar", "minor_units": 2},
        ],
    )


def downgrade() -> None:
    op.execute(currencies.delete())
