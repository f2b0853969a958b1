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
