"""Collections that never end (or loop) are followed for a bounded number of pages.

A hostile server on loopback serves an outbox whose every page points to a new next
page, and one whose page points to itself. The backfill (after a member accepts our
follow) and the crawler's collection reader stop at their bounds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from aiohttp import web

from federation.content import backfill
from federation.inbox import intake
from federation.network import visit
from federation.network.fetcher import Fetcher
from federation.network.politeness import HostRateLimiter
from tests.conftest import InstanceFactory
from tests.support.net import free_port, loopback_ip

AS = "https://www.w3.org/ns/activitystreams"


class Endless:
    def __init__(self) -> None:
        self.requests = 0
        self.base = ""

    def app(self) -> web.Application:
        async def collection(request: web.Request) -> web.Response:
            self.requests += 1
            url = f"{self.base}{request.path}"
            return self._json({"@context": AS, "id": url, "type": "OrderedCollection",
                               "first": f"{url}/page/1"})  # fmt: skip

        async def page(request: web.Request) -> web.Response:
            self.requests += 1
            n = int(request.match_info["n"])
            url = f"{self.base}{request.path}"
            loops = request.match_info["name"] == "loop"
            following = url if loops else url.rsplit("/", 1)[0] + f"/{n + 1}"
            item = {"type": "Create", "object": {"id": f"{self.base}/notes/{n}", "type": "Note"}}
            return self._json({"@context": AS, "id": url, "type": "OrderedCollectionPage",
                               "orderedItems": [item, f"{self.base}/users/u{n}"],
                               "next": following})  # fmt: skip

        app = web.Application()
        app.router.add_get("/{name}", collection)
        app.router.add_get("/{name}/page/{n}", page)
        return app

    @staticmethod
    def _json(document: dict[str, object]) -> web.Response:
        return web.json_response(document, content_type="application/activity+json")


@pytest_asyncio.fixture
async def endless() -> AsyncIterator[Endless]:
    server = Endless()
    ip = loopback_ip()
    port = free_port(ip)
    server.base = f"http://{ip}:{port}"
    runner = web.AppRunner(server.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, ip, port).start()
    yield server
    await runner.cleanup()


async def test_backfill_stops_after_its_page_bound(
    instances: InstanceFactory, endless: Endless
) -> None:
    a = await instances("collectif", start=False)
    signer = await intake.signer_for(a.rt, (await a.organisation()).domain)
    actor = f"{endless.base}/users/member"
    stored = await backfill.backfill(a.rt, actor, f"{endless.base}/outbox", signer)
    assert stored == 0
    # The collection, then at most MAX_PAGES pages.
    assert endless.requests == 1 + backfill.MAX_PAGES


async def test_crawler_collection_reader_stops_at_pages_and_loops(
    instances: InstanceFactory, endless: Endless
) -> None:
    a = await instances("collectif", start=False)
    signer = await intake.signer_for(a.rt, (await a.organisation()).domain)
    fetcher = Fetcher(a.rt, HostRateLimiter(1000.0, 1000.0), signer)
    host = endless.base.split("://")[1].split(":")[0]
    items = await visit._items(fetcher, f"{endless.base}/following", host, 2000, 5)
    assert endless.requests == 1 + 5 and len(items) <= 2 * 5
    endless.requests = 0
    await visit._items(fetcher, f"{endless.base}/loop", host, 2000, 50)
    assert endless.requests == 2  # the page naming itself as next is not read again
