"""portability: aliases, move and key rotation of local actors

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from federation.store.base import JSONType, UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("also_known_as", JSONType, nullable=True))
        batch_op.add_column(sa.Column("moved_to", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("moved_at", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("key_generation", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("next_rsa_private_pem", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("next_ed25519_private_pem", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.drop_column("next_ed25519_private_pem")
        batch_op.drop_column("next_rsa_private_pem")
        batch_op.drop_column("key_generation")
        batch_op.drop_column("moved_at")
        batch_op.drop_column("moved_to")
        batch_op.drop_column("also_known_as")
