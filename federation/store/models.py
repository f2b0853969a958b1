"""The tables. Every row that belongs to an organisation carries its local actor id.

State machines (deliveries, inbox items) are declared in `federation.delivery.states`
and `federation.inbox.states`; here they are plain strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from federation.store.base import Base, JSONType

URI = String(2048)


class LocalActor(Base):
    """An actor this install speaks for: an organisation, or a domain's application actor."""

    __tablename__ = "local_actors"
    __table_args__ = (UniqueConstraint("domain", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # host[:port] of base_url: requests are routed by their Host header to it.
    domain: Mapped[str] = mapped_column(String(255), index=True)
    base_url: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(32))  # Organization | Application
    name: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text, default="")
    icon_url: Mapped[str | None] = mapped_column(URI)
    image_url: Mapped[str | None] = mapped_column(URI)
    website: Mapped[str | None] = mapped_column(URI)
    fields: Mapped[list[dict[str, str]]] = mapped_column(JSONType(), default=list)
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which charter the organisation signed, and when (ISO date); None until stated.
    charter_version: Mapped[str | None] = mapped_column(String(32))
    charter_signed_on: Mapped[str | None] = mapped_column(String(10))
    # Where the organisation works (a town, a region), shown in the network's directory.
    territory: Mapped[str | None] = mapped_column(String(255))
    rsa_private_pem: Mapped[str] = mapped_column(Text)
    ed25519_private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Portability (issue 10). Former ids of this actor (after an import from another
    # host) and, once it moved away, its new id: served as alsoKnownAs and movedTo.
    also_known_as: Mapped[list[str] | None] = mapped_column(JSONType())
    moved_to: Mapped[str | None] = mapped_column(URI)
    moved_at: Mapped[datetime | None]
    # Key rotation: the generation numbers the key ids (#main-key, #main-key-1…); the
    # next keys are published beside the current ones until `declics keys drop-old`.
    key_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_rsa_private_pem: Mapped[str | None] = mapped_column(Text)
    next_ed25519_private_pem: Mapped[str | None] = mapped_column(Text)


class RemoteActor(Base):
    """Cache of an actor document fetched from another server."""

    __tablename__ = "remote_actors"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    actor_type: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(2048))
    inbox: Mapped[str] = mapped_column(URI)
    shared_inbox: Mapped[str | None] = mapped_column(URI)
    url: Mapped[str | None] = mapped_column(URI)
    document: Mapped[dict[str, Any]]
    fetched_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]


class RemoteKey(Base):
    """A public key of a remote actor, by key id."""

    __tablename__ = "remote_keys"

    key_id: Mapped[str] = mapped_column(URI, primary_key=True)
    owner_uri: Mapped[str] = mapped_column(URI, index=True)
    pem: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime]


class Follower(Base):
    """A remote actor that follows (or asks to follow) a local actor."""

    __tablename__ = "followers"
    __table_args__ = (UniqueConstraint("local_actor_id", "remote_actor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    remote_actor_id: Mapped[int] = mapped_column(ForeignKey("remote_actors.id"))
    follow_activity_uri: Mapped[str] = mapped_column(URI)
    state: Mapped[str] = mapped_column(String(16))  # pending | accepted
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]


class Following(Base):
    """A remote actor that a local actor follows (or asked to follow)."""

    __tablename__ = "followings"
    __table_args__ = (UniqueConstraint("local_actor_id", "remote_actor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    remote_actor_id: Mapped[int] = mapped_column(ForeignKey("remote_actors.id"))
    follow_activity_uri: Mapped[str] = mapped_column(URI, unique=True)
    state: Mapped[str] = mapped_column(String(16))  # pending | accepted | rejected
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]


class LocalObject(Base):
    """Content published by a local actor: one model for notes, practices, commitments…

    `kind` says which; the AS2 document is what is served and federated. Deleted
    objects stay as tombstones so that their ids are never reused.
    """

    __tablename__ = "local_objects"
    __table_args__ = (Index("ix_local_objects_actor_kind", "local_actor_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    object_type: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32), default="note")
    title: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)  # Markdown as written
    licence: Mapped[str | None] = mapped_column(String(64))  # SPDX id
    themes: Mapped[list[int]] = mapped_column(JSONType(), default=list)
    derived_from: Mapped[str | None] = mapped_column(URI)
    version: Mapped[int] = mapped_column(Integer, default=1)
    document: Mapped[dict[str, Any]]
    published: Mapped[datetime]
    updated: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # Commons (tools, events, needs and offers): an event's start and end; the
    # expiry of a need or an offer is its `ends_at`.
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]


class ObjectVersion(Base):
    """Every published version of a local object whose history is public."""

    __tablename__ = "object_versions"
    __table_args__ = (UniqueConstraint("object_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("local_objects.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class LibraryItem(Base):
    """Content received from a member we follow (practices, commitments): the library."""

    __tablename__ = "library_items"
    __table_args__ = (Index("ix_library_items_actor_kind", "actor_uri", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    actor_uri: Mapped[str] = mapped_column(URI)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)  # sanitized HTML
    content_html: Mapped[str | None] = mapped_column(Text)  # sanitized HTML
    source: Mapped[str | None] = mapped_column(Text)
    licence: Mapped[str | None] = mapped_column(String(64))
    themes: Mapped[list[int]] = mapped_column(JSONType(), default=list)
    url: Mapped[str | None] = mapped_column(URI)
    document: Mapped[dict[str, Any]]
    published: Mapped[datetime | None]
    updated: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    # Commons: as on `local_objects` (event start and end, expiry of needs and offers).
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]


class OutboxActivity(Base):
    """An activity a local actor sent, with the exact bytes that are delivered."""

    __tablename__ = "outbox_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    activity_type: Mapped[str] = mapped_column(String(32))
    object_uri: Mapped[str | None] = mapped_column(URI)
    public: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class Delivery(Base):
    """One (activity, inbox) pair to deliver; see federation.delivery.states."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox_url"),
        Index("ix_deliveries_state_next", "state", "next_attempt_at"),
        Index("ix_deliveries_host_state", "host", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("outbox_activities.id"))
    inbox_url: Mapped[str] = mapped_column(URI)
    host: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class RemoteHost(Base):
    """Health of a remote host, for parking hosts that fail for days."""

    __tablename__ = "remote_hosts"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    failing_since: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    parked_at: Mapped[datetime | None]
    # The signature flavour this host accepted last ("cavage" or "rfc9421").
    signature_scheme: Mapped[str | None] = mapped_column(String(16))


class InboxItem(Base):
    """An authenticated inbound activity, kept until it is processed (idempotent on id)."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_uri: Mapped[str] = mapped_column(URI, unique=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    actor_uri: Mapped[str] = mapped_column(URI)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("local_actors.id"))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class Interaction(Base):
    """A like, boost or reply from elsewhere, recorded against a local object."""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    object_uri: Mapped[str] = mapped_column(URI, index=True)
    # like | announce | reply | adoption; commons: join | maybe (event participation),
    # uses | contributes (declarations about a tool)
    kind: Mapped[str] = mapped_column(String(16))
    actor_uri: Mapped[str] = mapped_column(URI)
    activity_uri: Mapped[str] = mapped_column(URI, unique=True)
    # For replies: the reply object's id and its sanitized HTML.
    reply_uri: Mapped[str | None] = mapped_column(URI)
    content_html: Mapped[str | None] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class Block(Base):
    """A domain or an actor an organisation refuses: nothing from it, nothing to it."""

    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("local_actor_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # domain | actor
    value: Mapped[str] = mapped_column(URI)  # a host name, or an actor id
    reason: Mapped[str] = mapped_column(Text, default="")
    # The member whose recommendation the operator applied, if any.
    recommended_by: Mapped[str | None] = mapped_column(URI)
    # Published in our block recommendations, for other members to consider.
    recommend: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class RecommendationSource(Base):
    """A member whose published block recommendations we read (operator's choice)."""

    __tablename__ = "recommendation_sources"
    __table_args__ = (UniqueConstraint("local_actor_id", "actor_uri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    actor_uri: Mapped[str] = mapped_column(URI)
    created_at: Mapped[datetime]
    fetched_at: Mapped[datetime | None]


class BlockRecommendation(Base):
    """A block another member published, waiting for our operator's decision."""

    __tablename__ = "block_recommendations"
    __table_args__ = (UniqueConstraint("local_actor_id", "source_actor_uri", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    source_actor_uri: Mapped[str] = mapped_column(URI)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(URI)
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16))  # pending | applied | dismissed
    received_at: Mapped[datetime]


class CrawlRound(Base):
    """One crawl of the network's follow graph, from our organisations outwards."""

    __tablename__ = "crawl_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))  # schedule | request
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    requests: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    members: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[int] = mapped_column(Integer, default=0)


class CrawlNode(Base):
    """An actor to visit in a crawl round (the frontier), at its distance from us."""

    __tablename__ = "crawl_nodes"
    __table_args__ = (
        UniqueConstraint("round_id", "uri"),
        Index("ix_crawl_nodes_round_state_depth", "round_id", "state", "depth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("crawl_rounds.id"))
    uri: Mapped[str] = mapped_column(URI)
    depth: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # pending | claimed | done
    lease_expires_at: Mapped[datetime | None]
    # member | not-member | unreachable | blocked | gone | error
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(String(500))


class DirectoryMember(Base):
    """A member of the network as the crawler last saw it: the directory's rows."""

    __tablename__ = "directory_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)  # one of our organisations
    actor_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(320))
    summary: Mapped[str] = mapped_column(Text, default="")  # sanitized HTML
    icon_url: Mapped[str | None] = mapped_column(URI)
    url: Mapped[str | None] = mapped_column(URI)
    territory: Mapped[str | None] = mapped_column(String(255))
    charter_version: Mapped[str] = mapped_column(String(32))
    charter_hash: Mapped[str] = mapped_column(String(64))
    # [{"number": 1, "progress": "in-progress"}, …] from the commitments Article.
    commitments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType(), default=list)
    practices: Mapped[int | None] = mapped_column(Integer)
    directory_url: Mapped[str | None] = mapped_column(URI)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    checked_at: Mapped[datetime]
    stale_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class DirectoryVouch(Base):
    """A member follows an actor (read from its `following`): it vouches for it."""

    __tablename__ = "directory_vouches"
    __table_args__ = (UniqueConstraint("voucher_id", "member_uri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("directory_members.id"))
    member_uri: Mapped[str] = mapped_column(URI, index=True)
    seen_at: Mapped[datetime]


class FetchCache(Base):
    """The crawler's last copy of a document, with the validators its server gave."""

    __tablename__ = "fetch_cache"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(URI, unique=True)
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[dict[str, Any]]
    fetched_at: Mapped[datetime]


# --- Accounts: people who run an organisation through /admin (federation/accounts) ---


class Account(Base):
    """A person who may use /admin for one organisation, with one role."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("local_actor_id", "login"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    local_actor_id: Mapped[int] = mapped_column(ForeignKey("local_actors.id"), index=True)
    login: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # owner | editor | moderator
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]


class AdminSession(Base):
    """A logged-in browser. Only the SHA-256 of the cookie's token is stored."""

    __tablename__ = "admin_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
