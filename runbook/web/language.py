"""Which language a request to `runbook serve` is answered in. Pure.

The first that names a language runbook has (``runbook.i18n.LANGUAGES``) wins:

1. ``?lang=ko`` in the address (a link that should open in Korean; the page passes its own
   language to the event stream this way, so page and updates never disagree);
2. ``serve --lang ko``: the whole server in one language, whatever the browsers say;
3. the browser's ``Accept-Language`` (a phone set to Korean sends ``ko-KR,ko;q=0.9,...``),
   highest ``q`` first;
4. the server's own language (``LANG`` and the other variables ``runbook`` reads), else English.
"""

from __future__ import annotations

from collections.abc import Mapping

from runbook.i18n import normalise

MAX_HEADER = 512  # longer Accept-Language headers are read up to this (no browser sends more)


def accepted(header: str | None) -> str | None:
    """The language runbook has that an ``Accept-Language`` header prefers, or None.

    ``ko-KR,ko;q=0.9,en-US;q=0.8`` -> ``ko``; ``fr, en;q=0.5`` -> ``en``; ``q=0`` means "not this
    one"; ``*`` and unknown languages are passed over."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for order, item in enumerate(header[:MAX_HEADER].split(",")):
        name, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not 0 < q <= 1:
            continue
        lang = normalise(name) if name.strip() not in ("", "*") else None
        if lang is not None and name.strip().lower() not in ("c", "posix"):
            ranked.append((-q, order, lang))
    return min(ranked)[2] if ranked else None


def choose(query: Mapping[str, str], headers: Mapping[str, str], *, pinned: str | None,
           default: str) -> str:
    """The language to answer in (module docstring); ``query`` and ``headers`` are the request's."""
    return (normalise(query.get("lang")) or pinned or accepted(headers.get("Accept-Language"))
            or default)
