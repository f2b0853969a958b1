"""Loopback sinks for the fan-out benchmark: many hosts, one process, POSTs counted.

    python -m bench.sink --hosts 1000 --first 127.0.6.1 --port N

Listens on `--hosts` consecutive loopback addresses from `--first`, all on port N, and
answers every POST with 202 (what a remote server's inbox answers; the signature is the
receiver's cost, not the sender's, so it is not verified here). `GET /count` on any
host gives the POSTs received so far, the distinct host + path pairs among them, and
the times of the first and the last one.

The sinks stand for remote machines: their CPU on the benchmark's machine is an
artifact of the measurement, taken from the two cores Déclics runs on. So they are a
minimal HTTP/1.1 server on `asyncio.Protocol` (request line, headers, a
`Content-Length` body, keep-alive) rather than an aiohttp application, which costs
several times more per request. They refuse what they do not understand (chunked
bodies, malformed requests) with a 400 and close the connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import sys
import time
from dataclasses import dataclass, field

MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
COUNT_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def addresses(first: str, count: int) -> list[str]:
    start = ipaddress.IPv4Address(first)
    found = [str(start + i) for i in range(count)]
    if not all(ipaddress.IPv4Address(a) in ipaddress.IPv4Network("127.0.0.0/8") for a in found):
        raise SystemExit("sinks listen on 127.0.0.0/8 only")
    return found


@dataclass
class Counts:
    count: int = 0
    connections: int = 0
    first: float | None = None
    last: float | None = None
    paths: set[bytes] = field(default_factory=set)

    def post(self, host: bytes, path: bytes) -> None:
        now = time.time()
        self.count += 1
        self.first = self.first or now
        self.last = now
        self.paths.add(host + path)

    def as_json(self) -> bytes:
        figures = {
            "count": self.count,
            "distinct": len(self.paths),
            "connections": self.connections,
            "first": self.first,
            "last": self.last,
        }
        return json.dumps(figures).encode()


class SinkProtocol(asyncio.Protocol):
    """One connection: requests parsed from the buffer as they complete."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.counts.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and self._one_request():
            pass

    def _one_request(self) -> bool:
        """Answer the first complete request of the buffer; False when none is."""
        assert self.transport is not None
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._refuse()
            return False
        lines = bytes(self.buffer[:end]).split(b"\r\n")
        parts = lines[0].split(b" ")
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                self._refuse()
                return False
            headers[name.strip().lower()] = value.strip()
        if len(parts) != 3 or b"transfer-encoding" in headers:
            self._refuse()
            return False
        try:
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._refuse()
            return False
        if len(self.buffer) < end + 4 + length:
            return False  # the body is still coming
        del self.buffer[: end + 4 + length]
        method, path = parts[0], parts[1]
        if method == b"POST":
            self.counts.post(headers.get(b"host", b""), path)
            self.transport.write(ACCEPTED)
        elif method == b"GET" and path == b"/count":
            body = self.counts.as_json()
            self.transport.write(COUNT_HEAD % len(body) + body)
        else:
            self.transport.write(NOT_FOUND)
        if headers.get(b"connection", b"").lower() == b"close":
            self.transport.close()
            self.transport = None
        return True

    def _refuse(self) -> None:
        assert self.transport is not None
        self.transport.write(BAD)
        self.transport.close()
        self.transport = None


async def serve(hosts: list[str], port: int) -> None:
    loop = asyncio.get_running_loop()
    counts = Counts()
    servers = [
        await loop.create_server(lambda: SinkProtocol(counts), host, port, backlog=1024)
        for host in hosts
    ]
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()  # until interrupted
    finally:
        for server in servers:
            server.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--first", default="127.0.6.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(addresses(args.first, args.hosts), args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
