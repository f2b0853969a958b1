"""The crawler's GETs: signed, paced per host, and cached with their validators.

A document whose server sent an ETag or a Last-Modified date is kept in `fetch_cache`
with them. The next fetch is conditional (If-None-Match, If-Modified-Since), and a 304
reuses the copy. Documents without validators are not kept: they could not be asked
for conditionally.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.network.politeness import HostRateLimiter
from federation.network.writes import write
from federation.runtime import Runtime
from federation.store.models import FetchCache
from federation.transport.client import AP_ACCEPT, AP_CONTENT_TYPES, Signer
from federation.vocab.normalize import host_of

# A copy still in use is marked so (for `forget_older_than`) at most this often.
TOUCH_AFTER = timedelta(hours=12)


@dataclass
class Counters:
    requests: int = 0
    not_modified: int = 0
    hosts: dict[str, int] = field(default_factory=dict)


class Fetcher:
    def __init__(
        self,
        rt: Runtime,
        limiter: HostRateLimiter,
        signer: Signer,
    ) -> None:
        self.rt = rt
        self.limiter = limiter
        self.signer = signer
        self.counters = Counters()

    async def get(
        self,
        url: str,
        *,
        accept: str = AP_ACCEPT,
        content_types: tuple[str, ...] = AP_CONTENT_TYPES,
    ) -> dict[str, object]:
        """The document at `url`; FetchError when it cannot be had."""
        async with self.rt.sessions() as session:
            cached = (
                await session.execute(select(FetchCache).where(FetchCache.url == url))
            ).scalar_one_or_none()
        host = host_of(url)
        await self.limiter.acquire(host)
        self.counters.requests += 1
        self.counters.hosts[host] = self.counters.hosts.get(host, 0) + 1
        result = await self.rt.client.get_json_conditional(
            url,
            signer=self.signer,
            etag=cached.etag if cached else None,
            last_modified=cached.last_modified if cached else None,
            accept=accept,
            content_types=content_types,
        )
        now = self.rt.clock.now()
        if result.document is None and cached is not None:
            self.counters.not_modified += 1
            if now - cached.fetched_at < TOUCH_AFTER:
                return cached.document  # recent enough: spare a write
            await write(
                self.rt,
                lambda session: session.execute(
                    update(FetchCache).where(FetchCache.id == cached.id).values(fetched_at=now)
                ),
            )
            return cached.document
        document = result.document or {}
        if result.etag or result.last_modified:
            await self._store(url, result.etag, result.last_modified, document, now)
        elif cached is not None:  # the server stopped offering validators
            await write(
                self.rt,
                lambda session: session.execute(
                    delete(FetchCache).where(FetchCache.id == cached.id)
                ),
            )
        return document

    async def _store(
        self,
        url: str,
        etag: str | None,
        last_modified: str | None,
        document: dict[str, object],
        now: datetime,
    ) -> None:
        values = {
            "etag": (etag or "")[:255] or None,
            "last_modified": (last_modified or "")[:64] or None,
            "document": document,
            "fetched_at": now,
        }

        async def upsert(session: AsyncSession) -> None:
            changed = await session.execute(
                update(FetchCache).where(FetchCache.url == url).values(**values)
            )
            if not changed.rowcount:  # type: ignore[attr-defined]
                session.add(FetchCache(url=url, **values))
                await session.flush()

        # Another worker may store it at the same moment: its copy is as good.
        with contextlib.suppress(IntegrityError):
            await write(self.rt, upsert)


async def forget_older_than(rt: Runtime, moment: datetime) -> int:
    """Drop cached documents nobody asked for since `moment`."""

    async def forget(session: AsyncSession) -> int:
        result = await session.execute(delete(FetchCache).where(FetchCache.fetched_at < moment))
        return int(result.rowcount)  # type: ignore[attr-defined]

    return await write(rt, forget)
