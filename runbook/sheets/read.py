"""Read the cells of a workbook (.xlsx, through openpyxl) or a CSV file, and nothing more.

What is refused, with a message saying so: anything that is not a regular file (a directory, a
FIFO, a device), files over :data:`MAX_BYTES`, an .xlsx whose parts unpack to more than
:data:`MAX_UNPACKED` (a zip bomb) or declare a DTD (entity expansion), .xls and encrypted
workbooks, sheets over :data:`MAX_ROWS` rows.

Formulas are never evaluated. A formula cell contributes the value Excel saved with it the last
time it calculated the workbook (openpyxl's ``data_only``); its formula text is kept only to say
so in a message, and a formula with no saved value is reported by the importer where it matters.

A CSV file is read as UTF-8 (with or without BOM) or, failing that, as CP949 (what Korean Excel
writes for "CSV"); comma, tab or semicolon separated.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.sheets import SheetError, SheetProblem

MAX_BYTES = 20 * 1024 * 1024
MAX_UNPACKED = 200 * 1024 * 1024
MAX_ROWS = 10_000
MAX_COLUMNS = 200
INSTALL_HINT = "pip install 'runbook[xlsx]'"
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


@dataclass
class Table:
    """One sheet's cells. ``rows[i][j]`` is spreadsheet row i+1, column j+1 (None when empty)."""

    name: str | None  # the sheet's name; None for a CSV file
    rows: list[list[Any]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> "=A1+B1"
    hidden: bool = False

    def value(self, row: int, column: int) -> Any:
        """The value at 1-based (row, column), None outside the table."""
        if 1 <= row <= len(self.rows) and 1 <= column <= len(self.rows[row - 1]):
            return self.rows[row - 1][column - 1]
        return None


@dataclass
class Workbook:
    source: str  # the path as given, for messages
    kind: str  # "xlsx" or "csv"
    tables: list[Table]
    encoding: str | None = None  # CSV only


def need_openpyxl(what: str) -> Any:
    """The openpyxl module, or an Unusable error saying how to install it."""
    try:
        import openpyxl
    except ImportError:
        from runbook.errors import Unusable

        raise Unusable(f"{what} needs the xlsx extra (openpyxl): {INSTALL_HINT}") from None
    return openpyxl


def _refuse(source: str, message: str) -> SheetError:
    return SheetError(source, [SheetProblem(message)])


def _check_file(path: Path, source: str) -> int:
    """The size of ``path``, after refusing what is not a regular file of sensible size."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _refuse(source, "no such file; check the path") from None
    except OSError as e:
        raise _refuse(source, f"cannot read the file: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise _refuse(source, "is a directory; give the path of an .xlsx or .csv file")
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(source, "is not a regular file (a pipe, socket or device); save the sheet "
                      "to a file and import that")
    if st.st_size > MAX_BYTES:
        raise _refuse(source, f"is {st.st_size / 1024 / 1024:.0f} MB, more than the "
                      f"{MAX_BYTES // 1024 // 1024} MB a cutover plan needs; save only the plan's "
                      "sheet to a new file")
    return st.st_size


def read_workbook(path: str | Path) -> Workbook:
    """The tables in an .xlsx or CSV file; SheetError (or Unusable) saying why not."""
    source = str(path)
    p = Path(path)
    _check_file(p, source)
    try:
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as e:
        raise _refuse(source, f"cannot read the file: {e.strerror or e}") from None
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(source, "is an old-style .xls workbook or a password-protected one; open it "
                      "in Excel and save it as .xlsx without a password (or as CSV UTF-8)")
    if head.startswith(b"PK"):
        return _read_xlsx(p, source)
    if p.suffix.lower() in XLSX_SUFFIXES:
        raise _refuse(source, "is not an .xlsx workbook (not a zip file); save it from Excel as "
                      ".xlsx, or as CSV UTF-8 and import the .csv")
    return _read_csv(p, source)


# -- CSV ----------------------------------------------------------------------------------------

def _read_csv(path: Path, source: str) -> Workbook:
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise _refuse(source, "is a binary file (it contains NUL bytes), not CSV text; import an "
                      ".xlsx workbook or save the sheet as CSV UTF-8")
    for encoding in ("utf-8-sig", "cp949"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _refuse(source, "is neither UTF-8 nor CP949 (Korean Windows) text; save it from "
                      "Excel as 'CSV UTF-8'")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff(text)
    rows: list[list[Any]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for record in reader:
            if len(rows) >= MAX_ROWS:
                raise _refuse(source, f"has more than {MAX_ROWS:,} rows; a cutover plan has fewer")
            rows.append([cell if cell.strip() else None for cell in record[:MAX_COLUMNS]])
    except csv.Error as e:
        raise SheetError(source, [SheetProblem(f"not readable as CSV: {e}; save it again from "
                                               "the spreadsheet as CSV UTF-8",
                                               row=reader.line_num)]) from None
    shown = "UTF-8" if encoding == "utf-8-sig" else "CP949"
    return Workbook(source, "csv", [Table(None, rows)], encoding=shown)


def _sniff(text: str) -> str:
    """The separator most lines use: comma, tab or semicolon (Excel in some locales)."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    scores = {d: sum(d in line for line in lines) for d in (",", "\t", ";")}
    best = max(scores, key=lambda d: (scores[d], d == ","))
    return best if scores[best] else ","


# -- xlsx ---------------------------------------------------------------------------------------

def _check_zip(path: Path, source: str) -> None:
    """Refuse zip bombs and XML with a DTD before openpyxl parses anything."""
    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
            total = sum(m.file_size for m in members)
            if total > MAX_UNPACKED:
                raise _refuse(source, f"unpacks to {total / 1024 / 1024:,.0f} MB (a zip bomb?); "
                              "refusing to read it")
            for m in members:
                if not m.filename.endswith((".xml", ".rels")):
                    continue
                with z.open(m) as f:
                    head = f.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise _refuse(source, f"part {m.filename} declares a DTD, which a workbook "
                                  "saved by Excel never does; refusing to read it")
    except zipfile.BadZipFile:
        raise _refuse(source, "is a damaged zip file, not a readable .xlsx; save it again from "
                      "Excel") from None
    except (OSError, RuntimeError, NotImplementedError) as e:
        raise _refuse(source, f"cannot unpack the workbook: {e}") from None


def _read_xlsx(path: Path, source: str) -> Workbook:
    """Both views of the workbook are streamed (openpyxl's read-only mode): the values Excel saved
    (``data_only``) and the formulas, so a sheet never costs more than its cells."""
    openpyxl = need_openpyxl(f"reading {source}")
    _check_zip(path, source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions (data validation, ...)
            values = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
            formulas = openpyxl.load_workbook(path, read_only=True, data_only=False,
                                              keep_links=False)
            try:
                with zipfile.ZipFile(path) as z:
                    tables = [_table(ws, formulas[ws.title], z, source) for ws in values.worksheets]
            finally:
                values.close()
                formulas.close()
    except SheetError:
        raise
    except Exception as e:  # openpyxl raises many kinds for a malformed package
        raise _refuse(source, f"cannot read the workbook ({type(e).__name__}: {e}); open it in "
                      "Excel and save it again as .xlsx") from None
    if not tables:
        raise _refuse(source, "has no worksheets")
    return Workbook(source, "xlsx", tables)


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _merged(z: zipfile.ZipFile, part: str | None) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a sheet, from its XML (openpyxl's read-only mode does not read them)."""
    if not part:
        return []
    from openpyxl.utils import column_index_from_string as col

    data = z.read(part.lstrip("/"))
    return [(int(r1), col(c1.decode()), int(r2), col(c2.decode()))
            for c1, r1, c2, r2 in _MERGE.findall(data)]


def _rows(ws: Any, name: str, source: str, values_only: bool) -> list[Any]:
    rows: list[Any] = []
    for n, row in enumerate(ws.iter_rows(max_col=MAX_COLUMNS, values_only=values_only), start=1):
        if n > MAX_ROWS:
            if any((c if values_only else c.value) is not None for c in row):
                raise SheetError(source, [SheetProblem(f"has more than {MAX_ROWS:,} rows; a "
                                                       "cutover plan has fewer", sheet=name)])
            continue
        rows.append(row)
    return rows


def _table(ws: Any, formula_ws: Any, z: zipfile.ZipFile, source: str) -> Table:
    name = ws.title
    rows = [[None if isinstance(v, str) and not v.strip() else v for v in r]
            for r in _rows(ws, name, source, values_only=True)]
    for r in rows:
        while r and r[-1] is None:
            r.pop()
    while rows and not rows[-1]:
        rows.pop()
    formulas: dict[tuple[int, int], str] = {}
    for row in _rows(formula_ws, name, source, values_only=False)[:len(rows)]:
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                formulas[(cell.row, cell.column)] = str(getattr(cell.value, "text", cell.value))
    merged = _merged(z, getattr(ws, "_worksheet_path", None))
    return Table(name, rows, merged, formulas, hidden=ws.sheet_state != "visible")
