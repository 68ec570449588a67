"""The demo's script player: applies an events script through the real engine as time passes.

Pure (no Textual). The engine runs on a :class:`~runbook.clock.ManualClock`; the director moves it
to the time of a *source* clock (a :class:`~runbook.clock.ScaledClock` in the demo, a manual one
in tests), ticking every ``tick_s`` simulated seconds on the way and at every event, exactly as
``runbook simulate`` does, so the demo raises the same alerts at the same times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runbook.engine.actions import action_text
from runbook.engine.clock import Clock, ManualClock
from runbook.engine.run import Engine
from runbook.engine.simulate import TICK_S
from runbook.engine.state import CONTINGENCY_TRIGGERED, NOTE, RUN_ABORTED, STEP_SKIPPED
from runbook.format.times import hhmm
from runbook.i18n import _


@dataclass(frozen=True)
class Cue:
    """One scripted action at one instant."""

    at: datetime
    kind: str
    target: str | None
    note: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if self.kind == CONTINGENCY_TRIGGERED:
            payload["contingency"] = self.target
        if self.note:
            payload["text" if self.kind == NOTE else "reason"
                    if self.kind in (STEP_SKIPPED, RUN_ABORTED) else "note"] = self.note
        return payload

    def describe(self) -> str:
        """``complete cable``, ``trigger rollback``, in the current language."""
        return action_text(self.kind, self.target)


class ScriptDirector:
    """Moves ``clock`` towards ``source`` and applies the cues that fall due on the way."""

    def __init__(self, cues: list[Cue], clock: ManualClock, source: Clock, *,
                 tick_s: float = TICK_S) -> None:
        self.cues = sorted(cues, key=lambda c: c.at)
        self.clock = clock
        self.source = source
        self.tick_s = tick_s
        self.done = 0  # cues applied
        self.last: Cue | None = None
        self._next_tick = clock.now()
        self._paused_at: datetime | None = None
        self._offset = timedelta(0)

    @property
    def finished(self) -> bool:
        return self.done >= len(self.cues)

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def toggle_pause(self) -> bool:
        """Pause or resume; returns True when now paused."""
        if self._paused_at is None:
            self._paused_at = self.source.now()
            return True
        self._offset += self.source.now() - self._paused_at
        self._paused_at = None
        return False

    def target(self) -> datetime:
        now = (self._paused_at or self.source.now()) - self._offset
        if self.finished and self.cues:
            return min(now, max(self.cues[-1].at, self.clock.now()))
        return now

    def step(self, engine: Engine) -> None:
        target = self.target()
        while not self.finished and self.cues[self.done].at <= target:
            cue = self.cues[self.done]
            self._tick_until(engine, cue.at)
            self.clock.set(max(cue.at, self.clock.now()))
            if not engine.state.finished:
                engine.act(cue.kind, None if cue.kind == CONTINGENCY_TRIGGERED else cue.target,
                           **cue.payload)
                engine.tick()
            self.done += 1
            self.last = cue
        if self.finished:
            target = self.target()
        self._tick_until(engine, target)
        if target > self.clock.now():
            self.clock.set(target)

    def _tick_until(self, engine: Engine, until: datetime) -> None:
        step = timedelta(seconds=self.tick_s)
        while self._next_tick < until:
            if self._next_tick > self.clock.now():
                self.clock.set(self._next_tick)
                engine.tick()
            self._next_tick += step

    def caption(self, timezone: str) -> str:
        if self.last is None:
            return _("waiting for the first step")
        text = f"{hhmm(self.last.at, timezone)} {self.last.describe()}"
        if self.last.note:
            text += f" — {self.last.note}"
        return text
