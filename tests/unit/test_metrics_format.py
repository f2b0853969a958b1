"""The Prometheus text format of our counters and histograms, and failure-reason labels."""

from __future__ import annotations

import pytest

from federation.observability.metrics import Counter, Gauge, Histogram
from federation.observability.reasons import KINDS, signature_failure_kind


def test_counter_and_histogram_exposition() -> None:
    counter = Counter("x_total", "Things.", ("kind",))
    counter.inc('a"b\\c\n')
    counter.inc('a"b\\c\n', amount=2)
    assert list(counter.render()) == [
        "# HELP x_total Things.",
        "# TYPE x_total counter",
        'x_total{kind="a\\"b\\\\c\\n"} 3',
    ]
    histogram = Histogram("lat_seconds", "Latency.", (0.1, 1.0))
    for value in (0.05, 0.5, 5.0):
        histogram.observe(value)
    assert list(histogram.render())[2:] == [
        'lat_seconds_bucket{le="0.1"} 1',
        'lat_seconds_bucket{le="1"} 2',
        'lat_seconds_bucket{le="+Inf"} 3',
        "lat_seconds_sum 5.55",
        "lat_seconds_count 3",
    ]
    with pytest.raises(ValueError, match="labels"):
        counter.inc()
    gauge = Gauge("g", "G.", ("state",), [(("pending",), 4)])
    assert list(gauge.render())[-1] == 'g{state="pending"} 4'


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("request is not signed", "unsigned"),
        ("RFC 9421 signatures are not accepted here; use draft-cavage", "scheme_refused"),
        ("digest does not match body", "digest"),
        ("content-digest does not match body", "digest"),
        ("signature date is too old", "expired"),
        ("signature has expired", "expired"),
        ("signature must cover (request-target)", "coverage"),
        ("cannot fetch key: connection refused", "key_unavailable"),
        ("the actor does not publish the key https://a.example/u#k", "key_unavailable"),
        ("the signing key does not belong to the activity's actor", "key_owner"),
        ("signature does not verify", "bad_signature"),
        ("integrity proof refused: bad", "proof"),
        ("activity id is not on the actor's server", "origin"),
        ("unparseable signature header", "malformed"),
    ],
)
def test_signature_failure_kinds(reason: str, kind: str) -> None:
    assert signature_failure_kind(reason) == kind
    assert kind in KINDS
