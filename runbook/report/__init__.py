"""Post-run timing log: one report structure, five exporters (md, csv, json, html, xlsx).

    report = build(info, events, now=clock.now())   # runbook.report.model
    text = render(report, "html")
    data = render_bytes(report, "xlsx")              # a workbook (needs the xlsx extra)

Never imports Textual; reads nothing from disk (the plan comes from the stored runbook text).
"""

from __future__ import annotations

from collections.abc import Callable

from runbook.report.history import History, HistoryPoint
from runbook.report.model import (
    ABORTED,
    FINISHED,
    IN_PROGRESS,
    Report,
    StepRow,
    Summary,
    build,
)

FORMATS = ("md", "csv", "json", "html")
BINARY_FORMATS = ("xlsx",)


def _renderer(fmt: str) -> Callable[[Report], str]:
    if fmt == "md":
        from runbook.report.md import render_md as fn
    elif fmt == "csv":
        from runbook.report.csv_out import render_csv as fn
    elif fmt == "json":
        from runbook.report.json_out import render_json as fn
    elif fmt == "html":
        from runbook.report.html import render_html as fn
    else:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fn


def render(report: Report, fmt: str) -> str:
    """The report as text in ``fmt`` (md, csv, json or html)."""
    return _renderer(fmt)(report)


def render_bytes(report: Report, fmt: str) -> bytes:
    """The report in a binary format (xlsx), or a text format encoded as UTF-8."""
    if fmt == "xlsx":
        from runbook.report.xlsx import render_xlsx

        return render_xlsx(report)
    return render(report, fmt).encode("utf-8")


__all__ = ["ABORTED", "BINARY_FORMATS", "FINISHED", "FORMATS", "IN_PROGRESS", "History", "HistoryPoint", "Report",
           "StepRow", "Summary", "build", "render", "render_bytes"]
