"""The store contract: one suite of behaviour, run against SQLite and PostgreSQL (``backend``)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from runbook.store import (
    Event,
    First,
    RunInfo,
    Store,
    StoreError,
    UnknownRun,
    is_postgres,
)

T0 = datetime(2026, 11, 24, 15, 0, 0, 123456, tzinfo=UTC)
KST = timezone(timedelta(hours=9))
SOURCE = "runbook: 1\ntitle: Swap port  # 한글 [x] \\ 'q'\nsteps: []\n"
FINISHED = ("run_finished", "run_aborted")


@pytest.fixture
def store(backend: str):
    with Store(backend) as s:
        yield s


def make_run(store: Store, runbook_id: str = "san-port-swap", **kw) -> RunInfo:
    args = dict(runbook_id=runbook_id, title="Replace port", label="live", source_text=SOURCE,
                source_name="san.yaml", created_at=T0, meta={"seed": 7, "samples": 2000})
    return store.create_run(**{**args, **kw})


def add(store: Store, run_id: str, **kw) -> Event:
    return store.append(run_id, **{**dict(at=T0, actor="kim", host="ops1", type="start"), **kw})


def raw_execute(backend: str, sql: str) -> None:
    """Run SQL on the store's database behind runbook's back."""
    if is_postgres(backend):
        import psycopg

        with psycopg.connect(backend, autocommit=True) as conn:
            conn.execute(sql)
    else:
        import sqlite3

        conn = sqlite3.connect(backend, isolation_level=None)
        try:
            conn.execute(sql)
        finally:
            conn.close()


# -- round trips --------------------------------------------------------------------------------

def test_run_round_trip(store: Store, backend: str) -> None:
    run = make_run(store)
    assert run.id.startswith("san-port-swap-20261124-1500-") and len(run.id) == 32
    expected = RunInfo(id=run.id, runbook_id="san-port-swap", title="Replace port", label="live",
                       created_at=T0, source_name="san.yaml", source_text=SOURCE,
                       meta={"seed": 7, "samples": 2000})
    assert run == expected
    with Store(backend, readonly=True) as ro:
        assert ro.readonly and ro.run(run.id) == expected
        assert ro.run(run.id).created_at.tzinfo is UTC


def test_event_round_trip_exact(store: Store, backend: str) -> None:
    run = make_run(store)
    at = datetime(2026, 11, 25, 0, 3, 7, 654321, tzinfo=KST)
    payload = {"note": "ok ✓ [b]x[/b] \\n", "n": [1, 2.5, None], "nested": {"a": True}}
    ev = add(store, run.id, at=at, type="complete", step="stop-was", payload=payload,
             event_id="e-1")
    expected = Event(run_id=run.id, seq=1, event_id="e-1",
                     at=datetime(2026, 11, 24, 15, 3, 7, 654321, tzinfo=UTC), actor="kim",
                     host="ops1", type="complete", step="stop-was", payload=payload)
    assert ev == expected
    with Store(backend, readonly=True) as ro:
        [got] = ro.events(run.id)
    assert got == expected and got.at.tzinfo is UTC
    default = add(store, run.id)
    assert default.step is None and default.payload == {} and len(default.event_id) == 32


def test_instants_are_exact_microseconds_far_from_epoch(store: Store) -> None:
    run = make_run(store)
    instants = [datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=UTC),
                datetime(2026, 3, 29, 1, 30, 0, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))]
    for at in instants:
        add(store, run.id, at=at)
    assert [e.at for e in store.events(run.id)] == instants


def test_naive_datetimes_bad_labels_and_payloads_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="aware"):
        make_run(store, created_at=datetime(2026, 11, 25))
    with pytest.raises(ValueError, match="label"):
        make_run(store, label="test")
    run = make_run(store)
    with pytest.raises(ValueError, match="aware"):
        add(store, run.id, at=datetime(2026, 11, 25))
    with pytest.raises(ValueError):
        add(store, run.id, payload={"x": float("nan")})
    with pytest.raises(TypeError):
        add(store, run.id, payload=[1, 2])  # type: ignore[arg-type]
    assert store.last_seq(run.id) == 0


# -- seq and event ids --------------------------------------------------------------------------

def test_seq_assignment_per_run(store: Store) -> None:
    a, b = make_run(store, "a"), make_run(store, "b")
    assert store.last_seq(a.id) == 0
    assert [add(store, a.id).seq for _ in range(3)] == [1, 2, 3]
    assert add(store, b.id).seq == 1
    with store.writing(a.id) as w:
        assert [w.append(at=T0, actor="x", host="h", type="t").seq for _ in range(2)] == [4, 5]
        assert [e.seq for e in w.events_after(3)] == [4, 5]  # sees its own uncommitted events
    assert store.last_seq(a.id) == 5 and store.last_seq(b.id) == 1
    assert [e.seq for e in store.events(a.id, after_seq=2)] == [3, 4, 5]
    assert store.events(a.id, after_seq=5) == []


def test_event_id_is_idempotent(store: Store) -> None:
    run = make_run(store)
    first = add(store, run.id, event_id="retry-me", payload={"v": 1})
    assert add(store, run.id, event_id="retry-me", payload={"v": 2}, type="other") == first
    with store.writing(run.id) as w:
        assert w.append(at=T0, actor="x", host="h", type="t", event_id="retry-me") == first
        new = w.append(at=T0, actor="x", host="h", type="t", event_id="fresh")
        assert w.append(at=T0, actor="x", host="h", type="t", event_id="fresh") == new
    assert [(e.seq, e.event_id) for e in store.events(run.id)] == [(1, "retry-me"), (2, "fresh")]
    other = make_run(store, "other")
    with pytest.raises(StoreError, match="already used by run"):
        add(store, other.id, event_id="retry-me")
    assert store.events(other.id) == []


def test_runs_and_events_are_append_only_in_the_database(store: Store, backend: str) -> None:
    run = make_run(store)
    add(store, run.id)
    for sql in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events",
                "UPDATE runs SET title = 'x'", "DELETE FROM runs"):
        with pytest.raises(Exception, match="append-only"):
            raw_execute(backend, sql)
    assert store.events(run.id)[0].actor == "kim" and store.run(run.id).title == "Replace port"


def test_rollback_on_exception_leaves_nothing(store: Store) -> None:
    run = make_run(store)
    add(store, run.id)
    with pytest.raises(KeyError), store.writing(run.id) as w:
        w.append(at=T0, actor="x", host="h", type="t", event_id="lost-1")
        w.append(at=T0, actor="x", host="h", type="t", event_id="lost-2")
        raise KeyError("operator action failed validation")
    assert [e.seq for e in store.events(run.id)] == [1]
    assert add(store, run.id, event_id="lost-1").seq == 2  # the id was never recorded
    with pytest.raises(RuntimeError, match="outside"):
        w.append(at=T0, actor="x", host="h", type="t")


def test_unknown_runs(store: Store) -> None:
    make_run(store, run_id="real-run")
    with pytest.raises(UnknownRun, match="no run 'real-rum'.*closest: real-run"):
        store.events("real-rum")
    with pytest.raises(UnknownRun):
        store.last_seq("nope")
    with pytest.raises(UnknownRun), store.writing("nope"):
        pass
    with pytest.raises(UnknownRun):
        add(store, "real")  # writes need the exact id, not a prefix


# -- runs ---------------------------------------------------------------------------------------

def test_run_ids_prefixes_and_newest(store: Store) -> None:
    assert make_run(store, run_id="mine").id == "mine"
    with pytest.raises(StoreError, match="run 'mine' already exists"):
        make_run(store, run_id="mine")
    a = make_run(store, run_id="san-port-swap-20261124-1500-aaaa", created_at=T0 - timedelta(1))
    b = make_run(store, run_id="san-port-swap-20261124-1500-abbb")
    c = make_run(store, "dr-drill", run_id="dr-drill-20261201-0100-cccc")
    assert store.run("san-port-swap-20261124-1500-ab") == b and store.resolve("dr") == c
    with pytest.raises(UnknownRun, match=r"ambiguous .*: it matches \S+, \S+; give more"):
        store.run("san-port-swap-20261124-1500-a")
    assert store.resolve(None) == c  # same instant as b and mine: the later one wins
    assert [r.id for r in store.runs()] == [c.id, b.id, "mine", a.id]
    assert [r.id for r in store.runs_of("san-port-swap")] == [b.id, "mine", a.id]
    assert store.runs_of("missing") == []


def test_empty_store(store: Store) -> None:
    assert store.runs() == []
    with pytest.raises(UnknownRun, match=rf"store {re.escape(store.name)} has no runs yet"):
        store.resolve(None)


def test_a_run_and_its_first_event_are_one_transaction(store: Store) -> None:
    first = First("kim", "ops1", "run_started", {"operator": "kim"})
    run = make_run(store, first=first)
    [ev] = store.events(run.id)
    assert (ev.seq, ev.type, ev.at, ev.payload) == (1, "run_started", T0, {"operator": "kim"})
    with pytest.raises(StoreError, match="already exists"):  # a refused run leaves no event
        make_run(store, run_id=run.id, first=first)
    assert len(store.events(run.id)) == 1


def test_open_or_create_resumes_the_newest_unfinished_run(store: Store) -> None:
    first = First("kim", "ops1", "run_started", {})
    fields = dict(runbook_id="rb", title="t", label="live", source_text=SOURCE,
                  source_name="rb.yaml", created_at=T0)
    created, resumed = store.open_or_create(finished=FINISHED, first=first, **fields)
    assert not resumed and [e.type for e in store.events(created.id)] == ["run_started"]
    again, resumed = store.open_or_create(finished=FINISHED, first=first, **fields)
    assert resumed and again == created and len(store.events(created.id)) == 1
    add(store, created.id, type="run_finished")
    fresh, resumed = store.open_or_create(finished=FINISHED, first=first, **fields)
    assert not resumed and fresh.id != created.id


def test_open_or_create_from_many_connections_at_once_makes_one_run(backend: str) -> None:
    Store(backend).close()  # the schema exists; the race is about the run
    stores = [Store(backend) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    results: list[tuple[str, bool]] = []

    def go(s: Store) -> None:
        barrier.wait()
        info, resumed = s.open_or_create(
            finished=FINISHED, first=First("op", "h", "run_started", {}), runbook_id="rb",
            title="t", label="live", source_text=SOURCE, source_name="rb.yaml", created_at=T0)
        results.append((info.id, resumed))

    threads = [threading.Thread(target=go, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len({rid for rid, _ in results}) == 1 and sorted(r for _, r in results) == [False] + [True] * 5
    assert len(stores[0].runs()) == 1 and len(stores[0].events(results[0][0])) == 1
    for s in stores:
        s.close()


# -- followers, read-only, the clock -------------------------------------------------------------

def test_a_follower_cannot_write(store: Store, backend: str) -> None:
    run = make_run(store)
    add(store, run.id)
    with Store(backend, readonly=True) as ro:
        assert len(ro.events(run.id)) == 1
        with pytest.raises(StoreError, match="read-only"):
            add(ro, run.id)
        with pytest.raises(StoreError, match="read-only"):
            make_run(ro)
        with pytest.raises(StoreError, match="read-only"), ro.writing(run.id):
            pass
    assert len(store.events(run.id)) == 1


def test_a_follower_sees_a_change_and_wakes(store: Store, backend: str) -> None:
    run = make_run(store)
    with Store(backend, readonly=True) as ro:
        v0 = ro.data_version()
        assert ro.data_version() == v0
        assert ro.wait_for_change(v0, 0.1) == v0  # nothing committed: times out
        timer = threading.Timer(0.2, lambda: add(store, run.id, event_id="x"))
        timer.start()
        began = time.monotonic()
        v1 = ro.wait_for_change(v0, 5.0)
        assert v1 != v0 and time.monotonic() - began < 1.5
        assert [e.event_id for e in ro.events(run.id)] == ["x"]
        timer.join()


def test_nested_writing_is_refused(store: Store) -> None:
    run = make_run(store)
    with pytest.raises(RuntimeError, match="nested"), store.writing(run.id) as w:
        w.append(at=T0, actor="x", host="h", type="t")
        with store.writing(run.id):
            pass
    assert store.last_seq(run.id) == 0


def test_the_store_has_a_clock(store: Store) -> None:
    assert abs((store.now() - datetime.now(UTC)).total_seconds()) < 1.0
    run = make_run(store)
    with store.writing(run.id) as w:
        assert abs((w.now() - datetime.now(UTC)).total_seconds()) < 1.0


def test_closed_store(backend: str) -> None:
    s = Store(backend)
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.runs()


def test_store_init_and_migrate_commands(backend: str, capsys: pytest.CaptureFixture) -> None:
    from runbook.cli import main
    from runbook.store.migrations import POSTGRES, SQLITE

    latest = len(POSTGRES if is_postgres(backend) else SQLITE)
    assert main(["store", "migrate", "--db", backend]) == 2
    assert "runbook store init" in capsys.readouterr().err
    assert main(["store", "init", "--db", backend]) == 0
    assert f"created (schema version {latest})" in capsys.readouterr().out
    assert main(["store", "migrate", "--db", backend]) == 0
    assert f"schema version {latest}, up to date" in capsys.readouterr().out
    with Store(backend) as s:
        assert s.schema_version() == latest and s.runs() == []


def test_many_writers_opening_an_empty_store_at_once_create_it_once(backend: str) -> None:
    barrier = threading.Barrier(6)
    errors: list[Exception] = []
    opened: list[Store] = []

    def go() -> None:
        barrier.wait()
        try:
            opened.append(Store(backend))
        except Exception as e:  # noqa: BLE001 - the test reports whatever went wrong
            errors.append(e)

    for _ in range(3):  # the race is short: try it a few times on fresh stores
        threads = [threading.Thread(target=go) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert {s.schema_version() for s in opened} == {opened[0].schema_version()} != {0}
        for s in opened:
            s.close()
        opened.clear()
        if is_postgres(backend):
            raw_execute(backend, "DROP SCHEMA public CASCADE")  # every table, trigger, function
            raw_execute(backend, "CREATE SCHEMA public")
        else:
            import os

            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(backend + suffix)


# -- a big store: unfinished runs by count, run lines with stored summaries ----------------------

def end(store: Store, run_id: str, type: str = "run_finished") -> Event:
    return add(store, run_id, type=type)


def test_unfinished_is_the_newest_run_not_ended(store: Store) -> None:
    assert store.unfinished("rb") is None
    a = make_run(store, "rb", created_at=T0)
    b = make_run(store, "rb", created_at=T0 + timedelta(days=1))
    c = make_run(store, "rb", created_at=T0 + timedelta(days=2))
    other = make_run(store, "other")
    assert store.unfinished("rb") == c and store.unfinished("other") == other
    end(store, c.id)
    assert store.unfinished("rb") == b
    end(store, b.id, "run_aborted")
    end(store, b.id)  # a second ending changes nothing
    assert store.unfinished("rb") == a
    add(store, a.id, type="note")  # any other event does not end it
    assert store.unfinished("rb") == a
    end(store, a.id)
    assert store.unfinished("rb") is None and store.unfinished("other") == other
    d = make_run(store, "rb", created_at=T0 - timedelta(days=9))  # an old date, recorded last
    assert store.unfinished("rb") == d
    first = First("kim", "ops1", "run_started", {})
    fields = dict(runbook_id="rb", title="t", label="live", source_text=SOURCE,
                  source_name="rb.yaml", created_at=T0)
    assert store.open_or_create(finished=FINISHED, first=first, **fields) == (d, True)
    end(store, d.id)
    made, resumed = store.open_or_create(finished=FINISHED, first=first, **fields)
    assert not resumed and store.unfinished("rb") == made


def test_unfinished_counts_stay_exact_with_many_writers_at_once(backend: str) -> None:
    Store(backend).close()
    stores = [Store(backend) for _ in range(4)]
    barrier = threading.Barrier(len(stores))
    errors: list[Exception] = []

    def go(s: Store) -> None:
        barrier.wait()
        try:
            for _ in range(5):
                run = make_run(s, "rb")
                end(s, run.id)
        except Exception as e:  # noqa: BLE001 - the test reports whatever went wrong
            errors.append(e)

    threads = [threading.Thread(target=go, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    s = stores[0]
    assert len(s.runs()) == 20 and s.unfinished("rb") is None
    left = make_run(s, "rb")
    assert s.unfinished("rb") == left
    for s in stores:
        s.close()


def test_summaries_list_runs_lightly_with_the_summary_of_their_last_event(store: Store) -> None:
    a = make_run(store, "rb", created_at=T0)
    b = make_run(store, "rb", created_at=T0 + timedelta(days=1), label="rehearsal")
    make_run(store, "other", created_at=T0 + timedelta(days=2))
    add(store, a.id, type="run_started")
    with store.writing(a.id) as w:
        with pytest.raises(RuntimeError, match="append first"):
            w.settle(1, {"status": "early"})
        w.append(at=T0, actor="kim", host="ops1", type="run_finished")
        w.settle(1, {"status": "finished", "한": "글"}, {"steps": [["s1", 61.5, 60.0]]})
    lines = store.summaries(1, "rb")
    assert [(x.id, x.label, x.events) for x in lines] == [(b.id, "rehearsal", 0), (a.id, "live", 2)]
    assert lines[1].summary == {"status": "finished", "한": "글"} and lines[1].detail is None
    assert store.summaries(1, "rb", detail=True)[1].detail == {"steps": [["s1", 61.5, 60.0]]}
    assert lines[0].summary is None
    assert lines[1].created_at == T0 and lines[1].title == a.title
    assert store.summaries(2, "rb")[1].summary is None  # another format: not this one
    assert [x.runbook_id for x in store.summaries(1)] == ["other", "rb", "rb"]
    add(store, a.id, type="hook_failed")  # a later event: the summary no longer covers the run
    assert store.summaries(1, "rb")[1].summary is None and store.summaries(1, "rb")[1].events == 3
    with store.writing(a.id) as w:
        w.append(at=T0, actor="kim", host="ops1", type="note")
        w.settle(1, {"status": "again"})
    assert store.summaries(1, "rb")[1].summary == {"status": "again"}


def test_run_counts_and_summaries_are_append_only(store: Store, backend: str) -> None:
    run = make_run(store)
    with store.writing(run.id) as w:
        w.append(at=T0, actor="kim", host="ops1", type="run_finished")
        w.settle(1, {"status": "finished"})
    for table in ("run_summaries", "run_opened", "run_ended"):
        for sql in (f"UPDATE {table} SET run_id = 'x'", f"DELETE FROM {table}"):
            with pytest.raises(Exception, match="append-only"):
                raw_execute(backend, sql)
    assert store.summaries(1)[0].summary == {"status": "finished"}


def test_a_run_id_prefix_is_found_without_listing_every_run(store: Store) -> None:
    a = make_run(store, "rb", run_id="rb-1")
    b = make_run(store, "rb", run_id="rb-2")
    make_run(store, "rb", run_id="rc%_1")
    assert store.run("rb-1") == a and store.run("rb-2") == b and store.run("rc%") .id == "rc%_1"
    with pytest.raises(UnknownRun, match="ambiguous.*rb-2, rb-1"):
        store.run("rb-")
    with pytest.raises(UnknownRun, match="no run 'rb_'"):
        store.run("rb_")


def old_store(backend: str) -> None:
    """The schema as the release before run counts and summaries left it, with three runs."""
    from runbook.store.migrations import POSTGRES, SQLITE

    old = POSTGRES[:2] if is_postgres(backend) else SQLITE[:3]
    stmts = [s for version in old for s in version]
    stmts += ["CREATE TABLE changes (n bigint NOT NULL)", "INSERT INTO changes VALUES (0)"] \
        if is_postgres(backend) else []
    stmts.append(f"INSERT INTO meta (key, value) VALUES ('schema_version', '{len(old)}')")
    for k, (book, ends) in enumerate([("rb", ["run_finished"]), ("rb", []),
                                      ("rb", ["run_aborted", "run_finished"]),
                                      ("other", ["run_finished"])]):
        stmts.append("INSERT INTO runs (id, runbook_id, title, label, created_at_us, source_name, "
                     f"source_text, meta) VALUES ('{book}-{k}', '{book}', 't', 'live', {k}, "
                     "'rb.yaml', 'x', '{}')")
        for seq, type in enumerate(["run_started", *ends], start=1):
            stmts.append("INSERT INTO events (run_id, seq, event_id, at_us, actor, host, type, "
                         f"payload) VALUES ('{book}-{k}', {seq}, 'e{k}-{seq}', 0, 'kim', 'h', "
                         f"'{type}', '{{}}')")
    for sql in stmts:
        raw_execute(backend, sql)


def test_an_older_store_is_migrated_and_its_runs_counted(backend: str) -> None:
    from runbook.store.migrations import POSTGRES, SQLITE

    old_store(backend)
    with Store(backend) as s:
        assert s.schema_version() == len(POSTGRES if is_postgres(backend) else SQLITE)
        assert s.unfinished("rb").id == "rb-1" and s.unfinished("other") is None
        assert [(x.id, x.events, x.summary) for x in s.summaries(1, "rb")] == [
            ("rb-2", 3, None), ("rb-1", 1, None), ("rb-0", 2, None)]
        end(s, "rb-1", "run_aborted")
        assert s.unfinished("rb") is None
        assert s.unfinished("rb") is None and make_run(s, "rb") == s.unfinished("rb")


def test_imported_runs_are_counted_and_keep_their_summary(store: Store) -> None:
    events = [{"at": T0, "type": "run_started"}, {"at": T0, "type": "run_finished"}]
    fields = dict(runbook_id="rb", title="t", label="history", source_text=SOURCE,
                  source_name="rb.yaml", created_at=T0)
    [a, b] = store.import_runs([{**fields, "events": events, "summary": (1, {"n": 1}, {})},
                                {**fields, "events": events[:1]}])
    assert {x.id: (x.events, x.summary) for x in store.summaries(1)} == {
        a.id: (2, {"n": 1}), b.id: (1, None)}
    assert store.unfinished("rb") == b


def test_a_summary_put_later_must_cover_the_last_event(store: Store) -> None:
    run = make_run(store)
    add(store, run.id, type="run_started")
    end(store, run.id)
    assert store.put_summary(run.id, 1, 1, {"n": 1}) is False  # not the last event
    assert store.summaries(1)[0].summary is None
    assert store.put_summary(run.id, 2, 1, {"n": 2}, {"d": 2}) is True
    assert store.summaries(1, detail=True)[0].summary == {"n": 2}
    assert store.summaries(1, detail=True)[0].detail == {"d": 2}


def test_migrating_an_older_store_from_the_command_line(backend: str, capsys) -> None:
    from runbook.cli import main
    from runbook.store.migrations import POSTGRES, SQLITE

    old_store(backend)
    old, new = (2, len(POSTGRES)) if is_postgres(backend) else (3, len(SQLITE))
    assert main(["store", "migrate", "--db", backend]) == 0
    assert f"migrated from schema version {old} to {new}" in capsys.readouterr().out
    with Store(backend) as s:  # the runbook text 'x' cannot be read: nothing to summarise
        assert s.unfinished("rb").id == "rb-1" and s.summaries(1)[0].summary is None
