"""Crawl rounds and their frontier: the actors to visit, kept in the database.

A round is a breadth-first walk from our organisations (depth 0). Each actor to
visit is a `crawl_nodes` row, unique in its round. Workers claim rows with a lease,
lowest depth first, so several processes can share a round and a restart resumes it.
An actor found again closer to us is moved to the closer depth (and visited again,
cheaply: its documents were fetched in this round already).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.store.engine import dialect_name, insert_or_ignore
from federation.store.models import CrawlNode, CrawlRound

PENDING = "pending"
CLAIMED = "claimed"
DONE = "done"
LEASE = timedelta(minutes=5)
# Any constant: serialises the start of rounds across processes on PostgreSQL.
_ADVISORY_KEY = 0x6465636C
_CHUNK = 500


@dataclass(frozen=True)
class Node:
    id: int
    round_id: int
    uri: str
    depth: int


async def latest(session: AsyncSession) -> CrawlRound | None:
    return (
        await session.execute(select(CrawlRound).order_by(CrawlRound.id.desc()).limit(1))
    ).scalar_one_or_none()


async def open_round(session: AsyncSession) -> CrawlRound | None:
    return (
        await session.execute(
            select(CrawlRound)
            .where(CrawlRound.finished_at.is_(None))
            .order_by(CrawlRound.id)
            .limit(1)
        )
    ).scalar_one_or_none()


async def start(
    session: AsyncSession, reason: str, seeds: Sequence[str], now: datetime
) -> CrawlRound:
    """Open a round seeded with `seeds` at depth 0, or join the round already open."""
    if dialect_name(session) == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
    # Only the last finished round's nodes are kept (to explain it). On SQLite this
    # write comes first so that it takes the lock before the check below.
    previous = await latest(session)
    keep = previous.id if previous is not None else 0
    await session.execute(delete(CrawlNode).where(CrawlNode.round_id < keep))
    current = await open_round(session)
    if current is not None:
        return current
    crawl = CrawlRound(reason=reason, started_at=now)
    session.add(crawl)
    await session.flush()
    await add(session, crawl.id, seeds, 0, cap=len(seeds))
    return crawl


async def size(session: AsyncSession, round_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count(CrawlNode.id)).where(CrawlNode.round_id == round_id)
            )
        ).scalar_one()
    )


async def add(
    session: AsyncSession, round_id: int, uris: Sequence[str], depth: int, cap: int
) -> int:
    """Queue actors at `depth`; the round holds `cap` actors at most. Returns how many
    were queued or brought closer."""
    uris = list(dict.fromkeys(uris))
    moved = 0
    known: set[str] = set()
    for start_at in range(0, len(uris), _CHUNK):
        chunk = uris[start_at : start_at + _CHUNK]
        known.update(
            (
                await session.execute(
                    select(CrawlNode.uri).where(
                        CrawlNode.round_id == round_id, CrawlNode.uri.in_(chunk)
                    )
                )
            ).scalars()
        )
        result = await session.execute(
            update(CrawlNode)
            .where(
                CrawlNode.round_id == round_id,
                CrawlNode.uri.in_(chunk),
                CrawlNode.depth > depth,
                CrawlNode.state != CLAIMED,
            )
            .values(depth=depth, state=PENDING)
            .execution_options(synchronize_session=False)
        )
        moved += int(result.rowcount)  # type: ignore[attr-defined]
    room = cap - await size(session, round_id)
    fresh = [uri for uri in uris if uri not in known][: max(room, 0)]
    if not fresh:
        return moved
    for start_at in range(0, len(fresh), _CHUNK):
        await session.execute(
            insert_or_ignore(session, CrawlNode, ["round_id", "uri"]).values(
                [
                    {"round_id": round_id, "uri": uri, "depth": depth, "state": PENDING}
                    for uri in fresh[start_at : start_at + _CHUNK]
                ]
            )
        )
    return moved + len(fresh)


async def claim(session: AsyncSession, round_id: int, now: datetime, limit: int) -> list[Node]:
    """Take up to `limit` actors to visit, closest first (pending, or leases run out)."""
    due = (
        select(CrawlNode.id)
        .where(
            CrawlNode.round_id == round_id,
            (CrawlNode.state == PENDING)
            | ((CrawlNode.state == CLAIMED) & (CrawlNode.lease_expires_at < now)),
        )
        .order_by(CrawlNode.depth, CrawlNode.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = await session.execute(
        update(CrawlNode)
        .where(CrawlNode.id.in_(due.scalar_subquery()))
        .values(state=CLAIMED, lease_expires_at=now + LEASE)
        .returning(CrawlNode.id, CrawlNode.round_id, CrawlNode.uri, CrawlNode.depth)
        .execution_options(synchronize_session=False)
    )
    return [Node(*row) for row in result.all()]


async def done(
    session: AsyncSession,
    node: Node,
    outcome: str,
    error: str | None,
    requests: int,
    not_modified: int,
) -> None:
    """Record a visit (unless the actor was queued again meanwhile) and its requests."""
    await session.execute(
        update(CrawlNode)
        .where(CrawlNode.id == node.id, CrawlNode.state == CLAIMED)
        .values(state=DONE, outcome=outcome, error=(error or None) and error[:500])
        .execution_options(synchronize_session=False)
    )
    if requests or not_modified:
        await session.execute(
            update(CrawlRound)
            .where(CrawlRound.id == node.round_id)
            .values(
                requests=CrawlRound.requests + requests,
                not_modified=CrawlRound.not_modified + not_modified,
            )
        )


async def remaining(session: AsyncSession, round_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count(CrawlNode.id)).where(
                    CrawlNode.round_id == round_id, CrawlNode.state != DONE
                )
            )
        ).scalar_one()
    )


async def close(session: AsyncSession, round_id: int, now: datetime) -> bool:
    """Mark the round finished; False if another process did it first."""
    result = await session.execute(
        update(CrawlRound)
        .where(CrawlRound.id == round_id, CrawlRound.finished_at.is_(None))
        .values(finished_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def outcomes(session: AsyncSession, round_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(CrawlNode.outcome, func.count(CrawlNode.id))
        .where(CrawlNode.round_id == round_id)
        .group_by(CrawlNode.outcome)
    )
    return {outcome or "?": int(n) for outcome, n in rows.all()}
