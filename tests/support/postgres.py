"""The PostgreSQL server of a test session, and the throwaway databases made on it.

Found at $DECLICS_TEST_POSTGRES_URL (an SQLAlchemy URL), by default
postgresql+asyncpg://postgres@127.0.0.1:5432/test. Tests never write to that database:
they create `declics_test_<random>` databases next to it, dropped when the session ends.

$DECLICS_TEST_DATABASE chooses the database of the real instances the tests start
(`tests/support/instance.py`): `sqlite` (default) or `postgresql`, where each instance
gets its own throwaway database, copied from one migrated template.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def instance_backend() -> str:
    """The database of the instances this test session starts."""
    value = os.environ.get("DECLICS_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if value in ("postgres", "pg"):
        value = "postgresql"
    if value not in BACKENDS:
        raise pytest.UsageError(f"DECLICS_TEST_DATABASE must be one of {BACKENDS}, got {value!r}")
    return value


@dataclass
class PostgresServer:
    """The PostgreSQL server of the test session, and the databases made on it."""

    url: URL
    unreachable: str | None = None
    created: list[str] = field(default_factory=list)
    template: str | None = None

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
        self.template = None
        if not self.created:
            return
        asyncio.run(
            self._admin(
                *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.created)
            )
        )
        self.created.clear()

    def instance_database(self) -> str:
        """A migrated database for one instance (a copy of the session's template)."""
        self.require()
        if self.template is None:
            from federation.settings import DatabaseSettings, Settings
            from federation.store import migrate

            url = self.create_database()
            migrate.upgrade(Settings(data_dir=Path("."), database=DatabaseSettings(url=url)))
            # Copying needs the template free of connections: alembic's are closed.
            self.template = make_url(url).database
        name = f"declics_test_{secrets.token_hex(6)}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)


_server: PostgresServer | None = None


def session_server() -> PostgresServer:
    """The one PostgresServer of this process, checked on first use."""
    global _server
    if _server is None:
        _server = PostgresServer(
            make_url(os.environ.get("DECLICS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
        )
        _server.check()
    return _server


def drop_session_databases() -> None:
    if _server is not None:
        _server.drop_all()
