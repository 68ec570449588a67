"""Wiring for the commands beyond ``check`` and ``schema`` (imported lazily by the CLI)."""

from __future__ import annotations

import argparse
from pathlib import Path

from runbook.errors import OK, Unusable
from runbook.format.safe import json_text, terminal
from runbook.i18n import _
from runbook.store import location, open_store


def cmd_simulate(args: argparse.Namespace) -> int:
    from runbook import startup
    from runbook.engine import simulate

    loaded = startup.load_with_start(args.runbook, args.start, startup.system_clock().now())
    db = location(args.db) if args.db else None
    result = simulate.simulate(loaded, args.events, db=db, samples=args.samples, seed=args.seed,
                               label=args.label, operator=args.operator, notify=args.notify)
    if args.json:
        print(json_text(simulate.as_json(result)))
    else:
        print(simulate.text(result))
    return OK


def cmd_run(args: argparse.Namespace) -> int:
    """`runbook run`: the operator's screen; starts a new run or resumes the unfinished one.

    A new run of a window that is over, or that starts more than a day from now, asks first and
    offers to move the window to now; without a terminal to ask on it stops and says how
    (--start). A resumed run keeps the window it started with.

    At a terminal the screen comes first: the runbook is read behind it, in the app's first
    refresh, with the question (in a dialog), then the run is opened: the prior from past runs,
    the run itself (new or resumed), its forecaster. A runbook that cannot be used ends the app
    and is reported as it would have been before the screen (exit code 2). Without a terminal
    the runbook is read, and checked, before the screen. A new run that starts from past runs
    says so in its welcome line; "History: ..." is printed in full when the screen closes."""
    import sys

    from runbook import startup
    from runbook.engine.actor import Actor
    from runbook.tui.launch import Opener

    clock = startup.system_clock()
    ready = None if _terminal() else _prepare_run(args, clock, asking=False)
    stores = [open_store(args.db)] if ready else []  # at a terminal: once the question is answered
    actor = Actor.current(args.operator)
    said: list[str] = []
    opened = []
    opening = Opener()

    @opening
    def open_engine(ask: startup.Ask):
        prepared = ready or _prepare_run(args, clock, asking=ask)
        if prepared is None:
            return None  # quit at the question: nothing started, no store made
        loaded, waiting = prepared
        from runbook.engine.notify import Notifier
        from runbook.engine.run import open_run

        if not stores:
            stores.append(open_store(args.db))
        prior = None
        if waiting is None:  # a resumed run keeps its own prior
            from runbook.forecast.calibrate import prior_from_store

            prior, history = prior_from_store(loaded.plan, location(args.db))  # as `check --db` does
            if prior is not None:
                said.append(_("History: {history}").format(history=history))
        engine, resumed = open_run(stores[0], loaded, clock, actor,
                                   label="rehearsal" if args.rehearsal else "live", prior=prior,
                                   notifier=Notifier(loaded.plan.policy.notify))
        opened.append(engine)
        return engine, resumed

    try:
        from runbook.tui.launch import opening_operator_app

        title = ready[0].plan.title if ready else Path(args.runbook).name  # until it is read
        app = opening_operator_app(open_engine, actor, title)
        try:
            app.run()
        finally:
            opening.wait()  # quit while the run was being opened: let it finish first
            for engine in opened:
                engine.close()
            for line in said:
                print(terminal(line), file=sys.stderr)
        if app.failure is not None:
            raise app.failure
        if not opened:
            return OK  # quit before the run was opened
        engine = opened[0]
        state = engine.state
        where = f"--db {stores[0].path}" if args.db else ""
        if state.finished:
            print(terminal(_("Run {run} finished. Timing log: {command}").format(
                run=engine.run_id, command=f"runbook report {engine.run_id} {where}".rstrip())))
        else:
            print(terminal(_("Run {run} is saved and unfinished; `{command}` resumes it.").format(
                run=engine.run_id,
                command=f"runbook run {args.runbook}{' ' + where if where else ''}")))
    finally:
        for store in stores:
            store.close()
    return OK


def _prepare_run(args: argparse.Namespace, clock, *, asking):
    """What `run` reads before it opens the run: the runbook (moved by --start), the unfinished
    run to resume if any, and for a new run the operator's answer to the window question
    (``asking``: see :func:`runbook.startup.confirm_window`). Returns (runbook, unfinished run or
    None), or None when the operator quits at the question. Raises Unusable and LoadError."""
    from contextlib import suppress

    from runbook import startup
    from runbook.engine.run import unfinished_run
    from runbook.store import Store, StoreUninitialised, is_postgres

    path = location(args.db)
    peek = None
    if is_postgres(path) or Path(path).exists():  # a new store has no unfinished run to resume
        # an empty database or file holds nothing to resume; open_store creates it
        with suppress(StoreUninitialised):
            peek = Store(path, readonly=True)
    try:
        now = _store_now(path, clock, peek)
        loaded = startup.load_with_start(args.runbook, args.start, now)
        waiting = unfinished_run(peek, loaded.plan.id) if peek is not None else None
    finally:
        if peek is not None:
            peek.close()
    if waiting is not None and args.start is not None:
        raise Unusable(f"run {waiting.id} of {loaded.plan.id} is unfinished and keeps the window it "
                       f"started with; --start applies to a new run: run without --start to "
                       "resume it (and finish or abort it there), or use another --db")
    if waiting is None and args.start is None:
        loaded = startup.confirm_window(loaded, now, asking=asking)
        if loaded is None:
            return None
    return loaded, waiting


def _store_now(path: str, clock, peek):
    """"Now" for --start and the window question: the store's clock, which stamps the run's
    events (SQLite: this host's kernel clock, which libfaketime cannot move; PostgreSQL: the
    server's), so an operator whose clock is off moves no window with it. ``peek``: the store
    already open read-only, if it holds a runbook store. A simulated clock (tests, the demo) is
    its own store clock."""
    if not getattr(clock, "real", False):
        return clock.now()
    from runbook.store import Store, StoreError, is_postgres

    try:
        if peek is not None:
            return peek.now()
        if not is_postgres(path):
            from runbook.store.files import kernel_now

            return kernel_now()
        with Store(path, migrate=False) as store:  # an empty database is read, not created
            return store.now()
    except StoreError:
        return clock.now()  # the server is away: opening the run says so, with its reason


def _terminal() -> bool:
    """Is there a person at a terminal to ask?"""
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()


def cmd_watch(args: argparse.Namespace) -> int:
    """`runbook watch`: the same screen, read-only, following a run live."""
    store = open_store(args.db, readonly=True)
    try:
        info = store.resolve(args.run)
        from runbook.tui.launch import Opener

        opening = Opener()

        @opening
        def open_session():
            from runbook import startup
            from runbook.engine.run import Session

            return Session(store, info, startup.system_clock())

        from runbook.tui.launch import opening_watch_app

        app = opening_watch_app(open_session, info.id, info.title)
        try:
            app.run()
        finally:
            opening.wait()
        if app.failure is not None:
            raise app.failure
    finally:
        store.close()
    return OK


def cmd_serve(args: argparse.Namespace) -> int:
    """`runbook serve`: the status page, /status.json and /tui, read-only, over HTTP."""
    import os

    try:
        import aiohttp  # noqa: F401
        import textual_serve  # noqa: F401
    except ImportError:
        raise Unusable("runbook serve needs the serve extra: pip install 'runbook[serve]'") from None
    from runbook.web.access import TOKEN_ENV, is_loopback, new_token, read_token
    from runbook.web.server import serve

    if not 0 <= args.port <= 65535:
        raise Unusable(f"--port must be between 0 and 65535, got {args.port}")
    if args.max_tui < 0:
        raise Unusable(f"--max-tui must be 0 or more, got {args.max_tui}")
    token = read_token(args.token_file)
    os.environ.pop(TOKEN_ENV, None)  # the watch processes do not need it
    printed = False
    if token is None and not is_loopback(args.host):
        token, printed = new_token(), True
    serve(location(args.db), args.run, host=args.host, port=args.port, token=token,
          token_printed=printed, max_tui=args.max_tui,
          lang=getattr(args, "lang_given", None))  # None: each browser's Accept-Language
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

def _write_output(text: str | bytes, output: str | None) -> None:
    """``text`` to FILE (atomically: a reader never sees half a file; exact bytes) or stdout."""
    import sys

    if not output or output == "-":
        assert isinstance(text, str), "binary output goes to a file"
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
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise Unusable(f"cannot write {output}: {e.strerror or e}") from None


def cmd_report(args: argparse.Namespace) -> int:
    """`runbook report`: the timing log of one run (newest by default) as md, csv, json or html."""
    from runbook import startup
    from runbook.report import BINARY_FORMATS, build, render, render_bytes

    if args.format in BINARY_FORMATS:
        if not args.output or args.output == "-":
            raise Unusable(f"--format {args.format} is a binary workbook, not text for a terminal; "
                           f"give -o FILE (e.g. -o timing.{args.format})")
        from runbook.sheets.read import need_openpyxl

        need_openpyxl(f"--format {args.format}")  # before any work: say how to install it
    with open_store(args.db, readonly=True) as store:
        info = store.resolve(args.run)
        events = store.events(info.id)
    report = build(info, events, now=startup.system_clock().now())
    if args.format in BINARY_FORMATS:
        _write_output(render_bytes(report, args.format), args.output)
    else:
        _write_output(render(report, args.format), args.output)
    return OK


def cmd_runs(args: argparse.Namespace) -> int:
    """`runbook runs`: the runs in a store, newest first."""
    from runbook.report.runs import list_runs, runs_json, runs_text

    path = location(args.db)
    with open_store(path, readonly=True) as store:
        rows = list_runs(store)
        path = store.name
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
    from runbook.store import StoreError, is_postgres

    loaded = load_runbook(args.runbook)
    path = location(args.db)
    if not is_postgres(path) and not Path(path).exists():
        raise StoreError(f"no store at {path}; nothing to calibrate from (record runs with "
                         "`runbook run`, or rehearsals with `runbook simulate --db`)")
    if args.write:
        target = Path(args.write)
        same = target.exists() and os.path.samefile(target, args.runbook)
        if same or target.resolve() == Path(args.runbook).resolve():
            raise Unusable(f"--write {args.write} is the runbook being calibrated; write to a new "
                           "file, compare it (diff), then replace the original yourself")
    from runbook.forecast.calibrate import LABELS
    from runbook.forecast.track import track_record, track_text

    with open_store(path, readonly=True) as store:
        cal = calibrate(loaded, store, args.label)
        record = track_record(store, loaded.plan.id,
                              LABELS if args.label == "all" else (args.label,))
    if args.json:
        print(json_text({**calibration_json(cal), "track_record": record.as_json()}))
    else:
        print(terminal(calibration_text(cal)))
        print()
        print(terminal("\n".join(track_text(record))))
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


# -- import (issue 13) ----------------------------------------------------------------------------

def cmd_import(args: argparse.Namespace) -> int:
    """`runbook import`: a cutover sheet -> runbook YAML, validated before anything is written."""
    import os
    import sys
    from pathlib import Path

    from runbook.sheets.build import Options, import_plan
    from runbook.sheets.columns import parse_map
    from runbook.sheets.emit import schema_for
    from runbook.sheets.read import read_workbook

    output = args.output if args.output and args.output != "-" else None
    if output:
        target, source = Path(output), Path(args.source)
        if target.resolve() == source.resolve() or (
                target.exists() and source.exists() and os.path.samefile(target, source)):
            raise Unusable(f"-o {output} is the spreadsheet being imported; write the runbook to "
                           "a new .yaml file")
    try:
        mapping = parse_map(args.map)
    except ValueError as e:
        raise Unusable(str(e)) from None
    window = {k: getattr(args, k) for k in ("title", "id", "timezone", "start", "announced_resume",
                                            "hard_deadline") if getattr(args, k)}
    name = output or f"{Path(args.source).stem}.yaml"
    opts = Options(sheet=args.sheet, mapping=mapping, unit={"min": "m"}.get(args.unit, args.unit),
                   window=window, name=name, schema=schema_for(output))
    result = import_plan(read_workbook(args.source), opts)
    print(terminal("\n".join([f"{args.source}:", *result.report])), file=sys.stderr)
    _write_output(result.text, output)
    if output:
        plan = result.loaded.plan
        conts = len(plan.paths) - 1
        print(terminal(f"wrote {output}: {len(plan.paths['main'])} steps"
                       + (f", {conts} contingenc{'y' if conts == 1 else 'ies'}" if conts else "")
                       + f"; review it with `runbook check {output}`"), file=sys.stderr)
    return OK


def cmd_store(args: argparse.Namespace) -> int:
    """`runbook store init|migrate --db URL`: create a store, or bring its schema up to date."""
    from pathlib import Path

    from runbook.store import Store, StoreError, is_postgres

    where = location(args.db)
    if args.action == "migrate" and not is_postgres(where) and not Path(where).exists():
        raise StoreError(f"no store at {where} to migrate; create one with "
                         f"`runbook store init --db {where}`")
    with Store(where, migrate=False) as store:
        if args.action == "migrate" and store.schema_version() == 0:
            raise StoreError(f"{store.name} is not a runbook store yet; create it with "
                             f"`runbook store init --db {store.name}`")
        before, after = store.migrate()
        from runbook.engine.summary import backfill

        summarised = backfill(store)  # runs recorded before summaries existed: listed faster
    if before == after:
        print(terminal(f"{store.name}: schema version {after}, up to date"))
    elif before == 0:
        print(terminal(f"{store.name}: created (schema version {after})"))
    else:
        print(terminal(f"{store.name}: migrated from schema version {before} to {after}"))
    if summarised:
        print(terminal(f"{store.name}: stored the summary of {summarised} past run"
                       f"{'s' if summarised != 1 else ''} (`runbook runs` and the forecast "
                       "prior read it instead of every event)"))
    return OK


def cmd_history(args: argparse.Namespace) -> int:
    """`runbook history import FILE.csv`: past windows into the store as history runs."""
    from runbook import startup
    from runbook.forecast.history import LABEL, new_runs, parse
    from runbook.format.durations import format_duration
    from runbook.format.times import zone

    plan = None
    if args.runbook:
        from runbook.format.loader import load_runbook

        plan = load_runbook(args.runbook).plan
    tz = args.timezone or (plan.timezone if plan else "UTC")
    try:
        zone(tz)
    except Exception:
        raise Unusable(f"--timezone {tz!r} is not an IANA time zone (e.g. Asia/Seoul)") from None
    windows = parse(args.file, tz)
    with open_store(args.db) as store:
        done = {(r.meta.get("imported") or {}).get("key") for r in store.runs() if r.label == LABEL}
        fresh = [w for w in windows if w.key not in done]
        runs = new_runs(fresh, runbook_id=plan.id if plan else "history", timezone=tz,
                        source=Path(args.file).name, now=startup.system_clock().now(), plan=plan)
        store.import_runs(runs)
        path = store.name
    steps = sum(len(w.rows) for w in fresh)
    planned = sum(r.planned_s for w in fresh for r in w.rows)
    actual = sum(r.actual_s for w in fresh for r in w.rows)
    skipped = len(windows) - len(fresh)
    again = f" ({skipped} already imported, skipped)" if skipped else ""
    lines = [f"Imported {len(fresh)} window{'s' if len(fresh) != 1 else ''} ({steps} steps) from "
             f"{args.file} into {path} as history{again}."]
    if fresh and planned > 0:
        lines.append(f"  planned {format_duration(planned)}, actual {format_duration(actual)}: "
                     f"{actual / planned:.2f}x the plan in all")
    which = f"`runbook check {args.runbook} --db {path}`" if args.runbook else \
        f"`runbook check RUNBOOK --db {path}` (any runbook with no past runs of its own)"
    lines.append(f"  {which} now forecasts from this history, and so does `runbook run`.")
    print(terminal("\n".join(lines)))
    return OK
