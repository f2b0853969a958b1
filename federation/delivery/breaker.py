"""Per-host circuit breaker for deliveries. Pure, in memory, bounded.

A host that fails `failures` deliveries in a row (transport errors and 5xx) is
"open" for `cooldown`: its deliveries are given back untried, so a host that times
out or answers byte by byte holds neither the worker's slots nor other hosts' turns.
After the cooldown one try goes through (half-open): a success closes the breaker, a
failure opens it again at once. Only the last `max_hosts` failing hosts are kept.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class _Failing:
    count: int
    reason: str
    open_until: datetime | None


class HostBreaker:
    def __init__(self, failures: int, cooldown: timedelta, max_hosts: int = 10000) -> None:
        self.failures = max(1, failures)
        self.cooldown = cooldown
        self.max_hosts = max_hosts
        self._hosts: OrderedDict[str, _Failing] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hosts)

    def blocked_until(self, host: str, now: datetime) -> datetime | None:
        """When the host may be tried again, or None if it may be tried now."""
        state = self._hosts.get(host)
        if state is None or state.open_until is None or state.open_until <= now:
            return None
        return state.open_until

    def describe(self, host: str) -> str:
        state = self._hosts.get(host)
        if state is None:
            return f"{host} is being skipped"
        return (
            f"not attempted: {host} failed {state.count} deliveries in a row "
            f"(last: {state.reason}); waiting before trying it again"
        )

    def success(self, host: str) -> None:
        self._hosts.pop(host, None)

    def failure(self, host: str, reason: str, now: datetime) -> bool:
        """Count a failure; True when the breaker opens (or opens again) now."""
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Failing(0, reason, None)
            while len(self._hosts) > self.max_hosts:
                self._hosts.popitem(last=False)
        else:
            self._hosts.move_to_end(host)
        state.count += 1
        state.reason = reason
        if state.count >= self.failures:
            state.open_until = now + self.cooldown
            return True
        return False
