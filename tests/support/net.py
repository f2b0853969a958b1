"""Loopback addresses and free ports for test servers (never any other address).

Each pytest-xdist worker hands out the addresses of its own block of 127.0.0.10-249,
so servers of workers running at the same time never share an address, hence never
race for a port (nor for port 443, which the interop tests bind).
"""

from __future__ import annotations

import itertools
import os
import socket

FIRST, LAST = 10, 249


def address_block(worker: str | None, workers: str | None) -> tuple[int, int]:
    """The last byte's range (inclusive) of xdist worker `worker` (`gw3`) of `workers`
    (`8`); the whole range when not under xdist."""
    first, last = FIRST, LAST
    if worker and workers:
        index, count = int(worker.removeprefix("gw")), int(workers)
        size = (last - first + 1) // count
        if size < 1:
            raise ValueError(f"{count} workers cannot share addresses {first}-{last}")
        first += index * size
        last = first + size - 1
    return first, last


_first, _last = address_block(
    os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("PYTEST_XDIST_WORKER_COUNT")
)
_next_ip = itertools.cycle(range(_first, _last + 1))


def loopback_ip() -> str:
    """A fresh 127.0.0.x address (in turn within this process's block), so each test
    server has its own host."""
    return f"127.0.0.{next(_next_ip)}"


def free_port(ip: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        port: int = sock.getsockname()[1]
        return port
