"""``runbook report --format csv``: one row per step, a header row, RFC 4180 quoting, UTF-8.

The first eleven columns are the step columns of DESIGN §4; the rest add what a spreadsheet user
needs without the JSON: owner, who did it, attempts, notes (one per line inside the cell) and the
run's id and status on every row (``in_progress`` marks figures that are not final), and the
reporting rule that applied with its first deadline (empty when no report is required). Customer
notices do not fit a row per step: the other formats list them. Times are
ISO 8601 with offset, durations whole seconds (fractions only where the log has them).
"""

from __future__ import annotations

import csv
import io

from runbook.format.safe import cell_text, csv_cell
from runbook.format.times import iso
from runbook.report.json_out import seconds
from runbook.report.model import Report

COLUMNS = (
    "id", "title", "path", "status", "started_at", "finished_at", "actual_s",
    "planned_optimistic_s", "planned_likely_s", "planned_pessimistic_s", "variance_s",
    "kind", "owner", "operators", "attempts", "failures", "notes", "reporting_rule",
    "report_due_by", "run_id", "run_status",
)


def _cell(value: object) -> object:
    """Formula-looking text neutralised (OWASP), control characters shown, numbers kept."""
    return csv_cell(cell_text(value) if isinstance(value, str) else value)


def render_csv(r: Report) -> str:
    out = io.StringIO(newline="")
    w = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow(COLUMNS)
    tz = r.tz
    ob = r.summary.obligation
    rule = ob.rule if ob is not None else "policy"
    for s in r.steps:
        notes = "\n".join(f"{r.clock(n.at)} {n.actor}: {n.text}" for n in s.notes)
        w.writerow([_cell(v) for v in (
            s.id, s.title, s.path, s.status, iso(s.started_at, tz), iso(s.finished_at, tz),
            seconds(s.actual_s), seconds(s.planned_optimistic_s), seconds(s.planned_likely_s),
            seconds(s.planned_pessimistic_s), seconds(s.variance_s), s.kind, s.owner,
            "; ".join(s.operators), s.attempts, s.failures, notes, rule,
            iso(r.summary.report_due_by, tz), r.info.id, r.status,
        )])
    return out.getvalue()
