"""Trust in a small network: members-only, blocks, follow-back, recommendations, and
practices forwarded with their author's integrity proof."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from federation.actors import recommendations, remote, trust
from federation.content import sharing
from federation.inbox.intake import signer_for
from federation.store.models import InboxItem
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by, post
from tests.e2e.test_federation import follow, follower_uris, following_state
from tests.e2e.test_inbox_refusals import follow_of
from tests.e2e.test_practices import library, practice_file, publish, publish_commitments
from tests.support.instance import Instance
from tests.support.wait import until

FAST = {"poll_interval_seconds": 0.05}


async def member(instances: InstanceFactory, name: str, **overrides: object) -> Instance:
    """A Déclics instance whose organisation has signed the charter."""
    instance = await instances(name, delivery=FAST, **overrides)
    await publish_commitments(instance, "in-progress")
    return instance


async def test_members_only_refuses_non_members_and_accepts_members(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await member(
        instances, "collectif", trust={"members_only": True, "non_member_followers": False}
    )
    peer = await peers(["alice"])
    status, answer = await peer.send("alice", f"{a.actor_id}/inbox", follow_of(peer, a.actor_id))
    assert status == 403
    assert "only accepts activities from members" in answer["error"]
    b = await member(instances, "atelier")
    await follow(b, a.handle)

    async def accepted() -> bool:
        return await following_state(b, a) == "accepted"

    await until(accepted, what="a member's follow to be accepted")
    async with a.rt.sessions() as session:
        stored = (await session.execute(select(InboxItem.actor_uri))).scalars().all()
    assert peer.actor_id("alice") not in stored


async def test_members_only_may_still_let_mastodon_accounts_follow(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await member(instances, "collectif", trust={"members_only": True})
    peer = await peers(["alice"])
    await followed_by(a, peer)  # a Follow from a non-member is still allowed
    reply = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.base}/notes/9/activity",
        "type": "Create",
        "actor": peer.actor_id("alice"),
        "object": {
            "id": f"{peer.base}/notes/9",
            "type": "Note",
            "content": "x",
            "attributedTo": peer.actor_id("alice"),
        },
    }
    status, _ = await peer.send("alice", f"{a.base_url}/inbox", reply)
    assert status == 403


async def test_blocked_domain_gets_nothing_and_cannot_follow(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", delivery=FAST)
    peer = await peers(["alice", "bob"])
    await followed_by(a, peer, "alice")
    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        block = await trust.add(session, org.id, "domain", peer.ip, a.rt.clock.now())
        assert await trust.drop_relations(session, block) == 1
    assert await follower_uris(a) == set()
    await post(a, "Pour nos abonnés")
    status, answer = await peer.send(
        "bob", f"{a.actor_id}/inbox", follow_of(peer, a.actor_id, "bob")
    )
    assert status == 403
    assert "blocked" in answer["error"]
    await until(lambda: _nothing_pending(a), what="the outbox to settle")
    assert peer.inbox_of("Create") == []


async def _nothing_pending(instance: Instance) -> bool:
    from federation.store.models import Delivery

    async with instance.rt.sessions() as session:
        states = (await session.execute(select(Delivery.state))).scalars().all()
    return all(state != "pending" for state in states)


async def test_members_follow_back_and_share_block_recommendations(
    instances: InstanceFactory,
) -> None:
    a = await member(instances, "collectif")
    b = await member(instances, "atelier")
    # Joining = following one member: it follows back.
    await follow(b, a.handle)

    async def mutual() -> bool:
        return await following_state(a, b) == "accepted"

    await until(mutual, what="A to follow B back")

    # A recommends a block; B reads it, and applies it only when its operator says so.
    org_a, org_b = await a.organisation(), await b.organisation()
    async with a.rt.sessions.begin() as session:
        await trust.add(
            session,
            org_a.id,
            "domain",
            "spam.example",
            a.rt.clock.now(),
            reason="spam",
            recommend=True,
        )
        await trust.add(session, org_a.id, "domain", "private.example", a.rt.clock.now())
    async with b.rt.sessions.begin() as session:
        await recommendations.subscribe(session, org_b, a.actor_id, b.rt.clock.now())
    signer = await signer_for(b.rt, org_b.domain)
    assert await recommendations.fetch(b.rt, org_b, signer) == 1
    assert await recommendations.fetch(b.rt, org_b, signer) == 0  # already known
    async with b.rt.sessions.begin() as session:
        [pending] = await recommendations.pending(session, org_b)
        assert (pending.value, pending.reason) == ("spam.example", "spam")
        assert not await trust.is_blocked(session, org_b.id, "https://spam.example/u/x")
        await recommendations.decide(session, org_b, pending.id, True, b.rt.clock.now())
    async with b.rt.sessions() as session:
        assert await trust.is_blocked(session, org_b.id, "https://www.spam.example/u/x")
        assert not await trust.is_blocked(session, org_b.id, "https://private.example/u/x")


async def test_forwarded_practice_verified_by_proof_without_the_origin(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await member(instances, "collectif")
    b = await member(instances, "atelier")
    c = await member(instances, "fabrique")
    practice = await publish(a, practice_file("Mutualiser la comptabilité"))
    await follow(b, a.handle)
    await follow(c, b.handle)

    async def b_has_it() -> bool:
        return practice in await library(b) and await following_state(c, b) == "accepted"

    await until(b_has_it, what="B's library and C's follow")
    # C knows A's key (from an earlier visit), then A's server goes away.
    org_c = await c.organisation()
    await remote.resolve(c.rt, a.actor_id, await signer_for(c.rt, org_c.domain))
    await a.stop()
    org_b = await b.organisation()
    async with b.rt.sessions.begin() as session:
        await sharing.share(session, org_b, practice, b.rt.clock.now())
    b.rt.delivery_wakeup.set()

    async def c_has_it() -> bool:
        return practice in await library(c)

    await until(c_has_it, what="the forwarded practice, checked by its proof alone")
    assert (await library(c))[practice].title == "Mutualiser la comptabilité"


async def test_forwarded_practice_with_altered_proof_is_refused(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await member(instances, "collectif")
    b = await member(instances, "atelier")
    practice = await publish(a, practice_file("Gouvernance partagée"))
    await follow(b, a.handle)

    async def b_has_it() -> bool:
        return practice in await library(b)

    await until(b_has_it, what="B's library")
    original = (await library(b))[practice].document
    # A peer that B follows forwards A's practice with words A never wrote.
    c = await instances("fabrique", delivery=FAST)
    peer = await peers(["mallory"])
    await follow(c, f"mallory@{peer.host}")
    await until(lambda: _accepted_by_peer(c, peer), what="C to follow the peer")
    altered = copy.deepcopy(original)
    altered["name"] = "Gouvernance confisquée"
    forged = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{peer.base}/announces/1",
        "type": "Announce",
        "actor": peer.actor_id("mallory"),
        "object": altered,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    status, answer = await peer.send("mallory", f"{c.base_url}/inbox", forged)
    assert status == 401
    assert "integrity proof refused" in answer["error"]
    # The intact copy is accepted.
    intact = dict(forged, id=f"{peer.base}/announces/2", object=original)
    status, answer = await peer.send("mallory", f"{c.base_url}/inbox", intact)
    assert status == 202, answer
    assert json.dumps(original)  # the stored document is the author's own


async def _accepted_by_peer(instance: Instance, peer: object) -> bool:
    from tests.support.peer import Peer

    assert isinstance(peer, Peer)
    return bool(peer.received) or await _peer_follow_pending(instance)


async def _peer_follow_pending(instance: Instance) -> bool:
    org = await instance.organisation()
    from federation.actors import follows

    async with instance.rt.sessions() as session:
        rows = await follows.followings(session, org.id, (follows.PENDING, follows.ACCEPTED))
    return bool(rows)


@pytest.mark.parametrize(("kind", "value"), [("domain", "a b"), ("actor", "not-a-url"), ("x", "y")])
def test_bad_block_values_are_refused(kind: str, value: str) -> None:
    from federation.errors import CommandError

    with pytest.raises(CommandError):
        trust.normalise(kind, value)
