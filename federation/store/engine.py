"""Engine and sessions: SQLite (WAL, busy timeout) by default, PostgreSQL through asyncpg."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Insert, event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from federation.settings import Settings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# A PostgreSQL server that does not answer a connection attempt in this long counts
# as unavailable (asyncpg's own default is 60 s, longer than any sender waits).
CONNECT_TIMEOUT_SECONDS = 10.0


def postgres_connector(url: str, lock_timeout_ms: int) -> Callable[[], Awaitable[Any]]:
    """asyncpg.connect for the URL, a refused or silent server raised as a driver error.

    asyncpg raises the socket's OSError (connection refused, no route) or TimeoutError
    as they are, and SQLAlchemy wraps only driver errors in DBAPIError: unwrapped, a
    server that is down would be a 500 and would stop a worker instead of pausing it.

    Each connection waits `lock_timeout_ms` at most for a lock another transaction
    holds (PostgreSQL's `lock_timeout`), as SQLite's busy timeout does: then the
    statement fails, the request is answered 503 and a worker pauses, instead of
    waiting as long as the other transaction lasts. PostgreSQL reads 0 as "no limit",
    so 0 (SQLite: fail at once) becomes 1 ms.
    """
    import asyncpg

    parsed = make_url(url)
    _args, options = parsed.get_dialect()().create_connect_args(parsed)
    server_settings = {
        **options.pop("server_settings", {}),
        "lock_timeout": f"{max(int(lock_timeout_ms), 1)}ms",
    }

    async def connect() -> Any:
        try:
            return await asyncpg.connect(
                timeout=CONNECT_TIMEOUT_SECONDS, server_settings=server_settings, **options
            )
        except (OSError, TimeoutError) as err:
            message = f"cannot connect to PostgreSQL: {str(err) or type(err).__name__}"
            raise asyncpg.exceptions.ClientCannotConnectError(message) from err

    return connect


def make_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if not is_sqlite(url):
        # No pre-ping: a pooled connection that died with the server fails as a
        # disconnect, and SQLAlchemy then drops the whole pool (tests/e2e/
        # test_postgres_outage.py recovers without it).
        return create_async_engine(
            url,
            pool_size=10,
            max_overflow=10,
            async_creator=postgres_connector(url, settings.database.busy_timeout_ms),
        )
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


def insert_or_ignore(
    session: AsyncSession, model: Any, index_elements: Sequence[str] | None = None
) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` into `model`, in the session's dialect.

    SQLAlchemy's PostgreSQL dialect is imported only when the database is PostgreSQL:
    on SQLite it would hold 2 MB of resident memory for nothing (bench/README.md,
    round 3)."""
    if dialect_name(session) == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model).on_conflict_do_nothing(index_elements=index_elements)
    return sqlite_insert(model).on_conflict_do_nothing(index_elements=index_elements)
