"""What only the PostgreSQL store does: the server refuses a watcher's writes, NOTIFY carries only
a number and wakes followers before the poll would, and a listener that dies is noticed and
replaced while polling carries on."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from runbook.store import Store
from runbook.store.postgres import CHANNEL, POLL_S

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def store(pg_url: str):
    with Store(pg_url) as s:
        yield s


def make_run(store: Store) -> str:
    return store.create_run(runbook_id="rb", title="t", label="live", source_text="x",
                            source_name="rb.yaml", created_at=T0).id


def test_the_server_refuses_a_watchers_writes_behind_the_api(store: Store, pg_url: str) -> None:
    import psycopg

    make_run(store)
    with Store(pg_url, readonly=True) as ro:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            ro._c().execute("INSERT INTO meta VALUES ('x', 'y')")
        assert ro.runs()[0].runbook_id == "rb"


def test_a_notification_carries_only_the_new_version(store: Store, pg_url: str) -> None:
    import psycopg

    run_id = make_run(store)
    with psycopg.connect(pg_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        store.append(run_id, at=T0, actor="kim", host="h", type="note", payload={"text": "x"})
        [note] = list(listener.notifies(timeout=5, stop_after=1))
    assert note.payload == str(store.data_version())


def wake_after_write(store: Store, ro: Store, run_id: str, delay: float = 0.2) -> float:
    """Seconds from a write to the follower waking."""
    since = ro.data_version()
    written: list[float] = []

    def write() -> None:
        store.append(run_id, at=T0, actor="kim", host="h", type="note", payload={})
        written.append(time.monotonic())

    timer = threading.Timer(delay, write)
    timer.start()
    assert ro.wait_for_change(since, 10.0) != since
    woke = time.monotonic()
    timer.join()
    return woke - written[0]


def test_notify_wakes_a_follower_before_the_poll_would(store: Store, pg_url: str) -> None:
    run_id = make_run(store)
    with Store(pg_url, readonly=True) as ro:
        ro.wait_for_change(ro.data_version(), 0.01)  # the listener is up
        lags = [wake_after_write(store, ro, run_id) for _ in range(3)]
    assert min(lags) < POLL_S / 2, lags


def test_a_dead_listener_is_replaced_and_polling_covers_the_gap(store: Store,
                                                                pg_url: str) -> None:
    run_id = make_run(store)
    with Store(pg_url, readonly=True) as ro:
        ro.wait_for_change(ro.data_version(), 0.01)
        pid = ro._listener.info.backend_pid
        store._c().execute("SELECT pg_terminate_backend(%s)", (pid,))  # the listener dies
        assert wake_after_write(store, ro, run_id) < POLL_S + 1.0  # the poll still wakes it
        ro.wait_for_change(ro.data_version(), 0.01)  # ... and it listens again, on a new link
        assert ro._listener is not None and ro._listener.info.backend_pid != pid
        assert wake_after_write(store, ro, run_id) < POLL_S / 2


def test_no_psycopg_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from runbook.store import StoreError, postgres

    monkeypatch.setattr(postgres, "psycopg", None)
    with pytest.raises(StoreError, match=r"pip install 'runbook\[postgres\]'"):
        Store("postgresql://kim:secret@db.example/runs")
    with pytest.raises(StoreError) as info:
        Store("postgresql://kim:secret@db.example/runs")
    assert "secret" not in str(info.value)
