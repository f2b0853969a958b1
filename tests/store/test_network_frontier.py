"""The crawl's tables on SQLite and PostgreSQL: rounds and their frontier (claims,
depths, caps, one open round), members with their vouches, staleness and drops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from federation.network import frontier, members
from federation.network.signals import MemberProfile, Progress
from tests.store.conftest import Db

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
A = "https://a.example/users/a"
B = "https://b.example/users/b"
C = "https://c.example/users/c"


def profile(uri: str, name: str) -> MemberProfile:
    return MemberProfile(
        uri=uri,
        actor_type="Organization",
        name=name,
        handle=f"{name}@{uri.split('/')[2]}",
        summary="",
        icon_url=None,
        url=None,
        territory=None,
        charter_version="2023-09-14",
        charter_hash="0" * 64,
        commitments_url=None,
        following_url=None,
        directory_url=None,
        outbox_url=None,
    )


async def test_frontier_breadth_first_claims_caps_and_one_open_round(db: Db) -> None:
    async with db.sessions.begin() as session:
        crawl = await frontier.start(session, "request", [A], NOW)
    async with db.sessions.begin() as session:
        # A second start joins the open round instead of opening another.
        assert (await frontier.start(session, "schedule", [B], NOW)).id == crawl.id
        assert await frontier.add(session, crawl.id, [B, C, B], 2, cap=10) == 2
        # Found again closer to us: moved to depth 1, nothing added.
        assert await frontier.add(session, crawl.id, [C], 1, cap=10) == 1
        # The cap holds: three actors in the round already.
        assert await frontier.add(session, crawl.id, ["https://d.example/u/d"], 2, cap=3) == 0
    async with db.sessions.begin() as session:
        claimed = await frontier.claim(session, crawl.id, NOW, 2)
    assert [(n.uri, n.depth) for n in claimed] == [(A, 0), (C, 1)]
    async with db.sessions.begin() as session:
        # Claimed rows are not handed out again while their lease runs.
        (node_b,) = await frontier.claim(session, crawl.id, NOW, 10)
        assert node_b.uri == B
        # An expired lease gives them back (a worker died).
        later = NOW + frontier.LEASE + timedelta(seconds=1)
        assert {n.uri for n in await frontier.claim(session, crawl.id, later, 10)} == {A, B, C}
        for node in claimed:
            await frontier.done(session, node, "member", None, 3, 1)
        assert await frontier.remaining(session, crawl.id) == 1
        await frontier.done(session, node_b, "not-member", None, 0, 0)
        assert await frontier.remaining(session, crawl.id) == 0
    async with db.sessions.begin() as session:
        assert await frontier.outcomes(session, crawl.id) == {"member": 2, "not-member": 1}
        assert await frontier.close(session, crawl.id, NOW)
        assert not await frontier.close(session, crawl.id, NOW)  # closed once
        report = await frontier.latest(session)
    assert report is not None
    assert (report.requests, report.not_modified) == (6, 2)
    async with db.sessions.begin() as session:
        again = await frontier.start(session, "schedule", [A], NOW)
    assert again.id != crawl.id


async def test_members_vouches_staleness_and_drop(db: Db) -> None:
    seen_a = members.Sighting(profile(A, "a"), 0, True, (Progress(5, "achieved"),), 2, [B, C])
    seen_b = members.Sighting(profile(B, "b"), 1, False, None, None, [A])
    async with db.sessions.begin() as session:
        assert await members.record(session, seen_a, NOW, max_members=2) is not None
        assert await members.record(session, seen_b, NOW, max_members=2) is not None
        # The directory is full: a new member is not added.
        seen_c = members.Sighting(profile(C, "c"), 1, False, (), 0, [])
        assert await members.record(session, seen_c, NOW, max_members=2) is None
    later = NOW + timedelta(days=3)
    async with db.sessions.begin() as session:
        # A reads its following again: C is no longer followed.
        again = members.Sighting(profile(A, "a"), 0, True, None, None, [B])
        row = await members.record(session, again, later, max_members=2)
        assert row is not None
        assert row.commitments == [{"number": 5, "progress": "achieved"}]  # kept
        assert row.practices == 2
        await members.unreachable(session, B, "connection refused", later)
        stale, dropped = await members.age(session, later, timedelta(days=2), timedelta(days=5))
    assert (stale, dropped) == (1, 0)
    async with db.sessions() as session:
        b = await members.get(session, B)
        assert b is not None and b.stale_since == later and b.last_error == "connection refused"
    async with db.sessions.begin() as session:
        _stale, dropped = await members.age(
            session, NOW + timedelta(days=6), timedelta(days=2), timedelta(days=5)
        )
        assert dropped == 1
        assert await members.get(session, B) is None
        assert await members.count(session) == 1
