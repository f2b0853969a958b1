"""The cyclic garbage collector's settings for a long-running server process.

Python's collector walks every tracked object of the generations it collects. A
started server holds about 100,000 of them (modules, SQLAlchemy's mappings, the
templates) that live as long as the process, and the default thresholds made it walk
them again and again: on 5,000 signed inbox POSTs (`bench/inbox_throughput.py`) the
web process spent 370-740 ms in 195 collections, 75-150 µs per request, as much as
the whole signature check. Two changes, made once the server has started:

- `gc.freeze()` moves what exists then to a permanent generation that no collection
  walks (what lives for the whole process is never garbage anyway): 130-350 ms;
- a young generation of 10,000 allocations instead of 700, so that the short-lived
  objects of a request are mostly freed by reference counting before any collection
  runs: 2 collections, 75-100 ms. What a collection would free waits a little longer
  (a few MB at most).

Only `declics serve` and `declics worker` call it: the tests run many instances in
one process, where frozen objects would never be freed.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION = 10_000


def settle() -> None:
    """Freeze what the process holds once started, and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, old)
