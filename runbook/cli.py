"""The ``runbook`` command: argument parsing, exit codes, wiring. Nothing else.

Exit codes: 0 success; 1 the plan or run has errors; 2 unusable input (one message on stderr,
never a traceback); 70 a bug in runbook itself (one line; RUNBOOK_DEBUG=1 shows the traceback). Textual is imported only by the commands that open a screen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from runbook.errors import FINDINGS, INTERNAL, OK, UNUSABLE, Unusable

if TYPE_CHECKING:
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, with its error line (which quotes the arguments: a globbed file name too) made
    safe for the terminal."""

    def error(self, message: str) -> typing.NoReturn:
        from runbook.format.safe import terminal

        self.print_usage(sys.stderr)
        self.exit(UNUSABLE, terminal(f"{self.prog}: error: {message}\n"))


def _common() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name: ``runbook --lang ko check`` and
    ``runbook check --lang ko`` (SUPPRESS: a subcommand without it keeps the one given before)."""
    from runbook.i18n import LANGUAGES

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS,
                        help="language of the screen, messages and reports: en or ko (default: "
                        "from LANGUAGE, LC_ALL, LC_MESSAGES or LANG, else en)")
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common()
    p = _Parser(
        prog="runbook",
        description="Live maintenance-window runbook tracker: review the plan, run it, "
        "watch it, report it.",
        parents=[common],
    )
    from runbook import __version__

    p.add_argument("--version", action="version", version=f"runbook {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add = sub.add_parser

    def add_parser(name: str, **kwargs) -> argparse.ArgumentParser:
        return _add(name, parents=[common], **kwargs)

    sub.add_parser = add_parser  # type: ignore[method-assign]

    def db(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--db", metavar="PATH|URL",
                        help="event store: a SQLite file or postgresql://user@host/dbname "
                        "(default: $RUNBOOK_DB or ~/.local/share/runbook/runs.db)")

    def start(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--start", metavar="now|TIME",
                        help="move the whole window to start now or at TIME (ISO 8601; naive = "
                             "the runbook's zone), durations kept: rehearse any day")

    def sampling(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--samples", type=_positive, default=10_000, metavar="N",
                        help="Monte Carlo samples (default 10000)")
        sp.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")

    c = sub.add_parser("check", help="validate a runbook and review the plan")
    c.add_argument("runbook", metavar="RUNBOOK")
    c.add_argument("--json", action="store_true", help="print JSON (DESIGN §4)")
    sampling(c)
    c.add_argument("--strict", action="store_true", help="warnings fail too (exit 1)")
    c.add_argument("--verbose", "-v", action="store_true", help="also list informational notes")
    db(c)
    start(c)

    r = sub.add_parser("run", help="operator screen: start or resume a run")
    r.add_argument("runbook", metavar="RUNBOOK")
    db(r)
    r.add_argument("--operator", metavar="NAME", help="who is operating (default: login name)")
    r.add_argument("--rehearsal", action="store_true", help="label the run a rehearsal")
    start(r)

    w = sub.add_parser("watch", help="follow a run live, read-only")
    w.add_argument("run", nargs="?", metavar="RUN", help="run id or prefix (default: newest)")
    db(w)

    sv = sub.add_parser("serve", help="the run in a browser, read-only: status page and /tui")
    sv.add_argument("run", nargs="?", metavar="RUN",
                    help="run id or prefix (default: follow the newest run in the store)")
    sv.add_argument("--db", metavar="URL",
                    help="event store (default: $RUNBOOK_DB or ~/.local/share/runbook/runs.db)")
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1; any other needs a token)")
    sv.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free one)")
    sv.add_argument("--token-file", metavar="FILE",
                    help="read the access token from FILE (default: $RUNBOOK_SERVE_TOKEN, else "
                    "one is generated and printed when not on loopback)")
    sv.add_argument("--max-tui", type=int, default=10, metavar="N",
                    help="at most N /tui watch sessions at once (default 10)")

    s = sub.add_parser("simulate", help="replay scripted actions on a simulated clock")
    s.add_argument("runbook", metavar="RUNBOOK")
    s.add_argument("--events", required=True, metavar="SCRIPT", help="events script (YAML)")
    s.add_argument("--json", action="store_true", help="print JSON (DESIGN §4)")
    db(s)
    sampling(s)
    s.add_argument("--label", choices=["live", "rehearsal"], default="rehearsal",
                   help="label of the recorded run (with --db; default rehearsal)")
    s.add_argument("--operator", metavar="NAME", default="simulator")
    s.add_argument("--notify", action="store_true", help="fire the runbook's alert hooks")
    start(s)

    d = sub.add_parser("demo", help="the bundled example, replayed in the TUI")
    d.add_argument("--speed", type=float, default=None, metavar="X",
                   help="simulated seconds per real second (default: about two minutes in all)")

    rp = sub.add_parser("report", help="post-run timing log")
    rp.add_argument("run", nargs="?", metavar="RUN", help="run id or prefix (default: newest)")
    db(rp)
    rp.add_argument("--format", choices=["md", "csv", "json", "html", "xlsx"], default="md",
                    help="xlsx needs -o FILE and the xlsx extra: pip install 'runbook[xlsx]'")
    rp.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    ru = sub.add_parser("runs", help="list the runs in a store")
    db(ru)
    ru.add_argument("--json", action="store_true")

    ca = sub.add_parser("calibrate", help="propose estimates from past runs")
    ca.add_argument("runbook", metavar="RUNBOOK")
    db(ca)
    ca.add_argument("--label", choices=["live", "rehearsal", "history", "all"], default="all")
    ca.add_argument("--write", metavar="FILE", help="write an updated runbook to FILE")
    ca.add_argument("--json", action="store_true")

    im = sub.add_parser("import", help="a cutover plan spreadsheet (.xlsx or .csv) -> runbook YAML")
    im.add_argument("source", metavar="FILE", help="plan.xlsx or plan.csv (one row per step)")
    im.add_argument("-o", "--output", metavar="FILE", help="write the runbook to FILE (default stdout)")
    im.add_argument("--sheet", metavar="NAME", help="the sheet with the steps (default: the first "
                    "with a header row)")
    im.add_argument("--map", metavar="FIELD=HEADING,...",
                    help="name the column of a field, by heading or letter: 'title=작업명,estimate=C'")
    im.add_argument("--unit", choices=["s", "min", "h"],
                    help="unit of plain numbers in estimate columns whose heading names none")
    for flag in ("title", "id", "timezone", "start", "announced-resume", "hard-deadline"):
        im.add_argument(f"--{flag}", metavar="VALUE",
                        help=f"the runbook's {flag.replace('-', ' ')} (wins over the sheet)")

    st = sub.add_parser("store", help="create an event store or migrate its schema")
    st.add_argument("action", choices=["init", "migrate"],
                    help="init: create the store (a SQLite file or the tables in a PostgreSQL "
                    "database); migrate: bring an existing store's schema up to date")
    db(st)

    hi = sub.add_parser("history", help="past windows kept as history (the forecast's reference class)")
    hsub = hi.add_subparsers(dest="history_command", required=True, metavar="ACTION")
    hm = hsub.add_parser(parents=[common], name="import", help="load past windows' planned and actual step times from a CSV")
    hm.add_argument("file", metavar="FILE.csv",
                    help="columns: window, step id or title, planned minutes, actual minutes, "
                    "optional date (English or Korean headers)")
    db(hm)
    hm.add_argument("--runbook", metavar="RUNBOOK",
                    help="the runbook these windows ran (steps matched by id or title); default: "
                    "the organisation's history, used by any runbook without past runs of its own")
    hm.add_argument("--timezone", metavar="TZ", help="zone of the dates (default: the runbook's, "
                    "else UTC)")

    sub.add_parser("schema", help="print the JSON Schema of the runbook format")
    return p


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 100:
        raise argparse.ArgumentTypeError("use at least 100 samples")
    return value


def cmd_check(args: argparse.Namespace) -> int:
    from runbook import startup
    from runbook.forecast.review import INFO, WARNING, Finding, as_json, review
    from runbook.format.safe import json_text
    from runbook.format.shift import timing, timing_message
    from runbook.format.times import iso
    from runbook.i18n import _

    now = startup.system_clock().now()
    loaded = startup.load_with_start(args.runbook, args.start, now)
    prior, history = None, None
    if args.db or os.environ.get("RUNBOOK_DB"):
        from runbook.forecast.calibrate import prior_from_store
        from runbook.store import location

        prior, history = prior_from_store(loaded.plan, location(args.db))
    rv = review(loaded, samples=args.samples, seed=args.seed, prior=prior, history=history)
    said = timing_message(loaded, now) if args.start is None else None
    if said:  # a window in the past or far ahead: say so, and how to rehearse it now
        over = timing(loaded, now) == "over"
        rv.findings.insert(0, Finding(
            WARNING if over else INFO, "window_over" if over else "window_far_ahead",
            said + " " + (_("To rehearse it now: --start now (the whole window moves, durations "
                            "kept).") if over else
                          _("To rehearse it today: --start now (the whole window moves, "
                            "durations kept).")), line=loaded.line_of(("window", "start"))))
    if args.json:
        data = as_json(rv)
        data["planned_window_start"] = iso(loaded.planned_start, loaded.plan.timezone)
        print(json_text(data))
    else:
        from runbook.forecast.review_text import review_text

        print(review_text(rv, verbose=args.verbose))
    if rv.errors or (args.strict and rv.warnings):
        return FINDINGS
    return OK


def cmd_schema(args: argparse.Namespace) -> int:
    from runbook.format.model import json_schema

    print(json.dumps(json_schema(), indent=2))
    return OK


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    if name in ("check", "schema"):
        return globals()[f"cmd_{name}"]
    from runbook import commands

    return getattr(commands, f"cmd_{name}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from runbook import i18n

    before = i18n.current()
    args.lang_given = getattr(args, "lang", None)  # --lang itself (serve pins its pages to it)
    args.lang = i18n.set_language(args.lang_given)  # None: from the environment
    try:
        return _command(args.command)(args)
    except Unusable as e:
        _error(f"runbook: {e}")
        return UNUSABLE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return OK
    except Exception as e:  # store errors: one line; a bug: one line, the traceback on request
        from runbook.format.files import LoadError  # here: `watch` need not import YAML at start
        from runbook.store import StoreError

        if isinstance(e, LoadError):
            print(e.render(), file=sys.stderr)
            return UNUSABLE
        if isinstance(e, StoreError):
            _error(f"runbook: {e}")
            return UNUSABLE
        if os.environ.get("RUNBOOK_DEBUG"):
            raise
        _error(f"runbook: internal error ({type(e).__name__}: {e}); this is a bug in runbook. "
               "Nothing unrecorded was lost: actions are committed before they show. "
               "RUNBOOK_DEBUG=1 shows the traceback.")
        return INTERNAL
    finally:
        i18n.set_language(before)  # main() called in-process (tests) leaves no language behind


def _error(message: str) -> None:
    """One message on stderr; a file name or text it quotes cannot drive the terminal."""
    from runbook.format.safe import terminal

    print(terminal(message), file=sys.stderr)
