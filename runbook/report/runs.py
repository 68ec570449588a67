"""``runbook runs``: the runs in a store, newest first, one line each.

A run that ended carries its summary (stored with its last event, runbook/engine/summary.py), so
a thousand past runs are listed without reading their events or runbook texts. Any other run is
folded: its plan comes from its stored runbook text (cached per text, so a hundred runs of one
runbook load it once). A run whose stored text this version cannot read is still listed, with
what the event log alone says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbook.engine.gc_pause import paused
from runbook.engine.state import OPERATOR_JOINED, RUN_ABORTED, RUN_FINISHED, RUN_STARTED, fold
from runbook.engine.summary import VERSION, instant, run_status
from runbook.format.cells import ljust
from runbook.format.cells import width as cell_width
from runbook.format.durations import duration_text
from runbook.format.loader import Loaded, LoadError, load_text
from runbook.format.safe import terminal
from runbook.format.shift import recorded_start, shifted
from runbook.format.times import iso, local, when
from runbook.i18n import N_, _, ngettext
from runbook.store import Event, RunInfo, RunLine, Store


@dataclass
class RunRow:
    id: str
    runbook: str
    title: str
    label: str
    operators: list[str]
    started_at: datetime | None
    announced_resume: datetime | None
    resumed_at: datetime | None
    finished_at: datetime | None
    status: str
    path: str
    timezone: str
    events: int

    @property
    def resume_delta_s(self) -> float | None:
        if self.resumed_at is None or self.announced_resume is None:
            return None
        return (self.resumed_at - self.announced_resume).total_seconds()


def _fallback(info: RunInfo, events: list[Event], tz: str) -> RunRow:
    """What the log says without a plan (the stored runbook cannot be read by this version)."""
    types = {e.type for e in events}
    status = "aborted" if RUN_ABORTED in types else "finished" if RUN_FINISHED in types \
        else "in_progress"
    ops: list[str] = []
    for e in events:
        if e.type in (RUN_STARTED, OPERATOR_JOINED):
            name = e.payload.get("operator") or e.actor
            if name and name not in ops:
                ops.append(name)
    end = next((e.at for e in events if e.type in (RUN_FINISHED, RUN_ABORTED)), None)
    return RunRow(info.id, info.runbook_id, info.title, info.label, ops,
                  events[0].at if events else None, None, None, end, status + " (?)", "?", tz,
                  len(events))


def _summarised(line: RunLine) -> RunRow:
    """A run from the summary stored with its last event: no runbook text, no events read."""
    sm = line.summary or {}
    return RunRow(line.id, line.runbook_id, line.title, line.label, list(sm["operators"]),
                  instant(sm, "started") or line.created_at, instant(sm, "announced"),
                  instant(sm, "resumed"), instant(sm, "finished"), sm["status"], sm["path"],
                  sm["timezone"], line.events)


def list_runs(store: Store) -> list[RunRow]:
    """Every run in ``store``, newest first: from its stored summary when one covers its last
    event (runbook/engine/summary.py), else from its events folded over its stored runbook."""
    with paused():  # many small objects, no cycles: runbook/engine/gc_pause.py
        return _list_runs(store)


def _list_runs(store: Store) -> list[RunRow]:
    plans: dict[str, Loaded | None] = {}
    rows = []
    for line in store.summaries(VERSION):
        if line.summary is not None:
            rows.append(_summarised(line))
            continue
        info = store.run(line.id)
        events = store.events(info.id)
        key = info.source_text
        if key not in plans:
            try:
                plans[key] = load_text(info.source_text, info.source_name or "<stored runbook>",
                                       default_id=info.runbook_id)
            except LoadError:
                plans[key] = None
        loaded = plans[key]
        plan = None if loaded is None else shifted(loaded, recorded_start(info.meta)).plan
        if plan is None:
            rows.append(_fallback(info, events, str((info.meta or {}).get("timezone") or "UTC")))
            continue
        state = fold(plan, events)
        rows.append(RunRow(info.id, info.runbook_id, info.title, info.label, state.operators,
                           state.started_at or info.created_at, plan.announced, state.resumed_at,
                           state.finished_at, run_status(state), state.path, plan.timezone,
                           len(events)))
    return rows


def _resume(row: RunRow) -> str:
    """'01:04 / 01:20 (16m early)'; a time off the local day the run started on carries its day
    (``00:30 +1d``), so a resume after midnight never reads earlier than the start."""
    tz = row.timezone
    ref = row.started_at or row.announced_resume
    announced = when(row.announced_resume, tz, ref) if row.announced_resume and ref else "?"
    if row.resumed_at is None:
        return f"-- / {announced}"
    delta = row.resume_delta_s or 0.0
    if round(delta) == 0:
        how = _("on time")
    elif delta > 0:
        how = _("+{late} late").format(late=duration_text(delta))
    else:
        how = _("{early} early").format(early=duration_text(-delta))
    return f"{when(row.resumed_at, tz, ref or row.resumed_at)} / {announced} ({how})"


HEADINGS = (N_("RUN"), N_("RUNBOOK"), N_("LABEL"), N_("OPERATORS"), N_("STARTED"),
            N_("RESUMED / ANNOUNCED"), N_("STATUS"))
STATUS = {"in_progress": N_("in progress"), "finished": N_("finished"), "aborted": N_("aborted")}
LABELS = {"live": N_("live"), "rehearsal": N_("rehearsal"), "history": N_("history")}


def _status(status: str) -> str:
    """``finished``, ``in_progress`` as the listing says it (English: the code itself)."""
    base, _sp, rest = status.partition(" ")
    word = _(STATUS[base]) if base in STATUS and _(STATUS[base]) != STATUS[base] else base
    return f"{word} {rest}".rstrip()


def runs_text(rows: list[RunRow], path: str) -> str:
    """The listing, columns aligned in terminal cells (Korean words take two per character)."""
    if not rows:
        return terminal(_("no runs in {path}").format(path=path))
    table = [tuple(_(h) for h in HEADINGS)]
    for r in rows:
        started = local(r.started_at, r.timezone).strftime("%Y-%m-%d %H:%M") \
            if r.started_at else "-"
        status = _status(r.status) + (f" ({r.path})" if r.path not in ("main", "?") else "")
        label = _(LABELS[r.label]) if r.label in LABELS else r.label
        table.append((r.id, r.runbook, label, ", ".join(r.operators) or "-", started,
                      _resume(r), status))
    widths = [max(cell_width(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(ljust(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in table]
    n = len(rows)
    lines.append(ngettext("{n} run in {path}; times local to each runbook; `runbook report RUN` "
                          "for one in full",
                          "{n} runs in {path}; times local to each runbook; `runbook report "
                          "RUN` for one in full", n).format(n=n, path=path))
    return terminal("\n".join(lines))


def runs_json(rows: list[RunRow]) -> list[dict[str, Any]]:
    return [{
        "id": r.id, "runbook": r.runbook, "title": r.title, "label": r.label,
        "operators": r.operators, "started_at": iso(r.started_at, r.timezone),
        "announced_resume": iso(r.announced_resume, r.timezone),
        "resumed_at": iso(r.resumed_at, r.timezone),
        "resume_delta_s": None if r.resume_delta_s is None else round(r.resume_delta_s, 3),
        "finished_at": iso(r.finished_at, r.timezone), "status": r.status, "path": r.path,
        "timezone": r.timezone, "events": r.events,
    } for r in rows]
