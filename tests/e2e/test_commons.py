"""Tools, events, needs and offers across servers: A publishes a tool and an event;
B declares it uses the tool and joins the event; a Mastodon-shaped account joins
too; A's pages show both participants and the tool's users; the event reaches B's
iCalendar feed; needs and offers are listed until they expire."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import aiohttp

from federation.content import (
    declarations,
    events,
    ical,
    library,
    offers,
    participation,
    tools,
)
from federation.content.search import Filters, search
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by
from tests.e2e.test_federation import follow, following_state
from tests.support.instance import Instance
from tests.support.library import followed
from tests.support.wait import until

FAST = {"poll_interval_seconds": 0.05}

TOOL = """---
name: Planning de livraison
summary: Planifier les tournées de livraison d'une coopérative.
licence: AGPL-3.0-or-later
repository: https://git.example/coop/planning
homepage: https://planning.example
themes: [6]
---
Un **logiciel libre** de planification des tournées.
"""

EVENT = """---
title: Atelier co-développement
summary: Deux heures pour avancer ensemble sur le planning.
start: 2027-01-14T14:00
end: 2027-01-14T16:00
timezone: Europe/Paris
place:
  name: Maison des coopératives
  street: 10 rue Jangot
  postal_code: "69007"
  locality: Lyon
  country: France
capacity: 20
join_mode: free
themes: [7]
---
Ordre du jour : *priorités* de la version 2.
"""


async def publish_commons(a: Instance) -> tuple[str, str]:
    org = await a.organisation()
    now = a.rt.clock.now()
    async with a.rt.sessions.begin() as session:
        tool, _ = await tools.publish(session, org, tools.parse_file(TOOL), now, "fr")
        event, _ = await events.publish(session, org, events.parse_file(EVENT), now, "fr")
    a.rt.delivery_wakeup.set()
    return tool.uri, event.uri


async def in_library(instance: Instance, uri: str) -> bool:
    async with instance.rt.sessions() as session:
        return any(i.uri == uri for i in await library.items(session))


async def text_of(url: str, **headers: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
        assert response.status == 200, url
        return await response.text()


async def test_tool_and_event_across_servers_and_a_mastodon_account(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", delivery=FAST)
    b = await instances("atelier", delivery=FAST)
    peer = await peers(["alice"])
    await followed_by(a, peer)
    await follow(b, a.handle)

    async def b_follows_a() -> bool:
        return await following_state(b, a) == "accepted"

    await until(b_follows_a, what="B to follow A")
    tool_uri, event_uri = await publish_commons(a)

    async def b_has_both() -> bool:
        return await in_library(b, tool_uri) and await in_library(b, event_uri)

    await until(b_has_both, what="the tool and the event in B's library")

    # B declares it uses A's tool and joins A's event.
    org_b = await b.organisation()
    async with b.rt.sessions.begin() as session:
        declaration, _ = await declarations.declare(
            session, org_b, tool_uri, "uses", b.rt.clock.now()
        )
        await participation.tell(session, org_b, event_uri, "Join", b.rt.clock.now())
    b.rt.delivery_wakeup.set()
    # A Mastodon-shaped account joins too, with a signed Join.
    join = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": peer.new_id("alice"),
        "type": "Join",
        "actor": peer.actor_id("alice"),
        "object": event_uri,
    }
    status, answer = await peer.send("alice", f"{a.actor_id}/inbox", join)
    assert status == 202, answer

    async def a_knows() -> bool:
        async with a.rt.sessions() as session:
            people = {i.actor_uri for i, _ in await participation.participants(session, event_uri)}
            users = {i.actor_uri for i, _ in await declarations.declared(session, tool_uri)}
        return people == {b.actor_id, peer.actor_id("alice")} and users == {b.actor_id}

    await until(a_knows, what="A to record both participants and B's declaration")

    event_page = await text_of(event_uri)
    assert "2 participants" in event_page
    assert "14/01/2027 14:00 (Europe/Paris)" in event_page
    # Who takes part is for the organiser (the admin), as on Mobilizon: numbers only.
    assert "Alice" not in event_page and peer.actor_id("alice") not in event_page
    assert b.actor_id not in event_page
    tool_page = await text_of(tool_uri)
    assert "Utilisé par" in tool_page and "Organisation atelier" in tool_page
    assert "https://git.example/coop/planning" in tool_page
    profile = await text_of(a.actor_id)
    assert "Planning de livraison" in profile and "Atelier co-développement" in profile
    assert "Planning de livraison" in await text_of(declaration.uri)
    as2 = await text_of(declaration.uri, Accept="application/activity+json")
    assert '"type":"Relationship"' in as2.replace(" ", "")
    b_profile = await text_of(b.actor_id)
    assert "Planning de livraison</a> — nous l’utilisons" in b_profile
    library_page = await text_of(f"{b.base_url}/library?kind=event&q=atelier")
    assert "Atelier co-développement" in library_page and "Planning" not in library_page
    assert "Événement : <time" in library_page
    theme_page = await text_of(f"{b.base_url}/tags/Communs")
    assert "Outil : <a" in theme_page and "Planning de livraison" in theme_page

    # The event reaches B's feed of the network's events, and A's own feed.
    feed = await text_of(f"{b.actor_id}/network-events.ics")
    assert feed.startswith("BEGIN:VCALENDAR\r\n")
    assert f"UID:{event_uri}\r\n" in feed
    assert "DTSTART:20270114T130000Z\r\n" in feed  # 14:00 in Paris, winter time
    assert "SUMMARY:Atelier co-développement\r\n" in feed
    assert "LOCATION:Maison des coopératives\\, 10 rue Jangot" in feed
    assert f"UID:{event_uri}" in await text_of(f"{a.actor_id}/events.ics")
    assert f"UID:{event_uri}" in await text_of(f"{b.actor_id}/events.ics")  # B takes part
    assert "Événements du réseau auxquels nous participons" in await text_of(b.actor_id)

    # The Mastodon-shaped follower got the Event with the fields Mastodon reads,
    # and its participation was accepted.
    async def alice_got_both() -> bool:
        creates = [r for r in peer.inbox_of("Create") if r.activity["object"]["id"] == event_uri]
        return bool(creates) and any(
            r.activity["object"]["id"] == join["id"] for r in peer.inbox_of("Accept")
        )

    await until(alice_got_both, what="the Create(Event) and the Accept at the peer")
    create = next(r for r in peer.inbox_of("Create") if r.activity["object"]["id"] == event_uri)
    assert create.verified, create.reason
    event: dict[str, Any] = create.activity["object"]
    assert event["type"] == "Event" and event["url"] == event_uri
    assert event["name"] == "Atelier co-développement"
    assert "14/01/2027 de 14:00 à 16:00" in event["summary"]
    assert event["attributedTo"] == a.actor_id
    assert event["startTime"] == "2027-01-14T13:00:00Z"
    assert event["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    tool = next(
        r.activity["object"]
        for r in peer.inbox_of("Create")
        if r.activity["object"]["id"] == tool_uri
    )
    assert tool["type"] == "Article" and tool["name"] == "Planning de livraison"
    assert tool["url"] == tool_uri
    assert 'href="https://git.example/coop/planning"' in tool["summary"]
    assert tool["doap:repository"]["doap:browse"] == "https://git.example/coop/planning"

    # A need reaches the Mastodon-shaped follower as a Note it shows whole.
    org_a = await a.organisation()
    today = a.rt.clock.now().date()
    need = offers.make_draft(
        "need", "Partenaire pour la v2", "Qui code en Python ?", "7", today, today
    )
    async with a.rt.sessions.begin() as session:
        need_obj, _ = await offers.publish(session, org_a, need, a.rt.clock.now(), "fr")
    a.rt.delivery_wakeup.set()

    async def need_arrived() -> bool:
        return any(r.activity["object"]["id"] == need_obj.uri for r in peer.inbox_of("Create"))

    await until(need_arrived, what="the need at the peer")
    note = next(
        r.activity["object"]
        for r in peer.inbox_of("Create")
        if r.activity["object"]["id"] == need_obj.uri
    )
    assert note["type"] == "Note" and "summary" not in note  # a summary would be a CW
    assert "Besoin : Partenaire pour la v2" in note["content"]
    assert (
        "Qui code en Python ?" in note["content"] and "#<span>Cooperation</span>" in note["content"]
    )
    assert note["endTime"].endswith("T00:00:00Z") and note["kind"] == "need"

    # Leave and withdrawal undo them.
    leave = {**join, "id": peer.new_id("alice"), "type": "Leave"}
    status, _ = await peer.send("alice", f"{a.actor_id}/inbox", leave)
    assert status == 202
    async with b.rt.sessions.begin() as session:
        await declarations.withdraw(session, org_b, tool_uri, "uses", b.rt.clock.now())
    b.rt.delivery_wakeup.set()

    async def undone() -> bool:
        async with a.rt.sessions() as session:
            people = {i.actor_uri for i, _ in await participation.participants(session, event_uri)}
            users = await declarations.declared(session, tool_uri)
        return people == {b.actor_id} and not users

    await until(undone, what="the Leave and the withdrawal")

    # B leaves too: A's list is empty, and B's calendar no longer has the event.
    async with b.rt.sessions.begin() as session:
        await participation.tell(session, org_b, event_uri, "Leave", b.rt.clock.now())
    b.rt.delivery_wakeup.set()

    async def b_left() -> bool:
        async with a.rt.sessions() as session:
            return not await participation.participants(session, event_uri)

    await until(b_left, what="B's Leave")
    assert event_uri not in await text_of(f"{b.actor_id}/events.ics")


async def test_a_full_event_refuses_one_more_maybe_and_undo(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", delivery=FAST)
    peer = await peers(["alice", "bob", "carol"])
    org = await a.organisation()
    draft = events.parse_file(EVENT.replace("capacity: 20", "capacity: 1"))
    async with a.rt.sessions.begin() as session:
        event, _ = await events.publish(session, org, draft, a.rt.clock.now(), "fr")
    for name in ("alice", "bob"):
        activity = {
            "id": peer.new_id(name),
            "type": "Join",
            "actor": peer.actor_id(name),
            "object": event.uri,
        }
        assert (await peer.send(name, f"{a.actor_id}/inbox", activity))[0] == 202

        async def answered(name: str = name) -> bool:
            return any(
                r.activity["object"]["actor"] == peer.actor_id(name)
                for r in peer.inbox_of("Accept") + peer.inbox_of("Reject")
            )

        await until(answered, what=f"the answer to {name}")
    async with a.rt.sessions() as session:
        people = [i.actor_uri for i, _ in await participation.participants(session, event.uri)]
    assert people == [peer.actor_id("alice")]
    assert [r.activity["object"]["actor"] for r in peer.inbox_of("Reject")] == [
        peer.actor_id("bob")
    ]
    # Mastodon-side alternatives: TentativeAccept (maybe) does not take a place;
    # an Undo of the Join frees it.
    maybe = {
        "id": peer.new_id("carol"),
        "type": "TentativeAccept",
        "actor": peer.actor_id("carol"),
        "object": event.uri,
    }
    assert (await peer.send("carol", f"{a.actor_id}/inbox", maybe))[0] == 202
    alice_join = next(
        r.activity["object"]["id"]
        for r in peer.inbox_of("Accept")
        if r.activity["object"]["actor"] == peer.actor_id("alice")
    )
    undo = {
        "id": peer.new_id("alice"),
        "type": "Undo",
        "actor": peer.actor_id("alice"),
        "object": {
            "id": alice_join,
            "type": "Join",
            "actor": peer.actor_id("alice"),
            "object": event.uri,
        },
    }
    assert (await peer.send("alice", f"{a.actor_id}/inbox", undo))[0] == 202

    async def changed() -> bool:
        async with a.rt.sessions() as session:
            rows = await participation.participants(session, event.uri)
        return [(i.kind, i.actor_uri) for i, _ in rows] == [("maybe", peer.actor_id("carol"))]

    await until(changed, what="the TentativeAccept and the Undo")
    page = await text_of(event.uri)
    assert "0 participant" in page and "1 peut-être" in page
    assert peer.actor_id("carol") not in page


def offer_document(base: str, kind: str, title: str, ends: str) -> dict[str, Any]:
    return {
        "id": f"{base}/{kind}s/{uuid.uuid4()}",
        "type": "Note",
        "kind": kind,
        "attributedTo": f"{base}/users/x",
        "name": title,
        "content": f"<p>{title}</p>",
        "published": "2026-11-01T00:00:00Z",
        "endTime": ends,
        "themes": [6],
    }


async def test_needs_and_offers_are_listed_until_they_expire(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    org = await a.organisation()
    now = a.rt.clock.now()
    base = "http://127.0.0.9:1"
    past = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    draft = offers.make_draft(
        "offer", "Notre outil de planning", "À partager.", "communs", now.date(), now.date()
    )
    await followed(a, offer_document(base, "need", "", future)["attributedTo"])
    async with a.rt.sessions.begin() as session:
        mine, _ = await offers.publish(session, org, draft, now, "fr")
        for kind, title, ends in (
            ("need", "Partenaire pour co-développer", future),
            ("offer", "Offre expirée", past),
        ):
            doc = offer_document(base, kind, title, ends)
            assert await library.store(session, doc["attributedTo"], doc, now) is not None
    async with a.rt.sessions() as session:
        listed = await offers.current_offers(session, org, now)
        found = await search(session, Filters(kind=None, current_at=now))
        everything = await search(session, Filters())
    assert [o.title for o in listed] == ["Notre outil de planning", "Partenaire pour co-développer"]
    assert {i.title for i in found} == {"Partenaire pour co-développer"}
    assert {i.title for i in everything} == {"Partenaire pour co-développer", "Offre expirée"}
    assert mine.document["endTime"] == (now.date() + timedelta(days=1)).strftime(
        "%Y-%m-%dT00:00:00Z"
    )
    page = await text_of(f"{a.base_url}/directory")
    assert "Notre outil de planning" in page and "Partenaire pour co-développer" in page
    assert "Offre expirée" not in page
    assert "Needs and offers of the network" in await text_of(f"{a.base_url}/directory?lang=en")


async def test_restricted_event_waits_for_the_organiser(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", delivery=FAST)
    peer = await peers(["alice"])
    org = await a.organisation()
    draft = events.parse_file(EVENT.replace("join_mode: free", "join_mode: restricted"))
    async with a.rt.sessions.begin() as session:
        event, _ = await events.publish(session, org, draft, a.rt.clock.now(), "fr")
    join = {
        "id": peer.new_id("alice"),
        "type": "Join",
        "actor": peer.actor_id("alice"),
        "object": event.uri,
    }
    assert (await peer.send("alice", f"{a.actor_id}/inbox", join))[0] == 202

    async def kinds() -> list[str]:
        async with a.rt.sessions() as session:
            return [i.kind for i, _ in await participation.participants(session, event.uri)]

    async def pending() -> bool:
        return await kinds() == ["pending"]

    await until(pending, what="the pending participation")
    assert "1 en attente de validation" in await text_of(event.uri)
    assert not peer.inbox_of("Accept")  # nothing until the organiser says so
    async with a.rt.sessions.begin() as session:
        await participation.approve(session, org, event, peer.actor_id("alice"), a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    async def accepted() -> bool:
        return any(r.activity["object"]["id"] == join["id"] for r in peer.inbox_of("Accept"))

    await until(accepted, what="the Accept after approval")
    assert await kinds() == ["join"]

    # A participant that does not follow the organiser still hears of a change.
    changed = EVENT.replace("join_mode: free", "join_mode: restricted").replace(
        "end: 2027-01-14T16:00", "end: 2027-01-14T17:00"
    )
    async with a.rt.sessions.begin() as session:
        await events.update(
            session, org, event.uri, events.parse_file(changed), a.rt.clock.now(), "fr"
        )
    a.rt.delivery_wakeup.set()

    async def updated() -> bool:
        return any(
            r.activity["object"].get("endTime") == "2027-01-14T16:00:00Z"
            for r in peer.inbox_of("Update")
        )

    await until(updated, what="the Update at the participant")


async def test_a_mobilizon_event_is_kept_and_reaches_the_feed(instances: InstanceFactory) -> None:
    from tests.unit.test_commons import mobilizon_event  # the fixture's reader

    a = await instances("collectif")
    event = mobilizon_event()["object"]
    now = a.rt.clock.now()
    async with a.rt.sessions.begin() as session:
        item = await library.store(session, event["attributedTo"], event, now)
    assert item is not None and item.kind == "event"
    assert item.starts_at is not None and item.starts_at.year == 2018
    assert item.ends_at == item.starts_at
    async with a.rt.sessions() as session:
        rows = await library.items(session, kind="event")
    assert [r.uri for r in rows] == [event["id"]]
    # Long over: the network's feed leaves it out; without an end, it has no DTEND.
    assert event["id"] not in await text_of(f"{a.actor_id}/network-events.ics")
    lines = ical.vevent(item.document, now) or []
    assert "DTSTART:20180212T140820Z" in lines
    assert (
        "LOCATION:Locaux de Framasoft\\, 10 Rue Jangot\\, 69007\\, Lyon\\, "
        "Auvergne Rhône Alpes\\, France" in lines
    )
    assert not any(line.startswith("DTEND") for line in lines)
