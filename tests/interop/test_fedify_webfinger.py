"""Fedify 2.3.6 follows a Déclics member by its `acct:` handle, over https.

Fedify only looks `acct:` handles up over https on the bare domain (port 443), so the Déclics
instance here has the base URL `https://<name>.test`: it listens with TLS on 127.0.0.x:443
(certificate for `<name>.test` from a throwaway CA, tests/interop/tls.py), `/etc/hosts`
maps `<name>.test` to that address for the duration of the test (restored at teardown), and
Node trusts the CA through `NODE_EXTRA_CA_CERTS`. Fedify then does WebFinger, fetches the
actor, sends the Follow and gets the Accept.

tests/interop/fedify/peer.mjs refuses every fetch whose host is not a 127.x address,
`localhost`, or a name listed in `PEER_LOOPBACK_NAMES`: this test lists only the name it
has itself mapped to 127.0.0.x, so Fedify still only reaches loopback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from sqlalchemy import select

from federation import cli
from federation.app import create_app
from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import InboxItem
from tests.interop.conftest import FedifyPeer, FedifyPeerFactory
from tests.interop.tls import Certificates, make_certificates
from tests.support.instance import Instance
from tests.support.net import loopback_ip
from tests.support.queries import follower_uris, id_of

pytestmark = pytest.mark.interop

HOSTS = Path("/etc/hosts")
HTTPS_PORT = 443


@dataclasses.dataclass(frozen=True)
class Site:
    """Where the Déclics instance is served: `https://{name}` on `{ip}:443`."""

    ip: str
    name: str


def https_address() -> str:
    """A 127.0.0.x whose port 443 can be bound (other test sessions may hold some)."""
    errors: list[str] = []
    for _attempt in range(20):
        ip = loopback_ip()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((ip, HTTPS_PORT))
        except PermissionError as err:
            pytest.skip(
                f"cannot bind {ip}:{HTTPS_PORT} ({err}): Fedify looks acct: handles up over "
                "https on port 443; binding it needs root or CAP_NET_BIND_SERVICE"
            )
        except OSError as err:
            errors.append(f"{ip}: {err}")
            continue
        return ip
    pytest.skip(f"cannot bind port {HTTPS_PORT} on any of 20 127.0.0.x addresses: {errors}")


@pytest.fixture
def site() -> Iterator[Site]:
    """`127.0.0.x <name>.test` in /etc/hosts for the duration of the test; the file is
    written back byte for byte at teardown, whatever the outcome."""
    ip = https_address()
    site = Site(ip, f"declics-{os.getpid()}-{ip.rsplit('.', 1)[1]}.test")
    try:
        with HOSTS.open("r+b") as hosts:
            # Held until closed: test sessions running side by side edit it one at a time.
            fcntl.flock(hosts, fcntl.LOCK_EX)
            original = hosts.read()
            separator = b"" if original.endswith(b"\n") or not original else b"\n"
            line = f"{ip} {site.name}\n".encode()
            hosts.write(separator + line)
    except OSError as err:
        pytest.skip(
            f"cannot write {HOSTS} ({err}): Fedify resolves the `.test` name of the "
            "Déclics instance through it (the tests run as root on the machine and in CI)"
        )
    try:
        yield site
    finally:
        with HOSTS.open("r+b") as hosts:
            fcntl.flock(hosts, fcntl.LOCK_EX)
            current = hosts.read()
            if current == original + separator + line:
                restored = original
            else:  # someone else edited the file meanwhile: take back only our line
                restored = current.replace(separator + line, b"", 1)
            hosts.seek(0)
            hosts.write(restored)
            hosts.truncate()


@pytest.fixture
def certificates(tmp_path: Path, site: Site) -> Certificates:
    return make_certificates(tmp_path / "tls", dns_names=[site.name])


@pytest.fixture
async def instance(
    tmp_path: Path, site: Site, certificates: Certificates
) -> AsyncIterator[Instance]:
    """A Déclics instance with base URL `https://<name>.test`, served with TLS on
    127.0.0.x:443 (`--dev`, so it may reach the Fedify peer on loopback over http)."""
    base_url = f"https://{site.name}"
    data_dir = tmp_path / "collectif"
    argv = [
        *("init", "--data-dir", str(data_dir), "--base-url", base_url),
        *("--username", "collectif", "--name", "Organisation collectif"),
        *("--dev", "--port", str(HTTPS_PORT)),
    ]
    assert await asyncio.to_thread(cli.main, argv) == 0
    settings = load_settings(data_dir)
    settings = dataclasses.replace(
        settings, delivery=dataclasses.replace(settings.delivery, poll_interval_seconds=0.05)
    )
    made = Instance(data_dir, settings, base_url, "collectif", build_runtime(settings))
    made.runner = web.AppRunner(create_app(made.rt), access_log=None)
    try:
        await made.runner.setup()
        tls = certificates.server_context()
        await web.TCPSite(made.runner, site.ip, HTTPS_PORT, ssl_context=tls).start()
        yield made
    finally:
        await asyncio.wait_for(made.stop(), 10)


async def follow_items(instance: Instance) -> list[InboxItem]:
    async with instance.rt.sessions() as session:
        rows = await session.execute(select(InboxItem).where(InboxItem.activity_type == "Follow"))
        return list(rows.scalars())


async def test_fedify_follows_member_by_acct_handle_over_https(
    site: Site,
    certificates: Certificates,
    instance: Instance,
    fedify_peers: FedifyPeerFactory,
) -> None:
    peer: FedifyPeer = await fedify_peers(
        "alice",
        env={"NODE_EXTRA_CA_CERTS": str(certificates.ca), "PEER_LOOPBACK_NAMES": site.name},
    )
    handle = f"collectif@{site.name}"
    assert instance.handle == handle

    # Fedify looks the handle up (WebFinger over https), fetches the actor and follows.
    follow_id = await peer.follow(f"acct:{handle}")

    async def accepted() -> bool:
        return any(id_of(a.get("object")) == follow_id for a in await peer.received("Accept"))

    await peer.until(accepted, "Déclics' Accept to reach Fedify")
    assert await follower_uris(instance) == {peer.actor_id}
    [follow] = await follow_items(instance)
    assert follow.activity_uri == follow_id
    assert follow.actor_uri == peer.actor_id
    [accept] = [a for a in await peer.received("Accept") if id_of(a["object"]) == follow_id]
    assert accept["actor"] == instance.actor_id

    # What Fedify asked of https://<name>.test, in order: WebFinger on the bare domain, the
    # actor it names, then the Follow to the member's inbox (all answered without error).
    to_us: list[dict[str, Any]] = []

    async def answered() -> bool:
        nonlocal to_us
        requests = (await peer.log())["requests"]
        to_us = [r for r in requests if urlsplit(r["url"]).hostname == site.name]
        return all(r["status"] is not None for r in to_us)

    await peer.until(answered, "Fedify to get the answers to its requests")
    assert {urlsplit(r["url"]).netloc for r in to_us} == {site.name}, to_us
    assert {urlsplit(r["url"]).scheme for r in to_us} == {"https"}, to_us
    webfinger = to_us[0]
    parts = urlsplit(webfinger["url"])
    assert (webfinger["method"], parts.path) == ("GET", "/.well-known/webfinger"), to_us
    assert parse_qs(parts.query)["resource"] == [f"acct:{handle}"]
    assert webfinger["status"] == 200, to_us
    assert ("GET", instance.actor_id, 200) in [(r["method"], r["url"], r["status"]) for r in to_us]
    posts = [(r["url"], r["status"]) for r in to_us if r["method"] == "POST"]
    assert posts == [(f"{instance.actor_id}/inbox", 202)], to_us

    errors = (await peer.log())["errors"]
    assert errors == [], f"Fedify logged problems: {errors}\n{peer.output()}"
