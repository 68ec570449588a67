"""Spreadsheets in: a cutover plan kept in a workbook or a CSV file becomes a runbook.

    tables = read_tables(path)                    # runbook.sheets.read: cells, merged ranges
    result = import_plan(tables, options)         # runbook.sheets.build: YAML text + what mapped
    result.text                                   # validated by the runbook loader

Every problem is a :class:`SheetProblem` naming the sheet, the row and the column; all of them are
collected and raised together as one :class:`SheetError` (compiler style, exit code 2).
Spreadsheets out (the timing log as a workbook) live in :mod:`runbook.report.xlsx`.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbook.format.loader import LoadError, Located

MAX_PROBLEMS = 50


def column_letter(column: int) -> str:
    """1 -> A, 27 -> AA (as a spreadsheet names its columns)."""
    out = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        out = chr(65 + rest) + out
    return out


@dataclass(frozen=True)
class SheetProblem:
    message: str
    sheet: str | None = None  # None for a CSV file (it has one table)
    row: int | None = None  # 1-based, as the spreadsheet numbers it
    column: int | None = None  # 1-based
    header: str | None = None  # the column's heading, when it has one

    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            name = f"column {column_letter(self.column)}"
            if self.header:
                name += f" ({self.header})"
            parts.append(name)
        return ", ".join(parts)


class SheetError(LoadError):
    """A spreadsheet that cannot be imported: every problem, one line each, nothing written."""

    def __init__(self, source: str, problems: list[SheetProblem]) -> None:
        self.sheet_problems = problems
        super().__init__(source, [Located(p.message) for p in problems])

    def render(self, limit: int = MAX_PROBLEMS) -> str:
        lines = []
        for p in self.sheet_problems[:limit]:
            where = p.where()
            lines.append(f"{self.source}: {where + ': ' if where else ''}error: {p.message}")
        extra = len(self.sheet_problems) - limit
        if extra > 0:
            lines.append(f"{self.source}: ... and {extra} more problems")
        if len(self.sheet_problems) > 1:
            lines.append(f"{self.source}: {len(self.sheet_problems)} problems; nothing was written")
        return "\n".join(lines)


__all__ = ["SheetError", "SheetProblem", "column_letter"]
