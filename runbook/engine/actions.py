"""Actions in a few words, in the current language: ``complete cable``, ``note on prep``,
``trigger rollback``. One table for the journal, the undo messages, the demo's captions and the
simulate log."""

from __future__ import annotations

from runbook.engine.state import (
    CONTINGENCY_TRIGGERED,
    NOTE,
    RUN_ABORTED,
    RUN_FINISHED,
    STEP_COMPLETED,
    STEP_FAILED,
    STEP_SKIPPED,
    STEP_STARTED,
    UNDONE,
)
from runbook.i18n import N_, _

ACTION_WORDS = {  # event type -> (the action, the action on a step)
    STEP_STARTED: (N_("start"), N_("start {step}")),
    STEP_COMPLETED: (N_("complete"), N_("complete {step}")),
    STEP_FAILED: (N_("fail"), N_("fail {step}")),
    STEP_SKIPPED: (N_("skip"), N_("skip {step}")),
    RUN_FINISHED: (N_("finish"), N_("finish {step}")),
    NOTE: (N_("note"), N_("note on {step}")),
    RUN_ABORTED: (N_("abort"), N_("abort {step}")),
    UNDONE: (N_("undo"), N_("undo {step}")),
}


def action_text(kind: str, target: str | None) -> str:
    """``kind`` (an event type) done to ``target`` (a step, or the contingency of a trigger)."""
    if kind == CONTINGENCY_TRIGGERED:
        return _("trigger {contingency}").format(contingency=target)
    if kind in ACTION_WORDS:
        word, on = ACTION_WORDS[kind]
        return _(on).format(step=target) if target else _(word)
    return f"{kind} {target}" if target else kind
