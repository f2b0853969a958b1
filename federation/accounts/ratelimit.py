"""Login attempts per account and per client address (pure; in memory, per process).

Failures are counted in a sliding window; a key over its limit waits until its oldest
failure leaves the window. Memory is bounded: at most `max_keys` keys are tracked,
the least recently failed one is forgotten first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence


class LoginLimiter:
    def __init__(
        self,
        *,
        per_account: int = 5,
        per_address: int = 20,
        window_seconds: float = 900.0,
        max_keys: int = 10_000,
    ) -> None:
        self.limits = {"account": per_account, "address": per_address}
        self.window = window_seconds
        self.max_keys = max_keys
        # Plain lists (a deque costs ~600 bytes even when it holds one time).
        self._failures: OrderedDict[Hashable, list[float]] = OrderedDict()

    def _recent(self, key: Hashable, now: float) -> list[float]:
        times = self._failures.get(key)
        if times is None:
            return []
        fresh = [t for t in times if t > now - self.window]
        if fresh:
            self._failures[key] = fresh
        else:
            del self._failures[key]
        return fresh

    def wait_seconds(self, keys: Sequence[tuple[str, Hashable]], now: float) -> float:
        """0 when an attempt may be made now; else how long to wait."""
        wait = 0.0
        for kind, value in keys:
            times = self._recent((kind, value), now)
            if len(times) >= self.limits[kind]:
                wait = max(wait, times[0] + self.window - now)
        return wait

    def failed(self, keys: Sequence[tuple[str, Hashable]], now: float) -> None:
        for kind, value in keys:
            key = (kind, value)
            times = self._failures.pop(key, None) or []
            times.append(now)
            # Only the last `limit` failures matter for the wait: keep no more.
            self._failures[key] = times[-self.limits[kind] :]
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, keys: Sequence[tuple[str, Hashable]]) -> None:
        for kind, value in keys:
            if kind == "account":
                self._failures.pop((kind, value), None)

    def __len__(self) -> int:
        return len(self._failures)
