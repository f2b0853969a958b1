"""Outbound fetches: URLs we must never contact, and servers that misbehave.

Part one (rows F-1 …): with development mode off, the one client refuses each URL
before any connection (`check_url`), and the resolver refuses names whose answers are
not public. Part two (rows F-30 …): real hostile servers on loopback (development
mode lets us reach them); the actor fetch fails with a clear reason, in bounded
time, and nothing is stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from federation.actors import remote
from federation.clock import SystemClock
from federation.inbox import intake
from federation.settings import FetchSettings, ServerSettings, Settings
from federation.transport.client import FederationClient, FetchError
from federation.transport.resolver import BlockedAddress, SafeResolver
from tests.support import sinks
from tests.support.instance import Instance, make_instance
from tests.support.net import free_port, loopback_ip
from tests.support.snapshot import snapshot

REFUSED_URLS = [
    ("https://127.0.0.1/users/a", "private or loopback"),
    ("https://localhost/users/a", "private or loopback"),
    ("https://api.localhost/users/a", "private or loopback"),
    ("https://LOCALHOST./users/a", "private or loopback"),
    ("https://[::1]/users/a", "private or loopback"),
    ("https://10.1.2.3/users/a", "private or loopback"),
    ("https://172.16.5.4/users/a", "private or loopback"),
    ("https://192.168.0.1/users/a", "private or loopback"),
    ("https://169.254.169.254/latest/meta-data/", "private or loopback"),
    ("https://100.64.0.1/users/a", "private or loopback"),
    ("https://0.0.0.0/users/a", "private or loopback"),
    ("https://224.0.0.1/users/a", "private or loopback"),
    ("https://240.0.0.1/users/a", "private or loopback"),
    ("https://255.255.255.255/users/a", "private or loopback"),
    ("https://198.18.0.1/users/a", "private or loopback"),
    ("https://[fe80::1]/users/a", "private or loopback"),
    ("https://[fc00::1]/users/a", "private or loopback"),
    ("https://[::ffff:127.0.0.1]/users/a", "private or loopback"),
    ("https://[::ffff:10.0.0.1]/users/a", "private or loopback"),
    ("https://[::]/users/a", "private or loopback"),
    ("https://[ff02::1]/users/a", "private or loopback"),
    ("https://[2001:db8::1]/users/a", "private or loopback"),
    ("https://2130706433/users/a", "private or loopback"),
    ("https://0x7f000001/users/a", "private or loopback"),
    ("https://127.1/users/a", "private or loopback"),
    ("https://0177.0.0.1/users/a", "private or loopback"),
    ("https://user:secret@example.org/users/a", "credentials"),
    ("file:///etc/passwd", "not an http(s) URL"),
    ("gopher://example.org:70/_", "not an http(s) URL"),
    ("ftp://example.org/a", "not an http(s) URL"),
    ("https:///users/a", "not an http(s) URL"),
    ("http://example.org/users/a", "plain http"),
]


def strict_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, server=ServerSettings(dev=False))


@pytest.mark.parametrize(("url", "reason"), REFUSED_URLS, ids=[u for u, _ in REFUSED_URLS])
async def test_url_refused_before_any_connection(
    url: str, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real rule, not the test suite's loopback guard
    client = FederationClient(strict_settings(tmp_path), SystemClock())
    try:
        with pytest.raises(FetchError) as refused:
            await client.get_json(url, signer=None)
        assert reason in refused.value.reason
    finally:
        await client.close()


async def test_resolver_drops_non_public_answers() -> None:
    """A name that resolves to loopback (DNS rebinding's second answer) is refused."""
    with pytest.raises(BlockedAddress, match="private or reserved"):
        await SafeResolver(allow_private=False).resolve("localhost", 443)
    allowed = await SafeResolver(allow_private=True).resolve("localhost", 443)
    assert {answer["host"] for answer in allowed} & {"127.0.0.1", "::1"}


# -- hostile servers ------------------------------------------------------------


@dataclass
class Hostile:
    instance: Instance
    bases: dict[str, str]  # kind → base URL of a server of that kind
    extra: str  # base URL of the server with special routes


def _special_app() -> web.Application:
    async def to_file(request: web.Request) -> web.Response:
        raise web.HTTPFound("file:///etc/passwd")

    async def to_credentials(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://user:pw@{request.host}/deep")

    async def no_location(request: web.Request) -> web.Response:
        return web.Response(status=302)

    def json_text(text: str, content_type: str = "application/activity+json") -> web.Response:
        return web.Response(text=text, content_type=content_type)

    async def deep(request: web.Request) -> web.Response:
        return json_text("[" * 50_000 + "]" * 50_000)

    async def nan(request: web.Request) -> web.Response:
        return json_text('{"id": NaN}')

    async def array(request: web.Request) -> web.Response:
        return json_text("[1, 2]")

    async def html(request: web.Request) -> web.Response:
        return json_text("<html></html>", "text/html")

    async def other_id(request: web.Request) -> web.Response:
        url = f"http://{request.host}/somebody-else"
        return json_text(f'{{"id": "{url}", "type": "Person", "inbox": "{url}/inbox"}}')

    async def not_actor(request: web.Request) -> web.Response:
        url = f"http://{request.host}{request.path}"
        return json_text(f'{{"id": "{url}", "type": "Note"}}')

    async def declared_huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "application/activity+json"
        response.content_length = 10 * 1024 * 1024 * 1024
        await response.prepare(request)
        await response.write(b"{")
        return response

    async def gone(request: web.Request) -> web.Response:
        return web.json_response({}, status=410)

    app = web.Application()
    for path, handler in {
        "/to-file": to_file,
        "/to-credentials": to_credentials,
        "/no-location": no_location,
        "/deep": deep,
        "/nan": nan,
        "/array": array,
        "/html": html,
        "/other-id": other_id,
        "/not-actor": not_actor,
        "/declared-huge": declared_huge,
        "/gone": gone,
    }.items():
        app.router.add_get(path, handler)
    return app


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def hostile(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Hostile]:
    instance = await make_instance(
        tmp_path_factory.mktemp("fetches"),
        "collectif",
        start=False,
        fetch={"timeout_seconds": 1.5, "max_bytes": 256 * 1024},
    )
    runners: list[web.AppRunner] = []
    bases: dict[str, str] = {}
    for kind in sinks.KINDS:
        ip = loopback_ip()
        port = free_port(ip)
        runners.append(await sinks.serve(kind, port, [ip]))
        bases[kind] = f"http://{ip}:{port}"
    ip = loopback_ip()
    port = free_port(ip)
    special = web.AppRunner(_special_app(), access_log=None)
    await special.setup()
    await web.TCPSite(special, ip, port).start()
    runners.append(special)
    yield Hostile(instance, bases, f"http://{ip}:{port}")
    for runner in runners:
        await runner.cleanup()
    await instance.rt.close()


SERVER_CASES = [
    ("hang", "/users/a", "timed out"),
    ("reset", "/users/a", "connection reset"),
    ("slow", "/users/a", "timed out"),
    ("error", "/users/a", "HTTP 500"),
    ("redirect", "/users/a", "too many redirects"),
    ("huge", "/users/a", "larger than"),
    ("garbage", "/users/a", "not usable JSON"),
    ("extra", "/to-file", "not an http(s) URL"),
    ("extra", "/to-credentials", "credentials"),
    ("extra", "/no-location", "without Location"),
    ("extra", "/deep", "nested"),
    ("extra", "/nan", "NaN"),
    ("extra", "/array", "not a JSON object"),
    ("extra", "/html", "unexpected content type"),
    ("extra", "/other-id", "differs from its URL"),
    ("extra", "/not-actor", "not a usable actor"),
    ("extra", "/declared-huge", "too large"),
    ("extra", "/gone", "HTTP 410"),
]


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(
    ("kind", "path", "reason"), SERVER_CASES, ids=[f"{k}{p}" for k, p, _ in SERVER_CASES]
)
async def test_hostile_server_fetch_fails_clearly_and_stores_nothing(
    kind: str, path: str, reason: str, hostile: Hostile
) -> None:
    instance = hostile.instance
    base = hostile.extra if kind == "extra" else hostile.bases[kind]
    signer = await intake.signer_for(instance.rt, (await instance.organisation()).domain)
    before = await snapshot(instance)
    started = time.monotonic()
    with pytest.raises(FetchError) as failed:
        await remote.resolve(instance.rt, f"{base}{path}", signer)
    assert reason in failed.value.reason
    # Bounded: the fetch timeout (1.5 s) plus scheduling slack, whatever the server does.
    assert time.monotonic() - started < 6
    assert await snapshot(instance) == before


async def test_fetch_settings_are_what_the_cases_assume() -> None:
    # The defaults the table documents in THREAT_MODEL.md.
    defaults = FetchSettings()
    assert (defaults.max_bytes, defaults.max_redirects) == (1024 * 1024, 3)
    assert defaults.timeout_seconds == 10.0
    assert replace(defaults, max_redirects=0).max_redirects == 0
    await asyncio.sleep(0)
