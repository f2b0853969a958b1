"""Runtime: what the web app, the workers and the command line share in one process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.clock import Clock, SystemClock
from federation.memo import Memo
from federation.served import ServedCache
from federation.settings import Settings
from federation.store.engine import make_engine, make_sessionmaker
from federation.transport.client import FederationClient

if TYPE_CHECKING:
    from federation.inbox.batch import InboxWriter


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    client: FederationClient
    clock: Clock
    # Set after a commit that queued work, so in-process workers start at once;
    # other processes' work is found by polling.
    delivery_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    inbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Rows read on every inbound request, kept a minute (see federation.memo): parsed
    # remote keys by key id (actors.keys), our signers by domain and the hosts that
    # need no revival (inbox.intake), our actors by domain and name (web.inbox).
    remote_keys: Memo[str, Any] = field(default_factory=lambda: Memo(60.0))
    signers: Memo[str, Any] = field(default_factory=lambda: Memo(60.0))
    live_hosts: Memo[str, bool] = field(default_factory=lambda: Memo(60.0))
    local_actors: Memo[tuple[str, str], Any] = field(default_factory=lambda: Memo(60.0))
    # Actor documents, WebFinger answers and moved actors, a few seconds (federation.served).
    served: ServedCache = field(default_factory=ServedCache)

    # Accepted activities stored in groups (federation.inbox.batch), made at first use.
    inbox_writer: InboxWriter | None = None

    # This process's SQLite writers take turns here (see `write`).
    sqlite_writer: asyncio.Lock = field(default_factory=asyncio.Lock)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction for a hot path (many at once).

        SQLite has one writer at a time; writers of one process that meet at its lock
        wait in its busy handler, which sleeps in steps of up to 100 ms. Taking turns on
        an asyncio lock first keeps them at full speed. Never nest: a write inside
        another one would wait for itself. PostgreSQL writers run concurrently.
        """
        if self.engine.dialect.name != "sqlite":
            async with self.sessions.begin() as session:
                yield session
            return
        async with self.sqlite_writer, self.sessions.begin() as session:
            yield session

    async def close(self) -> None:
        await self.client.close()
        await self.engine.dispose()


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    engine = make_engine(settings)
    clock = clock or SystemClock()
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        client=FederationClient(settings, clock),
        clock=clock,
    )
