"""Block recommendations between members: published by one, applied by another's operator.

Nothing is blocked because someone else said so: what a source recommends waits as
a pending recommendation until our operator applies or dismisses it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import trust
from federation.errors import CommandError
from federation.runtime import Runtime
from federation.store.models import BlockRecommendation, LocalActor, RecommendationSource
from federation.transport.client import FetchError, Signer
from federation.vocab.normalize import ProtocolError, host_of, id_of, parse_actor, parse_collection

log = logging.getLogger(__name__)
PENDING, APPLIED, DISMISSED = "pending", "applied", "dismissed"
MAX_ITEMS = 1000


async def subscribe(
    session: AsyncSession, actor: LocalActor, source_uri: str, now: datetime
) -> RecommendationSource:
    existing = (
        await session.execute(
            select(RecommendationSource).where(
                RecommendationSource.local_actor_id == actor.id,
                RecommendationSource.actor_uri == source_uri,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    source = RecommendationSource(local_actor_id=actor.id, actor_uri=source_uri, created_at=now)
    session.add(source)
    await session.flush()
    return source


async def sources(session: AsyncSession, actor: LocalActor) -> list[RecommendationSource]:
    rows = await session.execute(
        select(RecommendationSource).where(RecommendationSource.local_actor_id == actor.id)
    )
    return list(rows.scalars())


def _items(document: dict[str, object], source_uri: str) -> list[tuple[str, str, str]]:
    """(kind, value, reason) of each recommendation a source publishes."""
    out = []
    for item in parse_collection(document).items[:MAX_ITEMS]:
        if not isinstance(item, dict) or item.get("type") != "Block":
            continue
        if id_of(item.get("actor")) != source_uri:
            continue
        kind, target = item.get("kind"), id_of(item.get("object"))
        reason = item.get("summary") if isinstance(item.get("summary"), str) else ""
        if kind not in (trust.DOMAIN, trust.ACTOR) or target is None:
            continue
        try:
            value = trust.normalise(str(kind), target)
        except CommandError:
            continue
        out.append((str(kind), value, str(reason)[:500]))
    return out


async def fetch(rt: Runtime, actor: LocalActor, signer: Signer) -> int:
    """Read every source's published recommendations; returns how many are new."""
    async with rt.sessions() as session:
        subscribed = [s.actor_uri for s in await sources(session, actor)]
    new = 0
    for source_uri in subscribed:
        try:
            source = parse_actor(await rt.client.get_json(source_uri, signer=signer))
            url = source.raw.get("blockRecommendations")
            if not isinstance(url, str) or host_of(url) != host_of(source_uri):
                continue
            items = _items(await rt.client.get_json(url, signer=signer), source_uri)
        except (FetchError, ProtocolError) as err:
            log.info("recommendations of %s: %s", source_uri, getattr(err, "reason", err))
            continue
        now = rt.clock.now()
        async with rt.sessions.begin() as session:
            for kind, value, reason in items:
                new += await _record(session, actor, source_uri, kind, value, reason, now)
            for row in await sources(session, actor):
                if row.actor_uri == source_uri:
                    row.fetched_at = now
    return new


async def _record(
    session: AsyncSession,
    actor: LocalActor,
    source_uri: str,
    kind: str,
    value: str,
    reason: str,
    now: datetime,
) -> int:
    known = (
        await session.execute(
            select(BlockRecommendation.id).where(
                BlockRecommendation.local_actor_id == actor.id,
                BlockRecommendation.source_actor_uri == source_uri,
                BlockRecommendation.kind == kind,
                BlockRecommendation.value == value,
            )
        )
    ).first()
    if known is not None:
        return 0
    session.add(
        BlockRecommendation(
            local_actor_id=actor.id,
            source_actor_uri=source_uri,
            kind=kind,
            value=value,
            reason=reason,
            state=PENDING,
            received_at=now,
        )
    )
    return 1


async def pending(session: AsyncSession, actor: LocalActor) -> list[BlockRecommendation]:
    rows = await session.execute(
        select(BlockRecommendation)
        .where(BlockRecommendation.local_actor_id == actor.id, BlockRecommendation.state == PENDING)
        .order_by(BlockRecommendation.id)
    )
    return list(rows.scalars())


async def decide(
    session: AsyncSession, actor: LocalActor, recommendation_id: int, apply: bool, now: datetime
) -> BlockRecommendation:
    """The operator's confirmation: apply (block) or dismiss a pending recommendation."""
    row = await session.get(BlockRecommendation, recommendation_id)
    if row is None or row.local_actor_id != actor.id or row.state != PENDING:
        raise CommandError(f"no pending recommendation #{recommendation_id}")
    row.state = APPLIED if apply else DISMISSED
    if apply:
        block = await trust.add(
            session,
            actor.id,
            row.kind,
            row.value,
            now,
            reason=row.reason,
            recommended_by=row.source_actor_uri,
        )
        await trust.drop_relations(session, block)
    return row
