"""The event store: runs as append-only sequences of events. SQLite is the embedded backend."""

from runbook.store.sqlite import (
    LABELS,
    SCHEMA_VERSION,
    Event,
    RunInfo,
    Store,
    StoreError,
    UnknownRun,
    Writer,
    default_path,
    from_us,
    to_us,
)

__all__ = ["LABELS", "SCHEMA_VERSION", "Event", "RunInfo", "Store", "StoreError", "UnknownRun", "Writer", "default_path",
           "from_us", "location", "to_us"]


def location(arg: str | None) -> str:
    """The store named by ``--db`` (``arg``), else ``$RUNBOOK_DB``, else the default path."""
    return arg or str(default_path())
