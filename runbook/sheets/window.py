"""The runbook's header from a sheet: title, id, time zone and the window's times.

Three places, the first that has a value wins: the command line (``--start``, ...), a sheet
named like ``정보`` / ``개요`` / ``info`` / ``window`` holding label-value rows, and the rows
above the step table's header. A label is a cell such as ``작업시작``, ``서비스 재개``,
``시간대``; its value is the next filled cell to the right (or the text after a colon in the same
cell: ``시간대: Asia/Seoul``). ``작업일시 | 2026-11-25 00:00 ~ 00:30`` gives the start and the
announced resume at once. A time without a date is on the start's day (the day after when it is
not later than the start). Above the header, a row holding one text that is not a label is the
plan's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from runbook.sheets import SheetProblem
from runbook.sheets.columns import heading_key
from runbook.sheets.read import Table
from runbook.sheets.values import moment, text_of, window_range

WINDOW_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "제목", "작업명", "작업제목", "변경명", "건명", "변경제목", "계획서명",
              "작업계획서"),
    "id": ("id", "runbookid", "변경번호", "변경관리번호", "changeid", "change", "chg",
           "changenumber", "변경요청번호", "crnumber"),
    "timezone": ("timezone", "tz", "시간대", "타임존", "표준시간대"),
    "date": ("date", "작업일", "작업일자", "일자", "날짜", "작업날짜"),
    "start": ("start", "windowstart", "starttime", "작업시작", "시작", "시작일시", "작업시작일시",
              "작업시작시각", "시작시각", "시작시간", "중단시작", "서비스중단시작"),
    "announced_resume": ("announcedresume", "resume", "resumeat", "announced", "서비스재개",
                         "재개예정", "재개공지", "공지재개", "재개시각", "서비스재개시각",
                         "서비스재개예정", "재개예정시각", "공지종료", "종료예정", "종료예정시각",
                         "작업종료", "종료", "종료시각", "종료시간", "공지재개시각"),
    "hard_deadline": ("harddeadline", "deadline", "최종기한", "마감", "마감시각", "한계시각",
                      "최종마감", "최종시한"),
    "window": ("window", "작업일시", "작업시간", "작업기간", "서비스중단시간", "중단시간",
               "공지시간", "maintenancewindow", "outage", "작업시간대", "서비스중단"),
}
_LABELS = {alias: name for name, aliases in WINDOW_FIELDS.items() for alias in aliases}
INFO_SHEETS = ("정보", "개요", "작업정보", "작업개요", "기본정보", "info", "window", "설정",
               "일정", "summary", "header", "runbook")
TIME_FIELDS = ("start", "announced_resume", "hard_deadline")


def label_of(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return _LABELS.get(heading_key(value))


@dataclass
class Found:
    value: Any
    where: str  # 'row 2, column B' / '--start'
    problem: SheetProblem  # where to point a problem with this value


@dataclass
class Header:
    values: dict[str, Found] = field(default_factory=dict)
    title_row: Found | None = None

    def add(self, name: str, found: Found) -> None:
        self.values.setdefault(name, found)


def read_pairs(table: Table, first: int, last: int, into: Header, *, titles: bool) -> None:
    """Label-value pairs in rows ``first..last`` (1-based) of ``table`` into ``into``."""
    for row in range(first, min(last, len(table.rows)) + 1):
        cells = [(c, v) for c, v in enumerate(table.rows[row - 1], start=1) if v is not None]
        used: set[int] = set()
        for i, (col, value) in enumerate(cells):
            if col in used:
                continue
            name = label_of(value)
            if name is None and isinstance(value, str) and re.search(r"[:：]", value):
                head, _, rest = re.split(r"([:：])", value, maxsplit=1)
                name = label_of(head)
                if name and rest.strip():
                    into_add(into, table, name, rest.strip(), row, col)
                    continue
                name = None
            if name is None:
                continue
            following = [(c, v) for c, v in cells[i + 1:] if c not in used]
            if following and label_of(following[0][1]) is None:
                c, v = following[0]
                used.add(c)
                into_add(into, table, name, v, row, c)
        if titles and into.title_row is None and len(cells) == 1 and isinstance(cells[0][1], str) \
                and label_of(cells[0][1]) is None:
            col, value = cells[0]
            into.title_row = Found(value.strip(), f"the title row {row}",
                                   SheetProblem("", table.name, row, col))


def into_add(into: Header, table: Table, name: str, value: Any, row: int, col: int) -> None:
    where = f"{'sheet ' + repr(table.name) + ', ' if table.name else ''}row {row}"
    into.add(name, Found(value, where, SheetProblem("", table.name, row, col)))


def is_info_sheet(name: str | None) -> bool:
    return bool(name) and heading_key(name) in INFO_SHEETS


def _problem(found: Found, message: str) -> SheetProblem:
    p = found.problem
    if found.where.startswith("--"):
        return SheetProblem(f"{found.where}: {message}")
    return SheetProblem(message, p.sheet, p.row, p.column)


def compose(header: Header) -> tuple[dict[str, Any], dict[str, str], list[SheetProblem]]:
    """(runbook header fields, where each came from, problems)."""
    out: dict[str, Any] = {}
    where: dict[str, str] = {}
    problems: list[SheetProblem] = []
    values = dict(header.values)
    span = values.get("window")
    if span is not None:
        ends = window_range(span.value)
        if ends:
            values.setdefault("start", Found(ends[0], span.where, span.problem))
            values.setdefault("announced_resume", Found(ends[1], span.where, span.problem))
        else:
            values.setdefault("start", span)
    for name in ("title", "id", "timezone"):
        if name in values:
            text = text_of(values[name].value)
            if text:
                out[name], where[name] = text, values[name].where
    if "title" not in out and header.title_row is not None:
        out["title"], where["title"] = header.title_row.value, header.title_row.where
    day: date | None = None
    if "date" in values:
        try:
            got = moment(values["date"].value)
            day = got if isinstance(got, date) and not isinstance(got, datetime) else None
            if day is None:
                day = got.date() if isinstance(got, datetime) else None
        except ValueError as e:
            problems.append(_problem(values["date"], f"work date: {e}"))
    times: dict[str, datetime] = {}
    for name in TIME_FIELDS:
        if name not in values:
            continue
        found = values[name]
        try:
            got = moment(found.value)
        except ValueError as e:
            problems.append(_problem(found, f"{name.replace('_', ' ')}: {e}"))
            continue
        if isinstance(got, datetime):
            times[name] = got
        elif isinstance(got, date):
            problems.append(_problem(found, f"{name.replace('_', ' ')}: {text_of(found.value)!r} "
                                     "has a date but no time of day; write it like "
                                     f"{got.isoformat()} 00:00"))
            continue
        else:
            base = day or (times["start"].date() if "start" in times else None)
            if base is None:
                problems.append(_problem(found, f"{name.replace('_', ' ')}: "
                                         f"{text_of(found.value)!r} is a time without a date; "
                                         "give the date too (2026-11-25 00:00) or a work date "
                                         "row (작업일자)"))
                continue
            t = datetime.combine(base, got)
            if name != "start" and "start" in times and t <= times["start"].replace(tzinfo=None):
                t += timedelta(days=1)  # 23:00 ~ 01:00: the resume is on the next day
            times[name] = t
        where[name] = found.where
    for name, t in times.items():
        out[name] = _iso(t)
    return out, where, problems


def _iso(t: datetime) -> str:
    if t.tzinfo is not None:
        return t.isoformat()
    return t.strftime("%Y-%m-%dT%H:%M:%S" if t.second else "%Y-%m-%dT%H:%M")


def missing(name: str) -> str:
    words = {
        "timezone": "no time zone: add a row '시간대 | Asia/Seoul' above the header (or in a "
                    "sheet named 정보), or give --timezone Asia/Seoul",
        "start": "no window start: add a row '작업시작 | 2026-11-25 00:00' (or '작업일시 | "
                 "2026-11-25 00:00 ~ 00:30') above the header or in a sheet named 정보, or give "
                 "--start 2026-11-25T00:00",
        "announced_resume": "no announced resume (what customers were told): add a row "
                            "'서비스 재개 | 2026-11-25 00:30' above the header or in a sheet named "
                            "정보, or give --announced-resume 2026-11-25T00:30",
    }
    return words[name]


def from_option(value: str, option: str) -> Found:
    return Found(value, option, SheetProblem(""))
