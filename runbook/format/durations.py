"""Durations as people write them (``90s``, ``5m``, ``1h30m``, ``PT5M``) and as people read them."""

from __future__ import annotations

import math
import re

import pendulum

from runbook.i18n import DEFAULT, N_, _, current

_COMPACT = re.compile(
    r"^\s*(?:(?P<d>\d+(?:\.\d+)?)\s*d)?\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h(?:r|rs)?)?\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in|ins)?)?\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s(?:ec|ecs)?)?\s*$"
)
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_WORDS = re.compile(r"(\d)\s*(d)ays?\b|(\d)\s*(h)(?:ours?|rs?)\b|(\d)\s*(m)in(?:ute)?s?\b|"
                    r"(\d)\s*(s)ec(?:ond)?s?\b", re.IGNORECASE)
MAX_SECONDS = 366 * 86400.0  # no step, lead time or deadline of a maintenance window is longer

HELP = N_("write a duration like 90s, 5m, 1h30m or PT5M")  # said with _(HELP)


def parse_duration(text: object) -> float:
    """Seconds in ``text``; ValueError with a hint when it is not a duration (in the current
    language; the units written in a file, ``90s``, ``5m``, are the same in every language)."""
    if isinstance(text, int | float) and not isinstance(text, bool) and math.isfinite(text):
        number = int(text) if float(text).is_integer() else text
        raise ValueError(_("{value} has no unit; write {number}m for minutes or {number}s for "
                           "seconds (90s, 5m, 1h30m or PT5M)").format(value=_quote(text),
                                                                       number=number))
    if not isinstance(text, str):
        raise ValueError(_("expected a duration, got {value}; {help}").format(
            value=_kind(text), help=_(HELP)))
    shown = _quote(text)
    raw = text.strip()
    negative = _("{value} is negative; a duration is zero or more ({help})")
    not_one = _("{value} is not a duration; {help}")
    if raw.startswith("-"):
        raise ValueError(negative.format(value=shown, help=_(HELP)))
    if raw.upper().startswith("P"):
        try:
            value = pendulum.parse(raw.upper(), exact=True)
        except Exception:
            raise ValueError(_("{value} is not an ISO 8601 duration; {help}").format(
                value=shown, help=_(HELP))) from None
        if not isinstance(value, pendulum.Duration):
            raise ValueError(not_one.format(value=shown, help=_(HELP)))
        if value.years or value.months:
            raise ValueError(_("{value} uses years or months, which have no fixed length; {help}"
                               ).format(value=shown, help=_(HELP)))
        seconds = value.total_seconds()
    else:
        match = _COMPACT.match(raw)
        if not raw or match is None or not any(match.groupdict().values()):
            fixed = _WORDS.sub(lambda m: "".join(g for g in m.groups() if g), raw).replace(" ", "")
            if fixed != raw.replace(" ", "") and _COMPACT.match(fixed):
                raise ValueError(_("{value} is not a duration; did you mean {fixed}? ({help})"
                                   ).format(value=shown, fixed=repr(fixed), help=_(HELP)))
            raise ValueError(not_one.format(value=shown, help=_(HELP)))
        seconds = sum(float(v) * _UNITS[k] for k, v in match.groupdict().items() if v)
    if seconds < 0:
        raise ValueError(negative.format(value=shown, help=_(HELP)))
    if not seconds <= MAX_SECONDS:  # also catches inf and nan
        raise ValueError(_("{value} is longer than a year; check the unit ({help})").format(
            value=shown, help=_(HELP)))
    return float(seconds)


def _quote(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _kind(value: object) -> str:
    if value is None:
        return _("nothing (empty value)")
    if isinstance(value, bool):
        return _("{value} (a yes/no value)").format(value=str(value).lower())
    if isinstance(value, list | dict):
        return _("a list") if isinstance(value, list) else _("a mapping")
    return _quote(value)


def format_duration(seconds: float) -> str:
    """Compact, exact-enough form for files and tables: ``1h30m``, ``5m``, ``45s``, ``0s``."""
    total = int(round(seconds))
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs or not parts:
        parts.append(f"{secs}s")
    return sign + "".join(parts)


def format_minutes(seconds: float, *, up: bool = False) -> str:
    """Whole minutes for messages read under pressure: ``40m``, ``1h05m`` (``up``: round up);
    in Korean ``40분``, ``1시간 5분``."""
    total = max(0, int(-(-seconds // 60)) if up else int(seconds // 60))
    if _spelled_out():
        return _spell(total * 60)
    if total < 60:
        return f"{total}m"
    return f"{total // 60}h{total % 60:02d}m"


def format_clock(seconds: float) -> str:
    """Countdown form: ``1:05:09``, ``12:04``, ``-3:20`` (past)."""
    total = int(round(seconds))
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


def format_until(seconds: float) -> str:
    """How long until something, for a countdown read under pressure: ``57s`` and ``1m05s``
    under two minutes, else ``12m``, ``1h05m`` (never ``0m``); in Korean ``57초``, ``1분 5초``,
    ``12분``, ``1시간 5분``."""
    s = max(0, int(seconds))
    if s < 120 and _spelled_out():
        return _spell(s)
    if s < 60:
        return f"{s}s"
    if s < 120:
        return f"1m{s - 60:02d}s"
    return format_minutes(s)


def duration_text(seconds: float) -> str:
    """A duration for a person to read, in the current language: :func:`format_duration`'s
    ``1h30m``, ``5m``, ``45s`` in English; ``1시간 30분``, ``5분``, ``45초`` in Korean.
    (:func:`format_duration` itself is the file form: YAML, the runbook format.)"""
    if _spelled_out():
        return _spell(seconds)
    return format_duration(seconds)


def _spelled_out() -> bool:
    """English keeps its compact ``1h05m``; a translation spells the units out (its catalogue
    has them: ``{n}h`` -> ``{n}시간``)."""
    return current() != DEFAULT


def _spell(seconds: float) -> str:
    """``1시간 5분``, ``5분``, ``45초``, ``2분 30초``, ``0초``: units after the number, a space
    between units, no zero padding (as a Korean change record writes them)."""
    total = int(round(seconds))
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(_("{n}h").format(n=hours))
    if minutes:
        parts.append(_("{n}m").format(n=minutes))
    if secs or not parts:
        parts.append(_("{n}s").format(n=secs))
    return sign + " ".join(parts)
