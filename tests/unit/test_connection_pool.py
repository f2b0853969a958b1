"""The client's pool keeps few idle connections: one per host, for a bounded number of
hosts, the most recently used ones (federation/transport/pool.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from federation.transport.pool import BoundedIdleConnector
from tests.support.net import free_port, loopback_ip


class Hosts:
    """Three loopback hosts answering 200."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.runners: list[web.AppRunner] = []


@pytest.fixture
async def hosts() -> AsyncIterator[Hosts]:
    async def ok(_request: web.Request) -> web.Response:
        await asyncio.sleep(0.05)  # overlapping requests need several connections
        return web.Response(text="ok")

    result = Hosts()
    for _ in range(3):
        app = web.Application()
        app.router.add_get("/", ok)
        runner = web.AppRunner(app)
        await runner.setup()
        ip = loopback_ip()
        port = free_port(ip)
        await web.TCPSite(runner, ip, port).start()
        result.runners.append(runner)
        result.urls.append(f"http://{ip}:{port}/")
    yield result
    for runner in result.runners:
        await runner.cleanup()


class Counting:
    """A client session on the bounded connector, counting new and reused connections."""

    def __init__(self, idle_hosts: int) -> None:
        self.created = 0
        self.reused = 0
        trace = aiohttp.TraceConfig()
        trace.on_connection_create_end.append(self._created)
        trace.on_connection_reuseconn.append(self._reused)
        connector = BoundedIdleConnector(idle_per_host=1, idle_hosts=idle_hosts, limit=32)
        self.session = aiohttp.ClientSession(connector=connector, trace_configs=[trace])

    async def _created(self, *_: object) -> None:
        self.created += 1

    async def _reused(self, *_: object) -> None:
        self.reused += 1

    async def get(self, url: str) -> None:
        async with self.session.get(url) as response:
            assert response.status == 200
            await response.read()


async def test_a_burst_to_one_host_leaves_one_idle_connection(hosts: Hosts) -> None:
    client = Counting(idle_hosts=8)
    try:
        await asyncio.gather(*(client.get(hosts.urls[0]) for _ in range(4)))
        assert (client.created, client.reused) == (4, 0)
        # Two at once again: one finds the idle connection kept, the other opens one.
        await asyncio.gather(*(client.get(hosts.urls[0]) for _ in range(2)))
        assert (client.created, client.reused) == (5, 1)
        # One at a time: the same connection every time.
        for _ in range(3):
            await client.get(hosts.urls[0])
        assert (client.created, client.reused) == (5, 4)
    finally:
        await client.session.close()


async def test_the_least_recently_used_host_loses_its_idle_connection(hosts: Hosts) -> None:
    client = Counting(idle_hosts=2)
    try:
        for url in hosts.urls:  # the third host pushes the first one out
            await client.get(url)
        assert (client.created, client.reused) == (3, 0)
        await client.get(hosts.urls[2])
        await client.get(hosts.urls[1])
        assert (client.created, client.reused) == (3, 2)
        await client.get(hosts.urls[0])
        assert (client.created, client.reused) == (4, 2)
    finally:
        await client.session.close()
