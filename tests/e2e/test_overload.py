"""Ten times the inbox's capacity: the server refuses the excess (503/429) and recovers.

A real `declics serve` process; a Mastodon-shaped peer in this process signs the
activities (signed in advance, so the load generator is not the bottleneck). The
per-sender rates are lifted, so what protects the server here is the intake limit
(`inbox.max_concurrent`) and the backlog limit: the point is that excess is refused
at once rather than queued.

1. Capacity: a closed loop of 16 senders for a few seconds; accepted per second.
2. Flood: an open loop at ten times that rate for FLOOD_SECONDS.
3. Every answer is 202, 429 or 503 (never another 5xx); the excess was refused; the
   answers stayed fast (no unbounded queue); the backlog and the server's memory
   stayed bounded; afterwards a new Follow is accepted and answered.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import InboxItem
from tests.conftest import PeerFactory
from tests.support.instance import init_instance
from tests.support.peer import Peer
from tests.support.serve import start_server
from tests.support.wait import until

FLOOD_SECONDS = 4.0
MAX_CONCURRENT = 32
MEMORY_BOUND_MB = 300
SERVER_ENV = {
    "DECLICS_INBOX__PER_ADDRESS_PER_SECOND": "100000",
    "DECLICS_INBOX__PER_ADDRESS_BURST": "100000",
    "DECLICS_INBOX__PER_HOST_PER_SECOND": "100000",
    "DECLICS_INBOX__PER_HOST_BURST": "100000",
    "DECLICS_INBOX__PER_ACTOR_PER_SECOND": "100000",
    "DECLICS_INBOX__PER_ACTOR_BURST": "100000",
    "DECLICS_INBOX__MAX_CONCURRENT": str(MAX_CONCURRENT),
    "DECLICS_INBOX__MAX_BACKLOG": "3000",
}
USERS = [f"u{i}" for i in range(8)]

Request = tuple[bytes, dict[str, str]]


def like(peer: Peer, name: str, target: str) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id(name),
        "type": "Like",
        "actor": peer.actor_id(name),
        "object": target,
    }


def presign(peer: Peer, url: str, target: str, count: int) -> list[Request]:
    requests = []
    for i in range(count):
        name = USERS[i % len(USERS)]
        body = json.dumps(like(peer, name, target)).encode()
        requests.append((body, peer.signed_headers(name, url, body)))
    return requests


async def send(
    http: aiohttp.ClientSession, url: str, request: Request, results: list[tuple[int, float]]
) -> None:
    started = time.monotonic()
    try:
        async with http.post(url, data=request[0], headers=request[1]) as response:
            await response.read()
            results.append((response.status, time.monotonic() - started))
    except (aiohttp.ClientError, TimeoutError):
        results.append((0, time.monotonic() - started))


async def capacity(http: aiohttp.ClientSession, url: str, pool: list[Request]) -> float:
    """Accepted requests per second with 16 senders that wait for each answer."""
    results: list[tuple[int, float]] = []
    queue = iter(pool)
    deadline = time.monotonic() + 3.0

    async def sender() -> None:
        for request in queue:
            if time.monotonic() > deadline:
                return
            await send(http, url, request, results)

    started = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(16)))
    elapsed = time.monotonic() - started
    assert {status for status, _ in results} == {202}, Counter(s for s, _ in results)
    return len(results) / elapsed


async def flood(
    http: aiohttp.ClientSession, url: str, pool: list[Request], rate: float
) -> tuple[list[tuple[int, float]], float]:
    """Send at `rate` per second (open loop) for FLOOD_SECONDS; the offered rate."""
    results: list[tuple[int, float]] = []
    tasks: set[asyncio.Task[None]] = set()
    started = time.monotonic()
    sent = 0
    while (now := time.monotonic()) - started < FLOOD_SECONDS:
        due = int((now - started) * rate)
        while sent < due:
            task = asyncio.create_task(send(http, url, pool[sent % len(pool)], results))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.sleep(0.005)
    offered = sent / (time.monotonic() - started)
    await asyncio.gather(*tasks)
    return results, offered


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def stored(data_dir: Path) -> int:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            found = await session.execute(select(func.count()).select_from(InboxItem))
            return int(found.scalar() or 0)
    finally:
        await rt.close()


# About a minute alone; more on a machine shared with other work.
@pytest.mark.timeout(300)
@pytest.mark.serial("measures capacity, then floods at ten times it")
async def test_ten_times_capacity_is_refused_not_queued_and_the_server_recovers(
    tmp_path: Path, peers: PeerFactory
) -> None:
    peer = await peers(USERS)
    data_dir, base_url = await asyncio.to_thread(init_instance, tmp_path, "collectif")
    actor = f"{base_url}/users/collectif"
    url = f"{actor}/inbox"
    server = await start_server(data_dir, base_url, SERVER_ENV)
    try:
        warm = presign(peer, url, actor, 1200)
        connector = aiohttp.TCPConnector(limit=2000)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            measured = await capacity(http, url, warm)
            target = 10 * measured
            pool = presign(peer, url, actor, min(4000, int(target * FLOOD_SECONDS) + 1))
            results, offered = await flood(http, url, pool, target)
        peak = peak_rss_mb(server.pid)
        statuses = Counter(status for status, _ in results)
        accepted = statuses[202]
        refused = statuses[503] + statuses[429]
        slowest = max(elapsed for _, elapsed in results)
        refusals = sorted(elapsed for status, elapsed in results if status in (429, 503))
        p99_refusal = refusals[int(len(refusals) * 0.99)] if refusals else 0.0
        p50_refusal = refusals[len(refusals) // 2] if refusals else 0.0
        admitted = sorted(elapsed for status, elapsed in results if status == 202)
        p50_accept = admitted[len(admitted) // 2] if admitted else 0.0
        print(
            f"overload: capacity {measured:.0f}/s, offered {offered:.0f}/s for "
            f"{FLOOD_SECONDS:.0f} s; answers {dict(statuses)}; slowest {slowest:.2f} s, "
            f"refusals p50 {p50_refusal:.2f} s p99 {p99_refusal:.2f} s, "
            f"acceptances p50 {p50_accept:.2f} s; "
            f"peak RSS {peak:.0f} MB"
        )
        # Only the answers an overloaded server may give; no request left hanging.
        assert set(statuses) <= {202, 429, 503}, statuses
        # The excess was refused, and what was accepted is about the capacity.
        assert refused > accepted / 2, statuses
        assert accepted < 3 * measured * FLOOD_SECONDS + MAX_CONCURRENT, statuses
        # Refusing is immediate: no answer waited in an unbounded queue.
        assert slowest < 20, slowest
        assert peak < MEMORY_BOUND_MB, peak
        assert await stored(data_dir) <= 1200 + 4000

        # Recovery: a fresh Follow is accepted and answered with an Accept.
        follow = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": peer.new_id("u0"),
            "type": "Follow",
            "actor": peer.actor_id("u0"),
            "object": actor,
        }

        async def taken() -> bool:
            status, _ = await peer.send("u0", url, follow)
            return status == 202

        await until(taken, timeout=30, what="the inbox to take requests again")

        async def answered() -> bool:
            return bool(peer.inbox_of("Accept"))

        await until(answered, timeout=60, what="the Accept after the flood")
    finally:
        server.send_signal(signal.SIGKILL)
        await server.wait()
