"""PostgreSQL crashes under a running instance and comes back: requests answer 503 with
a reason and Retry-After meanwhile, the workers wait it out, and afterwards the peer's
retried activities are processed, the queued deliveries go out exactly once to each
inbox, and nothing stored before the crash is lost.

The instance runs on a private cluster that the test starts (`tests/support/pgcluster.py`)
and crashes with `pg_ctl stop -m immediate`; the shared test server is never touched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select, update

from federation import served
from federation.content import practices
from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import (
    Delivery,
    Follower,
    InboxItem,
    Interaction,
    LocalObject,
    OutboxActivity,
)
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by
from tests.e2e.test_federation import follow, follower_uris
from tests.support import pgcluster
from tests.support.instance import Instance, init_instance
from tests.support.peer import Peer
from tests.support.wait import until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.own_database("crashes a PostgreSQL cluster of its own"),
    pytest.mark.skipif(
        pgcluster.unavailable_reason() is not None,
        reason=str(pgcluster.unavailable_reason()),
    ),
    pytest.mark.timeout(120),
]

AS = "https://www.w3.org/ns/activitystreams"
AS2 = "application/activity+json"
# No request may take longer than this while the database is down.
ANSWER_BOUND_SECONDS = 10.0
PRACTICE = """---
title: Panne de base
themes: [2]
---
Publiée juste avant la panne.
"""


@pytest.fixture
async def cluster() -> AsyncIterator[pgcluster.Cluster]:
    made = await asyncio.to_thread(pgcluster.make_cluster)
    try:
        yield made
    finally:
        await asyncio.to_thread(made.remove)


async def instance_on(tmp_path: Path, url: str) -> Instance:
    data_dir, base_url = await asyncio.to_thread(
        init_instance, tmp_path, "collectif", extra=["--database-url", url]
    )
    # Polling rather than a wake-up finds the queued deliveries: as after a restart.
    settings = load_settings(data_dir)
    instance = Instance(data_dir, settings, base_url, "collectif", build_runtime(settings))
    await instance.start()
    return instance


async def counts(instance: Instance) -> dict[str, int]:
    async with instance.rt.sessions() as session:
        return {
            model.__tablename__: (
                await session.execute(select(func.count()).select_from(model))
            ).scalar_one()
            for model in (LocalObject, OutboxActivity, Follower, InboxItem)
        }


def interactions_of(peer: Peer, target: str) -> list[dict[str, Any]]:
    return [
        {
            "@context": AS,
            "id": f"{peer.actor_id('alice')}#likes/outage",
            "type": "Like",
            "actor": peer.actor_id("alice"),
            "object": target,
        },
        {
            "@context": AS,
            "id": f"{peer.base}/notes/outage/activity",
            "type": "Create",
            "actor": peer.actor_id("alice"),
            "to": [f"{AS}#Public"],
            "object": {
                "id": f"{peer.base}/notes/outage",
                "type": "Note",
                "attributedTo": peer.actor_id("alice"),
                "inReplyTo": target,
                "content": "<p>Écrit pendant la panne</p>",
                "to": [f"{AS}#Public"],
            },
        },
    ]


async def timed_get(
    http: aiohttp.ClientSession, url: str, accept: str
) -> tuple[int, str, str | None, float]:
    started = time.monotonic()
    async with http.get(url, headers={"Accept": accept}) as response:
        body = await response.text()
        return (
            response.status,
            body,
            response.headers.get("Retry-After"),
            (time.monotonic() - started),
        )


def at_peer(peer: Peer) -> list[str]:
    """The ids of the activities the peer accepted, in order (repeats kept)."""
    return [str(r.activity.get("id")) for r in peer.received]


def workers_alive() -> list[str]:
    """The names of the worker loops still running in this event loop."""
    names = []
    for task in asyncio.all_tasks():
        name = getattr(task.get_coro(), "__qualname__", "")
        if name.endswith("run_forever") and not task.done():
            names.append(name)
    return sorted(names)


async def test_postgres_crash_and_restart_loses_nothing(
    tmp_path: Path,
    cluster: pgcluster.Cluster,
    instances: InstanceFactory,
    peers: PeerFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    a = await instance_on(tmp_path, cluster.url)
    try:
        # A second Déclics instance, on its own database, counting what reaches its inbox.
        b = await instances("voisin", start=False)
        at_b: list[str] = []

        async def count_at_b(request: web.Request, response: web.StreamResponse) -> None:
            if request.method == "POST" and response.status == 202:
                at_b.append(str(json.loads(await request.read()).get("id")))

        await b.start(on_response=count_at_b)
        peer = await peers(["alice"])
        await followed_by(a, peer)
        await follow(b, a.handle)

        async def b_follows() -> bool:
            return b.actor_id in await follower_uris(a)

        await until(b_follows, what="b following a")
        workers = workers_alive()
        assert sum("Worker.run_forever" in n or "Processor.run_forever" in n for n in workers)

        # A first practice is on its way to the peer when the server crashes: the peer
        # answers late, so the worker can only record the delivery after the restart.
        peer.delay = 2.0
        org = await a.organisation()
        async with a.rt.sessions.begin() as session:
            draft = practices.parse_file(PRACTICE.replace("Panne", "Envoi"), "CC0-1.0")
            _first, in_flight = await practices.publish(session, org, draft, a.rt.clock.now(), "fr")
        a.rt.delivery_wakeup.set()

        async def sending_to_peer() -> bool:
            async with a.rt.sessions() as session:
                states = await session.execute(
                    select(Delivery.state).where(
                        Delivery.activity_id == in_flight.id,
                        Delivery.host == peer.base.split("://", 1)[1],
                    )
                )
                return states.scalar_one() == "sending"

        await until(sending_to_peer, what="the first practice on its way to the peer")

        # A practice published just before the crash: its deliveries wait in the queue
        # (due a moment later, so that no poll of the worker can send them first).
        async with a.rt.sessions.begin() as session:
            draft = practices.parse_file(PRACTICE, "CC0-1.0")
            practice, create = await practices.publish(session, org, draft, a.rt.clock.now(), "fr")
            await session.flush()
            queued = await session.execute(
                update(Delivery)
                .where(Delivery.activity_id == create.id)
                .values(next_attempt_at=a.rt.clock.now() + timedelta(seconds=2))
                .returning(Delivery.state)
            )
            assert queued.scalars().all() == ["pending", "pending"]
        before = await counts(a)
        async with aiohttp.ClientSession() as http:
            status, document_before, _retry, _took = await timed_get(http, a.actor_id, AS2)
            assert status == 200
        cached_at = time.monotonic()
        await asyncio.to_thread(cluster.crash)
        a.rt.delivery_wakeup.set()  # the worker looks at once, and finds no database

        sent = interactions_of(peer, practice.uri)
        async with aiohttp.ClientSession() as http:
            # (a) Signed activities to the inbox: 503, a reason, Retry-After, in time.
            for activity in sent:
                started = time.monotonic()
                status, answer = await asyncio.wait_for(
                    peer.send("alice", f"{a.base_url}/inbox", activity),
                    ANSWER_BOUND_SECONDS,
                )
                assert time.monotonic() - started < ANSWER_BOUND_SECONDS
                assert status == 503, answer
                assert "database is unavailable" in answer["error"]
            # (b) The actor document may come from the served cache for served.TTL
            # seconds (the same bytes as before the crash); after that, like the pages,
            # it is 503 with the reason and Retry-After.
            status, body, _retry, _took = await timed_get(http, a.actor_id, AS2)
            assert (status, body) == (200, document_before) or status == 503, (status, body)
            await asyncio.sleep(max(0.0, cached_at + served.TTL + 0.2 - time.monotonic()))
            for url, accept in (
                (a.actor_id, AS2),
                (practice.uri, "text/html"),
                (f"{a.base_url}/", "text/html"),
            ):
                status, body, retry, took = await asyncio.wait_for(
                    timed_get(http, url, accept), ANSWER_BOUND_SECONDS
                )
                assert status == 503, (url, status, body[:300])
                assert retry is not None and int(retry) > 0
                assert "database is unavailable" in body or "base de données" in body, body
                assert took < ANSWER_BOUND_SECONDS
            # The process lives (no restart needed); it is not ready, and says why.
            async with http.get(f"{a.base_url}/healthz") as response:
                assert response.status == 200, await response.text()
            async with http.get(f"{a.base_url}/readyz") as response:
                assert response.status == 503
                problems = (await response.json())["problems"]
                assert problems == ["database unavailable: DBAPIError"], problems

            # (c) The workers log the outage and keep running.
            async def outage_logged() -> bool:
                text = caplog.text
                return (
                    "delivery worker: database unavailable" in text
                    and "inbox worker: database unavailable" in text
                )

            await until(outage_logged, timeout=10, what="both workers logging the outage")
            assert workers_alive() == workers
            # The late answer arrives during the outage; the queued practice is not sent.
            await until(
                lambda: asyncio.sleep(
                    0, in_flight.uri in [r.activity["id"] for r in peer.received]
                ),
                what="the peer's late answer",
            )
            peer.delay = 0.0

            async def unrecorded() -> bool:
                return "delivery worker: cannot record deliveries" in caplog.text

            await until(unrecorded, timeout=5, what="the worker keeping the unrecorded delivery")
            assert create.uri not in at_peer(peer)

            # PostgreSQL comes back.
            await asyncio.to_thread(cluster.start)

            async def ready() -> bool:
                async with http.get(f"{a.base_url}/readyz") as response:
                    return response.status == 200

            await until(ready, timeout=15, what="/readyz ready again")
            async with http.get(a.actor_id, headers={"Accept": AS}) as response:
                assert response.status == 200
            # The peer retries the same activities: accepted and processed.
            for activity in sent:
                status, answer = await peer.send("alice", f"{a.base_url}/inbox", activity)
                assert status == 202, answer

        async def processed() -> bool:
            async with a.rt.sessions() as session:
                kinds = (await session.execute(select(Interaction.kind))).scalars().all()
            return sorted(kinds) == ["like", "reply"]

        await until(processed, timeout=15, what="the retried activities processed")

        # Every delivery goes out, exactly once to each inbox, and the ledger says so.
        hosts = sorted(url.split("://", 1)[1] for url in (peer.base, b.base_url))
        for outgoing in (in_flight, create):

            async def everywhere(uri: str = outgoing.uri) -> bool:
                return uri in at_b and uri in at_peer(peer)

            await until(everywhere, timeout=20, what=f"{outgoing.uri} at the peer and at b")
        await asyncio.sleep(1.0)  # a second copy, if there were one, would arrive now
        for outgoing in (in_flight, create):
            assert at_peer(peer).count(outgoing.uri) == 1
            assert at_b.count(outgoing.uri) == 1
            async with a.rt.sessions() as session:
                rows = (
                    await session.execute(
                        select(Delivery).where(Delivery.activity_id == outgoing.id)
                    )
                ).scalars()
                ledger = sorted((row.host, row.state) for row in rows)
            assert ledger == [(host, "delivered") for host in hosts], (outgoing.uri, ledger)

        # Nothing stored before the crash is lost.
        after = await counts(a)
        for table, n in before.items():
            assert after[table] >= n, (table, before, after)
        assert peer.actor_id("alice") in await follower_uris(a)
        assert b.actor_id in await follower_uris(a)
        async with a.rt.sessions() as session:
            assert (await session.get(LocalObject, practice.id)) is not None
        assert workers_alive() == workers
    finally:
        await a.stop()
