"""Plain-text output for the command line (no Textual): the plan review a planner reads in 20 s."""

from __future__ import annotations

from runbook.engine.reporting import in_force
from runbook.engine.risk import pct
from runbook.forecast.review import ERROR, INFO, WARNING, Review
from runbook.format.comms import NOTICE_LEVELS, Comms
from runbook.format.durations import format_duration
from runbook.format.safe import terminal
from runbook.format.shift import describe_shift
from runbook.format.times import local, when


def review_text(rv: Review, verbose: bool = False) -> str:
    plan, fc, tz = rv.loaded.plan, rv.forecast, rv.loaded.plan.timezone
    conf = plan.policy.confidence
    start = local(plan.start, tz)
    window = format_duration((plan.announced - plan.start).total_seconds())
    lines = [f"{plan.id} - {plan.title}", ""]
    hard = f", hard deadline {when(plan.hard_deadline, tz, plan.start)}" if plan.hard_deadline else ""
    lines.append(f"  Window     {start.strftime('%Y-%m-%d %H:%M')} -> announced resume "
                 f"{when(plan.announced, tz, plan.start)} ({window}, {tz}){hard}")
    moved = describe_shift(rv.loaded)
    if moved:
        lines.append(f"  Moved      {moved}")
    lines.append(f"  Forecast   P50 {when(fc.p50, tz, plan.start)}   P80 {when(fc.p80, tz, plan.start)}   "
                 f"P90 {when(fc.p90, tz, plan.start)}   (mean {format_duration(rv.criticality.mean_s)} of work)")
    verdict = "OK" if fc.p_on_time >= conf else "TOO SHORT"
    lines.append(f"  On time    {pct(fc.p_on_time)} chance of resuming by {when(plan.announced, tz, plan.start)}"
                 f"  [{verdict}: policy wants {pct(conf)}]")
    lines.append(f"  Announce   {when(fc.recommended, tz, plan.start)} or later ({pct(conf)} confidence)")
    crit = rv.criticality
    path = " > ".join(crit.path)
    lines.append(f"  Critical   {path}")
    for c in rv.contingencies:
        fit = "fits" if c.fits else "does NOT fit"
        lines.append(f"  Fallback   {c.id}: needs {format_duration(c.need_s)} ({pct(conf)}), "
                     f"{fit} the window")
    if fc.decision_deadline is not None and fc.decision_deadline >= plan.start:
        lines.append(f"  Decide by  {when(fc.decision_deadline, tz, plan.start)} at the latest to switch to "
                     f"{fc.contingency} and still make {when(plan.announced, tz, plan.start)}")
    elif fc.decision_deadline is not None:
        lines.append(f"  Decide by  never: even started at {when(plan.start, tz, plan.start)}, {fc.contingency} "
                     f"would not make {when(plan.announced, tz, plan.start)}")
    lines.append(f"  Reporting  {in_force(plan.policy)}")
    if plan.runbook.comms is not None:
        lines.append(f"  Notices    {notices_in(plan.runbook.comms)}")
    if rv.history:
        lines.append(f"  History    {rv.history}")
    lines.append(f"  Samples    {rv.samples:,} (seed {rv.seed})")
    lines.append("")
    shown = [f for f in rv.findings if verbose or f.severity != INFO]
    if shown:
        lines.append("Findings")
        for f in shown:
            where = f"line {f.line}" if f.line else ""
            lines.append(f"  {f.severity:<8} {f.code:<22} {where:<9} {f.message}")
    infos = sum(f.severity == INFO for f in rv.findings)
    summary = f"{_count(rv.errors, 'error')}, {_count(rv.warnings, 'warning')}, {_count(infos, 'note')}"
    if infos and not verbose:
        summary += " (--verbose shows the notes)"
    lines.append(summary)
    return terminal("\n".join(lines))


def notices_in(comms: Comms) -> str:
    """``at_risk, late, resumed in ko, en``: the levels with a customer notice, and languages."""
    levels = [name for name in NOTICE_LEVELS if comms.for_level(name)]
    langs = list(dict.fromkeys(lang for name in levels for lang in comms.for_level(name) or {}))
    return f"{', '.join(levels)} in {', '.join(langs)} (filled at each level change; t copies)"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


__all__ = ["review_text", "ERROR", "WARNING", "INFO"]
