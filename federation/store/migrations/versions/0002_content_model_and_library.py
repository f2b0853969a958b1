"""content model and library

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from federation.store.base import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "library_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("content_html", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("licence", sa.String(length=64), nullable=True),
        sa.Column(
            "themes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("published", UTCDateTime(), nullable=True),
        sa.Column("updated", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_items")),
        sa.UniqueConstraint("uri", name=op.f("uq_library_items_uri")),
    )
    with op.batch_alter_table("library_items", schema=None) as batch_op:
        batch_op.create_index("ix_library_items_actor_kind", ["actor_uri", "kind"], unique=False)

    op.create_table(
        "object_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["local_objects.id"],
            name=op.f("fk_object_versions_object_id_local_objects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_versions")),
        sa.UniqueConstraint("object_id", "version", name=op.f("uq_object_versions_object_id")),
    )
    with op.batch_alter_table("object_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_object_versions_object_id"), ["object_id"], unique=False
        )

    with op.batch_alter_table("local_objects", schema=None) as batch_op:
        # Existing rows are all notes, version 1, without themes.
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), nullable=False, server_default="note")
        )
        batch_op.add_column(sa.Column("title", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("licence", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "themes",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )
        batch_op.add_column(sa.Column("derived_from", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index(
            "ix_local_objects_actor_kind", ["local_actor_id", "kind"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("local_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_local_objects_actor_kind")
        batch_op.drop_column("version")
        batch_op.drop_column("derived_from")
        batch_op.drop_column("themes")
        batch_op.drop_column("licence")
        batch_op.drop_column("source")
        batch_op.drop_column("summary")
        batch_op.drop_column("title")
        batch_op.drop_column("kind")

    with op.batch_alter_table("object_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_object_versions_object_id"))

    op.drop_table("object_versions")
    with op.batch_alter_table("library_items", schema=None) as batch_op:
        batch_op.drop_index("ix_library_items_actor_kind")

    op.drop_table("library_items")
