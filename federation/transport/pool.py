"""The client's connection pool: keep-alive connections kept idle, bounded.

aiohttp's `TCPConnector` bounds the connections in use (`limit`, `limit_per_host`)
but keeps every idle one until `keepalive_timeout`: a fan-out to 1,000 hosts with 4
requests at once per host left 4,000 sockets open, about 9 KB of resident memory each
(bench/README.md, round 3). The next delivery to a host needs one connection, so a
host keeps at most `idle_per_host` idle connections (the most recently used), and at
most `idle_hosts` hosts keep any (the least recently used host loses its own first).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ConnectionKey

# One idle connection per host for the next delivery; 1,024 hosts, about 9 MB at most.
IDLE_PER_HOST = 1
IDLE_HOSTS = 1024


class BoundedIdleConnector(aiohttp.TCPConnector):
    def __init__(
        self, *, idle_per_host: int = IDLE_PER_HOST, idle_hosts: int = IDLE_HOSTS, **options: Any
    ) -> None:
        super().__init__(**options)
        self._idle_per_host = idle_per_host
        self._idle_hosts = idle_hosts
        # Hosts by the time their last connection went idle, oldest first.
        self._released: OrderedDict[ConnectionKey, None] = OrderedDict()

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        super()._release(key, protocol, should_close=should_close)
        idle = self._conns.get(key)
        if not idle:
            return
        while len(idle) > self._idle_per_host:
            oldest, _ = idle.popleft()
            oldest.close()
        self._released[key] = None
        self._released.move_to_end(key)
        while len(self._released) > self._idle_hosts:
            host, _ = self._released.popitem(last=False)
            for stale, _ in self._conns.pop(host, ()):
                stale.close()
