"""`declics migrate-to-postgres`: an instance that has federated on SQLite moves to
PostgreSQL with every row of every table unchanged, then carries on federating."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from federation import cli
from federation.actors import trust
from federation.content import practices
from federation.outbox import publish
from federation.runtime import build_runtime
from federation.settings import CONFIG_NAME, load_settings
from federation.store.engine import make_engine
from federation.store.models import Delivery, InboxItem, LibraryItem
from federation.store.transfer import switch_config, tables
from tests.conftest import InstanceFactory
from tests.e2e.test_federation import follow
from tests.support.instance import Instance
from tests.support.postgres import session_server
from tests.support.wait import until

pytestmark = [pytest.mark.postgres, pytest.mark.sqlite_only("moves an instance from SQLite")]

PRACTICE = """---
title: {title}
themes: [2]
---
Ce que nous faisons.
"""


async def snapshot(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, through the models' types, in primary-key order."""
    rows: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        for table in tables():
            result = await conn.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [dict(row) for row in result.mappings()]
    return rows


async def publish_practice(instance: Instance, title: str) -> None:
    org = await instance.organisation()
    async with instance.rt.sessions.begin() as session:
        draft = practices.parse_file(PRACTICE.format(title=title), "CC0-1.0")
        await practices.publish(session, org, draft, instance.rt.clock.now(), "fr")
    instance.rt.delivery_wakeup.set()


async def all_delivered(instance: Instance) -> bool:
    async with instance.rt.sessions() as session:
        states = set((await session.execute(select(Delivery.state))).scalars())
    return bool(states) and states <= {"delivered"}


async def actor_document(instance: Instance) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(instance.actor_id, headers={"Accept": "application/activity+json"}) as response,
    ):
        document: dict[str, Any] = await response.json(content_type=None)
    return document


def cli_run(*argv: str) -> int:
    return cli.main(list(argv))


async def test_an_instance_moves_to_postgres_with_every_row(
    instances: InstanceFactory,
) -> None:
    server = await asyncio.to_thread(session_server)  # it checks the server: not in this loop
    server.require()
    a = await instances("alpha")
    b = await instances("bob")
    await follow(b, f"@{a.handle}")
    await follow(a, f"@{b.handle}")
    await publish_practice(b, "Pratique de bob")

    async def alpha_has_library() -> bool:
        async with a.rt.sessions() as session:
            return bool((await session.execute(select(LibraryItem.id))).first())

    await until(alpha_has_library, what="bob's practice in alpha's library")
    await publish_practice(a, "Pratique d'alpha")
    org = await a.organisation()
    async with a.rt.sessions.begin() as session:
        await publish.post_note(session, org, "Bonjour", a.rt.clock.now(), "fr")
        await trust.add(session, org.id, "domain", "spam.example", a.rt.clock.now(), "spam")
    a.rt.delivery_wakeup.set()
    await until(lambda: all_delivered(a), what="alpha's deliveries")
    document = await actor_document(a)
    await a.stop()
    await a.rt.close()

    before = await snapshot(a.rt.engine)
    assert all(before[t] for t in ("local_actors", "followers", "deliveries", "inbox_items"))
    url = await asyncio.to_thread(server.create_database)
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    code = await asyncio.to_thread(
        cli_run, "migrate-to-postgres", "--data-dir", str(a.data_dir), plain
    )
    assert code == 0

    settings = load_settings(a.data_dir)
    assert settings.database_url == url
    engine = make_engine(settings)
    try:
        after = await snapshot(engine)
    finally:
        await engine.dispose()
    assert set(after) == set(before)
    for table in before:
        assert after[table] == before[table], table

    # The instance runs on PostgreSQL: new rows get new ids, bob hears from it.
    moved = Instance(a.data_dir, settings, a.base_url, a.username, build_runtime(settings))
    await moved.start()
    try:
        async with moved.rt.sessions.begin() as session:
            await publish.post_note(
                session, await moved.organisation(), "Depuis PostgreSQL", moved.rt.clock.now(), "fr"
            )
        moved.rt.delivery_wakeup.set()

        async def bob_got_it() -> bool:
            async with b.rt.sessions() as session:
                rows = (await session.execute(select(InboxItem.payload))).scalars()
                return any("Depuis PostgreSQL" in str(p) for p in rows)

        await until(bob_got_it, what="the note sent from PostgreSQL")
        assert (await actor_document(a))["publicKey"] == document["publicKey"]
    finally:
        await moved.stop()
        await moved.rt.close()

    # Again: this instance is no longer on SQLite.
    assert (
        await asyncio.to_thread(cli_run, "migrate-to-postgres", "--data-dir", str(a.data_dir), url)
        == 2
    )
    # Another instance into the same, now full, database: refused, its config unchanged.
    config = (b.data_dir / CONFIG_NAME).read_text(encoding="utf-8")
    code = await asyncio.to_thread(
        cli_run, "migrate-to-postgres", "--data-dir", str(b.data_dir), url
    )
    assert code == 2
    assert (b.data_dir / CONFIG_NAME).read_text(encoding="utf-8") == config


def test_switch_config_sets_only_the_database_url() -> None:
    text = (
        '[server]\nport = 8000\n\n[database]\n# SQLAlchemy URL.\nurl = ""\nbusy_timeout_ms = 5000\n'
    )
    assert switch_config(text, 'postgresql+asyncpg://u:p"w@h/d') == (
        "[server]\nport = 8000\n\n[database]\n# SQLAlchemy URL.\n"
        'url = "postgresql+asyncpg://u:p\\"w@h/d"\nbusy_timeout_ms = 5000\n'
    )
    assert switch_config("[server]\nport = 1\n", "postgresql+asyncpg://h/d") == (
        '[server]\nport = 1\n\n[database]\nurl = "postgresql+asyncpg://h/d"\n'
    )
