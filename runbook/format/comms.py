"""The ``comms:`` section: customer notices per level and language, checked when the file loads.

A notice is a template with placeholders in braces, filled with the forecast's numbers when the
level changes (:mod:`runbook.engine.notices`)::

    comms:
      late:
        ko: "서비스 재개 시각이 {resume_p90}(으)로 변경되었습니다"
        en: "Service will now resume at {resume_p90}."

Every placeholder is checked here, so a misspelt one is an error with its line before the window
starts, never a blank in a message customers read. ``{{`` and ``}}`` write a literal brace.
"""

from __future__ import annotations

import difflib
import string
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from runbook.i18n import _

NOTICE_LEVELS = ("at_risk", "decide_now", "late", "resumed")

# name -> what it is filled with (README and docs/reporting.md list the same)
PLACEHOLDERS = {
    "announced": "the announced resume time, HH:MM",
    "resume": "the time to announce now: the forecast's confidence quantile, rounded up to the "
              "minute (once service is back: when it came back)",
    "resume_p50": "the forecast resume time at even odds, rounded up to the minute",
    "resume_p80": "the forecast resume time 8 times in 10, rounded up to the minute",
    "resume_p90": "the forecast resume time 9 times in 10, rounded up to the minute",
    "resumed_at": "when service came back, HH:MM (the announced time until then)",
    "delay_min": "whole minutes past the announced resume, rounded up: of resume_p90 while "
                 "service is down, of resumed_at once it is back (0 when on time)",
    "p_on_time": "the chance of resuming by the announced time, whole percent rounded down "
                 "(42%)",
    "date": "the local date of the announced resume, YYYY-MM-DD",
}

LANG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


def placeholders(template: str) -> list[str]:
    """The placeholder names in ``template``; ValueError in plain words when it is malformed."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(_("{problem} in the notice; write a literal brace as {{{{ or }}}}"
                           ).format(problem=e)) from None  # Python's words for the problem
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name:
            raise ValueError(_("an empty placeholder {{}} in the notice; name one of: {names}"
                               ).format(names=", ".join(PLACEHOLDERS)))
        if spec or conversion:
            written = ("{" + name + ("!" + conversion if conversion else "")
                       + (":" + spec if spec else "") + "}")
            raise ValueError(_("placeholder {written} takes no format; write {plain}").format(
                written=written, plain="{" + name + "}"))
        names.append(name)
    return names


def check_template(template: str) -> str:
    """A notice template whose placeholders are all known (for the pydantic model)."""
    for name in placeholders(template):
        if name not in PLACEHOLDERS:
            close = difflib.get_close_matches(name, list(PLACEHOLDERS), n=1)
            hint = _("did you mean {name}? ").format(name="{" + close[0] + "}") if close else ""
            raise ValueError(_("unknown placeholder {name} in the notice; {hint}known: {known}"
                               ).format(name="{" + name + "}", hint=hint,
                                        known=", ".join("{" + p + "}" for p in PLACEHOLDERS)))
    if not template.strip():
        raise ValueError(_("the notice is empty; write the text customers should read"))
    return template


Lang = Annotated[str, StringConstraints(pattern=LANG_PATTERN)]
Template = Annotated[str, AfterValidator(check_template)]
Notices = Annotated[dict[Lang, Template], Field(min_length=1)]


class Comms(BaseModel):
    """Customer notices: for each level, one text per language (ko, en, ...)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)

    at_risk: Notices | None = Field(default=None, description="When the announced resume is at "
                                    "risk (e.g. brief customer service).")
    decide_now: Notices | None = Field(default=None, description="Optional: at the contingency "
                                       "decision.")
    late: Notices | None = Field(default=None, description="When the announced resume will be "
                                 "missed: the new time, e.g. {resume_p90}.")
    resumed: Notices | None = Field(default=None, description="When service is back.")

    def for_level(self, level: str) -> dict[str, str] | None:
        return getattr(self, level, None) if level in NOTICE_LEVELS else None
