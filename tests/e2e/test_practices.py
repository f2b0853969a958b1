"""Members publish practices; a follower gets the backfill and the live changes, shares,
adopts and replies; the origin shows it all. A Mastodon-shaped follower sees Articles."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from federation.content import discussion, practices, sharing
from federation.errors import CommandError
from federation.outbox.publish import post_note as publish_note
from federation.store.models import Interaction, LibraryItem
from tests.conftest import InstanceFactory, PeerFactory
from tests.e2e.test_delivery_outcomes import followed_by
from tests.e2e.test_federation import follow, following_state
from tests.support.instance import Instance
from tests.support.wait import until

FAST = {"poll_interval_seconds": 0.05}


def practice_file(title: str, licence: str = "CC-BY-SA-4.0", themes: str = "[6, 7]") -> str:
    return (
        f"---\ntitle: {title}\nsummary: Résumé de « {title} »\nthemes: {themes}\n"
        f"licence: {licence}\n---\n# {title}\n\nCorps en *Markdown*.\n"
    )


async def publish(instance: Instance, text: str) -> str:
    org = await instance.organisation()
    draft = practices.parse_file(text, "CC-BY-SA-4.0")
    async with instance.rt.sessions.begin() as session:
        obj, _ = await practices.publish(session, org, draft, instance.rt.clock.now(), "fr")
    instance.rt.delivery_wakeup.set()
    return obj.uri


async def library(instance: Instance) -> dict[str, LibraryItem]:
    async with instance.rt.sessions() as session:
        rows = (await session.execute(select(LibraryItem))).scalars()
        return {row.uri: row for row in rows}


async def interactions_of(instance: Instance, uri: str) -> set[tuple[str, str]]:
    async with instance.rt.sessions() as session:
        rows = await session.execute(
            select(Interaction.kind, Interaction.actor_uri).where(Interaction.object_uri == uri)
        )
        return {(kind, actor) for kind, actor in rows.all()}


async def test_practices_backfill_live_changes_share_adopt_reply(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif", delivery=FAST)
    b = await instances("atelier", delivery=FAST)
    # Given A published three practices before anyone followed it
    first = await publish(a, practice_file("Mutualiser la comptabilité"))
    second = await publish(a, practice_file("Gouvernance partagée", themes="[3]"))
    closed = await publish(a, practice_file("Charte graphique", licence="CC-BY-ND-4.0"))

    # When B follows A, B's library is filled from A's outbox
    await follow(b, a.handle)

    async def backfilled() -> bool:
        return set(await library(b)) == {first, second, closed}

    await until(backfilled, what="the backfill")
    assert await following_state(b, a) == "accepted"
    item = (await library(b))[first]
    assert item.kind == "practice"
    assert item.licence == "CC-BY-SA-4.0"
    assert item.themes == [6, 7]
    assert item.source and "Corps en *Markdown*" in item.source

    # Live Create, Update and Delete follow
    fourth = await publish(a, practice_file("Entraide informatique"))

    async def live() -> bool:
        return fourth in await library(b)

    await until(live, what="the live Create")
    org_a = await a.organisation()
    async with a.rt.sessions.begin() as session:
        await practices.update(
            session,
            org_a,
            second,
            practices.parse_file(practice_file("Gouvernance vraiment partagée"), "CC0-1.0"),
            a.rt.clock.now(),
            "fr",
        )
        await practices.delete(session, org_a, fourth, a.rt.clock.now())
    a.rt.delivery_wakeup.set()

    async def changed() -> bool:
        items = await library(b)
        return (
            items[second].title == "Gouvernance vraiment partagée"
            and items[fourth].deleted_at is not None
        )

    await until(changed, what="the Update and the Delete")

    # B shares one, adopts one, and cannot adopt the no-derivatives one
    org_b = await b.organisation()
    async with b.rt.sessions.begin() as session:
        await sharing.share(session, org_b, first, b.rt.clock.now())
        adopted, _ = await sharing.adopt(session, org_b, first, b.rt.clock.now(), "fr")
    b.rt.delivery_wakeup.set()
    assert adopted.licence == "CC-BY-SA-4.0"  # share-alike kept
    assert adopted.derived_from == first
    async with b.rt.sessions() as session:
        with pytest.raises(CommandError, match="forbids derived works"):
            await sharing.adopt(session, org_b, closed, b.rt.clock.now(), "fr")
        with pytest.raises(CommandError, match="share-alike"):
            await sharing.adopt(session, org_b, first, b.rt.clock.now(), "fr", licence="CC-BY-4.0")

    # B discusses it: a reply that mentions and tells its author.
    target = await discussion.reply_target(b.rt, org_b.domain, first)
    assert target.author_uri == a.actor_id
    async with b.rt.sessions.begin() as session:
        await publish_note(
            session, org_b, "Nous faisons pareil, merci !", b.rt.clock.now(), "fr", target
        )
    b.rt.delivery_wakeup.set()

    async def origin_knows() -> bool:
        return await interactions_of(a, first) >= {
            ("announce", b.actor_id),
            ("adoption", b.actor_id),
            ("reply", b.actor_id),
        }

    await until(origin_knows, what="A to record the share and the adoption")
    async with aiohttp.ClientSession() as http, http.get(first) as response:
        page = await response.text()
    assert "Adoptée par" in page and adopted.uri in page
    assert "Nous faisons pareil, merci !" in page
    assert "1 partages" in page
    assert 'rel="license"' in page


async def test_mastodon_shaped_follower_receives_articles_it_can_show(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", delivery=FAST)
    peer = await peers(["alice"])
    await followed_by(a, peer)
    uri = await publish(a, practice_file("Données hébergées en France", themes="[5]"))

    async def arrived() -> bool:
        return bool(peer.inbox_of("Create"))

    await until(arrived, what="the Create(Article)")
    create = peer.inbox_of("Create")[0]
    assert create.verified, create.reason
    article: dict[str, Any] = create.activity["object"]
    # Mastodon 4.3+ shows name, summary (HTML) and url; it ignores content.
    assert article["type"] == "Article"
    assert article["id"] == uri and article["url"] == uri
    assert article["name"] == "Données hébergées en France"
    assert "Résumé de" in article["summary"]
    assert "#<span>EthiqueDesDonnees</span>" in article["summary"]
    assert "CC BY-SA 4.0" in article["summary"]
    assert {"type": "Hashtag", "name": "#EthiqueDesDonnees"}.items() <= article["tag"][0].items()
    assert article["source"]["mediaType"] == "text/markdown"
    assert article["licence"]["spdx"] == "CC-BY-SA-4.0"
    assert article["themes"] == [5]
    assert "https://www.w3.org/ns/activitystreams" in create.activity["@context"]
    # The page behind the link is real HTML with Open Graph tags.
    async with aiohttp.ClientSession() as http, http.get(uri) as response:
        assert response.content_type == "text/html"
        page = await response.text()
    assert '<meta property="og:title" content="Données hébergées en France">' in page


async def test_charter_served_as_document_and_page(instances: InstanceFactory) -> None:
    a = await instances("collectif")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{a.base_url}/charter", allow_redirects=False) as response:
            assert response.status == 302
            location = response.headers["Location"]
        assert location.endswith("/charter/2023-09-14")
        async with http.get(location, headers={"Accept": "application/activity+json"}) as response:
            document = await response.json(content_type=None)
        assert document["type"] == "Document"
        assert document["charterVersion"] == "2023-09-14"
        assert document["charterHash"].startswith("sha256:")
        assert [c["number"] for c in document["commitments"]] == [1, 2, 3, 4, 5, 6, 7]
        assert document["commitments"][4]["name"] == "Respecter l'éthique des données"
        async with http.get(location) as response:
            page = await response.text()
        assert '<html lang="fr">' in page and "Produire des communs" in page
        async with http.get(f"{location}?lang=en") as response:
            assert "Produce commons" in await response.text()
        async with http.get(f"{a.base_url}/charter/1999-01-01") as response:
            assert response.status == 404


COMMITMENTS = """
charter_version = "2023-09-14"
signed_on = 2024-01-15

[[commitments]]
number = 5
progress = "{progress}"
statement = "Données hébergées en France."
actions = ["Publier la politique de données"]
evidence = ["https://coop.example/donnees"]

[[commitments]]
number = 6
progress = "achieved"
statement = "Guides sous CC BY-SA."
"""


async def publish_commitments(instance: Instance, progress: str) -> str | None:
    from federation.content import commitments
    from federation.outbox import profile

    org = await instance.organisation()
    draft = commitments.parse_file(COMMITMENTS.format(progress=progress))
    async with instance.rt.sessions.begin() as session:
        actor = await session.get(type(org), org.id)
        assert actor is not None
        first = actor.charter_signed_on is None
        _obj, sent = await commitments.publish(session, actor, draft, instance.rt.clock.now(), "fr")
        if first:
            await profile.update(session, actor, {}, instance.rt.clock.now(), "CC BY-SA 4.0")
    instance.rt.delivery_wakeup.set()
    return None if sent is None else sent.uri


async def test_commitments_published_updated_with_history_and_adhesion(
    instances: InstanceFactory, peers: PeerFactory
) -> None:
    a = await instances("collectif", delivery=FAST)
    b = await instances("atelier", delivery=FAST)
    peer = await peers(["alice"])
    await followed_by(a, peer)
    await follow(b, a.handle)
    await until(lambda: _accepted(b, a), what="B to follow A")

    assert await publish_commitments(a, "in-progress") is not None
    assert await publish_commitments(a, "in-progress") is None  # unchanged: nothing sent
    uri = f"{a.base_url}/commitments"

    async def b_has(progress: str) -> bool:
        item = (await library(b)).get(uri)
        return item is not None and item.document["commitments"][0]["progress"] == progress

    await until(lambda: b_has("in-progress"), what="B to store A's commitments")
    await publish_commitments(a, "achieved")
    await until(lambda: b_has("achieved"), what="the Update of the commitments")

    async with aiohttp.ClientSession() as http:
        headers = {"Accept": "application/activity+json"}
        async with http.get(f"{uri}/versions", headers=headers) as response:
            versions = await response.json(content_type=None)
        assert versions["totalItems"] == 2
        async with http.get(versions["orderedItems"][0], headers=headers) as response:
            first = await response.json(content_type=None)
        assert first["commitments"][0]["progress"] == "in-progress"
        async with http.get(f"{uri}/history") as response:
            history = await response.text()
        assert "progression « en cours » → « atteint »" in history
        async with http.get(a.actor_id, headers=headers) as response:
            actor = await response.json(content_type=None)
    assert actor["charterVersion"] == "2023-09-14"
    assert actor["charterHash"].startswith("sha256:")
    assert actor["commitmentStatements"] == uri
    fields = {f["name"]: f["value"] for f in actor["attachment"]}
    assert "signée le 15/01/2024" in fields["Charte Nos Déclics"]
    assert fields["Licence des contenus partagés"] == "CC BY-SA 4.0"

    # The Mastodon-shaped follower got the Article (with progress in its summary)
    # and the Update of the profile that now shows the adhesion.
    async def peer_got_it() -> bool:
        return bool(peer.inbox_of("Update")) and bool(peer.inbox_of("Create"))

    await until(peer_got_it, what="the peer to get the commitments and the profile")
    article = peer.inbox_of("Create")[0].activity["object"]
    assert "signée le 15/01/2024" in article["summary"]
    assert "en cours" in article["summary"]
    assert any(u.activity["object"]["type"] == "Organization" for u in peer.inbox_of("Update"))


async def _accepted(follower: Instance, target: Instance) -> bool:
    return await following_state(follower, target) == "accepted"


async def test_backfill_keeps_the_latest_version_and_skips_deleted(
    instances: InstanceFactory,
) -> None:
    a = await instances("collectif", delivery=FAST)
    b = await instances("atelier", delivery=FAST)
    kept = await publish(a, practice_file("Première version", licence="CC-BY-NC-4.0"))
    gone = await publish(a, practice_file("Bientôt retirée"))
    org_a = await a.organisation()
    async with a.rt.sessions.begin() as session:
        await practices.update(
            session,
            org_a,
            kept,
            practices.parse_file(practice_file("Version revue", licence="CC-BY-NC-4.0"), "x"),
            a.rt.clock.now(),
            "fr",
        )
        await practices.delete(session, org_a, gone, a.rt.clock.now())
    await follow(b, a.handle)
    await until(lambda: _accepted(b, a), what="B to follow A")

    async def backfilled() -> bool:
        return kept in await library(b)

    await until(backfilled, what="the backfill")
    items = await library(b)
    assert items[kept].title == "Version revue"  # the Update, not the older Create
    assert gone not in items
    # A non-commercial licence binds the adoption: it cannot be made CC0.
    org_b = await b.organisation()
    async with b.rt.sessions() as session:
        with pytest.raises(CommandError, match="restricts reuse"):
            await sharing.adopt(session, org_b, kept, b.rt.clock.now(), "fr", licence="CC0-1.0")
    # The theme's hashtag page lists the practice on both sides.
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{a.base_url}/tags/Cooperation") as response:
            assert response.status == 200
            assert "Version revue" in await response.text()
        async with http.get(f"{b.base_url}/tags/cooperation") as response:
            assert "Version revue" in await response.text()
        async with http.get(f"{b.base_url}/tags/Inconnu") as response:
            assert response.status == 404
