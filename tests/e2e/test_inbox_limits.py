"""Inbox limits over real HTTP: rates (429), load (503), blocks, membership, database.

Each refusal carries its reason (and Retry-After where the sender should come back),
and nothing is stored or changed by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from federation.actors import trust
from federation.store.models import InboxItem
from tests.conftest import InstanceFactory, PeerFactory
from tests.support.instance import Instance
from tests.support.peer import Peer
from tests.support.snapshot import snapshot
from tests.support.wait import until

AS = "https://www.w3.org/ns/activitystreams"


def follow(peer: Peer, target: str, name: str = "alice") -> dict[str, Any]:
    return {
        "@context": AS,
        "id": peer.new_id(name),
        "type": "Follow",
        "actor": peer.actor_id(name),
        "object": target,
    }


async def post(peer: Peer, url: str, doc: dict[str, Any], name: str = "alice") -> tuple[int, Any]:
    body = json.dumps(doc).encode()
    headers = peer.signed_headers(name, url, body)
    async with peer.session.post(url, data=body, headers=headers) as response:
        answer = await response.json(content_type=None)
        return response.status, (answer, response.headers.get("Retry-After"))


async def quiet(instances: InstanceFactory, **overrides: Any) -> Instance:
    """An instance whose workers do not run: what it accepts stays as it was stored."""
    instance = await instances("collectif", start=False, **overrides)
    await instance.start(run_workers=False)
    return instance


async def accepted(peer: Peer) -> bool:
    return bool(peer.inbox_of("Accept"))


def without(snap: dict[str, int], *names: str) -> dict[str, int]:
    return {k: v for k, v in snap.items() if k not in {f"actor {n}" for n in names}}


async def test_per_actor_rate_answers_429_with_retry_after(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await quiet(instances, inbox={"per_actor_burst": 2, "per_actor_per_second": 0.05})
    peer = await peers(["alice", "bob"])
    url = f"{a.actor_id}/inbox"
    for _ in range(2):
        assert (await post(peer, url, follow(peer, a.actor_id)))[0] == 202
    before = await snapshot(a)
    status, (answer, retry_after) = await post(peer, url, follow(peer, a.actor_id))
    assert status == 429, answer
    assert "this actor" in answer["error"]
    assert retry_after is not None and 1 <= int(retry_after) <= 20
    assert await snapshot(a) == before
    # Another actor of the same host still gets through: the limit is per actor.
    assert (await post(peer, url, follow(peer, a.actor_id, "bob"), "bob"))[0] == 202


async def test_per_host_rate_counts_every_actor_of_a_host(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await quiet(instances, inbox={"per_host_burst": 2, "per_host_per_second": 0.05})
    peer = await peers(["alice", "bob", "carol"])
    url = f"{a.actor_id}/inbox"
    assert (await post(peer, url, follow(peer, a.actor_id, "alice"), "alice"))[0] == 202
    assert (await post(peer, url, follow(peer, a.actor_id, "bob"), "bob"))[0] == 202
    before = await snapshot(a)
    status, (answer, retry_after) = await post(
        peer, url, follow(peer, a.actor_id, "carol"), "carol"
    )
    assert status == 429, answer
    assert peer.host.split(":")[0] in answer["error"]
    assert retry_after is not None
    assert without(await snapshot(a), peer.actor_id("carol")) == before


async def test_per_address_rate_refuses_before_reading(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", inbox={"per_address_burst": 3, "per_address_per_second": 0.05})
    peer = await peers(["alice"])
    url = f"{a.actor_id}/inbox"
    before = await snapshot(a)
    statuses, retry_after = [], None
    for _ in range(6):
        # Unsigned junk: it would be 400 or 401, but the address is out of budget first.
        async with peer.session.post(url, data=b"junk") as response:
            statuses.append(response.status)
            retry_after = response.headers.get("Retry-After")
    assert statuses[:3] == [400, 400, 400] and statuses[3:] == [429, 429, 429]
    assert retry_after is not None
    assert await snapshot(a) == before


async def test_backlog_full_answers_503_and_resumes(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    # No workers run: what is received stays waiting, as on an overloaded server.
    a = await quiet(instances, inbox={"max_backlog": 2})
    peer = await peers(["alice"])
    url = f"{a.actor_id}/inbox"
    for _ in range(2):
        assert (await post(peer, url, follow(peer, a.actor_id)))[0] == 202
    await asyncio.sleep(1.1)  # the backlog count is read at most once a second
    before = await snapshot(a)
    status, (answer, retry_after) = await post(peer, url, follow(peer, a.actor_id))
    assert status == 503, answer
    assert "wait to be processed" in answer["error"]
    assert retry_after == "5"
    assert await snapshot(a) == before


async def test_blocked_domain_refused_before_any_fetch(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        await trust.add(session, org.id, trust.DOMAIN, peer.host.split(":")[0], a.rt.clock.now())
    before = await snapshot(a)
    status, (answer, _) = await post(peer, f"{a.actor_id}/inbox", follow(peer, a.actor_id))
    assert status == 403, answer
    assert "blocked" in answer["error"]
    assert await snapshot(a) == before  # not even the actor was fetched


async def test_members_only_refuses_a_non_member_create(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", trust={"members_only": True})
    peer = await peers(["alice"])
    note = {
        "@context": AS,
        "id": peer.new_id("alice"),
        "type": "Create",
        "actor": peer.actor_id("alice"),
        "object": {
            "id": f"{peer.base}/notes/1",
            "type": "Note",
            "attributedTo": peer.actor_id("alice"),
            "content": "hello",
        },
    }
    before = await snapshot(a)
    status, (answer, _) = await post(peer, f"{a.actor_id}/inbox", note)
    assert status == 403, answer
    assert "members" in answer["error"]
    assert without(await snapshot(a), peer.actor_id("alice")) == before


async def test_unknown_inbox_and_wrong_method(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    before = await snapshot(a)
    status, (answer, _) = await post(peer, f"{a.base_url}/users/nobody/inbox", follow(peer, "x"))
    assert status == 404, answer
    async with aiohttp.ClientSession() as http, http.get(f"{a.actor_id}/inbox") as response:
        assert response.status == 405
    assert await snapshot(a) == before


@contextlib.asynccontextmanager
async def database_locked(instance: Instance) -> AsyncIterator[None]:
    """Another process's write transaction, held: SQLite answers "database is locked"
    after its busy timeout, PostgreSQL refuses the inbox's insert after its
    `lock_timeout` (the same setting)."""
    url = instance.settings.database_url
    if url.startswith("sqlite"):
        holder = sqlite3.connect(url.split("///", 1)[1], isolation_level=None, timeout=1)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE local_actors SET name = name")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(False)
    )
    transaction = connection.transaction()
    await transaction.start()
    # Reads go on (ACCESS SHARE), every write to the table waits.
    await connection.execute("LOCK TABLE inbox_items IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        await transaction.rollback()
        await connection.close()


async def test_database_locked_answers_503_then_work_resumes(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", database={"busy_timeout_ms": 200})
    peer = await peers(["alice"])
    url = f"{a.actor_id}/inbox"
    before = await snapshot(a)
    async with database_locked(a):
        status, (answer, retry_after) = await post(peer, url, follow(peer, a.actor_id))
    assert status == 503, answer
    assert "database is unavailable" in answer["error"]
    assert retry_after is not None
    assert without(await snapshot(a), peer.actor_id("alice")) == before
    # The sender retries: it is taken, processed and answered.
    assert (await post(peer, url, follow(peer, a.actor_id)))[0] == 202
    await until(lambda: accepted(peer), what="the Accept after the lock")


@pytest.mark.sqlite_only("fills SQLite's file with max_page_count")
async def test_disk_full_is_a_clear_503_and_nothing_is_corrupted(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    """SQLite reports a full disk as SQLITE_FULL; max_page_count makes it so at once."""
    a = await instances("collectif")
    peer = await peers(["alice"])
    url = f"{a.actor_id}/inbox"
    assert (await post(peer, url, follow(peer, a.actor_id)))[0] == 202
    await until(lambda: accepted(peer), what="a first follower")
    before = await snapshot(a)
    await a.rt.engine.dispose()  # new connections get the page cap

    def cap(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    event.listen(a.rt.engine.sync_engine, "connect", cap)
    try:
        doc = follow(peer, a.actor_id)
        doc["padding"] = "x" * 200_000  # needs new pages
        status, (answer, retry_after) = await post(peer, url, doc)
    finally:
        event.remove(a.rt.engine.sync_engine, "connect", cap)
        await a.rt.engine.dispose()
    assert status == 503, answer
    assert "disk is full" in answer["error"]
    assert retry_after is not None
    assert await snapshot(a) == before
    path = a.settings.database_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # Space again: the same kind of request is taken.
    assert (await post(peer, url, follow(peer, a.actor_id)))[0] == 202
    async with a.rt.sessions() as session:
        assert await session.get(InboxItem, 1) is not None


async def _statuses(peer: Any, url: str, forwarded_for: list[str]) -> list[int]:
    statuses = []
    for hops in forwarded_for:
        async with peer.session.post(
            url, data=b"junk", headers={"X-Forwarded-For": hops}
        ) as response:
            statuses.append(response.status)
    return statuses


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    # The test client connects from loopback, a trusted proxy by default.
    a = await instances("collectif", inbox={"per_address_burst": 3, "per_address_per_second": 0.05})
    peer = await peers(["alice"])
    url = f"{a.actor_id}/inbox"
    flooder = ["203.0.113.5"] * 3 + ["198.51.100.7, 203.0.113.5"]
    # The forged left part of the last chain is not believed: still the flooder.
    assert await _statuses(peer, url, flooder) == [400, 400, 400, 429]
    # Another client behind the same proxy is not locked out by the flooder.
    assert await _statuses(peer, url, ["203.0.113.6"]) == [400]


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances(
        "collectif",
        inbox={"per_address_burst": 3, "per_address_per_second": 0.05},
        server={"trusted_proxies": ("192.0.2.1",)},
    )
    peer = await peers(["alice"])
    url = f"{a.actor_id}/inbox"
    # Inventing a new client address per request buys nothing: the peer's own counts.
    forged = [f"203.0.113.{n}" for n in range(1, 6)]
    assert await _statuses(peer, url, forged) == [400, 400, 400, 429, 429]
