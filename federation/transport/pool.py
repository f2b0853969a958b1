"""The client's connection pool: keep-alive connections kept idle, bounded in number.

aiohttp's `TCPConnector` bounds the connections in use (`limit`, `limit_per_host`)
but keeps every idle one until `keepalive_timeout`: a fan-out to 1,000 hosts with 4
requests at once per host left 4,000 sockets open, about 9 KB of resident memory each
(bench/README.md, round 3). This connector keeps at most `max_idle` idle connections
in all and closes the one idle for the longest first: a host being delivered to
keeps its connections, one done with long ago loses them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ConnectionKey

# About 9 MB of sockets at most; as many hosts as the fan-out benchmark has.
MAX_IDLE = 1024


class BoundedIdleConnector(aiohttp.TCPConnector):
    def __init__(self, *, max_idle: int = MAX_IDLE, **options: Any) -> None:
        super().__init__(**options)
        self._max_idle = max_idle
        # Connections in the order they went idle, oldest first. One may have been
        # taken again or closed since: it is then only skipped when its turn comes.
        self._idle_since: OrderedDict[ResponseHandler, ConnectionKey] = OrderedDict()

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        super()._release(key, protocol, should_close=should_close)
        idle = self._conns.get(key)
        if not idle or idle[-1][0] is not protocol:
            return  # closed, not kept
        self._idle_since[protocol] = key
        self._idle_since.move_to_end(protocol)
        while len(self._idle_since) > self._max_idle:
            oldest, host = self._idle_since.popitem(last=False)
            self._close_idle(host, oldest)

    def _cleanup(self) -> None:
        # aiohttp closes the connections idle past the keep-alive timeout: forget them
        # (and those taken again since), so that closed ones are not held here.
        super()._cleanup()
        idle = {protocol for conns in self._conns.values() for protocol, _ in conns}
        for protocol in [p for p in self._idle_since if p not in idle]:
            del self._idle_since[protocol]

    def _close_idle(self, key: ConnectionKey, protocol: ResponseHandler) -> None:
        idle = self._conns.get(key)
        if idle is None:
            return
        for entry in idle:
            if entry[0] is protocol:
                idle.remove(entry)
                protocol.close()
                break
        if not idle:
            del self._conns[key]
