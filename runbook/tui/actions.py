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

from runbook.engine.run import ActionRefused
from runbook.store import StoreError
from runbook.tui.desk import Outcome
from runbook.tui.dialogs import ConfirmScreen, PickScreen
from runbook.tui.text import line, plain
from runbook.tui.view import Snapshot, option_text

if TYPE_CHECKING:
    from runbook.tui.app import RunbookApp

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
        self.main.say(line(("saving… ", "bold $warning"), what), "saving")
        self._save_worker(what, fn)

    @work(thread=True, group="save", exit_on_error=False)
    def _save_worker(self: RunbookApp, what: str, fn: Callable[[], Outcome]) -> None:
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
                self.refuse(message.error or "refused")
            else:
                self.bell()
                self.say(f"NOT RECORDED ({message.what}): {message.error}", "error")
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
        extra = f" ({waited:.0f}s: the store is busy, another process is writing)" if waited >= 2 else ""
        self.main.say(line(("saving… ", "bold $warning"), f"{self.saving}{extra}"), "saving")

    # -- gates ------------------------------------------------------------------------------
    def _attempt(self: RunbookApp, action: str) -> bool:
        if self.saving is not None:
            self.refuse(f"still saving {self.saving}; wait for it to be recorded")
            return False
        now = self.monotonic()
        last = self._last_press
        if last is not None and last[0] == action and now - last[1] < REPEAT_S:
            self.say(f"Ignored a repeated {action} ({now - last[1]:.2f}s after the first): "
                     "press it again to do it again.", "warning")
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
            self.save("next step", lambda: self.desk.advance(step))

    def action_start(self: RunbookApp) -> None:
        if self._attempt("start"):
            step = self.selected
            self.save(f"start {step}", lambda: self.desk.start(step))

    def action_complete(self: RunbookApp) -> None:
        if self._attempt("complete"):
            step = self.selected
            self.save(f"complete {step}", lambda: self.desk.complete(step))

    def action_fail(self: RunbookApp) -> None:
        if not self._attempt("fail"):
            return
        step = self.selected
        assert step is not None
        body = line(plain(self.desk.plan.by_id[step].title, "bold"), "\n\n",
                    "Its time stops. Then s retries it, k skips it",
                    ", or c triggers the contingency." if self.desk.plan.contingencies else ".")
        self.push_screen(
            ConfirmScreen(f"Mark {step} failed?", body, confirm="Mark failed",
                          reason="What went wrong (recorded; optional)", danger=False),
            lambda reason: reason is not None and self.save(
                f"fail {step}", lambda: self.desk.fail(step, reason)))

    def action_skip(self: RunbookApp) -> None:
        if not self._attempt("skip"):
            return
        step = self.selected
        assert step is not None
        body = line(plain(self.desk.plan.by_id[step].title, "bold"), "\n\n",
                    "A skipped step counts as done: the steps after it can start. u undoes it "
                    "within a minute; the log keeps both.")
        self.push_screen(
            ConfirmScreen(f"Skip {step}?", body, confirm="Skip"),
            lambda reason: reason is not None and self.save(
                f"skip {step}", lambda: self.desk.skip(step, reason)))

    def action_note(self: RunbookApp) -> None:
        if not self._attempt("note"):
            return
        step = self.selected
        where = f"on {step}" if step else "on the run"
        self.push_screen(
            ConfirmScreen(f"Note {where}", "Recorded with your name and the time.",
                          confirm="Record", reason="Note text", require_text=True, danger=False),
            lambda text: bool(text) and self.save(
                f"note {where}", lambda: self.desk.note(text, step)))

    def action_undo(self: RunbookApp) -> None:
        if self._attempt("undo"):
            self.save("undo", self.desk.undo)

    def action_abort(self: RunbookApp) -> None:
        if not self._attempt("abort"):
            return
        snap = self.snapshot
        running = len(snap.state.ids("running", "failed")) if snap else 0
        body = ("NO-GO: the run ends now as ABORTED. "
                f"{running} running or failed step{'s' if running != 1 else ''} will be "
                "abandoned and nothing more can be recorded. This cannot be undone.\n\n"
                "Say why: it goes in the report for the change record.")
        self.push_screen(
            ConfirmScreen("Abort the run?", body, confirm="Abort run",
                          reason="Reason (required), e.g. NO-GO: vendor not on the bridge",
                          require_text=True),
            lambda reason: bool(reason) and self.save(
                "abort", lambda: self.desk.abort(reason)))

    def action_trigger(self: RunbookApp) -> None:
        if not self._attempt("trigger"):
            return
        options = self.desk.plan.contingencies
        if len(options) == 1:
            self._confirm_trigger(options[0])
            return
        snap = self.snapshot
        picks = [(c, plain(option_text(snap, c)) if snap else plain(c)) for c in options]
        self.push_screen(PickScreen("Which contingency?", picks),
                         lambda c: c and self._confirm_trigger(c))

    def _confirm_trigger(self: RunbookApp, contingency: str) -> None:
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
            parts.append(f"The {left} unfinished main step{'s' if left != 1 else ''} are "
                         f"abandoned and the {len(plan.paths[contingency])} {contingency} "
                         "steps begin.\n")
            parts += [option_text(snap, contingency), "\n"]
        parts.append("This cannot be undone.")
        self.push_screen(
            ConfirmScreen(f"Trigger {contingency}?", line(*parts),
                          confirm=f"Trigger {contingency}"),
            lambda note: note is not None and self.save(
                f"trigger {contingency}", lambda: self.desk.trigger(contingency, note)))

    def action_copy_command(self: RunbookApp) -> None:
        row = self.snapshot.row(self.selected) if self.snapshot else None
        if row is None or not row.step.command:
            self.refuse("the selected step has no command")
            return
        self.copy_to_clipboard(row.step.command)
        self.say(f"Copied the command of {row.id} (runbook never runs it).")

    def action_copy_notice(self: RunbookApp) -> None:
        """Copy the customer notice shown and record it (who, which, its exact text, when)."""
        if not self._attempt("copy_notice"):
            return
        notice = self.snapshot.notice if self.snapshot else None
        if notice is None:
            self.refuse("no customer notice for this level")
            return
        self.copy_to_clipboard(notice.text)
        self.save("customer notice", lambda: self.desk.give_notice(notice))
