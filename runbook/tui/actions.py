"""The operator's actions on the app: keys -> dialogs -> a save in a worker -> the screen.

A write can wait up to the store's timeout for another process's lock, so it never runs on the
UI thread: :meth:`OperatorActions.save` starts a thread worker, the screen says ``saving…`` (and
keeps its clock running) until the engine has committed, and only then shows the result. One
save at a time: a key pressed meanwhile is refused and says why. The same key again within
:data:`REPEAT_S` is taken as a bounce or a held key, not as a second action.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from runbook.i18n import N_, _, ngettext
from runbook.tui.dialogs import ConfirmScreen, PickScreen
from runbook.tui.text import line, plain

if TYPE_CHECKING:
    from runbook.tui.app import RunbookApp
    from runbook.tui.desk import Outcome
    from runbook.tui.view import Snapshot

REPEAT_S = 0.5  # the same key twice within this is one press


class Saved(Message):
    """A save finished: what was recorded (and the state after it), or why nothing was."""

    def __init__(self, what: str, outcome: Outcome | None, snapshot: Snapshot | None,
                 error: str | None = None, refused: bool = False) -> None:
        super().__init__()
        self.what, self.outcome, self.snapshot = what, outcome, snapshot
        self.error, self.refused = error, refused


class OperatorActions:
    """Mixed into :class:`RunbookApp`: every action that changes the run."""

    saving: str | None = None  # what is being saved right now
    _last_press: tuple[str, float] | None = None

    # -- the one path for a change -----------------------------------------------------------
    def save(self: RunbookApp, what: str, fn: Callable[[], Outcome]) -> None:
        """Record in a worker; the screen says so until the store has committed."""
        self.saving = what
        self._saving_since = self.monotonic()
        self.main.say(line((_("saving… "), "bold $warning"), what), "saving")
        self._save_worker(what, fn)

    @work(thread=True, group="save", exit_on_error=False)
    def _save_worker(self: RunbookApp, what: str, fn: Callable[[], Outcome]) -> None:
        from runbook.engine.run import ActionRefused
        from runbook.store import StoreError

        try:
            outcome = fn()
        except ActionRefused as e:
            self.post_message(Saved(what, None, None, str(e), refused=True))
            return
        except StoreError as e:
            self.post_message(Saved(what, None, None, str(e)))
            return
        except Exception as e:  # never leave the screen saying "saving…" forever
            self.post_message(Saved(what, None, None, f"{type(e).__name__}: {e}"))
            return
        self.post_message(Saved(what, outcome, self.desk.view()))

    def on_saved(self: RunbookApp, message: Saved) -> None:
        """(A plain handler name: ``@on`` is not collected from a mixin.)"""
        self.saving = None
        if message.outcome is None:
            if message.refused:
                self.refuse(message.error or _("refused"))
            else:
                self.bell()
                self.say(_("NOT RECORDED ({what}): {error}").format(what=message.what,
                                                                    error=message.error), "error")
            return
        self._min_seq = message.outcome.seq
        self.main.follow_next = True
        self.say(message.outcome.message, "done")
        if message.snapshot is not None:
            self.show(message.snapshot)
        if self.interval:
            self.tick()

    def saving_line(self: RunbookApp) -> None:
        """While a save waits (another process holds the store), count the seconds."""
        waited = self.monotonic() - self._saving_since
        extra = _(" ({seconds}s: the store is busy, another process is writing)").format(
            seconds=f"{waited:.0f}") if waited >= 2 else ""
        self.main.say(line((_("saving… "), "bold $warning"), f"{self.saving}{extra}"), "saving")

    # -- gates ------------------------------------------------------------------------------
    def _attempt(self: RunbookApp, action: str) -> bool:
        if self.saving is not None:
            self.refuse(_("still saving {what}; wait for it to be recorded").format(
                what=self.saving))
            return False
        now = self.monotonic()
        last = self._last_press
        if last is not None and last[0] == action and now - last[1] < REPEAT_S:
            self.say(_("Ignored a repeated {action} ({seconds}s after the first): press it again "
                       "to do it again.").format(action=action, seconds=f"{now - last[1]:.2f}"),
                     "warning")
            return False
        reason = self.why_not(action)
        if reason:
            self.refuse(reason)
            return False
        self._last_press = (action, now)  # only a press that acted can bounce
        return True

    # -- actions ----------------------------------------------------------------------------
    def action_advance(self: RunbookApp) -> None:
        if self._attempt("advance"):
            step = self.selected
            self.save(_("next step"), lambda: self.desk.advance(step))

    def action_start(self: RunbookApp) -> None:
        if self._attempt("start"):
            step = self.selected
            self.save(_("start {step}").format(step=step), lambda: self.desk.start(step))

    def action_complete(self: RunbookApp) -> None:
        if self._attempt("complete"):
            step = self.selected
            self.save(_("complete {step}").format(step=step), lambda: self.desk.complete(step))

    def action_fail(self: RunbookApp) -> None:
        if not self._attempt("fail"):
            return
        step = self.selected
        assert step is not None
        body = line(plain(self.desk.plan.by_id[step].title, "bold"), "\n\n",
                    _("Its time stops. Then s retries it, k skips it, or c triggers the "
                      "contingency.") if self.desk.plan.contingencies else
                    _("Its time stops. Then s retries it, k skips it."))
        self.push_screen(
            ConfirmScreen(_("Mark {step} failed?").format(step=step), body,
                          confirm=_("Mark failed"),
                          reason=N_("What went wrong (recorded; optional)"), danger=False),
            lambda reason: reason is not None and self.save(
                _("fail {step}").format(step=step), lambda: self.desk.fail(step, reason)))

    def action_skip(self: RunbookApp) -> None:
        if not self._attempt("skip"):
            return
        step = self.selected
        assert step is not None
        body = line(plain(self.desk.plan.by_id[step].title, "bold"), "\n\n",
                    _("A skipped step counts as done: the steps after it can start. u undoes it "
                      "within a minute; the log keeps both."))
        self.push_screen(
            ConfirmScreen(_("Skip {step}?").format(step=step), body, confirm=_("Skip")),
            lambda reason: reason is not None and self.save(
                _("skip {step}").format(step=step), lambda: self.desk.skip(step, reason)))

    def action_note(self: RunbookApp) -> None:
        if not self._attempt("note"):
            return
        step = self.selected
        title = (_("Note on {step}").format(step=step) if step else _("Note on the run"))
        what = (_("note on {step}").format(step=step) if step else _("note on the run"))
        self.push_screen(
            ConfirmScreen(title, _("Recorded with your name and the time."),
                          confirm=_("Record"), reason=N_("Note text"), require_text=True,
                          danger=False),
            lambda text: bool(text) and self.save(what, lambda: self.desk.note(text, step)))

    def action_undo(self: RunbookApp) -> None:
        if self._attempt("undo"):
            self.save(_("undo"), self.desk.undo)

    def action_abort(self: RunbookApp) -> None:
        if not self._attempt("abort"):
            return
        snap = self.snapshot
        running = len(snap.state.ids("running", "failed")) if snap else 0
        body = ngettext(
            "NO-GO: the run ends now as ABORTED. {n} running or failed step will be abandoned "
            "and nothing more can be recorded. This cannot be undone.\n\nSay why: it goes in "
            "the report for the change record.",
            "NO-GO: the run ends now as ABORTED. {n} running or failed steps will be abandoned "
            "and nothing more can be recorded. This cannot be undone.\n\nSay why: it goes in "
            "the report for the change record.", running).format(n=running)
        self.push_screen(
            ConfirmScreen(_("Abort the run?"), body, confirm=_("Abort run"),
                          reason=N_("Reason (required), e.g. NO-GO: vendor not on the bridge"),
                          require_text=True),
            lambda reason: bool(reason) and self.save(
                _("abort"), lambda: self.desk.abort(reason)))

    def action_trigger(self: RunbookApp) -> None:
        if not self._attempt("trigger"):
            return
        options = self.desk.plan.contingencies
        if len(options) == 1:
            self._confirm_trigger(options[0])
            return
        from runbook.tui.view import option_text

        snap = self.snapshot
        picks = [(c, plain(option_text(snap, c)) if snap else plain(c)) for c in options]
        self.push_screen(PickScreen(_("Which contingency?"), picks),
                         lambda c: c and self._confirm_trigger(c))

    def _confirm_trigger(self: RunbookApp, contingency: str) -> None:
        from runbook.tui.view import option_text

        snap = self.snapshot
        reason = self.desk.why_not("trigger", contingency=contingency,
                                   state=snap.state if snap else None)
        if reason:
            self.refuse(reason)
            return
        plan = self.desk.plan
        parts: list = [plain(plan.path_titles[contingency], "bold"), "\n\n"]
        if snap is not None:
            left = len([r for r in snap.rows if r.step.path == "main"
                        and r.st.status not in ("completed", "skipped")])
            parts.append(ngettext(
                "The {left} unfinished main step is abandoned and the {n} {contingency} steps "
                "begin.\n",
                "The {left} unfinished main steps are abandoned and the {n} {contingency} steps "
                "begin.\n", left).format(left=left, n=len(plan.paths[contingency]),
                                          contingency=contingency))
            parts += [option_text(snap, contingency), "\n"]
        parts.append(_("This cannot be undone."))
        self.push_screen(
            ConfirmScreen(_("Trigger {contingency}?").format(contingency=contingency),
                          line(*parts),
                          confirm=_("Trigger {contingency}").format(contingency=contingency)),
            lambda note: note is not None and self.save(
                _("trigger {contingency}").format(contingency=contingency),
                lambda: self.desk.trigger(contingency, note)))

    def action_copy_command(self: RunbookApp) -> None:
        row = self.snapshot.row(self.selected) if self.snapshot else None
        if row is None or not row.step.command:
            self.refuse(_("the selected step has no command"))
            return
        self.copy_to_clipboard(row.step.command)
        self.say(_("Copied the command of {step} (runbook never runs it).").format(step=row.id))

    def action_copy_notice(self: RunbookApp) -> None:
        """Copy the customer notice shown and record it (who, which, its exact text, when)."""
        if not self._attempt("copy_notice"):
            return
        notice = self.snapshot.notice if self.snapshot else None
        if notice is None:
            self.refuse(_("no customer notice for this level"))
            return
        self.copy_to_clipboard(notice.text)
        self.save(_("customer notice"), lambda: self.desk.give_notice(notice))
