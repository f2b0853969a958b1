"""The crawler's fetches: conditional GETs with the validators of the cached copy,
signed, and counted; and the directory as AS2 items and pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from federation.actors import local
from federation.network.directory import Entry, Filters, Voucher, collection, item, page
from federation.network.fetcher import Fetcher
from federation.network.politeness import HostRateLimiter
from federation.store.models import DirectoryMember, FetchCache
from federation.transport.client import FetchError
from tests.support.instance import Instance, make_instance
from tests.support.net import free_port, loopback_ip


class Server:
    """Serves /doc with an ETag, /dated with Last-Modified only, /plain with neither."""

    def __init__(self) -> None:
        self.version = 1
        self.seen: list[dict[str, str]] = []

    async def doc(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        etag = f'"v{self.version}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.json_response(
            {"id": str(request.url), "v": self.version},
            content_type="application/activity+json",
            headers={"ETag": etag},
        )

    async def dated(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        stamp = "Sat, 28 Nov 2026 12:00:00 GMT"
        if request.headers.get("If-Modified-Since") == stamp:
            return web.Response(status=304)
        return web.json_response(
            {"v": self.version},
            content_type="application/activity+json",
            headers={"Last-Modified": stamp},
        )

    async def plain(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        return web.json_response({"v": self.version}, content_type="application/activity+json")


async def gone(_request: web.Request) -> web.Response:
    return web.Response(status=410)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Server, str]]:
    server = Server()
    app = web.Application()
    app.add_routes(
        [
            web.get("/doc", server.doc),
            web.get("/dated", server.dated),
            web.get("/plain", server.plain),
            web.get("/gone", gone),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    ip = loopback_ip()
    port = free_port(ip)
    await web.TCPSite(runner, ip, port).start()
    try:
        yield server, f"http://{ip}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def instance(tmp_path: Path) -> AsyncIterator[Instance]:
    made = await make_instance(tmp_path, "collectif", start=False)
    try:
        yield made
    finally:
        await made.rt.close()


async def fetcher(instance: Instance) -> Fetcher:
    async with instance.rt.sessions() as session:
        org = (await local.organisations(session))[0]
        app_actor = await local.application_of(session, org.domain)
    assert app_actor is not None
    return Fetcher(instance.rt, HostRateLimiter(1000.0), local.signer_of(app_actor))


async def test_conditional_gets_reuse_the_cached_copy(
    served: tuple[Server, str], instance: Instance
) -> None:
    server, base = served
    fetch = await fetcher(instance)
    first = await fetch.get(f"{base}/doc")
    assert first["v"] == 1
    assert "If-None-Match" not in server.seen[-1]
    assert "Signature" in server.seen[-1]  # signed by our application actor
    assert await fetch.get(f"{base}/doc") == first
    assert server.seen[-1]["If-None-Match"] == '"v1"'
    server.version = 2
    assert (await fetch.get(f"{base}/doc"))["v"] == 2
    assert (await fetch.get(f"{base}/dated"))["v"] == 2
    assert (await fetch.get(f"{base}/dated"))["v"] == 2
    assert server.seen[-1]["If-Modified-Since"] == "Sat, 28 Nov 2026 12:00:00 GMT"
    await fetch.get(f"{base}/plain")
    await fetch.get(f"{base}/plain")
    async with instance.rt.sessions() as session:
        kept = set((await session.execute(select(FetchCache.url))).scalars())
    assert kept == {f"{base}/doc", f"{base}/dated"}  # nothing to validate /plain with
    assert "If-None-Match" not in server.seen[-1]
    assert "If-Modified-Since" not in server.seen[-1]
    assert (fetch.counters.requests, fetch.counters.not_modified) == (7, 2)
    with pytest.raises(FetchError) as caught:
        await fetch.get(f"{base}/gone")
    assert caught.value.gone


def member(uri: str, name: str, **extra: object) -> DirectoryMember:
    values: dict[str, object] = {
        "uri": uri,
        "host": "a.example",
        "local": False,
        "actor_type": "Organization",
        "name": name,
        "handle": f"{name}@a.example",
        "summary": "",
        "icon_url": None,
        "url": None,
        "territory": None,
        "charter_version": "2023-09-14",
        "charter_hash": "ab" * 32,
        "commitments": [{"number": 5, "progress": "achieved"}],
        "practices": 3,
        "directory_url": None,
        "depth": 1,
        "first_seen_at": datetime(2026, 11, 1, tzinfo=UTC),
        "last_seen_at": datetime(2026, 11, 28, 13, 5, tzinfo=UTC),
        "checked_at": datetime(2026, 11, 28, 13, 5, tzinfo=UTC),
        "stale_since": None,
        "last_error": None,
    }
    values.update(extra)
    return DirectoryMember(**values)


def test_filters_by_commitment_progress_and_territory() -> None:
    lyon = member("https://a.example/u/l", "l", territory="Lyon")
    other = member(
        "https://a.example/u/o", "o", commitments=[{"number": 6, "progress": "to-start"}]
    )
    assert Filters().matches(lyon) and Filters().matches(other)
    assert Filters(territory="lyon").matches(lyon) and not Filters(territory="Lyon").matches(other)
    assert Filters(commitment=5).matches(lyon) and not Filters(commitment=5).matches(other)
    assert Filters(commitment=5, progress="achieved").matches(lyon)
    assert not Filters(commitment=5, progress="to-start").matches(lyon)
    assert Filters(progress="to-start").matches(other) and not Filters(progress="to-start").matches(
        lyon
    )


def test_items_and_pages_of_the_as2_collection() -> None:
    voucher = Voucher("https://b.example/u/b", "B", None)
    fresh = item(Entry(member("https://a.example/u/a", "a"), (voucher,)))
    assert fresh == {
        "id": "https://a.example/u/a",
        "type": "Organization",
        "name": "a",
        "webfinger": "a@a.example",
        "charterVersion": "2023-09-14",
        "charterHash": "sha256:" + "ab" * 32,
        "commitments": [{"number": 5, "progress": "achieved"}],
        "practiceCount": 3,
        "lastSeen": "2026-11-28",
        "vouchedBy": ["https://b.example/u/b"],
    }
    stale = item(
        Entry(
            member("https://a.example/u/s", "s", stale_since=datetime.now(UTC), practices=None), ()
        )
    )
    assert stale["stale"] is True and "practiceCount" not in stale
    whole = collection("https://a.example/u/a/directory", "https://a.example/u/a", 41)
    assert whole["last"].endswith("?page=3") and whole["attributedTo"] == "https://a.example/u/a"
    second = page("https://a.example/u/a/directory", 2, [fresh], 41)
    assert second["next"].endswith("?page=3") and second["prev"].endswith("?page=1")
    assert "https://purl.archive.org/socialweb/webfinger" in second["@context"]
    assert second["@context"][-1]["vouchedBy"]["@container"] == "@set"
