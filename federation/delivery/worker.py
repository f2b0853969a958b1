"""DeliveryWorker: claims due deliveries, signs at send time, records the outcome.

Concurrency is bounded globally (`delivery.concurrency` requests in flight) and per
host (`delivery.per_host_concurrency`). A per-host breaker (`delivery.breaker`) gives
back untried the deliveries of a host that keeps failing, so it cannot hold the
global slots. One aiohttp session keeps connections alive.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict, deque
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.actors import follows, local
from federation.delivery import hosts, queue
from federation.delivery.breaker import HostBreaker
from federation.delivery.policy import classify
from federation.delivery.states import DeliveryState
from federation.observability import logs, metrics
from federation.runtime import Runtime
from federation.store.models import LocalActor, OutboxActivity, RemoteActor
from federation.transport.client import FetchError, PostResult, Signer
from federation.wakeup import wait_for_work

log = logging.getLogger(__name__)
S = DeliveryState
# A second knock with the other signature flavour is worth it on these answers.
KNOCK_AGAIN = frozenset({400, 401})
# Hosts remembered as healthy (each saves a write per delivery); memory stays bounded.
MAX_HEALTHY_HOSTS = 10000
# Accepted deliveries wait this long at most before being written together (at full
# speed a batch fills first). Each write is a transaction on the event loop's time; a
# crash before it only means that these deliveries are sent again.
FLUSH_DELAY = 0.25


class DeliveryWorker:
    def __init__(self, runtime: Runtime, name: str | None = None) -> None:
        self.rt = runtime
        self.owner = name or f"worker-{uuid.uuid4().hex[:12]}"
        settings = runtime.settings.delivery
        self._lease = timedelta(seconds=settings.lease_seconds)
        self._host_limits: dict[str, asyncio.Semaphore] = {}
        self._host_users: dict[str, int] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._bodies: OrderedDict[int, tuple[bytes, int, str]] = OrderedDict()
        # Per local actor: its key generation and signer. A key rotation (another
        # process) is seen with the next activity loaded, which reads the generation.
        self._signers: dict[int, tuple[int, Signer]] = {}
        self._schemes: dict[str, str] | None = None
        self._loading = asyncio.Lock()
        self._healthy: set[str] = set()
        self._breaker = HostBreaker(
            settings.breaker_failures, timedelta(seconds=settings.breaker_seconds)
        )
        # Hosts found parked when their rows were last claimed.
        self._parked: set[str] = set()
        # Accepted deliveries not written yet: recorded together (see `_record`).
        self._delivered: list[tuple[queue.Claimed, int]] = []
        self._flusher: asyncio.Task[None] | None = None

    # -- the loop -------------------------------------------------------------

    async def run_forever(self) -> None:
        settings = self.rt.settings.delivery
        last_sweep = datetime.min.replace(tzinfo=self.rt.clock.now().tzinfo)
        # Claimed rows waiting for a free slot. Claiming a whole batch at once, not the
        # one or two slots that just freed, keeps the database to one transaction per
        # `batch_size` deliveries; a row that waits here long renews its lease before
        # it is sent (see `_attempt`), and one left here by a crash comes back when
        # its lease expires, like one in flight.
        ready: deque[queue.Claimed] = deque()
        try:
            while True:
                now = self.rt.clock.now()
                idle = False
                try:
                    if now - last_sweep > self._lease / 4:
                        async with self.rt.sessions.begin() as session:
                            await queue.reclaim_expired(session, now)
                        last_sweep = now
                    if not ready and len(self._inflight) < settings.concurrency:
                        ready.extend(await self._claim(settings.batch_size))
                        idle = not ready
                except DBAPIError as err:
                    # A locked or unreachable database is a pause, not the end of the worker.
                    log.warning("delivery worker: database unavailable (%s); retrying", err.orig)
                    await asyncio.sleep(max(settings.poll_interval_seconds, 1.0))
                    continue
                while ready and len(self._inflight) < settings.concurrency:
                    task = asyncio.create_task(self._deliver(ready.popleft()))
                    self._inflight.add(task)
                    task.add_done_callback(self._finished)
                if len(self._inflight) >= settings.concurrency:
                    self._slot_freed.clear()
                    await self._slot_freed.wait()
                elif idle:
                    await wait_for_work(self.rt.delivery_wakeup, settings.poll_interval_seconds)
        finally:
            for task in self._inflight:
                task.cancel()
            await asyncio.gather(*self._inflight, return_exceptions=True)
            if self._flusher is not None:
                self._flusher.cancel()
            await self._flush()
            await self._give_back(ready)

    async def _give_back(self, ready: deque[queue.Claimed]) -> None:
        """Claimed rows not started yet are due again now, not after their lease."""
        if not ready:
            return
        try:
            async with self.rt.write() as session:
                await queue.give_back(session, [item.id for item in ready], self.owner)
        except DBAPIError as err:
            # Their lease expires as if we had crashed: sent later, not lost.
            log.warning("delivery worker: cannot give back claimed rows (%s)", err.orig)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        # One event, not `asyncio.wait` on every task in flight each time one ends.
        self._slot_freed.set()

    async def run_once(self) -> int:
        """Claim and deliver everything due now, once (tests and benchmarks)."""
        total = 0
        while True:
            claimed = await self._claim(self.rt.settings.delivery.batch_size)
            if not claimed:
                return total
            total += len(claimed)
            await asyncio.gather(*(self._deliver(item) for item in claimed))
            await self._flush()

    async def _claim(self, limit: int) -> list[queue.Claimed]:
        async with self.rt.write() as session:
            claimed = await queue.claim_due(
                session, self.owner, self.rt.clock.now(), limit, self._lease
            )
            batch = {item.host for item in claimed}
            parked = await hosts.parked_among(session, batch)
        self._parked = (self._parked - batch) | parked
        return claimed

    # -- one delivery ---------------------------------------------------------

    async def _deliver(self, item: queue.Claimed) -> None:
        limit = self._host_limits.get(item.host)
        if limit is None:
            per_host = self.rt.settings.delivery.per_host_concurrency
            limit = self._host_limits[item.host] = asyncio.Semaphore(per_host)
        self._host_users[item.host] = self._host_users.get(item.host, 0) + 1
        try:
            if await self._skipped(item):
                return
            async with limit:
                # The breaker may have opened while this one waited for its turn.
                if await self._skipped(item):
                    return
                with logs.bound(delivery_id=str(item.id), activity_id=None, request_id=None):
                    await self._attempt(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery %s to %s crashed", item.id, item.inbox_url)
        finally:
            # Forget idle hosts so that memory stays bounded over many hosts.
            self._host_users[item.host] -= 1
            if not self._host_users[item.host]:
                del self._host_users[item.host]
                del self._host_limits[item.host]

    async def _skipped(self, item: queue.Claimed) -> bool:
        """Give the row back untried when the host's breaker is open."""
        until = self._breaker.blocked_until(item.host, self.rt.clock.now())
        if until is None:
            return False
        async with self.rt.sessions.begin() as session:
            await queue.defer(
                session, item, self.owner, until=until, reason=self._breaker.describe(item.host)
            )
        return True

    async def _attempt(self, item: queue.Claimed) -> None:
        now = self.rt.clock.now()
        # Parked hosts were read with the claim; a lease taken moments ago is still
        # ours: a delivery then costs no query before its POST.
        if item.host in self._parked:
            async with self.rt.write() as session:
                await queue.record(
                    session,
                    item,
                    self.owner,
                    S.PARKED,
                    now=now,
                    status=None,
                    error="host parked after failing for days",
                    next_attempt_at=None,
                    count_attempt=False,
                )
            return
        if now - item.claimed_at > self._lease / 2:
            # Waiting for the host's turn may have eaten our lease.
            async with self.rt.write() as session:
                if not await queue.renew_lease(session, item.id, self.owner, now + self._lease):
                    return
        body, signer, uri = await self._load(item.activity_id)
        logs.bind(activity_id=uri)
        status, error, retry_after, permanent = None, None, None, False
        started = time.perf_counter()
        try:
            result = await self._post(item, body, signer)
            status, retry_after = result.status, result.retry_after
        except FetchError as err:
            error = err.reason
            permanent = "private or" in err.reason or "refused outside" in err.reason
        metrics.DELIVERY_ATTEMPT_SECONDS.observe(time.perf_counter() - started)
        await self._record(item, status, error, retry_after, permanent)

    async def _post(self, item: queue.Claimed, body: bytes, signer: Signer) -> PostResult:
        schemes = await self._known_schemes()
        first = "rfc9421" if schemes.get(item.host) == "rfc9421" else "cavage"
        result = await self.rt.client.post(item.inbox_url, body, signer, first)  # type: ignore[arg-type]
        if result.status in KNOCK_AGAIN:
            second = "cavage" if first == "rfc9421" else "rfc9421"
            retried = await self.rt.client.post(item.inbox_url, body, signer, second)  # type: ignore[arg-type]
            if 200 <= retried.status < 300:
                async with self.rt.sessions.begin() as session:
                    await hosts.remember_scheme(session, item.host, second)
                schemes[item.host] = second
                return retried
        return result

    async def _known_schemes(self) -> dict[str, str]:
        if self._schemes is None:
            async with self._loading:
                if self._schemes is None:
                    async with self.rt.sessions() as session:
                        self._schemes = await hosts.signature_schemes(session)
        return self._schemes

    async def _record(
        self,
        item: queue.Claimed,
        status: int | None,
        error: str | None,
        retry_after: str | None,
        permanent: bool,
    ) -> None:
        now = self.rt.clock.now()
        outcome = classify(
            status=status,
            error=error,
            host=item.host,
            attempts=item.attempts,
            created_at=item.created_at,
            now=now,
            max_age=timedelta(hours=self.rt.settings.delivery.max_age_hours),
            retry_after=retry_after,
            permanent_error=permanent,
        )
        park_after = timedelta(hours=self.rt.settings.delivery.park_after_hours)
        metrics.DELIVERY_ATTEMPTS.inc(outcome.state.value)
        if outcome.state is S.DELIVERED:
            metrics.DELIVERY_LATENCY.observe(max((now - item.created_at).total_seconds(), 0.0))
        if outcome.state is S.DELIVERED and status is not None:
            # A fan-out is mostly this case: written in batches, not a transaction each.
            # A crash before the write leaves the row `sending`; its lease expires and
            # it is sent again (at-least-once, as for any crash mid-delivery).
            self._breaker.success(item.host)
            self._delivered.append((item, status))
            if len(self._delivered) >= self.rt.settings.delivery.batch_size:
                await self._flush()
            elif self._flusher is None:
                self._flusher = asyncio.create_task(self._flush_soon())
            return
        async with self.rt.write() as session:
            await queue.record(
                session,
                item,
                self.owner,
                outcome.state,
                now=now,
                status=status,
                error=outcome.reason,
                next_attempt_at=outcome.next_attempt_at,
            )
            if outcome.state is S.DELIVERED:
                self._breaker.success(item.host)
                if item.host not in self._healthy:
                    await hosts.record_success(session, item.host, now)
                    if len(self._healthy) >= MAX_HEALTHY_HOSTS:
                        # Forgetting costs one write per host later, never memory.
                        self._healthy.clear()
                    self._healthy.add(item.host)
            elif outcome.state is S.GONE:
                await self._mark_gone(session, item.inbox_url, now)
            elif status is None or status >= 500:
                # Only transport errors and server errors say the host is unwell.
                self._healthy.discard(item.host)
                self._breaker.failure(item.host, outcome.reason, now)
                await hosts.record_failure(session, item.host, now, park_after)
        if outcome.state is not S.DELIVERED:
            log.info(
                "delivery %s to %s: %s (%s)",
                item.id,
                item.inbox_url,
                outcome.state,
                outcome.reason,
            )

    async def _flush_soon(self, delay: float = FLUSH_DELAY) -> None:
        try:
            await asyncio.sleep(delay)
        finally:
            self._flusher = None
        await self._flush()

    async def _flush(self) -> None:
        batch, self._delivered = self._delivered, []
        if not batch:
            return
        now = self.rt.clock.now()
        revived = {item.host for item, _ in batch} - self._healthy
        try:
            async with self.rt.write() as session:
                await queue.record_delivered(session, batch, self.owner, now)
                await hosts.record_successes(session, revived, now)
            if len(self._healthy) + len(revived) > MAX_HEALTHY_HOSTS:
                # Forgetting costs one write per host later, never memory.
                self._healthy.clear()
            self._healthy |= revived
        except DBAPIError as err:
            # Kept for the next write; the leases outlast a short outage.
            log.warning("delivery worker: cannot record deliveries (%s); retrying", err.orig)
            self._delivered[:0] = batch
            if self._flusher is None:
                # Not every FLUSH_DELAY: a long outage would log twenty lines a second.
                retry = max(self.rt.settings.delivery.poll_interval_seconds, 1.0)
                self._flusher = asyncio.create_task(self._flush_soon(retry))

    async def _mark_gone(self, session: AsyncSession, inbox_url: str, now: datetime) -> None:
        actors = (
            await session.execute(select(RemoteActor).where(RemoteActor.inbox == inbox_url))
        ).scalars()
        for actor in actors:
            await follows.forget_actor(session, actor, now)

    async def _load(self, activity_id: int) -> tuple[bytes, Signer, str]:
        """The activity's body, its signer and id: read once per activity, by one task
        (the first deliveries of a fan-out all start at once)."""
        cached = self._bodies.get(activity_id)
        if cached is None or cached[1] not in self._signers:
            async with self._loading:
                return await self._load_now(activity_id)
        body, actor_id, uri = cached
        return body, self._signers[actor_id][1], uri

    async def _load_now(self, activity_id: int) -> tuple[bytes, Signer, str]:
        cached = self._bodies.get(activity_id)
        if cached is None:
            async with self.rt.sessions() as session:
                row = (
                    await session.execute(
                        select(
                            OutboxActivity.body,
                            OutboxActivity.local_actor_id,
                            OutboxActivity.uri,
                            LocalActor.key_generation,
                        )
                        .join(LocalActor, LocalActor.id == OutboxActivity.local_actor_id)
                        .where(OutboxActivity.id == activity_id)
                    )
                ).one()
            cached = (row[0].encode("utf-8"), row[1], row[2])
            self._bodies[activity_id] = cached
            while len(self._bodies) > 64:
                self._bodies.popitem(last=False)
            known = self._signers.get(row[1])
            if known is not None and known[0] != row[3]:
                del self._signers[row[1]]
        body, actor_id, uri = cached
        entry = self._signers.get(actor_id)
        if entry is None:
            async with self.rt.sessions() as session:
                actor = await session.get(LocalActor, actor_id)
            if actor is None:
                raise LookupError(f"local actor {actor_id} vanished")
            entry = self._signers[actor_id] = (actor.key_generation or 0, local.signer_of(actor))
        return body, entry[1], uri
