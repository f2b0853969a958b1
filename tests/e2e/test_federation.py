"""Three Déclics servers and a Mastodon-shaped peer federating over real HTTP on loopback."""

from __future__ import annotations

import copy
import json
from typing import Any

import aiohttp
from apsig.proof import ProofVerifier
from sqlalchemy import select

from federation.actors import follows, remote, webfinger
from federation.inbox.intake import signer_for
from federation.outbox import follow as follow_use_cases
from federation.outbox import publish
from federation.store.models import Follower, InboxItem
from tests.conftest import InstanceFactory, PeerFactory
from tests.support.instance import Instance
from tests.support.wait import until

AS_ACCEPT = {"Accept": "application/activity+json"}


async def follow(follower: Instance, target_handle: str) -> None:
    """What `declics follow @user@host` does: WebFinger, fetch, Follow."""
    org = await follower.organisation()
    handle = webfinger.parse_handle(target_handle)
    assert handle is not None
    uri = await webfinger.lookup(follower.rt, handle)
    signer = await signer_for(follower.rt, org.domain)
    target = await remote.resolve(follower.rt, uri, signer)
    async with follower.rt.sessions.begin() as session:
        await follow_use_cases.follow(session, org, target, follower.rt.clock.now())
    follower.rt.delivery_wakeup.set()


async def following_state(instance: Instance, target: Instance) -> str | None:
    org = await instance.organisation()
    async with instance.rt.sessions() as session:
        rows = await follows.followings(
            session, org.id, (follows.ACCEPTED, follows.PENDING, follows.REJECTED)
        )
    return next((f.state for f, a in rows if a.uri == target.actor_id), None)


async def follower_uris(instance: Instance, state: str = follows.ACCEPTED) -> set[str]:
    org = await instance.organisation()
    async with instance.rt.sessions() as session:
        rows = await follows.followers(session, org.id, state)
    return {actor.uri for _row, actor in rows}


async def received(instance: Instance, activity_type: str) -> list[dict[str, object]]:
    async with instance.rt.sessions() as session:
        rows = await session.execute(
            select(InboxItem.payload).where(InboxItem.activity_type == activity_type)
        )
        return [payload for (payload,) in rows.all()]


async def test_discovery_documents(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{a.base_url}/.well-known/webfinger", params={"resource": f"acct:{a.handle}"}
        ) as response:
            assert response.status == 200
            assert response.content_type == "application/jrd+json"
            jrd = await response.json(content_type=None)
        assert jrd["subject"] == f"acct:{a.handle}"
        selfs = [link for link in jrd["links"] if link["rel"] == "self"]
        assert selfs == [{"rel": "self", "type": "application/activity+json", "href": a.actor_id}]
        # The actor URL as resource finds the same account.
        async with http.get(
            f"{a.base_url}/.well-known/webfinger", params={"resource": a.actor_id}
        ) as response:
            assert (await response.json(content_type=None))["subject"] == jrd["subject"]
        async with http.get(
            f"{a.base_url}/.well-known/webfinger", params={"resource": "acct:nobody@x.example"}
        ) as response:
            assert response.status == 404
        # FEP-d556: the server's own URL finds its application actor.
        async with http.get(
            f"{a.base_url}/.well-known/webfinger", params={"resource": f"{a.base_url}/"}
        ) as response:
            server_jrd = await response.json(content_type=None)
        assert server_jrd["subject"] == f"{a.base_url}/"
        assert {
            "rel": "https://www.w3.org/ns/activitystreams#Application",
            "type": "application/activity+json",
            "href": f"{a.base_url}/actor",
        } in server_jrd["links"]
        async with http.get(f"{a.base_url}/.well-known/host-meta") as response:
            assert response.content_type == "application/xrd+xml"
            assert "/.well-known/webfinger?resource={uri}" in await response.text()
        async with http.get(f"{a.base_url}/.well-known/nodeinfo") as response:
            links = (await response.json())["links"]
        assert {link["rel"].rsplit("/", 1)[1] for link in links} == {"2.0", "2.1"}
        for link in links:
            async with http.get(link["href"]) as response:
                info = await response.json(content_type=None)
            assert info["software"]["name"] == "declics"
            assert info["protocols"] == ["activitypub"]
            assert info["metadata"]["network"] == "Déclics"
            assert info["metadata"]["charter"]["version"] == "2023-09-14"
        # Content negotiation: AS2 for fediverse clients, HTML for browsers.
        actor: dict[str, Any] = {}
        for accept in (
            "application/activity+json",
            'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
            "application/ld+json",
        ):
            async with http.get(a.actor_id, headers={"Accept": accept}) as response:
                assert response.content_type == "application/activity+json"
                actor = await response.json(content_type=None)
            assert actor["id"] == a.actor_id
            assert actor["type"] == "Organization"
        async with http.get(a.actor_id, headers={"Accept": "text/html"}) as response:
            assert response.content_type == "text/html"
            assert "Organisation collectif" in await response.text()
        async with http.get(f"{a.base_url}/actor", headers=AS_ACCEPT) as response:
            app_actor = await response.json(content_type=None)
        assert app_actor["type"] == "Application"
        for name in ("outbox", "followers", "following"):
            async with http.get(actor[name], headers=AS_ACCEPT) as response:
                collection = await response.json(content_type=None)
            assert collection["type"] == "OrderedCollection"
            assert collection["totalItems"] == 0
            assert collection["first"] == f"{actor[name]}?page=1"


async def test_three_members_follow_post_fan_out_undo(instances: InstanceFactory) -> None:
    # Given three members, B and C follow A by handle
    a = await instances("collectif")
    b = await instances("atelier")
    c = await instances("fabrique")
    await follow(b, a.handle)
    await follow(c, a.handle)
    await until(lambda: _states_are(b, a, c, "accepted"), what="A's Accept to reach B and C")
    assert await follower_uris(a) == {b.actor_id, c.actor_id}

    # When A posts a note
    org_a = await a.organisation()
    async with a.rt.sessions.begin() as session:
        note, _ = await publish.post_note(session, org_a, "Bonjour le réseau", a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    # Then B and C receive the same signed Create
    async def both_got_it() -> bool:
        for member in (b, c):
            creates = await received(member, "Create")
            if not any(p["object"]["id"] == note.uri for p in creates):  # type: ignore[index]
                return False
        return True

    await until(both_got_it, what="the Create to reach B and C")
    # The outbox shows it, the object URL serves it.
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{a.actor_id}/outbox?page=1", headers=AS_ACCEPT) as response:
            page = await response.json(content_type=None)
        assert page["orderedItems"][0]["object"]["id"] == note.uri
        async with http.get(note.uri, headers=AS_ACCEPT) as response:
            assert (await response.json(content_type=None))["content"] == (
                "<p>Bonjour le réseau</p>"
            )
        async with http.get(f"{a.actor_id}/followers?page=1", headers=AS_ACCEPT) as r:
            assert set((await r.json(content_type=None))["orderedItems"]) == {
                b.actor_id,
                c.actor_id,
            }

    # When A follows B back, and C unfollows A
    await follow(a, b.handle)
    await until(lambda: _state(a, b, "accepted"), what="B's Accept to reach A")
    org_c = await c.organisation()
    async with c.rt.sessions() as session:
        target = await remote.get_cached(session, a.actor_id)
    assert target is not None
    async with c.rt.sessions.begin() as session:
        await follow_use_cases.unfollow(session, org_c, target, c.rt.clock.now())
    c.rt.delivery_wakeup.set()

    async def c_gone() -> bool:
        return await follower_uris(a) == {b.actor_id}

    await until(c_gone, what="the Undo to reach A")
    assert await following_state(c, a) is None
    assert await follower_uris(b) == {a.actor_id}


async def _state(x: Instance, target: Instance, state: str) -> bool:
    return await following_state(x, target) == state


async def _states_are(b: Instance, a: Instance, c: Instance, state: str) -> bool:
    return await _state(b, a, state) and await _state(c, a, state)


async def test_manual_approval_then_approve_and_reject(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        row = await session.get(type(org), org.id)
        assert row is not None
        row.manually_approves_followers = True
    peer = await peers(["alice", "bob"])
    for name in ("alice", "bob"):
        status, _ = await peer.send(
            name,
            f"{a.actor_id}/inbox",
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": peer.new_id(name),
                "type": "Follow",
                "actor": peer.actor_id(name),
                "object": a.actor_id,
            },
        )
        assert status == 202

    async def both_pending() -> bool:
        return len(await follower_uris(a, follows.PENDING)) == 2

    await until(both_pending, what="two pending requests")
    assert not peer.inbox_of("Accept")
    async with a.rt.sessions.begin() as session:
        for name, accept in (("alice", True), ("bob", False)):
            actor = await remote.get_cached(session, peer.actor_id(name))
            assert actor is not None
            req = (
                await session.execute(select(Follower).where(Follower.remote_actor_id == actor.id))
            ).scalar_one()
            await follow_use_cases.respond(
                session, org, req, actor, a.rt.clock.now(), accept=accept
            )
    a.rt.delivery_wakeup.set()

    async def answered() -> bool:
        return bool(peer.inbox_of("Accept")) and bool(peer.inbox_of("Reject"))

    await until(answered, what="Accept and Reject at the peer")
    accepted = peer.inbox_of("Accept")[0]
    assert accepted.verified, accepted.reason
    assert accepted.path == "/users/alice/inbox"
    assert accepted.activity["object"]["actor"] == peer.actor_id("alice")
    assert peer.inbox_of("Reject")[0].path == "/users/bob/inbox"
    assert await follower_uris(a) == {peer.actor_id("alice")}


async def test_mastodon_shaped_follower_gets_accept_and_posts(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    follow_id = f"{peer.base}/{json.dumps(1)}-follow"
    status, _ = await peer.send(
        "alice",
        f"{a.actor_id}/inbox",
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": follow_id,
            "type": "Follow",
            "actor": peer.actor_id("alice"),
            "object": a.actor_id,
        },
    )
    assert status == 202
    await until(lambda: _has(peer, "Accept"), what="the Accept")
    accept = peer.inbox_of("Accept")[0]
    # Mastodon matches the Accept by the embedded Follow's id, actor and object.
    assert accept.verified, accept.reason
    assert accept.activity["actor"] == a.actor_id
    assert accept.activity["object"] == {
        "id": follow_id,
        "type": "Follow",
        "actor": peer.actor_id("alice"),
        "object": a.actor_id,
    }
    assert accept.headers["digest"].startswith("SHA-256=")
    assert 'headers="(request-target) host date digest"' in accept.headers["signature"]

    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        await publish.post_note(session, org, "Une annonce", a.rt.clock.now())
    a.rt.delivery_wakeup.set()
    await until(lambda: _has(peer, "Create"), what="the Create")
    create = peer.inbox_of("Create")[0]
    # One delivery to the shared inbox, public addressing as Mastodon expects.
    assert create.path == "/inbox"
    assert create.verified, create.reason
    assert create.activity["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert create.activity["cc"] == [f"{a.actor_id}/followers"]
    assert create.activity["object"]["attributedTo"] == a.actor_id
    # The activity carries a FEP-8b32 proof that an independent verifier (apsig) accepts.
    async with (
        aiohttp.ClientSession() as http,
        http.get(a.actor_id, headers=AS_ACCEPT) as response,
    ):
        actor = await response.json(content_type=None)
    [multikey] = actor["assertionMethod"]
    verifier = ProofVerifier(multikey["publicKeyMultibase"])
    method = verifier.verify_proof(copy.deepcopy(create.activity), raise_on_fail=True)
    assert method == multikey["id"]


async def _has(peer: object, kind: str) -> bool:
    from tests.support.peer import Peer

    assert isinstance(peer, Peer)
    return bool(peer.inbox_of(kind))
