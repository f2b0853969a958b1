"""charter adhesion

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("charter_version", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("charter_signed_on", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.drop_column("charter_signed_on")
        batch_op.drop_column("charter_version")
