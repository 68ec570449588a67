"""A cutover sheet -> runbook YAML, validated by the runbook loader before anyone writes it.

One row per step below the header (see :mod:`runbook.sheets.columns`). Rows are read like this:

* blank rows are skipped; a totals row (합계, 계, Total) is skipped;
* a row with a single filled cell (a phase heading such as '사전 작업', usually merged across the
  row) is a heading: it is skipped, unless it names a contingency ('원복 절차', '롤백',
  'Rollback'), in which case the rows below it are that contingency's steps;
* a sheet named like a contingency ('원복계획', 'Rollback') holds a contingency's steps too;
* a cell merged down several rows applies to each of them (an owner over a group of steps),
  except in the number or id column, where the rows are one step whose extra lines join its
  notes, command and check; a duration merged over several steps is refused (whose is it?);
* a row without a number, estimate or owner under a numbered step continues that step.

Step ids come from the id column, else the number column (``3``, ``3.1``), else the row order;
a contingency's numbered steps get its id in front (``rollback-1``). Depends-on cells name
numbers or ids (``3, 4``, ``2~4``, ``-`` for none; empty = the step above).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.format.loader import Loaded, LoadError, load_text
from runbook.sheets import SheetError, SheetProblem, column_letter
from runbook.sheets import values as v
from runbook.sheets.columns import DURATION_FIELDS, Columns, find_header, heading_key, match_columns
from runbook.sheets.emit import SCHEMA_URL, Flow, FlowList, Origin, emit
from runbook.sheets.read import Table, Workbook
from runbook.sheets.window import Header, compose, from_option, is_info_sheet, missing, read_pairs

CONTINGENCY_WORDS = ("원복", "롤백", "rollback", "contingency", "fallback", "backout", "비상",
                     "복구절차", "복구계획")
TOTAL_WORDS = {"합계", "계", "총계", "소계", "total", "totals", "sum", "총소요시간", "합"}
TEXT_FIELDS = ("command", "check", "notes")


@dataclass
class Options:
    sheet: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    unit: str | None = None  # 's' | 'm' | 'h' for plain numbers under a heading without a unit
    window: dict[str, str] = field(default_factory=dict)  # title, id, timezone, start, ... (CLI)
    name: str = "runbook.yaml"  # the output's name: messages, default id, schema path
    schema: str = SCHEMA_URL


@dataclass
class Imported:
    text: str
    loaded: Loaded
    report: list[str]


def is_contingency(text: Any) -> bool:
    return isinstance(text, str) and heading_key(text).startswith(CONTINGENCY_WORDS)


@dataclass
class _Row:
    row: int
    cells: dict[str, tuple[Any, int]]  # field -> (value, column)
    extra: list[int] = field(default_factory=list)  # continuation rows folded in


class _Import:
    def __init__(self, book: Workbook, opts: Options) -> None:
        self.book, self.opts = book, opts
        self.problems: list[SheetProblem] = []
        self.report: list[str] = []
        self.formula_cells = 0

    def fail(self, message: str, table: Table | None = None, row: int | None = None,
             column: int | None = None, cols: Columns | None = None) -> None:
        header = cols.heading(column) if cols is not None and column is not None else None
        self.problems.append(SheetProblem(message, table.name if table else None, row, column,
                                          header or None))

    # -- tables --------------------------------------------------------------------------------

    def steps_table(self) -> tuple[Table, int] | None:
        tables = self.book.tables
        if self.opts.sheet is not None:
            named = [t for t in tables if t.name == self.opts.sheet] or [
                t for t in tables if (t.name or "").lower() == self.opts.sheet.lower()]
            if not named:
                names = ", ".join(repr(t.name) for t in tables)
                self.fail(f"--sheet {self.opts.sheet!r}: no such sheet; the sheets are {names}")
                return None
            candidates = named
        else:
            candidates = [t for t in tables if not t.hidden and not is_contingency(t.name)
                          and not is_info_sheet(t.name)]
        for t in candidates:
            header = find_header(t, self.opts.mapping)
            if header is not None:
                return t, header
        where = f"sheet {candidates[0].name!r}" if len(candidates) == 1 and candidates[0].name \
            else ("the file" if self.book.kind == "csv" else "no sheet")
        self.fail(f"{where} has no header row naming a title column and an estimate (e.g. "
                  "'번호 | 작업내용 | 담당자 | 소요시간(분) | 선행작업') in its first 30 rows; add "
                  "one, or name the columns with --map title=HEADING,estimate=HEADING"
                  + ("" if self.opts.sheet or self.book.kind == "csv" else " (and --sheet NAME)"))
        return None

    def run(self) -> Imported:
        found = self.steps_table()
        if found is None:
            raise SheetError(self.book.source, self.problems)
        table, header_row = found
        cols, problems = match_columns(table, header_row, self.opts.mapping, self.opts.unit)
        self.problems += problems
        self.describe(table, cols)
        header = Header()
        for name, value in self.opts.window.items():
            header.add(name, from_option(value, f"--{name.replace('_', '-')}"))
        for t in self.book.tables:
            if t is not table and is_info_sheet(t.name):
                read_pairs(t, 1, len(t.rows), header, titles=False)
                self.report.append(f"  window info read from sheet {t.name!r}")
        read_pairs(table, 1, header_row - 1, header, titles=True)
        fields, where, problems = compose(header)
        self.problems += problems
        paths = self.rows(table, cols, "main", table.name)
        for t in self.book.tables:
            if t is not table and not t.hidden and is_contingency(t.name):
                h = find_header(t, self.opts.mapping)
                if h is None:
                    self.fail("looks like a contingency sheet but has no header row; give it the "
                              "same headings as the steps", t)
                    continue
                c, problems = match_columns(t, h, self.opts.mapping, self.opts.unit)
                self.problems += problems
                paths += self.rows(t, c, t.name or "contingency", t.name)
        return self.finish(table, fields, where, paths)

    def describe(self, table: Table, cols: Columns) -> None:
        where = f"sheet {table.name!r}, " if table.name else ""
        self.report.append(f"  {where}header in row {cols.header_row}")
        for name, col in sorted(cols.fields.items(), key=lambda kv: kv[1]):
            unit = cols.units.get(col) if name in DURATION_FIELDS else None
            extra = f", plain numbers in {v.UNIT_NAMES[unit]}" if unit else ""
            how = " (--map)" if cols.how.get(name) == "mapped" else ""
            self.report.append(f"  {column_letter(col)} {cols.heading(col)!r} -> {name}{how}{extra}")
        if cols.unmatched:
            names = ", ".join(f"{column_letter(c)} {cols.heading(c)!r}" for c in cols.unmatched)
            self.report.append(f"  not imported: {names} (use --map FIELD=HEADING for one that "
                               "belongs to a field)")

    # -- rows ----------------------------------------------------------------------------------

    def rows(self, table: Table, cols: Columns, path: str, sheet: str | None
             ) -> list[tuple[str, str, Table, Columns, list[_Row]]]:
        """[(path id, path title, table, columns, rows)] for the steps below the header."""
        filled, spans = _fill_down(table)
        id_col = cols.fields.get("id") or cols.fields.get("number")
        # a lone cell in these columns continues the step above; elsewhere it is a heading
        running = {cols.fields[f] for f in ("title", *TEXT_FIELDS) if f in cols.fields}
        groups: list[tuple[str, str, Table, Columns, list[_Row]]] = [
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
            steps.append(_Row(r, cells))
        if skipped:
            where = f"sheet {sheet!r} " if sheet else ""
            self.report.append(f"  {where}rows skipped: {', '.join(skipped)}")
        self.check_formulas(table, cols, groups)
        return groups

    def fold(self, step: _Row, cells: dict[str, tuple[Any, int]], r: int, table: Table,
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

    # -- steps ---------------------------------------------------------------------------------

    def step(self, r: _Row, table: Table, cols: Columns, prefix: str, ordinal: int
             ) -> tuple[dict[str, Any], str | None]:
        """(runbook step, its number) for one row; problems recorded."""
        out: dict[str, Any] = {}
        cell = r.cells

        def convert(name: str, fn: Any, *args: Any) -> Any:
            if name not in cell:
                return None
            value, col = cell[name]
            try:
                return fn(value, *args)
            except ValueError as e:
                self.fail(str(e), table, r.row, col, cols)
                return None

        number = convert("number", v.step_id)
        given = convert("id", v.step_id)
        sid = given or (f"{prefix}{number}" if number else f"{prefix}{ordinal}")
        out["id"] = sid
        title = " ".join(v.text_of(cell["title"][0]).split()) if "title" in cell else ""
        if not title:
            self.fail("no title: every step needs one", table, r.row, cols.fields.get("title"), cols)
        out["title"] = title
        kind = convert("kind", v.kind)
        if kind and kind != "task":
            out["kind"] = kind
        if "owner" in cell:
            out["owner"] = " ".join(v.text_of(cell["owner"][0]).split())
        points = {n: convert(n, v.duration, cols.units.get(cell[n][1])) for n in
                  ("optimistic", "likely", "pessimistic") if n in cell}
        single = convert("estimate", v.duration, cols.units.get(cell["estimate"][1])) \
            if "estimate" in cell else None
        if len(points) == 3 and all(x is not None for x in points.values()):
            out["estimate"] = Flow({n: v.duration_text(s) for n, s in points.items()})
        elif points and len(points) < 3 and any(x is not None for x in points.values()):
            gone = [n for n in ("optimistic", "likely", "pessimistic") if n not in points]
            col = next(iter(cell[n][1] for n in points))
            self.fail(f"{', '.join(gone)} empty while {', '.join(points)} is given: fill all three "
                      "points, or only the single estimate", table, r.row, col, cols)
        elif single is not None:
            out["estimate"] = v.duration_text(single)
        elif not any(n in cell for n in DURATION_FIELDS) and any(
                n in cols.fields for n in DURATION_FIELDS):
            col = cols.fields.get("estimate") or cols.fields.get("likely")
            self.fail("no estimate: write how long the step takes (e.g. 10 in a column headed "
                      "in minutes, 5m, 1h30m)", table, r.row, col, cols)
        after = convert("after", v.references)
        if after is not None:
            out["after"] = after
        for name in TEXT_FIELDS:
            if name in cell:
                text = v.text_of(cell[name][0]).replace("\r\n", "\n").strip()
                if text:
                    out[name] = text
        if convert("resumes_service", v.yes_no):
            out["resumes_service"] = True
        return out, number

    def finish(self, table: Table, fields: dict[str, Any], where: dict[str, str],
               paths: list[tuple[str, str, Table, Columns, list[_Row]]]) -> Imported:
        if not any(n in paths[0][3].fields for n in DURATION_FIELDS):
            self.fail("no estimate column (e.g. 소요시간(분), 예상시간, Estimate); name it with "
                      "--map estimate=HEADING", table, paths[0][3].header_row)
        for name in ("timezone", "start", "announced_resume"):
            if name not in fields and not any(p.message.startswith(name.replace("_", " "))
                                              for p in self.problems):
                self.fail(missing(name), table if table.name else None)
        built: list[tuple[str, str, list[tuple[dict[str, Any], Origin]]]] = []
        used_ids: set[str] = set()
        for index, (pid, ptitle, t, cols, rows) in enumerate(paths):
            if index and not rows:
                self.fail(f"contingency {ptitle!r} has no steps below it", t)
                continue
            if index == 0 and not rows:
                self.fail("no steps below the header row", t, cols.header_row)
            cid = _path_id(pid, used_ids) if index else "main"
            prefix = f"{cid}-" if index and "id" not in cols.fields else ""
            steps, numbers = [], {}
            for n, r in enumerate(rows, start=1):
                step, number = self.step(r, t, cols, prefix, n)
                if number is not None:
                    numbers.setdefault(number, step["id"])
                origin = Origin(t.name, r.row, dict(cols.fields), dict(cols.headings))
                steps.append((step, origin))
            self.resolve(steps, numbers, t, cols, prefix)
            built.append((cid, ptitle, steps))
        if self.problems:
            raise SheetError(self.book.source, self.problems)
        return self.validate(table, fields, where, built)

    def resolve(self, steps: list[tuple[dict[str, Any], Origin]], numbers: dict[str, str],
                table: Table, cols: Columns, prefix: str) -> None:
        ids = {s["id"] for s, _ in steps}
        for step, origin in steps:
            if "after" not in step:
                continue
            targets = []
            for token in step["after"]:
                target = token if token in ids else numbers.get(token) or (
                    prefix + token if prefix + token in ids else None)
                if target is None:
                    known = ", ".join(sorted(numbers or ids)[:12])
                    self.fail(f"waits for {token!r}, but no step here has that number or id "
                              f"(known: {known})", table, origin.row, cols.fields.get("after"), cols)
                else:
                    targets.append(target)
            step["after"] = FlowList(targets)

    def validate(self, table: Table, fields: dict[str, Any], where: dict[str, str],
                 built: list) -> Imported:
        title = fields.get("title") or (table.name if table.name and not re.fullmatch(
            r"(sheet|시트)\s*\d*", table.name, re.I) else Path(self.book.source).stem)
        where.setdefault("title", "the sheet name" if title == table.name else "the file name")
        header: dict[str, Any] = {"runbook": 1}
        if "id" in fields:
            header["id"] = fields["id"]
        header["title"] = title
        header["timezone"] = fields.get("timezone")
        header["window"] = {k: fields[k] for k in ("start", "announced_resume", "hard_deadline")
                            if k in fields}
        sheet = f" (sheet {table.name!r})" if table.name else ""
        comment = [f"Imported by `runbook import` from {Path(self.book.source).name}{sheet}.",
                   "Each step names the row it came from. Check the plan: runbook check FILE"]
        conts = [({"id": cid, "title": ptitle}, steps) for cid, ptitle, steps in built[1:]]
        out = emit(header, built[0][2], conts, comment, self.opts.schema)
        try:
            loaded = load_text(out.text, self.opts.name, default_id=Path(self.opts.name).stem)
        except LoadError as e:
            raise SheetError(self.book.source, [self.translate(p.message, p.line, out.blocks,
                                                               where) for p in e.problems]) from None
        lines = [f"{k}: {fields[k]} (from {where[k]})" for k in
                 ("title", "id", "timezone", "start", "announced_resume", "hard_deadline")
                 if k in fields]
        self.report += ["  " + line for line in lines]
        for cid, ptitle, steps in built[1:]:
            self.report.append(f"  contingency {cid!r} ({ptitle}): {len(steps)} steps")
        if self.formula_cells:
            self.report.append(f"  {self.formula_cells} formula cells: used the values Excel "
                               "saved with them (formulas are never evaluated)")
        return Imported(out.text, loaded, self.report)

    def translate(self, message: str, line: int | None, blocks: list, where: dict[str, str]
                  ) -> SheetProblem:
        """A loader finding about the generated YAML, said in the sheet's terms."""
        m = re.match(r"^(?:contingencies\[\d+\]\.)?steps\[\d+\](?:\.(\w+))?[^:]*: (.*)$", message,
                     re.S)
        for first, last, origin in blocks:
            if line is not None and first <= line <= last and m:
                name = m.group(1)
                col = origin.columns.get(name or "") or (
                    origin.columns.get("estimate") or origin.columns.get("likely")
                    if name == "estimate" else None)
                return SheetProblem(m.group(2), origin.sheet, origin.row, col,
                                    origin.headings.get(col) if col else None)
        w = re.match(r"^window\.(\w+): (.*)$", message, re.S)
        if w and w.group(1) in where:
            return SheetProblem(f"{w.group(1).replace('_', ' ')} (from {where[w.group(1)]}): "
                                f"{w.group(2)}")
        return SheetProblem(message)


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


def _path_id(text: str, used: set[str]) -> str:
    ascii_words = re.findall(r"[A-Za-z0-9]+", text)
    base = "-".join(ascii_words).lower()[:40].strip("-") if ascii_words else ""
    if not base or not base[0].isalnum():
        base = "rollback" if re.search("원복|롤백", text) else "contingency"
    name, n = base, 2
    while name in used or name == "main":
        name, n = f"{base}-{n}", n + 1
    used.add(name)
    return name


def import_plan(book: Workbook, opts: Options) -> Imported:
    """The runbook a workbook describes; SheetError listing every problem when it cannot."""
    return _Import(book, opts).run()
