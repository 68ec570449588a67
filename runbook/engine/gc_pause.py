"""Cyclic garbage collection paused around work that makes many small objects and no cycles.

Reading a thousand past runs (the forecast prior, `runbook runs`) or building the report of a
100,000-event run allocates hundreds of thousands of lists, dicts and records that live on. Each
time the collector's thresholds are crossed meanwhile, a full collection walks every object the
process holds: in a fresh `runbook check --db` process that was more than half the prior's time,
two fifths of a big report's build. Nothing here makes cycles, so nothing is lost by waiting;
collection resumes (if it was on) when the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Collection paused for the block, then restored as it was (on or off)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
