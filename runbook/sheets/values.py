"""One cell's value as a runbook value: durations, times, ids, references, kinds, yes/no.

Each function takes what the spreadsheet holds (text from CSV; text, numbers, datetimes, times
and timedeltas from openpyxl) and returns the runbook's form, or raises ValueError whose text
says what was found and what to write instead (the importer adds sheet, row and column).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from runbook.format.durations import format_duration, parse_duration
from runbook.format.model import ID_PATTERN

UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
UNIT_NAMES = {"s": "seconds", "m": "minutes", "h": "hours"}
_ID = re.compile(ID_PATTERN)
_KOREAN_UNITS = [(re.compile(r"(\d+(?:\.\d+)?)\s*시간"), r"\1h"), (re.compile(r"(\d+(?:\.\d+)?)\s*분"), r"\1m"),
                 (re.compile(r"(\d+(?:\.\d+)?)\s*초"), r"\1s")]
_CLOCK = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
EXCEL_EPOCH = datetime(1899, 12, 30)
NONE_WORDS = {"-", "--", "—", "–", "없음", "none", "n/a", "na", "x"}


def text_of(value: Any) -> str:
    """A cell as text: whole numbers without '.0', times as HH:MM, text stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value).strip()


def shown(value: Any) -> str:
    text = text_of(value)
    text = text if len(text) <= 40 else text[:37] + "..."
    return repr(text)


def duration(value: Any, unit: str | None) -> float | None:
    """Seconds in a cell, None when empty.

    Plain numbers take ``unit`` (from the column heading, e.g. '소요시간(분)', or --unit); text
    may be ``5m``, ``1h30m``, ``PT5M``, ``5분``, ``1시간 30분`` or ``1:30`` (h:mm); Excel time
    values (a duration stored as a fraction of a day, shown as h:mm or [h]:mm) are read as
    durations.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{shown(value)} is a yes/no value, not a duration")
    if isinstance(value, timedelta):
        return _checked(value.total_seconds(), value)
    if isinstance(value, time):
        return float(value.hour * 3600 + value.minute * 60 + value.second)
    if isinstance(value, datetime):
        if value.year <= 1900:  # an Excel time of a day or more ([h]:mm shown as a date-time)
            from openpyxl.utils.datetime import to_excel

            return _checked(to_excel(value) * 86400.0, value)
        raise ValueError(f"{shown(value)} is a date and time, not a duration; write how long the "
                         "step takes (5m, 1h30m, or a number of minutes)")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{shown(value)} is not a duration; a duration is zero or more")
        return _number(float(value), unit, value)
    text = str(value).strip()
    if not text:
        return None
    if _NUMBER.match(text):
        return _number(float(text), unit, value)
    clock = _CLOCK.match(text)
    if clock:
        h, m, s = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
        return float(h * 3600 + m * 60 + s)
    compact = text
    for pattern, repl in _KOREAN_UNITS:
        compact = pattern.sub(repl, compact)
    try:
        return parse_duration(compact.replace(" ", "") if compact != text else text)
    except ValueError as e:
        raise ValueError(str(e).replace(repr(compact.replace(" ", "")), repr(text))) from None


def _number(number: float, unit: str | None, value: Any) -> float:
    if unit is None:
        n = text_of(value)
        raise ValueError(f"{shown(value)} has no unit; write {n}m or {n}h in the cell, put the unit "
                         "in the column heading (e.g. '소요시간(분)' or 'Estimate (min)'), or "
                         "give --unit min")
    return _checked(number * UNITS[unit], value)


def _checked(seconds: float, value: Any) -> float:
    if seconds < 0:
        raise ValueError(f"{shown(value)} is negative; a duration is zero or more")
    if seconds > 366 * 86400:
        raise ValueError(f"{shown(value)} is longer than a year; check the unit")
    return float(round(seconds))


def duration_text(seconds: float) -> str:
    return format_duration(seconds)


def step_id(value: Any) -> str | None:
    """A step id from an id or number cell: ``3``, ``3.1``, ``stop-db``; None when empty."""
    text = text_of(value).rstrip(".")
    if not text:
        return None
    if not _ID.match(text):
        raise ValueError(f"{shown(value)} cannot be a step id; use letters, digits, '-', '_' or "
                         "'.', starting with a letter or digit (e.g. 3, 3.1 or stop-db)")
    return text


def references(value: Any) -> list[str] | None:
    """The steps a depends-on cell names: ``3``, ``3, 4``, ``2~4``, ``stop-db``; [] for '없음' or
    '-'; None when empty (the runbook's default: the step above)."""
    text = text_of(value)
    if not text:
        return None
    if text.lower() in NONE_WORDS:
        return []
    out: list[str] = []
    for token in re.split(r"[,;/\s、，]+", text):
        token = token.strip().rstrip(".")
        if not token:
            continue
        span = re.fullmatch(r"(\d+)\s*[~〜∼]\s*(\d+)", token)
        if span and int(span.group(1)) < int(span.group(2)) <= int(span.group(1)) + 100:
            out.extend(str(n) for n in range(int(span.group(1)), int(span.group(2)) + 1))
            continue
        if not _ID.match(token):
            raise ValueError(f"{token!r} is not a step number or id; list the steps this one waits "
                             "for, separated by commas (e.g. 3, 4), or '-' for none")
        out.append(token)
    return out


KINDS = {
    "task": "task", "작업": "task", "수행": "task",
    "check": "check", "확인": "check", "점검": "check", "검증": "check",
    "decision": "decision", "결정": "decision", "판단": "decision", "승인": "decision",
    "go/no-go": "decision", "gonogo": "decision",
    "comms": "comms", "공지": "comms", "통보": "comms", "연락": "comms", "보고": "comms",
    "wait": "wait", "대기": "wait",
    "milestone": "milestone", "마일스톤": "milestone",
}


def kind(value: Any) -> str | None:
    text = text_of(value)
    if not text:
        return None
    found = KINDS.get(text.lower()) or KINDS.get(text.lower().replace(" ", ""))
    if found is None:
        raise ValueError(f"{shown(value)} is not a step kind; use task, check, decision, comms, "
                         "wait or milestone (작업, 확인, 결정, 공지, 대기, 마일스톤)")
    return found


YES = {"y", "yes", "o", "○", "●", "◎", "v", "✓", "✔", "true", "1", "예", "네", "재개"}
NO = {"n", "no", "x", "×", "✗", "false", "0", "아니오", "아니요", "-"}


def yes_no(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = text_of(value).lower()
    if not text:
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"{shown(value)} is not yes or no; write Y (or O, ✓) on the step that "
                     "brings the service back and leave the others empty")


# -- window times ---------------------------------------------------------------------------------

_DATE = r"(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})\s*[.일]?"
_TIME = r"(오전|오후|AM|PM|am|pm)?\s*(\d{1,2})\s*(?::|시)\s*(\d{2})?\s*분?(?::(\d{2}))?\s*(오전|오후|AM|PM|am|pm)?"
_DATETIME = re.compile(rf"^{_DATE}(?:\s*(?:T|\s)\s*{_TIME})?(\([^)]*\))?\s*$")
_TIME_ONLY = re.compile(rf"^{_TIME}$")
_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})$")


def _hour(h: int, marker: str | None) -> int:
    if marker and marker.lower() in ("오후", "pm") and h < 12:
        return h + 12
    if marker and marker.lower() in ("오전", "am") and h == 12:
        return 0
    return h


def moment(value: Any) -> datetime | date | time:
    """A window time in a cell: a date and time, a date alone, or a time of day alone.

    Accepts Excel dates and times, ISO 8601 (with or without offset; an offset is kept), and the
    ways Korean sheets write them: ``2026-11-25 00:00``, ``2026.11.25 00:00``,
    ``2026. 11. 25. 오전 0:00``, ``2026년 11월 25일 00시 30분``, ``00:30``.
    """
    if isinstance(value, datetime | time):
        return value
    if isinstance(value, date):
        return value
    text = text_of(value)
    if _OFFSET.match(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    m = _DATETIME.match(text.replace("T", " ", 1) if re.match(r"^\d{4}-\d\d-\d\dT", text) else text)
    try:
        if m:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if m.group(5) is None:
                return date(y, mo, d)
            h = _hour(int(m.group(5)), m.group(4) or m.group(8))
            return datetime(y, mo, d, h, int(m.group(6) or 0), int(m.group(7) or 0))
        t = _TIME_ONLY.match(text)
        if t and (":" in text or "시" in text):
            h = _hour(int(t.group(2)), t.group(1) or t.group(5))
            if h == 24 and not int(t.group(3) or 0):
                h = 0
            return time(h, int(t.group(3) or 0), int(t.group(4) or 0))
    except ValueError:
        raise ValueError(f"{shown(value)} is not a real date or time") from None
    raise ValueError(f"{shown(value)} is not a date and time; write it like 2026-11-25 00:00 "
                     "(or 00:30 for a time on the start's day)")


def window_range(value: Any) -> tuple[Any, Any] | None:
    """``2026-11-25 00:00 ~ 00:30`` -> its two ends (text), None when the cell is not a range."""
    text = text_of(value)
    parts = re.split(r"\s*[~〜∼]\s*|\s+[-–]\s+", text)
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    return None
