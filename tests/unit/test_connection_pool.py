"""The client's pool keeps a bounded number of idle connections, closing the one idle
for the longest first (federation/transport/pool.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from federation.transport.pool import BoundedIdleConnector
from tests.support.net import free_port, loopback_ip


@pytest.fixture
async def urls() -> AsyncIterator[list[str]]:
    """Three loopback hosts answering 200."""

    async def ok(_request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)  # overlapping requests need several connections
        return web.Response(text="ok")

    runners, result = [], []
    for _ in range(3):
        app = web.Application()
        app.router.add_get("/", ok)
        runner = web.AppRunner(app)
        await runner.setup()
        ip = loopback_ip()
        port = free_port(ip)
        await web.TCPSite(runner, ip, port).start()
        runners.append(runner)
        result.append(f"http://{ip}:{port}/")
    yield result
    for runner in runners:
        await runner.cleanup()


class Counting:
    """A client session on the bounded connector, counting new and reused connections."""

    def __init__(self, max_idle: int) -> None:
        self.created = 0
        self.reused = 0
        trace = aiohttp.TraceConfig()
        trace.on_connection_create_end.append(self._created)
        trace.on_connection_reuseconn.append(self._reused)
        connector = BoundedIdleConnector(max_idle=max_idle, limit=32, limit_per_host=4)
        self.session = aiohttp.ClientSession(connector=connector, trace_configs=[trace])

    async def _created(self, *_: object) -> None:
        self.created += 1

    async def _reused(self, *_: object) -> None:
        self.reused += 1

    async def get(self, url: str, times: int = 1) -> None:
        async def one() -> None:
            async with self.session.get(url) as response:
                assert response.status == 200
                await response.read()

        await asyncio.gather(*(one() for _ in range(times)))

    @property
    def counts(self) -> tuple[int, int]:
        return self.created, self.reused


async def test_no_more_idle_connections_are_kept_than_the_bound(urls: list[str]) -> None:
    client = Counting(max_idle=2)
    try:
        await client.get(urls[0], times=4)
        assert client.counts == (4, 0)
        # Two of the four were kept: a second burst of four reuses two, opens two.
        await client.get(urls[0], times=4)
        assert client.counts == (6, 2)
    finally:
        await client.session.close()


async def test_a_busy_host_keeps_its_connections(urls: list[str]) -> None:
    client = Counting(max_idle=4)
    try:
        for _ in range(5):
            await client.get(urls[0], times=4)
        assert client.counts == (4, 16)
    finally:
        await client.session.close()


async def test_the_host_idle_for_the_longest_loses_its_connection(urls: list[str]) -> None:
    client = Counting(max_idle=2)
    try:
        for url in urls:  # the third host's connection pushes the first one's out
            await client.get(url)
        assert client.counts == (3, 0)
        await client.get(urls[2])
        await client.get(urls[1])
        assert client.counts == (3, 2)
        await client.get(urls[0])
        assert client.counts == (4, 2)
    finally:
        await client.session.close()
