"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from federation.store.base import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "local_actors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("base_url", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("actor_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("icon_url", sa.String(length=2048), nullable=True),
        sa.Column("image_url", sa.String(length=2048), nullable=True),
        sa.Column("website", sa.String(length=2048), nullable=True),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("manually_approves_followers", sa.Boolean(), nullable=False),
        sa.Column("rsa_private_pem", sa.Text(), nullable=False),
        sa.Column("ed25519_private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_actors")),
        sa.UniqueConstraint("domain", "username", name=op.f("uq_local_actors_domain")),
    )
    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_local_actors_domain"), ["domain"], unique=False)

    op.create_table(
        "remote_actors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("actor_type", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=2048), nullable=True),
        sa.Column("inbox", sa.String(length=2048), nullable=False),
        sa.Column("shared_inbox", sa.String(length=2048), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("gone_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_actors")),
        sa.UniqueConstraint("uri", name=op.f("uq_remote_actors_uri")),
    )
    with op.batch_alter_table("remote_actors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remote_actors_host"), ["host"], unique=False)

    op.create_table(
        "remote_hosts",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("failing_since", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("parked_at", UTCDateTime(), nullable=True),
        sa.Column("signature_scheme", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_remote_hosts")),
    )
    op.create_table(
        "remote_keys",
        sa.Column("key_id", sa.String(length=2048), nullable=False),
        sa.Column("owner_uri", sa.String(length=2048), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_remote_keys")),
    )
    with op.batch_alter_table("remote_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remote_keys_owner_uri"), ["owner_uri"], unique=False)

    op.create_table(
        "followers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("remote_actor_id", sa.Integer(), nullable=False),
        sa.Column("follow_activity_uri", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_followers_local_actor_id_local_actors"),
        ),
        sa.ForeignKeyConstraint(
            ["remote_actor_id"],
            ["remote_actors.id"],
            name=op.f("fk_followers_remote_actor_id_remote_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followers")),
        sa.UniqueConstraint(
            "local_actor_id",
            "remote_actor_id",
            name=op.f("uq_followers_local_actor_id"),
        ),
    )
    with op.batch_alter_table("followers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_followers_local_actor_id"), ["local_actor_id"], unique=False
        )

    op.create_table(
        "followings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("remote_actor_id", sa.Integer(), nullable=False),
        sa.Column("follow_activity_uri", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_followings_local_actor_id_local_actors"),
        ),
        sa.ForeignKeyConstraint(
            ["remote_actor_id"],
            ["remote_actors.id"],
            name=op.f("fk_followings_remote_actor_id_remote_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followings")),
        sa.UniqueConstraint("follow_activity_uri", name=op.f("uq_followings_follow_activity_uri")),
        sa.UniqueConstraint(
            "local_actor_id",
            "remote_actor_id",
            name=op.f("uq_followings_local_actor_id"),
        ),
    )
    with op.batch_alter_table("followings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_followings_local_actor_id"), ["local_actor_id"], unique=False
        )

    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_uri", sa.String(length=2048), nullable=False),
        sa.Column("activity_type", sa.String(length=64), nullable=False),
        sa.Column("actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["local_actors.id"],
            name=op.f("fk_inbox_items_recipient_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint("activity_uri", name=op.f("uq_inbox_items_activity_uri")),
    )
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_items_state_next", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("object_uri", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("activity_uri", sa.String(length=2048), nullable=False),
        sa.Column("reply_uri", sa.String(length=2048), nullable=True),
        sa.Column("content_html", sa.Text(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_interactions_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint("activity_uri", name=op.f("uq_interactions_activity_uri")),
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interactions_local_actor_id"),
            ["local_actor_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_interactions_object_uri"), ["object_uri"], unique=False
        )

    op.create_table(
        "local_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("published", UTCDateTime(), nullable=False),
        sa.Column("updated", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_local_objects_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_local_objects")),
        sa.UniqueConstraint("uri", name=op.f("uq_local_objects_uri")),
    )
    with op.batch_alter_table("local_objects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_local_objects_local_actor_id"),
            ["local_actor_id"],
            unique=False,
        )

    op.create_table(
        "outbox_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("activity_type", sa.String(length=32), nullable=False),
        sa.Column("object_uri", sa.String(length=2048), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_outbox_activities_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_activities")),
        sa.UniqueConstraint("uri", name=op.f("uq_outbox_activities_uri")),
    )
    with op.batch_alter_table("outbox_activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_activities_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_activities_local_actor_id"),
            ["local_actor_id"],
            unique=False,
        )

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("inbox_url", sa.String(length=2048), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["outbox_activities.id"],
            name=op.f("fk_deliveries_activity_id_outbox_activities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("activity_id", "inbox_url", name=op.f("uq_deliveries_activity_id")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_host_state", ["host", "state"], unique=False)
        batch_op.create_index(
            "ix_deliveries_state_next", ["state", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_state_next")
        batch_op.drop_index("ix_deliveries_host_state")

    op.drop_table("deliveries")
    with op.batch_alter_table("outbox_activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_activities_local_actor_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_activities_created_at"))

    op.drop_table("outbox_activities")
    with op.batch_alter_table("local_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_local_objects_local_actor_id"))

    op.drop_table("local_objects")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interactions_object_uri"))
        batch_op.drop_index(batch_op.f("ix_interactions_local_actor_id"))

    op.drop_table("interactions")
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_items_state_next")

    op.drop_table("inbox_items")
    with op.batch_alter_table("followings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followings_local_actor_id"))

    op.drop_table("followings")
    with op.batch_alter_table("followers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followers_local_actor_id"))

    op.drop_table("followers")
    with op.batch_alter_table("remote_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remote_keys_owner_uri"))

    op.drop_table("remote_keys")
    op.drop_table("remote_hosts")
    with op.batch_alter_table("remote_actors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remote_actors_host"))

    op.drop_table("remote_actors")
    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_local_actors_domain"))

    op.drop_table("local_actors")
