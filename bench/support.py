"""What the benchmarks share: instances, server processes, the load generator, memory.

Every server runs in its own process, and so does the load generator (`bench.load`):
the figures are those of a server answering another process over loopback sockets.
Nothing listens or connects outside 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from federation import cli
from tests.support.net import free_port

PYTHON = sys.executable
REPO = Path(__file__).resolve().parents[1]
# The environment deploy/ gives `declics serve` and `declics worker` (Dockerfile,
# systemd units): Déclics servers of the benchmarks run as deployed.
DEPLOYED_ENV = {"MALLOC_ARENA_MAX": "2"}


@contextlib.asynccontextmanager
async def database(postgres: str | None) -> AsyncIterator[None]:
    """With a PostgreSQL server URL (`postgresql+asyncpg://user@host:port/db`), a
    throwaway database on it for the instances of this run (through
    `DECLICS_DATABASE__URL`, which child processes inherit); else SQLite."""
    if not postgres:
        yield
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(postgres)
    name = f"declics_bench_{uuid.uuid4().hex[:12]}"
    connect = {"host": url.host, "port": url.port or 5432, "user": url.username}
    admin = await asyncpg.connect(database=url.database, **connect)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DECLICS_DATABASE__URL"] = url.set(database=name).render_as_string(False)
        try:
            yield
        finally:
            del os.environ["DECLICS_DATABASE__URL"]
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def add_postgres_option(parser: argparse.ArgumentParser) -> None:
    """`--postgres URL`, which `database` reads: the same for every benchmark."""
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run Déclics on a throwaway database of this PostgreSQL server "
        "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test); default SQLite",
    )


def init_instance(parent: Path, ip: str, username: str = "collectif") -> tuple[Path, str]:
    """`declics init --dev` on `ip` (blocking); returns the data dir and base URL."""
    port = free_port(ip)
    base_url = f"http://{ip}:{port}"
    data_dir = parent / f"{username}-{ip}"
    with contextlib.redirect_stdout(None):
        code = cli.main(
            [
                "init",
                "--data-dir",
                str(data_dir),
                "--base-url",
                base_url,
                "--username",
                username,
                "--name",
                f"Organisation {username}",
                "--dev",
                "--port",
                str(port),
            ]
        )
    if code != 0:
        raise SystemExit(f"declics init failed ({code})")
    return data_dir, base_url


@dataclass
class Process:
    """A server in a child process, stopped with SIGINT (aiohttp's clean shutdown)."""

    proc: asyncio.subprocess.Process
    url: str

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def start_process(
    args: Sequence[str],
    ready_url: str,
    env: dict[str, str] | None = None,
    wait: float = 60,
    log: Path | None = None,
) -> Process:
    """Start `args` and wait until `ready_url` answers (any status below 500); its
    standard error goes to `log` (else nowhere)."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab") if log is not None else subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=REPO,
    )
    deadline = time.monotonic() + wait
    async with aiohttp.ClientSession() as session:
        while True:
            if proc.returncode is not None:
                raise SystemExit(f"{args[0]} exited with {proc.returncode} before being ready")
            try:
                async with session.get(ready_url) as response:
                    if response.status < 500:
                        return Process(proc, ready_url)
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"{ready_url} did not answer in {wait} s")
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running(
    args: Sequence[str], ready_url: str, env: dict[str, str] | None = None, log: Path | None = None
) -> AsyncIterator[Process]:
    process = await start_process(args, ready_url, env, log=log)
    try:
        yield process
    finally:
        await process.stop()


def declics_web(data_dir: Path, host: str, *, workers: bool) -> list[str]:
    """The web app of an instance; without workers, as beside `declics worker` processes."""
    module = "federation" if workers else "bench.web_only"
    command = ["serve"] if workers else []
    return [PYTHON, "-m", module, *command, "--data-dir", str(data_dir), "--host", host]


@dataclass(frozen=True)
class Load:
    count: int
    seconds: float
    statuses: dict[str, int]
    # CPU time (user + system) the server process spent during the load: what each
    # request cost it, whatever else the machine was doing meanwhile.
    server_cpu_seconds: float | None = None

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request_us(self) -> float | None:
        if self.server_cpu_seconds is None or not self.count:
            return None
        return self.server_cpu_seconds / self.count * 1e6

    def describe_cpu(self) -> str:
        cost = self.cpu_per_request_us
        return "" if cost is None else f"; server CPU {cost:.0f} µs/request"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads so far (from /proc, Linux)."""
    return thread_cpu_seconds(pid)[1]


async def generate_load(
    requests: list[dict[str, Any]],
    work_dir: Path,
    concurrency: int,
    name: str,
    server_pid: int | None = None,
) -> Load:
    """Send `requests` from a separate process (`bench.load`) and read its figures;
    with `server_pid`, also the CPU time that server spent meanwhile."""
    path = work_dir / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in requests), encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bench.load",
        str(path),
        "--concurrency",
        str(concurrency),
        stdout=subprocess.PIPE,
        cwd=REPO,
    )
    # From the load generator's start: what it costs the server to accept the
    # connections is part of the load (its own imports cost the server nothing).
    cpu_before = cpu_seconds(server_pid) if server_pid is not None else None
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"load generator failed ({proc.returncode})")
    spent = None
    if server_pid is not None and cpu_before is not None:
        spent = cpu_seconds(server_pid) - cpu_before
    figures = json.loads(out)
    return Load(figures["count"], figures["seconds"], figures["statuses"], spent)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (from /proc, Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError("no VmRSS")


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system, seconds) a process has used so far: its main thread's,
    and all its threads' together (from /proc, Linux). Unlike elapsed times, these
    hardly move with the load that other processes put on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    main = total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            # Fields after the command name (which may hold spaces): utime, stime are
            # the 12th and 13th of them.
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            used = (int(fields[11]) + int(fields[12])) / tick
            total += used
            if task.name == str(pid):
                main = used
    return main, total


def runqueue_seconds(pid: int) -> float:
    """Time the process's main thread has spent ready to run but waiting for a core
    (`/proc/<pid>/schedstat`, Linux): what the machine's other load cost it."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    return 0.0


class PeakRss:
    """Samples a process's resident memory every `interval` seconds, keeps the highest."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            with contextlib.suppress(OSError, LookupError):
                self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._sample())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def ratio(ours: float, reference: float) -> str:
    return f"{ours / reference:.0%}" if reference else "n/a"


def cpu_ratio(ours: Load, reference: Load) -> str:
    """`reference`'s CPU per request as a share of ours: the throughput ratio the two
    would have if each server had a core of its own (load-independent)."""
    mine, theirs = ours.cpu_per_request_us, reference.cpu_per_request_us
    return f"{theirs / mine:.0%}" if mine and theirs else "n/a"


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({cpu}), Python {sys.version.split()[0]}"
