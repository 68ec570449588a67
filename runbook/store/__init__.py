"""The event store: runs as append-only sequences of events.

``Store(location)`` (or ``open_store(--db value)``) opens SQLite for a file path, the embedded
default, and PostgreSQL for ``postgresql://...`` (``pip install 'runbook[postgres]'``).
"""

from runbook.store.base import (
    ENDINGS,
    LABELS,
    Event,
    First,
    RunInfo,
    RunLine,
    Store,
    StoreDamaged,
    StoreError,
    StoreUnavailable,
    StoreUninitialised,
    UnknownRun,
    Writer,
    clock_offset,
    default_path,
    from_us,
    is_postgres,
    location,
    open_store,
    to_us,
)
from runbook.store.sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = ["ENDINGS", "LABELS", "SCHEMA_VERSION", "Event", "First", "RunInfo", "RunLine",
           "SQLiteStore", "Store",
           "StoreDamaged", "StoreError", "StoreUnavailable", "StoreUninitialised", "UnknownRun", "Writer",
           "clock_offset", "default_path", "from_us", "is_postgres", "location", "open_store",
           "to_us"]
