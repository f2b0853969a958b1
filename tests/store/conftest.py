"""Fixtures for tests that need a real database: SQLite, and PostgreSQL when reachable.

PostgreSQL is found at $DECLICS_TEST_POSTGRES_URL (an SQLAlchemy URL), by default
postgresql+asyncpg://postgres@127.0.0.1:5432/test. The tests never write to that
database: they create throwaway `declics_test_<random>` databases next to it and
drop them all when the session ends. If the server cannot be reached, every
PostgreSQL test is skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.settings import DatabaseSettings, Settings
from federation.store import migrate
from federation.store.base import Base
from federation.store.engine import make_engine, make_sessionmaker

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Db:
    """A freshly migrated database and what it takes to use it."""

    backend: str  # "sqlite" | "postgres"
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@dataclass
class PostgresServer:
    """The PostgreSQL server of the test session, and the databases made on it."""

    url: URL
    unreachable: str | None = None
    created: list[str] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def _connect_kwargs(self) -> dict[str, object]:
        return {
            "host": self.url.host or "127.0.0.1",
            "port": self.url.port or 5432,
            "user": self.url.username or "postgres",
            "password": self.url.password,
            "database": self.url.database or "postgres",
            "timeout": 5,
        }

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(**self._connect_kwargs())
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    def check(self) -> None:
        try:
            asyncio.run(self._admin("SELECT 1"))
        except (OSError, asyncpg.PostgresError, TimeoutError) as err:
            self.unreachable = f"{type(err).__name__}: {err}"

    def require(self) -> None:
        if self.unreachable is not None:
            pytest.skip(f"PostgreSQL not reachable at {self.shown}: {self.unreachable}")

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL (dropped at the end of the session)."""
        self.require()
        name = f"declics_test_{secrets.token_hex(6)}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        asyncio.run(
            self._admin(
                *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.created)
            )
        )
        self.created.clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = make_url(os.environ.get("DECLICS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    server = PostgresServer(url)
    server.check()
    try:
        yield server
    finally:
        server.drop_all()


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
