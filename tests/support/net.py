"""Loopback addresses and free ports for test servers (never any other address)."""

from __future__ import annotations

import itertools
import socket

_next_ip = itertools.count(10)


def loopback_ip() -> str:
    """A fresh 127.0.0.x address, so each test server has its own host."""
    return f"127.0.0.{next(_next_ip) % 240 + 10}"


def free_port(ip: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        port: int = sock.getsockname()[1]
        return port
