"""Fixtures for tests that need a real database: SQLite, and PostgreSQL when reachable.

The server and its throwaway databases: `tests/support/postgres.py`. If it cannot be
reached, every PostgreSQL test is skipped with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.settings import DatabaseSettings, Settings
from federation.store import migrate
from federation.store.base import Base
from federation.store.engine import make_engine, make_sessionmaker
from tests.support.postgres import PostgresServer, session_server

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Db:
    """A freshly migrated database and what it takes to use it."""

    backend: str  # "sqlite" | "postgres"
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    # Dropped at the end of the session by tests/conftest.py.
    return session_server()


@pytest.fixture(scope="session")
def postgres_migrated_url(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """One database migrated to head for the session; `db` empties it before each test."""
    url = postgres_server.create_database()
    data_dir = tmp_path_factory.mktemp("pg-migrated")
    migrate.upgrade(Settings(data_dir=data_dir, database=DatabaseSettings(url=url)))
    return url


def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database=DatabaseSettings(url=""))


@pytest.fixture(params=BACKENDS)
def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for `db`. Sync, so that the session's PostgreSQL fixtures (which run
    asyncio.run, as Alembic does) are set up outside the test's event loop."""
    if request.param == "sqlite":
        return sqlite_settings(tmp_path)
    url: str = request.getfixturevalue("postgres_migrated_url")
    return Settings(data_dir=tmp_path, database=DatabaseSettings(url=url))


@pytest.fixture
async def db(db_settings: Settings) -> AsyncIterator[Db]:
    """A freshly migrated, empty database on each backend."""
    backend = "sqlite" if db_settings.database_url.startswith("sqlite") else "postgres"
    if backend == "sqlite":
        # Alembic's env.py calls asyncio.run: keep it off this event loop.
        await asyncio.to_thread(migrate.upgrade, db_settings)
    engine = make_engine(db_settings)
    if backend == "postgres":
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        yield Db(backend, db_settings, engine, make_sessionmaker(engine))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def blank_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings over an empty, never migrated database on each backend."""
    if request.param == "sqlite":
        return sqlite_settings(tmp_path)
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    return Settings(data_dir=tmp_path, database=DatabaseSettings(url=url))
