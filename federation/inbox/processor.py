"""The inbox worker: processes stored activities, each in its own transaction.

Rows are claimed with a lease like deliveries, so a crash in the middle leaves the
activity to be processed again (handlers are idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from federation.delivery.policy import backoff
from federation.inbox import handlers
from federation.inbox.intake import signer_for
from federation.inbox.states import InboxState
from federation.observability import logs
from federation.runtime import Runtime
from federation.store.engine import dialect_name
from federation.store.models import InboxItem, LocalActor
from federation.vocab.normalize import ProtocolError, parse_activity
from federation.wakeup import wait_for_work

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


class InboxProcessor:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def run_forever(self) -> None:
        poll = self.rt.settings.delivery.poll_interval_seconds
        while True:
            try:
                if await self.run_once():
                    continue
            except DBAPIError as err:
                # A locked or unreachable database is a pause, not the end of the worker.
                log.warning("inbox worker: database unavailable (%s); retrying", err.orig)
                await asyncio.sleep(max(poll, 1.0))
                continue
            await wait_for_work(self.rt.inbox_wakeup, poll)

    async def _claim(self, limit: int = 32) -> list[tuple[int, int | None, dict[str, object]]]:
        now = self.rt.clock.now()
        lease = timedelta(seconds=self.rt.settings.delivery.lease_seconds)
        async with self.rt.sessions.begin() as session:
            due = (
                select(InboxItem.id)
                .where(
                    (InboxItem.state == InboxState.RECEIVED.value)
                    & (InboxItem.next_attempt_at <= now)
                    | (InboxItem.state == InboxState.PROCESSING.value)
                    & (InboxItem.lease_expires_at < now)
                )
                .order_by(InboxItem.id)
                .limit(limit)
            )
            if dialect_name(session) == "postgresql":
                due = due.with_for_update(skip_locked=True)
            result = await session.execute(
                update(InboxItem)
                .where(InboxItem.id.in_(due.scalar_subquery()))
                .values(state=InboxState.PROCESSING.value, lease_expires_at=now + lease)
                .returning(InboxItem.id, InboxItem.recipient_id, InboxItem.payload)
                .execution_options(synchronize_session=False)
            )
            return [(i, r, p) for i, r, p in result.all()]

    async def run_once(self) -> int:
        """Process what is due now; returns how many activities were taken."""
        claimed = await self._claim()
        for item_id, recipient_id, payload in claimed:
            with logs.bound(activity_id=str(payload.get("id")), request_id=None):
                await self._process(item_id, recipient_id, payload)
        return len(claimed)

    async def _process(
        self, item_id: int, recipient_id: int | None, payload: dict[str, object]
    ) -> None:
        state, error = InboxState.PROCESSED, None
        next_at = None
        try:
            activity = parse_activity(payload)
            domain = await self._domain(recipient_id)
            ctx = handlers.Context(self.rt, await signer_for(self.rt, domain), recipient_id)
            outcome = await handlers.dispatch(ctx, activity)
            if outcome.startswith("ignored"):
                state, error = InboxState.IGNORED, outcome
            log.debug("inbox item %s: %s", item_id, outcome)
        except ProtocolError as err:
            state, error = InboxState.FAILED, err.reason
        except handlers.Retry as err:
            state, error = InboxState.RECEIVED, str(err)
        except Exception as err:
            log.exception("inbox item %s failed", item_id)
            state, error = InboxState.RECEIVED, f"internal error: {type(err).__name__}"
        now = self.rt.clock.now()
        async with self.rt.sessions.begin() as session:
            item = await session.get(InboxItem, item_id)
            if item is None:
                return
            item.attempts += 1
            if state is InboxState.RECEIVED:
                if item.attempts >= MAX_ATTEMPTS:
                    state = InboxState.FAILED
                else:
                    next_at = now + backoff(item.attempts)
            item.state = state.value
            item.last_error = error[:500] if error else None
            item.lease_expires_at = None
            if next_at is not None:
                item.next_attempt_at = next_at
            if state in (InboxState.PROCESSED, InboxState.IGNORED, InboxState.FAILED):
                item.processed_at = now

    async def _domain(self, recipient_id: int | None) -> str:
        async with self.rt.sessions() as session:
            if recipient_id is not None:
                actor = await session.get(LocalActor, recipient_id)
                if actor is not None:
                    return actor.domain
            first = (await session.execute(select(LocalActor.domain).limit(1))).scalar()
            return first or ""
