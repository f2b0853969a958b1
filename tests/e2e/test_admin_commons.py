"""The admin pages of tools, events, needs and offers over HTTP: each form validates
(errors next to the field, what was typed kept), previews, publishes, edits and deletes
with a confirmation; CSRF and roles as for practices; the network side (declare a
peer's tool, take part in a peer's event, approve and refuse participants) across
servers. Also: the data policy form keeps the operator's summary."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from sqlalchemy import select

from federation.content import declarations, events, participation
from federation.store.models import LocalObject
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_admin import valid_html
from tests.e2e.test_commons import EVENT, FAST, in_library, publish_commons, text_of
from tests.e2e.test_delivery_outcomes import followed_by
from tests.e2e.test_federation import follow, following_state
from tests.support.admin import add_account, csrf_of, log_in, new_client
from tests.support.instance import Instance
from tests.support.wait import until

EVENT_FORM = {
    "title": "Atelier gouvernance partagée",
    "summary": "Une matinée pour comparer nos statuts.",
    "body": "Ordre du jour : *statuts* et **sociétariat**.",
    "start": "2027-03-04T09:30",
    "end": "2027-03-04T12:00",
    "timezone": "Europe/Paris",
    "place_name": "Maison des coopératives",
    "place_street": "10 rue Jangot",
    "place_postal_code": "69007",
    "place_locality": "Lyon",
    "online": "",
    "capacity": "12",
    "join_mode": "free",
    "themes": "7",
}


async def _kinds(instance: Instance, kind: str) -> list[LocalObject]:
    async with instance.rt.sessions() as session:
        rows = await session.execute(select(LocalObject).where(LocalObject.kind == kind))
        return list(rows.scalars())


async def _token(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as r:
        assert r.status == 200, url
        page = await r.text()
    valid_html(page)
    return csrf_of(page)


async def test_event_form_validates_previews_publishes_edits_and_deletes(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    await add_account(a)
    base = a.base_url
    async with new_client() as http:
        await log_in(http, a)
        token = await _token(http, f"{base}/admin/events/new")
        # No title: refused on the title field, the rest kept.
        bad = {**EVENT_FORM, "csrf": token, "title": "", "action": "publish"}
        async with http.post(f"{base}/admin/events/new", data=bad) as r:
            assert r.status == 422
            page = await r.text()
        valid_html(page)
        assert 'id="title-error"' in page and 'aria-invalid="true"' in page
        assert 'value="10 rue Jangot"' in page and 'value="2027-03-04T09:30"' in page
        # The end before the start: refused on the end field (the domain's check).
        early = {**EVENT_FORM, "csrf": token, "end": "2027-03-04T08:00", "action": "publish"}
        async with http.post(f"{base}/admin/events/new", data=early) as r:
            assert r.status == 422
            page = await r.text()
        assert 'id="end-error"' in page and "ends before it starts" in page
        # Neither a place nor a link.
        nowhere = {
            **EVENT_FORM,
            "csrf": token,
            "action": "publish",
            **{f"place_{k}": "" for k in ("name", "street", "postal_code", "locality")},
        }
        async with http.post(f"{base}/admin/events/new", data=nowhere) as r:
            assert r.status == 422
            assert 'id="place-error"' in await r.text()
        async with http.post(
            f"{base}/admin/events/new", data={**EVENT_FORM, "csrf": token, "capacity": "douze"}
        ) as r:
            assert r.status == 422
            assert 'id="capacity-error"' in await r.text()
        # A preview shows the Markdown rendered and publishes nothing.
        preview = {**EVENT_FORM, "csrf": token, "action": "preview"}
        async with http.post(f"{base}/admin/events/new", data=preview) as r:
            assert r.status == 200
            page = await r.text()
        assert "<em>statuts</em>" in page and "error" not in page.split("preview-title")[0][-200:]
        assert await _kinds(a, "event") == []
        good = {**EVENT_FORM, "csrf": token, "action": "publish"}
        async with http.post(f"{base}/admin/events/new", data=good, allow_redirects=False) as r:
            assert r.status == 303
            assert r.headers["Location"].startswith("/admin/events?published=")
        [event] = await _kinds(a, "event")
        assert event.document["startTime"] == "2027-03-04T08:30:00Z"
        assert event.document["maximumAttendeeCapacity"] == 12
        assert event.document["location"]["address"]["addressLocality"] == "Lyon"
        slug = event.uri.rsplit("/", 1)[1]
        async with http.get(f"{base}/admin/events") as r:
            listing = await r.text()
        valid_html(listing)
        assert "Atelier gouvernance partagée" in listing and f"/admin/events/{slug}" in listing
        # The edit form is filled from the published event, in its own timezone.
        async with http.get(f"{base}/admin/events/{slug}") as r:
            page = await r.text()
        valid_html(page)
        assert 'value="2027-03-04T09:30"' in page and 'value="69007"' in page
        changed = {**good, "title": "Atelier gouvernance (complet)", "capacity": ""}
        async with http.post(
            f"{base}/admin/events/{slug}", data=changed, allow_redirects=False
        ) as r:
            assert r.status == 303
        [event] = await _kinds(a, "event")
        assert event.version == 2 and event.title == "Atelier gouvernance (complet)"
        assert "maximumAttendeeCapacity" not in event.document
        assert "Atelier gouvernance (complet)" in await text_of(event.uri)
        # Deleting asks first, then sends the Delete.
        async with http.get(f"{base}/admin/events/{slug}/delete") as r:
            page = await r.text()
        valid_html(page)
        assert "Supprimer définitivement" in page
        async with http.post(
            f"{base}/admin/events/{slug}/delete", data={"csrf": token}, allow_redirects=False
        ) as r:
            assert r.status == 303
        [event] = await _kinds(a, "event")
        assert event.deleted_at is not None


async def test_tool_and_offer_forms_and_the_policy_summary(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    await add_account(a)
    base = a.base_url
    async with new_client() as http:
        await log_in(http, a)
        token = await _token(http, f"{base}/admin/tools/new")
        tool = {
            "csrf": token,
            "name": "Planning de livraison",
            "summary": "Planifier les tournées.",
            "body": "Un **logiciel libre**.",
            "licence": "AGPL-3.0-or-later",
            "repository": "pas un lien",
            "homepage": "",
            "themes": "6",
            "action": "publish",
        }
        async with http.post(f"{base}/admin/tools/new", data=tool) as r:
            assert r.status == 422
            page = await r.text()
        valid_html(page)
        assert 'id="repository-error"' in page and 'value="pas un lien"' in page
        async with http.post(
            f"{base}/admin/tools/new", data={**tool, "licence": "pas une licence !"}
        ) as r:
            assert r.status == 422
            assert 'id="licence-error"' in await r.text()
        good = {**tool, "repository": "https://git.example/coop/planning"}
        async with http.post(f"{base}/admin/tools/new", data=good, allow_redirects=False) as r:
            assert r.status == 303
        [obj] = await _kinds(a, "tool")
        assert obj.document["doap:repository"]["doap:browse"] == "https://git.example/coop/planning"
        slug = obj.uri.rsplit("/", 1)[1]
        async with http.get(f"{base}/admin/tools/{slug}") as r:
            page = await r.text()
        assert 'value="https://git.example/coop/planning"' in page
        async with http.post(
            f"{base}/admin/tools/{slug}", data={**good, "summary": "Tournées."}
        ) as r:
            assert r.status == 200  # followed the redirect to the list
        [obj] = await _kinds(a, "tool")
        assert obj.version == 2 and obj.summary == "Tournées."

        today = a.rt.clock.now().date()
        offer = {
            "csrf": token,
            "kind": "need",
            "title": "Partenaire pour co-développer un outil de paie",
            "text": "Nous cherchons une coopérative.",
            "theme": "",
            "expires": (today + timedelta(days=30)).isoformat(),
            "action": "publish",
        }
        async with http.post(f"{base}/admin/offers/new", data=offer) as r:
            assert r.status == 422
            page = await r.text()
        valid_html(page)
        assert 'id="theme-error"' in page and "outil de paie" in page
        past = {**offer, "theme": "6", "expires": (today - timedelta(days=1)).isoformat()}
        async with http.post(f"{base}/admin/offers/new", data=past) as r:
            assert r.status == 422
            assert 'id="expires-error"' in await r.text()
        async with http.post(f"{base}/admin/offers/new", data={**past, "action": "preview"}) as r:
            assert r.status == 200
            assert "<p>Nous cherchons une coopérative.</p>" in await r.text()
        fine = {**past, "expires": offer["expires"]}
        async with http.post(f"{base}/admin/offers/new", data=fine, allow_redirects=False) as r:
            assert r.status == 303
        [need] = await _kinds(a, "need")
        async with http.get(f"{base}/admin/offers/{need.uri.rsplit('/', 1)[1]}") as r:
            page = await r.text()
        assert f'value="{offer["expires"]}"' in page
        # A need cannot become an offer: the domain refuses, the form says so.
        async with http.post(
            f"{base}/admin/offers/{need.uri.rsplit('/', 1)[1]}", data={**fine, "kind": "offer"}
        ) as r:
            assert r.status == 422
            assert 'id="kind-error"' in await r.text()

        # The data policy: the operator's summary is there again on the next edit.
        policy = {
            "csrf": token,
            "storage_country": "France",
            "host": "Coop Hébergement",
            "retention": "3 ans",
            "summary": "Nous gardons le moins possible de données.",
            "data": "adresse e-mail : lettre d’information",
        }
        async with http.post(f"{base}/admin/policy", data=policy, allow_redirects=False) as r:
            assert r.status == 303
        async with http.get(f"{base}/admin/policy") as r:
            page = await r.text()
        assert "Nous gardons le moins possible de données." in page.split("<form", 2)[-1]


async def test_commons_pages_need_their_role_and_the_csrf_token(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif")
    await add_account(a, "dominique", role="moderator")
    await add_account(a, "eden", role="editor")
    base = a.base_url
    async with new_client() as http:
        await log_in(http, a, "dominique")
        token = await _token(http, f"{base}/admin/replies")
        for path in ("tools", "events", "offers", "tools/new", "events/new", "offers/new"):
            async with http.get(f"{base}/admin/{path}") as r:
                assert r.status == 403, path
        data = {**EVENT_FORM, "csrf": token, "action": "publish"}
        async with http.post(f"{base}/admin/events/new", data=data) as r:
            assert r.status == 403
        async with http.get(f"{base}/admin") as r:
            assert "/admin/events" not in await r.text()
    async with new_client() as http:
        await log_in(http, a, "eden")
        token = await _token(http, f"{base}/admin/events")
        async with http.get(f"{base}/admin") as r:
            menu = await r.text()
        assert all(f"/admin/{p}" in menu for p in ("tools", "events", "offers"))
        # Without its token, or with a forged one: refused, nothing stored.
        for sent in ({}, {"csrf": "forged"}):
            async with http.post(
                f"{base}/admin/events/new", data={**EVENT_FORM, "action": "publish", **sent}
            ) as r:
                assert r.status == 403
            async with http.post(
                f"{base}/admin/tools/declare",
                data={"tool": "https://x.example/t", "relation": "uses", "action": "declare"},
            ) as r:
                assert r.status == 403
        assert await _kinds(a, "event") == []
        data = {**EVENT_FORM, "csrf": token, "action": "publish"}
        async with http.post(f"{base}/admin/events/new", data=data, allow_redirects=False) as r:
            assert r.status == 303
    assert len(await _kinds(a, "event")) == 1


async def test_network_side_declare_take_part_approve_and_refuse(
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
    org = await a.organisation()
    tool_uri, _free = await publish_commons(a)
    draft = events.parse_file(
        EVENT.replace("join_mode: free", "join_mode: restricted").replace(
            "Atelier co-développement", "Atelier restreint"
        )
    )
    async with a.rt.sessions.begin() as session:
        restricted, _ = await events.publish(session, org, draft, a.rt.clock.now(), "fr")
    a.rt.delivery_wakeup.set()

    async def b_has_them() -> bool:
        return await in_library(b, tool_uri) and await in_library(b, restricted.uri)

    await until(b_has_them, what="the tool and the restricted event in B's library")
    await add_account(a)
    await add_account(b)
    async with new_client() as http:
        await log_in(http, b)
        token = await _token(http, f"{b.base_url}/admin/tools")
        async with http.get(f"{b.base_url}/admin/tools") as r:
            assert "Planning de livraison" in await r.text()
        declare = {"csrf": token, "tool": tool_uri, "relation": "uses", "action": "declare"}
        async with http.post(f"{b.base_url}/admin/tools/declare", data=declare) as r:
            assert r.status == 200
        async with http.post(f"{b.base_url}/admin/tools/declare", data=declare) as r:
            assert r.status == 422  # already declared: the domain's refusal
        async with http.get(f"{b.base_url}/admin/events") as r:
            page = await r.text()
        valid_html(page)
        assert "Atelier restreint" in page
        join = {"csrf": token, "event": restricted.uri, "action": "join"}
        async with http.post(f"{b.base_url}/admin/events/take-part", data=join) as r:
            assert r.status == 200
            assert "Nous y participons." in await r.text()
    alice_join = {
        "id": peer.new_id("alice"),
        "type": "Join",
        "actor": peer.actor_id("alice"),
        "object": restricted.uri,
    }
    assert (await peer.send("alice", f"{a.actor_id}/inbox", alice_join))[0] == 202

    async def a_knows() -> bool:
        async with a.rt.sessions() as session:
            people = await participation.participants(session, restricted.uri)
            users = await declarations.declared(session, tool_uri)
        pending = {i.actor_uri for i, _ in people if i.kind == "pending"}
        return pending == {b.actor_id, peer.actor_id("alice")} and len(users) == 1

    await until(a_knows, what="A to record B's declaration and both pending participants")
    public = await text_of(restricted.uri)
    assert "2 en attente de validation" in public and peer.actor_id("alice") not in public
    slug = restricted.uri.rsplit("/", 1)[1]
    async with new_client() as http:
        await log_in(http, a)
        async with http.get(f"{a.base_url}/admin/events/{slug}/participants") as r:
            page = await r.text()
        valid_html(page)
        assert peer.actor_id("alice") in page and b.actor_id in page
        token = csrf_of(page)
        url = f"{a.base_url}/admin/events/{slug}/participants"
        approve = {"csrf": token, "participant": b.actor_id, "decision": "approve"}
        async with http.post(url, data=approve) as r:
            assert r.status == 200
            assert "Participation acceptée." in await r.text()
        refuse = {"csrf": token, "participant": peer.actor_id("alice"), "decision": "refuse"}
        async with http.post(url, data=refuse) as r:
            assert r.status == 200
        async with http.post(url, data=refuse) as r:
            assert r.status == 422  # no longer pending
    a.rt.delivery_wakeup.set()
    async with a.rt.sessions() as session:
        rows = await participation.participants(session, restricted.uri)
    assert [(i.kind, i.actor_uri) for i, _ in rows] == [("join", b.actor_id)]

    async def alice_refused() -> bool:
        return any(
            r.activity["object"]["actor"] == peer.actor_id("alice") for r in peer.inbox_of("Reject")
        )

    await until(alice_refused, what="the Reject at Alice's server")
