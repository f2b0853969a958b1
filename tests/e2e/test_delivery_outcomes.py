"""Delivery outcomes against a peer that answers as scripted: retry, gone, final, knock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from federation.actors import follows
from federation.clock import FrozenClock
from federation.outbox import publish
from federation.store.models import Delivery, RemoteHost
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_inbox_refusals import follow_of
from tests.support.instance import Instance
from tests.support.peer import Peer
from tests.support.wait import until

FAST = {"poll_interval_seconds": 0.05}


async def followed_by(instance: Instance, peer: Peer, name: str = "alice") -> None:
    status, answer = await peer.send(
        name, f"{instance.actor_id}/inbox", follow_of(peer, instance.actor_id, name)
    )
    assert status == 202, answer

    async def accepted() -> bool:
        return any(
            r.activity["object"]["actor"] == peer.actor_id(name) for r in peer.inbox_of("Accept")
        )

    await until(accepted, what="the Accept")


async def post(instance: Instance, text: str = "Bonjour") -> str:
    org = await instance.organisation()
    async with instance.rt.sessions.begin() as session:
        _obj, activity = await publish.post_note(session, org, text, instance.rt.clock.now())
    instance.rt.delivery_wakeup.set()
    return activity.uri


async def delivery_of(instance: Instance, inbox: str) -> Delivery | None:
    async with instance.rt.sessions() as session:
        rows = await session.execute(
            select(Delivery).where(Delivery.inbox_url == inbox).order_by(Delivery.id.desc())
        )
        return rows.scalars().first()


async def must(instance: Instance, inbox: str) -> Delivery:
    row = await delivery_of(instance, inbox)
    assert row is not None
    return row


async def wait_state(instance: Instance, inbox: str, state: str) -> Delivery:
    async def reached() -> bool:
        row = await delivery_of(instance, inbox)
        return row is not None and row.state == state

    await until(reached, what=f"delivery to reach {state}")
    return await must(instance, inbox)


async def test_server_error_is_retried_with_backoff_then_delivered(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    a = await instances("collectif", clock=clock, delivery=FAST)
    peer = await peers(["alice"])
    await followed_by(a, peer)
    peer.scripts["/inbox"] = [503]
    await post(a)
    row = await wait_state(a, f"{peer.base}/inbox", "pending")
    await until(lambda: _attempted(a, f"{peer.base}/inbox"), what="a first attempt")
    row = await must(a, f"{peer.base}/inbox")
    assert row.attempts == 1
    assert row.last_status == 503
    assert "server error (HTTP 503)" in (row.last_error or "")
    delay = row.next_attempt_at - clock.now()
    assert timedelta(seconds=15) <= delay <= timedelta(seconds=40)
    assert not peer.inbox_of("Create")
    # When the backoff has passed, the next try delivers it.
    clock.advance(delay + timedelta(seconds=1))
    a.rt.delivery_wakeup.set()
    row = await wait_state(a, f"{peer.base}/inbox", "delivered")
    assert row.attempts == 2
    assert len(peer.inbox_of("Create")) == 1


async def _attempted(instance: Instance, inbox: str) -> bool:
    row = await delivery_of(instance, inbox)
    return row is not None and row.attempts >= 1


async def test_gone_inbox_drops_the_follower(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", delivery=FAST)
    peer = await peers(["alice"], shared_inbox=False)
    await followed_by(a, peer)
    peer.scripts["/users/alice/inbox"] = [410]
    await post(a)
    row = await wait_state(a, peer.inbox("alice"), "gone")
    assert "gone (HTTP 410)" in (row.last_error or "")
    org = await a.organisation()
    async with a.rt.sessions() as session:
        assert await follows.followers(session, org.id) == []


async def test_client_error_is_final_and_says_why(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    a = await instances("collectif", clock=clock, delivery=FAST)
    peer = await peers(["alice"])
    await followed_by(a, peer)
    peer.scripts["/inbox"] = [403]
    await post(a)
    row = await wait_state(a, f"{peer.base}/inbox", "failed")
    assert row.last_status == 403
    assert "refuses our activities" in (row.last_error or "")
    clock.advance(timedelta(days=1))
    a.rt.delivery_wakeup.set()
    row = await must(a, f"{peer.base}/inbox")
    assert row.state == "failed"
    assert row.attempts == 1


async def test_signature_refused_knocks_again_with_rfc9421_and_remembers(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", delivery=FAST)
    peer = await peers(["alice"])
    await followed_by(a, peer)
    peer.scripts["/inbox"] = [401]
    await post(a, "premier")
    await wait_state(a, f"{peer.base}/inbox", "delivered")
    create = peer.inbox_of("Create")[0]
    assert "signature-input" in create.headers and create.verified, create.reason
    async with a.rt.sessions() as session:
        host = await session.get(RemoteHost, f"{peer.ip}:{peer.port}")
    assert host is not None and host.signature_scheme == "rfc9421"
    # The next delivery to that host starts with RFC 9421 directly.
    await post(a, "second")

    async def two() -> bool:
        return len(peer.inbox_of("Create")) == 2

    await until(two, what="the second Create")
    assert "signature-input" in peer.inbox_of("Create")[1].headers
