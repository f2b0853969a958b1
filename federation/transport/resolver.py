"""A DNS resolver that refuses non-public answers, checked at connect time.

Checking the answer the connection really uses (not a separate look-up before it)
defeats DNS rebinding: an attacker's name that resolves to 127.0.0.1 on the second
query still cannot reach us.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from federation.transport.addresses import is_public_address


class BlockedAddress(OSError):
    """The host resolves only to addresses we refuse to contact."""


class SafeResolver(AbstractResolver):
    def __init__(self, *, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return answers
        allowed = [a for a in answers if is_public_address(a["host"])]
        if not allowed:
            raise BlockedAddress(f"{host} resolves to a private or reserved address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
