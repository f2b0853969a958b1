"""Full-text search of the library on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from federation.content import library
from federation.content.search import Filters, search
from tests.store.conftest import Db

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
A = "https://a.example/users/collectif"
B = "https://b.example/users/atelier"


def practice(uri: str, title: str, body: str, themes: list[int], licence: str) -> dict[str, object]:
    return {
        "id": uri,
        "type": "Article",
        "kind": "practice",
        "name": title,
        "summary": f"<p>{title}</p>",
        "content": f"<p>{body}</p>",
        "source": {"content": body, "mediaType": "text/markdown"},
        "themes": themes,
        "licence": {"spdx": licence},
        "published": "2026-11-01T10:00:00Z",
    }


@pytest.fixture
async def filled(db: Db) -> Db:
    async with db.sessions.begin() as session:
        await library.store(
            session,
            A,
            practice(
                "https://a.example/p/compta",
                "Mutualiser la comptabilité",
                "Une comptable partagée entre coopératives voisines.",
                [4, 7],
                "CC-BY-SA-4.0",
            ),
            NOW,
        )
        await library.store(
            session,
            A,
            practice(
                "https://a.example/p/donnees",
                "Héberger les données en France",
                "Un hébergeur coopératif et des sauvegardes chiffrées.",
                [5],
                "CC-BY-4.0",
            ),
            NOW,
        )
        await library.store(
            session,
            B,
            practice(
                "https://b.example/p/gouv",
                "Gouvernance partagée",
                "Des assemblées ouvertes aux bénévoles et aux salariés.",
                [3],
                "CC0-1.0",
            ),
            NOW,
        )
    return db


async def found(db: Db, filters: Filters) -> set[str]:
    async with db.sessions() as session:
        return {item.uri for item in await search(session, filters)}


async def test_words_find_practices_whatever_the_accents(filled: Db) -> None:
    assert await found(filled, Filters(query="comptabilité")) == {"https://a.example/p/compta"}
    # Stemming (PostgreSQL) or diacritics folding (SQLite) finds "données" from "donnees".
    assert await found(filled, Filters(query="hébergeur")) == {"https://a.example/p/donnees"}
    assert await found(filled, Filters(query="assemblées bénévoles")) == {
        "https://b.example/p/gouv"
    }
    assert await found(filled, Filters(query="introuvable")) == set()


async def test_operators_and_quotes_in_the_query_are_only_text(filled: Db) -> None:
    for hostile in ('"', "NOT OR AND", "compta*) OR (", "';--", "title:x"):
        assert await found(filled, Filters(query=hostile)) == set()


async def test_filters_by_theme_licence_member_and_deleted(filled: Db) -> None:
    assert await found(filled, Filters(theme=7)) == {"https://a.example/p/compta"}
    assert await found(filled, Filters(licence="cc0-1.0")) == {"https://b.example/p/gouv"}
    assert await found(filled, Filters(member=A)) == {
        "https://a.example/p/compta",
        "https://a.example/p/donnees",
    }
    async with filled.sessions.begin() as session:
        assert await library.remove(session, A, "https://a.example/p/compta", NOW)
    assert await found(filled, Filters(query="comptable")) == set()


def dated(
    uri: str, kind: str, title: str, ends: str, start: str | None = None
) -> dict[str, object]:
    document: dict[str, object] = {
        "id": uri,
        "type": "Event" if kind == "event" else "Note",
        "kind": kind,
        "name": title,
        "content": f"<p>{title} : partenaire recherché</p>",
        "published": "2026-11-01T10:00:00Z",
        "endTime": ends,
        "themes": [7],
    }
    if start:
        document["startTime"] = start
    return document


async def test_commons_dates_hide_what_is_over(db: Db) -> None:
    async with db.sessions.begin() as session:
        for document in (
            dated("https://a.example/needs/1", "need", "Besoin en cours", "2026-12-31T00:00:00Z"),
            dated("https://a.example/offers/2", "offer", "Offre expirée", "2026-11-01T00:00:00Z"),
            dated(
                "https://a.example/events/3",
                "event",
                "Atelier passé",
                "2026-10-01T12:00:00Z",
                "2026-10-01T10:00:00Z",
            ),
        ):
            assert await library.store(session, A, document, NOW) is not None
    async with db.sessions() as session:
        found = await search(session, Filters(query="partenaire", current_at=NOW))
        needs_and_offers = await library.items(session, kinds=("need", "offer"), current_at=NOW)
        every_event = await library.items(session, kind="event")
        events_now = await library.items(session, kind="event", current_at=NOW)
    # Expired offers leave searches; past events stay searchable (they are history).
    assert {i.title for i in found} == {"Besoin en cours", "Atelier passé"}
    assert [i.title for i in needs_and_offers] == ["Besoin en cours"]
    assert [(i.starts_at, i.ends_at) for i in every_event] == [
        (datetime(2026, 10, 1, 10, tzinfo=UTC), datetime(2026, 10, 1, 12, tzinfo=UTC))
    ]
    assert events_now == []
