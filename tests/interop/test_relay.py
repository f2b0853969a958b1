"""Déclics against activityrelay 0.3.5 (the LitePub relay many Mastodon servers use),
on loopback over https: two members' domains subscribe, the relay accepts and follows
each back, one member publishes a practice, and it reaches the other's library through
the relay's `Announce`. The relay side is tests/interop/relay/relay_peer.py, run in
activityrelay's own venv (`scripts/interop-setup relay`).

activityrelay names itself `https://<domain>/actor` and fetches NodeInfo from
`https://<host of the subscriber's actor>/` (port 443, whatever port the actor id has), so
both ends serve https here, the Déclics instances on port 443, with a throwaway CA
(tests/interop/tls.py): the relay trusts it through `SSL_CERT_FILE`, this process through
aiohttp's default verified context, replaced for the test.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.connector
import pytest
from aiohttp import web
from sqlalchemy import select

from federation import cli
from federation.actors import follows
from federation.app import create_app
from federation.inbox.states import InboxState
from federation.outbox import relays
from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import LibraryItem
from tests.e2e.test_practices import practice_file
from tests.e2e.test_practices import publish as publish_practice
from tests.interop import python_peers
from tests.interop.tls import Certificates, make_certificates
from tests.support.instance import Instance
from tests.support.net import free_port, loopback_ip
from tests.support.queries import inbox_items
from tests.support.wait import until

pytestmark = pytest.mark.interop

START_TIMEOUT = 30.0
HTTPS_PORT = 443
AS_JSON = {"Accept": "application/activity+json"}


@pytest.fixture
def certificates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Certificates:
    """The test CA, trusted by this process's aiohttp clients (Déclics' included) for the
    duration of the test."""
    made = make_certificates(tmp_path / "tls")
    if not hasattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED"):
        pytest.fail("aiohttp.connector._SSL_CONTEXT_VERIFIED is gone: trust the CA another way")
    monkeypatch.setattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", made.client_context())
    return made


@dataclass
class Relay:
    base_url: str
    process: asyncio.subprocess.Process
    output_path: Path
    tls: ssl.SSLContext

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def inbox(self) -> str:
        return f"{self.base_url}/inbox"

    def output(self) -> str:
        return python_peers.tail(self.output_path, 60)

    async def get(self, path: str) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{self.base_url}{path}", headers=AS_JSON, ssl=self.tls) as response,
        ):
            return response.status, await response.json(content_type=None)

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        try:
            await until(check, what=what)
        except AssertionError as err:
            raise AssertionError(f"{err}\nactivityrelay output:\n{self.output()}") from None


@pytest.fixture
async def relay(
    pytestconfig: pytest.Config, tmp_path: Path, certificates: Certificates
) -> AsyncIterator[Relay]:
    """A started activityrelay over https; stopped with its worker at teardown."""
    python = python_peers.python_of(pytestconfig, "relay")
    ip = loopback_ip()
    port = free_port(ip)
    data_dir = tmp_path / "relay"
    data_dir.mkdir()
    output_path = tmp_path / f"relay-{ip}-{port}.log"
    process = await python_peers.start(
        python,
        python_peers.program("relay", "relay_peer.py"),
        [
            *("--host", ip, "--port", str(port), "--data-dir", str(data_dir)),
            *("--cert", str(certificates.cert), "--key", str(certificates.key)),
        ],
        cwd=data_dir,
        output_path=output_path,
        env={"SSL_CERT_FILE": str(certificates.ca)},
    )
    peer = Relay(f"https://{ip}:{port}", process, output_path, certificates.client_context())

    async def ready() -> bool:
        if process.returncode is not None:
            raise AssertionError(f"activityrelay exited ({process.returncode}):\n{peer.output()}")
        try:
            status, _ = await peer.get("/actor")
        except (aiohttp.ClientConnectionError, OSError):
            return False
        return status == 200

    try:
        await until(ready, timeout=START_TIMEOUT, what="activityrelay to listen")
        yield peer
    finally:
        await python_peers.stop(process)


def https_address() -> str:
    """A 127.0.0.x whose port 443 is free (other test sessions may hold some)."""
    for _attempt in range(20):
        ip = loopback_ip()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((ip, HTTPS_PORT))
        except PermissionError:
            pytest.skip(
                "activityrelay fetches NodeInfo from https://<host>/ (port 443 whatever the "
                "actor id says): serving 127.0.0.x:443 needs root or CAP_NET_BIND_SERVICE"
            )
        except OSError:
            continue
        return ip
    raise AssertionError("no 127.0.0.x with a free port 443")


@pytest.fixture
async def https_instances(tmp_path: Path, certificates: Certificates) -> AsyncIterator[Any]:
    """Déclics instances served over https on port 443, each on its own 127.0.0.x
    (`--dev`, so loopback peers are allowed)."""
    made: list[Instance] = []

    async def factory(username: str) -> Instance:
        ip, port = https_address(), HTTPS_PORT
        base_url = f"https://{ip}"
        data_dir = tmp_path / f"{username}-{ip}"
        argv = [
            *("init", "--data-dir", str(data_dir), "--base-url", base_url),
            *("--username", username, "--name", f"Organisation {username}"),
            *("--dev", "--port", str(port)),
        ]
        assert await asyncio.to_thread(cli.main, argv) == 0
        settings = load_settings(data_dir)
        settings = dataclasses.replace(
            settings, delivery=dataclasses.replace(settings.delivery, poll_interval_seconds=0.05)
        )
        instance = Instance(data_dir, settings, base_url, username, build_runtime(settings))
        made.append(instance)
        instance.runner = web.AppRunner(create_app(instance.rt), access_log=None)
        await instance.runner.setup()
        site = web.TCPSite(instance.runner, ip, port, ssl_context=certificates.server_context())
        await site.start()
        return instance

    yield factory
    for instance in made:
        await asyncio.wait_for(instance.stop(), 10)


async def subscribe(instance: Instance, relay: Relay) -> None:
    """What `declics relay subscribe <relay inbox>` does, then wait for the Accept."""
    org = await instance.organisation()
    found = await relays.resolve(instance.rt, org.domain, relay.inbox)
    assert found.uri == relay.actor_id
    assert found.actor_type == "Application"
    async with instance.rt.sessions.begin() as session:
        app_actor = await relays.application(session, org.domain)
        await relays.subscribe(session, app_actor, found, instance.rt.clock.now())
    instance.rt.delivery_wakeup.set()

    async def accepted() -> bool:
        async with instance.rt.sessions() as session:
            rows = await relays.subscriptions(session, app_actor)
        return [(row.state, actor.uri) for row, actor in rows] == [
            (follows.ACCEPTED, relay.actor_id)
        ]

    await relay.until(accepted, f"activityrelay to accept {instance.base_url}")

    # activityrelay follows the application actor back (Déclics is not Mastodon): accepted.
    async def followed_back() -> bool:
        async with instance.rt.sessions() as session:
            rows = await follows.followers(session, app_actor.id)
        return [actor.uri for _row, actor in rows] == [relay.actor_id]

    await relay.until(followed_back, f"the relay's follow of {instance.base_url}/actor")


async def test_practice_reaches_another_member_through_activityrelay(
    https_instances: Any, relay: Relay
) -> None:
    a = await https_instances("collectif")
    b = await https_instances("atelier")
    await subscribe(a, relay)
    await subscribe(b, relay)

    # The relay lists both domains' application actors as subscribers.
    status, collection = await relay.get("/followers")
    assert status == 200
    assert set(collection["items"]) == {f"{a.base_url}/actor", f"{b.base_url}/actor"}

    # A publishes a practice: its Create goes to A's followers (none) and to the relay.
    practice = await publish_practice(a, practice_file("Mutualiser un local"))

    async def in_library() -> bool:
        async with b.rt.sessions() as session:
            item = (
                await session.execute(select(LibraryItem).where(LibraryItem.uri == practice))
            ).scalar_one_or_none()
        return item is not None

    await relay.until(in_library, "the practice to reach B's library through the relay")
    async with b.rt.sessions() as session:
        item = (
            await session.execute(select(LibraryItem).where(LibraryItem.uri == practice))
        ).scalar_one()
    assert item.actor_uri == a.actor_id
    assert item.kind == "practice" and item.title == "Mutualiser un local"
    assert item.licence == "CC-BY-SA-4.0"

    # It came as the relay's Announce of the practice's id, processed by B.
    [announce] = await inbox_items(b, "Announce")
    assert announce.actor_uri == relay.actor_id
    assert announce.payload["object"] == practice
    assert announce.state == InboxState.PROCESSED.value, announce.last_error
    # The relay does not send A's own activity back to A.
    assert await inbox_items(a, "Announce") == []
