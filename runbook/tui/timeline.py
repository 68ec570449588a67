"""The timeline strip's geometry: planned bars, actual bars, the forecast tail and the markers.

Pure: no Textual, no clock. Characters carry the meaning; the widget adds colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from runbook.engine.clock import utc
from runbook.engine.state import ABANDONED, FAILED, RUNNING, RunState
from runbook.forecast.core import Forecast
from runbook.format.cells import clip, ljust
from runbook.format.cells import width as cell_width
from runbook.format.plan import MAIN, Plan
from runbook.i18n import _


@dataclass(frozen=True)
class Timeline:
    """Instants the timeline strip draws (all aware UTC)."""

    start: datetime
    announced: datetime
    now: datetime
    planned: tuple[tuple[str, datetime, datetime], ...]  # critical path, likely durations
    actual: tuple[tuple[str, datetime, datetime, str], ...]  # (id, start, end, status)
    p50: datetime | None
    p90: datetime | None
    deadline: datetime | None



def planned_schedule(plan: Plan, path: list[str]) -> tuple[tuple[str, float, float], ...]:
    """Early start/finish (seconds from window start) with likely durations, for ``path``."""
    schedule = plan.likely_schedule(MAIN)
    return tuple((sid, *schedule[plan.by_id[sid].index]) for sid in path
                 if plan.by_id[sid].index in schedule)


def planned_instants(plan: Plan, schedule: tuple[tuple[str, float, float], ...]
                     ) -> tuple[tuple[str, datetime, datetime], ...]:
    """The planned schedule as instants (computed once per run)."""
    start = utc(plan.start)
    return tuple((sid, start + timedelta(seconds=a), start + timedelta(seconds=b))
                 for sid, a, b in schedule)


def make_timeline(plan: Plan, state: RunState, now: datetime, fc: Forecast | None,
                  planned: tuple[tuple[str, datetime, datetime], ...]) -> Timeline:
    actual = []
    for s in plan.steps:
        st = state.steps[s.id]
        if st.started_at is None:
            continue
        end = st.finished_at or (now if st.status == RUNNING else st.failed_at
                                 if st.status == FAILED and st.failed_at else st.started_at)
        actual.append((s.id, st.started_at, end, st.status))
    p50 = p90 = None
    if fc is not None and not fc.resumed:
        p50, p90 = fc.p50, fc.p90
    return Timeline(utc(plan.start), utc(plan.announced), now, planned, tuple(actual), p50, p90,
                    fc.decision_deadline if fc is not None else None)


TIMELINE_LABEL = 7


def timeline_rows(tl: Timeline, width: int) -> tuple[str, str, str]:
    """Three text rows: planned bars, actual bars with the forecast tail, and the marker axis.

    Characters carry the meaning (colour is added by the widget): planned ``━``/``─`` alternate
    per step, actual ``█``/``▆`` alternate per step, a running step is ``▒``, the forecast to P50
    is ``░`` and P50 to P90 ``·``; ``│`` marks the announced resume, ``▲`` now, ``D`` the decision
    deadline.

    Rows are lists of cells: a wide character (the Korean words) fills its cell and leaves the
    next one empty (``""``), so every row joins to exactly ``width`` terminal cells.
    """
    width = max(width - TIMELINE_LABEL, 10)
    ends = [tl.announced, tl.now] + [b for _, _, b in tl.planned] + [b for _, _, b, _ in tl.actual]
    if tl.p90:
        ends.append(tl.p90)
    t0 = min([tl.start, tl.now] + [a for _, a, _, _ in tl.actual])
    t1 = max(ends)
    span = max((t1 - t0).total_seconds() * 1.04, 60.0)

    def col(t: datetime) -> int:
        return max(0, min(width - 1, int((t - t0).total_seconds() / span * width)))

    plan_row = [" "] * width
    for n, (_sid, a, b) in enumerate(tl.planned):
        for c in range(col(a), max(col(a) + 1, col(b))):
            plan_row[c] = "━" if n % 2 == 0 else "─"
    act = [" "] * width
    for n, (_sid, a, b, status) in enumerate(tl.actual):
        ch = "▒" if status in (RUNNING, FAILED) else ("█" if n % 2 == 0 else "▆")
        if status == ABANDONED:
            ch = "╌"
        for c in range(col(a), max(col(a) + 1, col(b))):
            act[c] = ch
    if tl.p50 is not None and tl.p90 is not None:
        n0 = col(tl.now)
        for c in range(n0, col(tl.p50) + 1):
            if act[c] == " ":
                act[c] = "░"
        for c in range(max(n0, col(tl.p50) + 1), col(tl.p90) + 1):
            if act[c] == " ":
                act[c] = "·"
    axis = [" "] * width
    a_col, n_col = col(tl.announced), col(tl.now)
    for row in (plan_row, act):
        if row[a_col] == " ":
            row[a_col] = "│"
    # markers first (now wins a shared cell), then each word beside its marker where it fits
    markers = [(a_col, "│", _("resume")), (n_col, "▲", _("now"))]
    if tl.deadline is not None and t0 <= tl.deadline <= t1:
        markers.insert(0, (col(tl.deadline), "D", ""))
    for c, mark, _word in markers:
        axis[c] = mark
    for c, _mark, word in reversed(markers):
        if not word:
            continue
        size = cell_width(word)
        for start in (c + 1, c - size):
            cells = range(start, start + size)
            gap = [k for k in (start - 1, start + size) if 0 <= k < width and k != c]
            if (start >= 0 and cells[-1] < width and all(axis[k] == " " for k in cells)
                    and all(axis[k] == " " for k in gap)):
                axis[start:start + size] = _cells(word)
                break
    return (_label(_("plan")) + "".join(plan_row),
            _label(_("actual")) + "".join(act),
            " " * TIMELINE_LABEL + "".join(axis))


def _label(word: str) -> str:
    """A row's label padded to the label column in cells (a longer translation is cut)."""
    return ljust(clip(word, TIMELINE_LABEL - 1, ellipsis=""), TIMELINE_LABEL)


def _cells(word: str) -> list[str]:
    """``word`` one cell per item: a wide character, then ``""`` for the cell it also covers."""
    out: list[str] = []
    for ch in word:
        out.append(ch)
        if cell_width(ch) == 2:
            out.append("")
    return out


