"""Each benchmark runs end to end with tiny parameters (figures are not checked here:
a benchmark is not a test; what is checked is that it runs and its own checks pass)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RELAY = REPO / ".cache" / "interop" / "relay" / "venv" / "bin" / "python"
# Each benchmark loads the machine and serves on fixed addresses (127.0.2.x, 127.0.4.x, …).
pytestmark = pytest.mark.heavy("benchmarks: load the machine, fixed loopback addresses")


def run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_inbox_throughput() -> None:
    out = run("bench.inbox_throughput", "--requests", "10", "--concurrency", "2", "--no-relay")
    assert "declics / bare:" in out


@pytest.mark.skipif(not RELAY.exists(), reason="activityrelay not installed (interop-setup)")
def test_inbox_throughput_with_activityrelay() -> None:
    out = run("bench.inbox_throughput", "--requests", "5", "--concurrency", "2")
    assert "declics / activityrelay:" in out


def test_fanout() -> None:
    out = run("bench.fanout", "--followers", "30", "--hosts", "3", "--idle-seconds", "0.2")
    assert "sinks: 30 POSTs to 30 inboxes; deliveries {'delivered': 30}" in out
    assert "resident memory: idle" in out


def test_reads() -> None:
    out = run("bench.reads", "--requests", "10", "--concurrency", "2")
    assert "declics webfinger / bare:" in out


def test_crawl_directory() -> None:
    out = run("bench.crawl_directory", "--members", "12", "--hosts", "3", "--rate", "50")
    assert "members" in out
