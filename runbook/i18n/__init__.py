"""Message catalogues: every word runbook shows a person, in English or Korean.

One gettext domain, ``runbook``. The English text in the code is the message id; translations
live in ``runbook/i18n/locale/<lang>/LC_MESSAGES/runbook.po`` (the source, edited by people) and
its compiled ``runbook.mo`` (read at run time by the standard library's :mod:`gettext`; no
dependency). ``tools/catalogue.py`` extracts the ids from the code and compiles the catalogue with
Babel (a development dependency only).

Marking text:

* ``_("Resume {announced} at risk")`` translates now, in :func:`current` language. Placeholders
  are named and filled with ``.format(...)`` *after* translation, so a translation may reorder
  them (Korean puts the verb last). Never an f-string inside ``_()``: the id would differ with
  every value.
* ``ngettext("{n} step", "{n} steps", n)`` where English has a plural (Korean has none).
* ``N_("ON TRACK")`` only marks a module-level constant for extraction; translate it where it is
  shown, ``_(WORDS[level])``: the language is chosen after modules are imported.

The language: :func:`set_language` (``runbook --lang ko``), else the environment as gettext reads
it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG: the first one set; ``ko_KR.UTF-8`` is Korean, ``C`` and
``POSIX`` English), else English. :func:`using` renders one piece of text in another language
(a Korean report of a run recorded in English) without touching what other threads show.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "runbook"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT = "en"
LANGUAGES = ("en", "ko")  # every language with a catalogue (English: the ids themselves)
NAMES = {"en": "English", "ko": "한국어"}
ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order

_language = DEFAULT
_override: ContextVar[str | None] = ContextVar("runbook_language", default=None)


def normalise(name: str | None) -> str | None:
    """``ko``, ``ko_KR.UTF-8``, ``ko-KR`` -> ``ko``; ``C``, ``POSIX`` -> ``en``; None when it is
    not a language runbook has."""
    if not name:
        return None
    base = name.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    if base in ("c", "posix"):
        return DEFAULT
    return base if base in LANGUAGES else None


def from_environment(env: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for, read as :func:`gettext.find` does: the first of
    LANGUAGE, LC_ALL, LC_MESSAGES and LANG that is set decides (LANGUAGE may list several,
    ``ko:en``; the first that runbook has wins); English when it names none runbook has."""
    env = os.environ if env is None else env
    for var in ENVIRONMENT:
        value = env.get(var)
        if value:
            for name in value.split(":"):
                lang = normalise(name)
                if lang is not None:
                    return lang
            return DEFAULT
    return DEFAULT


def set_language(lang: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Choose the language for this process (every thread); None: from the environment.
    Returns the language chosen. ValueError for a language runbook has no catalogue for."""
    global _language
    chosen = from_environment(env) if lang is None else normalise(lang)
    if chosen is None:
        raise ValueError(f"no catalogue for language {lang!r} (have: {', '.join(LANGUAGES)})")
    _language = chosen
    return chosen


def current() -> str:
    """The language text is being written in now: ``"en"`` or ``"ko"``.

    The process's language (:func:`set_language`), or the one a :func:`using` block on this
    thread asked for."""
    return _override.get() or _language


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Write in ``lang`` inside the block, on this thread only (None: no change)."""
    chosen = current() if lang is None else normalise(lang)
    if chosen is None:
        raise ValueError(f"no catalogue for language {lang!r} (have: {', '.join(LANGUAGES)})")
    token = _override.set(chosen)
    try:
        yield chosen
    finally:
        _override.reset(token)


@cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English: the ids as they are)."""
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang])


def _(message: str) -> str:
    """``message`` in the current language."""
    return catalogue(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the current language."""
    return catalogue(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it (module-level constants)."""
    return message


def is_korean() -> bool:
    return current() == "ko"


__all__ = ["DEFAULT", "LANGUAGES", "N_", "_", "catalogue", "current", "from_environment",
           "is_korean", "ngettext", "normalise", "set_language", "using"]
