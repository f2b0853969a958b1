"""Replies, likes and boosts of our objects; remote actor updates, deletes, key rotation."""

from __future__ import annotations

from typing import Any

import aiohttp
from sqlalchemy import select

from federation import keypairs
from federation.actors import follows
from federation.content import moderation
from federation.store.models import Interaction, RemoteActor, RemoteKey
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by, post
from tests.support.instance import Instance
from tests.support.peer import Peer
from tests.support.wait import until

AS = "https://www.w3.org/ns/activitystreams"


async def note_uri(instance: Instance) -> str:
    await post(instance, "Une pratique à discuter")
    async with instance.rt.sessions() as session:
        from federation.store.models import LocalObject

        return (await session.execute(select(LocalObject.uri))).scalar_one()


async def interactions(instance: Instance) -> list[Interaction]:
    async with instance.rt.sessions() as session:
        return list((await session.execute(select(Interaction))).scalars())


def reply(peer: Peer, to: str, content: str, note_id: str | None = None) -> dict[str, Any]:
    note_id = note_id or f"{peer.base}/notes/1"
    return {
        "@context": AS,
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": peer.actor_id("alice"),
        "to": [f"{AS}#Public"],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": peer.actor_id("alice"),
            "inReplyTo": to,
            "content": content,
            "to": [f"{AS}#Public"],
        },
    }


async def test_reply_like_boost_recorded_sanitized_and_undone(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    await followed_by(a, peer)
    target = await note_uri(a)
    hostile = (
        '<p>Merci !<script>alert(1)</script><img src=x onerror="alert(2)">'
        '<a href="javascript:alert(3)">clic</a> <a href="https://ok.example">lien</a></p>'
    )
    like_id = f"{peer.actor_id('alice')}#likes/1"
    sent = [
        reply(peer, target, hostile),
        {
            "@context": AS,
            "id": like_id,
            "type": "Like",
            "actor": peer.actor_id("alice"),
            "object": target,
        },
        {
            "@context": AS,
            "id": f"{peer.base}/boosts/1",
            "type": "Announce",
            "actor": peer.actor_id("alice"),
            "object": target,
            "to": [f"{AS}#Public"],
        },
    ]
    for activity in sent:
        status, answer = await peer.send("alice", f"{a.base_url}/inbox", activity)
        assert status == 202, answer

    async def three() -> bool:
        return len(await interactions(a)) == 3

    await until(three, what="reply, like and boost recorded")
    rows = {row.kind: row for row in await interactions(a)}
    html = rows["reply"].content_html or ""
    for bad in ("<script", "onerror", "javascript:", "<img"):
        assert bad not in html
    assert 'href="https://ok.example"' in html
    # The object's page shows the counts and the sanitized reply.
    async with aiohttp.ClientSession() as http, http.get(target) as response:
        page = await response.text()
    assert "1 j’aime" in page and "1 partages" in page and "Merci !" in page
    assert "<script>alert(1)" not in page
    # The operator hides the reply: the page no longer shows it.
    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        [listed] = await moderation.replies(session, org, target)
        await moderation.set_hidden(session, org, listed.id, hidden=True)
    async with aiohttp.ClientSession() as http, http.get(target) as response:
        page = await response.text()
    assert "Merci !" not in page and "0 réponses" in page
    async with a.rt.sessions.begin() as session:
        await moderation.set_hidden(session, org, listed.id, hidden=False)

    # Undo of the Like removes it; an Undo by someone else would not.
    undo = {
        "@context": AS,
        "id": f"{like_id}/undo",
        "type": "Undo",
        "actor": peer.actor_id("alice"),
        "object": {
            "id": like_id,
            "type": "Like",
            "actor": peer.actor_id("alice"),
            "object": target,
        },
    }
    status, _ = await peer.send("alice", f"{a.base_url}/inbox", undo)
    assert status == 202

    async def two() -> bool:
        return {row.kind for row in await interactions(a)} == {"reply", "announce"}

    await until(two, what="the like to be withdrawn")
    # Deleting the reply removes it too.
    delete = {
        "@context": AS,
        "id": f"{peer.base}/notes/1#delete",
        "type": "Delete",
        "actor": peer.actor_id("alice"),
        "object": {"id": f"{peer.base}/notes/1", "type": "Tombstone"},
    }
    status, _ = await peer.send("alice", f"{a.base_url}/inbox", delete)
    assert status == 202

    async def one() -> bool:
        return {row.kind for row in await interactions(a)} == {"announce"}

    await until(one, what="the reply to be deleted")


async def test_remote_actor_update_delete_and_key_rotation(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers(["alice"])
    await followed_by(a, peer)
    org = await a.organisation()

    # Key rotation: the peer now signs with a new key; our cached key fails once,
    # we fetch the actor again and accept.
    old_pem = keypairs.public_to_pem(peer.key.public_key())
    peer.key = keypairs.generate_rsa()
    peer._keys.clear()
    update = {
        "@context": AS,
        "id": f"{peer.actor_id('alice')}#updates/1",
        "type": "Update",
        "actor": peer.actor_id("alice"),
        "object": peer.actor_document("alice"),
    }
    status, answer = await peer.send("alice", f"{a.base_url}/inbox", update)
    assert status == 202, answer
    async with a.rt.sessions() as session:
        key = await session.get(RemoteKey, f"{peer.actor_id('alice')}#main-key")
    assert key is not None and key.pem != old_pem

    # Delete of the account drops the follower and forgets the actor's relations.
    delete = {
        "@context": AS,
        "id": f"{peer.actor_id('alice')}#delete",
        "type": "Delete",
        "actor": peer.actor_id("alice"),
        "object": peer.actor_id("alice"),
        "to": [f"{AS}#Public"],
    }
    status, _ = await peer.send("alice", f"{a.base_url}/inbox", delete)
    assert status == 202

    async def dropped() -> bool:
        async with a.rt.sessions() as session:
            return await follows.followers(session, org.id) == []

    await until(dropped, what="the deleted follower to be dropped")
    async with a.rt.sessions() as session:
        actor = (
            await session.execute(
                select(RemoteActor).where(RemoteActor.uri == peer.actor_id("alice"))
            )
        ).scalar_one()
    assert actor.gone_at is not None


async def test_self_delete_of_unknown_actor_is_dropped_without_fetch(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif")
    peer = await peers([])  # the account is already gone: its actor is a 404
    delete = {
        "@context": AS,
        "id": f"{peer.actor_id('gone')}#delete",
        "type": "Delete",
        "actor": peer.actor_id("gone"),
        "object": peer.actor_id("gone"),
    }
    status, _ = await peer.send("gone", f"{a.base_url}/inbox", delete)
    assert status == 202
