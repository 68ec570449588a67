"""A run's summary: what `runbook runs` and the forecast prior need of a run, derived once.

The engine derives it from its fold in the write transaction of the event that ends the run (and
of every event recorded after that), and stores it with that event (``Writer.settle``). The store
hands it back (``Store.summaries``) only while that event is still the run's last, so a summary
never speaks for events it did not see. A run without one (recorded before summaries existed,
still running, or written event by event) is folded instead: ``summarise(plan, fold(plan,
events))`` gives the same dict, field for field, so both ways say the same.

``VERSION`` names the format and what it is derived from; a runbook that derives it differently
bumps it, and the summaries stored before are then ignored (the runs are folded again).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from runbook.engine.clock import utc
from runbook.engine.state import COMPLETED, EventLike, RunState, fold
from runbook.format.loader import LoadError, load_text
from runbook.format.plan import Plan
from runbook.store import RunLine, Store, Writer, from_us, to_us

VERSION = 1
IN_PROGRESS, FINISHED, ABORTED = "in_progress", "finished", "aborted"


def run_status(state: RunState) -> str:
    if state.aborted:
        return ABORTED
    return FINISHED if state.finished else IN_PROGRESS


def completed(plan: Plan, state: RunState) -> list[tuple[str, float, float]]:
    """(step id, actual seconds, the plan's likely seconds) of every completed step that took
    time, in the plan's order: what the prior and calibration learn from."""
    out = []
    for s in plan.steps:
        st = state.steps[s.id]
        if st.status == COMPLETED and st.actual_s is not None and st.actual_s > 0:
            out.append((s.id, st.actual_s, s.likely))
    return out


def _us(instant: datetime | None) -> int | None:
    return None if instant is None else to_us(instant)


def summarise(plan: Plan, state: RunState) -> dict[str, Any]:
    """The summary of a run of ``plan`` (with the window the run started with) in ``state``."""
    return {
        "status": run_status(state), "path": state.path, "operators": list(state.operators),
        "started_us": _us(state.started_at), "resumed_us": _us(state.resumed_at),
        "finished_us": _us(state.finished_at), "announced_us": to_us(utc(plan.announced)),
        "timezone": plan.timezone,
    }


def detail(plan: Plan, state: RunState) -> dict[str, Any]:
    """What the summary leaves out, for the prior and calibration: the completed steps."""
    return {"completed": _columns(completed(plan, state))}


def _columns(done: list[tuple[str, float, float]]) -> dict[str, Any]:
    """Completed steps by columns, the cheapest form to read back: ``steps``, their ids in one
    string (ids have no spaces); ``actual``, a list of seconds; ``likely``, seconds as one
    string of exact reprs (read by :func:`likely_of` only for history, against its own plan)."""
    return {"steps": " ".join(d[0] for d in done), "actual": [d[1] for d in done],
            "likely": " ".join(repr(float(d[2])) for d in done)}


def likely_of(done: dict[str, Any]) -> list[float]:
    """The ``likely`` column of :func:`completed_of` as seconds."""
    return [float(x) for x in done["likely"].split()]


def instant(summary: dict[str, Any], key: str) -> datetime | None:
    """An instant of a summary (``started``, ``resumed``, ``finished``, ``announced``), UTC."""
    us = summary.get(f"{key}_us")
    return None if us is None else from_us(us)


def with_event(state: RunState, event: EventLike) -> RunState:
    """What ``state`` will be once ``event`` is committed: its log and the event folded afresh,
    ``state`` itself left as it was (until the commit the engine must not show the event). Once
    per run for a finish: a fresh fold is the one copy that cannot share anything with ``state``."""
    return fold(state.plan, [*state.log, event])


def settle(writer: Writer, plan: Plan, state: RunState) -> None:
    """Store the summary of ``state`` (which has folded the event just appended) with that event,
    in the writer's transaction."""
    writer.settle(VERSION, summarise(plan, state), detail(plan, state))


def summarise_import(run: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(VERSION, summary, detail) of a run as ``Store.import_runs`` will record it (its events
    stamped by the importer), for it to store alongside."""
    from runbook.format.shift import load_recorded
    from runbook.store import Event, RunInfo
    from runbook.store.sql import IMPORTER

    info = RunInfo("", run["runbook_id"], run["title"], run["label"], run["created_at"],
                   run["source_name"], run["source_text"], run.get("meta") or {})
    plan = load_recorded(info).plan
    events = [Event("", seq, "", ev["at"], IMPORTER, IMPORTER, ev["type"], ev.get("step"),
                    ev.get("payload") or {}) for seq, ev in enumerate(run["events"], start=1)]
    state = fold(plan, events)
    return VERSION, summarise(plan, state), detail(plan, state)


def backfill(store: Store) -> int:
    """Summarise every ended run that has no summary of this VERSION (recorded before summaries
    existed, or summarised differently): its events folded over its stored runbook, the summary
    stored if its last event is still the one folded. Returns how many were stored; a run whose
    runbook this version cannot read is left as it is (listed from its log alone)."""
    from runbook.format.shift import load_recorded, recorded_start
    from runbook.store import ENDINGS

    stored = 0
    plans: dict[tuple, Plan | None] = {}
    for line in store.summaries(VERSION):
        if line.summary is not None or not line.events:
            continue
        info = store.run(line.id)
        events = store.events(info.id)
        if not any(e.type in ENDINGS for e in events):
            continue  # still running: it is summarised when it ends
        key = (info.source_text, info.source_name, info.runbook_id, recorded_start(info.meta))
        if key not in plans:
            try:
                plans[key] = load_recorded(info).plan
            except LoadError:
                plans[key] = None
        plan = plans[key]
        if plan is not None:
            state = fold(plan, events)
            stored += store.put_summary(info.id, events[-1].seq, VERSION, summarise(plan, state),
                                        detail(plan, state))
    return stored


def completed_of(store: Store, line: RunLine, plans: dict[tuple[str, str, str], Plan | None]
                 ) -> dict[str, Any] | None:
    """The completed steps of a past run by columns, ``steps`` (ids, space-separated), ``actual``
    and ``likely`` (:func:`completed` by columns): from the summary detail stored with its last event (read with
    ``Store.summaries(..., detail=True)``), else by folding
    its events over its stored runbook (``plans`` caches them by text); None when this version
    cannot read that runbook."""
    if line.detail is not None:
        return line.detail["completed"]
    info = store.run(line.id)
    key = (info.source_text, info.source_name, info.runbook_id)
    if key not in plans:
        try:
            plans[key] = load_text(*key[:2], default_id=info.runbook_id).plan
        except LoadError:
            plans[key] = None
    plan = plans[key]
    return None if plan is None else _columns(completed(plan, fold(plan, store.events(info.id))))
