"""``runbook history import``: past windows from a spreadsheet into the store, as history.

Cutover and maintenance teams already keep a sheet per change: window, step, planned minutes,
actual minutes, maybe a date. Each window becomes one run labelled ``history`` (its steps in
order, one after the other, each taking its actual time), so that the forecast's reference class
is the organisation's own record before any run of its own (``prior_from_store``), and
``runbook calibrate`` can see it.

* Headers are matched loosely: case, spaces, ``_``/``-``, brackets and a trailing unit are
  ignored; English and Korean names are known (``window``/``회차``, ``step``/``단계``,
  ``title``/``작업명``, ``planned``/``계획``, ``actual``/``실적``, ``date``/``일자`` ...).
* Minutes are a number (``12``, ``12.5``), ``h:mm`` (``1:30``) or a duration (``90s``, ``1h5m``).
* The file is read as UTF-8 (with or without BOM), else as CP949 (Korean Excel's CSV).
* Every bad row is reported with its line; nothing is imported unless every row is good, and
  the import is one transaction. A window already imported (same rows) is skipped.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from runbook.engine.summary import summarise_import
from runbook.errors import Unusable
from runbook.format.durations import parse_duration
from runbook.format.model import ID_PATTERN
from runbook.format.plan import Plan
from runbook.format.times import zone

LABEL = "history"
ACTOR = "history-import"
MAX_ERRORS = 12

ALIASES = {
    "window": ("window", "windowid", "change", "changeid", "changeno", "chg", "run", "night",
               "회차", "차수", "작업번호", "변경", "변경번호", "윈도우", "작업회차"),
    "step": ("step", "stepid", "id", "stepno", "단계", "단계id", "순번", "번호"),
    "title": ("title", "steptitle", "task", "name", "stepname", "description", "작업명", "항목",
              "작업내용", "내용", "절차", "작업"),
    "planned": ("planned", "plan", "estimate", "estimated", "plannedduration", "예상", "계획",
                "계획시간", "예상시간", "예정", "예정시간", "계획소요"),
    "actual": ("actual", "actualduration", "took", "spent", "실적", "실제", "소요", "소요시간",
               "실제시간", "실제소요", "실적시간"),
    "date": ("date", "day", "started", "start", "startedon", "startdate", "일자", "날짜",
             "작업일", "작업일자", "시작일"),
}
_UNIT_SUFFIX = ("minutes", "minute", "mins", "min", "분", "m")
_HHMM = re.compile(r"^\s*(\d+):([0-5]\d)\s*$")


def _key(header: str) -> str:
    key = re.sub(r"[\s_\-()\[\]{}./]", "", header.strip().lower())
    for suffix in _UNIT_SUFFIX:
        if key.endswith(suffix) and len(key) > len(suffix) and key[:-len(suffix)] in _KNOWN:
            return key[:-len(suffix)]
    return key


_KNOWN = {alias for names in ALIASES.values() for alias in names}
_FIELD = {alias: name for name, names in ALIASES.items() for alias in names}


@dataclass
class Row:
    line: int
    step: str | None
    title: str | None
    planned_s: float
    actual_s: float
    date: datetime | None
    date_text: str = ""  # as written: the same sheet is the same history in any zone


@dataclass
class Window:
    name: str
    rows: list[Row] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Identifies this window's content: importing it again is a no-op."""
        text = repr([(self.name, r.step, r.title, r.planned_s, r.actual_s, r.date_text)
                     for r in self.rows])
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def read_text(path: str | Path) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise Unusable(f"cannot read {path}: {e.strerror or e}") from None
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Unusable(f"{path}: not UTF-8 or CP949 text; save the sheet as CSV (UTF-8)")


def minutes(text: str) -> float:
    """Seconds in a cell of minutes: ``12``, ``12.5``, ``1:30`` (h:mm) or ``90s``/``1h5m``."""
    value = text.strip()
    if not value:
        raise ValueError("is empty")
    if m := _HHMM.match(value):
        return (int(m.group(1)) * 60 + int(m.group(2))) * 60.0
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        try:
            return parse_duration(value)
        except ValueError:
            raise ValueError(f"{value!r} is not minutes (write 12, 12.5, 1:30 or 90s)") from None
    if number != number or number < 0 or number > 366 * 24 * 60:
        raise ValueError(f"{value!r} is not a number of minutes from 0 to a year")
    return number * 60.0


def _date(text: str, tz: str) -> datetime:
    value = text.strip().replace("/", "-").replace(".", "-")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (write 2026-03-14 or 2026-03-14 23:00)") from None
    return t if t.tzinfo else t.replace(tzinfo=zone(tz))


def parse(path: str | Path, timezone: str = "UTC") -> list[Window]:
    """The windows in the CSV at ``path``, in file order; Unusable naming every bad line."""
    text = read_text(path)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise Unusable(f"{path}: the file is empty; it needs a header line and one row per "
                       "step") from None
    columns: dict[str, int] = {}
    for i, h in enumerate(header):
        name = _FIELD.get(_key(h))
        if name and name not in columns:
            columns[name] = i
    missing = [n for n in ("window", "planned", "actual") if n not in columns]
    if "step" not in columns and "title" not in columns:
        missing.append("step or title")
    if missing:
        raise Unusable(
            f"{path} line 1: no column for {', '.join(missing)}; the header has "
            f"{', '.join(repr(h) for h in header)}. Expected columns: window, step (id or title), "
            "planned minutes, actual minutes, optional date (Korean headers such as 회차, 단계, "
            "계획, 실적, 일자 work too)")
    windows: dict[str, Window] = {}
    errors: list[str] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            i = columns.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        problems = []
        window = cell("window")
        if not window:
            problems.append("the window is empty")
        step, title = cell("step") or None, cell("title") or None
        if step is None and title is None:
            problems.append("the step has neither an id nor a title")
        values = {}
        for name in ("planned", "actual"):
            try:
                values[name] = minutes(cell(name))
            except ValueError as e:
                problems.append(f"{name} minutes {e}")
        date = None
        if cell("date"):
            try:
                date = _date(cell("date"), timezone)
            except ValueError as e:
                problems.append(f"date {e}")
        if problems:
            errors.append(f"{path} line {line}: {'; '.join(problems)}")
            continue
        windows.setdefault(window, Window(window)).rows.append(
            Row(line, step, title, values["planned"], values["actual"], date, cell("date")))
    if errors:
        more = len(errors) - MAX_ERRORS
        shown = errors[:MAX_ERRORS] + ([f"... and {more} more bad rows"] if more > 0 else [])
        raise Unusable("nothing imported; fix these rows and import again:\n  "
                       + "\n  ".join(shown))
    if not windows:
        raise Unusable(f"{path}: no rows under the header; nothing to import")
    return list(windows.values())


def _step_ids(w: Window, plan: Plan | None) -> list[tuple[str, str]]:
    """(id, title) per row: the runbook's step when the id or title matches one, else the sheet's
    id when it is a valid id, else step-NN."""
    titles = {s.title.strip().lower(): s.id for s in plan.steps} if plan else {}
    out, seen = [], set()
    for n, r in enumerate(w.rows, start=1):
        sid = None
        if plan and r.step in plan.by_id:
            sid = r.step
        elif plan and r.title and r.title.strip().lower() in titles:
            sid = titles[r.title.strip().lower()]
        elif r.step and re.match(ID_PATTERN, r.step):
            sid = r.step
        sid = sid or f"step-{n:02d}"
        base, k = sid, 2
        while sid in seen:
            sid, k = f"{base}-{k}", k + 1
        seen.add(sid)
        out.append((sid, r.title or r.step or sid))
    return out


def window_runbook(w: Window, runbook_id: str, timezone: str, start: datetime,
                   plan: Plan | None) -> str:
    """The runbook a history run is recorded against: the window's steps as single estimates."""
    steps = [{"id": sid, "title": title, "estimate": f"{r.planned_s:g}s"}
             for (sid, title), r in zip(_step_ids(w, plan), w.rows, strict=True)]
    planned = sum(r.planned_s for r in w.rows)
    local = start.astimezone(zone(timezone)).replace(tzinfo=None)
    data = {"runbook": 1, "id": runbook_id, "title": f"{w.name} (imported history)",
            "timezone": timezone,
            "window": {"start": local.isoformat(timespec="seconds"),
                       "announced_resume": (local + timedelta(seconds=max(planned, 60)))
                       .isoformat(timespec="seconds")},
            "steps": steps}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def new_runs(windows: list[Window], *, runbook_id: str, timezone: str, source: str,
             now: datetime, plan: Plan | None = None) -> list[dict]:
    """One run per window, with its events, in the form Store.import_runs takes."""
    runs = []
    for n, w in enumerate(windows):
        dated = next((r.date for r in w.rows if r.date), None)
        start = (dated or now - timedelta(days=len(windows) - n)).astimezone(UTC)
        text = window_runbook(w, runbook_id, timezone, start, plan)
        events = [{"at": start, "type": "run_started", "step": None,
                   "payload": {"operator": ACTOR, "label": LABEL}}]
        t = start
        for (sid, _title), r in zip(_step_ids(w, plan), w.rows, strict=True):
            events.append({"at": t, "type": "step_started", "step": sid, "payload": {}})
            t += timedelta(seconds=r.actual_s)
            events.append({"at": t, "type": "step_completed", "step": sid,
                           "payload": {"note": f"imported from {source} line {r.line}"}})
        events.append({"at": t, "type": "run_finished", "step": None, "payload": {"auto": True}})
        run = {"runbook_id": runbook_id, "title": f"{w.name} (imported history)",
               "label": LABEL, "source_text": text, "source_name": f"{source}#{w.name}",
               "created_at": start,
               "meta": {"imported": {"file": source, "window": w.name, "key": w.key,
                                     "steps": len(w.rows)}, "timezone": timezone},
               "events": events}
        run["summary"] = summarise_import(run)  # stored with it: the prior reads no events
        runs.append(run)
    return runs
