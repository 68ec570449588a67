"""``runbook report --format md``: a timing log to paste into a change ticket.

Text from the runbook and from operators is escaped so that it shows as typed: Markdown
punctuation and ``<``/``>`` get a backslash (no raw HTML reaches a renderer), ``|`` cannot break
a table and newlines inside a table cell become ``<br>``.
"""

from __future__ import annotations

import re

from runbook.engine.risk import pct
from runbook.format.plan import MAIN
from runbook.format.safe import terminal
from runbook.i18n import _
from runbook.report import text as t
from runbook.report.model import Report, StepRow

_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ANY = re.compile(r"[\\`*\[\]<>|~_&]")  # what the three above can change
MAX_HISTORY_ROWS = 16


def esc(text: str | None) -> str:
    """Inline Markdown: shows exactly ``text`` (one line)."""
    if not text:
        return ""
    out = str(text)
    if _ANY.search(out) is not None:  # most text has nothing to escape: one scan, no rewrites
        out = _SPECIAL.sub(r"\\\1", out)
        out = _UNDERSCORE.sub(r"\\_", out)
        out = _ENTITY.sub(r"\\&", out)
    out = " ".join(out.split())
    return "\\" + out if out.startswith(("#", "+", "-", "=")) else out


def cell(text: str | None) -> str:
    """A table cell: escaped, line breaks kept as <br>."""
    if not text:
        return ""
    return "<br>".join(esc(line) for line in str(text).splitlines() if line.strip())


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    marks = [("---:" if a == "r" else "---") for a in align.ljust(len(header), "l")]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(marks) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _step_row(n: int, s: StepRow, r: Report, paths: bool) -> list[str]:
    plan = f"{t.dur(s.planned_optimistic_s)} / {t.dur(s.planned_likely_s)} / " \
           f"{t.dur(s.planned_pessimistic_s)}"
    actual = t.dur(s.actual_s)
    if s.elapsed_s is not None:
        actual = _("{taken} so far").format(taken=t.dur(s.elapsed_s))
    status = t.step_status(s.status) + (_(" ({n} failed)").format(n=s.failures) if s.failures
                                        else "")
    if s.over_pessimistic:
        status += _(", over pessimistic")
    row = [str(n), f"`{s.id}` {cell(s.title)}"]
    if paths:
        row.append(s.path)
    row += [status, r.clock(s.started_at) if s.started_at else "",
            r.clock(s.finished_at) if s.finished_at else "", actual, plan,
            t.signed(s.variance_s), esc(s.owner), esc(", ".join(s.operators))]
    return row


def _history_rows(r: Report) -> list[list[str]]:
    pts = r.history.points
    if not pts:
        return []
    keep = {0, len(pts) - 1}
    stride = max(1, len(pts) // (MAX_HISTORY_ROWS - 2))
    keep.update(range(0, len(pts), stride))
    for i in range(1, len(pts)):  # every change of level, and the first dip below confidence
        if pts[i].level != pts[i - 1].level or pts[i].at == r.summary.first_below_confidence_at:
            keep.add(i)
    return [[r.clock(p.at), pct(p.p_on_time), r.clock(p.p50), r.clock(p.p90),
             t.level_word(p.level)] for i, p in enumerate(pts) if i in sorted(keep)]


def render_md(r: Report) -> str:
    sm, tz, info, plan = r.summary, r.tz, r.info, r.plan
    out = [_("# Timing log: {title}").format(title=esc(plan.title)), ""]
    out.append(_("Runbook `{runbook}` · run `{run}` · {label} · **{status}** · times in {zone} "
                 "(UTC{offset})").format(runbook=plan.id, run=info.id, label=t.label(info.label),
                                         status=t.status_word(sm.status), zone=tz,
                                         offset=t.offset(sm.announced_resume, tz)))
    out.append("")
    if r.in_progress:
        out += [f"> **{t.in_progress_line(r)}**", ""]
    if sm.outage_report_required:
        out += [f"> **{_('OUTAGE REPORT')} {t.outage_line(r)}**", ""]
    pending = r.in_progress and sm.resumed_at is None
    if sm.overrun_s > 0:
        overrun = (_("{overrun} ({seconds} s) so far") if pending else
                   _("{overrun} ({seconds} s)")).format(overrun=t.dur(sm.overrun_s),
                                                        seconds=int(round(sm.overrun_s)))
    else:
        overrun = _("none so far") if pending else _("none")
    rows = [
        [_("Window start"), esc(t.window_start_line(r))],
        [_("Announced resume"), t.day_time(sm.announced_resume, tz)],
        [_("Service resumed"), esc(t.resume_line(r))],
        [_("Overrun"), overrun],
        [_("Outage report"), esc(t.outage_line(r))],
        [_("Reporting rule"), esc(t.rule_line(r))],
        [_("Contingency"), esc(t.contingency_line(r))],
        [_("First warning"), esc(t.warning_line(r))],
        [esc(_("First P(on time) < {confidence}").format(confidence=pct(sm.confidence))),
         esc(t.below_line(r))],
        [_("Run started"), t.day_time(sm.started_at, tz)],
        [_("Run finished"), t.day_time(sm.finished_at, tz) if sm.finished_at else _("not yet")],
        [_("Operators"), esc(", ".join(r.operators)) or "-"],
        [_("Plan (likely)"), esc(t.plan_line(r))],
    ]
    if sm.hard_deadline is not None:
        rows.append([_("Hard deadline"), t.day_time(sm.hard_deadline, tz)])
    if sm.abort_reason:
        rows.append([_("Abort reason"), cell(sm.abort_reason)])
    out += [_("## Summary"), ""] + _table(["", ""], rows) + [""]

    out += [_("## Alerts"), ""]
    if r.alerts:
        out += _table([_("Time"), _("Level"), _("Message")],
                      [[r.clock(a.at), t.level_word(a.level), cell(a.text)] for a in r.alerts])
    else:
        out.append(_("No alerts were raised."))
    out.append("")

    notices = t.notice_rows(r)
    if notices or r.plan.runbook.comms is not None:
        out += [_("## Customer notices"), ""]
        if notices:
            out += _table([_("Time"), _("Who"), _("Level"), _("Lang"), _("How"), _("Text")],
                          [[at, esc(who), level, esc(lang), how, cell(text)]
                           for at, who, level, lang, how, text in notices])
        else:
            out.append(_("No customer notice was copied or sent from runbook."))
        out.append("")

    out += [_("## Forecast history"), "", _("P(on time) = chance of resuming by {announced}; "
                                            "{how}.").format(announced=r.clock(sm.announced_resume),
                                                             how=esc(t.history_note(r))), ""]
    hist = _history_rows(r)
    if hist:
        out += _table([_("Time"), _("P(on time)"), "P50", "P90", _("Level shown")], hist, "lrrrl")
    out.append("")

    active = r.active_steps()
    paths = any(s.path != MAIN for s in active)
    out += [_("## Steps"), "", _("Variance = actual - likely (positive: slower than planned). "
                                 "Plan = optimistic / likely / pessimistic."), ""]
    header = ["#", _("Step")] + ([_("Path")] if paths else []) + [
        _("Status"), _("Start"), _("Finish"), _("Actual"), _("Plan"), _("Variance"), _("Owner"),
        _("Operator")]
    align = "rl" + ("l" if paths else "") + "lrrrrrll"
    out += _table(header, [_step_row(n, s, r, paths) for n, s in enumerate(active, 1)], align)
    for cid, count in r.untaken().items():
        out.append("")
        out.append(_("Contingency `{contingency}` ({title}, {n} steps) was not triggered.").format(
            contingency=cid, title=esc(plan.path_titles.get(cid, cid)), n=count))
    out.append("")

    if r.notes:
        out += [_("## Notes"), ""]
        actors: dict[str, str] = {}  # a run has a few operators and many notes
        for n in r.notes:
            where = f" `{n.step}`" if n.step else ""
            lines = [esc(x) for x in n.text.splitlines() if x.strip()] or [""]
            actor = actors.get(n.actor)
            if actor is None:
                actor = actors[n.actor] = esc(n.actor)
            out.append(f"- {r.clock(n.at)}{where} {actor}: {lines[0]}")
            if len(lines) > 1:
                out += [f"  {x}" for x in lines[1:]]
        out.append("")
    if r.hook_failures:
        out += [_("## Alert hooks that failed"), ""]
        for f in r.hook_failures:
            out.append(f"- {r.clock(f['at'])} {esc(str(f.get('hook')))}: "
                       f"{esc(str(f.get('error')))}")
        out.append("")
    out.append(_("_Made by runbook from the run's event log (source {source}), as of {time}._"
                 ).format(source=esc(info.source_name), time=t.day_time(r.as_of, tz)))
    return terminal("\n".join(out) + "\n")  # pasted or printed, no control character acts
