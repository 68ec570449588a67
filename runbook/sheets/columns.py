"""Which column holds what: headings matched to runbook fields, in English and Korean.

A heading is normalised (width-folded, lower case, spaces and punctuation dropped, a unit in
brackets taken off and remembered: '소요시간(분)' -> '소요시간', minutes) and looked up in
:data:`FIELDS`. ``--map 'title=작업명,estimate=C'`` names the column (by heading or by letter)
for any field and wins over the automatic match. Headings that match nothing are listed in the
import report, never silently used.

The header row is the first row (of the first 30) that names a title column and at least two
other fields, or a title and an estimate. A heading row whose cells are merged across several
columns ('계획' over '시작' and '소요') is a group heading: the row below it then completes the
names ('계획 소요').
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from runbook.sheets import SheetProblem, column_letter
from runbook.sheets.read import Table
from runbook.sheets.values import kind, text_of

STEP_FIELDS = ("id", "number", "title", "owner", "kind", "estimate", "optimistic", "likely",
               "pessimistic", "after", "command", "check", "notes", "resumes_service")
DURATION_FIELDS = ("estimate", "optimistic", "likely", "pessimistic")

FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "stepid", "작업id", "단계id", "key", "작업코드", "코드"),
    "number": ("no", "#", "번호", "순번", "순서", "seq", "step", "단계", "num", "number", "nr",
               "stepno", "작업번호"),
    "title": ("title", "task", "작업명", "작업내용", "작업", "내용", "작업항목", "항목", "세부작업",
              "세부작업내용", "description", "activity", "stepname", "name", "taskname", "작업절차",
              "절차"),
    "owner": ("owner", "담당", "담당자", "담당팀", "담당부서", "수행자", "수행팀", "수행부서",
              "작업자", "수행", "responsible", "assignee", "who", "team"),
    "kind": ("kind", "type", "유형", "작업유형", "종류"),
    "estimate": ("estimate", "duration", "예상시간", "소요시간", "소요", "예상소요시간", "계획",
                 "계획소요", "계획소요시간", "소요예정", "예상소요", "계획시간", "planned",
                 "plannedduration", "plan", "time", "estimatedtime", "est"),
    "optimistic": ("optimistic", "best", "bestcase", "min", "최소", "최소시간", "최단",
                   "최단시간", "낙관", "낙관치"),
    "likely": ("likely", "mostlikely", "예상", "보통", "최빈", "최빈치", "일반"),
    "pessimistic": ("pessimistic", "worst", "worstcase", "max", "최대", "최대시간", "최장",
                    "최장시간", "비관", "비관치"),
    "after": ("after", "dependson", "depends", "dependency", "dependencies", "predecessor",
              "predecessors", "prerequisite", "선행작업", "선행", "선행단계", "선행번호",
              "선행작업번호", "선행조건"),
    "command": ("command", "commands", "cmd", "script", "명령어", "명령", "실행명령",
                "실행명령어", "스크립트", "수행명령"),
    "check": ("check", "verify", "verification", "expectedresult", "확인사항", "확인",
              "확인내용", "검증", "검증방법", "점검", "점검사항", "완료기준", "결과확인", "확인방법"),
    "notes": ("notes", "note", "remarks", "remark", "comment", "comments", "비고", "메모", "참고",
              "참고사항", "특이사항"),
    "resumes_service": ("resumesservice", "resumes", "서비스재개", "재개", "서비스오픈"),
}
# headings that mean a field only when the column's values say so: '구분' is a step's kind in
# some sheets (작업 / 확인 / 공지) and its phase in others (사전 / 본 / 사후)
MAYBE = {"구분": "kind", "분류": "kind", "category": "kind"}
_LOOKUP = {alias: name for name, aliases in FIELDS.items() for alias in aliases}

_UNIT_WORDS = {"분": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m", "m": "m",
               "시간": "h", "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
               "초": "s", "s": "s", "sec": "s", "secs": "s", "seconds": "s"}
_BRACKETS = re.compile(r"[(\[{（［]([^)\]}）］]*)[)\]}）］]")
_DROP = re.compile(r"[\s._\-/:·•*?？'\"’]+")
HEADER_SCAN = 30


def normalise(heading: str) -> tuple[str, str | None]:
    """(lookup key, unit) of a heading: '예상 소요시간 (분)' -> ('예상소요시간', 'm')."""
    text = unicodedata.normalize("NFKC", heading).lower().strip()
    unit = None
    for inner in _BRACKETS.findall(text):
        word = _DROP.sub("", inner)
        if word in _UNIT_WORDS:
            unit = _UNIT_WORDS[word]
    bare = _BRACKETS.sub(" ", text)
    tail = re.search(r"\s+in\s+(minutes|hours|seconds|min|mins)$", bare)
    if tail:
        unit = _UNIT_WORDS[tail.group(1)]
        bare = bare[: tail.start()]
    key = _DROP.sub("", bare)
    if not key:
        key = "#" if "#" in text else ""
    return key, unit


def field_of(heading: str) -> str | None:
    key, _ = normalise(heading)
    if key in _LOOKUP:
        return _LOOKUP[key]
    return _LOOKUP.get(heading_key(heading))


@dataclass
class Columns:
    """Where each field is in one table."""

    header_row: int  # 1-based; the last heading row when there are two
    headings: dict[int, str]  # column (1-based) -> heading as shown in messages
    fields: dict[str, int] = field(default_factory=dict)  # field -> column
    units: dict[int, str] = field(default_factory=dict)  # column -> 's' | 'm' | 'h'
    how: dict[str, str] = field(default_factory=dict)  # field -> 'matched' | 'mapped'
    unmatched: list[int] = field(default_factory=list)

    def heading(self, column: int) -> str:
        return self.headings.get(column, "")

    def describe(self, name: str) -> str:
        col = self.fields[name]
        return f"{column_letter(col)} {self.heading(col)!r}"


def _row_text(table: Table, row: int) -> list[str]:
    return [text_of(v) for v in (table.rows[row - 1] if row <= len(table.rows) else [])]


def _horizontal_merges(table: Table, row: int) -> list[tuple[int, int]]:
    return [(c1, c2) for r1, c1, r2, c2 in table.merged if r1 == row and c2 > c1]


def headings_at(table: Table, row: int) -> dict[int, str]:
    """Column -> heading for a header at ``row``; with the row below it when ``row`` has group
    headings merged across columns (and the row below names the columns under them)."""
    top = _row_text(table, row)
    names = {c + 1: t for c, t in enumerate(top) if t}
    groups = _horizontal_merges(table, row)
    if not groups:
        return names
    below = _row_text(table, row + 1)
    for c1, c2 in groups:
        group = top[c1 - 1] if c1 - 1 < len(top) else ""
        for c in range(c1, c2 + 1):
            sub = below[c - 1] if c - 1 < len(below) else ""
            if sub:
                names[c] = f"{group} {sub}".strip()
    for c, sub in enumerate(below, start=1):
        if sub and c not in names:
            names[c] = sub
    return names


def _fields(names: dict[int, str]) -> set[str]:
    return {f for f in (field_of(n) for n in names.values()) if f}


def heading_key(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def find_header(table: Table, mapped: dict[str, str]) -> int | None:
    """The 1-based row of the header (the first row of it, for two-row headings)."""
    by_heading = {heading_key(h): name for name, h in mapped.items()}
    by_letter = {name for name, h in mapped.items() if re.fullmatch(r"[A-Za-z]{1,2}", h.strip())}
    for row in range(1, min(len(table.rows), HEADER_SCAN) + 1):
        names = headings_at(table, row)
        found = _fields(names) | by_letter
        found |= {by_heading[heading_key(n)] for n in names.values() if heading_key(n) in by_heading}
        if "title" in found and (len(found) >= 3 or found & set(DURATION_FIELDS)):
            return row
    return None


def match_columns(table: Table, header: int, mapped: dict[str, str],
                  default_unit: str | None) -> tuple[Columns, list[SheetProblem]]:
    """The columns of ``table`` whose header starts at ``header``; problems for --map entries
    that name no column and for two columns claiming one field."""
    names = headings_at(table, header)
    last = header + 1 if _horizontal_merges(table, header) else header
    cols = Columns(header_row=last, headings=names)
    problems: list[SheetProblem] = []
    by_key = {heading_key(n): c for c, n in sorted(names.items(), reverse=True)}
    claimed: dict[int, str] = {}
    for name, target in mapped.items():
        col = by_key.get(heading_key(target))
        if col is None and re.fullmatch(r"[A-Za-z]{1,2}", target.strip()):
            col = _letter_index(target.strip())
        if col is None:
            shown = ", ".join(repr(n) for n in names.values())
            problems.append(SheetProblem(
                f"--map {name}={target}: no column is headed {target!r}; the headings in row "
                f"{header} are {shown} (or give a column letter, e.g. {name}=C)",
                sheet=table.name, row=header))
            continue
        cols.fields[name], cols.how[name] = col, "mapped"
        claimed[col] = name
    for col, heading in sorted(names.items()):
        if col in claimed:
            continue
        name = field_of(heading)
        if name is None or name in cols.fields:
            if name is not None and cols.how.get(name) == "matched":
                problems.append(SheetProblem(
                    f"columns {column_letter(cols.fields[name])} ({cols.heading(cols.fields[name])}) "
                    f"and {column_letter(col)} ({heading}) both look like the {name} column; "
                    f"say which with --map {name}=<heading>",
                    sheet=table.name, row=cols.header_row, column=col, header=heading))
            cols.unmatched.append(col)
            continue
        cols.fields[name], cols.how[name] = col, "matched"
    for col in list(cols.unmatched):
        name = MAYBE.get(heading_key(names[col]))
        if name and name not in cols.fields and _all_kinds(table, cols.header_row, col):
            cols.fields[name], cols.how[name] = col, "matched"
            cols.unmatched.remove(col)
    for col in cols.fields.values():
        unit = normalise(names.get(col, ""))[1]
        if unit:
            cols.units[col] = unit
        elif default_unit:
            cols.units[col] = default_unit
    return cols, problems


def _all_kinds(table: Table, header: int, col: int) -> bool:
    """Whether every filled cell below the header in ``col`` is a step kind (작업, 확인, ...)."""
    seen = False
    for row in table.rows[header:]:
        value = row[col - 1] if col - 1 < len(row) else None
        if value is None:
            continue
        if sum(x is not None for x in row) == 1:
            continue  # a heading row ('사전 작업')
        try:
            kind(value)
        except ValueError:
            return False
        seen = True
    return seen


def _letter_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def parse_map(text: str | None) -> dict[str, str]:
    """``'title=작업명,estimate=소요'`` -> {field: heading}; ValueError naming a bad entry."""
    out: dict[str, str] = {}
    if not text:
        return out
    known = STEP_FIELDS
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        name, sep, heading = part.partition("=")
        name, heading = name.strip().replace("-", "_"), heading.strip()
        if name in ("depends_on", "depends", "predecessor"):
            name = "after"
        if not sep or not heading:
            raise ValueError(f"--map entry {part.strip()!r} needs FIELD=HEADING, e.g. title=작업명")
        if name not in known:
            raise ValueError(f"--map: unknown field {name!r}; fields are {', '.join(known)}")
        out[name] = heading
    return out
