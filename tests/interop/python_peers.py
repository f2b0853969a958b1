"""Running the Python interop peers (bovine-herd, activityrelay): each in its own venv under
`.cache/interop/<peer>/venv`, as a child process of the test in a session of its own, so
that it and every process it starts (activityrelay forks delivery workers) are stopped
together at teardown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from tests.interop.conftest import CACHE, PEERS_SRC, install_peer

STOP_TIMEOUT = 10.0


def python_of(config: pytest.Config, peer: str) -> Path:
    """The installed peer's interpreter (installing it first), or a skip."""
    install_peer(config, peer)
    python = CACHE / peer / "venv" / "bin" / "python"
    if not python.is_file():
        pytest.skip(f"interop-setup: {peer}: {python.relative_to(CACHE.parent)} is missing")
    return python


def program(peer: str, name: str) -> Path:
    return PEERS_SRC / peer / name


async def start(
    python: Path,
    script: Path,
    args: Sequence[str],
    *,
    cwd: Path,
    output_path: Path,
    env: Mapping[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """Start `python script args…` in `cwd`, stdout and stderr to `output_path`. The peer
    programs exit when their standard input closes, even if the test run is killed."""
    with output_path.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            str(python),
            str(script),
            *args,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdin=asyncio.subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _signal_group(process: asyncio.subprocess.Process, signum: signal.Signals) -> None:
    # The child leads its own session: its process group id is its pid.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


async def stop(process: asyncio.subprocess.Process) -> None:
    """Close stdin, SIGTERM the peer's process group, SIGKILL it if it lingers."""
    if process.stdin is not None and not process.stdin.is_closing():
        process.stdin.close()
    if process.returncode is None:
        _signal_group(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            _signal_group(process, signal.SIGKILL)
            await process.wait()
    # Children that outlived their parent (forked workers) go with the group.
    _signal_group(process, signal.SIGKILL)


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
