"""Generated runbooks, event scripts and stores for the benches (sizes as arguments).

Plans (YAML text, every step a three-point estimate, a 2-step rollback contingency):

* ``layered(steps)``: a layered DAG 8 wide, each step waiting for 1-3 steps of the two layers
  before; the last step joins every step nothing else waits for and resumes service, so every
  step matters to the forecast.
* ``tracks(tracks, per_track)``: a kick-off, ``tracks`` parallel chains (as many steps running at
  once), a join that resumes service, three closing checks and a rollback.

Runs: ``schedule(plan)`` plays the main path as soon as each step may start (durations drawn from
the plan's triangular estimates, a little slow), optionally failing and retrying steps, adding
notes, or stopping part-way; ``record(store, loaded, events)`` writes one run in one transaction;
``script(loaded, events)`` writes the same events as a ``runbook simulate`` script.

    python bench/generate.py plan layered --steps 1000 -o plan.yaml [--json plan.json]
    python bench/generate.py plan tracks --tracks 128 --per-track 8 -o plan.yaml
    python bench/generate.py script plan.yaml --events 2000 -o script.yaml
    python bench/generate.py store plan.yaml --runs 1000 -o past.db      # K finished runs
    python bench/generate.py store plan.yaml --events 100000 -o big.db  # one run, notes on top
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runbook.engine.state import (  # noqa: E402
    NOTE,
    RUN_FINISHED,
    RUN_STARTED,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_STARTED,
    fold,
)
from runbook.engine.summary import settle  # noqa: E402
from runbook.format.loader import Loaded  # noqa: E402
from runbook.format.plan import MAIN  # noqa: E402
from runbook.store import ENDINGS, Store  # noqa: E402
from runbook.store import open_store as store_at  # noqa: E402

TIMEZONE = "Asia/Seoul"
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 2026-11-25 00:00 in Asia/Seoul
SILENT = (RUN_STARTED, RUN_FINISHED)  # implicit in a script; not counted as its events
ROLLBACK = [{"id": "rb-restore", "title": "Restore the old setup", "owner": "ops",
             "estimate": {"optimistic": "10m", "likely": "20m", "pessimistic": "40m"}},
            {"id": "rb-reopen", "title": "Reopen on the old setup", "owner": "ops",
             "estimate": "5m"}]


def open_store(path: str | Path, *, readonly: bool = False) -> Store:
    """The benches' one way into a store: the store's own ``open_store`` (as ``--db PATH``)."""
    return store_at(str(path), readonly=readonly)


# -- plans ----------------------------------------------------------------------------------------

def _estimate(rnd: random.Random) -> tuple[dict[str, str], float]:
    m = rnd.randint(1, 6)
    a, b = max(0.5, m * 0.7), m * rnd.choice([1.5, 2.0, 3.0])
    return ({"optimistic": f"{a * 60:.0f}s", "likely": f"{m}m", "pessimistic": f"{b * 60:.0f}s"},
            m * 60.0)


def _runbook(rid: str, title: str, steps: list[dict], critical_s: float,
             start: datetime) -> dict:
    """The runbook around ``steps``: a window whose announced resume is 1.15x the likely
    critical path, so the forecast is neither hopeless nor certain."""
    local = start.astimezone(ZoneInfo(TIMEZONE)).replace(tzinfo=None)
    resume = local + timedelta(seconds=max(600.0, critical_s * 1.15))
    return {"runbook": 1, "id": rid, "title": title, "timezone": TIMEZONE,
            "window": {"start": local.isoformat(timespec="minutes"),
                       "announced_resume": resume.isoformat(timespec="minutes")},
            "steps": steps,
            "contingencies": [{"id": "rollback", "title": "Roll back", "steps": ROLLBACK}]}


def layered_data(steps: int, *, width: int = 8, seed: int = 1,
                 start: datetime = START) -> dict:
    """The runbook (as data) of a layered DAG with exactly ``steps`` main steps (at least 2)."""
    if steps < 2:
        raise ValueError("a layered plan needs at least 2 steps")
    rnd = random.Random(seed)
    out, finish, waited = [], [], set()
    for i in range(steps - 1):
        layer = i // width
        after: list[int] = []
        if layer:
            pool = range(max(0, (layer - 2) * width), layer * width)
            after = sorted(rnd.sample(pool, k=min(len(pool), rnd.randint(1, 3))))
        est, likely = _estimate(rnd)
        out.append({"id": f"s{i:05d}", "title": f"Step {i}: check and record", "owner": "ops",
                    "estimate": est, "after": [f"s{j:05d}" for j in after]})
        finish.append(likely + max((finish[j] for j in after), default=0.0))
        waited.update(after)
    ends = [i for i in range(steps - 1) if i not in waited]
    out.append({"id": "reopen", "title": "Reopen service", "owner": "ops", "estimate": "2m",
                "after": [f"s{j:05d}" for j in ends], "resumes_service": True})
    critical = max(finish[j] for j in ends) + 120
    return _runbook("layered", f"Generated layered DAG, {steps:,} steps", out, critical, start)


def tracks_data(tracks: int = 128, per_track: int = 8, *, start: datetime = START) -> dict:
    """The runbook (as data) of ``tracks`` parallel chains of ``per_track`` steps."""
    est = {"optimistic": "1m", "likely": "90s", "pessimistic": "4m"}
    out = [{"id": "kickoff", "title": "Kick-off on the bridge", "owner": "lead", "estimate": est}]
    for t in range(tracks):
        for i in range(per_track):
            out.append({"id": f"t{t}-s{i}", "title": f"Track {t}, step {i}: move, re-cable, check",
                        "owner": f"team-{t}", "estimate": est,
                        "after": ["kickoff" if i == 0 else f"t{t}-s{i - 1}"]})
    out.append({"id": "reopen", "title": "Reopen service", "owner": "lead", "estimate": "2m",
                "after": [f"t{t}-s{per_track - 1}" for t in range(tracks)],
                "resumes_service": True})
    for i in range(3):
        out.append({"id": f"close-{i}", "title": f"Closing check {i}", "owner": "lead",
                    "estimate": est})
    critical = 90 * (per_track + 4) + 120
    return _runbook("tracks", f"Generated plan, {tracks} parallel tracks", out, critical, start)


def dump(data: dict, *, compact: bool = False) -> str:
    """YAML text of ``data`` (libyaml's emitter when present: the same text, faster).
    ``compact``: as runbooks are usually written, a step's estimate and ``after`` on one line
    each (~155 bytes a step: a 50,000-step plan stays under the loader's 8 MB file limit)."""
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                     default_flow_style=None if compact else False)


def layered(steps: int, **kw) -> str:
    return dump(layered_data(steps, **kw))


def tracks(tracks: int = 128, per_track: int = 8, **kw) -> str:
    return dump(tracks_data(tracks, per_track, **kw))


# -- runs -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Planned:
    """One event to record or script: when (seconds after the run's start), what, which step."""

    offset: float
    type: str
    step: str | None = None
    payload: dict = field(default_factory=dict)


def schedule(loaded: Loaded, *, retries: int = 0, notes: int = 0, upto: float | None = None,
             limit: int | None = None, ready: int = 0, seed: int = 0,
             slow: float = 1.15) -> list[Planned]:
    """The main path played as soon as each step may start, in time order.

    Durations: triangular on each step's estimate times ``slow``, whole seconds. ``retries``
    steps (spread over the plan) fail half-way, then restart and complete. ``upto`` (a fraction
    of the run's length) stops the run part-way: later events are dropped and the run is left
    unfinished; so does ``limit`` (keep the first ``limit`` step events); otherwise it ends with
    ``run_finished``. A run stopped part-way leaves out the last ``ready`` starts of steps running
    at the stop (keeping one running), so that these steps wait, ready, for the operator. ``notes`` notes are spread evenly over what is played,
    each on a step running at the time."""
    plan = loaded.plan
    rnd = random.Random(seed)
    main = [i for i in plan.topo_order() if plan.steps[i].path == MAIN]
    every = len(main) / retries if retries else 0.0
    retried = {main[int(k * every)] for k in range(min(retries, len(main)))}
    end: dict[int, float] = {}
    events: list[tuple[float, int, Planned]] = []  # (offset, order within an instant, event)
    for i in main:
        s = plan.steps[i]
        took = max(1.0, round(rnd.triangular(s.optimistic, s.pessimistic, s.likely) * slow))
        t = max((end[p] for p in s.preds), default=0.0)
        events.append((t, 1, Planned(t, STEP_STARTED, s.id)))
        if i in retried:
            half = max(1.0, round(took / 2))
            events.append((t + half, 0, Planned(t + half, STEP_FAILED, s.id)))
            events.append((t + half, 1, Planned(t + half, STEP_STARTED, s.id)))
            t += half
        end[i] = t + took
        events.append((end[i], 0, Planned(end[i], STEP_COMPLETED, s.id)))
    events.sort(key=lambda e: (e[0], e[1]))
    span = max(end.values(), default=0.0)
    cut = span if upto is None else span * upto
    out = [e[2] for e in events if e[0] <= cut][:limit]
    if limit is not None and out:
        cut = out[-1].offset
    if ready and (upto is not None or limit is not None):
        out = _withhold(out, ready)
    if notes:
        out = _with_notes(out, notes, cut)
    out.insert(0, Planned(0.0, RUN_STARTED, None, {"operator": "bench", "label": "rehearsal"}))
    if upto is None and (limit is None or limit >= len(events)):
        out.append(Planned(span, RUN_FINISHED))
    return out


def _withhold(events: list[Planned], ready: int) -> list[Planned]:
    """``events`` without the last ``ready`` starts of steps still running at the end (one of
    them at least keeps running)."""
    later: set[str | None] = set()
    running: list[int] = []
    for k in range(len(events) - 1, -1, -1):
        ev = events[k]
        if ev.type == STEP_STARTED and ev.step not in later:
            running.append(k)
        later.add(ev.step)
    drop = set(running[:min(ready, len(running) - 1)])
    return [ev for k, ev in enumerate(events) if k not in drop]


def _with_notes(events: list[Planned], notes: int, span: float) -> list[Planned]:
    """``events`` with ``notes`` notes spread evenly over [0, span], on steps running then."""
    running: dict[str, None] = {}
    out: list[Planned] = []
    k = 0
    for n in range(notes):
        at = span * (n + 1) / (notes + 1)
        while k < len(events) and events[k].offset <= at:
            ev = events[k]
            if ev.type == STEP_STARTED:
                running[ev.step] = None
            elif ev.type in (STEP_COMPLETED, STEP_FAILED):
                running.pop(ev.step, None)
            out.append(ev)
            k += 1
        step = next(reversed(running), None) if running else None
        text = f"status {n}: on track, counters saved" if step else f"status {n}: all fine"
        out.append(Planned(at, NOTE, step, {"text": text}))
    return out + events[k:]


def fill(steps: int, events: int) -> dict[str, int | None]:
    """schedule() arguments giving ``events`` step events and notes (run_started and run_finished
    not counted) for a plan of ``steps`` main steps: fewer than a full run (2 per step) stops
    part-way; more fails and retries steps (2 more each), then adds notes."""
    full = 2 * steps
    if events < full:
        return {"retries": 0, "notes": 0, "limit": events}
    retries = min(steps, (events - full) // 2)
    return {"retries": retries, "notes": events - full - 2 * retries, "limit": None}


def record(store: Store, loaded: Loaded, events: list[Planned], *, start: datetime = START,
           label: str = "rehearsal", samples: int = 10_000, seed: int = 0) -> str:
    """Write one run of ``loaded`` with ``events`` (one transaction); returns its id. A run that
    ends gets its summary stored with its last event, as the engine stores it."""
    plan = loaded.plan
    info = store.create_run(runbook_id=plan.id, title=plan.title, label=label,
                            source_text=loaded.text, source_name=loaded.name, created_at=start,
                            meta={"samples": samples, "seed": seed, "timezone": plan.timezone})
    with store.writing(info.id) as w:
        written = [w.append(at=start + timedelta(seconds=ev.offset), actor="bench", host="bench",
                            type=ev.type, step=ev.step, payload=ev.payload) for ev in events]
        if written and written[-1].type in ENDINGS:  # as the engine does when a run ends
            settle(w, plan, fold(plan, written))
    return info.id


def past_runs(store: Store, loaded: Loaded, runs: int, *, start: datetime = START) -> list[str]:
    """``runs`` finished runs of ``loaded``, a day apart, each its own draw of durations."""
    return [record(store, loaded, schedule(loaded, seed=k), start=start + timedelta(days=k))
            for k in range(runs)]


def script(loaded: Loaded, events: list[Planned]) -> str:
    """``events`` as a ``runbook simulate`` script (run_started/run_finished left implicit)."""
    keys = {STEP_STARTED: "start", STEP_COMPLETED: "complete", STEP_FAILED: "fail"}
    local = START.astimezone(ZoneInfo(loaded.plan.timezone)).replace(tzinfo=None)
    lines = [f"start: {local.isoformat(timespec='minutes')}", "events:"]
    for ev in events:
        if ev.type in keys:
            lines.append(f"  - {{at: {ev.offset:.0f}s, {keys[ev.type]}: {ev.step}}}")
        elif ev.type == NOTE:
            lines.append(f"  - {{at: {ev.offset:.0f}s, note: {json.dumps(ev.payload['text'])}}}")
    return "\n".join(lines) + "\n"


# -- CLI ------------------------------------------------------------------------------------------

def _load(path: str) -> Loaded:
    from runbook.format.loader import load_runbook

    return load_runbook(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("plan", help="a runbook YAML")
    p.add_argument("kind", choices=["layered", "tracks"])
    p.add_argument("--steps", type=int, default=1000, help="layered: main steps")
    p.add_argument("--tracks", type=int, default=128)
    p.add_argument("--per-track", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--json", metavar="FILE", help="also the same runbook as JSON")
    s = sub.add_parser("script", help="a `runbook simulate` events script")
    s.add_argument("runbook")
    s.add_argument("--events", type=int, help="about this many events (default: one full run)")
    s.add_argument("--notes", type=int, default=0, help="notes on top")
    s.add_argument("-o", "--output", required=True)
    st = sub.add_parser("store", help="a store of runs of a runbook")
    st.add_argument("runbook")
    st.add_argument("--runs", type=int, default=1, help="finished runs (default 1)")
    st.add_argument("--events", type=int, help="one run of about this many events instead")
    st.add_argument("--notes", type=int, default=0, help="notes on top of each run")
    st.add_argument("-o", "--output", required=True)
    args = ap.parse_args(argv)

    if args.what == "plan":
        data = (layered_data(args.steps, seed=args.seed) if args.kind == "layered"
                else tracks_data(args.tracks, args.per_track))
        Path(args.output).write_text(dump(data))
        if args.json:
            Path(args.json).write_text(json.dumps(data))
        print(f"wrote {args.output}: {len(data['steps']):,} steps")
        return 0
    loaded = _load(args.runbook)
    n = len(loaded.plan.paths[MAIN])
    how = fill(n, args.events) if args.events else {"notes": 0}
    how["notes"] += args.notes
    events = schedule(loaded, **how)
    if args.what == "script":
        Path(args.output).write_text(script(loaded, events))
        print(f"wrote {args.output}: {sum(e.type not in SILENT for e in events):,} scripted events")
        return 0
    with open_store(args.output) as store:
        if args.events:
            record(store, loaded, events)
        else:
            for k in range(args.runs):
                record(store, loaded, schedule(loaded, seed=k, notes=args.notes),
                       start=START + timedelta(days=k))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
