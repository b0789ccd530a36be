"""accounts and entries, with a check constraint the models do not declare

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("currency_code", sa.String(3), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("posted_on", sa.Date, nullable=False),
        sa.Column("memo", sa.String(120), nullable=False),
        sa.CheckConstraint("amount_cents <> 0", name="ck_entries_amount_not_zero"),
    )
    op.create_index("ix_entries_account_id", "entries", ["account_id"])


def downgrade() -> None:
    op.drop_table("entries")
    op.drop_table("accounts")
