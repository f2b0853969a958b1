"""Say in one line why the database refused a write: locked, unavailable, or disk full.

SQLite reports a full disk as SQLITE_FULL ("database or disk is full") when the
database file cannot grow, but as SQLITE_IOERR ("disk I/O error") when its WAL or
shared-memory file cannot; PostgreSQL as "could not extend file … No space left".
For an I/O error the free space of the data directory tells which it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy.exc import DBAPIError

# Less free space than this beside an I/O error means the disk is full.
NEARLY_FULL_BYTES = 1024 * 1024


def disk_full(err: DBAPIError, data_dir: Path | None = None) -> bool:
    cause = str(err.orig).lower()
    if "full" in cause or "no space left" in cause:
        return True
    if "i/o error" in cause and data_dir is not None:
        try:
            return shutil.disk_usage(data_dir).free < NEARLY_FULL_BYTES
        except OSError:
            return False
    return False


def describe(err: DBAPIError, data_dir: Path | None = None) -> str:
    """One line for a person: what happened, that nothing was kept, and the cause."""
    cause = " ".join(str(err.orig).split())[:200]
    if disk_full(err, data_dir):
        return f"the disk is full; nothing was changed ({cause})"
    return f"the database is unavailable; nothing was changed ({cause})"
