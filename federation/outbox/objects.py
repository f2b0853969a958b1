"""Create, Update and Delete of local objects, federated to followers.

Every object keeps a version number; objects with a public history (commitments,
data policy) also keep each published document in `object_versions`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation import proofs
from federation.actors import local
from federation.errors import CommandError
from federation.outbox.publish import new_uri, to_followers
from federation.store.models import LocalActor, LocalObject, ObjectVersion, OutboxActivity
from federation.vocab import build


def slugify(text: str, limit: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "sans-titre"


async def free_uri(session: AsyncSession, actor: LocalActor, collection: str, title: str) -> str:
    """A readable id never used before (deleted objects keep theirs as tombstones)."""
    base = f"{actor.base_url}/{collection}/{slugify(title)}"
    candidate, counter = base, 1
    while (
        await session.execute(select(LocalObject.id).where(LocalObject.uri == candidate))
    ).first() is not None:
        counter += 1
        candidate = f"{base}-{counter}"
    return candidate


def _activity(
    kind: str, actor: LocalActor, obj_document: dict[str, Any], now: datetime
) -> dict[str, Any]:
    urls = local.urls_of(actor)
    document = build.activity(
        kind,
        new_uri(actor, "activities"),
        urls.id,
        obj_document,
        to=obj_document.get("to", []),
        cc=obj_document.get("cc", []),
        published=now,
    )
    return build.with_object_context(document, obj_document)


async def keep_version(session: AsyncSession, obj: LocalObject, now: datetime) -> None:
    session.add(
        ObjectVersion(object_id=obj.id, version=obj.version, document=obj.document, created_at=now)
    )


def signed(actor: LocalActor, document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The object with its author's FEP-8b32 proof, so that it can travel on its own
    (shared, relayed) and still be checked without asking us."""
    signer = local.signer_of(actor)
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    return proofs.create_proof(unsigned, signer.ed25519_key, signer.ed25519_key_id, now)


async def create(
    session: AsyncSession,
    actor: LocalActor,
    obj: LocalObject,
    now: datetime,
    *,
    history: bool,
    extra_inboxes: Iterable[str] = (),
) -> OutboxActivity:
    obj.document = signed(actor, obj.document, now)
    session.add(obj)
    await session.flush()
    if history:
        await keep_version(session, obj, now)
    return await to_followers(
        session,
        actor,
        _activity("Create", actor, obj.document, now),
        now,
        extra_inboxes=extra_inboxes,
    )


async def update(
    session: AsyncSession,
    actor: LocalActor,
    obj: LocalObject,
    document: dict[str, Any],
    now: datetime,
    *,
    history: bool,
    extra_inboxes: Iterable[str] = (),
) -> OutboxActivity:
    obj.version += 1
    obj.updated = now
    document = signed(actor, document, now)
    obj.document = document
    await session.flush()
    if history:
        await keep_version(session, obj, now)
    return await to_followers(
        session,
        actor,
        _activity("Update", actor, document, now),
        now,
        extra_inboxes=extra_inboxes,
    )


async def delete(
    session: AsyncSession,
    actor: LocalActor,
    obj: LocalObject,
    now: datetime,
    *,
    extra_inboxes: Iterable[str] = (),
) -> OutboxActivity:
    if obj.deleted_at is not None:
        raise CommandError(f"{obj.uri} is already deleted")
    obj.deleted_at = now
    urls = local.urls_of(actor)
    tomb = build.tombstone(obj.uri, obj.object_type, now)
    document = build.activity(
        "Delete",
        f"{obj.uri}#delete-{int(now.timestamp())}",
        urls.id,
        tomb,
        to=["https://www.w3.org/ns/activitystreams#Public"],
        cc=[urls.followers],
        published=now,
    )
    return await to_followers(session, actor, document, now, extra_inboxes=extra_inboxes)


async def find(session: AsyncSession, actor: LocalActor, kind: str, ref: str) -> LocalObject | None:
    """An object of ours by its full id, or by the last part of its path."""
    query = select(LocalObject).where(
        LocalObject.local_actor_id == actor.id, LocalObject.kind == kind
    )
    if ref.startswith(("https://", "http://")):
        query = query.where(LocalObject.uri == ref)
    else:
        query = query.where(LocalObject.uri.endswith(f"/{ref.strip('/')}"))
    return (await session.execute(query)).scalars().first()


async def versions(session: AsyncSession, obj: LocalObject) -> list[ObjectVersion]:
    rows = await session.execute(
        select(ObjectVersion)
        .where(ObjectVersion.object_id == obj.id)
        .order_by(ObjectVersion.version)
    )
    return list(rows.scalars())


async def by_kind(session: AsyncSession, actor: LocalActor, kind: str) -> LocalObject | None:
    """The one object of a kind an actor has (commitments, data policy)."""
    return (
        await session.execute(
            select(LocalObject).where(
                LocalObject.local_actor_id == actor.id, LocalObject.kind == kind
            )
        )
    ).scalar_one_or_none()
