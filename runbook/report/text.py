"""Wording shared by the md, html and xlsx exporters: one place for how figures are said, in
the current language (``runbook --lang ko report``)."""

from __future__ import annotations

from datetime import datetime

from runbook.engine.risk import WORDS, pct, word
from runbook.format.durations import duration_text
from runbook.format.times import local
from runbook.i18n import N_, _
from runbook.report.model import ABORTED, IN_PROGRESS, Report

STATUS_WORDS = {IN_PROGRESS: N_("IN PROGRESS"), "finished": N_("FINISHED"),
                ABORTED: N_("ABORTED")}
STEP_STATUS = {"pending": N_("pending"), "ready": N_("ready"), "running": N_("running"),
               "completed": N_("completed"), "failed": N_("failed"), "skipped": N_("skipped"),
               "abandoned": N_("abandoned")}
LABELS = {"live": N_("live"), "rehearsal": N_("rehearsal"), "history": N_("history")}


def status_word(status: str) -> str:
    """The run's status as the report's badge says it: ``FINISHED``, ``종료``."""
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def step_status(status: str) -> str:
    """A step's status (a code in JSON and CSV) as the report says it."""
    return _(STEP_STATUS[status]) if status in STEP_STATUS else status


def label(value: str) -> str:
    """The run's label (live, rehearsal) as the report says it."""
    return _(LABELS[value]) if value in LABELS else value


def level_word(level: str) -> str:
    for key in WORDS:
        if str(key) == level:
            return word(key)
    return level.upper().replace("_", " ")


def day_time(t: datetime | None, tz: str) -> str:
    if t is None:
        return "-"
    return local(t, tz).strftime("%Y-%m-%d %H:%M")


def offset(t: datetime, tz: str) -> str:
    """The UTC offset in force at ``t``, like +09:00."""
    raw = local(t, tz).strftime("%z")
    return f"{raw[:3]}:{raw[3:]}"


def window_start_line(r: Report) -> str:
    """'2026-11-29 14:03' or, when --start moved the window, where it was planned."""
    sm, tz = r.summary, r.tz
    text = day_time(sm.window_start, tz)
    if sm.planned_window_start is not None:
        text += _(" (moved by --start from the planned {planned})").format(
            planned=day_time(sm.planned_window_start, tz))
    return text


def dur(seconds: float | None) -> str:
    return "-" if seconds is None else duration_text(seconds)


def signed(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if round(seconds) == 0:
        return duration_text(0)
    return ("+" if seconds > 0 else "-") + duration_text(abs(seconds))


def resume_line(r: Report) -> str:
    """'01:30, 1h late' / '00:47, 28m early' / 'not yet (service still down)'."""
    sm = r.summary
    if sm.resumed_at is None:
        if r.in_progress:
            return _("not yet: service still down")
        return _("not recorded: the run ended without the resuming step")
    delta = sm.resume_delta_s or 0.0
    if round(delta) == 0:
        return _("{time}, exactly on time").format(time=r.clock(sm.resumed_at))
    text = _("{time}, {delta} late") if delta > 0 else _("{time}, {delta} early")
    return text.format(time=r.clock(sm.resumed_at), delta=duration_text(abs(delta)))


def resume_delta(r: Report) -> str:
    """What :func:`resume_line` says after the time: ``1h late``, ``exactly on time``."""
    sm = r.summary
    delta = sm.resume_delta_s or 0.0
    if round(delta) == 0:
        return _("exactly on time")
    return (_("{delta} late") if delta > 0 else _("{delta} early")).format(
        delta=duration_text(abs(delta)))


def outage_line(r: Report) -> str:
    """Whether the overrun must be reported, under which rule, and by when (every deadline)."""
    sm, tz, ob = r.summary, r.tz, r.summary.obligation
    if ob is None or not ob.named:
        return _policy_outage_line(r)
    over = duration_text(sm.overrun_s)
    basis = f"; {ob.basis}" if ob.basis else ""
    if sm.outage_report_required:
        dates = "; ".join(_("{name} by {time} ({offset}): {how}").format(
            name=_(d.name), time=day_time(d.due, tz), offset=offset(d.due, tz), how=d.how)
            for d in ob.deadlines)
        return _("REQUIRED under {rule} ({title}): the overrun ({overrun}) is {threshold}{basis}. "
                 "{dates}.").format(rule=ob.rule, title=ob.title, overrun=over,
                                    threshold=ob.threshold_text, basis=basis, dates=dates)
    text = (_("not required so far under {rule} (overrun {overrun}; reportable: "
              "{threshold}{basis})") if r.in_progress and sm.resumed_at is None else
            _("not required under {rule} (overrun {overrun}; reportable: {threshold}{basis})"))
    return text.format(rule=ob.rule, overrun=over, threshold=ob.threshold_text, basis=basis)


def rule_line(r: Report) -> str:
    """``kr-fss: Korea FSS electronic financial incident report (2025 revision); source: ...``."""
    ob = r.summary.obligation
    if ob is None or not ob.named:
        return _("the runbook's policy (outage_report_after / report_due_within)")
    return _("{rule}: {title} (source: {source}; see docs/reporting.md)").format(
        rule=ob.rule, title=ob.title, source=ob.source)


def notice_rows(r: Report) -> list[tuple[str, str, str, str, str, str]]:
    """(time, who, level, language, how, exact text) for every customer notice given."""
    return [(r.clock(n.at), n.actor, level_word(n.level), n.lang,
             _("sent by the alert hooks") if n.via == "hooks" else _("copied by the operator"),
             n.text)
            for n in r.notices]


def _policy_outage_line(r: Report) -> str:
    sm, tz = r.summary, r.tz
    threshold = duration_text(sm.outage_report_after_s)
    if sm.outage_report_required:
        text = (_("REQUIRED: the overrun ({overrun}) is more than {threshold} past the announced "
                  "resume. Report to the supervisor by {due} ({offset}).")
                if sm.resumed_at is not None or not r.in_progress else
                _("REQUIRED: the overrun ({overrun}) is already more than {threshold} past the "
                  "announced resume. Report to the supervisor by {due} ({offset})."))
        return text.format(overrun=duration_text(sm.overrun_s), threshold=threshold,
                           due=day_time(sm.report_due_by, tz), offset=offset(sm.report_due_by, tz))
    if r.in_progress and sm.resumed_at is None:
        return _("not required so far (overrun {overrun}; the threshold is {threshold} past the "
                 "announced resume)").format(overrun=duration_text(sm.overrun_s),
                                             threshold=threshold)
    return _("not required (overrun {overrun}, threshold {threshold} past the announced resume)"
             ).format(overrun=duration_text(sm.overrun_s), threshold=threshold)


def contingency_line(r: Report) -> str:
    c = r.summary.contingency
    if c is None:
        untaken = r.untaken()
        if untaken:
            return _("not triggered ({names} available)").format(names=", ".join(untaken))
        return _("none in this runbook")
    by = _(" by {who}").format(who=c.triggered_by) if c.triggered_by else ""
    return _("{contingency} ({title}) triggered at {time}{by}").format(
        contingency=c.id, title=c.title, time=r.clock(c.triggered_at), by=by)


def warning_line(r: Report) -> str:
    sm = r.summary
    fw = sm.first_warning
    if fw is None:
        return _("none: the tool raised no warning")
    return f"{r.clock(fw.at)} {level_word(fw.level)}: {fw.text}"


def below_line(r: Report) -> str:
    sm, h = r.summary, r.history
    if sm.first_below_confidence_at is None:
        if not h.points:
            return "-"
        return _("never below {confidence} before service resumed").format(
            confidence=pct(sm.confidence))
    return _("{time} (replayed to the minute)").format(time=r.clock(sm.first_below_confidence_at))


def plan_line(r: Report) -> str:
    sm = r.summary
    if sm.planned_likely_resume is None:
        return "-"
    gap = (sm.planned_likely_resume - sm.announced_resume).total_seconds()
    if gap > 0:
        return _("{time} if every step took its likely time: {gap} after the announced resume"
                 ).format(time=r.clock(sm.planned_likely_resume), gap=duration_text(gap))
    return _("{time} if every step took its likely time").format(
        time=r.clock(sm.planned_likely_resume))


def history_note(r: Report) -> str:
    h = r.history
    if not h.points:
        return _("no forecast history (the run has no events yet)")
    how = (_("the run's own {samples} samples (seed {seed}): the numbers the tool showed")
           if h.exact else
           _("{samples} samples (the run used {run_samples}; fewer for a plan this big, so "
             "within a few points of what the tool showed)")).format(
        samples=f"{h.samples:,}", seed=h.seed, run_samples=f"{h.run_samples:,}")
    return _("replayed every {interval} with {how}").format(interval=duration_text(h.interval_s),
                                                             how=how)


def in_progress_line(r: Report) -> str:
    return _("RUN IN PROGRESS: figures as of {time} ({offset}); they are not final.").format(
        time=day_time(r.as_of, r.tz), offset=offset(r.as_of, r.tz))
