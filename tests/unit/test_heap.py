"""heap.settle: what a started server holds is frozen, young objects are collected
less often (and the test process gets its collector back afterwards)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from federation import heap


@pytest.fixture
def collector_restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_settle_freezes_what_exists_and_raises_the_young_threshold(
    collector_restored: None,
) -> None:
    gc.unfreeze()
    kept = [{"held": n} for n in range(1000)]
    middle, old = gc.get_threshold()[1:]
    heap.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (heap.YOUNG_GENERATION, middle, old)
    # Objects made afterwards are collected as usual: a cycle made now is freed.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
