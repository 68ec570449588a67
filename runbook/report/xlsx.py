"""``runbook report --format xlsx``: the timing log as a workbook a change manager opens.

Sheets: **Steps** (one row per step: planned start, actual start and finish, the three planned
durations, the actual one and the variance; frozen header, autofilter, an overrun coloured),
**Summary** (announced vs resumed, overrun, outage report required and due by, status, operators,
contingency, first warning), **Alerts** and **Notes**.

* Times are Excel date-times, local to the runbook's time zone (Excel has no time zones; the
  header of each sheet names the zone and its UTC offset).
* Durations are Excel time values (fractions of a day) shown ``[h]:mm:ss``. The variance is signed,
  and Excel's default (1900) date system shows a negative time as ``#####``, so the variance is a
  number of minutes (``+12.5`` / ``-3.0``) instead.
* Formula injection is impossible by construction: every text from the runbook or the operators
  is written as a string cell (``data_type`` forced to ``s``, an inline string in the XML, never
  ``<f>``), with Excel's quote prefix when it starts like a formula, so it stays text even when
  someone edits the cell. The only formulas in the file are the fixed conditional-formatting rules
  below, which read cells of this sheet and contain no user text.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from runbook.format.safe import FORMULA_START, terminal
from runbook.format.times import local
from runbook.i18n import N_, _
from runbook.report import text as t
from runbook.report.model import Report

TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DURATION_FORMAT = "[h]:mm:ss"
MINUTES_FORMAT = '+0.0" min";-0.0" min";0" min"'
MAX_CELL = 32_767  # Excel's limit on the characters in a cell
STEP_COLUMNS = (  # heading (in English; the sheet says it in the report's language), width
    ("#", 5), (N_("Step id"), None), (N_("Title"), 48), (N_("Path"), None), (N_("Kind"), None),
    (N_("Owner"), None), (N_("Status"), None), (N_("Planned start"), 19), (N_("Started"), 19),
    (N_("Finished"), 19), (N_("Optimistic"), 11), (N_("Likely"), 11), (N_("Pessimistic"), 11),
    (N_("Actual"), 11), (N_("Variance (min, actual - likely)"), 14),
    (N_("Over pessimistic"), 12), (N_("Attempts"), 9), (N_("Failures"), 9),
    (N_("Operators"), None), (N_("Notes"), 48),
)
HEADER_ROW = 4
KINDS = {"task": N_("task"), "check": N_("check"), "decision": N_("decision"),
         "comms": N_("comms"), "wait": N_("wait"), "milestone": N_("milestone")}
_XML_ILLEGAL = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    """User text for a cell: control characters shown as escapes (openpyxl refuses them and a
    terminal-style escape keeps them visible), at most Excel's 32,767 characters."""
    text = terminal(value.replace("\r\n", "\n"))
    text = _XML_ILLEGAL.sub("\ufffd", text)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def put(ws: Any, row: int, column: int, value: Any, number_format: str | None = None) -> Any:
    """One cell; text is always a string cell, never a formula."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        text = _text(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl would take '=...' for a formula and '#N/A' for an error
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True
    else:
        cell.value = value
    if number_format:
        cell.number_format = number_format
    return cell


def _when(instant: datetime | None, tz: str) -> datetime | None:
    """A local, naive date-time (Excel's kind), whole seconds."""
    if instant is None:
        return None
    return local(instant, tz).replace(tzinfo=None, microsecond=0)


def _iso_when(text: Any, tz: str) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return _when(datetime.fromisoformat(text), tz)
    except ValueError:
        return None


def _span(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(seconds))


def _zone_words(r: Report, times: list[datetime | None]) -> str:
    offsets = sorted({t.offset(x, r.tz) for x in times if x is not None} or
                     {t.offset(r.as_of, r.tz)})
    return f"{r.tz} (UTC{' / UTC'.join(offsets)})"


def render_xlsx(r: Report) -> bytes:
    from runbook.sheets.read import need_openpyxl

    openpyxl = need_openpyxl("--format xlsx")
    wb = openpyxl.Workbook()
    stamp = _when(r.as_of, "UTC")
    wb.properties.creator = "runbook"
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.title = _text(_("{title} - timing log").format(title=r.plan.title))
    _steps(wb.active, r, openpyxl)
    _summary(wb.create_sheet(_("Summary")), r, openpyxl)
    _alerts(wb.create_sheet(_("Alerts")), r, openpyxl)
    _notes(wb.create_sheet(_("Notes")), r, openpyxl)
    if r.notices or r.plan.runbook.comms is not None:
        _notices(wb.create_sheet(_("Customer notices")), r, openpyxl)
    for ws in wb.worksheets:
        _fit_rows(ws)
    for ws in wb.worksheets:  # printed: landscape, as wide as the page, header on every page
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _title_rows(ws: Any, r: Report, title: str, zone: str, openpyxl: Any) -> None:
    put(ws, 1, 1, f"{r.plan.title} - {title}").font = openpyxl.styles.Font(bold=True, size=14)
    status = t.status_word(r.status)
    put(ws, 2, 1, _("Run {run} ({label}), {status}. Times are local to {zone}; durations are "
                    "[h]:mm:ss.").format(run=r.info.id, label=t.label(r.info.label),
                                         status=status, zone=zone))
    if r.in_progress:
        put(ws, 3, 1, t.in_progress_line(r)).font = openpyxl.styles.Font(bold=True,
                                                                         color="9C0006")


def _header(ws: Any, row: int, names: list[str], openpyxl: Any) -> None:
    styles = openpyxl.styles
    for col, name in enumerate(names, start=1):
        cell = put(ws, row, col, name)
        cell.font = styles.Font(bold=True)
        cell.fill = styles.PatternFill("solid", fgColor="D9E1F2")
        cell.alignment = styles.Alignment(wrap_text=True, vertical="top")


def _steps(ws: Any, r: Report, openpyxl: Any) -> None:
    ws.title = _("Steps")
    tz = r.tz
    times = [x for s in r.steps for x in (s.planned_start, s.started_at, s.finished_at)]
    _title_rows(ws, r, _("timing log"), _zone_words(r, times), openpyxl)
    _header(ws, HEADER_ROW, [_(name) if name != "#" else name for name, _w in STEP_COLUMNS],
            openpyxl)
    wrap = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    row = HEADER_ROW
    for n, s in enumerate(r.steps, start=1):
        row += 1
        actual = s.actual_s if s.actual_s is not None else s.elapsed_s
        status = t.step_status(s.status) + (_(" (so far)") if s.elapsed_s is not None else "")
        notes = "\n".join(f"{r.clock(x.at)} {x.actor}: {x.text}" for x in s.notes)
        values: list[tuple[Any, str | None]] = [
            (n, None), (s.id, None), (s.title, None), (s.path, None),
            (_(KINDS[s.kind]) if s.kind in KINDS else s.kind, None),
            (s.owner or "", None), (status, None),
            (_when(s.planned_start, tz), TIME_FORMAT), (_when(s.started_at, tz), TIME_FORMAT),
            (_when(s.finished_at, tz), TIME_FORMAT),
            (_span(s.planned_optimistic_s), DURATION_FORMAT),
            (_span(s.planned_likely_s), DURATION_FORMAT),
            (_span(s.planned_pessimistic_s), DURATION_FORMAT),
            (_span(actual), DURATION_FORMAT),
            (None if s.variance_s is None else round(s.variance_s / 60, 1), MINUTES_FORMAT),
            (_("yes") if s.over_pessimistic else "", None), (s.attempts, None), (s.failures, None),
            (", ".join(s.operators), None), (notes, None),
        ]
        for col, (value, fmt) in enumerate(values, start=1):
            cell = put(ws, row, col, value, fmt)
            if col in (3, 20):
                cell.alignment = wrap
    last = max(row, HEADER_ROW + 1)
    _overrun_colours(ws, last, openpyxl)
    ws.freeze_panes = f"D{HEADER_ROW + 1}"  # the header and the step's number, id and title
    ws.auto_filter.ref = f"A{HEADER_ROW}:{_letter(len(STEP_COLUMNS))}{last}"
    _widths(ws, [w for _name, w in STEP_COLUMNS], HEADER_ROW)


def _overrun_colours(ws: Any, last: int, openpyxl: Any) -> None:
    """Amber: slower than the likely estimate; red: slower than the pessimistic one. Colour is not
    the only sign: the variance has its sign and 'Over pessimistic' says yes."""
    from openpyxl.formatting.rule import CellIsRule, FormulaRule

    styles = openpyxl.styles
    first = HEADER_ROW + 1
    red = styles.PatternFill("solid", fgColor="FFC7CE", bgColor="FFC7CE")
    amber = styles.PatternFill("solid", fgColor="FFEB9C", bgColor="FFEB9C")
    ws.conditional_formatting.add(
        f"A{first}:{_letter(len(STEP_COLUMNS))}{last}",
        FormulaRule(formula=[f'$P{first}="{_("yes")}"'], fill=red,
                    font=styles.Font(color="9C0006"), stopIfTrue=True))
    ws.conditional_formatting.add(
        f"O{first}:O{last}",
        CellIsRule(operator="greaterThan", formula=["0"], fill=amber,
                   font=styles.Font(color="9C5700")))


def _summary(ws: Any, r: Report, openpyxl: Any) -> None:
    sm, tz = r.summary, r.tz
    times = [sm.window_start, sm.announced_resume, sm.resumed_at, sm.report_due_by]
    _title_rows(ws, r, _("summary"), _zone_words(r, times), openpyxl)
    c = sm.contingency
    required = _("Outage report required")
    rows: list[tuple[str, Any, str | None]] = [
        (_("Runbook"), f"{r.plan.title} ({r.plan.id})", None),
        (_("Run"), f"{r.info.id} ({t.label(r.info.label)})", None),
        (_("Status"), t.status_word(r.status), None),
        (_("Time zone"), tz, None),
        (_("Window start"), _when(sm.window_start, tz), TIME_FORMAT),
        (_("Announced resume"), _when(sm.announced_resume, tz), TIME_FORMAT),
        (_("Resumed at"), _when(sm.resumed_at, tz) or t.resume_line(r), TIME_FORMAT),
        (_("Resumed vs announced"), t.resume_line(r), None),
        (_("Overrun"), _span(sm.overrun_s), DURATION_FORMAT),
        (required, _("YES") if sm.outage_report_required else _("no"), None),
        (_("Outage report"), t.outage_line(r), None),
        (_("Report due by"), _when(sm.report_due_by, tz) or "-", TIME_FORMAT),
        (_("Reporting rule"), t.rule_line(r), None),
        *(() if sm.obligation is None or not sm.obligation.named else
          [(_("Report threshold"), sm.obligation.threshold_text, None)] +
          [(_cap(_("{deadline} due by").format(deadline=_(d.name))), _when(d.due, tz),
            TIME_FORMAT)
           for d in (sm.obligation.deadlines if sm.obligation.required else ())]),
        *(() if sm.obligation is not None and sm.obligation.named else
          [(_("Report threshold (overrun past announced)"), _span(sm.outage_report_after_s),
            DURATION_FORMAT)]),
        (_("Planned (likely) resume"), _when(sm.planned_likely_resume, tz) or "-", TIME_FORMAT),
        (_("Hard deadline"), _when(sm.hard_deadline, tz) or "-", TIME_FORMAT),
        (_("Started"), _when(sm.started_at, tz) or "-", TIME_FORMAT),
        (_("Finished"), _when(sm.finished_at, tz) or "-", TIME_FORMAT),
        (_("Operators"), ", ".join(r.operators) or "-", None),
        (_("Contingency"), t.contingency_line(r), None),
        (_("Contingency triggered at"), _when(c.triggered_at, tz) if c else "-", TIME_FORMAT),
        (_("First warning"), t.warning_line(r), None),
        (_("First below confidence"), t.below_line(r), None),
        (_("Report as of"), _when(r.as_of, tz), TIME_FORMAT),
    ]
    if sm.abort_reason:
        rows.insert(3, (_("Abort reason"), sm.abort_reason, None))
    bold = openpyxl.styles.Font(bold=True)
    wrap = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    for n, (label, value, fmt) in enumerate(rows, start=HEADER_ROW + 1):
        put(ws, n, 1, label).font = bold
        cell = put(ws, n, 2, value, fmt if not isinstance(value, str) else None)
        cell.alignment = wrap
        if label == required and sm.outage_report_required:
            cell.font = openpyxl.styles.Font(bold=True, color="9C0006")
            cell.fill = openpyxl.styles.PatternFill("solid", fgColor="FFC7CE")
    _header(ws, HEADER_ROW, [_("Item"), _("Value")], openpyxl)
    ws.column_dimensions["A"].width = 42
    ws.column_dimensions["B"].width = 90


def _alerts(ws: Any, r: Report, openpyxl: Any) -> None:
    tz = r.tz
    _title_rows(ws, r, _("alerts"), _zone_words(r, [a.at for a in r.alerts]), openpyxl)
    _header(ws, HEADER_ROW, [_("At"), _("Level"), _("P(on time)"), _("P90 resume"),
                             _("Decide by"), _("Message")], openpyxl)
    wrap = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    for n, a in enumerate(r.alerts, start=HEADER_ROW + 1):
        p = a.payload.get("p_on_time")
        put(ws, n, 1, _when(a.at, tz), TIME_FORMAT)
        put(ws, n, 2, t.level_word(a.level))
        put(ws, n, 3, float(p) if isinstance(p, int | float) else None, "0%")
        put(ws, n, 4, _iso_when(a.payload.get("p90"), tz), TIME_FORMAT)
        put(ws, n, 5, _iso_when(a.payload.get("decision_deadline"), tz), TIME_FORMAT)
        put(ws, n, 6, a.text).alignment = wrap
    last = max(HEADER_ROW + len(r.alerts), HEADER_ROW + 1)
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:F{last}"
    _widths(ws, [19, 12, 11, 19, 19, 100], HEADER_ROW)


def _notes(ws: Any, r: Report, openpyxl: Any) -> None:
    tz = r.tz
    _title_rows(ws, r, _("notes"), _zone_words(r, [x.at for x in r.notes]), openpyxl)
    _header(ws, HEADER_ROW, [_("At"), _("Who"), _("Step"), _("Note")], openpyxl)
    wrap = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    for n, x in enumerate(r.notes, start=HEADER_ROW + 1):
        put(ws, n, 1, _when(x.at, tz), TIME_FORMAT)
        put(ws, n, 2, x.actor or "")
        put(ws, n, 3, x.step or "")
        put(ws, n, 4, x.text).alignment = wrap
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:D{max(HEADER_ROW + len(r.notes), HEADER_ROW + 1)}"
    _widths(ws, [19, None, None, 100], HEADER_ROW)


def _notices(ws: Any, r: Report, openpyxl: Any) -> None:
    """What customers were told: every notice copied or sent, its exact text."""
    tz = r.tz
    _title_rows(ws, r, _("customer notices"), _zone_words(r, [n.at for n in r.notices]), openpyxl)
    _header(ws, HEADER_ROW, [_("At"), _("Who"), _("Level"), _("Lang"), _("How"), _("Text")],
            openpyxl)
    wrap = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    for n, (notice, row) in enumerate(zip(r.notices, t.notice_rows(r), strict=True),
                                      start=HEADER_ROW + 1):
        put(ws, n, 1, _when(notice.at, tz), TIME_FORMAT)
        for col, value in enumerate(row[1:5], start=2):
            put(ws, n, col, value)
        put(ws, n, 6, notice.text).alignment = wrap
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:F{max(HEADER_ROW + len(r.notices), HEADER_ROW + 1)}"
    _widths(ws, [19, None, 12, 6, 24, 90], HEADER_ROW)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fit_rows(ws: Any) -> None:
    """Row heights for wrapped text (neither Excel nor LibreOffice always fits them on opening)."""
    from openpyxl.styles import Alignment

    ws.row_dimensions[HEADER_ROW].height = 30
    for row in ws.iter_rows(min_row=HEADER_ROW + 1):
        lines = 1
        for cell in row:
            left = "left" if ws.title == _("Summary") else None  # dates beside their labels
            cell.alignment = Alignment(wrap_text=bool(cell.alignment and cell.alignment.wrap_text),
                                       vertical="top", horizontal=left)
            if not isinstance(cell.value, str) or not (cell.alignment and cell.alignment.wrap_text):
                continue
            width = ws.column_dimensions[cell.column_letter].width or 10
            per_line = max(1, int(width) - 1)
            lines = max(lines, sum(max(1, -(-_display_width(part) // per_line))
                                   for part in cell.value.split("\n")))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = min(15 * lines, 400)


def _letter(column: int) -> str:
    from runbook.sheets import column_letter

    return column_letter(column)


def _display_width(text: str) -> int:
    """Columns a line takes: Hangul and other wide characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _widths(ws: Any, hints: list[int | None], header: int) -> None:
    for col, hint in enumerate(hints, start=1):
        letter = _letter(col)
        if hint is not None:
            ws.column_dimensions[letter].width = hint
            continue
        longest = 6
        for (cell,) in ws.iter_rows(min_row=header, min_col=col, max_col=col):
            if isinstance(cell.value, str):
                longest = max(longest, *(_display_width(line) for line in cell.value.split("\n")))
        ws.column_dimensions[letter].width = min(longest + 2, 40)
