"""A member changes host: export on host 1, import on host 2, Move. Its followers (a
Déclics member and a Mastodon-shaped account) follow the new actor, the old URLs
redirect, the follower's library names the new ids, and nothing is lost."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from federation import http_signatures, keypairs
from federation.actors import follows, local, remote
from federation.inbox.intake import signer_for
from federation.outbox import follow as follow_use_cases
from federation.store.models import DirectoryMember, DirectoryVouch, Interaction, LocalObject
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by
from tests.e2e.test_federation import follow
from tests.e2e.test_portability_archive import declics, export, import_into
from tests.e2e.test_practices import library, practice_file, publish
from tests.support.instance import Instance
from tests.support.queries import inbox_items
from tests.support.wait import until

FAST = {"poll_interval_seconds": 0.05}
AS2 = {"Accept": "application/activity+json"}


async def state_towards(instance: Instance, uri: str) -> str | None:
    org = await instance.organisation()
    async with instance.rt.sessions() as session:
        rows = await follows.followings(
            session, org.id, (follows.ACCEPTED, follows.PENDING, follows.REJECTED)
        )
    return next((f.state for f, a in rows if a.uri == uri), None)


async def followers_of(instance: Instance, username: str) -> set[str]:
    async with instance.rt.sessions() as session:
        org = await local.find(session, local.domain_of(instance.base_url), username)
        assert org is not None
        rows = await follows.followers(session, org.id, follows.ACCEPTED)
    return {actor.uri for _row, actor in rows}


async def test_export_import_move_keeps_followers_library_and_urls(
    instances: InstanceFactory,
    peers: PeerFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = await instances("collectif", delivery=FAST)
    b = await instances("atelier", delivery=FAST)
    host2 = await instances("accueil", delivery=FAST)
    mastodon = await peers(["alice"])
    first = await publish(a, practice_file("Mutualiser la comptabilité"))
    second = await publish(a, practice_file("Gouvernance partagée", themes="[3]"))

    # B (a Déclics member) and alice (Mastodon-shaped) follow A; B's library fills
    await follow(b, a.handle)
    await followed_by(a, mastodon)

    async def backfilled() -> bool:
        return set(await library(b)) == {first, second}

    await until(backfilled, what="B's backfill")
    # alice replies to the first practice: the reply belongs with it
    reply = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": mastodon.new_id("alice"),
        "type": "Create",
        "actor": mastodon.actor_id("alice"),
        "object": {
            "id": f"{mastodon.actor_id('alice')}/statuses/1",
            "type": "Note",
            "attributedTo": mastodon.actor_id("alice"),
            "inReplyTo": first,
            "content": "<p>Merci, on essaie chez nous</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    }
    status, _ = await mastodon.send("alice", f"{a.actor_id}/inbox", reply)
    assert status == 202

    async def replied() -> bool:
        async with a.rt.sessions() as session:
            found = await session.execute(
                select(Interaction).where(Interaction.object_uri == first)
            )
            return found.first() is not None

    await until(replied, what="the reply")

    # A follows alice too (pending: the peer does not answer follows)
    async with a.rt.sessions.begin() as session:
        org = await local.find(session, local.domain_of(a.base_url), "collectif")
        assert org is not None
        signer = await signer_for(a.rt, org.domain)
        alice = await remote.resolve(a.rt, mastodon.actor_id("alice"), signer)
        await follow_use_cases.follow(session, org, alice, a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    # B's directory lists A, vouched for by B (as a crawl leaves it)
    await seed_directory(b, a)

    # A exports, host 2 imports
    await export(monkeypatch, capsys, a, tmp_path / "a.zip")
    code, _out, err = await import_into(monkeypatch, capsys, host2, tmp_path / "a.zip")
    assert code == 0, err
    new_actor = f"{host2.base_url}/users/collectif"

    # The new actor asks again to follow what the old one followed
    async def refollowed() -> bool:
        return any(r.activity["actor"] == new_actor for r in mastodon.inbox_of("Follow"))

    await until(refollowed, what="the new actor's Follow of alice")
    new_first = first.replace(a.base_url, host2.base_url)
    new_second = second.replace(a.base_url, host2.base_url)

    # A moves
    code, _out, err = await declics(
        monkeypatch, capsys, ["move", "--data-dir", str(a.data_dir), new_actor], stdin=""
    )
    assert code == 0, err
    a.rt.delivery_wakeup.set()

    # The Mastodon-shaped follower receives a correct, verified Move
    await until(lambda: _has(mastodon, "Move"), what="the Move at alice")
    move = mastodon.inbox_of("Move")[0]
    assert move.verified, move.reason
    assert move.activity["actor"] == a.actor_id
    assert move.activity["object"] == a.actor_id
    assert move.activity["target"] == new_actor
    # …and does what Mastodon does: checks alsoKnownAs, then follows the target
    async with mastodon.session.get(new_actor, headers=AS2) as response:
        target = await response.json(content_type=None)
    assert a.actor_id in target["alsoKnownAs"]
    refollow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": mastodon.new_id("alice"),
        "type": "Follow",
        "actor": mastodon.actor_id("alice"),
        "object": new_actor,
    }
    status, _ = await mastodon.send("alice", f"{new_actor}/inbox", refollow)
    assert status == 202

    # B follows the new actor by itself, and its library names the new ids
    async def b_follows_new() -> bool:
        return await state_towards(b, new_actor) == "accepted"

    await until(b_follows_new, timeout=30, what="B following the new actor")
    assert await state_towards(b, a.actor_id) is None

    async def both_follow() -> bool:
        return await followers_of(host2, "collectif") == {b.actor_id, mastodon.actor_id("alice")}

    await until(both_follow, what="both followers on host 2")
    async with b.rt.sessions() as session:
        old_rows = (
            await session.execute(
                select(DirectoryMember.id).where(DirectoryMember.uri == a.actor_id)
            )
        ).all()
        old_vouches = (
            await session.execute(
                select(DirectoryVouch.id).where(DirectoryVouch.member_uri == a.actor_id)
            )
        ).all()
    assert old_rows == [] and old_vouches == []
    assert [item.state for item in await inbox_items(b, "Move")] == ["processed"]
    items = await library(b)
    assert set(items) == {new_first, new_second}
    assert {item.actor_uri for item in items.values()} == {new_actor}
    source = items[new_first].source
    assert source is not None and "Corps en *Markdown*" in source

    # Nothing lost on host 2: both practices, their sources, and the reply
    async with host2.rt.sessions() as session:
        restored = {
            o.uri: o
            for o in (await session.execute(select(LocalObject))).scalars()
            if o.uri.startswith(host2.base_url + "/practices/")
        }
        replies = list(
            (
                await session.execute(
                    select(Interaction).where(Interaction.object_uri == new_first)
                )
            ).scalars()
        )
    assert set(restored) == {new_first, new_second}
    assert [r.kind for r in replies] == ["reply"]
    assert replies[0].actor_uri == mastodon.actor_id("alice")

    # The old actor takes no new follower
    late = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": mastodon.new_id("bob"),
        "type": "Follow",
        "actor": mastodon.actor_id("bob"),
        "object": a.actor_id,
    }
    mastodon.users.add("bob")
    status, _ = await mastodon.send("bob", f"{a.actor_id}/inbox", late)
    assert status == 202

    async def handled() -> bool:
        items = [i for i in await inbox_items(a, "Follow") if i.actor_uri.endswith("/bob")]
        return bool(items) and items[0].state == "ignored"

    await until(handled, what="the late Follow handled")
    assert mastodon.actor_id("bob") not in await followers_of(a, "collectif")

    # The old host redirects objects and the profile page, keeps the actor document
    async with aiohttp.ClientSession() as http:
        for accept in ("text/html", "application/activity+json"):
            async with http.get(
                first, headers={"Accept": accept}, allow_redirects=False
            ) as response:
                assert response.status == 301
                assert response.headers["Location"] == new_first
        async with http.get(f"{a.base_url}/@collectif", allow_redirects=False) as response:
            assert response.status == 301
            assert response.headers["Location"] == new_actor
        async with http.get(a.actor_id, headers=AS2, allow_redirects=False) as response:
            assert response.status == 200
            assert (await response.json(content_type=None))["movedTo"] == new_actor
        async with http.get(
            f"{a.base_url}/.well-known/webfinger", params={"resource": f"acct:{a.handle}"}
        ) as response:
            jrd = await response.json(content_type=None)
        self_link = next(link for link in jrd["links"] if link["rel"] == "self")
        assert self_link["href"] == new_actor
        # The redirect leads to the practice, served by host 2
        async with http.get(first, headers=AS2) as response:
            assert response.status == 200
            assert (await response.json(content_type=None))["id"] == new_first


async def seed_directory(b: Instance, a: Instance) -> None:
    now = b.rt.clock.now()
    async with b.rt.sessions.begin() as session:
        rows = {
            row.uri: row
            for row in (await session.execute(select(DirectoryMember))).scalars()
            if row.uri in (a.actor_id, b.actor_id)
        }
        for uri, is_local in ((a.actor_id, False), (b.actor_id, True)):
            if uri not in rows:
                rows[uri] = DirectoryMember(
                    uri=uri,
                    host=uri.split("/")[2],
                    local=is_local,
                    actor_type="Organization",
                    name=uri,
                    summary="",
                    charter_version="2023-09-14",
                    charter_hash="0" * 64,
                    commitments=[],
                    depth=0 if is_local else 1,
                    first_seen_at=now,
                    last_seen_at=now,
                    checked_at=now,
                )
                session.add(rows[uri])
        await session.flush()
        voucher = rows[b.actor_id].id
        vouched = (
            await session.execute(
                select(DirectoryVouch.id).where(
                    DirectoryVouch.voucher_id == voucher, DirectoryVouch.member_uri == a.actor_id
                )
            )
        ).first()
        if vouched is None:
            session.add(DirectoryVouch(voucher_id=voucher, member_uri=a.actor_id, seen_at=now))


async def _has(peer: object, kind: str) -> bool:
    await asyncio.sleep(0)
    return bool(peer.inbox_of(kind))  # type: ignore[attr-defined]


async def test_move_to_an_actor_that_does_not_name_us_is_refused(
    instances: InstanceFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = await instances("collectif", delivery=FAST)
    other = await instances("ailleurs", delivery=FAST)
    code, _out, err = await declics(
        monkeypatch, capsys, ["move", "--data-dir", str(a.data_dir), other.actor_id], stdin=""
    )
    assert code == 2
    assert "does not list" in err and "alsoKnownAs" in err
    async with a.rt.sessions() as session:
        org = await local.find(session, local.domain_of(a.base_url), "collectif")
        assert org is not None and org.moved_to is None


async def test_a_move_to_an_actor_that_does_not_name_the_old_one_is_ignored(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif", delivery=FAST)
    b = await instances("atelier", delivery=FAST)
    elsewhere = await instances("ailleurs", delivery=FAST)
    await follow(b, a.handle)

    async def accepted() -> bool:
        return await state_towards(b, a.actor_id) == "accepted"

    await until(accepted, what="B's follow")
    # A Move signed by A, to an actor that does not list A in alsoKnownAs
    org = await a.organisation()
    key = keypairs.private_from_pem(org.rsa_private_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{a.actor_id}#moves/forged",
        "type": "Move",
        "actor": a.actor_id,
        "object": a.actor_id,
        "target": elsewhere.actor_id,
    }
    body = json.dumps(activity).encode()
    url = f"{b.actor_id}/inbox"
    headers = {"Content-Type": "application/activity+json"}
    headers |= http_signatures.sign_cavage(
        "POST", url, headers, body, f"{a.actor_id}#main-key", key, datetime.now(UTC)
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers=headers) as response,
    ):
        assert response.status == 202

    async def handled() -> bool:
        return [i.state for i in await inbox_items(b, "Move")] == ["ignored"]

    await until(handled, what="the Move handled")
    assert await state_towards(b, a.actor_id) == "accepted"
    assert await state_towards(b, elsewhere.actor_id) is None
