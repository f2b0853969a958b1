"""Health of remote hosts: a host failing for days is parked, and revived when it speaks.

The worker keeps an in-memory view so that a healthy host costs no database write
per delivery; rows change only when a host changes between healthy and failing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.delivery import queue
from federation.store.engine import insert_or_ignore
from federation.store.models import RemoteHost


async def _get(session: AsyncSession, host: str) -> RemoteHost | None:
    return await session.get(RemoteHost, host)


async def _get_or_create(session: AsyncSession, host: str) -> RemoteHost:
    """The host's row, created if needed; safe when another worker creates it at once."""
    row = await _get(session, host)
    if row is not None:
        return row
    await session.execute(insert_or_ignore(session, RemoteHost).values(host=host))
    row = await session.get(RemoteHost, host, populate_existing=True)
    if row is None:  # pragma: no cover - the insert or the other worker made it
        raise LookupError(host)
    return row


async def is_parked(session: AsyncSession, host: str) -> bool:
    row = await _get(session, host)
    return row is not None and row.parked_at is not None


async def parked_among(session: AsyncSession, candidates: set[str]) -> set[str]:
    """Which of these hosts are parked: one query for a claimed batch."""
    if not candidates:
        return set()
    rows = await session.execute(
        select(RemoteHost.host).where(
            RemoteHost.host.in_(candidates), RemoteHost.parked_at.is_not(None)
        )
    )
    return set(rows.scalars())


async def record_success(session: AsyncSession, host: str, now: datetime) -> None:
    row = await _get_or_create(session, host)
    row.last_success_at = now
    row.failing_since = None
    if row.parked_at is not None:
        row.parked_at = None
        await queue.unpark_host(session, host, now)


async def record_successes(session: AsyncSession, names: Collection[str], now: datetime) -> None:
    """`record_success` for many hosts in a few statements: the first round of a
    fan-out meets each of its hosts once, and a query or two per host would cost as
    much as its POST."""
    ordered = sorted(names)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        await session.execute(
            insert_or_ignore(session, RemoteHost), [{"host": host} for host in chunk]
        )
        parked = (
            await session.execute(
                select(RemoteHost.host).where(
                    RemoteHost.host.in_(chunk), RemoteHost.parked_at.is_not(None)
                )
            )
        ).scalars()
        for host in list(parked):
            await queue.unpark_host(session, host, now)
        await session.execute(
            update(RemoteHost)
            .where(RemoteHost.host.in_(chunk))
            .values(last_success_at=now, failing_since=None, parked_at=None)
            .execution_options(synchronize_session=False)
        )


async def record_failure(
    session: AsyncSession, host: str, now: datetime, park_after: timedelta
) -> bool:
    """Note a failed delivery; returns True when the host has just been parked."""
    row = await _get_or_create(session, host)
    row.last_failure_at = now
    if row.failing_since is None:
        row.failing_since = now
        return False
    if row.parked_at is None and now - row.failing_since >= park_after:
        row.parked_at = now
        await queue.park_host(session, host)
        return True
    return False


async def revive(session: AsyncSession, host: str, now: datetime) -> bool:
    """The host sent us a valid request: it is alive, resume what was parked."""
    row = await _get(session, host)
    if row is None or (row.parked_at is None and row.failing_since is None):
        return False
    row.parked_at = None
    row.failing_since = None
    await queue.unpark_host(session, host, now)
    return True


async def signature_schemes(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(
        select(RemoteHost.host, RemoteHost.signature_scheme).where(
            RemoteHost.signature_scheme.is_not(None)
        )
    )
    return {host: scheme for host, scheme in rows.all() if scheme}


async def remember_scheme(session: AsyncSession, host: str, scheme: str) -> None:
    row = await _get_or_create(session, host)
    row.signature_scheme = scheme
