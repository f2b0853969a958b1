"""Moving an instance from SQLite to PostgreSQL: the schema by Alembic, then every row of
every table in foreign-key order, in one PostgreSQL transaction, then the sequences.

The source is read through the same models as the application, so each value takes the
same Python form on both sides (aware datetimes, JSON documents). Row counts are
compared before the commit: if the source changed meanwhile (a process still running),
nothing is committed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Integer, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.errors import CommandError
from federation.settings import Settings
from federation.store import migrate
from federation.store.base import Base
from federation.store.engine import is_sqlite, make_engine

BATCH = 1000


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def postgres_url(url: str) -> str:
    """The SQLAlchemy URL for asyncpg; `postgres://` and `postgresql://` are accepted."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if not url.startswith("postgresql+asyncpg://"):
        raise CommandError(f"not a PostgreSQL URL: {url!r} (postgresql://user:pw@host/db)")
    return url


def tables() -> Sequence[Table]:
    """Every table of the models, parents before children."""
    return Base.metadata.sorted_tables


def prepare(source: Settings, target: Settings) -> None:
    """Both schemas at the newest revision (blocking: Alembic runs its own loop)."""
    if not is_sqlite(source.database_url):
        raise CommandError("this instance is not on SQLite: nothing to move")
    migrate.upgrade(source)
    try:
        migrate.upgrade(target)
    except Exception as err:
        raise CommandError(f"cannot prepare the PostgreSQL database: {err}") from err


async def _count(conn: AsyncConnection, table: Table) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _fix_sequence(conn: AsyncConnection, table: Table) -> None:
    # Rows were inserted with their ids: the next id must come after the largest.
    for column in table.primary_key.columns:
        if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "  # noqa: S608 - names from the models
                    f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                    f'FROM "{table.name}"'
                )
            )


async def copy(source: Settings, target: Settings) -> list[Copied]:
    """Copy every row; the target must be empty. Returns the count of each table."""
    src_engine, dst_engine = make_engine(source), make_engine(target)
    copied: list[Copied] = []
    try:
        async with src_engine.connect() as src, dst_engine.begin() as dst:
            for table in tables():
                if await _count(dst, table):
                    raise CommandError(
                        f"the PostgreSQL database already holds rows in {table.name}; "
                        "give an empty database"
                    )
            for table in tables():
                order = list(table.primary_key.columns)
                result = await src.stream(select(table).order_by(*order))
                count = 0
                async for batch in result.mappings().partitions(BATCH):
                    await dst.execute(table.insert(), [dict(row) for row in batch])
                    count += len(batch)
                copied.append(Copied(table.name, count))
                await _fix_sequence(dst, table)
            for table, done in zip(tables(), copied, strict=True):
                now = await _count(src, table)
                if now != done.rows:
                    raise CommandError(
                        f"{table.name} changed during the copy ({done.rows} then {now} rows): "
                        "stop `declics serve` and `declics worker` first; nothing was committed"
                    )
    finally:
        await src_engine.dispose()
        await dst_engine.dispose()
    return copied


def target_settings(source: Settings, url: str) -> Settings:
    return replace(source, database=replace(source.database, url=postgres_url(url)))


_URL_LINE = re.compile(r"^url = .*$", re.MULTILINE)


def switch_config(config_text: str, url: str) -> str:
    """The configuration with `[database] url` set (the only `url` key of the file)."""
    from federation.settings import toml_string

    section = config_text.find("[database]")
    if section < 0:
        return config_text.rstrip("\n") + f"\n\n[database]\nurl = {toml_string(url)}\n"
    head, tail = config_text[:section], config_text[section:]
    end = tail.find("\n[", 1)
    body, rest = (tail, "") if end < 0 else (tail[: end + 1], tail[end + 1 :])
    line = f"url = {toml_string(url)}"
    if _URL_LINE.search(body):
        body = _URL_LINE.sub(lambda _m: line, body, count=1)
    else:
        body = body.replace("[database]\n", f"[database]\n{line}\n", 1)
    return head + body + rest
