"""Reporting rules: whether an overrun must be reported to the supervisor, under which rule, and by
when. Pure: (policy, announced resume, end of the outage) -> :class:`Obligation`.

A planned window is not an incident: customers were told the service stops until the announced
resume. Only the overrun counts, so every rule's clock starts at ``announced_resume``.

``policy.outage_report`` names a rule; without it the policy's own ``outage_report_after`` /
``report_due_within`` apply, exactly as before the presets existed. The rules as implemented here,
and the texts they rest on, are in docs/reporting.md:

* ``kr-fss``: a stoppage or delay of 30 minutes or more, or 10 minutes or more for a service with
  10,000 or more subscribers, is reported to the FSS at once, within a day.
* ``eu-dora``: a major ICT-related incident (critical services affected and two materiality
  thresholds met) is notified within 4 hours of its classification and at most 24 hours after
  the entity became aware of it; the intermediate report within 72 hours of that; the final
  report within a month of the intermediate one.
* ``us-36h``: the primary federal regulator is notified within 36 hours of determining a
  notification incident; the bank determines it, and runbook takes the overrun passing
  ``outage_report_after`` as that moment.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from runbook.format.durations import duration_text
from runbook.format.model import DoraCriterion, OutageReport, Policy
from runbook.format.times import local
from runbook.i18n import N_, _

POLICY = "policy"  # no named rule: the policy's threshold and deadline
KR_LARGE_SERVICE = 10_000  # subscribers from which the shorter threshold applies
KR_SHORT_S, KR_LONG_S, KR_WITHIN_S = 600.0, 1800.0, 86400.0
DORA_DOWNTIME_S = 2 * 3600.0  # service downtime of ICT services supporting critical functions
DORA_DURATION_S = 24 * 3600.0  # duration of the incident
DORA_INITIAL_S, DORA_AWARE_S, DORA_INTERMEDIATE_S = 4 * 3600.0, 24 * 3600.0, 72 * 3600.0
US_WITHIN_S = 36 * 3600.0

TITLES = {  # in English; Obligation.title says them in the current language
    POLICY: N_("the runbook's policy"),
    OutageReport.kr_fss: N_("Korea FSS electronic financial incident report (2025 revision)"),
    OutageReport.eu_dora: N_("EU DORA major ICT-related incident reporting"),
    OutageReport.us_36h: N_("US bank computer-security incident notification (36 hours)"),
}
CRITERIA = {  # thresholds a team declares met (malicious_access: its own wording below)
    DoraCriterion.reputational: N_("reputational impact"),
    DoraCriterion.geographical: N_("geographical spread"),
    DoraCriterion.data_losses: N_("data losses"),
    DoraCriterion.economic: N_("economic impact"),
}
SOURCES = {
    POLICY: "policy.outage_report_after / report_due_within",
    OutageReport.kr_fss: "전자금융감독규정 제73조 and 시행세칙 (as revised 2025-02-05)",
    OutageReport.eu_dora: "Regulation (EU) 2022/2554 Art. 18-19; Delegated Regulations (EU) "
                          "2024/1772 Art. 8-9 and 2025/301 Art. 5",
    OutageReport.us_36h: "12 CFR part 53 (OCC), 12 CFR 225.302 (Federal Reserve), 12 CFR part "
                         "304 subpart C (FDIC)",
}


@dataclass(frozen=True)
class Deadline:
    name: str  # "report", "initial notification", ...
    due: datetime
    how: str  # the rule's words for it: "at once, within a day"


@dataclass(frozen=True)
class Obligation:
    """What a rule asks after this overrun. ``required``: a report is due (``deadlines``)."""

    rule: str  # "policy", "kr-fss", "eu-dora", "us-36h"
    required: bool
    threshold_text: str  # what makes it reportable, in words
    crossed_at: datetime | None  # when it became reportable
    deadlines: tuple[Deadline, ...]
    basis: str = ""  # what runbook measured or assumed for this rule
    threshold_s: float | None = None  # the overrun that makes it reportable, where one does
    within_s: float | None = None  # threshold to deadline, where there is one deadline

    @property
    def named(self) -> bool:
        return self.rule != POLICY

    @property
    def title(self) -> str:
        return _(TITLES[self.rule])

    @property
    def source(self) -> str:
        return SOURCES[self.rule]

    @property
    def due(self) -> datetime | None:
        """The first deadline (``report_due_by`` of the JSON contract), when required."""
        return self.deadlines[0].due if self.required and self.deadlines else None

    @property
    def label(self) -> str:
        """``outage report`` (the policy's) or ``kr-fss report``: how screens name it."""
        return _("{rule} report").format(rule=self.rule) if self.named else _("outage report")


def obligation(policy: Policy, announced: datetime, end: datetime, tz: str = "UTC") -> Obligation:
    """The obligation if the outage ends (service resumes) at ``end``: pass the resume, or now
    while service is down, or a forecast resume for what will be due. ``tz``: the runbook's zone
    (a month is counted on its calendar)."""
    overrun = (end - announced).total_seconds()
    rule = policy.outage_report
    if rule == OutageReport.kr_fss:
        return _kr_fss(policy, announced, overrun)
    if rule == OutageReport.eu_dora:
        return _eu_dora(policy, announced, overrun, tz)
    if rule == OutageReport.us_36h:
        after = policy.outage_report_after
        crossed = announced + timedelta(seconds=after)
        required = overrun > after
        return Obligation(
            OutageReport.us_36h, required,
            _("a notification incident, taken as determined when the overrun passes {threshold} "
              "(policy.outage_report_after: the rule sets no duration, the bank determines it)"
              ).format(threshold=duration_text(after)),
            crossed if required else None,
            (Deadline(N_("notification to the primary federal regulator"),
                      crossed + timedelta(seconds=US_WITHIN_S),
                      _("as soon as possible, no later than 36 hours after the determination")),),
            _("runbook cannot tell a computer-security incident from other causes: confirm it"),
            after, US_WITHIN_S)
    after, within = policy.outage_report_after, policy.report_due_within
    crossed = announced + timedelta(seconds=after)
    required = overrun > after
    return Obligation(
        POLICY, required, _("more than {threshold} past the announced resume").format(
            threshold=duration_text(after)),
        crossed if required else None,
        (Deadline(N_("report"), crossed + timedelta(seconds=within),
                  _("within {within} of crossing the threshold").format(
                      within=duration_text(within))),),
        "", after, within)


def in_force(policy: Policy) -> str:
    """The rule in force in one line, for ``check``: before any overrun, what would be due."""
    rule = policy.outage_report
    if rule == OutageReport.kr_fss:
        subscribers = policy.subscribers or 0
        threshold = KR_SHORT_S if subscribers >= KR_LARGE_SERVICE else KR_LONG_S
        return _("kr-fss: a stoppage or delay of {threshold} or more past the announced resume "
                 "({subscribers} subscribers) is reported to the FSS at once, within a day"
                 ).format(threshold=duration_text(threshold), subscribers=f"{subscribers:,}")
    if rule == OutageReport.eu_dora:
        if not policy.critical_service:
            return _("eu-dora: never major here (critical_service: false): no report unless the "
                     "team classifies otherwise")
        measured = [_("downtime over 2h"), _("duration over 24h")]
        if policy.subscribers:
            measured.insert(0, _("clients ({n})").format(n=f"{policy.subscribers:,}"))
        declared = [c.value for c in policy.dora_thresholds_met]
        listed = ", ".join(measured)
        if declared:
            listed += _("; declared: {names}").format(names=", ".join(declared))
        return _("eu-dora: major once two materiality thresholds are met (measured: {listed}): "
                 "initial notification within 4h of classification (at most 24h after the "
                 "overrun began), intermediate report 72h later, final report a month later"
                 ).format(listed=listed)
    if rule == OutageReport.us_36h:
        return _("us-36h: overrun past {threshold} taken as a notification incident: notify the "
                 "primary federal regulator within 36h").format(
            threshold=duration_text(policy.outage_report_after))
    return _("outage report if more than {threshold} past the announced resume, due within "
             "{within} (policy.outage_report_after / report_due_within)").format(
        threshold=duration_text(policy.outage_report_after),
        within=duration_text(policy.report_due_within))


def _kr_fss(policy: Policy, announced: datetime, overrun: float) -> Obligation:
    subscribers = policy.subscribers or 0
    large = subscribers >= KR_LARGE_SERVICE
    threshold = KR_SHORT_S if large else KR_LONG_S
    crossed = announced + timedelta(seconds=threshold)
    required = overrun >= threshold  # "30분 이상": 30 minutes or more
    size = (_("{n} subscribers (10,000 or more: 10 minutes)") if large else
            _("{n} subscribers (under 10,000: 30 minutes)")).format(n=f"{subscribers:,}")
    return Obligation(
        OutageReport.kr_fss, required,
        _("a stoppage or delay of {threshold} or more past the announced resume").format(
            threshold=duration_text(threshold)),
        crossed if required else None,
        (Deadline(N_("report to the FSS"), crossed + timedelta(seconds=KR_WITHIN_S),
                  _("at once, within a day")),),
        size, threshold, KR_WITHIN_S)


def _eu_dora(policy: Policy, announced: datetime, overrun: float, tz: str) -> Obligation:
    critical = bool(policy.critical_service)
    met: list[tuple[float, str]] = []  # (overrun at which it was met, the threshold)
    declared = set(policy.dora_thresholds_met)
    if overrun > 0:
        if policy.subscribers:
            met.append((0.0, _("clients: all {n} clients of the service are affected while it "
                               "is down (more than 10%)").format(n=f"{policy.subscribers:,}")))
        if critical and overrun > DORA_DOWNTIME_S:
            met.append((DORA_DOWNTIME_S, _("service downtime longer than 2 hours")))
        if overrun > DORA_DURATION_S:
            met.append((DORA_DURATION_S, _("duration longer than 24 hours")))
        met += [(0.0, _("{criterion} (judged by the team)").format(criterion=_(CRITERIA[c])))
                for c in sorted(declared - {DoraCriterion.malicious_access})]
    met.sort(key=lambda m: m[0])
    malicious = DoraCriterion.malicious_access in declared and overrun > 0
    major = critical and (malicious or len(met) >= 2)
    basis = "; ".join(m[1] for m in met) or _("no materiality threshold met")
    if not critical:
        basis = _("not major: the service does not support critical or important functions "
                  "(policy.critical_service: false)")
    elif malicious:
        basis = _("malicious unauthorised access (judged by the team)") + (f"; {basis}" if met
                                                                           else "")
    threshold = _("a major incident: critical services affected and two materiality thresholds "
                  "met")
    if not major:
        return Obligation(OutageReport.eu_dora, False, threshold, None, (), basis)
    classified = announced + timedelta(seconds=0.0 if malicious else met[1][0])
    initial = min(classified + timedelta(seconds=DORA_INITIAL_S),
                  announced + timedelta(seconds=DORA_AWARE_S))
    intermediate = initial + timedelta(seconds=DORA_INTERMEDIATE_S)
    final = add_month(intermediate, tz)
    return Obligation(
        OutageReport.eu_dora, True, threshold, classified,
        (Deadline(N_("initial notification"), initial,
                  _("within 4 hours of classification as major, at most 24 hours after "
                    "becoming aware")),
         Deadline(N_("intermediate report"), intermediate,
                  _("within 72 hours of the initial notification (here: if it is sent at its "
                    "deadline)")),
         Deadline(N_("final report"), final,
                  _("within one month of the latest intermediate report (here: if that is sent "
                    "at its deadline)"))),
        basis)


def add_month(instant: datetime, tz: str) -> datetime:
    """One calendar month later in zone ``tz`` (31 January + 1 month = 28/29 February)."""
    t = local(instant, tz)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    day = min(t.day, calendar.monthrange(year, month)[1])
    return t.replace(year=year, month=month, day=day).astimezone(UTC)


__all__ = ["Deadline", "Obligation", "obligation", "in_force", "POLICY", "TITLES", "SOURCES"]
