"""Pydantic's validation errors in plain words, with what to do, in the current language.

The loader adds the file, line and column, and where in the runbook (``steps[2].estimate``).
"""

from __future__ import annotations

import difflib
from typing import Any

from runbook.format.comms import LANG_PATTERN
from runbook.i18n import N_, _

_TYPE_WORDS = {  # in English; said with _()
    "string_type": N_("text"),
    "int_type": N_("a whole number"),
    "int_parsing": N_("a whole number"),
    "float_type": N_("a number"),
    "float_parsing": N_("a number"),
    "bool_type": N_("true or false"),
    "bool_parsing": N_("true or false"),
    "list_type": N_("a list"),
    "dict_type": N_("a mapping (key: value lines)"),
    "model_type": N_("a mapping (key: value lines)"),
    "model_attributes_type": N_("a mapping (key: value lines)"),
}


def describe_value(value: Any) -> str:
    """A value as an error message shows it: short, in the file's words."""
    if value is None:
        return _("nothing (empty value)")
    if isinstance(value, dict):
        return _("a mapping")
    if isinstance(value, list):
        return _("a list")
    if isinstance(value, bool):
        return _("{value} (a yes/no value)").format(value=str(value).lower())
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + "...'"


_LIMITS = {"greater_than": ("gt", N_("must be more than {limit}, got {value}")),
           "greater_than_equal": ("ge", N_("must be at least {limit}, got {value}")),
           "less_than": ("lt", N_("must be less than {limit}, got {value}")),
           "less_than_equal": ("le", N_("must be at most {limit}, got {value}"))}


def explain_error(err: Any, loc: tuple[str | int, ...]) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in plain words, with what to
    do; ``loc`` is where it is, without union tags."""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx", {})
    shown = describe_value(value)
    if kind == "string_type" and isinstance(value, int | float | bool):
        return _("expected text, got {value}; put it in quotes").format(value=shown)
    if kind in _TYPE_WORDS:
        return _("expected {what}, got {value}").format(what=_(_TYPE_WORDS[kind]), value=shown)
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "enum":
        allowed = ctx.get("expected", "")
        names = [a.strip("' ") for a in allowed.replace(" or ", ",").split(",")]
        close = difflib.get_close_matches(str(value), names, n=1)
        hint = _("; did you mean {name}?").format(name=repr(close[0])) if close else ""
        return _("{value} is not one of {allowed}{hint}").format(
            value=shown, allowed=allowed.replace(" or ", _(" or ")), hint=hint)
    if kind == "too_short" and loc and loc[-1] == "steps":
        return _("needs at least one step; add one (id, title, estimate)")
    if kind == "too_short":
        return _("needs at least {n} item; add one or remove the key").format(
            n=ctx.get("min_length", 1))
    if kind == "string_too_short":
        return _("must not be empty; write some text")
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == LANG_PATTERN:
        return _("{value} is not a language code; write it like ko, en or zh-Hant (lower case)"
                 ).format(value=shown)
    if kind == "string_pattern_mismatch":
        return _("{value} is not a valid id; use letters, digits, '-', '_' or '.', starting with "
                 "a letter or digit").format(value=shown)
    if kind == "literal_error":
        return _("{value} is not allowed here; expected {expected}").format(
            value=shown, expected=ctx.get("expected", ""))
    if kind in _LIMITS:
        name, sentence = _LIMITS[kind]
        return _(sentence).format(limit=ctx.get(name), value=shown)
    if kind == "finite_number":
        return _("must be a finite number, got {value}").format(value=shown)
    return str(err["msg"]).replace("Input should be", "should be")  # pydantic's words: English
