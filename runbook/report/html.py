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
from runbook.i18n import _, current
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
        out.append(f'<div class="banner outage">{esc(_("OUTAGE REPORT"))} '
                   f'{esc(t.outage_line(r))}</div>')
    elif sm.resumed_at is not None:
        out.append(f'<div class="banner ok">{esc(_("Outage report {verdict}.").format(verdict=t.outage_line(r)))}</div>')
    late = sm.overrun_s > 0
    resumed = r.clock(sm.resumed_at) if sm.resumed_at else _("not yet")
    delta = t.resume_delta(r) if sm.resumed_at else _("service still down")
    due = (t.day_time(sm.report_due_by, tz)[5:] if sm.report_due_by else "")
    out.append('<div class="kpis">')
    out.append(_kpi(_("Announced resume"), r.clock(sm.announced_resume),
                    t.day_time(sm.announced_resume, tz)[:10]))
    out.append(_kpi(_("Service resumed"), resumed, delta,
                    "bad" if late else "good" if sm.resumed_at else ""))
    out.append(_kpi(_("Overrun"), t.dur(sm.overrun_s) if late else _("none"),
                    (_("{seconds} s so far") if r.in_progress else _("{seconds} s")).format(
                        seconds=int(round(sm.overrun_s))),
                    "bad" if late else "good"))
    pending = r.in_progress and sm.resumed_at is None
    ob = sm.obligation
    named = ob is not None and ob.named
    out.append(_kpi(_("Outage report ({rule})").format(rule=ob.rule) if named
                    else _("Outage report"),
                    _("REQUIRED") if sm.outage_report_required else
                    _("not so far") if pending else _("not required"),
                    _("due by {due}").format(due=due) if due else
                    _("threshold {threshold} past announced").format(
                        threshold=t.dur(sm.outage_report_after_s))
                    if sm.outage_report_after_s is not None else _("major incidents only"),
                    "bad" if sm.outage_report_required else "" if pending else "good"))
    out.append("</div>")
    run = _("started {start}, finished {finish}") if sm.finished_at else \
        _("started {start}, not finished")
    facts = [
        (_("Reporting rule"), t.rule_line(r)),
        (_("Window"), _("{start} to {announced} announced ({zone}, UTC{offset})").format(
            start=t.window_start_line(r), announced=r.clock(sm.announced_resume), zone=tz,
            offset=t.offset(sm.announced_resume, tz))),
        (_("Contingency"), t.contingency_line(r)),
        (_("First warning"), t.warning_line(r)),
        (_("First P(on time) < {confidence}").format(confidence=pct(sm.confidence)),
         t.below_line(r)),
        (_("Plan (likely times)"), t.plan_line(r)),
        (_("Run"), run.format(start=t.day_time(sm.started_at, tz),
                              finish=t.day_time(sm.finished_at, tz))),
        (_("Operators"), ", ".join(r.operators) or "-"),
    ]
    if sm.hard_deadline is not None:
        facts.append((_("Hard deadline"), t.day_time(sm.hard_deadline, tz)))
    if sm.abort_reason:
        facts.append((_("Abort reason"), sm.abort_reason))
    out.append('<dl class="facts">')
    out += [f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts]
    out.append("</dl>")
    return out


def _step_tr(n: int, s: StepRow, r: Report) -> str:
    actual = t.dur(s.actual_s) if s.elapsed_s is None else \
        _("{taken} so far").format(taken=t.dur(s.elapsed_s))
    status = esc(t.step_status(s.status)) + (
        f" <span class=hot>{esc(_('({n}× failed)').format(n=s.failures))}</span>"
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
    out = [f'<section class="steps"><h2>{esc(_("Steps"))}</h2>',
           f'<p class="muted">{esc(_("Variance = actual − likely (positive: slower than the likely estimate; red: beyond the pessimistic estimate). Plan = optimistic / likely / pessimistic. Actual runs from the first start, retries included."))}</p>',
           f"<table><thead><tr><th class=num>#</th><th>{esc(_('Step'))}</th>"
           f"<th>{esc(_('Status'))}</th><th>{esc(_('Start'))}</th>"
           f"<th>{esc(_('Finish'))}</th><th class=num>{esc(_('Actual'))}</th>"
           f"<th class=num>{esc(_('Plan'))}</th><th class=num>{esc(_('Variance'))}</th>"
           f"<th>{esc(_('Owner / operator'))}</th><th>{esc(_('Notes'))}</th></tr></thead>"
           "<tbody>"]
    path = MAIN
    for n, s in enumerate(r.active_steps(), 1):
        if s.path != path:
            path = s.path
            c = r.summary.contingency
            when = _(", triggered {time}").format(time=r.clock(c.triggered_at)) \
                if c and c.id == path else ""
            out.append('<tr class="sep"><td colspan="10">' + esc(_(
                "Contingency {contingency}: {title}{when}").format(
                contingency=path, title=plan.path_titles.get(path, path), when=when))
                + "</td></tr>")
        out.append(_step_tr(n, s, r))
    out.append("</tbody></table>")
    for cid, count in r.untaken().items():
        out.append('<p class="muted">' + esc(_(
            "Contingency {contingency} ({title}, {n} steps) was not triggered.").format(
            contingency=cid, title=plan.path_titles.get(cid, cid), n=count)) + "</p>")
    out.append("</section>")
    return out


def _alerts(r: Report) -> list[str]:
    out = [f"<section><h2>{esc(_('Alerts'))}</h2>"]
    if not r.alerts:
        out.append(f'<p class="muted">{esc(_("No alerts were raised."))}</p></section>')
        return out
    out.append(f"<table><thead><tr><th>{esc(_('Time'))}</th><th>{esc(_('Level'))}</th>"
               f"<th>{esc(_('Message'))}</th></tr></thead><tbody>")
    for a in r.alerts:
        out.append(f'<tr><td class="t">{r.clock(a.at)}</td><td>{_level(a.level)}</td>'
                   f"<td>{esc(a.text)}</td></tr>")
    out.append("</tbody></table></section>")
    return out


def _notices(r: Report) -> list[str]:
    """What customers were told: every notice copied or sent, with its exact text."""
    out = [f"<section><h2>{esc(_('Customer notices'))}</h2>"]
    rows = t.notice_rows(r)
    if not rows:
        out.append(f'<p class="muted">{esc(_("No customer notice was copied or sent from runbook."))}</p>'
                   "</section>")
        return out if r.plan.runbook.comms is not None else []
    out.append("<table><thead><tr>" + "".join(
        f"<th>{esc(h)}</th>" for h in (_("Time"), _("Who"), _("Level"), _("Lang"), _("How"),
                                       _("Text"))) + "</tr></thead><tbody>")
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
    out = [f'<section class="notes"><h2>{esc(_("Run notes"))}</h2><table><thead><tr>'
           f"<th>{esc(_('Time'))}</th><th>{esc(_('Who'))}</th>"
           f"<th>{esc(_('Note'))}</th></tr></thead><tbody>"]
    for n in general:
        out.append(f'<tr><td class="t">{r.clock(n.at)}</td><td>{esc(n.actor)}</td>'
                   f'<td class="note">{esc(n.text)}</td></tr>')
    for f in hooks:
        out.append(f'<tr><td class="t">{r.clock(f["at"])}</td><td>{esc(_("alert hook"))}</td>'
                   f'<td class="note hot">'
                   f'{esc(_("{hook} failed: {error}").format(hook=f.get("hook"), error=f.get("error")))}'
                   "</td></tr>")
    out.append("</tbody></table></section>")
    return out


def legend() -> str:
    """The Gantt's key, in the current language."""
    items = [("background:#aebdcf", _("planned (likely, from the window start; a contingency "
                                      "from its trigger)")),
             ("height:1px;background:#52606d", _("optimistic to pessimistic")),
             ("background:#1f5f8b", _("actual")),
             ("background:#b91c1c", _("actual beyond pessimistic")),
             ("background:#d97706", _("running")),
             ("background:#9ca3af", _("abandoned / skipped"))]
    return ('<div class="legend">' + "".join(
        f'<span><i style="{style}"></i>{esc(text)}</span>' for style, text in items)
        + f"<span>{esc(_('! = a failed attempt'))}</span></div>")


def render_html(r: Report) -> str:
    sm, info, plan, tz = r.summary, r.info, r.plan, r.tz
    status = sm.status
    title = _("Timing log: {title}").format(title=plan.title)
    out = ["<!DOCTYPE html>", f'<html lang="{current()}"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(title)} ({esc(info.id)})</title>",
           f'<meta name="generator" content="runbook {esc(__version__)}">',
           f"<style>{CSS}</style></head><body>",
           f"<header><h1>{esc(title)}</h1>",
           f'<p class="sub">{esc(_("Runbook"))} <code>{esc(plan.id)}</code> &#183; '
           f'{esc(_("run"))} <code>{esc(info.id)}'
           f"</code> &#183; {esc(t.label(info.label))} &#183; "
           f'<span class="badge st-{esc(status)}">{esc(t.status_word(status))}'
           "</span></p></header>"]
    out += _summary(r)
    out.append(f"<section><h2>{esc(_('Planned vs actual'))}</h2><figure>")
    out.append(gantt(r))
    out.append(f"<figcaption>{legend()}</figcaption></figure></section>")
    out.append(f"<section><h2>{esc(_('Forecast during the run'))}</h2><figure>")
    out.append(p_chart(r))
    out.append("<figcaption>" + esc(_("Chance of resuming by {announced} as the tool forecast "
                                      "it, {how}. Diamonds: alerts as raised.").format(
        announced=r.clock(sm.announced_resume), how=t.history_note(r)))
        + "</figcaption></figure></section>")
    out += _alerts(r)
    out += _notices(r)
    out += _steps(r)
    out += _notes(r)
    out.append("<footer>" + esc(_(
        "Made by runbook {version} from the event log of run {run} (runbook text as loaded at "
        "the start, from {source}). Figures as of {time} {zone}. Times are local to {zone}."
        ).format(version=__version__, run=info.id, source=info.source_name,
                 time=t.day_time(r.as_of, tz), zone=tz)) + "</footer>")
    out.append("</body></html>")
    return terminal("\n".join(out) + "\n")  # nothing raw reaches a terminal that cats it
