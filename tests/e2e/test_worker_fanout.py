"""Three `declics worker` processes share one PostgreSQL database during a fan-out to
5,000 inboxes on 50 loopback hosts; one of them is killed with SIGKILL half-way.

The delivery guarantee is at-least-once, and precisely:
- every inbox receives the activity;
- an inbox receives it twice only if its delivery row was leased by the killed worker
  (state `sending`, `lease_owner` = its name) at the moment of the kill: the request may
  have been sent and answered without the outcome being recorded, so it is sent again
  once the lease expires. Such an inbox receives it at most twice, the first time before
  the kill. Every other inbox receives it exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, insert, select

from federation.actors import local
from federation.outbox import publish
from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import Delivery, Follower, RemoteActor
from tests.support.instance import init_instance
from tests.support.postgres import session_server
from tests.support.wait import until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.own_database("always runs its workers on a PostgreSQL database of its own"),
    pytest.mark.timeout(600),
    pytest.mark.heavy("three worker processes and a SIGKILL timed against progress"),
]

HOSTS = 50
PER_HOST = 100
INBOXES = HOSTS * PER_HOST
WORKERS = ("w1", "w2", "w3")
LEASE_SECONDS = 10


@dataclass
class Sinks:
    """Inboxes that count what they receive: (host, path) -> receipt times."""

    received: dict[str, list[float]] = field(default_factory=dict)
    runners: list[web.AppRunner] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        # A little latency, as a real server has, so that the kill finds work in flight.
        await asyncio.sleep(0.02)
        self.received.setdefault(f"http://{request.host}{request.path}", []).append(
            time.monotonic()
        )
        return web.Response(status=202)

    def distinct(self) -> int:
        return len(self.received)


@pytest.fixture
async def sinks() -> AsyncIterator[Sinks]:
    made = Sinks()
    for n in range(HOSTS):
        ip = f"127.0.3.{n + 1}"
        app = web.Application()
        app.router.add_post("/{user}/inbox", made.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, ip, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        made.runners.append(runner)
        made.urls.extend(f"http://{ip}:{port}/u{i}/inbox" for i in range(PER_HOST))
    yield made
    for runner in made.runners:
        await runner.cleanup()


async def seed_and_post(data_dir: Path, inboxes: list[str]) -> None:
    """5,000 followers, each with its own inbox, then one note to all of them."""
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions.begin() as session:
            org = (await local.organisations(session))[0]
            now = rt.clock.now()
            await session.execute(
                insert(RemoteActor),
                [
                    {
                        "uri": url.removesuffix("/inbox"),
                        "host": url.split("/")[2].split(":")[0],
                        "actor_type": "Person",
                        "inbox": url,
                        "document": {},
                        "fetched_at": now,
                    }
                    for url in inboxes
                ],
            )
            ids = (await session.execute(select(RemoteActor.id, RemoteActor.uri))).all()
            await session.execute(
                insert(Follower),
                [
                    {
                        "local_actor_id": org.id,
                        "remote_actor_id": actor_id,
                        "follow_activity_uri": f"{uri}#follow",
                        "state": "accepted",
                        "created_at": now,
                        "accepted_at": now,
                    }
                    for actor_id, uri in ids
                ],
            )
        async with rt.sessions.begin() as session:
            await publish.post_note(session, org, "À toutes et tous", rt.clock.now(), "fr")
    finally:
        await rt.close()


async def start_worker(data_dir: Path, name: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DECLICS_DELIVERY__LEASE_SECONDS": str(LEASE_SECONDS),
        "DECLICS_DELIVERY__POLL_INTERVAL_SECONDS": "0.5",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "federation",
        "worker",
        "--data-dir",
        str(data_dir),
        "--name",
        name,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def states(data_dir: Path) -> dict[str, int]:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            rows = await session.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state)
            )
            return {state: count for state, count in rows.all()}
    finally:
        await rt.close()


async def leased_by(data_dir: Path, owner: str) -> set[str]:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            rows = await session.execute(
                select(Delivery.inbox_url).where(
                    Delivery.lease_owner == owner, Delivery.state == "sending"
                )
            )
            return set(rows.scalars())
    finally:
        await rt.close()


async def test_three_workers_one_killed_deliver_every_inbox(tmp_path: Path, sinks: Sinks) -> None:
    server = await asyncio.to_thread(session_server)
    server.require()
    url = await asyncio.to_thread(server.instance_database)
    data_dir, _ = await asyncio.to_thread(
        init_instance, tmp_path, "collectif", extra=["--database-url", url]
    )
    assert load_settings(data_dir).database_url == url
    await seed_and_post(data_dir, sinks.urls)
    assert await states(data_dir) == {"pending": INBOXES}

    workers = {name: await start_worker(data_dir, name) for name in WORKERS}
    try:
        await until(_reached(sinks, INBOXES // 3), timeout=240, what="a third")
        victim = workers["w2"]
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        killed_at = time.monotonic()
        # The dead worker's rows keep its name until their lease expires: read them now.
        in_flight = await leased_by(data_dir, "w2")
        assert sinks.distinct() < INBOXES, "the kill came too late to test anything"

        await until(_reached(sinks, INBOXES), timeout=300, what="every inbox")
        await until(
            lambda: _settled(data_dir), timeout=LEASE_SECONDS * 6, what="the ledger to settle"
        )
    finally:
        for process in workers.values():
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
                await process.wait()

    counts = Counter({inbox: len(times) for inbox, times in sinks.received.items()})
    assert set(counts) == set(sinks.urls)  # none lost
    twice = {inbox for inbox, n in counts.items() if n > 1}
    assert twice <= in_flight, sorted(twice - in_flight)[:5]
    assert all(counts[inbox] == 2 for inbox in twice)
    assert all(sinks.received[inbox][0] <= killed_at for inbox in twice)
    print(
        f"\n{INBOXES} inboxes, {HOSTS} hosts, 3 workers: "
        f"{len(in_flight)} rows in flight in the killed worker, {len(twice)} sent twice"
    )


def _reached(sinks: Sinks, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return sinks.distinct() >= count

    return check


async def _settled(data_dir: Path) -> bool:
    return await states(data_dir) == {"delivered": INBOXES}
