"""An operator in its own process, for the serve tests: the real Engine on the wall clock.

    writer.py DB RUNBOOK    start a run of RUNBOOK in DB; print "run RUN_ID"; then read commands
                            from stdin, one a line: "start STEP", "complete STEP", "trigger
                            CONTINGENCY", "note TEXT"; after each commit print "ok SEQ EPOCH"
                            (EPOCH: time.time() just after the commit) or "refused REASON".
                            End of input ends it.
"""

from __future__ import annotations

import sys
import time

from runbook.engine.clock import SystemClock
from runbook.engine.run import ActionRefused, Actor, new_run
from runbook.format.loader import load_runbook
from runbook.store import Store


def main(db: str, runbook: str) -> None:
    loaded = load_runbook(runbook)
    with Store(db) as store:
        engine = new_run(store, loaded, SystemClock(), Actor("kim", "ops-host"), samples=2_000)
        print(f"run {engine.run_id}", flush=True)
        for line in sys.stdin:
            verb, _, arg = line.strip().partition(" ")
            try:
                if verb == "start":
                    ev = engine.start(arg)
                elif verb == "complete":
                    ev = engine.complete(arg)
                elif verb == "trigger":
                    ev = engine.trigger(arg)
                elif verb == "note":
                    ev = engine.note(arg)
                else:
                    print(f"refused unknown command {verb!r}", flush=True)
                    continue
            except ActionRefused as e:
                print(f"refused {e}", flush=True)
                continue
            print(f"ok {ev.seq} {time.time():.6f}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
