"""account_balances: a view

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE VIEW account_balances AS "
        "SELECT account_id, SUM(amount_cents) AS balance_cents, COUNT(*) AS entry_count "
        "FROM entries GROUP BY account_id"
    )


def downgrade() -> None:
    op.execute("DROP VIEW account_balances")
