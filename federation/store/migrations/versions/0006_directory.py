"""network directory: crawl rounds and frontier, members, vouches, fetch cache

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from federation.store.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

URI = sa.String(length=2048)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "crawl_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("not_modified", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_rounds")),
    )
    op.create_table(
        "crawl_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("uri", URI, nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["crawl_rounds.id"], name=op.f("fk_crawl_nodes_round_id_crawl_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_nodes")),
        sa.UniqueConstraint("round_id", "uri", name=op.f("uq_crawl_nodes_round_id")),
    )
    with op.batch_alter_table("crawl_nodes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crawl_nodes_round_state_depth", ["round_id", "state", "depth"], unique=False
        )

    op.create_table(
        "directory_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", URI, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("actor_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("handle", sa.String(length=320), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("icon_url", URI, nullable=True),
        sa.Column("url", URI, nullable=True),
        sa.Column("territory", sa.String(length=255), nullable=True),
        sa.Column("charter_version", sa.String(length=32), nullable=False),
        sa.Column("charter_hash", sa.String(length=64), nullable=False),
        sa.Column("commitments", _json(), nullable=False),
        sa.Column("practices", sa.Integer(), nullable=True),
        sa.Column("directory_url", URI, nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("stale_since", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_members")),
        sa.UniqueConstraint("uri", name=op.f("uq_directory_members_uri")),
    )
    with op.batch_alter_table("directory_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directory_members_host"), ["host"], unique=False)

    op.create_table(
        "directory_vouches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voucher_id", sa.Integer(), nullable=False),
        sa.Column("member_uri", URI, nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["directory_members.id"],
            name=op.f("fk_directory_vouches_voucher_id_directory_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_vouches")),
        sa.UniqueConstraint(
            "voucher_id", "member_uri", name=op.f("uq_directory_vouches_voucher_id")
        ),
    )
    with op.batch_alter_table("directory_vouches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_vouches_member_uri"), ["member_uri"], unique=False
        )

    op.create_table(
        "fetch_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", URI, nullable=False),
        sa.Column("etag", sa.String(length=255), nullable=True),
        sa.Column("last_modified", sa.String(length=64), nullable=True),
        sa.Column("document", _json(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_cache")),
        sa.UniqueConstraint("url", name=op.f("uq_fetch_cache_url")),
    )


def downgrade() -> None:
    op.drop_table("fetch_cache")
    with op.batch_alter_table("directory_vouches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_vouches_member_uri"))
    op.drop_table("directory_vouches")
    with op.batch_alter_table("directory_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_members_host"))
    op.drop_table("directory_members")
    with op.batch_alter_table("crawl_nodes", schema=None) as batch_op:
        batch_op.drop_index("ix_crawl_nodes_round_state_depth")
    op.drop_table("crawl_nodes")
    op.drop_table("crawl_rounds")
