"""Runtime: what the web app, the workers and the command line share in one process."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.clock import Clock, SystemClock
from federation.settings import Settings
from federation.store.engine import make_engine, make_sessionmaker
from federation.transport.client import FederationClient


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
