"""Blocks: domains and actors an organisation refuses, checked before any effect.

A blocked domain covers its subdomains. An install-wide check (`local_actor_id`
None) asks whether any organisation of the install blocks the party, which is
what the shared inbox and the crawler need before they know who is concerned.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import CommandError
from federation.store.models import Block

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


async def add(
    session: AsyncSession,
    local_actor_id: int,
    kind: str,
    value: str,
    now: datetime,
    reason: str = "",
    recommended_by: str | None = None,
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
