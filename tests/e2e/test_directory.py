"""A network with no central directory: eight members on loopback, each a real
instance, in a chain and a small cluster where no member follows all the others.
Crawling the follow graph (and each other's directories) gives every member the same
directory, with who vouches for whom and each member's commitments. A ninth member
joins by following one of them; a member whose server goes away is marked stale, then
dropped."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from federation.actors import trust
from federation.clock import FrozenClock
from federation.network.crawler import Crawler, RoundReport
from federation.store.models import DirectoryMember, LocalActor
from tests.conftest import InstanceFactory
from tests.e2e.test_federation import follow, following_state
from tests.e2e.test_practices import practice_file, publish, publish_commitments
from tests.support.instance import Instance
from tests.support.wait import until

AS = {"Accept": "application/activity+json"}
# No scheduled round during the test (the clock is advanced by days); quick pace.
DIRECTORY = {
    "refresh_hours": 1000.0,
    "stale_after_days": 2.0,
    "drop_after_days": 5.0,
    "per_host_requests_per_second": 100.0,
}
PROGRESS = ("to-start", "in-progress", "achieved")
# m1 – m2 – m3 – m4 – m5 – m6, and the cluster m6, m7, m8 (each pair follows both ways).
EDGES = [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8), (6, 8)]


async def member(instances: InstanceFactory, number: int, clock: FrozenClock) -> Instance:
    # The default poll interval: each step here wakes the workers it queues work for, and
    # nine instances polling every 50 ms took a third of the test's CPU time.
    instance = await instances(f"m{number}", clock=clock, directory=DIRECTORY)
    org = await instance.organisation()
    async with instance.rt.sessions.begin() as session:
        await session.execute(
            update(LocalActor)
            .where(LocalActor.id == org.id)
            .values(territory="Lyon" if number % 2 else "Nantes")
        )
    await publish_commitments(instance, PROGRESS[number % 3])
    return instance


async def accepted(a: Instance, b: Instance) -> bool:
    return await following_state(a, b) == "accepted"


async def known(instance: Instance) -> set[str]:
    async with instance.rt.sessions() as session:
        return set((await session.execute(select(DirectoryMember.uri))).scalars())


async def read_directory(http: aiohttp.ClientSession, instance: Instance) -> dict[str, Any]:
    """A member's directory as any web site reads it: the AS2 collection, page by page."""
    async with http.get(f"{instance.actor_id}/directory", headers=AS) as response:
        assert response.status == 200
        collection = await response.json(content_type=None)
    assert collection["type"] == "OrderedCollection"
    items: list[dict[str, Any]] = []
    page: str | None = collection["first"]
    while page:
        async with http.get(page, headers=AS) as response:
            document = await response.json(content_type=None)
        items.extend(document["orderedItems"])
        page = document.get("next")
    assert len(items) == collection["totalItems"]
    return {item["id"]: item for item in items}


async def crawl(instances_in_order: list[Instance]) -> list[RoundReport]:
    return [await Crawler(m.rt).refresh() for m in instances_in_order]


# Eight servers and several crawl rounds: about two minutes on a loaded machine, more
# with each server on PostgreSQL (the second pass of scripts/test).
@pytest.mark.timeout(360)
async def test_network_directory_built_by_every_member_joins_and_departures(
    instances: InstanceFactory,
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    ms = {n: await member(instances, n, clock) for n in range(1, 9)}
    await publish(ms[1], practice_file("Mutualiser la comptabilité"))
    await publish(ms[1], practice_file("Gouvernance partagée"))
    # Each pair follows both ways: one way for all pairs, then back (a member never
    # fetches a peer while that peer's Follow reaches it).
    for pairs in (EDGES, [(b, a) for a, b in EDGES]):
        await asyncio.gather(*(follow(ms[a], ms[b].handle) for a, b in pairs))

        async def all_accepted(pairs: list[tuple[int, int]] = pairs) -> bool:
            return all([await accepted(ms[a], ms[b]) for a, b in pairs])

        await until(all_accepted, what="the follows to be accepted")
    everyone = {m.actor_id for m in ms.values()}

    # Each member crawls, to depth 3, and reads its contacts' directories: the chain is
    # longer than 3, so the directories carry the rest. A few rounds and all agree.
    passes = 0
    while passes < 4 and not all([await known(m) == everyone for m in ms.values()]):
        await crawl(list(ms.values()))
        passes += 1
    assert all([await known(m) == everyone for m in ms.values()]), passes
    assert passes <= 2  # from the chain's end inwards, then back

    neighbours: dict[int, set[str]] = {n: set() for n in ms}
    for a, b in EDGES:
        neighbours[a].add(ms[b].actor_id)
        neighbours[b].add(ms[a].actor_id)
    async with aiohttp.ClientSession() as http:
        for owner in ms.values():
            listed = await read_directory(http, owner)
            assert set(listed) == everyone
            assert next(iter(listed)) == owner.actor_id  # the owner first
            for n, m in ms.items():
                entry = listed[m.actor_id]
                assert set(entry["vouchedBy"]) == neighbours[n], (owner.handle, n)
                assert entry["commitments"] == [
                    {"number": 5, "progress": PROGRESS[n % 3]},
                    {"number": 6, "progress": "achieved"},
                ]
                assert entry["territory"] == ("Lyon" if n % 2 else "Nantes")
                assert entry["charterVersion"] == "2023-09-14"
                assert entry["webfinger"] == m.handle
                assert entry["practiceCount"] == (2 if n == 1 else 0)
                assert "stale" not in entry

        # The page, for people: French by default, filterable, with the vouchers.
        async with http.get(f"{ms[4].base_url}/directory") as response:
            page = await response.text()
        assert "Annuaire du réseau" in page and "8 membres" in page
        assert page.count('class="member"') == 8
        assert set(re.findall(r'data-voucher="([^"]+)"', page)) == everyone
        async with http.get(
            f"{ms[4].base_url}/directory",
            params={"commitment": "5", "progress": "achieved", "territory": "nantes"},
        ) as response:
            filtered = await response.text()
        # Achieved on commitment 5: m2, m5 and m8; in Nantes (even numbers): m2 and m8.
        assert "2 membres" in filtered
        assert "Organisation m2" in filtered and "Organisation m8" in filtered
        assert "Organisation m5" not in filtered
        async with http.get(f"{ms[4].base_url}/directory?lang=en") as response:
            assert "Network directory" in await response.text()
        # The collection answers 304 to a crawler whose copy is current.
        async with http.get(f"{ms[4].actor_id}/directory?page=1", headers=AS) as response:
            etag = response.headers["ETag"]
        async with http.get(
            f"{ms[4].actor_id}/directory?page=1", headers={**AS, "If-None-Match": etag}
        ) as response:
            assert response.status == 304

    # Conditional GETs: a round over an unchanged network is mostly 304s.
    again = await Crawler(ms[4].rt).refresh()
    assert again.not_modified > 0
    assert again.members == 8

    # A ninth member joins by following m1, and m1 follows it back.
    ninth = await member(instances, 9, clock)
    await follow(ninth, ms[1].handle)
    await until(lambda: accepted(ninth, ms[1]), what="m1 to accept the newcomer")
    if await following_state(ms[1], ninth) is None:
        await follow(ms[1], ninth.handle)  # follow-back not there yet: m1 follows by hand
    await until(lambda: accepted(ms[1], ninth), what="m1 to follow the newcomer back")
    # One round at each member, from the one it followed outwards.
    await crawl([*ms.values(), ninth])
    everyone.add(ninth.actor_id)
    async with aiohttp.ClientSession() as http:
        for owner in [*ms.values(), ninth]:
            listed = await read_directory(http, owner)
            assert set(listed) == everyone, owner.handle
            assert listed[ninth.actor_id]["vouchedBy"] == [ms[1].actor_id]
            assert ninth.actor_id in listed[ms[1].actor_id]["vouchedBy"]

    # A blocked domain is never crawled again, and leaves the directory.
    org2 = await ms[2].organisation()
    async with ms[2].rt.sessions.begin() as session:
        await trust.add(session, org2.id, trust.DOMAIN, ninth.base_url, clock.now())
    blocked = await Crawler(ms[2].rt).refresh()
    assert blocked.outcomes.get("blocked", 0) >= 1
    assert ninth.actor_id not in await known(ms[2])

    # m8's server goes away: m7 marks it stale after two days, then drops it.
    await ms[8].stop()
    clock.advance(timedelta(days=2, hours=1))
    stale = await Crawler(ms[7].rt).refresh()
    assert stale.stale == 1 and stale.dropped == 0
    assert stale.outcomes.get("unreachable") == 1
    async with aiohttp.ClientSession() as http:
        listed = await read_directory(http, ms[7])
        assert listed[ms[8].actor_id]["stale"] is True
        assert "stale" not in listed[ms[6].actor_id]
        async with http.get(f"{ms[7].base_url}/directory") as response:
            assert "Pas vu depuis le" in await response.text()
    clock.advance(timedelta(days=3))
    gone = await Crawler(ms[7].rt).refresh()
    assert gone.dropped == 1
    assert await known(ms[7]) == everyone - {ms[8].actor_id}
    async with aiohttp.ClientSession() as http:
        listed = await read_directory(http, ms[7])
    assert ms[8].actor_id not in listed
    assert set(listed[ms[6].actor_id]["vouchedBy"]) == {ms[5].actor_id, ms[7].actor_id}
