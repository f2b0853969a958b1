"""Values read from the database at scrape time: the same answer from every process.

Deliveries by state, what is due now (queue depth), inbox items by state, and the
progress of the newest crawl round. A handful of grouped counts on indexed columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from federation.delivery.states import DeliveryState
from federation.inbox.states import InboxState
from federation.observability.metrics import Gauge
from federation.store.models import CrawlNode, CrawlRound, Delivery, DirectoryMember, InboxItem

CRAWL_NODE_STATES = ("pending", "claimed", "done")


async def _grouped(session: AsyncSession, column: InstrumentedAttribute[str]) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).group_by(column))
    return {str(state): int(count) for state, count in rows.all()}


async def collect(session: AsyncSession, now: datetime) -> list[Gauge]:
    deliveries = await _grouped(session, Delivery.state)
    inbox = await _grouped(session, InboxItem.state)
    due = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.state == DeliveryState.PENDING.value, Delivery.next_attempt_at <= now)
    )
    inbox_due = await session.scalar(
        select(func.count())
        .select_from(InboxItem)
        .where(InboxItem.state == InboxState.RECEIVED.value, InboxItem.next_attempt_at <= now)
    )
    gauges = [
        Gauge(
            "declics_deliveries",
            "Delivery rows by state (all processes, from the database).",
            ("state",),
            [((s.value,), deliveries.get(s.value, 0)) for s in DeliveryState],
        ),
        Gauge(
            "declics_delivery_queue_due",
            "Pending deliveries whose next attempt is due now (queue depth).",
            (),
            [((), due or 0)],
        ),
        Gauge(
            "declics_inbox_items",
            "Stored inbound activities by state (all processes, from the database).",
            ("state",),
            [((s.value,), inbox.get(s.value, 0)) for s in InboxState],
        ),
        Gauge(
            "declics_inbox_queue_due",
            "Received inbound activities waiting to be processed now (queue depth).",
            (),
            [((), inbox_due or 0)],
        ),
    ]
    gauges.extend(await _crawl(session))
    return gauges


async def _crawl(session: AsyncSession) -> list[Gauge]:
    newest = (
        await session.execute(select(CrawlRound).order_by(CrawlRound.id.desc()).limit(1))
    ).scalar_one_or_none()
    members = await session.scalar(select(func.count()).select_from(DirectoryMember))
    nodes: dict[str, int] = {}
    if newest is not None:
        rows = await session.execute(
            select(CrawlNode.state, func.count())
            .where(CrawlNode.round_id == newest.id)
            .group_by(CrawlNode.state)
        )
        nodes = {str(state): int(count) for state, count in rows.all()}
    running = newest is not None and newest.finished_at is None
    return [
        Gauge(
            "declics_crawl_round_nodes",
            "Actors of the newest crawl round by state (its progress).",
            ("state",),
            [((s,), nodes.get(s, 0)) for s in CRAWL_NODE_STATES],
        ),
        Gauge(
            "declics_crawl_round_running",
            "1 while the newest crawl round is open, else 0.",
            (),
            [((), 1 if running else 0)],
        ),
        Gauge(
            "declics_crawl_round_requests",
            "Requests made by the newest crawl round.",
            (),
            [((), newest.requests if newest is not None else 0)],
        ),
        Gauge(
            "declics_directory_members",
            "Members in the network directory.",
            (),
            [((), members or 0)],
        ),
    ]
