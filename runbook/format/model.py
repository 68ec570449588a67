"""Pydantic models of the runbook format v1 (DESIGN §1).

The models check the shape of one file: keys, types, durations, times in the runbook's time zone.
Checks that span several parts (duplicate ids, unknown ``after`` targets, cycles, window order)
live in :mod:`runbook.plan`, which compiles a validated model into the step graph.

Naive times are local to the runbook's ``timezone``; the loader passes that name in the
validation context (``{"timezone": ...}``) so the window validators can localise them.
:func:`explain_error` (:mod:`runbook.format.explain`) words pydantic's errors for people who
write runbooks.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import pendulum
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from runbook.format.comms import Comms
from runbook.format.durations import format_duration, parse_duration
from runbook.format.explain import describe_value, explain_error  # noqa: F401  (the loader's)
from runbook.i18n import _

FORMAT_VERSION = 1
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
FIRST_YEAR, LAST_YEAR = 1970, 8999  # beyond, instants overflow: year 0 / 10000 after an offset

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(\s*\d+(\.\d+)?\s*(d|h|m|min|s)\s*)+$|^[Pp].+$",
            "description": "A duration: 90s, 5m, 1h30m or ISO 8601 (PT5M).",
            "examples": ["90s", "5m", "1h30m", "PT5M"],
        }
    ),
]


def _localise(value: Any, info: ValidationInfo) -> datetime:
    return localise(value, (info.context or {}).get("timezone") or "UTC")


def localise(value: Any, zone_name: str) -> datetime:
    """An ISO 8601 time as an aware UTC instant; a naive one is read in ``zone_name`` (DST gaps and
    folds refused).

    Instants are kept in UTC: Python compares and subtracts two datetimes that share a time zone
    by their wall clocks, which is wrong across a DST change (an hour after 02:50 CEST is 02:50 CET,
    "earlier" on the wall). Times are shown in the runbook's zone by :mod:`runbook.format.times`.
    """
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError(_("expected a time like 2026-11-25T00:00, got {value}").format(
            value=describe_value(value)))
    try:
        parsed = pendulum.parse(text, exact=True, tz=None)
    except Exception:
        raise ValueError(_("{value} is not an ISO 8601 time; write it like 2026-11-25T00:00"
                           ).format(value=repr(text))) from None
    if not isinstance(parsed, datetime):
        raise ValueError(_("{value} has no time of day; write it like 2026-11-25T00:00").format(
            value=repr(text)))
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValueError(_("{value}: year {year} is out of range ({first}-{last}); check the date"
                           ).format(value=text, year=f"{parsed.year:04d}", first=FIRST_YEAR,
                                    last=LAST_YEAR))
    try:
        zone = pendulum.timezone(zone_name)
    except Exception:
        zone = pendulum.timezone("UTC")  # the timezone field reports its own error
    if parsed.tzinfo is not None:
        return _utc(parsed)
    fields = (parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second)
    try:
        return _utc(pendulum.datetime(*fields, tz=zone, raise_on_unknown_times=True))
    except pendulum.tz.exceptions.NonExistingTime:
        raise ValueError(
            _("{value} does not exist in {zone}: the clocks jump forward over it at the DST "
              "change; pick another time or write an explicit offset (e.g. +01:00)").format(
                value=text, zone=zone_name)
        ) from None
    except pendulum.tz.exceptions.AmbiguousTime:
        first = pendulum.datetime(*fields, tz=zone, fold=0).strftime("%z")
        second = pendulum.datetime(*fields, tz=zone, fold=1).strftime("%z")
        raise ValueError(
            _("{value} happens twice in {zone} (the clocks go back at the DST change); write the "
              "offset to say which: {first} (first) or {second} (second)").format(
                value=text, zone=zone_name, first=f"{first[:3]}:{first[3:]}",
                second=f"{second[:3]}:{second[3:]}")
        ) from None


def _utc(instant: datetime) -> datetime:
    """A plain stdlib datetime in UTC (no pendulum subclass, no wall-clock comparisons)."""
    return _EPOCH + datetime.__sub__(instant, _EPOCH)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


Instant = Annotated[
    datetime,
    BeforeValidator(_localise),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 time; without an offset it is local to `timezone`.",
            "examples": ["2026-11-25T00:00", "2026-11-25T00:30+09:00"],
        }
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False, allow_inf_nan=False)


class Kind(StrEnum):
    task = "task"
    check = "check"
    decision = "decision"
    comms = "comms"
    wait = "wait"
    milestone = "milestone"


class Level(StrEnum):
    """Risk levels (DESIGN §3), in order of increasing trouble; ``resumed`` is the end state."""

    on_track = "on_track"
    at_risk = "at_risk"
    decide_now = "decide_now"
    late = "late"
    resumed = "resumed"


class Estimate(Strict):
    """Three-point estimate: optimistic <= likely <= pessimistic."""

    optimistic: Duration
    likely: Duration
    pessimistic: Duration

    @model_validator(mode="after")
    def _ordered(self) -> Estimate:
        if not self.optimistic <= self.likely <= self.pessimistic:
            raise ValueError(
                _("needs optimistic <= likely <= pessimistic, got {optimistic} / {likely} / "
                  "{pessimistic}").format(optimistic=format_duration(self.optimistic),
                                          likely=format_duration(self.likely),
                                          pessimistic=format_duration(self.pessimistic))
            )
        return self


def _estimate_form(value: Any) -> str:
    return "three" if isinstance(value, dict | Estimate) else "single"


EstimateField = Annotated[
    Annotated[Estimate, Tag("three")] | Annotated[Duration, Tag("single")],
    Discriminator(_estimate_form),
]


class Step(Strict):
    id: str = Field(pattern=ID_PATTERN, description="Unique across the runbook; stable across versions.")
    title: str = Field(min_length=1)
    kind: Kind = Kind.task
    owner: str | None = None
    estimate: EstimateField = Field(
        description="Three points, or one duration: its median, spread by policy.spread."
    )
    after: list[str] | None = Field(
        default=None, description="Steps that must finish first. Default: the step above; [] = none."
    )
    command: str | None = Field(default=None, description="Shown and copyable; never executed.")
    check: str | None = None
    notes: str | None = None
    resumes_service: bool | None = Field(
        default=None, description="Completing this step means service is back (default: last step)."
    )


class Spread(Strict):
    """How a single estimate m becomes a distribution: log-logistic with median m, its P10 at
    m x optimistic and its P90 at m x pessimistic (docs/forecast.md)."""

    optimistic: float = Field(default=0.5, gt=0, le=1)
    pessimistic: float = Field(default=1.8, ge=1)


class Notify(Strict):
    """Alert hooks: a command (argument list, never a shell) and/or apprise URLs."""

    command: list[str] | None = Field(default=None, min_length=1)
    urls: list[str] = Field(default_factory=list)
    timeout: Duration = 10.0
    levels: list[Level] | None = Field(default=None, description="Levels to send; default all.")


class OutageReport(StrEnum):
    """Named reporting rules (runbook/engine/reporting.py; sources in docs/reporting.md)."""

    kr_fss = "kr-fss"
    eu_dora = "eu-dora"
    us_36h = "us-36h"


class DoraCriterion(StrEnum):
    """DORA materiality thresholds runbook cannot measure (Delegated Regulation 2024/1772 Art. 9);
    the team names the ones it judged met."""

    reputational = "reputational"
    geographical = "geographical"
    data_losses = "data_losses"
    economic = "economic"
    malicious_access = "malicious_access"


class Policy(Strict):
    confidence: float = Field(default=0.8, ge=0.5, lt=1)
    decision_lead: Duration = 300.0
    outage_report_after: Duration = 600.0
    report_due_within: Duration = 86400.0
    outage_report: OutageReport | None = Field(
        default=None, description="A named reporting rule instead of outage_report_after / "
        "report_due_within: kr-fss, eu-dora or us-36h.")
    subscribers: int | None = Field(
        default=None, ge=0, description="Subscribers (clients) of the service the window stops; "
        "kr-fss needs it, eu-dora reads it.")
    critical_service: bool | None = Field(
        default=None, description="eu-dora: the service supports critical or important functions.")
    dora_thresholds_met: list[DoraCriterion] = Field(
        default_factory=list, description="eu-dora: further materiality thresholds the team "
        "judged met (runbook measures downtime, duration and clients itself).")
    spread: Spread = Field(default_factory=Spread)
    notify: Notify | None = None


class Window(Strict):
    start: Instant
    announced_resume: Instant
    hard_deadline: Instant | None = None


class Contingency(Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)


class Runbook(Strict):
    runbook: Literal[1] = Field(description="Format version.")
    id: str | None = Field(default=None, pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    timezone: str = Field(description="IANA time zone name; naive times are local to it.")
    window: Window
    policy: Policy = Field(default_factory=Policy)
    steps: list[Step] = Field(min_length=1)
    contingencies: list[Contingency] = Field(default_factory=list)
    comms: Comms | None = Field(default=None, description="Customer notices per level and "
                                "language, filled with the forecast's numbers.")

    @field_validator("runbook", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        if value != FORMAT_VERSION or isinstance(value, bool):
            raise ValueError(
                _("format version {value} is not supported; this runbook tool reads version "
                  "{version} (write `runbook: 1`)").format(value=repr(value),
                                                          version=FORMAT_VERSION)
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            pendulum.timezone(value)
        except Exception:
            close = closest_zone(value)
            hint = _("did you mean {name}? ").format(name=repr(close)) if close else ""
            raise ValueError(
                _("unknown time zone {value}; {hint}use an IANA name such as Asia/Seoul").format(
                    value=describe_value(value), hint=hint)
            ) from None
        return value


def closest_zone(name: str) -> str | None:
    """The IANA zone a mistyped ``name`` most likely means ('asia/seoul', 'Seoul', 'Asia/Seol')."""
    zones = sorted(pendulum.timezones())
    wanted = name.strip().replace(" ", "_").lower()
    for zone in zones:
        if wanted in (zone.lower(), zone.rsplit("/", 1)[-1].lower()):
            return zone
    if "/" not in name and len(name) <= 5:
        return None  # an abbreviation such as KST: several zones share it
    close = difflib.get_close_matches(name, zones, n=1)
    return close[0] if close else None


def json_schema() -> dict[str, Any]:
    schema = Runbook.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/runbook/runbook/runbook.schema.json"
    schema["title"] = "runbook format v1"
    schema["description"] = "A maintenance-window runbook for the `runbook` tracker."
    return schema
