"""Counters and histograms of this process, in the Prometheus text format (0.0.4).

Written by hand rather than with prometheus-client: two metric kinds and one output
format are all we need. Counters and histograms are per process: each `serve` process
answers with its own (Prometheus sums the targets, e.g. `sum by (outcome)`). What
several processes share (deliveries by state, queue depths, crawl progress) is read
from the database at scrape time instead (`federation.observability.gauges`), so any
one process tells the whole truth about it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from threading import Lock

Labels = tuple[str, ...]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def label_text(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


@dataclass
class Counter:
    name: str
    help: str
    label_names: Labels = ()
    _values: dict[Labels, float] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if len(labels) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}")
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for labels, value in sorted(self._values.items()):
            yield f"{self.name}{label_text(self.label_names, labels)} {number(value)}"


@dataclass
class Histogram:
    name: str
    help: str
    buckets: tuple[float, ...]
    label_names: Labels = ()
    _counts: dict[Labels, list[int]] = field(default_factory=dict)
    _sums: dict[Labels, float] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)

    def observe(self, value: float, *labels: str) -> None:
        if len(labels) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}")
        with self._lock:
            counts = self._counts.setdefault(labels, [0] * (len(self.buckets) + 1))
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self._sums[labels] = self._sums.get(labels, 0.0) + value

    def count(self, *labels: str) -> int:
        counts = self._counts.get(labels)
        return counts[-1] if counts else 0

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        names = (*self.label_names, "le")
        for labels, counts in sorted(self._counts.items()):
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                yield f"{self.name}_bucket{label_text(names, (*labels, number(bound)))} {count}"
            plain = label_text(self.label_names, labels)
            yield f"{self.name}_sum{plain} {number(self._sums[labels])}"
            yield f"{self.name}_count{plain} {counts[-1]}"


@dataclass(frozen=True)
class Gauge:
    """A value read at scrape time (one sample per label set)."""

    name: str
    help: str
    label_names: Labels
    samples: Sequence[tuple[Labels, float]]

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} gauge"
        for labels, value in self.samples:
            yield f"{self.name}{label_text(self.label_names, labels)} {number(value)}"


LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0, 7200.0)
ATTEMPT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)

INBOX_REQUESTS = Counter(
    "declics_inbox_requests_total",
    "Inbox POSTs handled by this process, by outcome.",
    ("outcome",),
)
SIGNATURE_FAILURES = Counter(
    "declics_inbox_signature_failures_total",
    "Inbox POSTs refused with 401 by this process, by reason.",
    ("reason",),
)
DELIVERY_ATTEMPTS = Counter(
    "declics_delivery_attempts_total",
    "Delivery attempts made by this process, by the state they led to.",
    ("state",),
)
DELIVERY_LATENCY = Histogram(
    "declics_delivery_latency_seconds",
    "From the activity being queued to its delivery being accepted (this process).",
    LATENCY_BUCKETS,
)
DELIVERY_ATTEMPT_SECONDS = Histogram(
    "declics_delivery_attempt_seconds",
    "Duration of one delivery POST, signing included (this process).",
    ATTEMPT_BUCKETS,
)

PROCESS_METRICS: tuple[Counter | Histogram, ...] = (
    INBOX_REQUESTS,
    SIGNATURE_FAILURES,
    DELIVERY_ATTEMPTS,
    DELIVERY_LATENCY,
    DELIVERY_ATTEMPT_SECONDS,
)


def exposition(extra: Iterable[Gauge] = ()) -> str:
    lines: list[str] = []
    for gauge in extra:
        lines.extend(gauge.render())
    for metric in PROCESS_METRICS:
        lines.extend(metric.render())
    return "\n".join(lines) + "\n"
