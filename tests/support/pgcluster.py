"""A private PostgreSQL cluster that a test may crash and restart at will.

Made with the server binaries of the machine (Debian's /usr/lib/postgresql/<v>/bin, as
`scripts/test-postgres` finds them) in a fresh directory, listening on a free loopback
port only. The shared server of the test session is never touched. As root, the server
runs as the `postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port

HOST = "127.0.0.1"


def server_binaries() -> Path | None:
    """The newest installed bin directory with initdb and pg_ctl, if any."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
    )
    for bin_dir in reversed(found):
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            return bin_dir
    for name in ("initdb", "pg_ctl"):
        if shutil.which(name) is None:
            return None
    return Path(shutil.which("pg_ctl") or "").parent


def unavailable_reason() -> str | None:
    """Why no private cluster can be made here; None when one can."""
    if server_binaries() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server"
    return None


@dataclass
class Cluster:
    bin_dir: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@{HOST}:{self.port}/declics"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)

    def start(self) -> None:
        options = f"-h {HOST} -p {self.port} -k {self.data} -c fsync=off -c full_page_writes=off"
        log = self.data / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-o", options, "start")

    def crash(self) -> None:
        """Stop at once, without a checkpoint: what a killed or crashed server does."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.data, ignore_errors=True)


def make_cluster() -> Cluster:
    """initdb, start, and create the database `declics` (blocking: run in a thread)."""
    bin_dir = server_binaries()
    assert bin_dir is not None
    # Not under pytest's tmp_path: that is private to the user running the tests.
    data = Path(tempfile.mkdtemp(prefix="declics-pgdown-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(data, entry.pw_uid, entry.pw_gid)
    cluster = Cluster(bin_dir, data, free_port(HOST))
    try:
        cluster._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        cluster.start()
        cluster._run("createdb", "-h", HOST, "-p", str(cluster.port), "-U", "postgres", "declics")
    except BaseException:
        cluster.remove()
        raise
    return cluster
