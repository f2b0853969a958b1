"""A round survives a restart: its frontier is in the database, and the next worker
(or `directory refresh`) carries on the open round before starting another."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from federation.actors import local
from federation.clock import FrozenClock
from federation.network import frontier
from federation.network.crawler import Crawler
from federation.store.models import CrawlNode, CrawlRound
from tests.support.instance import Instance, make_instance

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
UNREACHABLE = "http://127.0.0.1:9/users/nobody"  # discard port: nothing listens


@pytest.fixture
async def instance(tmp_path: Path) -> AsyncIterator[Instance]:
    made = await make_instance(
        tmp_path,
        "collectif",
        start=False,
        clock=FrozenClock(START),
        directory={"refresh_hours": 6.0, "per_host_requests_per_second": 100.0},
    )
    try:
        yield made
    finally:
        await made.rt.close()


async def test_an_interrupted_round_is_finished_then_rounds_follow_the_interval(
    instance: Instance,
) -> None:
    rt = instance.rt
    assert isinstance(rt.clock, FrozenClock)
    async with rt.sessions.begin() as session:
        org = (await local.organisations(session))[0]
        crawl = await frontier.start(session, "schedule", [local.urls_of(org).id], START)
        await frontier.add(session, crawl.id, [UNREACHABLE], 1, cap=10)
        # A worker claimed both, then died.
        assert len(await frontier.claim(session, crawl.id, START, 10)) == 2
    rt.clock.advance(frontier.LEASE + timedelta(seconds=1))

    crawler = Crawler(rt)
    assert await crawler.step()  # joins the open round and finishes it
    async with rt.sessions() as session:
        rounds = list((await session.execute(select(CrawlRound))).scalars())
        rows = await session.execute(select(CrawlNode.uri, CrawlNode.outcome))
        outcomes = {uri: outcome for uri, outcome in rows.all()}
    assert [r.id for r in rounds] == [crawl.id] and rounds[0].finished_at is not None
    assert outcomes == {local.urls_of(org).id: "not-member", UNREACHABLE: "unreachable"}

    assert not await crawler.step()  # the next round is not due yet
    rt.clock.advance(timedelta(hours=6))
    assert await crawler.step()
    async with rt.sessions() as session:
        assert len(list((await session.execute(select(CrawlRound))).scalars())) == 2
