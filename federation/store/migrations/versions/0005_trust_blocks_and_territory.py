"""trust blocks and territory

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from federation.store.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "block_recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("source_actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_block_recommendations_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_recommendations")),
        sa.UniqueConstraint(
            "local_actor_id",
            "source_actor_uri",
            "kind",
            "value",
            name=op.f("uq_block_recommendations_local_actor_id"),
        ),
    )
    with op.batch_alter_table("block_recommendations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_block_recommendations_local_actor_id"), ["local_actor_id"], unique=False
        )

    op.create_table(
        "blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=2048), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recommended_by", sa.String(length=2048), nullable=True),
        sa.Column("recommend", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_blocks_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocks")),
        sa.UniqueConstraint(
            "local_actor_id", "kind", "value", name=op.f("uq_blocks_local_actor_id")
        ),
    )
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_blocks_local_actor_id"), ["local_actor_id"], unique=False
        )

    op.create_table(
        "recommendation_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_recommendation_sources_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_sources")),
        sa.UniqueConstraint(
            "local_actor_id", "actor_uri", name=op.f("uq_recommendation_sources_local_actor_id")
        ),
    )
    with op.batch_alter_table("recommendation_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_sources_local_actor_id"), ["local_actor_id"], unique=False
        )

    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("territory", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.drop_column("territory")

    with op.batch_alter_table("recommendation_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_sources_local_actor_id"))

    op.drop_table("recommendation_sources")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blocks_local_actor_id"))

    op.drop_table("blocks")
    with op.batch_alter_table("block_recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_recommendations_local_actor_id"))

    op.drop_table("block_recommendations")
