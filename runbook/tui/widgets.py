"""Widgets: each shows one part of a :class:`~runbook.tui.view.Snapshot`. Attributes down only.

The domain (levels, the engine's words, durations) is imported where a snapshot is shown, not at
the top: the first frame is drawn before the run is loaded, and importing the domain (its
runbook model) would cost that frame a tenth of a second."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from runbook.i18n import N_, _
from runbook.tui.text import line, lines, plain

if TYPE_CHECKING:
    from runbook.format.model import Level
    from runbook.tui.view import Snapshot


def level_class(level: Level | str) -> str:
    return f"level-{getattr(level, 'value', level)}"


LEVELS = ("on_track", "at_risk", "decide_now", "late", "resumed")  # runbook.format.model.Level
LEVEL_CLASSES = [level_class(level) for level in LEVELS] + ["level-aborted", "level-finished"]


def set_level_class(widget: Widget, level: Level, ended: str | None = None) -> None:
    """Swap the level class only when it changes (each change restyles the widget); a run
    that has ended takes ``level-aborted`` or ``level-finished`` instead."""
    want = f"level-{ended}" if ended else level_class(level)
    if not widget.has_class(want):
        widget.remove_class(*LEVEL_CLASSES)
        widget.add_class(want)


def bar(p: float, width: int = 10) -> str:
    """P(on time) as a bar of eighths: ``███████▌░░``."""
    eighths = round(max(0.0, min(1.0, p)) * width * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if part else ""
    text = "█" * full + partial
    return (text + "░" * width)[:width]


class RunHeader(Horizontal):
    """Title, the time in the runbook's zone, elapsed, countdown, and the level as a word."""

    def __init__(self, title: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._title = title  # until the first snapshot

    def compose(self) -> ComposeResult:
        yield Static(plain(self._title, newlines=False), id="title")
        yield Static(id="clock")
        yield Static(id="level")  # the level is not known until the run is loaded

    def show(self, snap: Snapshot) -> None:
        self.query_one("#title", Static).update(plain(snap.plan.title, newlines=False))
        width = self.size.width or self.app.size.width
        self.query_one("#clock", Static).update(plain(snap.header_text(width)))
        level = self.query_one("#level", Static)
        level.update(plain(f" {snap.word} "))
        set_level_class(level, snap.level, ended="aborted" if snap.state.aborted else
                        "finished" if snap.state.finished else None)


class ModeLine(Static):
    """Who is at the keys: the operator, a read-only watcher, or the demo script."""

    def show(self, text: str, warnings: tuple[str, ...] = ()) -> None:
        """``warnings`` (clock skew, store unreachable) come first, so a narrow screen keeps
        them."""
        parts: list = []
        for w in warnings:
            parts += [(f"⚠ {w}", "bold $text-warning"), " · "]
        self.update(line(*parts, plain(text, newlines=False)))


class MessageLine(Static):
    """What the last action did, or why a key did nothing: one line above the timeline.

    It replaces toasts, which covered the timeline, the step details or a dialog."""

    KINDS = ("information", "done", "warning", "error", "saving")

    def say(self, text: str | Content, kind: str = "information") -> None:
        self.remove_class(*(f"-{k}" for k in self.KINDS))
        self.add_class(f"-{kind}")
        self.update(text if isinstance(text, Content) else plain(text, newlines=False))


class AlertBanner(Static):
    """The live alert message while the level is at risk or worse; esc hides it until the next
    worsening."""

    def show(self, snap: Snapshot, hidden_level: Level | None) -> None:
        from runbook.engine.risk import word

        visible = snap.banner is not None and hidden_level != snap.level
        self.display = visible
        if not visible:
            return
        set_level_class(self, snap.level)
        self.update(line((f"⚠ {word(snap.level)}", "bold"), "  ", snap.banner or "",
                         ("  " + _("esc hides"), "dim")))


class NoticeLine(Static):
    """The customer notice for the level shown (runbook ``comms:``), with the key that copies it;
    hidden while there is none. Watchers see it without the key."""

    def show(self, snap: Snapshot, key: str | None) -> None:
        from runbook.engine.risk import word

        n = snap.notice
        self.display = n is not None
        if n is None:
            return
        how = "  " + (_("{key} copies it").format(key=key) if key else _("(read-only)"))
        self.update(line((_("Customer notice ({lang}, {level})").format(
            lang=n.lang, level=word(n.level)), "bold"), " ",
                         (n.text, "$text"), (how, "dim")))


class ForecastPanel(Static):
    """P50/P90 resume, P(on time) as a number and a bar, the decision deadline, what to do."""

    def show(self, snap: Snapshot, banner: bool = False) -> None:
        """With the banner up, the banner says what to do; the panel keeps to the numbers."""
        from runbook.format.model import Level
        from runbook.tui.view import run_fact

        p = snap.p_on_time()
        first = [snap.resume_line()]
        if p is not None and snap.forecast is not None and not snap.forecast.resumed \
                and not snap.state.finished:
            colour = {Level.on_track: "$success", Level.at_risk: "$warning"}.get(snap.level, "$error")
            first.append((f"  ▕{bar(p)}▏", f"bold {colour}"))
        rows = [line(*first), *(plain(t) for t in snap.report_lines()),
                *(plain(t) for t in snap.contingency_lines())]
        if not banner or run_fact(snap) is not None:
            rows.append(line((_("Do now:"), "bold"), " ", snap.do_now()))
        self.update(lines(rows))


KINDS = {"task": N_("task"), "check": N_("check"), "decision": N_("decision"),
         "comms": N_("comms"), "wait": N_("wait"), "milestone": N_("milestone")}

class StepDetail(VerticalScroll):
    """The selected step: instructions, command (shown, copyable, never run), check, notes."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-text")

    def show(self, snap: Snapshot, step_id: str | None) -> None:
        title, body = detail(snap, step_id)
        self.border_title = title
        self.query_one("#detail-text", Static).update(body)


def detail(snap: Snapshot, step_id: str | None) -> tuple[Content, Content]:
    """(border title, body) for the selected step; every user text through :mod:`text`."""
    from runbook.engine.state import ABANDONED, COMPLETED, FAILED, READY, RUNNING, SKIPPED
    from runbook.format.durations import duration_text

    row = snap.row(step_id)
    if row is None:
        return plain(_("Step")), plain(_("No step selected."))
    s, st = row.step, row.st
    rows: list[Content] = [plain(s.title, "bold")]
    head: list = [_("{kind} · owner {owner}").format(kind=_(KINDS.get(s.kind, s.kind)),
                                                      owner=s.owner or "-")]
    if row.critical:
        head += [" · ", (_("◆ critical path"), "bold")]
    head.append(_(" · path {path}").format(path=s.path))
    rows.append(line(*head))
    plan = _("Plan {optimistic} / {likely} / {pessimistic} (best / likely / worst)").format(
        optimistic=duration_text(s.optimistic), likely=duration_text(s.likely),
        pessimistic=duration_text(s.pessimistic))
    if st.started_at is not None:
        plan += _(" · started {time}").format(time=snap.at(st.started_at))
        if st.started_by:
            plan += _(" by {who}").format(who=st.started_by)
        if st.finished_at is not None:
            plan += _(" · ended {time}").format(time=snap.at(st.finished_at))
        elif st.status == FAILED and st.failed_at is not None:
            plan += _(" · failed {time}").format(time=snap.at(st.failed_at))
        plan += (_(" · took {taken}") if st.status in (COMPLETED, SKIPPED, ABANDONED, FAILED)
                 else _(" · {taken} so far")).format(taken=row.taken)
        if row.variance:
            plan += (_(" ({variance} vs likely; past worst case)") if row.over
                     else _(" ({variance} vs likely)")).format(variance=row.variance)
    if st.attempts > 1 or st.failures:
        plan += _(" · attempts {attempts}, failures {failures}").format(
            attempts=st.attempts, failures=st.failures)
    rows.append(plain(plan))
    if s.resumes_service:
        rows.append(plain(_("Completing this step resumes service."), "bold"))
    if s.command:
        rows.append(line((_("Command"), "bold"),
                         ("  " + _("y copies it; runbook never runs it"), "dim")))
        rows.append(line("  ", (s.command, "$accent")))
    if s.check:
        rows.append(line((_("Check"), "bold"), "  ", s.check))
    if s.notes:
        rows.append(line((_("Notes"), "bold"), "  ", s.notes))
    for n in st.notes:
        rows.append(line((f"{snap.at(n.at)} {n.actor}:", "dim"), " ", n.text))
    hint = {READY: N_("s starts this step; space starts the next one in order."),
            RUNNING: N_("d marks it done, f failed; space completes it and starts the next."),
            FAILED: N_("s retries it, k skips it, c triggers a contingency, n adds a note.")
            }.get(st.status)
    if hint:
        rows.append(plain(_(hint), "dim"))
    return plain(f"{s.id} · {row.status}", newlines=False), lines(rows)


TIMELINE_STYLE = {
    "━": "$primary", "─": "$primary", "█": "$success", "▆": "$success", "▒": "$accent",
    "░": "$text-muted", "·": "$text-muted", "│": "$error", "D": "bold $error", "▲": "bold",
    "╌": "dim",
}


class TimelineStrip(Widget):
    """Planned vs actual bars, the forecast to P50/P90, now, the decision deadline, the announced
    resume."""

    DEFAULT_CSS = """
    TimelineStrip { height: 3; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._snap: Snapshot | None = None

    def show(self, snap: Snapshot) -> None:
        self._snap = snap
        self.refresh()

    def render(self) -> Content:
        if self._snap is None:
            return Content("")
        rows = self._snap.timeline_rows(self.size.width)
        return lines(line(*[(run, TIMELINE_STYLE.get(run[0], "")) for run in _runs(text)])
                     for text in rows)


def _runs(line: str) -> list[str]:
    """``line`` cut into runs of one repeated character."""
    out: list[str] = []
    for ch in line:
        if out and out[-1][0] == ch:
            out[-1] += ch
        else:
            out.append(ch)
    return out


