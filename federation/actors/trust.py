"""Blocks: domains and actors an organisation refuses, checked before any effect.

A blocked domain covers its subdomains. An install-wide check (`local_actor_id`
None) asks whether any organisation of the install blocks the party, which is
what the shared inbox and the crawler need before they know who is concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import CommandError
from federation.store.models import Block, Follower, Following, RemoteActor
from federation.vocab import declics

DOMAIN = "domain"
ACTOR = "actor"


def host_of(uri: str) -> str:
    return (urlsplit(uri).hostname or "").lower().rstrip(".")


def _domain_suffixes(host: str) -> list[str]:
    parts = host.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def normalise(kind: str, value: str) -> str:
    """A block's stored form: a lower-case host, or an actor id; CommandError if neither."""
    value = value.strip()
    if kind == DOMAIN:
        host = host_of(value) if "://" in value else value.lower().rstrip(".")
        if not host or "/" in host or "@" in host or " " in host:
            raise CommandError(f"{value!r} is not a domain name")
        return host
    if kind == ACTOR:
        if urlsplit(value).scheme not in ("http", "https") or not host_of(value):
            raise CommandError(f"{value!r} is not an actor address (https://…)")
        return value
    raise CommandError(f"unknown block kind {kind!r}")


async def is_blocked(session: AsyncSession, local_actor_id: int | None, uri: str) -> bool:
    host = host_of(uri)
    if not host:
        return False
    query = select(Block.id).where(
        ((Block.kind == DOMAIN) & Block.value.in_(_domain_suffixes(host)))
        | ((Block.kind == ACTOR) & (Block.value == uri.split("#", 1)[0]))
    )
    if local_actor_id is not None:
        query = query.where(Block.local_actor_id == local_actor_id)
    return (await session.execute(query.limit(1))).first() is not None


async def matcher(session: AsyncSession, local_actor_id: int) -> Callable[[str], bool]:
    """A check for many addresses at once (a fan-out, the inbox's memo of blocks):
    the blocks are read once."""
    rows = (
        await session.execute(
            select(Block.kind, Block.value).where(Block.local_actor_id == local_actor_id)
        )
    ).all()
    domains = {value for kind, value in rows if kind == DOMAIN}
    actors = {value for kind, value in rows if kind == ACTOR}

    def blocked(uri: str) -> bool:
        if uri.split("#", 1)[0] in actors:
            return True
        return any(suffix in domains for suffix in _domain_suffixes(host_of(uri)))

    return blocked


async def add(
    session: AsyncSession,
    local_actor_id: int,
    kind: str,
    value: str,
    now: datetime,
    reason: str = "",
    recommended_by: str | None = None,
    recommend: bool = False,
) -> Block:
    value = normalise(kind, value)
    existing = (
        await session.execute(
            select(Block).where(
                Block.local_actor_id == local_actor_id, Block.kind == kind, Block.value == value
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    block = Block(
        local_actor_id=local_actor_id,
        kind=kind,
        value=value,
        reason=reason,
        recommended_by=recommended_by,
        recommend=recommend,
        created_at=now,
    )
    session.add(block)
    await session.flush()
    return block


async def remove(session: AsyncSession, local_actor_id: int, kind: str, value: str) -> bool:
    result = await session.execute(
        delete(Block).where(
            Block.local_actor_id == local_actor_id,
            Block.kind == kind,
            Block.value == normalise(kind, value),
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def listing(session: AsyncSession, local_actor_id: int) -> list[Block]:
    rows = await session.execute(
        select(Block).where(Block.local_actor_id == local_actor_id).order_by(Block.id)
    )
    return list(rows.scalars())


async def drop_relations(session: AsyncSession, block: Block) -> int:
    """Blocking ends every follow with the blocked party, both ways."""
    query = select(RemoteActor)
    if block.kind == ACTOR:
        query = query.where(RemoteActor.uri == block.value)
    else:
        query = query.where(
            (RemoteActor.host == block.value) | RemoteActor.host.endswith(f".{block.value}")
        )
    dropped = 0
    for actor in (await session.execute(query)).scalars():
        for model in (Follower, Following):
            result = await session.execute(
                delete(model).where(
                    model.local_actor_id == block.local_actor_id,
                    model.remote_actor_id == actor.id,
                )
            )
            dropped += int(result.rowcount)  # type: ignore[attr-defined]
    return dropped


def published_collection(
    collection_id: str, actor_id: str, blocks: list[Block]
) -> dict[str, object]:
    """Our block recommendations, as Block activities other members can read."""
    items = [
        {
            "type": "Block",
            "actor": actor_id,
            "kind": block.kind,
            "object": block.value if block.kind == ACTOR else f"https://{block.value}/",
            "summary": block.reason,
            "published": block.created_at.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        }
        for block in blocks
        if block.recommend
    ]
    return {
        "@context": declics.context(),
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }
