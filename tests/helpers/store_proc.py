"""Subprocess workers for tests/test_store_reliability.py (real processes on a real store).

    store_proc.py append   DB RUN [COUNT]          append events forever (or COUNT), one per
                                                   transaction; print "SEQ EVENT_ID" after each commit
    store_proc.py writer   DB RUN NAME SECONDS LOG print "ready", read a line from stdin, then
                                                   append for SECONDS; log "OK SEQ ID" / "ERR MSG"
    store_proc.py follower DB RUN STOPFILE LOG [wait]  read-only follower; print "ready", poll
                                                   (or wait_for_change) until STOPFILE exists,
                                                   then dump what it saw as JSON
    store_proc.py open     DB RUNBOOK NAME         print "ready", read a line, then open_run (as
                                                   `runbook run` does); print the run as JSON
    store_proc.py operate  DB RUNBOOK NAME         open_run on the system clock, print the run as
                                                   JSON, then act on stdin lines ("start STEP",
                                                   "complete STEP", "note TEXT", "tick", "skew"),
                                                   one JSON line per answer

DB is any store location: a SQLite path or a postgresql:// URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import socket
import sys
import time
from datetime import UTC, datetime

from runbook.store import Store, StoreError, StoreUnavailable


def digest(pid: int, n: int, bulk: str) -> str:
    return hashlib.sha256(f"{pid}:{n}:{bulk}".encode()).hexdigest()


def cmd_append(db: str, run_id: str, count: str | None = None) -> None:
    rng, pid, host = random.Random(), os.getpid(), socket.gethostname()
    limit = int(count) if count is not None else None
    with Store(db) as store:
        n = 0
        while limit is None or n < limit:
            bulk = rng.randbytes(rng.randint(0, 12_000)).hex()  # up to 24 kB: overflow pages
            payload = {"pid": pid, "n": n, "bulk": bulk, "digest": digest(pid, n, bulk)}
            ev = store.append(run_id, at=datetime.now(UTC), actor="worker", host=host,
                              type="tick", payload=payload, event_id=f"{pid}-{n}")
            sys.stdout.write(f"{ev.seq} {ev.event_id}\n")
            sys.stdout.flush()
            n += 1


def cmd_writer(db: str, run_id: str, name: str, seconds: str, log: str) -> None:
    rng = random.Random()
    i = last = 0
    with Store(db) as store, open(log, "w") as out:
        print("ready", flush=True)
        sys.stdin.readline()  # "go": both writers start together
        deadline = time.monotonic() + float(seconds)
        while time.monotonic() < deadline:
            try:
                done = []
                with store.writing(run_id) as w:
                    tail = w.events_after(last)  # the latest state, seen inside the transaction
                    seqs = [e.seq for e in tail]
                    if seqs != list(range(last + 1, last + 1 + len(seqs))):
                        raise AssertionError(f"events_after({last}) not contiguous: {seqs}")
                    expect = seqs[-1] + 1 if seqs else last + 1
                    for _ in range(rng.randint(1, 3)):
                        ev = w.append(at=datetime.now(UTC), actor=name, host="h", type="tick",
                                      payload={"writer": name, "i": i}, event_id=f"{name}-{i}")
                        if ev.seq != expect:
                            raise AssertionError(f"got seq {ev.seq}, expected {expect}")
                        done.append(ev)
                        expect, i = expect + 1, i + 1
                last = done[-1].seq
                out.writelines(f"OK {e.seq} {e.event_id}\n" for e in done)
                time.sleep(rng.uniform(0, 0.003))  # pacing, so that the two writers interleave
            except (StoreError, AssertionError) as e:
                out.write(f"ERR {type(e).__name__}: {e}\n")
                i += 3  # ids of a failed transaction are never reused


def cmd_follower(db: str, run_id: str, stopfile: str, log: str, how: str = "poll") -> None:
    wait = how == "wait"
    store = Store(db, readonly=True)
    print("ready", flush=True)
    seen: list[tuple[int, str]] = []
    errors: list[str] = []
    batches = dv_changes = polls = outages = 0
    last_dv = None
    while True:
        stop = os.path.exists(stopfile)  # checked before reading: the last read is complete
        polls += 1
        try:
            dv = store.data_version()
            if dv != last_dv or stop:
                dv_changes += last_dv is not None and dv != last_dv
                last_dv = dv
                last = seen[-1][0] if seen else 0
                new = store.events(run_id, after_seq=last)
                if [e.seq for e in new] != list(range(last + 1, last + 1 + len(new))):
                    errors.append(f"after {last} got seqs {[e.seq for e in new][:10]}")
                if new:
                    batches += 1
                    seen += [(e.seq, e.event_id) for e in new]
                if store.last_seq(run_id) < (seen[-1][0] if seen else 0):
                    errors.append("last_seq went backwards")
        except StoreUnavailable:
            outages += 1  # a server restart: catch up by seq once it is back
            time.sleep(0.05)
            continue
        except StoreError as e:
            errors.append(f"StoreError: {e}")
        if stop:
            break
        if wait:  # the store's own wake-up (PostgreSQL: LISTEN/NOTIFY with a polling fallback)
            with contextlib.suppress(StoreError):
                store.wait_for_change(last_dv, 0.1)
        else:
            time.sleep(0.003)  # poll interval of a follower, not a wait for an event
    with open(log, "w") as out:
        json.dump({"seen": seen, "batches": batches, "dv_changes": dv_changes, "polls": polls,
                   "errors": errors, "outages": outages}, out)


def _opened(db: str, runbook: str, name: str):
    from runbook.engine.clock import SystemClock
    from runbook.engine.run import Actor, open_run
    from runbook.format.loader import load_runbook

    store = Store(db)
    engine, resumed = open_run(store, load_runbook(runbook), SystemClock(),
                               Actor(name, socket.gethostname()), samples=500)
    print(json.dumps({"run": engine.run_id, "resumed": resumed, "skew": engine.clock_skew_s,
                      "pid": os.getpid()}), flush=True)
    return store, engine


def cmd_open(db: str, runbook: str, name: str) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    store, _ = _opened(db, runbook, name)
    store.close()


def cmd_operate(db: str, runbook: str, name: str) -> None:
    from runbook.engine.run import ActionRefused

    store, engine = _opened(db, runbook, name)
    for line in sys.stdin:
        verb, _, arg = line.strip().partition(" ")
        try:
            if verb == "tick":
                t = engine.tick()
                answer = {"level": str(t.level), "down": engine.store_down_since is not None}
            elif verb == "skew":
                answer = {"skew": engine.measure_skew()}
            else:
                ev = getattr(engine, verb)(arg)
                answer = {"seq": ev.seq, "at": ev.at.isoformat(), "event_id": ev.event_id}
        except (ActionRefused, StoreError) as e:
            answer = {"error": f"{type(e).__name__}: {e}",
                      "down": engine.store_down_since is not None}
        print(json.dumps(answer), flush=True)
    engine.close()
    store.close()


if __name__ == "__main__":
    commands = {"append": cmd_append, "writer": cmd_writer, "follower": cmd_follower,
                "open": cmd_open, "operate": cmd_operate}
    commands[sys.argv[1]](*sys.argv[2:])
