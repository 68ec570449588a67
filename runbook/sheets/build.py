"""A cutover sheet -> runbook YAML, validated by the runbook loader before anyone writes it.

One row per step below the header (columns: :mod:`runbook.sheets.columns`; which rows are
steps, headings or continuations: :mod:`runbook.sheets.rows`; the window: :mod:`runbook.sheets.window`).
A sheet named like a contingency ('원복계획', 'Rollback') holds a contingency's steps.

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
from runbook.sheets.rows import TEXT_FIELDS, Row, RowReader, is_contingency
from runbook.sheets.window import Header, compose, from_option, is_info_sheet, missing, read_pairs


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


class _Import(RowReader):
    def __init__(self, book: Workbook, opts: Options) -> None:
        self.book, self.opts = book, opts
        self.problems: list[SheetProblem] = []
        self.report: list[str] = []
        self.formula_cells = 0

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
        seen = {heading_key(v.text_of(x)) for t in candidates for row in t.rows[:30] for x in row}
        for name, heading in self.opts.mapping.items():
            if heading_key(heading) not in seen and not re.fullmatch(r"[A-Za-z]{1,2}", heading):
                self.fail(f"--map {name}={heading}: no cell in the first 30 rows reads "
                          f"{heading!r}; give the heading as the sheet writes it, or a column letter")
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

    # -- steps ---------------------------------------------------------------------------------

    def step(self, r: Row, table: Table, cols: Columns, prefix: str, ordinal: int
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
               paths: list[tuple[str, str, Table, Columns, list[Row]]]) -> Imported:
        if not any(n in paths[0][3].fields for n in DURATION_FIELDS):
            self.fail("no estimate column (e.g. 소요시간(분), 예상시간, Estimate); name it with "
                      "--map estimate=HEADING", table, paths[0][3].header_row)
        for name in ("timezone", "start", "announced_resume"):
            if name not in fields and not any(p.message.startswith(name.replace("_", " "))
                                              for p in self.problems):
                self.fail(missing(name), table if table.name else None)
        built: list[tuple[str, str, list[tuple[dict[str, Any], Origin]]]] = []
        used_ids: set[str] = set()
        seen: dict[str, Origin] = {}
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
                first = seen.setdefault(step["id"], origin)
                if first is not origin:
                    where = f"sheet {first.sheet!r} row {first.row}" if first.sheet != t.name \
                        else f"row {first.row}"
                    col = cols.fields.get("id") or cols.fields.get("number")
                    self.fail(f"step {step['id']!r} appears twice (first in {where}); give each "
                              "step its own number or id", t, r.row, col, cols)
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
            n = self.formula_cells
            self.report.append(f"  {n} formula cell{'s' if n != 1 else ''}: used the values Excel "
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
