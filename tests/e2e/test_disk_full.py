"""A really full file system: a clear one-line error, nothing half-written, and work
resumes once there is space again.

The instance's data directory is copied onto a 16 MB tmpfs mounted in a private mount
namespace (`unshare -m`: the mount is seen by that process tree only and disappears
with it), the tmpfs is filled, and `declics post` is run. Needs root (or
CAP_SYS_ADMIN) and `unshare`; otherwise skipped with the reason. The same condition
inside the server is covered by test_inbox_limits.py (SQLITE_FULL).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from tests.support.instance import init_instance

REPO = Path(__file__).resolve().parents[2]

SQL = """import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute(sys.argv[2]).fetchone()[0])
"""
SCRIPT = """
set -u
mount -t tmpfs -o size=16m tmpfs {mnt} || {{ echo "mount=failed"; exit 0; }}
cp -a {data} {mnt}/data
db={mnt}/data/declics.sqlite3
sql() {{ {py} {out}/sql.py "$db" "$1"; }}
sql "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
echo "before=$(sql 'select count(*) from local_objects')"
dd if=/dev/zero of={mnt}/filler bs=64k 2>/dev/null
{py} -m federation post --data-dir {mnt}/data "{text}" 2>{out}/err1 >/dev/null
echo "full_rc=$?"
rm -f {mnt}/filler
echo "full_err=$(tr '\\n' '~' < {out}/err1)"
echo "integrity=$(sql 'PRAGMA integrity_check')"
echo "after_failure=$(sql 'select count(*) from local_objects')"
{py} -m federation post --data-dir {mnt}/data "{text}" >/dev/null 2>{out}/err2
echo "free_rc=$?"
echo "free_err=$(tr '\\n' '~' < {out}/err2)"
echo "after_success=$(sql 'select count(*) from local_objects')"
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare to mount a private tmpfs",
)
@pytest.mark.sqlite_only("fills the disk under the SQLite file")
async def test_full_disk_gives_one_line_and_no_corruption(tmp_path: Path) -> None:
    data_dir, _base = await asyncio.to_thread(init_instance, tmp_path, "collectif")
    mnt = tmp_path / "small"
    mnt.mkdir()
    (tmp_path / "sql.py").write_text(SQL, encoding="utf-8")
    script = SCRIPT.format(
        out=shlex.quote(str(tmp_path)),
        mnt=shlex.quote(str(mnt)),
        data=shlex.quote(str(data_dir)),
        py=shlex.quote(sys.executable),
        text="Annonce " + "longue " * 2000,
    )
    process = await asyncio.create_subprocess_exec(
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    if process.returncode != 0:
        pytest.skip(f"cannot make a private mount namespace: {err.decode()[:200]}")
    result = dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)
    if result.get("mount") == "failed":
        pytest.skip("tmpfs cannot be mounted here")
    # Full: exit 1, one line that says so, no traceback.
    assert result["full_rc"] == "1", result
    lines = [line for line in result["full_err"].split("~") if line]
    assert len(lines) == 1 and "disk is full" in lines[0], result["full_err"]
    # Nothing half-written, and the database is sound.
    assert result["integrity"] == "ok"
    assert result["after_failure"] == result["before"]
    # Space again: the same command works.
    assert result["free_rc"] == "0", result["free_err"]
    assert int(result["after_success"]) == int(result["before"]) + 1
