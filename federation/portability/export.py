"""Everything a member owns, read from the database into archive entries.

Objects are read from the content tables whatever their `kind` (notes, practices,
commitments, data policy, and any kind added later), with their versions and the
interactions recorded on them.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import __version__, keypairs
from federation.actors import follows, local
from federation.content import identity
from federation.portability import archive, rows, sealing
from federation.settings import CONFIG_NAME, ContentSettings
from federation.store.models import (
    Block,
    BlockRecommendation,
    Interaction,
    LocalActor,
    LocalObject,
    ObjectVersion,
    OutboxActivity,
    RecommendationSource,
    RemoteActor,
)
from federation.vocab import build

# Columns of local_actors that never leave in clear, or that describe this host only.
PRIVATE = (
    "rsa_private_pem",
    "ed25519_private_pem",
    "next_rsa_private_pem",
    "next_ed25519_private_pem",
)
KEYS_AAD = b"declics-archive/1 keys of "


def keys_entry(actor: LocalActor, passphrase: str) -> dict[str, Any]:
    """The private keys sealed with the passphrase, and their public halves in clear
    (so that an import checks the passphrase and the keys before storing anything)."""
    secret = {name: getattr(actor, name) for name in PRIVATE}
    urls = local.urls_of(actor)
    signer = local.signer_of(actor)
    public: dict[str, Any] = {
        "keyGeneration": actor.key_generation or 0,
        "rsa": {
            "id": urls.key_id,
            "publicKeyPem": keypairs.public_to_pem(signer.rsa_key.public_key()),
        },
        "ed25519": {
            "id": urls.ed25519_key_id,
            "publicKeyMultibase": keypairs.public_to_multibase(signer.ed25519_key.public_key()),
        },
    }
    upcoming = local.next_public_keys(actor)
    if upcoming is not None:
        public["next"] = {"publicKeyPem": upcoming[0], "publicKeyMultibase": upcoming[1]}
    sealed = sealing.seal(
        json.dumps(secret, sort_keys=True).encode(), passphrase, KEYS_AAD + urls.id.encode()
    )
    return {"public": public, "sealed": sealed}


async def _objects(session: AsyncSession, actor: LocalActor) -> list[dict[str, Any]]:
    out = []
    objects = (
        await session.execute(
            select(LocalObject)
            .where(LocalObject.local_actor_id == actor.id)
            .order_by(LocalObject.id)
        )
    ).scalars()
    for obj in objects:
        versions = (
            await session.execute(
                select(ObjectVersion)
                .where(ObjectVersion.object_id == obj.id)
                .order_by(ObjectVersion.version)
            )
        ).scalars()
        interactions = (
            await session.execute(
                select(Interaction)
                .where(Interaction.local_actor_id == actor.id, Interaction.object_uri == obj.uri)
                .order_by(Interaction.id)
            )
        ).scalars()
        out.append(
            {
                "object": rows.to_json(obj),
                "versions": [rows.to_json(v) for v in versions],
                "interactions": [rows.to_json(i) for i in interactions],
            }
        )
    return out


def _relation(rel: Any, remote: RemoteActor) -> dict[str, Any]:
    return {
        "actor": remote.uri,
        "handle": f"{remote.username}@{remote.host}" if remote.username else None,
        "name": remote.name,
        "inbox": remote.inbox,
        "sharedInbox": remote.shared_inbox,
        "state": rel.state,
        "follow": rel.follow_activity_uri,
        "since": rel.created_at.isoformat(),
    }


async def _owned_rows(session: AsyncSession, model: Any, actor: LocalActor) -> list[dict[str, Any]]:
    found = (
        await session.execute(
            select(model).where(model.local_actor_id == actor.id).order_by(model.id)
        )
    ).scalars()
    return [rows.to_json(row) for row in found]


async def entries(
    session: AsyncSession,
    actor: LocalActor,
    passphrase: str,
    content: ContentSettings,
    data_dir: Path,
    now: datetime,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """(entries, manifest header) of the member's archive."""
    urls = local.urls_of(actor)
    states = (follows.ACCEPTED, follows.PENDING)
    followers = await follows.followers(session, actor.id, follows.ACCEPTED)
    followers += await follows.followers(session, actor.id, follows.PENDING)
    following = await follows.followings(session, actor.id, (*states, follows.REJECTED))
    objects = await _objects(session, actor)
    activities = (
        await session.execute(
            select(OutboxActivity)
            .where(OutboxActivity.local_actor_id == actor.id, OutboxActivity.public.is_(True))
            .order_by(OutboxActivity.id)
        )
    ).scalars()
    outbox_items = [json.loads(row.body) for row in activities]
    profile = rows.to_json(actor, skip=PRIVATE)
    content_map: dict[str, Any] = {
        "actor.json": await identity.actor_document(session, actor, content, now),
        "outbox.json": {
            **build.ordered_collection(urls.outbox, len(outbox_items), None),
            "orderedItems": outbox_items,
        },
        "declics/profile.json": profile,
        "declics/keys.json": keys_entry(actor, passphrase),
        "declics/objects.json": objects,
        "declics/followers.json": [_relation(rel, remote) for rel, remote in followers],
        "declics/following.json": [_relation(rel, remote) for rel, remote in following],
        "declics/blocks.json": await _owned_rows(session, Block, actor),
        "declics/recommendation-sources.json": await _owned_rows(
            session, RecommendationSource, actor
        ),
        "declics/block-recommendations.json": await _owned_rows(
            session, BlockRecommendation, actor
        ),
    }
    out = {name: archive.dumps(value) for name, value in content_map.items()}
    settings_file = data_dir / CONFIG_NAME
    if settings_file.exists():
        out["declics/settings.toml"] = settings_file.read_bytes()
    header = {
        "actor": urls.id,
        "baseUrl": actor.base_url,
        "username": actor.username,
        "software": f"declics {__version__}",
        "exportedAt": build.iso(now),
        "counts": {
            "objects": len(objects),
            "versions": sum(len(o["versions"]) for o in objects),
            "interactions": sum(len(o["interactions"]) for o in objects),
            "followers": len(followers),
            "following": len(following),
            "blocks": len(content_map["declics/blocks.json"]),
            "outbox": len(outbox_items),
        },
    }
    return out, header
