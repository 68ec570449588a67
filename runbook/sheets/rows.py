"""Which rows below a header are steps, headings, totals or the rest of the step above.

* blank rows are skipped; a totals row (합계, 계, Total) is skipped;
* a row with a single filled cell (a phase heading such as '사전 작업', usually merged across the
  row) is a heading: it is skipped, unless it names a contingency ('원복 절차', '롤백',
  'Rollback'), in which case the rows below it are that contingency's steps;
* a cell merged down several rows applies to each of them (an owner over a group of steps),
  except in the number or id column, where the rows are one step whose extra lines join its
  notes, command and check; a duration merged over several steps is refused (whose is it?);
* a row without a number, estimate or owner under a numbered step continues that step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook.sheets import SheetProblem
from runbook.sheets import values as v
from runbook.sheets.columns import DURATION_FIELDS, Columns, heading_key
from runbook.sheets.read import Table

CONTINGENCY_WORDS = ("원복", "롤백", "rollback", "contingency", "fallback", "backout", "비상",
                     "복구절차", "복구계획")
TOTAL_WORDS = {"합계", "계", "총계", "소계", "total", "totals", "sum", "총소요시간", "합"}
TEXT_FIELDS = ("command", "check", "notes")



def is_contingency(text: Any) -> bool:
    return isinstance(text, str) and heading_key(text).startswith(CONTINGENCY_WORDS)


@dataclass
class Row:
    row: int
    cells: dict[str, tuple[Any, int]]  # field -> (value, column)
    extra: list[int] = field(default_factory=list)  # continuation rows folded in


class RowReader:
    """The row-reading half of the importer (``fail`` and ``report`` come from it)."""

    problems: list[SheetProblem]
    report: list[str]
    formula_cells: int

    def fail(self, message: str, table: Table | None = None, row: int | None = None,
             column: int | None = None, cols: Columns | None = None) -> None:
        header = cols.heading(column) if cols is not None and column is not None else None
        self.problems.append(SheetProblem(message, table.name if table else None, row, column,
                                          header or None))

    # -- rows ----------------------------------------------------------------------------------

    def rows(self, table: Table, cols: Columns, path: str, sheet: str | None
             ) -> list[tuple[str, str, Table, Columns, list[Row]]]:
        """[(path id, path title, table, columns, rows)] for the steps below the header."""
        filled, spans = _fill_down(table)
        id_col = cols.fields.get("id") or cols.fields.get("number")
        # a lone cell in these columns continues the step above; elsewhere it is a heading
        running = {cols.fields[f] for f in ("title", *TEXT_FIELDS) if f in cols.fields}
        groups: list[tuple[str, str, Table, Columns, list[Row]]] = [
            (path, sheet or path, table, cols, [])]
        skipped: list[str] = []
        for r in range(cols.header_row + 1, len(table.rows) + 1):
            raw = [(c, x) for c, x in enumerate(table.rows[r - 1], start=1) if x is not None]
            cells = {name: (filled[r - 1][col - 1] if col - 1 < len(filled[r - 1]) else None, col)
                     for name, col in cols.fields.items()}
            cells = {k: x for k, x in cells.items() if x[0] is not None}
            if not raw and not cells:
                continue
            steps = groups[-1][4]
            inside = id_col is not None and spans.get((r, id_col), r) < r
            bare = (id_col is not None and "id" not in cells and "number" not in cells
                    and not any(f in cells for f in (*DURATION_FIELDS, "owner")))
            if len(raw) == 1 and (_wide(table, r, raw[0][0]) or is_contingency(raw[0][1])
                                  or raw[0][0] not in running or (bare and not steps)):
                text = v.text_of(raw[0][1])
                if is_contingency(text):
                    groups.append((text, text, table, cols, []))
                    self.report.append(f"  row {r}: {text!r} starts a contingency")
                else:
                    skipped.append(f"{r} ({text!r})")
                continue
            key = heading_key(v.text_of(cells.get("number", cells.get("title", (None, 0)))[0]))
            if key in TOTAL_WORDS or heading_key(v.text_of(cells.get("title", (None, 0))[0])) in TOTAL_WORDS:
                skipped.append(f"{r} (totals)")
                continue
            if steps and (inside or bare):
                self.fold(steps[-1], cells, r, table, cols, spans)
                continue
            for name in DURATION_FIELDS:
                if name in cells and spans.get((r, cells[name][1]), r) != r:
                    self.fail("this duration is merged over several steps' rows; give each step "
                              "its own estimate (or make them one step)", table, r, cells[name][1],
                              cols)
            steps.append(Row(r, cells))
        where = f"sheet {sheet!r} " if sheet else ""
        if skipped:
            self.report.append(f"  {where}rows skipped: {', '.join(skipped)}")
        folded = [f"{x} -> {r.row}" for g in groups for r in g[4] for x in r.extra]
        if folded:
            self.report.append(f"  {where}rows continuing the step above (joined to its notes, "
                               f"command and check): {', '.join(folded)}")
        self.check_formulas(table, cols, groups)
        return groups

    def fold(self, step: Row, cells: dict[str, tuple[Any, int]], r: int, table: Table,
             cols: Columns, spans: dict[tuple[int, int], int]) -> None:
        """A continuation row's cells into ``step``: text appended, a second estimate refused."""
        step.extra.append(r)
        for name, (value, col) in cells.items():
            if spans.get((r, col), r) < r:
                continue  # the merged cell's value, already in the first row
            if name == "title":
                name = "notes"
            if name in TEXT_FIELDS:
                old = step.cells.get(name)
                text = v.text_of(value)
                step.cells[name] = ((v.text_of(old[0]) + "\n" + text) if old else text,
                                    old[1] if old else col)
            elif name not in step.cells:
                step.cells[name] = (value, col)
            elif name in DURATION_FIELDS:
                self.fail(f"row {r} continues the step of row {step.row} (same number) but gives a "
                          "second estimate; give the step's estimate once", table, r, col, cols)

    def check_formulas(self, table: Table, cols: Columns, groups: list) -> None:
        used = set(cols.fields.values())
        for (row, col), formula in sorted(table.formulas.items()):
            if row <= cols.header_row or col not in used:
                continue
            self.formula_cells += 1
            if table.value(row, col) is None:
                self.fail(f"formula {formula[:60]} has no saved value (the file was last saved by "
                          "a program that does not calculate); open and save it in Excel, or type "
                          "the value — formulas are never evaluated here", table, row, col, cols)


def _wide(table: Table, row: int, col: int) -> bool:
    return any(r1 == row and c1 == col and c2 > c1 for r1, c1, r2, c2 in table.merged)


def _fill_down(table: Table) -> tuple[list[list[Any]], dict[tuple[int, int], int]]:
    """Rows with each vertically merged cell's value in every row it spans (first column of the
    range), and (row, column) -> first row of the merge, for cells inside one."""
    rows = [list(r) for r in table.rows]
    spans: dict[tuple[int, int], int] = {}
    for r1, c1, r2, _c2 in table.merged:
        if r2 <= r1:
            continue
        value = table.value(r1, c1)
        for r in range(r1, min(r2, len(rows)) + 1):
            spans[(r, c1)] = r1
            while len(rows[r - 1]) < c1:
                rows[r - 1].append(None)
            rows[r - 1][c1 - 1] = value
    return rows, spans
