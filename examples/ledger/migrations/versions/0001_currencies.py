"""currencies: the reference table

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(3), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("minor_units", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("currencies")
