"""Readiness: the database answers and its schema is at the newest migration."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from federation.runtime import Runtime


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The heads of the migrations shipped with this code (read once: files on disk)."""
    # Imported here: Alembic weighs megabytes that a serving process need not hold
    # until the first readiness probe.
    from alembic.script import ScriptDirectory

    from federation.store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())


async def problems(rt: Runtime, wait_seconds: float = 5.0) -> list[str]:
    """Why this process should not get traffic yet; empty when it is ready."""
    heads = await asyncio.to_thread(head_revisions)
    try:
        async with asyncio.timeout(wait_seconds), rt.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            current = frozenset(str(r[0]) for r in rows.all())
    except TimeoutError:
        return ["database did not answer in time"]
    except SQLAlchemyError as err:
        return [f"database unavailable: {type(err).__name__}"]
    if current != heads:
        have = ", ".join(sorted(current)) or "none"
        want = ", ".join(sorted(heads))
        return [f"database schema is at {have}, this code needs {want}: run 'declics migrate'"]
    return []
