"""Plain-text output for the command line (no Textual): the plan review a planner reads in 20 s.

In the current language; the labels and the findings table are aligned in terminal cells (a
Korean label takes two per character). Finding codes stay English: they are stable ids."""

from __future__ import annotations

from runbook.engine.reporting import in_force
from runbook.engine.risk import pct
from runbook.forecast.review import ERROR, INFO, WARNING, Review
from runbook.format.cells import ljust
from runbook.format.cells import width as cell_width
from runbook.format.comms import NOTICE_LEVELS, Comms
from runbook.format.durations import duration_text
from runbook.format.safe import terminal
from runbook.format.shift import describe_shift
from runbook.format.times import local, when
from runbook.i18n import N_, _, ngettext

SEVERITY = {ERROR: N_("error"), WARNING: N_("warning"), INFO: N_("info")}


def review_text(rv: Review, verbose: bool = False) -> str:
    plan, fc, tz = rv.loaded.plan, rv.forecast, rv.loaded.plan.timezone
    conf = plan.policy.confidence
    start = local(plan.start, tz)
    window = duration_text((plan.announced - plan.start).total_seconds())

    def t(instant) -> str:
        return when(instant, tz, plan.start)

    rows: list[tuple[str, str]] = []
    hard = _(", hard deadline {deadline}").format(deadline=t(plan.hard_deadline)) \
        if plan.hard_deadline else ""
    rows.append((_("Window"), _("{start} -> announced resume {announced} ({length}, {zone})"
                                "{hard}").format(start=start.strftime("%Y-%m-%d %H:%M"),
                                                 announced=t(plan.announced), length=window,
                                                 zone=tz, hard=hard)))
    moved = describe_shift(rv.loaded)
    if moved:
        rows.append((_("Moved"), moved))
    rows.append((_("Forecast"), _("P50 {p50}   P80 {p80}   P90 {p90}   (mean {mean} of work)").format(
        p50=t(fc.p50), p80=t(fc.p80), p90=t(fc.p90), mean=duration_text(rv.criticality.mean_s))))
    text = (_("{p} chance of resuming by {announced}  [OK: policy wants {confidence}]")
            if fc.p_on_time >= conf else
            _("{p} chance of resuming by {announced}  [TOO SHORT: policy wants {confidence}]"))
    rows.append((_("On time"), text.format(p=pct(fc.p_on_time), announced=t(plan.announced),
                                           confidence=pct(conf))))
    rows.append((_("Announce"), _("{time} or later ({confidence} confidence)").format(
        time=t(fc.recommended), confidence=pct(conf))))
    crit = rv.criticality
    rows.append((_("Critical"), " > ".join(crit.path)))
    for c in rv.contingencies:
        text = (_("{contingency}: needs {need} ({confidence}), fits the window") if c.fits else
                _("{contingency}: needs {need} ({confidence}), does NOT fit the window"))
        rows.append((_("Fallback"), text.format(contingency=c.id, need=duration_text(c.need_s),
                                                confidence=pct(conf))))
    if fc.decision_deadline is not None and fc.decision_deadline >= plan.start:
        rows.append((_("Decide by"), _("{deadline} at the latest to switch to {contingency} and "
                                       "still make {announced}").format(
            deadline=t(fc.decision_deadline), contingency=fc.contingency,
            announced=t(plan.announced))))
    elif fc.decision_deadline is not None:
        rows.append((_("Decide by"), _("never: even started at {start}, {contingency} would not "
                                       "make {announced}").format(
            start=t(plan.start), contingency=fc.contingency, announced=t(plan.announced))))
    rows.append((_("Reporting"), in_force(plan.policy)))
    if plan.runbook.comms is not None:
        rows.append((_("Notices"), notices_in(plan.runbook.comms)))
    if rv.history:
        rows.append((_("History"), rv.history))
    rows.append((_("Samples"), _("{samples} (seed {seed})").format(samples=f"{rv.samples:,}",
                                                                   seed=rv.seed)))
    label = max(10, *(cell_width(k) for k, _v in rows)) + 1
    lines = [f"{plan.id} - {plan.title}", ""]
    lines += [f"  {ljust(k, label)}{v}" for k, v in rows]
    lines.append("")
    shown = [f for f in rv.findings if verbose or f.severity != INFO]
    if shown:
        lines.append(_("Findings"))
        words = {k: _(v) for k, v in SEVERITY.items()}
        sev = max(8, *(cell_width(words.get(f.severity, f.severity)) for f in shown))
        for f in shown:
            where = _("line {n}").format(n=f.line) if f.line else ""
            lines.append(f"  {ljust(words.get(f.severity, f.severity), sev)} {f.code:<22} "
                         f"{ljust(where, 9)} {f.message}")
    infos = sum(f.severity == INFO for f in rv.findings)
    summary = ", ".join([
        ngettext("{n} error", "{n} errors", rv.errors).format(n=rv.errors),
        ngettext("{n} warning", "{n} warnings", rv.warnings).format(n=rv.warnings),
        ngettext("{n} note", "{n} notes", infos).format(n=infos)])
    if infos and not verbose:
        summary += _(" (--verbose shows the notes)")
    lines.append(summary)
    return terminal("\n".join(lines))


def notices_in(comms: Comms) -> str:
    """``at_risk, late, resumed in ko, en``: the levels with a customer notice, and languages."""
    levels = [name for name in NOTICE_LEVELS if comms.for_level(name)]
    langs = list(dict.fromkeys(lang for name in levels for lang in comms.for_level(name) or {}))
    return _("{levels} in {languages} (filled at each level change; t copies)").format(
        levels=", ".join(levels), languages=", ".join(langs))


__all__ = ["review_text", "ERROR", "WARNING", "INFO"]
