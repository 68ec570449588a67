"""Customer notices: the runbook's ``comms:`` templates filled with the forecast's numbers. Pure,
except :func:`language`, which reads the run's language once at start-up.

Resume times are rounded UP to the whole minute (a customer told 01:29 must not wait until
01:29:40); the recommended time already is (:attr:`Forecast.recommended`). Times are HH:MM in the
runbook's zone. The language is the run's (:func:`language`), else English, else the first one the
runbook gives for that level.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from runbook.engine.risk import pct
from runbook.engine.state import RunState
from runbook.forecast.core import Forecast
from runbook.format.comms import PLACEHOLDERS
from runbook.format.plan import Plan
from runbook.format.times import hhmm, local

FALLBACK = "en"


@dataclass(frozen=True)
class Notice:
    level: str
    lang: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "lang": self.lang, "text": self.text}


def language(env: dict[str, str] | None = None) -> str:
    """The language notices are picked in: ``RUNBOOK_NOTICE_LANG`` when set (notices for
    customers may be wanted in another language than the operator's screen); else the run's
    language when it is not the default English (``runbook --lang ko`` or a Korean locale:
    ``runbook.i18n.current()``); else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``:
    ``ja_JP.UTF-8`` -> ``ja``, a language a runbook's ``comms:`` may have though the screens do
    not); else English."""
    from runbook import i18n

    env = os.environ if env is None else env
    code = _code(env.get("RUNBOOK_NOTICE_LANG", ""))
    if code:
        return code
    if i18n.current() != i18n.DEFAULT:
        return i18n.current()
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        code = _code(env.get(key, ""))
        if code:
            return code
    return FALLBACK


def _code(value: str) -> str:
    """``ko_KR.UTF-8`` -> ``ko``; ``zh-Hant`` stays; ``C`` / ``POSIX`` -> ``en``."""
    value = value.strip().split(".", 1)[0].split("@", 1)[0]
    if not value:
        return ""
    if value in ("C", "POSIX"):
        return FALLBACK
    head, _, tail = value.replace("_", "-").partition("-")
    return head.lower() + (f"-{tail}" if tail and "_" not in value else "")


def pick(templates: dict[str, str], lang: str) -> tuple[str, str]:
    """(language, template): the requested one, its base (``zh`` for ``zh-Hant``), English,
    else the first given."""
    for want in (lang, lang.split("-", 1)[0], FALLBACK):
        if want in templates:
            return want, templates[want]
    first = next(iter(templates))
    return first, templates[first]


def minute_up(t: datetime) -> datetime:
    """``t`` rounded up to the whole minute (01:28:01 -> 01:29; 01:28:00 stays)."""
    floor = t.replace(second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(minutes=1)


def values(plan: Plan, state: RunState, fc: Forecast | None) -> dict[str, str]:
    """Every placeholder's text for this moment (see runbook.format.comms.PLACEHOLDERS)."""
    tz = plan.timezone
    announced = plan.announced
    resumed = state.resumed_at or (fc.resumed_at if fc is not None else None)
    if fc is None:
        p50 = p80 = p90 = recommended = announced
        p_on_time = 1.0
    else:
        p50, p80, p90 = (minute_up(t) for t in (fc.p50, fc.p80, fc.p90))
        recommended, p_on_time = fc.recommended, fc.p_on_time
    if resumed is not None:
        recommended = resumed
        late_s = (resumed - announced).total_seconds()
    else:
        late_s = (p90 - announced).total_seconds()
    out = {
        "announced": hhmm(announced, tz),
        "resume": hhmm(recommended, tz),
        "resume_p50": hhmm(p50, tz),
        "resume_p80": hhmm(p80, tz),
        "resume_p90": hhmm(p90, tz),
        "resumed_at": hhmm(resumed or announced, tz),
        "delay_min": str(max(0, math.ceil(late_s / 60 - 1e-9))),
        "p_on_time": pct(p_on_time),
        "date": local(announced, tz).strftime("%Y-%m-%d"),
    }
    assert out.keys() == PLACEHOLDERS.keys()
    return out


def notice(plan: Plan, level: str, state: RunState, fc: Forecast | None,
           lang: str) -> Notice | None:
    """The customer notice for ``level`` now, or None when the runbook has no template for it."""
    comms = plan.runbook.comms
    templates = comms.for_level(str(level)) if comms is not None else None
    if not templates:
        return None
    chosen, template = pick(templates, lang)
    return Notice(str(level), chosen, template.format_map(values(plan, state, fc)))
