"""Engine and sessions: SQLite (WAL, busy timeout) by default, PostgreSQL through asyncpg."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from federation.settings import Settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if not is_sqlite(url):
        return create_async_engine(url, pool_size=10, max_overflow=10)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    busy = settings.database.busy_timeout_ms

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets the CLI write while `serve` reads; the busy timeout makes the
        # other process wait for the lock instead of failing at once.
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy)}")
        cursor.close()

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def dialect_name(session: AsyncSession) -> str:
    """'sqlite' or 'postgresql': the few statements that differ ask this."""
    return session.get_bind().dialect.name
