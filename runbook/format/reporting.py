"""What a named reporting rule (``policy.outage_report``) needs from the runbook, checked at load.

The rules themselves (thresholds, deadlines, sources) are in :mod:`runbook.engine.reporting`;
here only the inputs: a preset replaces ``outage_report_after`` / ``report_due_within`` (us-36h
keeps ``outage_report_after`` as the point where the bank determines an incident), ``kr-fss``
needs ``subscribers``, ``eu-dora`` needs ``critical_service``, and the DORA-only keys are refused
under another rule so that nobody believes they acted.
"""

from __future__ import annotations

from runbook.format.model import OutageReport, Runbook
from runbook.format.plan import Problem
from runbook.i18n import _


def policy_problems(runbook: Runbook) -> list[Problem]:
    policy = runbook.policy
    given = policy.model_fields_set
    rule = policy.outage_report
    out: list[Problem] = []
    at = ("policy", "outage_report")
    if rule is None:
        for key in ("critical_service", "dora_thresholds_met"):
            if key in given:
                out.append(Problem(("policy", key), _(
                    "policy.{key} is read only by `outage_report: eu-dora`; add that rule or "
                    "remove the key").format(key=key)))
        return out
    if "report_due_within" in given:
        out.append(Problem(("policy", "report_due_within"),
                           _("outage_report: {rule} sets its own deadlines; remove "
                             "report_due_within, or remove outage_report to keep your own"
                             ).format(rule=rule)))
    if "outage_report_after" in given and rule != OutageReport.us_36h:
        out.append(Problem(("policy", "outage_report_after"),
                           _("outage_report: {rule} sets its own threshold; remove "
                             "outage_report_after, or remove outage_report to keep your own"
                             ).format(rule=rule)))
    if rule == OutageReport.kr_fss and policy.subscribers is None:
        out.append(Problem(at, _("kr-fss needs the service's subscribers: add `subscribers: N` "
                                 "under policy (10,000 or more lowers the threshold from 30 to "
                                 "10 minutes)")))
    if rule == OutageReport.eu_dora and policy.critical_service is None:
        out.append(Problem(at, _("eu-dora needs `critical_service: true` or `false` under "
                                 "policy: does the service support critical or important "
                                 "functions? (a major incident must affect one)")))
    if rule != OutageReport.eu_dora:
        for key in ("critical_service", "dora_thresholds_met"):
            if key in given:
                out.append(Problem(("policy", key), _(
                    "policy.{key} is read only by eu-dora, not by {rule}; remove it").format(
                    key=key, rule=rule)))
    return out
