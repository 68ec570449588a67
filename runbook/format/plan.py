"""Compile a validated runbook into the step graph the forecast and the engine work on.

Defaults are applied here: ``after`` = the step above in the same path, ``resumes_service`` = the
last step of the path, a single estimate widened by ``policy.spread``. Cross-field checks that
pydantic cannot express (duplicate ids, unknown ``after`` targets, cycles, window order) are
collected as :class:`Problem` objects whose ``loc`` the loader turns into file lines.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime

import pendulum

from runbook.format.model import Estimate, Policy, Runbook, Step
from runbook.i18n import _

MAIN = "main"
MAX_TOTAL_S = 366 * 86400.0  # all pessimistic estimates together; beyond this a unit is wrong
MAX_WINDOW_DAYS = 30  # window start to announced resume / hard deadline; simulate scripts too
# The graph a forecast can afford (10,000 samples, a busy 2-core machine): `check` of a
# 50,000-step plan and its 2-step rollback (bench/perf.py's layered plan, 7.7 MB of YAML) takes
# 20 s and peaks at 2.7 GB, 2.0 GB of it one float32 per step and sample; the limit leaves room
# for contingencies (55,000 steps: ~3 GB). 1,500 steps that each name every step above (1.1
# million links, 6.8 MB) took 17 s and 1 GB before the link limit and are now refused after the
# parse; every link beyond a step's direct ones is redundant anyway.
MAX_STEPS = 55_000  # main steps and contingency steps together
MAX_LINKS = 200_000  # `after` entries, all steps together

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    loc: Loc
    message: str


class PlanError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class PlanStep:
    index: int
    id: str
    title: str
    kind: str
    owner: str | None
    path: str
    optimistic: float
    likely: float
    pessimistic: float
    single: bool  # a single estimate widened by policy.spread
    preds: tuple[int, ...]
    command: str | None
    check: str | None
    notes: str | None
    resumes_service: bool
    loc: Loc


@dataclass
class Plan:
    runbook: Runbook
    id: str
    steps: list[PlanStep]
    paths: dict[str, tuple[int, ...]]  # "main" and each contingency id -> step indices, file order
    path_titles: dict[str, str]
    resume: dict[str, int]  # path -> index of the step whose completion resumes service
    by_id: dict[str, PlanStep] = field(init=False)
    succs: list[tuple[int, ...]] = field(init=False)
    path_ids: dict[str, tuple[str, ...]] = field(init=False)  # each path's step ids, file order

    def __post_init__(self) -> None:
        self.by_id = {s.id: s for s in self.steps}
        self.path_ids = {p: tuple(self.steps[i].id for i in ix) for p, ix in self.paths.items()}
        succs: list[list[int]] = [[] for _ in self.steps]
        for s in self.steps:
            for p in s.preds:
                succs[p].append(s.index)
        self.succs = [tuple(x) for x in succs]

    @property
    def title(self) -> str:
        return self.runbook.title

    @property
    def timezone(self) -> str:
        return self.runbook.timezone

    @property
    def policy(self) -> Policy:
        return self.runbook.policy

    @property
    def start(self) -> datetime:
        return self.runbook.window.start

    @property
    def announced(self) -> datetime:
        return self.runbook.window.announced_resume

    @property
    def hard_deadline(self) -> datetime | None:
        return self.runbook.window.hard_deadline

    @property
    def contingencies(self) -> list[str]:
        return [p for p in self.paths if p != MAIN]

    def ancestors(self, index: int) -> set[int]:
        """``index`` and every step it (transitively) waits for."""
        seen = {index}
        stack = [index]
        while stack:
            for p in self.steps[stack.pop()].preds:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen

    def likely_schedule(self, path: str = MAIN) -> dict[int, tuple[float, float]]:
        """Early (start, finish) of each step of ``path`` in seconds from the path's start, every
        step taking its likely time: the baseline that actuals are drawn against."""
        finish: dict[int, float] = {}
        out: dict[int, tuple[float, float]] = {}
        members = set(self.paths[path])
        for i in self.topo_order():
            if i in members:
                s = self.steps[i]
                begin = max((finish[p] for p in s.preds), default=0.0)
                finish[i] = begin + s.likely
                out[i] = (begin, finish[i])
        return out

    def topo_order(self) -> list[int]:
        """All steps, predecessors first (file order where the graph allows)."""
        indeg = [len(s.preds) for s in self.steps]
        ready = [i for i, d in enumerate(indeg) if d == 0]
        order: list[int] = []
        ready.reverse()
        while ready:
            i = ready.pop()
            order.append(i)
            for j in reversed(self.succs[i]):
                indeg[j] -= 1
                if indeg[j] == 0:
                    ready.append(j)
        return order


def _three_points(step: Step, policy: Policy) -> tuple[float, float, float, bool]:
    if isinstance(step.estimate, Estimate):
        e = step.estimate
        return e.optimistic, e.likely, e.pessimistic, False
    likely = float(step.estimate)
    return likely * policy.spread.optimistic, likely, likely * policy.spread.pessimistic, True


def compile_plan(runbook: Runbook, default_id: str = "runbook") -> Plan:
    """The step graph of ``runbook``; PlanError listing every cross-field problem."""
    problems: list[Problem] = []
    window = runbook.window

    def when(t: datetime) -> str:
        return pendulum.instance(t).in_timezone(runbook.timezone).format("YYYY-MM-DD HH:mm")

    if window.announced_resume <= window.start:
        problems.append(
            Problem(("window", "announced_resume"),
                    _("announced_resume ({resume}) must be after window.start ({start}); fix "
                      "one of the two times").format(resume=when(window.announced_resume),
                                                     start=when(window.start)))
        )
    if window.hard_deadline is not None and window.hard_deadline <= window.announced_resume:
        problems.append(
            Problem(("window", "hard_deadline"),
                    _("hard_deadline ({deadline}) must be after announced_resume ({resume}); fix "
                      "one of the two times").format(deadline=when(window.hard_deadline),
                                                     resume=when(window.announced_resume)))
        )
    for key in ("announced_resume", "hard_deadline"):
        t = getattr(window, key)
        if t is not None and (t - window.start).total_seconds() > MAX_WINDOW_DAYS * 86400:
            days = (t - window.start).total_seconds() / 86400
            problems.append(
                Problem(("window", key),
                        _("{key} ({time}) is {days} days after window.start ({start}); runbook "
                          "handles windows of up to {most} days: check the dates").format(
                            key=key, time=when(t), days=f"{days:,.0f}", start=when(window.start),
                            most=MAX_WINDOW_DAYS))
            )

    groups: list[tuple[str, str, Loc, list[Step]]] = [(MAIN, runbook.title, (), runbook.steps)]
    seen_paths = {MAIN}
    for c, cont in enumerate(runbook.contingencies):
        if cont.id in seen_paths:
            problems.append(
                Problem(("contingencies", c, "id"),
                        _("contingency id {id} is used twice").format(id=repr(cont.id))
                        if cont.id != MAIN else
                        _("'main' is reserved; name the contingency otherwise"))
            )
        seen_paths.add(cont.id)
        groups.append((cont.id, cont.title, ("contingencies", c), cont.steps))

    first_loc: dict[str, Loc] = {}
    path_of: dict[str, str] = {}
    for path, _title, base, steps in groups:
        for i, step in enumerate(steps):
            loc = (*base, "steps", i)
            if step.id in first_loc:
                problems.append(
                    Problem((*loc, "id"), _("step id {id} is used twice (first at {first}); ids "
                                            "must be unique across the runbook, contingencies "
                                            "included: rename one").format(
                        id=repr(step.id), first=where(first_loc[step.id])))
                )
                continue
            first_loc[step.id] = loc
            path_of[step.id] = path

    index_of: dict[str, int] = {}
    raw: list[tuple[str, Loc, Step, list[str]]] = []
    paths: dict[str, list[int]] = {}
    resume: dict[str, int] = {}
    for path, _title, base, steps in groups:
        paths[path] = []
        marked = [i for i, s in enumerate(steps) if s.resumes_service]
        if len(marked) > 1:
            names = ", ".join(steps[i].id for i in marked)
            problems.append(
                Problem((*base, "steps", marked[1], "resumes_service"),
                        _("only one step per path can resume service; marked: {names}").format(
                            names=names))
            )
        for i, step in enumerate(steps):
            loc = (*base, "steps", i)
            if first_loc.get(step.id) != loc:
                continue  # a duplicate id, reported above
            if step.after is None:  # the step above, unless it is a duplicate (no step of its own)
                above = (*base, "steps", i - 1)
                after = [steps[i - 1].id] if i > 0 and first_loc.get(steps[i - 1].id) == above else []
            else:
                after = list(dict.fromkeys(step.after))
            for target in after:
                if target == step.id:
                    problems.append(Problem((*loc, "after"), _("step {id} cannot wait for itself"
                                                               ).format(id=repr(step.id))))
                elif target not in path_of:
                    close = difflib.get_close_matches(target, list(path_of), n=1)
                    hint = _("; did you mean {name}?").format(name=repr(close[0])) if close else ""
                    problems.append(
                        Problem((*loc, "after"), _("step {id} waits for unknown step {target}{hint}"
                                                   ).format(id=repr(step.id), target=repr(target),
                                                            hint=hint))
                    )
                elif path_of[target] != path:
                    problems.append(
                        Problem((*loc, "after"),
                                _("step {id} ({path}) cannot wait for {target} ({other}): `after` "
                                  "stays within one path").format(
                                    id=repr(step.id), path=_path_name(path), target=repr(target),
                                    other=_path_name(path_of[target])))
                    )
            index_of[step.id] = len(raw)
            paths[path].append(len(raw))
            raw.append((path, loc, step, [t for t in after if path_of.get(t) == path and t != step.id]))
        if marked:
            resume[path] = index_of.get(steps[marked[0]].id, -1)
        elif paths[path]:
            resume[path] = paths[path][-1]

    plan_steps = []
    for index, (path, loc, step, after) in enumerate(raw):
        a, m, b, single = _three_points(step, runbook.policy)
        plan_steps.append(
            PlanStep(
                index=index, id=step.id, title=step.title, kind=str(step.kind), owner=step.owner,
                path=path, optimistic=a, likely=m, pessimistic=b, single=single,
                preds=tuple(index_of[t] for t in after), command=step.command, check=step.check,
                notes=step.notes, resumes_service=resume.get(path) == index, loc=loc,
            )
        )
    plan = Plan(
        runbook=runbook,
        id=runbook.id or default_id,
        steps=plan_steps,
        paths={p: tuple(ix) for p, ix in paths.items()},
        path_titles={p: t for p, t, _b, _s in groups},
        resume=resume,
    )
    problems.extend(_size_problems(plan_steps))
    if len(plan_steps) > MAX_STEPS or sum(len(s.preds) for s in plan_steps) > MAX_LINKS:
        raise PlanError(problems)  # a cycle search over a graph this big is not worth it
    problems.extend(_cycles(plan))
    total = sum(s.pessimistic for s in plan_steps)
    if total > MAX_TOTAL_S and plan_steps:
        worst = max(plan_steps, key=lambda s: s.pessimistic)
        problems.append(
            Problem((*worst.loc, "estimate"),
                    _("the pessimistic estimates add up to {days} days, more than a year (the "
                      "largest is {id}); check the units and policy.spread").format(
                        days=f"{total / 86400:,.0f}", id=repr(worst.id)))
        )
    if problems:
        raise PlanError(problems)
    return plan


def _size_problems(steps: list[PlanStep]) -> list[Problem]:
    """The graph limits, named with their figures where they are crossed."""
    if len(steps) > MAX_STEPS:
        return [Problem(steps[MAX_STEPS].loc,
                        _("the runbook has {n} steps (contingencies included); runbook handles "
                          "up to {most}: split the plan into several runbooks").format(
                            n=f"{len(steps):,}", most=f"{MAX_STEPS:,}"))]
    links = 0
    for s in steps:
        links += len(s.preds)
        if links > MAX_LINKS:
            total = sum(len(x.preds) for x in steps)
            return [Problem((*s.loc, "after"),
                            _("the steps have {n} `after` links in all; runbook handles up to "
                              "{most}: name only the steps each one directly waits for (a step "
                              "already waits for everything its predecessors wait for)").format(
                                n=f"{total:,}", most=f"{MAX_LINKS:,}"))]
    return []


def where(loc: Loc) -> str:
    """``steps[2].after`` for ``("steps", 2, "after")``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or _("top level")


def _path_name(path: str) -> str:
    return _("main steps") if path == MAIN else _("contingency {id}").format(id=repr(path))


def _cycles(plan: Plan) -> list[Problem]:
    """One problem per cycle, naming its steps in order."""
    state = [0] * len(plan.steps)  # 0 new, 1 on stack, 2 done
    problems: list[Problem] = []
    for root in range(len(plan.steps)):
        if state[root]:
            continue
        stack: list[tuple[int, int]] = [(root, 0)]
        trail: list[int] = []
        while stack:
            node, k = stack.pop()
            if k == 0:
                state[node] = 1
                trail.append(node)
            preds = plan.steps[node].preds
            if k < len(preds):
                stack.append((node, k + 1))
                nxt = preds[k]
                if state[nxt] == 0:
                    stack.append((nxt, 0))
                elif state[nxt] == 1:
                    cycle = trail[trail.index(nxt):]
                    names = " -> ".join(plan.steps[i].id for i in [*cycle, nxt])
                    problems.append(
                        Problem((*plan.steps[nxt].loc, "after"),
                                _("steps wait for each other in a cycle: {names}; remove one "
                                  "of these `after` links").format(names=names))
                    )
            else:
                state[node] = 2
                trail.pop()
    return problems
