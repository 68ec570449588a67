"""Wiring for the commands beyond ``check`` and ``schema`` (imported lazily by the CLI)."""

from __future__ import annotations

import argparse

from runbook.errors import OK, Unusable
from runbook.format.safe import json_text, terminal
from runbook.store import location


def cmd_simulate(args: argparse.Namespace) -> int:
    from runbook.engine import simulate
    from runbook.format.loader import load_runbook

    loaded = load_runbook(args.runbook)
    db = location(args.db) if args.db else None
    result = simulate.simulate(loaded, args.events, db=db, samples=args.samples, seed=args.seed,
                               label=args.label, operator=args.operator, notify=args.notify)
    if args.json:
        print(json_text(simulate.as_json(result)))
    else:
        print(simulate.text(result))
    return OK


def cmd_run(args: argparse.Namespace) -> int:
    """`runbook run`: the operator's screen; starts a new run or resumes the unfinished one."""
    from runbook.engine.clock import SystemClock
    from runbook.engine.notify import Notifier
    from runbook.engine.run import Actor, open_run, unfinished_run
    from runbook.format.loader import load_runbook
    from runbook.store import Store

    loaded = load_runbook(args.runbook)
    store = Store(location(args.db))
    try:
        prior = None
        if unfinished_run(store, loaded.plan.id) is None:  # a resumed run keeps its own prior
            from runbook.forecast.calibrate import prior_from_store

            prior, _ = prior_from_store(loaded.plan, store.path)  # as `runbook check --db` does
        engine, resumed = open_run(store, loaded, SystemClock(), Actor.current(args.operator),
                                   label="rehearsal" if args.rehearsal else "live", prior=prior,
                                   notifier=Notifier(loaded.plan.policy.notify))
        from runbook.tui.launch import operator_app

        operator_app(engine, resumed).run()
        engine.close()
        state = engine.state
        where = f"--db {store.path}" if args.db else ""
        if state.finished:
            print(terminal(f"Run {engine.run_id} finished. Timing log: runbook report "
                           f"{engine.run_id} {where}".rstrip()))
        else:
            print(terminal(f"Run {engine.run_id} is saved and unfinished; `runbook run "
                           f"{args.runbook}{' ' + where if where else ''}` resumes it."))
    finally:
        store.close()
    return OK


def cmd_watch(args: argparse.Namespace) -> int:
    """`runbook watch`: the same screen, read-only, following a run live."""
    from runbook.engine.clock import SystemClock
    from runbook.engine.run import Session
    from runbook.store import Store

    store = Store(location(args.db), readonly=True)
    try:
        session = Session(store, store.resolve(args.run), SystemClock())
        from runbook.tui.launch import watch_app

        watch_app(session).run()
    finally:
        store.close()
    return OK


def cmd_demo(args: argparse.Namespace) -> int:
    """`runbook demo`: the bundled switch-port example, replayed in the TUI; nothing to set up."""

    if args.speed is not None and args.speed <= 0:
        raise Unusable(f"--speed must be positive, got {args.speed:g}")
    from runbook.tui.demo import demo

    try:
        with demo(args.speed) as d:
            d.app.run()
    except FileNotFoundError as e:
        raise Unusable(str(e)) from None
    return OK


# -- report, runs, calibrate (issue 5) ------------------------------------------------------------

def _write_output(text: str, output: str | None) -> None:
    """``text`` to FILE (atomically: a reader never sees half a file; exact bytes) or stdout."""
    import sys

    if not output or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    import os
    import tempfile
    from pathlib import Path

    target = Path(output)
    if target.is_dir():
        raise Unusable(f"{output} is a directory; give a file name")
    tmp = None
    try:
        if target.exists():
            mode = target.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise Unusable(f"cannot write {output}: {e.strerror or e}") from None


def cmd_report(args: argparse.Namespace) -> int:
    """`runbook report`: the timing log of one run (newest by default) as md, csv, json or html."""
    from runbook.engine.clock import SystemClock
    from runbook.report import build, render
    from runbook.store import Store

    with Store(location(args.db), readonly=True) as store:
        info = store.resolve(args.run)
        events = store.events(info.id)
    report = build(info, events, now=SystemClock().now())
    _write_output(render(report, args.format), args.output)
    return OK


def cmd_runs(args: argparse.Namespace) -> int:
    """`runbook runs`: the runs in a store, newest first."""
    from pathlib import Path

    from runbook.report.runs import list_runs, runs_json, runs_text
    from runbook.store import Store

    path = location(args.db)
    if not Path(path).exists():
        from runbook.store import StoreError

        raise StoreError(f"no store at {path}; check --db / RUNBOOK_DB (a store is created by "
                         "`runbook run` or `runbook simulate --db`)")
    with Store(path, readonly=True) as store:
        rows = list_runs(store)
    if args.json:
        print(json_text(runs_json(rows)))
    else:
        print(runs_text(rows, path))
    return OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    """`runbook calibrate`: plan vs observed per step, proposed estimates, optional --write."""
    import os
    from pathlib import Path

    from runbook.forecast.calibrate import calibrate, calibration_json, calibration_text
    from runbook.format.loader import load_runbook
    from runbook.store import Store, StoreError

    loaded = load_runbook(args.runbook)
    path = location(args.db)
    if not Path(path).exists():
        raise StoreError(f"no store at {path}; nothing to calibrate from (record runs with "
                         "`runbook run`, or rehearsals with `runbook simulate --db`)")
    if args.write:
        target = Path(args.write)
        same = target.exists() and os.path.samefile(target, args.runbook)
        if same or target.resolve() == Path(args.runbook).resolve():
            raise Unusable(f"--write {args.write} is the runbook being calibrated; write to a new "
                           "file, compare it (diff), then replace the original yourself")
    with Store(path, readonly=True) as store:
        cal = calibrate(loaded, store, args.label)
    if args.json:
        print(json_text(calibration_json(cal)))
    else:
        print(terminal(calibration_text(cal)))
    if args.write:
        import sys

        if not cal.runs:
            print(terminal(f"not writing {args.write}: no past runs to learn from"), file=sys.stderr)
            return OK
        _write_output(cal.text, args.write)
        changed = sum(1 for c in cal.steps if c.changed and c.writable)
        print(terminal(f"wrote {args.write}: {changed} estimate{'s' if changed != 1 else ''} "
                       f"updated; check it with `runbook check {args.write}`"), file=sys.stderr)
    return OK
