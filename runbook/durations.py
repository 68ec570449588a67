"""Durations as people write them (``90s``, ``5m``, ``1h30m``, ``PT5M``) and as people read them."""

from __future__ import annotations

import re

import pendulum

_COMPACT = re.compile(
    r"^\s*(?:(?P<d>\d+(?:\.\d+)?)\s*d)?\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h(?:r|rs)?)?\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in|ins)?)?\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s(?:ec|ecs)?)?\s*$"
)
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}

HELP = "write a duration like 90s, 5m, 1h30m or PT5M"


def parse_duration(text: object) -> float:
    """Seconds in ``text``; ValueError with a hint when it is not a duration."""
    if isinstance(text, bool) or not isinstance(text, str):
        if isinstance(text, int | float) and not isinstance(text, bool):
            raise ValueError(f"{text!r} has no unit; {HELP}")
        raise ValueError(f"expected a duration, got {type(text).__name__}; {HELP}")
    raw = text.strip()
    if raw.upper().startswith("P"):
        try:
            value = pendulum.parse(raw.upper(), exact=True)
        except Exception:
            raise ValueError(f"{text!r} is not an ISO 8601 duration; {HELP}") from None
        if not isinstance(value, pendulum.Duration):
            raise ValueError(f"{text!r} is not a duration; {HELP}")
        if value.years or value.months:
            raise ValueError(f"{text!r} uses years or months, which have no fixed length; {HELP}")
        seconds = value.total_seconds()
    else:
        match = _COMPACT.match(raw)
        if not raw or match is None or not any(match.groupdict().values()):
            raise ValueError(f"{text!r} is not a duration; {HELP}")
        seconds = sum(float(v) * _UNITS[k] for k, v in match.groupdict().items() if v)
    if seconds < 0:
        raise ValueError(f"{text!r} is negative")
    return float(seconds)


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
