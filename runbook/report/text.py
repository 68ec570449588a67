"""Wording shared by the md and html exporters: one place for how figures are said."""

from __future__ import annotations

from datetime import datetime

from runbook.engine.risk import WORDS, pct
from runbook.format.durations import format_duration
from runbook.format.times import local
from runbook.report.model import ABORTED, IN_PROGRESS, Report

STATUS_WORDS = {IN_PROGRESS: "IN PROGRESS", "finished": "FINISHED", ABORTED: "ABORTED"}


def level_word(level: str) -> str:
    for key, word in WORDS.items():
        if str(key) == level:
            return word
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
        text += f" (moved by --start from the planned {day_time(sm.planned_window_start, tz)})"
    return text


def dur(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(seconds)


def signed(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if round(seconds) == 0:
        return "0s"
    return ("+" if seconds > 0 else "-") + format_duration(abs(seconds))


def resume_line(r: Report) -> str:
    """'01:30, 1h late' / '00:47, 28m early' / 'not yet (service still down)'."""
    sm = r.summary
    if sm.resumed_at is None:
        if r.in_progress:
            return "not yet: service still down"
        return "not recorded: the run ended without the resuming step"
    delta = sm.resume_delta_s or 0.0
    if round(delta) == 0:
        return f"{r.clock(sm.resumed_at)}, exactly on time"
    word = "late" if delta > 0 else "early"
    return f"{r.clock(sm.resumed_at)}, {format_duration(abs(delta))} {word}"


def outage_line(r: Report) -> str:
    """Whether the overrun must be reported, under which rule, and by when (every deadline)."""
    sm, tz, ob = r.summary, r.tz, r.summary.obligation
    if ob is None or not ob.named:
        return _policy_outage_line(r)
    over = format_duration(sm.overrun_s)
    basis = f"; {ob.basis}" if ob.basis else ""
    if sm.outage_report_required:
        dates = "; ".join(f"{d.name} by {day_time(d.due, tz)} ({offset(d.due, tz)}): {d.how}"
                          for d in ob.deadlines)
        return (f"REQUIRED under {ob.rule} ({ob.title}): the overrun ({over}) is {ob.threshold_text}"
                f"{basis}. {dates}.")
    so_far = " so far" if r.in_progress and sm.resumed_at is None else ""
    return f"not required{so_far} under {ob.rule} (overrun {over}; reportable: {ob.threshold_text}{basis})"


def rule_line(r: Report) -> str:
    """``kr-fss: Korea FSS electronic financial incident report (2025 revision); source: ...``."""
    ob = r.summary.obligation
    if ob is None or not ob.named:
        return "the runbook's policy (outage_report_after / report_due_within)"
    return f"{ob.rule}: {ob.title} (source: {ob.source}; see docs/reporting.md)"


def notice_rows(r: Report) -> list[tuple[str, str, str, str, str, str]]:
    """(time, who, level, language, how, exact text) for every customer notice given."""
    return [(r.clock(n.at), n.actor, level_word(n.level), n.lang,
             "sent by the alert hooks" if n.via == "hooks" else "copied by the operator", n.text)
            for n in r.notices]


def _policy_outage_line(r: Report) -> str:
    sm, tz = r.summary, r.tz
    threshold = format_duration(sm.outage_report_after_s)
    if sm.outage_report_required:
        verb = "is" if sm.resumed_at is not None or not r.in_progress else "is already"
        return (f"REQUIRED: the overrun ({format_duration(sm.overrun_s)}) {verb} more than "
                f"{threshold} past the announced resume. Report to the supervisor by "
                f"{day_time(sm.report_due_by, tz)} ({offset(sm.report_due_by, tz)}).")
    if r.in_progress and sm.resumed_at is None:
        return (f"not required so far (overrun {format_duration(sm.overrun_s)}; the threshold is "
                f"{threshold} past the announced resume)")
    return (f"not required (overrun {format_duration(sm.overrun_s)}, threshold {threshold} past "
            "the announced resume)")


def contingency_line(r: Report) -> str:
    c = r.summary.contingency
    if c is None:
        untaken = r.untaken()
        if untaken:
            return "not triggered (" + ", ".join(untaken) + " available)"
        return "none in this runbook"
    by = f" by {c.triggered_by}" if c.triggered_by else ""
    return f"{c.id} ({c.title}) triggered at {r.clock(c.triggered_at)}{by}"


def warning_line(r: Report) -> str:
    sm = r.summary
    fw = sm.first_warning
    if fw is None:
        return "none: the tool raised no warning"
    return f"{r.clock(fw.at)} {level_word(fw.level)}: {fw.message}"


def below_line(r: Report) -> str:
    sm, h = r.summary, r.history
    if sm.first_below_confidence_at is None:
        return f"never below {pct(sm.confidence)} before service resumed" if h.points else "-"
    return f"{r.clock(sm.first_below_confidence_at)} (replayed to the minute)"


def plan_line(r: Report) -> str:
    sm = r.summary
    if sm.planned_likely_resume is None:
        return "-"
    gap = (sm.planned_likely_resume - sm.announced_resume).total_seconds()
    text = f"{r.clock(sm.planned_likely_resume)} if every step took its likely time"
    if gap > 0:
        text += f": {format_duration(gap)} after the announced resume"
    return text


def history_note(r: Report) -> str:
    h = r.history
    if not h.points:
        return "no forecast history (the run has no events yet)"
    how = (f"the run's own {h.samples:,} samples (seed {h.seed}): the numbers the tool showed"
           if h.exact else
           f"{h.samples:,} samples (the run used {h.run_samples:,}; fewer for a plan this big, "
           "so within a few points of what the tool showed)")
    return f"replayed every {format_duration(h.interval_s)} with {how}"


def in_progress_line(r: Report) -> str:
    return (f"RUN IN PROGRESS: figures as of {day_time(r.as_of, r.tz)} "
            f"({offset(r.as_of, r.tz)}); they are not final.")
