"""``runbook report --format html``: one self-contained file for the change record.

Inline CSS and SVG only: no script, no font, image or style sheet is fetched, so the file shows
the same offline, in a mail client or in an archive years later. Every text that comes from the
runbook or the log is escaped (``html.escape``), in the SVG too. ``@page`` sets A4 portrait; the
charts scale to the page width and table headers repeat on every printed page.
"""

from __future__ import annotations

from runbook import __version__
from runbook.engine.risk import pct
from runbook.format.plan import MAIN
from runbook.format.safe import terminal
from runbook.report import text as t
from runbook.report.model import Report, StepRow
from runbook.report.svg import LEVEL_COLOURS, esc, gantt, p_chart

CSS = """
:root { --ink: #1f2937; --muted: #64748b; --line: #d7dde5; --bg-alt: #f5f7fa;
  --red: #b91c1c; --amber: #b26a00; --green: #2e7d32; --blue: #1d4ed8; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 13px/1.45 "Segoe UI", "Helvetica Neue", Arial, "Noto Sans", "Noto Sans CJK KR",
  sans-serif; color: var(--ink); margin: 0 auto; padding: 24px 28px 40px; max-width: 1120px; }
h1 { font-size: 21px; margin: 0 0 2px; }
h2 { font-size: 15px; margin: 26px 0 8px; padding-bottom: 3px; border-bottom: 2px solid var(--ink); }
.sub { color: var(--muted); margin: 0 0 12px; }
.sub code { color: var(--ink); }
code, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 3px; font-weight: 600;
  font-size: 11px; letter-spacing: .04em; border: 1px solid currentColor; }
.st-finished { color: var(--green); } .st-in_progress { color: var(--amber); }
.st-aborted { color: var(--red); }
.banner { border-left: 6px solid; padding: 8px 12px; margin: 10px 0; font-weight: 600; }
.banner.outage { border-color: var(--red); background: #fdecec; color: #7f1d1d; }
.banner.ok { border-color: var(--green); background: #edf7ee; color: #1b4d1f; font-weight: 500; }
.banner.progress { border-color: var(--amber); background: #fff4e0; color: #6b3d00; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin: 14px 0 6px; }
.kpi { border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px; }
.kpi .k { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .05em; }
.kpi .v { font-size: 20px; font-weight: 650; }
.kpi .d { color: var(--muted); font-size: 11.5px; }
.kpi.bad .v { color: var(--red); } .kpi.good .v { color: var(--green); }
dl.facts { display: grid; grid-template-columns: 190px 1fr; gap: 3px 14px; margin: 10px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 11.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 5px; text-align: left;
  vertical-align: top; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.t { white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.sep td { background: #ede9fe; font-weight: 600; color: #4c1d95; }
.hot { color: var(--red); font-weight: 600; }
.cool { color: var(--green); }
.muted { color: var(--muted); }
.steptitle { white-space: pre-line; }
.note { white-space: pre-line; }
.lvl { font-weight: 700; font-size: 11px; white-space: nowrap; }
figure { margin: 6px 0 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 11.5px; margin-top: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 11.5px; color: var(--muted);
  margin-top: 6px; }
.legend i { display: inline-block; width: 22px; height: 8px; margin-right: 5px;
  vertical-align: middle; }
svg text { font-family: "Segoe UI", Arial, "Noto Sans", "Noto Sans CJK KR", sans-serif; }
svg .sid { font: 10.5px "DejaVu Sans Mono", Menlo, Consolas, monospace; fill: #111827; }
svg .stitle { font-size: 10.5px; fill: #475569; }
svg .tick { font-size: 10px; fill: #64748b; }
svg .mark { font-size: 10.5px; font-weight: 600; }
svg .grid { stroke: #e5e7eb; stroke-width: 1; }
svg .zebra { fill: #f7f8fa; }
svg .split { stroke: #7c3aed; stroke-width: 1; stroke-dasharray: 2 2; }
svg .plan { fill: #aebdcf; }
svg .plan.dim { opacity: .5; }
svg .whisker { stroke: #52606d; stroke-width: 1.1; fill: none; }
svg .hatch { opacity: .55; }
svg .var { font-size: 9.5px; fill: #475569; }
svg .var.hot { fill: #b91c1c; font-weight: 700; }
svg .fail { font-size: 9px; font-weight: 700; fill: #fff; }
svg .m-ann { stroke-width: 1.6; stroke-dasharray: 5 3; }
svg .m-res { stroke-width: 1.6; }
svg .m-cont { stroke-width: 1.4; stroke-dasharray: 6 2 1 2; }
svg .m-now { stroke-width: 1.4; stroke-dasharray: 2 2; }
svg .conf { stroke: #334155; stroke-width: 1; stroke-dasharray: 4 3; }
svg .conf-label { font-size: 10px; fill: #334155; }
svg .axis-title { font-size: 10.5px; fill: #475569; }
svg .pline { fill: none; stroke: #1f5f8b; stroke-width: 2; }
svg .area { fill: #1f5f8b; opacity: .10; }
svg .below { fill: #fff; stroke: #b91c1c; stroke-width: 2; }
svg .aline { stroke-width: 1; stroke-dasharray: 1 2; }
svg .alabel { font-size: 10px; font-weight: 700; }
svg .alabel, svg .mark, svg .var, svg .conf-label { paint-order: stroke; stroke: #fff;
  stroke-width: 3px; stroke-linejoin: round; }
footer { margin-top: 28px; color: var(--muted); font-size: 11px; border-top: 1px solid var(--line);
  padding-top: 6px; }
@page { size: A4 portrait; margin: 12mm 11mm 14mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 10.5px; }
  h1 { font-size: 17px; } h2 { font-size: 13px; margin-top: 16px; break-after: avoid; }
  table { font-size: 9px; } th, td { padding: 2px 3px; }
  .kpi .v { font-size: 16px; }
  dl.facts { grid-template-columns: 150px 1fr; }
  section.steps, section.notes { break-before: auto; }
  .legend, figcaption, .kpi .k, .kpi .d, .lvl, p.muted { font-size: 9px; }
  .banner { padding: 5px 9px; }
  svg .sid, svg .stitle { font-size: 11.5px; } svg .tick, svg .var { font-size: 11px; }
  svg .mark, svg .alabel, svg .conf-label { font-size: 11.5px; }
  a { color: inherit; text-decoration: none; }
}
"""


def _kpi(key: str, value: str, detail: str = "", cls: str = "") -> str:
    return (f'<div class="kpi {cls}"><div class="k">{esc(key)}</div><div class="v">{esc(value)}'
            f'</div><div class="d">{esc(detail)}</div></div>')


def _level(level: str) -> str:
    colour = LEVEL_COLOURS.get(level, "#334155")
    return f'<span class="lvl" style="color:{colour}">{esc(t.level_word(level))}</span>'


def _summary(r: Report) -> list[str]:
    sm, tz = r.summary, r.tz
    out: list[str] = []
    if r.in_progress:
        out.append(f'<div class="banner progress">{esc(t.in_progress_line(r))}</div>')
    if sm.outage_report_required:
        out.append(f'<div class="banner outage">OUTAGE REPORT {esc(t.outage_line(r))}</div>')
    elif sm.resumed_at is not None:
        out.append(f'<div class="banner ok">Outage report {esc(t.outage_line(r))}.</div>')
    late = sm.overrun_s > 0
    resumed = r.clock(sm.resumed_at) if sm.resumed_at else "not yet"
    delta = t.resume_line(r).split(", ", 1)[-1] if sm.resumed_at else "service still down"
    due = (t.day_time(sm.report_due_by, tz)[5:] if sm.report_due_by else "")
    out.append('<div class="kpis">')
    out.append(_kpi("Announced resume", r.clock(sm.announced_resume),
                    t.day_time(sm.announced_resume, tz)[:10]))
    out.append(_kpi("Service resumed", resumed, delta,
                    "bad" if late else "good" if sm.resumed_at else ""))
    out.append(_kpi("Overrun", t.dur(sm.overrun_s) if late else "none",
                    f"{int(round(sm.overrun_s))} s" + (" so far" if r.in_progress else ""),
                    "bad" if late else "good"))
    pending = r.in_progress and sm.resumed_at is None
    ob = sm.obligation
    named = ob is not None and ob.named
    out.append(_kpi(f"Outage report ({ob.rule})" if named else "Outage report",
                    "REQUIRED" if sm.outage_report_required else
                    "not so far" if pending else "not required",
                    f"due by {due}" if due else
                    f"threshold {t.dur(sm.outage_report_after_s)} past announced"
                    if sm.outage_report_after_s is not None else "major incidents only",
                    "bad" if sm.outage_report_required else "" if pending else "good"))
    out.append("</div>")
    facts = [
        ("Reporting rule", t.rule_line(r)),
        ("Window", f"{t.window_start_line(r)} to {r.clock(sm.announced_resume)} "
                   f"announced ({tz}, UTC{t.offset(sm.announced_resume, tz)})"),
        ("Contingency", t.contingency_line(r)),
        ("First warning", t.warning_line(r)),
        (f"First P(on time) < {pct(sm.confidence)}", t.below_line(r)),
        ("Plan (likely times)", t.plan_line(r)),
        ("Run", f"started {t.day_time(sm.started_at, tz)}, "
                + (f"finished {t.day_time(sm.finished_at, tz)}" if sm.finished_at
                   else "not finished")),
        ("Operators", ", ".join(r.operators) or "-"),
    ]
    if sm.hard_deadline is not None:
        facts.append(("Hard deadline", t.day_time(sm.hard_deadline, tz)))
    if sm.abort_reason:
        facts.append(("Abort reason", sm.abort_reason))
    out.append('<dl class="facts">')
    out += [f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts]
    out.append("</dl>")
    return out


def _step_tr(n: int, s: StepRow, r: Report) -> str:
    actual = t.dur(s.actual_s) if s.elapsed_s is None else f"{t.dur(s.elapsed_s)} so far"
    status = esc(s.status) + (f" <span class=hot>({s.failures}&#215; failed)</span>"
                              if s.failures else "")
    var_cls = "hot" if s.over_pessimistic else ("cool" if (s.variance_s or 0) < 0 else "")
    notes = "\n".join(f"{r.clock(x.at)} {x.actor}: {x.text}" for x in s.notes)
    return (
        f"<tr><td class=num>{n}</td><td><code>{esc(s.id)}</code><br>"
        f'<span class="steptitle">{esc(s.title)}</span></td><td>{status}</td>'
        f'<td class="t">{r.clock(s.started_at) if s.started_at else ""}</td>'
        f'<td class="t">{r.clock(s.finished_at) if s.finished_at else ""}</td>'
        f'<td class=num>{esc(actual)}</td>'
        f'<td class=num>{t.dur(s.planned_optimistic_s)} / {t.dur(s.planned_likely_s)} / '
        f'{t.dur(s.planned_pessimistic_s)}</td>'
        f'<td class="num {var_cls}">{esc(t.signed(s.variance_s))}</td>'
        f'<td>{esc(s.owner or "")}<br><span class=muted>{esc(", ".join(s.operators))}</span></td>'
        f'<td class="note">{esc(notes)}</td></tr>'
    )


def _steps(r: Report) -> list[str]:
    plan = r.plan
    out = ['<section class="steps"><h2>Steps</h2>',
           '<p class="muted">Variance = actual &#8722; likely (positive: slower than the likely '
           'estimate; red: beyond the pessimistic estimate). Plan = optimistic / likely / '
           'pessimistic. Actual runs from the first start, retries included.</p>',
           "<table><thead><tr><th class=num>#</th><th>Step</th><th>Status</th><th>Start</th>"
           "<th>Finish</th><th class=num>Actual</th><th class=num>Plan</th>"
           "<th class=num>Variance</th><th>Owner / operator</th><th>Notes</th></tr></thead>"
           "<tbody>"]
    path = MAIN
    for n, s in enumerate(r.active_steps(), 1):
        if s.path != path:
            path = s.path
            c = r.summary.contingency
            when = f", triggered {r.clock(c.triggered_at)}" if c and c.id == path else ""
            out.append(f'<tr class="sep"><td colspan="10">Contingency {esc(path)}: '
                       f"{esc(plan.path_titles.get(path, path))}{esc(when)}</td></tr>")
        out.append(_step_tr(n, s, r))
    out.append("</tbody></table>")
    for cid, count in r.untaken().items():
        out.append(f'<p class="muted">Contingency <code>{esc(cid)}</code> '
                   f"({esc(plan.path_titles.get(cid, cid))}, {count} steps) was not triggered."
                   "</p>")
    out.append("</section>")
    return out


def _alerts(r: Report) -> list[str]:
    out = ["<section><h2>Alerts</h2>"]
    if not r.alerts:
        out.append('<p class="muted">No alerts were raised.</p></section>')
        return out
    out.append("<table><thead><tr><th>Time</th><th>Level</th><th>Message</th></tr></thead><tbody>")
    for a in r.alerts:
        out.append(f'<tr><td class="t">{r.clock(a.at)}</td><td>{_level(a.level)}</td>'
                   f"<td>{esc(a.message)}</td></tr>")
    out.append("</tbody></table></section>")
    return out


def _notices(r: Report) -> list[str]:
    """What customers were told: every notice copied or sent, with its exact text."""
    out = ["<section><h2>Customer notices</h2>"]
    rows = t.notice_rows(r)
    if not rows:
        out.append('<p class="muted">No customer notice was copied or sent from runbook.</p>'
                   "</section>")
        return out if r.plan.runbook.comms is not None else []
    out.append("<table><thead><tr><th>Time</th><th>Who</th><th>Level</th><th>Lang</th>"
               "<th>How</th><th>Text</th></tr></thead><tbody>")
    for at, who, level, lang, how, text in rows:
        out.append(f'<tr><td class="t">{at}</td><td>{esc(who)}</td><td>{esc(level)}</td>'
                   f'<td>{esc(lang)}</td><td>{esc(how)}</td><td class="note">{esc(text)}</td></tr>')
    out.append("</tbody></table></section>")
    return out


def _notes(r: Report) -> list[str]:
    general = [n for n in r.notes if n.step is None]
    hooks = r.hook_failures
    if not general and not hooks:
        return []
    out = ['<section class="notes"><h2>Run notes</h2><table><thead><tr><th>Time</th><th>Who</th>'
           "<th>Note</th></tr></thead><tbody>"]
    for n in general:
        out.append(f'<tr><td class="t">{r.clock(n.at)}</td><td>{esc(n.actor)}</td>'
                   f'<td class="note">{esc(n.text)}</td></tr>')
    for f in hooks:
        out.append(f'<tr><td class="t">{r.clock(f["at"])}</td><td>alert hook</td>'
                   f'<td class="note hot">{esc(f.get("hook"))} failed: {esc(f.get("error"))}'
                   "</td></tr>")
    out.append("</tbody></table></section>")
    return out


LEGEND = (
    '<div class="legend"><span><i style="background:#aebdcf"></i>planned (likely, from the '
    'window start; a contingency from its trigger)</span><span><i style="height:1px;'
    'background:#52606d"></i>optimistic to pessimistic</span><span><i style="background:#1f5f8b">'
    '</i>actual</span><span><i style="background:#b91c1c"></i>actual beyond pessimistic</span>'
    '<span><i style="background:#d97706"></i>running</span><span><i style="background:#9ca3af">'
    '</i>abandoned / skipped</span><span>! = a failed attempt</span></div>'
)


def render_html(r: Report) -> str:
    sm, info, plan, tz = r.summary, r.info, r.plan, r.tz
    status = sm.status
    title = f"Timing log: {plan.title}"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(title)} ({esc(info.id)})</title>",
           f'<meta name="generator" content="runbook {esc(__version__)}">',
           f"<style>{CSS}</style></head><body>",
           f"<header><h1>{esc(title)}</h1>",
           f'<p class="sub">Runbook <code>{esc(plan.id)}</code> &#183; run <code>{esc(info.id)}'
           f"</code> &#183; {esc(info.label)} &#183; "
           f'<span class="badge st-{esc(status)}">{esc(t.STATUS_WORDS.get(status, status))}'
           "</span></p></header>"]
    out += _summary(r)
    out.append("<section><h2>Planned vs actual</h2><figure>")
    out.append(gantt(r))
    out.append(f"<figcaption>{LEGEND}</figcaption></figure></section>")
    out.append("<section><h2>Forecast during the run</h2><figure>")
    out.append(p_chart(r))
    out.append(f"<figcaption>Chance of resuming by {r.clock(sm.announced_resume)} as the tool "
               f"forecast it, {esc(t.history_note(r))}. Diamonds: alerts as raised.</figcaption>"
               "</figure></section>")
    out += _alerts(r)
    out += _notices(r)
    out += _steps(r)
    out += _notes(r)
    out.append(f"<footer>Made by runbook {esc(__version__)} from the event log of run "
               f"<code>{esc(info.id)}</code> (runbook text as loaded at the start, from "
               f"{esc(info.source_name)}). Figures as of {esc(t.day_time(r.as_of, tz))} "
               f"{esc(tz)}. Times are local to {esc(tz)}.</footer>")
    out.append("</body></html>")
    return terminal("\n".join(out) + "\n")  # nothing raw reaches a terminal that cats it
