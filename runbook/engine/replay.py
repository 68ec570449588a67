"""Undo as a replay of the log without the undone events, from a recent snapshot (issue #11).

An undo is a correcting event: the state is the fold of the log without the events it names (see
:mod:`runbook.engine.state`). Replaying a whole night's log for it cost ~100 ms at 10,000 steps,
and readers of the state (the forecast) then read every step again. A state keeps two snapshots
of itself, taken at the end of a fold every SNAPSHOT_EVERY events, and an undo replays from the
newest one taken before the first event it reverts (an undo reverts the operator's last key
press, seconds old), then changes in the state only the steps that come out different, listed
in ``changes`` like any others. An undo of something older replays the whole log, as before.

A snapshot is the live state as it was at the end of a fold, which is what a replay of the log up
to it gives (the fold's equivalence tests hold it to that). Only a state that began as the
initial state takes them, and it stops when an event arrives that an earlier undo already named
(applied, though undone: a log only a hand could write) until the next whole replay.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook.engine.state import EventLike, RunState

UNDONE = "action_undone"  # runbook.engine.state.UNDONE (state imports this module)
SNAPSHOT_EVERY = 256  # events; a snapshot copies the step table (10,000 steps: ~0.3 ms)
KEPT = 2
# What a snapshot holds and a replay rebuilds: the rest is the log's, or derived.
NOT_REPLAYED = frozenset({"plan", "log", "undone", "last_seq", "last_at", "revision", "changes",
                          "generation", "snapshots", "_where", "_consistent"})


@dataclass(frozen=True)
class Snapshot:
    length: int  # events of the log it holds
    seq: int  # the seq of the last of them
    generation: int  # the state's generation then, and how far its changes went
    changes: int
    fields: dict[str, Any]


def _copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) \
        if isinstance(value, list) else value


def _replayed(state: RunState) -> list[str]:
    return [f.name for f in fields(state) if f.name not in NOT_REPLAYED]


def applied(state: RunState, ev: EventLike) -> None:
    """The fold applied ``ev``: an event an undo named before it came makes the live state no
    replay of its log (see the module's docstring)."""
    if state.snapshots is not None and ev.seq in state.undone and ev.type != UNDONE:
        state.snapshots = None


def after_fold(state: RunState, before: int) -> None:
    """The fold is done (``before``: the log's length when it began): take a snapshot if the log
    passed a multiple of SNAPSHOT_EVERY."""
    if state.snapshots is None or not state.log or \
            len(state.log) // SNAPSHOT_EVERY == before // SNAPSHOT_EVERY:
        return
    snap = Snapshot(len(state.log), state.log[-1].seq, state.generation, len(state.changes),
                    {name: _copy(getattr(state, name)) for name in _replayed(state)})
    state.snapshots = [*state.snapshots[-(KEPT - 1):], snap]


def undo(state: RunState, ev: EventLike) -> None:
    """Revert the events ``ev`` names: the state becomes the fold of the log without them,
    replayed from the newest snapshot that holds none of them (else from the start)."""
    from runbook.engine import state as S  # noqa: N812 (imported here: state imports this)

    named = [int(seq) for seq in ev.payload.get("undoes") or ()]
    for seq in named:
        state.undone.setdefault(seq, ev)
    first = min(named, default=None)
    kept = [s for s in state.snapshots or ()
            if s.generation == state.generation and (first is None or s.seq < first)]
    if not kept:
        _whole(state, S)
        return
    base = kept[-1]
    fresh = S.RunState(plan=state.plan, steps={})
    for name, value in base.fields.items():
        setattr(fresh, name, _copy(value))
    mark = len(fresh.changes)
    for e in state.log[base.length:]:
        if e.type != UNDONE and e.seq not in state.undone:
            S._apply(fresh, e)
    # (which waiting steps are ready: the fold refreshes the steps that change, as for any event)
    plan, where = state.plan, state.where()
    for i in sorted(set(state.changes[base.changes:]) | set(fresh.changes[mark:])):
        s = plan.steps[i]
        old, new = state.steps[s.id], fresh.steps[s.id]
        if old != new:
            state.steps[s.id] = new
            if old.status != new.status:
                where.remove(i, s.path, old.status)
                where.add(i, s.path, new.status)
            state.changes.append(i)
    for name in _replayed(state):
        if name != "steps":
            setattr(state, name, getattr(fresh, name))
    state.snapshots = kept


def _whole(state: RunState, S: Any) -> None:  # noqa: N803
    """Replay the whole log: a new generation (readers of the changes read every step)."""
    fresh = S.RunState.initial(state.plan)
    for e in state.log:
        if e.type != UNDONE and e.seq not in state.undone:
            S._apply(fresh, e)
    for name in _replayed(state) + ["_where"]:
        setattr(state, name, getattr(fresh, name))
    state.changes = []
    state.generation = next(S._generations)
    state._consistent = False
    state.snapshots = []  # the live state is a replay of its log again
