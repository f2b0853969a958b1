"""Crawl rounds: start one when due (or asked), visit its frontier, close it.

A round begins at our organisations (depth 0): their followings and followers are
depth 1, what those follow (and list in their directories) depth 2, and so on up to
`[directory] depth`. It holds at most twice `max_members` actors. When nothing is
left to visit, the round is closed: members not seen for a while are marked stale,
then dropped, and cached documents nobody asked for since are forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import local
from federation.errors import CommandError
from federation.network import fetcher, frontier, members
from federation.network.fetcher import Fetcher
from federation.network.politeness import HostRateLimiter
from federation.network.visit import HostChecks, Visit, visit
from federation.network.writes import write
from federation.runtime import Runtime
from federation.store.models import CrawlRound
from federation.transport.client import Signer

log = logging.getLogger(__name__)
SCHEDULE = "schedule"
REQUEST = "request"


@dataclass(frozen=True)
class RoundReport:
    id: int
    started_at: datetime
    finished_at: datetime | None
    requests: int
    not_modified: int
    members: int
    stale: int
    dropped: int
    outcomes: dict[str, int]


class Crawler:
    def __init__(self, rt: Runtime, limiter: HostRateLimiter | None = None) -> None:
        self.rt = rt
        self.settings = rt.settings.directory
        self.limiter = limiter or HostRateLimiter(self.settings.per_host_requests_per_second)

    # -- rounds ---------------------------------------------------------------------

    async def step(self) -> bool:
        """Work on the open round, or start one if it is time; False if there was nothing."""
        async with self.rt.sessions() as session:
            current = await frontier.open_round(session)
            last = await frontier.latest(session)
        if current is None:
            interval = timedelta(hours=self.settings.refresh_hours)
            if last is not None and self.rt.clock.now() - last.started_at < interval:
                return False
            current = await self._start(SCHEDULE)
        await self._work_on(current)
        return True

    async def refresh(self) -> RoundReport:
        """Run one whole round now (finishing an open one first) and report on it."""
        async with self.rt.sessions() as session:
            current = await frontier.open_round(session)
        if current is not None:
            await self._work_on(current)
        crawl = await self._start(REQUEST)
        await self._work_on(crawl)
        return await report(self.rt, crawl.id)

    async def _start(self, reason: str) -> CrawlRound:
        async with self.rt.sessions() as session:
            seeds = [local.urls_of(org).id for org in await local.organisations(session)]
        if not seeds:
            raise CommandError("no organisation in this instance; run 'declics init'")
        now = self.rt.clock.now()
        return await write(self.rt, lambda session: frontier.start(session, reason, seeds, now))

    async def _signer(self) -> Signer:
        async with self.rt.sessions() as session:
            orgs = await local.organisations(session)
            app_actor = await local.application_of(session, orgs[0].domain) if orgs else None
        if app_actor is None:
            raise CommandError("no application actor to sign the crawler's requests")
        return local.signer_of(app_actor)

    async def _work_on(self, crawl: CrawlRound) -> None:
        """Visit the round's actors, `concurrency` at a time, until none is left."""
        signer = await self._signer()
        hosts = HostChecks()  # asked once per round (and process)
        inflight: set[asyncio.Task[None]] = set()
        poll = self.rt.settings.delivery.poll_interval_seconds
        try:
            while True:
                free = self.settings.concurrency - len(inflight)
                claimed: list[frontier.Node] = []
                if free > 0:
                    claim = partial(
                        frontier.claim, round_id=crawl.id, now=self.rt.clock.now(), limit=free
                    )
                    claimed = await write(self.rt, claim)
                for node in claimed:
                    task = asyncio.create_task(self._visit(node, signer, hosts))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                if claimed:
                    continue
                if inflight:
                    await asyncio.wait(set(inflight), return_when=asyncio.FIRST_COMPLETED)
                    continue
                async with self.rt.sessions() as session:
                    left = await frontier.remaining(session, crawl.id)
                if not left:
                    await self._close(crawl.id)
                    return
                await asyncio.sleep(poll)  # another process is visiting the rest
        finally:
            for task in inflight:
                task.cancel()
            await asyncio.gather(*inflight, return_exceptions=True)

    async def _visit(self, node: frontier.Node, signer: Signer, hosts: HostChecks) -> None:
        fetch = Fetcher(self.rt, self.limiter, signer)
        try:
            result = await visit(self.rt, fetch, hosts, node.uri, node.depth)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.exception("crawl: visiting %s failed", node.uri)
            result = Visit("error", f"internal error: {type(err).__name__}")
        expand = result.found and node.depth < self.settings.depth
        cap = 2 * self.settings.max_members

        async def record(session: AsyncSession) -> None:
            if expand:
                await frontier.add(session, node.round_id, result.found, node.depth + 1, cap)
            await frontier.done(
                session,
                node,
                result.outcome,
                result.error,
                fetch.counters.requests,
                fetch.counters.not_modified,
            )

        try:
            await write(self.rt, record)
        except Exception:
            # The visit will be made again when its lease runs out.
            log.exception("crawl: recording the visit of %s failed", node.uri)

    async def _close(self, round_id: int) -> None:
        now = self.rt.clock.now()
        stale_after = timedelta(days=self.settings.stale_after_days)
        drop_after = max(timedelta(days=self.settings.drop_after_days), stale_after)

        async def close(session: AsyncSession) -> bool:
            if not await frontier.close(session, round_id, now):
                return False  # another process closed it
            stale, dropped = await members.age(session, now, stale_after, drop_after)
            crawl = await session.get(CrawlRound, round_id)
            if crawl is not None:
                crawl.stale, crawl.dropped = stale, dropped
                crawl.members = await members.count(session)
            log.info("crawl round %s closed: %s stale, %s dropped", round_id, stale, dropped)
            return True

        if await write(self.rt, close):
            await fetcher.forget_older_than(self.rt, now - drop_after)


async def report(rt: Runtime, round_id: int) -> RoundReport:
    async with rt.sessions() as session:
        crawl = await session.get(CrawlRound, round_id)
        if crawl is None:
            raise CommandError(f"no crawl round {round_id}")
        outcomes = await frontier.outcomes(session, round_id)
    return RoundReport(
        crawl.id,
        crawl.started_at,
        crawl.finished_at,
        crawl.requests,
        crawl.not_modified,
        crawl.members,
        crawl.stale,
        crawl.dropped,
        outcomes,
    )
