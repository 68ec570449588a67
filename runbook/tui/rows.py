"""The steps table's rows: status words, plan, time taken and variance (m:ss). Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import compress
from operator import is_not

from runbook.engine.state import (
    ABANDONED,
    COMPLETED,
    FAILED,
    PENDING,
    READY,
    RUNNING,
    SKIPPED,
    RunState,
    StepState,
)
from runbook.format.cells import width as cell_width
from runbook.format.durations import duration_text, format_clock
from runbook.format.plan import MAIN, Plan, PlanStep
from runbook.i18n import N_, _

# status -> (glyph, word): the word carries the meaning, the glyph helps the eye, colour is extra.
STATUS = {  # the words in English; the table shows them in the current language
    PENDING: ("·", N_("waiting")),
    READY: ("○", N_("ready")),
    RUNNING: ("▶", N_("RUNNING")),
    COMPLETED: ("✓", N_("done")),
    FAILED: ("✗", N_("FAILED")),
    SKIPPED: ("↷", N_("skipped")),
    ABANDONED: ("–", N_("abandoned")),
}

def signed_clock(seconds: float) -> str:
    """A variance in m:ss: ``+9:03``, ``-1:20``, ``0:00``."""
    s = int(round(seconds))
    return ("+" if s > 0 else "-" if s < 0 else "") + format_clock(abs(s))


@dataclass(frozen=True)
class Row:
    """One line of the steps table."""

    step: PlanStep
    st: StepState
    critical: bool
    status: str  # "▶ RUNNING"
    planned: str  # "5m/12m" (likely / pessimistic)
    taken: str  # elapsed (running), actual (finished), until the failure (failed): "14:03"
    variance: str  # "+9:03", "-1:00", "+3:10!" (past pessimistic)
    over: bool  # running or finished past the pessimistic estimate

    @property
    def id(self) -> str:
        return self.step.id

    @cached_property
    def widths(self) -> tuple[int, int, int, int, int]:
        """Cells taken by the status, id, plan, taken and variance (the table's layout)."""
        return (cell_width(self.status), cell_width(self.id), cell_width(self.planned),
                cell_width(self.taken), cell_width(self.variance))

    @property
    def cells(self) -> tuple[str, ...]:
        return (self.status, self.id, self.step.title, self.step.owner or "", self.planned,
                self.taken, self.variance)


def make_row(step: PlanStep, st: StepState, now: datetime, critical: bool) -> Row:
    glyph, word = STATUS.get(st.status, ("?", st.status))
    word = _(word)
    planned = f"{duration_text(step.likely)}/{duration_text(step.pessimistic)}"
    taken, variance, over = "", "", False
    if st.started_at is not None:
        took = st.elapsed_s(now)
        taken = format_clock(took)
        if st.status in (COMPLETED, SKIPPED) and st.finished_at is not None:
            variance = signed_clock(took - step.likely)
            over = took > step.pessimistic
        elif st.status in (RUNNING, FAILED):
            variance = signed_clock(took - step.likely) if took > step.likely else ""
            over = took > step.pessimistic
        if over:
            variance += "!"
    if st.status == FAILED and st.failures:
        word = _("FAILED×{n}").format(n=st.failures) if st.failures > 1 else word
    return Row(step, st, critical, f"{glyph} {word}", planned, taken, variance, over)


def visible_steps(plan: Plan, state: RunState) -> list[PlanStep]:
    """Main steps, and the running contingency's steps once it was triggered."""
    return [s for s in plan.steps if s.path == MAIN or s.path == state.path]


def focus_step(state: RunState, rows: tuple[Row, ...]) -> str | None:
    """The step the selection follows: a failed step (it needs a decision), else the first
    running one (space completes it), else the first ready one."""
    for want in (FAILED, RUNNING, READY):
        for r in rows:
            if r.st.status == want and r.step.path == state.path:
                return r.id
    return rows[-1].id if rows else None


class RowCache:
    """The table's rows kept between snapshots. A row is made again only when its step's state
    changed (a StepState is replaced, never changed in place), when its step runs or has failed
    (the time taken moves), or when the visible steps or the critical path changed; finding
    which changed is a comparison of object identities, done in C."""

    def __init__(self) -> None:
        self._for: tuple = (None, None, None)  # (plan, path, critical) the rows were made for
        self._steps: list[PlanStep] = []
        self._sts: list[StepState] = []
        self._rows: list[Row] = []
        self._live: set[int] = set()  # rows whose text moves with the clock
        self.ids: tuple[str, ...] = ()
        self.index: dict[str, int] = {}
        self.counts: Counter[str] = Counter()  # rows per status

    def rows(self, plan: Plan, state: RunState, now: datetime,
             critical: frozenset[str]) -> tuple[Row, ...]:
        was = self._for
        same = was[0] is plan and was[1] == state.path and was[2] == critical
        sts = list(map(state.steps.__getitem__, self.ids)) if same else None
        if sts is None:
            self._for = (plan, state.path, critical)
            self._steps = visible_steps(plan, state)
            self.ids = tuple(s.id for s in self._steps)
            self.index = {sid: k for k, sid in enumerate(self.ids)}
            self._sts = list(map(state.steps.__getitem__, self.ids))
            self._rows = [make_row(s, st, now, s.id in critical)
                          for s, st in zip(self._steps, self._sts, strict=True)]
            self._live = {k for k, st in enumerate(self._sts) if st.status in (RUNNING, FAILED)}
            self.counts = Counter(st.status for st in self._sts)
            return tuple(self._rows)
        changed = set(compress(range(len(sts)), map(is_not, sts, self._sts)))
        for k in changed:
            self.counts[self._sts[k].status] -= 1
            self.counts[sts[k].status] += 1
        self._sts = sts
        for k in changed | self._live:
            s, st = self._steps[k], sts[k]
            self._rows[k] = make_row(s, st, now, s.id in critical)
            if st.status in (RUNNING, FAILED):
                self._live.add(k)
            else:
                self._live.discard(k)
        return tuple(self._rows)


def most_cells(rows: tuple[Row, ...]) -> dict[str, int]:
    """The widest status, id, plan, taken and variance of ``rows``, in cells."""
    if not rows:
        return {}
    return dict(zip(("status", "id", "plan", "taken", "var"),
                    map(max, zip(*(r.widths for r in rows), strict=True)), strict=True))
