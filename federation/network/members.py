"""The directory's rows: members as last seen, who vouches for whom, staleness.

The only SQL on `directory_members` and `directory_vouches` outside the pages that
read them (`network.directory`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.network.signals import MemberProfile, Progress
from federation.store.models import DirectoryMember, DirectoryVouch
from federation.vocab.normalize import host_of


@dataclass(frozen=True)
class Sighting:
    """What one visit learnt of a member. None means "could not read it this time":
    the previous value is kept."""

    profile: MemberProfile
    depth: int
    local: bool
    progress: tuple[Progress, ...] | None
    practices: int | None
    following: Sequence[str] | None


async def get(session: AsyncSession, uri: str) -> DirectoryMember | None:
    return (
        await session.execute(select(DirectoryMember).where(DirectoryMember.uri == uri))
    ).scalar_one_or_none()


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count(DirectoryMember.id)))).scalar_one())


async def record(
    session: AsyncSession, seen: Sighting, now: datetime, max_members: int
) -> DirectoryMember | None:
    """Insert or refresh a member seen now, with its vouches; None when the directory
    is full and the member is new."""
    row = await get(session, seen.profile.uri)
    if row is None:
        if await count(session) >= max_members:
            return None
        row = DirectoryMember(uri=seen.profile.uri, first_seen_at=now, commitments=[])
        session.add(row)
    profile = seen.profile
    row.host = host_of(profile.uri)
    row.local = seen.local
    row.actor_type = profile.actor_type
    row.name = profile.name
    row.handle = profile.handle
    row.summary = profile.summary
    row.icon_url = profile.icon_url
    row.url = profile.url
    row.territory = profile.territory
    row.charter_version = profile.charter_version
    row.charter_hash = profile.charter_hash
    row.directory_url = profile.directory_url
    if seen.progress is not None:
        row.commitments = [{"number": p.number, "progress": p.progress} for p in seen.progress]
    if seen.practices is not None:
        row.practices = seen.practices
    row.depth = seen.depth
    row.last_seen_at = row.checked_at = now
    row.stale_since = None
    row.last_error = None
    await session.flush()
    if seen.following is not None:
        await _set_vouches(session, row.id, seen.following, now)
    return row


async def _set_vouches(
    session: AsyncSession, voucher_id: int, followed: Sequence[str], now: datetime
) -> None:
    """The actors a member follows, as read now, replace what it followed before."""
    wanted = set(followed)
    existing = dict(
        (
            await session.execute(
                select(DirectoryVouch.member_uri, DirectoryVouch.id).where(
                    DirectoryVouch.voucher_id == voucher_id
                )
            )
        ).all()
    )
    gone = [vouch_id for uri, vouch_id in existing.items() if uri not in wanted]
    for start in range(0, len(gone), 500):
        await session.execute(
            delete(DirectoryVouch).where(DirectoryVouch.id.in_(gone[start : start + 500]))
        )
    kept = [vouch_id for uri, vouch_id in existing.items() if uri in wanted]
    for start in range(0, len(kept), 500):
        await session.execute(
            update(DirectoryVouch)
            .where(DirectoryVouch.id.in_(kept[start : start + 500]))
            .values(seen_at=now)
        )
    session.add_all(
        DirectoryVouch(voucher_id=voucher_id, member_uri=uri, seen_at=now)
        for uri in sorted(wanted - set(existing))
    )
    await session.flush()


async def unreachable(session: AsyncSession, uri: str, error: str, now: datetime) -> None:
    """A member we could not read this time: it keeps its last-seen date."""
    await session.execute(
        update(DirectoryMember)
        .where(DirectoryMember.uri == uri)
        .values(checked_at=now, last_error=error[:500])
    )


async def remove(session: AsyncSession, uri: str) -> bool:
    """Forget a member (gone, blocked, or no longer stating the charter)."""
    row = await get(session, uri)
    if row is None:
        return False
    await session.execute(delete(DirectoryVouch).where(DirectoryVouch.voucher_id == row.id))
    await session.delete(row)
    await session.flush()
    return True


async def age(
    session: AsyncSession, now: datetime, stale_after: timedelta, drop_after: timedelta
) -> tuple[int, int]:
    """Mark members not seen for `stale_after` as stale, drop those not seen for
    `drop_after`; (newly stale, dropped)."""
    dropped = list(
        (
            await session.execute(
                select(DirectoryMember.uri).where(DirectoryMember.last_seen_at < now - drop_after)
            )
        ).scalars()
    )
    for uri in dropped:
        await remove(session, uri)
    result = await session.execute(
        update(DirectoryMember)
        .where(
            DirectoryMember.last_seen_at < now - stale_after,
            DirectoryMember.stale_since.is_(None),
        )
        .values(stale_since=now)
    )
    return int(result.rowcount), len(dropped)  # type: ignore[attr-defined]
