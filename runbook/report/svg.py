"""Inline SVG for the HTML report: the planned-vs-actual Gantt and P(on time) over the run.

Plain strings, no library: every text from the runbook or the log goes through :func:`esc`.
Times map to x through one :class:`Axis`, ticks fall on whole local clock times.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from runbook.engine.clock import utc
from runbook.engine.risk import pct
from runbook.engine.state import ABANDONED, COMPLETED, FAILED, RUNNING, SKIPPED
from runbook.format.cells import width as cell_width
from runbook.format.safe import terminal
from runbook.format.times import hhmm, local
from runbook.i18n import _
from runbook.report.model import Report, StepRow
from runbook.report.text import level_word, signed, step_status

WIDTH = 960
LABEL_W = 250
RIGHT_PAD = 46
ROW_H = 17
TICK_STEPS_MIN = (1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 720, 1440)

LEVEL_COLOURS = {"on_track": "#2e7d32", "at_risk": "#b26a00", "decide_now": "#c2410c",
                 "late": "#b91c1c", "resumed": "#1d4ed8"}


def esc(text: object) -> str:
    """HTML/SVG text: markup escaped, control characters shown as escapes (never raw)."""
    return escape(terminal(str(text)), quote=True)


def clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


class Axis:
    """Time -> x; instants as POSIX seconds, so any aware datetime maps cheaply."""

    def __init__(self, t0: datetime, t1: datetime, x0: float, x1: float) -> None:
        self.t0, self.t1, self.x0, self.x1 = t0, t1, x0, x1
        self._s0 = t0.timestamp()
        self._scale = (x1 - x0) / max(1.0, t1.timestamp() - self._s0)

    def x(self, t: datetime) -> float:
        return self.x0 + (t.timestamp() - self._s0) * self._scale

    def ticks(self, tz: str, most: int = 12) -> list[datetime]:
        """Whole local clock times (every 1, 2, 5, 10, 15 ... minutes) within the span."""
        span_min = (self.t1.timestamp() - self._s0) / 60
        step = next((s for s in TICK_STEPS_MIN if span_min / s <= most), TICK_STEPS_MIN[-1])
        first = local(self.t0, tz).replace(second=0, microsecond=0)
        minute_of_day = first.hour * 60 + first.minute
        t = utc(first) + timedelta(minutes=(-minute_of_day) % step)
        out = []
        while t <= self.t1:
            if t >= self.t0:
                out.append(t)
            t += timedelta(minutes=step)
        return out


def span(r: Report) -> tuple[datetime, datetime]:
    """The time range both charts show."""
    sm = r.summary
    times = [sm.window_start, sm.announced_resume, r.as_of]
    for s in r.active_steps():
        times += [t for t in (s.started_at, s.finished_at, s.planned_start) if t]
        if s.planned_start is not None:
            times.append(s.planned_start + timedelta(seconds=s.planned_pessimistic_s))
    if sm.resumed_at:
        times.append(sm.resumed_at)
    t0, t1 = min(times), max(times)
    pad = max(60.0, (t1 - t0).total_seconds() * 0.02)
    return t0, t1 + timedelta(seconds=pad)


def _markers(r: Report) -> list[tuple[datetime, str, str, str]]:
    """(time, label, colour, css class) of the vertical lines."""
    sm = r.summary
    out = [(sm.announced_resume, _("announced {time}").format(time=r.clock(sm.announced_resume)),
            "#b91c1c", "m-ann")]
    if sm.contingency:
        c = sm.contingency
        out.append((c.triggered_at, _("{contingency} triggered {time}").format(
            contingency=c.id, time=r.clock(c.triggered_at)), "#6d28d9", "m-cont"))
    if sm.resumed_at:
        out.append((sm.resumed_at, _("resumed {time}").format(time=r.clock(sm.resumed_at)),
                    "#1d4ed8", "m-res"))
    elif r.in_progress:
        out.append((r.as_of, _("now {time}").format(time=r.clock(r.as_of)), "#475569", "m-now"))
    return out


def tick_labels(r: Report, ticks: list[datetime]) -> list[str]:
    """``HH:MM`` per tick; the first tick off the window's day, and the first of each new local
    day, carry the day (``00:00 +1d``), so a chart across midnight reads in order."""
    labels, day = [], local(r.summary.window_start, r.tz).date()
    for t in ticks:
        d = local(t, r.tz).date()
        labels.append(hhmm(t, r.tz) if d == day else r.clock(t))
        day = d
    return labels


def _axis_svg(r: Report, ax: Axis, top: float, bottom: float) -> list[str]:
    out = []
    ticks = ax.ticks(r.tz)
    for t, label in zip(ticks, tick_labels(r, ticks), strict=True):
        x = ax.x(t)
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" '
                   f'y2="{bottom:.1f}"/>')
        out.append(f'<text class="tick" x="{x:.1f}" y="{top - 4:.1f}" '
                   f'text-anchor="middle">{esc(label)}</text>')
    return out


def _marker_svg(r: Report, ax: Axis, band_top: float, bottom: float) -> list[str]:
    out = []
    for n, (t, label, colour, cls) in enumerate(_markers(r)):
        x = ax.x(t)
        y = band_top + 11 * n + 9
        anchor = "end" if x > (ax.x0 + ax.x1) / 2 else "start"
        dx = -3 if anchor == "end" else 3
        out.append(f'<line class="{cls}" x1="{x:.1f}" y1="{y - 8:.1f}" x2="{x:.1f}" '
                   f'y2="{bottom:.1f}" stroke="{colour}"/>')
        out.append(f'<text class="mark" x="{x + dx:.1f}" y="{y:.1f}" fill="{colour}" '
                   f'text-anchor="{anchor}">{esc(label)}</text>')
    return out


def _actual_colour(s: StepRow) -> tuple[str, str]:
    if s.status in (ABANDONED, SKIPPED):
        return "#9ca3af", step_status(s.status)
    if s.status == RUNNING:
        return "#d97706", step_status(s.status)
    if s.status == FAILED:
        return "#b91c1c", step_status(s.status)
    if s.over_pessimistic:
        return "#b91c1c", _("over pessimistic")
    return "#1f5f8b", step_status(s.status)


def gantt(r: Report) -> str:
    rows = r.active_steps()
    tz = r.tz
    t0, t1 = span(r)
    n_marks = len(_markers(r))
    band = 11 * n_marks + 4
    top = band + 22
    axis_below = len(rows) > 40  # a long chart repeats the time axis at its foot
    height = top + ROW_H * len(rows) + (22 if axis_below else 8)
    ax = Axis(t0, t1, LABEL_W, WIDTH - RIGHT_PAD)
    out = [f'<svg class="gantt" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
           f'height="{height:.0f}" role="img" aria-label="{esc(_("Planned versus actual time per step"))}" '
           'xmlns="http://www.w3.org/2000/svg">']
    bottom = top + ROW_H * len(rows)
    for i, _s in enumerate(rows):
        if i % 2:
            out.append(f'<rect class="zebra" x="0" y="{top + i * ROW_H:.1f}" width="{WIDTH}" '
                       f'height="{ROW_H}"/>')
    out += _axis_svg(r, ax, top, bottom)
    if axis_below:
        ticks = ax.ticks(tz)
        out += [f'<text class="tick" x="{ax.x(t):.1f}" y="{bottom + 14:.1f}" '
                f'text-anchor="middle">{esc(label)}</text>'
                for t, label in zip(ticks, tick_labels(r, ticks), strict=True)]
    prev_path = None
    for i, s in enumerate(rows):
        y = top + i * ROW_H
        if prev_path is not None and s.path != prev_path:
            out.append(f'<line class="split" x1="0" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}"/>')
        prev_path = s.path
        tip = _("{step}: {title} | {status} | plan {optimistic}/{likely}/{pessimistic} s").format(
            step=s.id, title=s.title, status=step_status(s.status),
            optimistic=int(s.planned_optimistic_s), likely=int(s.planned_likely_s),
            pessimistic=int(s.planned_pessimistic_s))
        if s.actual_s is not None:
            tip += _(" | actual {seconds} s ({variance})").format(
                seconds=int(round(s.actual_s)), variance=signed(s.variance_s))
        out.append(f'<g class="row"><title>{esc(tip)}</title>')
        prefix = "\u21b3 " if s.path != "main" else ""
        sid = prefix + clip(s.id, 22)
        room = int((LABEL_W - 14 - 6.9 * len(sid)) / 6.0)  # at the print size, 11.5 px
        out.append(f'<text class="sid" x="4" y="{y + 12:.1f}">{esc(sid)}</text>')
        if room >= 4:
            out.append(f'<text class="stitle" x="{LABEL_W - 6}" y="{y + 12:.1f}" '
                       f'text-anchor="end">{esc(clip(s.title, room))}</text>')
        if s.planned_start is not None:
            ps = s.planned_start
            xa = ax.x(ps)
            xm = ax.x(ps + timedelta(seconds=s.planned_likely_s))
            xo = ax.x(ps + timedelta(seconds=s.planned_optimistic_s))
            xp = ax.x(ps + timedelta(seconds=s.planned_pessimistic_s))
            dim = " dim" if s.status == ABANDONED and s.started_at is None else ""
            out.append(f'<rect class="plan{dim}" x="{xa:.1f}" y="{y + 2:.1f}" '
                       f'width="{max(1.0, xm - xa):.1f}" height="5"/>')
            wy = y + 4.5
            out.append(f'<path class="whisker" d="M{xo:.1f} {wy - 2.5:.1f}v5M{xo:.1f} {wy:.1f}'
                       f'H{xp:.1f}M{xp:.1f} {wy - 2.5:.1f}v5"/>')
        if s.started_at is not None:
            end = s.finished_at or (r.as_of if s.status == RUNNING else s.started_at)
            colour, word = _actual_colour(s)
            xs, xe = ax.x(s.started_at), ax.x(end)
            cls = "act" + (" hatch" if s.status in (ABANDONED, SKIPPED) else "")
            out.append(f'<rect class="{cls}" x="{xs:.1f}" y="{y + 8:.1f}" '
                       f'width="{max(1.5, xe - xs):.1f}" height="7" fill="{colour}">'
                       f'<title>{esc(word)}</title></rect>')
            if s.failures:
                out.append(f'<text class="fail" x="{xs + 1:.1f}" y="{y + 14.5:.1f}">'
                           f'{"!" * min(3, s.failures)}</text>')
            label = ""
            if s.status == COMPLETED and s.variance_s is not None:
                label = signed(s.variance_s)
            elif s.status in (RUNNING, ABANDONED, SKIPPED, FAILED):
                label = step_status(s.status)
            if label:
                hot = " hot" if s.over_pessimistic or s.status == FAILED else ""
                out.append(f'<text class="var{hot}" x="{xe + 3:.1f}" y="{y + 15:.1f}">'
                           f'{esc(label)}</text>')
        elif s.status in (SKIPPED, ABANDONED) and s.planned_start is not None:
            at = s.finished_at or (s.planned_start + timedelta(seconds=s.planned_pessimistic_s))
            word = step_status(SKIPPED) if s.status == SKIPPED else _("not run")
            x = ax.x(at) + 3
            anchor = "start"
            if x + _text_w(word, 5.2) > WIDTH:
                x, anchor = ax.x(s.planned_start) - 3, "end"
            out.append(f'<text class="var" x="{x:.1f}" y="{y + 9:.1f}" text-anchor="{anchor}">'
                       f'{esc(word)}</text>')
        out.append("</g>")
    out += _marker_svg(r, ax, 0, bottom)
    out.append("</svg>")
    return "\n".join(out)


def _text_w(text: str, px: float = 6.2) -> float:
    """Rough width of a label in the chart font (bold 10 px); a Hangul character is about two
    Latin ones wide."""
    return px * cell_width(text) + 4


def _label_rows(labels: list[tuple[float, str]]) -> list[int]:
    """A row for each (x, text) label so that labels in one row do not overlap."""
    ends: list[float] = []
    out = []
    for x, text in labels:
        w = _text_w(text)
        left = x - w - 3 if x + w > WIDTH else x
        for row, end in enumerate(ends):
            if left > end + 6:
                ends[row] = left + w
                out.append(row)
                break
        else:
            ends.append(left + w)
            out.append(len(ends) - 1)
    return out


def p_chart(r: Report) -> str:
    """P(on time) over the run, the policy confidence line and the alerts."""
    h, sm = r.history, r.summary
    t0, t1 = span(r)
    alerts = r.alerts
    band = 11 * max(1, len(_markers(r))) + 4
    top = band + 22
    plot_h = 140
    bottom = top + plot_h
    ax = Axis(t0, t1, LABEL_W, WIDTH - RIGHT_PAD)
    rows = _label_rows([(ax.x(a.at), f"{r.clock(a.at)} {level_word(a.level)}") for a in alerts])
    height = bottom + 22 + 12 * (max(rows, default=0) + 1)

    def y(p: float) -> float:
        return bottom - plot_h * p

    out = [f'<svg class="pchart" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
           f'height="{height:.0f}" role="img" aria-label="{esc(_("Chance of resuming on time over the run"))}" '
           'xmlns="http://www.w3.org/2000/svg">']
    out += _axis_svg(r, ax, top, bottom)
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<line class="grid" x1="{ax.x0:.1f}" y1="{y(p):.1f}" x2="{ax.x1:.1f}" '
                   f'y2="{y(p):.1f}"/>')
        out.append(f'<text class="tick" x="{ax.x0 - 6:.1f}" y="{y(p) + 3.5:.1f}" '
                   f'text-anchor="end">{round(p * 100)}%</text>')
    conf = sm.confidence
    out.append(f'<line class="conf" x1="{ax.x0:.1f}" y1="{y(conf):.1f}" x2="{ax.x1:.1f}" '
               f'y2="{y(conf):.1f}"/>')
    out.append(f'<text class="conf-label" x="{ax.x0 + 4:.1f}" y="{y(conf) - 4:.1f}">'
               f'{esc(_("policy: on track at {confidence} or more").format(confidence=pct(conf)))}'
               '</text>')
    out.append(f'<text class="axis-title" x="{ax.x0 - 40:.1f}" y="{top + plot_h / 2:.1f}" '
               f'text-anchor="middle" transform="rotate(-90 {ax.x0 - 40:.1f} '
               f'{top + plot_h / 2:.1f})">{esc(_("P(on time)"))}</text>')
    pts = [p for p in h.points if sm.resumed_at is None or p.at <= sm.resumed_at]
    if pts:
        line = " ".join(f"{ax.x(p.at):.1f},{y(p.p_on_time):.1f}" for p in pts)
        area = (f"{ax.x(pts[0].at):.1f},{bottom:.1f} {line} "
                f"{ax.x(pts[-1].at):.1f},{bottom:.1f}")
        out.append(f'<polygon class="area" points="{area}"/>')
        out.append(f'<polyline class="pline" points="{line}"/>')
        below = sm.first_below_confidence_at
        if below is not None:
            p0 = min(pts, key=lambda p: abs((p.at - below).total_seconds()))
            out.append(f'<circle class="below" cx="{ax.x(below):.1f}" cy="{y(p0.p_on_time):.1f}" '
                       f'r="3.5"><title>'
                       f'{esc(_("first below {confidence}: {time}").format(confidence=pct(conf), time=r.clock(below)))}'
                       '</title></circle>')
    else:
        out.append(f'<text class="tick" x="{(ax.x0 + ax.x1) / 2:.1f}" y="{y(0.5):.1f}" '
                   f'text-anchor="middle">{esc(_("no forecast history"))}</text>')
    for a, row in zip(alerts, rows, strict=True):
        x = ax.x(a.at)
        colour = LEVEL_COLOURS.get(a.level, "#334155")
        p = a.payload.get("p_on_time")
        cy = y(float(p)) if isinstance(p, int | float) and a.level != "resumed" else bottom
        ly = bottom + 14 + 12 * row
        word = level_word(a.level)
        label = f"{r.clock(a.at)} {word}"
        anchor, dx = ("end", -3) if x + _text_w(label) > WIDTH else ("start", 3)
        out.append(f'<g class="alert"><title>{esc(r.clock(a.at) + " " + word + ": " + a.text)}'
                   '</title>')
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{ly - 9:.1f}" '
                   f'stroke="{colour}" class="aline"/>')
        out.append(f'<path d="M{x:.1f} {cy - 5:.1f}l5 5l-5 5l-5 -5z" fill="{colour}"/>')
        out.append(f'<text class="alabel" x="{x + dx:.1f}" y="{ly:.1f}" fill="{colour}" '
                   f'text-anchor="{anchor}">{esc(label)}</text></g>')
    out += _marker_svg(r, ax, 0, bottom)
    out.append("</svg>")
    return "\n".join(out)
