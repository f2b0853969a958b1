"""Alembic environment: async engine, batch mode on SQLite."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from federation.settings import DatabaseSettings
from federation.store import models  # noqa: F401 - registers the tables
from federation.store.base import Base
from federation.store.engine import postgres_connector

target_metadata = Base.metadata


def _include(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave the full-text index (FTS5 tables, tsvector index) out of model comparison:
    it is made by hand in migration 0004 and has no model."""
    return not (name or "").startswith(("library_fts", "ix_library_items_fts"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, poolclass=pool.NullPool)
    else:  # a server that is down: one line from the CLI, not a traceback
        # A migration waits for locks as long as the server's default setting does: an
        # ALTER TABLE queued behind a long transaction would stall every request.
        connector = postgres_connector(url, DatabaseSettings.busy_timeout_ms)
        engine = create_async_engine(url, poolclass=pool.NullPool, async_creator=connector)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async(url))


run_migrations_online()
