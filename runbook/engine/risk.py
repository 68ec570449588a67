"""Risk levels (DESIGN §3, as revised on data), the tracker that keeps them from flapping, and
the words staff read: the alert message and the one-line do-now action. Pure.

What raises each level (figures behind every number: docs/forecast.md, bench/calibration.py):

* ``on_track`` while P(on time) >= confidence - ``Rules.margin``. ``check`` recommends announcing
  the confidence quantile, so a calibrated P starts at the confidence and wanders below it in
  most on-time runs; the margin is the room it is allowed to wander.
* ``at_risk`` below that, with no other condition.
* ``decide_now`` when P < confidence and now is within ``decision_lead`` of a contingency's
  decision deadline (the last moment to switch to a path that still makes it at the confidence),
  or past that deadline while the main path is at risk and triggering the contingency now still
  beats it.
* ``late`` when P < ``Rules.late_below`` and no contingency can still make it or beat the main
  path, or announced_resume has passed with service down.
* ``resumed`` once the service-resuming step is complete.

The tracker raises a worse level once the numbers have called for it for ``hold_worse_s`` (at most
a quarter of the time left), a better one once it has held ``hold_better_s``, never back the other
way within ``dwell_s``, and at once when the level shown no longer fits the numbers at all (never
AT RISK at 85%, never DECIDE NOW at 99%). Facts are shown at once: the resume, announced_resume
passing with service down, and the operator's own acts (triggering a contingency, aborting):
:meth:`LevelTracker.acknowledge`. :func:`do_now` is the one wording of what to do now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from runbook.engine.reporting import Obligation, obligation
from runbook.engine.state import RunState
from runbook.forecast.core import Forecast, Option
from runbook.format.durations import duration_text, format_minutes, format_until
from runbook.format.model import Level
from runbook.format.plan import MAIN, Plan
from runbook.format.times import local, when
from runbook.i18n import LANGUAGES, N_, _, using

RANK = {Level.on_track: 0, Level.at_risk: 1, Level.decide_now: 2, Level.late: 3}

WORDS = {  # in English; word() says it in the current language
    Level.on_track: N_("ON TRACK"),
    Level.at_risk: N_("AT RISK"),
    Level.decide_now: N_("DECIDE NOW"),
    Level.late: N_("LATE"),
    Level.resumed: N_("RESUMED"),
}

ACTIONS = {  # the level's action in general; do_now() says it for this moment
    Level.on_track: N_("Carry on."),
    Level.at_risk: N_("Prepare the contingency and brief customer service."),
    Level.decide_now: N_("Trigger the contingency or accept the overrun."),
    Level.late: N_("Announce a new resume time."),
    Level.resumed: N_("Finish the remaining checks."),
}


def word(level: Level | str) -> str:
    """The level as one word in the current language: ``AT RISK``, ``지연 위험``."""
    return _(WORDS[Level(level)])


def action(level: Level | str) -> str:
    """The level's action in general, in the current language."""
    return _(ACTIONS[Level(level)])


@dataclass(frozen=True)
class Rules:
    """The conditions behind the levels; RULES is the default, V1 what version 1 did."""

    margin: float = 0.2  # on_track while P >= confidence - margin
    late_below: float = 0.2  # late needs P below this (and no contingency that still makes it)
    hold_worse_s: float = 60.0  # a worse level must be called for this long before it is raised,
    urgent_share: float = 0.25  # ... but never longer than this share of the time left
    hold_better_s: float = 60.0  # a better level must hold this long (or the shown one not fit)
    dwell_s: float = 120.0  # no change back the other way within this long of the last one
    decide_past_deadline: bool = True  # decide_now while a late contingency still beats main
    decide_margin: float = 0.0  # decide_now near the deadline once P < confidence - this

    def alarm(self, plan: Plan) -> float:
        return round(plan.policy.confidence - self.margin, 9)


RULES = Rules()
V1 = Rules(margin=0.0, late_below=0.5, hold_worse_s=0.0, hold_better_s=60.0, dwell_s=0.0,
           decide_past_deadline=False)
HOLD_S = RULES.hold_better_s  # kept for callers of version 1


def level_for(plan: Plan, state: RunState, fc: Forecast, now: datetime,
              rules: Rules = RULES, current: Level | None = None) -> Level:
    """The level the numbers call for right now (before the tracker's holds); ``current`` is the
    level shown, for the one condition with hysteresis (a decision past its deadline)."""
    if state.resumed:
        return Level.resumed
    if now > plan.announced:
        return Level.late
    p, conf = fc.p_on_time, plan.policy.confidence
    deadline = fc.decision_deadline
    if deadline is not None and now <= deadline:
        # called for a hold early, so that it is shown decision_lead before the deadline
        lead = timedelta(seconds=plan.policy.decision_lead + rules.hold_worse_s)
        if now >= deadline - lead and p < round(conf - rules.decide_margin, 9):
            return Level.decide_now
        return Level.on_track if p >= rules.alarm(plan) else Level.at_risk
    # Past its deadline a contingency that still beats the main path keeps a decision open:
    # raised when the main path is at risk, kept while it is below the confidence.
    line = conf if current == Level.decide_now else rules.alarm(plan)
    if rules.decide_past_deadline and p < line and still_beats(fc, now) is not None:
        return Level.decide_now
    if p >= rules.alarm(plan):
        return Level.on_track
    return Level.late if p < rules.late_below else Level.at_risk


FIT_BAND = 0.05  # a raised level stays while P is within this of the line that raised it


def fits(level: Level, plan: Plan, fc: Forecast, now: datetime, rules: Rules = RULES) -> bool:
    """Whether ``level`` can still be shown beside these numbers while a better one holds.

    A level shown a little longer than its condition (the hold) reads as "not clear yet"; one
    whose numbers have moved well past it (AT RISK or DECIDE NOW at 85% or more, LATE at 50%
    before the announced time) contradicts them, and gives way at once.
    """
    conf, p = plan.policy.confidence, fc.p_on_time
    band = round(conf + FIT_BAND, 9)
    if level == Level.at_risk:
        return p < band
    if level == Level.decide_now:  # its deadline passing is the clock, not the numbers: held
        return p < band
    if level == Level.late:
        return now > plan.announced or p < max(0.5, rules.late_below)
    return True


class LevelTracker:
    """The level shown: worse levels after ``hold_worse_s``, better ones after ``hold_better_s``
    (or at once when the shown level no longer fits the numbers), never back the other way
    within ``dwell_s`` of the last change; facts and the operator's acts at once."""

    def __init__(self, current: Level | str = Level.on_track, rules: Rules = RULES,
                 hold_s: float | None = None) -> None:
        self.current = Level(current)
        self.rules = rules if hold_s is None else replace(rules, hold_better_s=hold_s)
        self._since: datetime | None = None  # when the raw level first differed in this direction
        self._candidate: Level | None = None
        self._acted: tuple[str, bool] | None = None  # (path, aborted) at the last observation
        self._changed: tuple[datetime, bool] | None = None  # last change: when, and if worse
        self._seen: datetime | None = None  # the previous refresh

    def observe(self, plan: Plan, state: RunState, fc: Forecast, now: datetime
                ) -> tuple[Level, Level | None]:
        """One refresh: (the level the numbers call for, the level shown if it changed now).

        A trigger or an abort since the last refresh is acknowledged at once."""
        raw = level_for(plan, state, fc, now, self.rules, self.current)
        acted = (state.path, state.aborted)
        changed_path = self._acted is not None and acted != self._acted
        self._acted = acted
        if state.finished and not state.resumed:
            return raw, None
        if changed_path:
            return raw, self.acknowledge(raw)
        left = plan.announced.timestamp() - now.timestamp()  # no pendulum Interval: 1 Hz x runs
        at_once = left < 0
        if raw == Level.decide_now and fc.decision_deadline is not None:
            left = min(left, max(0.0, (fc.decision_deadline - now).total_seconds()))
        return raw, self.update(raw, now, at_once=at_once, left_s=left,
                                shown_fits=fits(self.current, plan, fc, now, self.rules))

    def update(self, raw: Level, now: datetime, *, at_once: bool = False,
               shown_fits: bool = True, left_s: float | None = None) -> Level | None:
        """The new level when it changes, else None.

        ``at_once``: ``raw`` is a fact (announced_resume passed with service down): no hold.
        ``shown_fits``: False when the current level contradicts the numbers (see :func:`fits`).
        ``left_s``: seconds until announced_resume (for decide_now: until its deadline); a worse
        level is held at most a share of it.
        """
        seen, self._seen = self._seen, now
        if self.current == Level.resumed:
            return None
        if raw == Level.resumed:
            return self._switch(raw, now)
        if raw == self.current:
            self._since = self._candidate = None
            return None
        rules = self.rules
        worse = RANK[raw] > RANK[self.current]
        # The hold filters flicker between refreshes seconds apart. The first refresh, or one
        # after a gap longer than the hold (a run reattached, a laptop woken up), has nothing
        # to filter: the numbers had the whole gap to settle.
        stale = seen is None or (now - seen).total_seconds() >= rules.hold_worse_s
        if (at_once or (not worse and not shown_fits)
                or (worse and (stale or rules.hold_worse_s <= 0))):
            return self._switch(raw, now)
        if self._since is None or self._candidate is None or \
                (RANK[self._candidate] > RANK[self.current]) != worse:
            self._since, self._candidate = now, raw
        elif worse or RANK[raw] > RANK[self._candidate]:
            self._candidate = raw  # worse: the level called for now; better: the worst seen
        if worse:
            hold = rules.hold_worse_s
            if left_s is not None:
                hold = min(hold, max(0.0, rules.urgent_share * left_s))
        else:
            hold = rules.hold_better_s
        if self._changed is not None and self._changed[1] != worse:
            # back the other way: not within dwell_s of the last change (sooner if time is short)
            dwell = rules.dwell_s
            if worse and left_s is not None:
                dwell = min(dwell, max(0.0, rules.urgent_share * left_s))
            if (now - self._changed[0]).total_seconds() < dwell:
                return None
        if (now - self._since).total_seconds() >= hold:
            return self._switch(self._candidate, now)
        return None

    def acknowledge(self, raw: Level) -> Level | None:
        """The operator acted (triggered a contingency, aborted): show the level for the new
        situation on this refresh, in either direction. The new level, or None if unchanged."""
        if self.current == Level.resumed:
            return None
        self._since = self._candidate = None
        return None if raw == self.current else self._switch(raw, None)

    def follow(self, level: Level | str) -> None:
        """Another process recorded ``level``: show it, and hold nothing of ours."""
        self.current = Level(level)
        self._since = self._candidate = None

    def _switch(self, level: Level, now: datetime | None) -> Level:
        worse = level != Level.resumed and RANK.get(level, 9) > RANK.get(self.current, 9)
        self._changed = None if now is None else (now, worse)
        self.current = level
        self._since = self._candidate = None
        return level


# -- words ----------------------------------------------------------------------------------------

def pct(p: float) -> str:
    """A probability as a whole percentage, rounded down: 79.6% is shown as 79%, never 80%."""
    if 0 < p < 0.01:
        return "<1%"
    return f"{math.floor(p * 100 + 1e-9)}%"


def _name(contingency: str) -> str:
    return contingency[:1].upper() + contingency[1:]


def report_obligation(plan: Plan, resumed_at: datetime | None, now: datetime) -> Obligation:
    """What the runbook's reporting rule asks if the outage ends at ``resumed_at`` (or ``now``
    while service is down): :mod:`runbook.engine.reporting`."""
    return obligation(plan.policy, plan.announced, resumed_at or now, plan.timezone)


def outage_due(plan: Plan, resumed_at: datetime | None, now: datetime) -> datetime | None:
    """When a supervisor report falls due (the rule's first deadline), if the overrun is
    reportable."""
    return report_obligation(plan, resumed_at, now).due


def deadlines_text(ob: Obligation, tz: str) -> str:
    """``initial notification by 2026-11-25 06:10, ...`` for a named rule's deadlines."""
    return ", ".join(_("{name} by {time}").format(name=_(d.name), time=_day_time(d.due, tz))
                     for d in ob.deadlines)


def still_beats(fc: Forecast, now: datetime) -> Option | None:
    """The contingency whose deadline has passed but which, triggered now, still beats the main
    path: more likely on time, or an earlier expected resume. None when there is none."""
    if fc.path != MAIN or fc.resumed:
        return None
    best = None
    for o in fc.options:
        if now <= o.deadline:
            return None  # one still makes it at the confidence: the deadline rules apply
        resume = now + timedelta(seconds=o.need_p50_s)
        better = (o.p_on_time_if_triggered > fc.p_on_time + 0.05
                  or resume < fc.p50 - timedelta(minutes=1))
        if better and (best is None or o.p_on_time_if_triggered > best.p_on_time_if_triggered):
            best = o
    return best


def new_resume_time(plan: Plan, fc: Forecast, now: datetime) -> str:
    """The time to announce instead: the confidence quantile, rounded up (Forecast.recommended)."""
    return when(fc.recommended, plan.timezone, now)


def do_now(level: Level | str, plan: Plan, state: RunState, fc: Forecast | None,
           now: datetime, *, trigger_key: str | None = None, deadline: bool = True) -> str:
    """The one line that tells staff what to do now, for ``level`` and these numbers.

    The TUI's do-now line and the action at the end of every alert message: one wording. The
    screen passes ``trigger_key`` (the key that triggers a contingency) to name it; alerts
    that leave the screen (hooks, reports) do not. ``deadline=False`` leaves the decision
    deadline out (an alert message has just said it). In the current language.
    """
    press = _(" (press {key})").format(key=trigger_key) if trigger_key else ""
    level = Level(level)
    if fc is None or level == Level.resumed:
        return action(level)
    tz = plan.timezone
    beats = still_beats(fc, now)
    if beats is not None and level != Level.on_track:
        if beats.p_on_time_if_triggered > fc.p_on_time + 0.05:
            gain = _("{p_then} on time against {p_now}").format(
                p_then=pct(beats.p_on_time_if_triggered), p_now=pct(fc.p_on_time))
        else:
            gain = _("back about {then} against {now}").format(
                then=when(now + timedelta(seconds=beats.need_p50_s), tz, now),
                now=when(fc.p50, tz, now))
        args = dict(contingency=beats.contingency, press=press, gain=gain,
                    deadline=when(beats.deadline, tz, now))
        if level == Level.late:
            return _("Trigger {contingency}{press} now to resume earlier: {gain} (its deadline "
                     "{deadline} passed), or announce a new resume time: {resume}.").format(
                resume=new_resume_time(plan, fc, now), **args)
        return _("Trigger {contingency}{press} now to resume earlier: {gain} (its deadline "
                 "{deadline} passed), or accept the overrun and brief customer service."
                 ).format(**args)
    c = fc.contingency
    open_deadline = c is not None and fc.decision_deadline is not None and \
        now <= fc.decision_deadline
    if level == Level.on_track:
        return _("Carry on.")
    if level == Level.at_risk:
        if open_deadline:
            if deadline:
                return _("Prepare {contingency} (decide by {deadline}) and brief customer "
                         "service.").format(contingency=c,
                                            deadline=when(fc.decision_deadline, tz, now))
            return _("Prepare {contingency} and brief customer service.").format(contingency=c)
        if state.path != MAIN:
            return _("Carry on with {contingency}; brief customer service.").format(
                contingency=state.path)
        return _("Brief customer service and prepare a new resume time.")
    if level == Level.decide_now:
        if open_deadline and deadline:
            left = format_until((fc.decision_deadline - now).total_seconds())
            return _("Trigger {contingency}{press} by {deadline} (in {left}) or accept the "
                     "overrun.").format(contingency=c, press=press, left=left,
                                        deadline=when(fc.decision_deadline, tz, now))
        if open_deadline:
            return _("Trigger {contingency}{press} or accept the overrun.").format(
                contingency=c, press=press)
        return _("Trigger the contingency{press} or accept the overrun.").format(press=press)
    return _("Announce a new resume time: {resume}.").format(
        resume=new_resume_time(plan, fc, now))


def message(level: Level, plan: Plan, state: RunState, fc: Forecast, now: datetime) -> str:
    """One alert line: the numbers and the action (the action is :func:`do_now`'s), in the
    current language (:func:`messages` for every language at once)."""
    tz = plan.timezone
    announced = when(plan.announced, tz, now)
    numbers = _("{p} on time, P90 {p90}").format(p=pct(fc.p_on_time), p90=when(fc.p90, tz, now))
    if level == Level.resumed:
        t = fc.resumed_at or now
        delta = (t - plan.announced).total_seconds()
        if delta > 0:
            text = _("Service resumed at {time} ({late} past the announced {announced}). Finish "
                     "the remaining checks.")
        else:
            text = _("Service resumed at {time} ({early} before the announced {announced}). "
                     "Finish the remaining checks.")
        text = text.format(time=when(t, tz, now), late=duration_text(delta),
                           early=duration_text(-delta), announced=announced)
        ob = report_obligation(plan, t, now)
        if ob.due is not None and not ob.named:
            text += " " + _("Outage report to the supervisor required by {due}.").format(
                due=_day_time(ob.due, tz))
        elif ob.due is not None:
            text += " " + _("Outage report required under {rule}: {deadlines}.").format(
                rule=ob.rule, deadlines=deadlines_text(ob, tz))
        return text
    hard = ""
    if fc.p_hard_deadline is not None and fc.p_hard_deadline < plan.policy.confidence:
        hard = " " + _("Hard deadline {deadline} at risk: {p} by then.").format(
            deadline=when(plan.hard_deadline, tz, now), p=pct(fc.p_hard_deadline))
    said = fc.decision_deadline is not None and now <= fc.decision_deadline
    act = do_now(level, plan, state, fc, now, deadline=not said)
    if level == Level.on_track:
        return _("On track for {announced}: {numbers}.").format(
            announced=announced, numbers=numbers) + " " + act + hard
    contingency = ""
    if still_beats(fc, now) is not None:
        contingency = ""  # the action says what the contingency still offers
    elif fc.decision_deadline is not None and fc.contingency is not None:
        name, need = _name(fc.contingency), format_minutes(fc.contingency_need_s or 0, up=True)
        if now <= fc.decision_deadline:
            left = format_until((fc.decision_deadline - now).total_seconds())
            contingency = " " + _("{name} needs {need}: decide by {deadline} (in {left}).").format(
                name=name, need=need, deadline=when(fc.decision_deadline, tz, now), left=left)
        else:
            contingency = " " + _(
                "{name} needs {need}: too late to make {announced} with it at {confidence} "
                "(deadline {deadline} passed).").format(
                name=name, need=need, announced=announced,
                confidence=pct(plan.policy.confidence),
                deadline=when(fc.decision_deadline, tz, now))
    elif state.path != MAIN:
        contingency = " " + _("Contingency {contingency} is running.").format(
            contingency=state.path)
    else:
        contingency = " " + _("No contingency path.")
    if level == Level.at_risk:
        return _("Resume {announced} at risk: {numbers}.").format(
            announced=announced, numbers=numbers) + contingency + " " + act + hard
    if level == Level.decide_now:
        return _("Decide now: resume {announced} has {numbers}.").format(
            announced=announced, numbers=numbers) + contingency + " " + act + hard
    text = _("Resume {announced} will be missed: {numbers}.").format(
        announced=announced, numbers=numbers) + contingency
    if now > plan.announced:
        over = format_until((now - plan.announced).total_seconds())
        text = _("Resume {announced} missed by {over}, service still down: {numbers}.").format(
            announced=announced, over=over, numbers=numbers) + contingency
    text += " " + act
    ob = report_obligation(plan, None, fc.recommended)
    if ob.due is not None:
        text += " " + (_("A {rule} report will be due by {due}.") if ob.named else
                       _("An outage report will be due by {due}.")).format(
            rule=ob.rule, due=_day_time(ob.due, tz))
    return text + hard


def messages(level: Level, plan: Plan, state: RunState, fc: Forecast, now: datetime
             ) -> dict[str, str]:
    """:func:`message` in every language runbook has, from the same numbers: recorded with the
    alert, so a report in any language shows the message the numbers made at that moment."""
    out = {}
    for lang in LANGUAGES:
        with using(lang):
            out[lang] = message(level, plan, state, fc, now)
    return out


def _day_time(t: datetime, tz: str) -> str:
    return local(t, tz).strftime("%Y-%m-%d %H:%M")
