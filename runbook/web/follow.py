"""Follow a run in a read-only store on one thread; hand each new status to a callback.

The server holds no write path to the store: :func:`open_store` is the one place it is opened, and
it opens it read-only. One follower serves every browser: it wakes within ~50 ms of a commit by
another process (``Store.wait_for_change``) and otherwise once a second (the forecast moves with
the clock), folds the new events, ticks the forecast and publishes a :class:`Frame`.

Which run: the one named (id or prefix), or without a name the newest run in the store, re-checked
at every change, so a run started later takes over the page within a second.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbook.engine.clock import Clock
from runbook.engine.run import Session
from runbook.format.times import iso
from runbook.i18n import LANGUAGES, current, using
from runbook.store import Store, StoreError, StoreUnavailable
from runbook.store import open_store as store_factory
from runbook.web.page import view
from runbook.web.status import status


def open_store(location: str) -> Store:
    """The server's store, read-only (SQLite file or PostgreSQL URL): the only place
    `runbook serve` opens one."""
    return store_factory(location, readonly=True)


@dataclass(frozen=True)
class Texts:
    """One published state in one language: the status object, the page texts, pre-encoded."""

    status: dict[str, Any]
    view: dict[str, Any]
    json: bytes  # /status.json
    sse: bytes  # one server-sent event: "data: {seq, run, generated_at, view}"

    @classmethod
    def of(cls, st: dict[str, Any]) -> Texts:
        """Built in the current language (the page texts are words; the status keeps its keys)."""
        v = view(st)
        event = json.dumps({"seq": st["seq"], "run": st["run"]["id"],
                            "generated_at": st["generated_at"], "view": v},
                           ensure_ascii=False, separators=(",", ":"))
        return cls(st, v, json.dumps(st, ensure_ascii=False, indent=1).encode(),
                   f"data: {event}\n\n".encode())


@dataclass(frozen=True)
class Frame:
    """One published state in every language runbook has, built once for all the browsers:
    ``Frame.status`` and the other fields are the server's own language's."""

    texts: dict[str, Texts]
    lang: str  # the server's language

    @property
    def status(self) -> dict[str, Any]:
        return self.texts[self.lang].status

    @property
    def view(self) -> dict[str, Any]:
        return self.texts[self.lang].view

    @property
    def json(self) -> bytes:
        return self.texts[self.lang].json

    @property
    def sse(self) -> bytes:
        return self.texts[self.lang].sse

    def get(self, lang: str) -> Texts:
        return self.texts.get(lang) or self.texts[self.lang]

    @property
    def run_id(self) -> str:
        return self.status["run"]["id"]

    @classmethod
    def of(cls, build: Callable[[str], dict[str, Any]]) -> Frame:
        """``build(lang)`` gives the status object; it is called in that language."""
        texts = {}
        for lang in LANGUAGES:
            with using(lang):
                texts[lang] = Texts.of(build(lang))
        return cls(texts, current())


class Follower:
    """The run as the server sees it: :meth:`open` gives the first frame, :meth:`start` follows."""

    def __init__(self, location: str, run: str | None, clock: Clock,
                 publish: Callable[[Frame], None], *, interval: float = 1.0) -> None:
        self.location = location
        self.run_ref = run
        self.clock = clock
        self.publish = publish
        self.interval = interval
        self.store: Store | None = None
        self.session: Session | None = None
        self.down_since: datetime | None = None
        self.latest: Frame | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._said = ""

    # -- the run ---------------------------------------------------------------------------------
    def open(self) -> Frame:
        """Open the store and the run; StoreError (no store, no such run) goes to the caller."""
        self.store = open_store(self.location)
        self.session = Session(self.store, self.store.resolve(self.run_ref), self.clock)
        return self.refresh()

    def current_run(self) -> str:
        assert self.session is not None
        return self.session.run_id

    def refresh(self) -> Frame:
        """Fold what changed (switching to a newer run when following the newest), tick, build."""
        assert self.store is not None and self.session is not None
        if self.run_ref is None:
            newest = self.store.resolve(None)
            if newest.id != self.session.run_id:
                self.session = Session(self.store, newest, self.clock)
        self.session.sync()
        if self.session.store_down_since is not None:  # sync() took it calmly; the page must not
            self.down_since = self.down_since or self.session.store_down_since
            raise StoreUnavailable("the store is unreachable; the page shows the last state read")
        self.down_since = None  # the store answered
        tick = self.session.tick()
        session, down_since = self.session, self.down_since
        self.latest = Frame.of(lambda lang: status(session, tick, store_down_since=down_since))
        return self.latest

    # -- the thread ------------------------------------------------------------------------------
    def start(self) -> None:
        """Follow on a thread (after :meth:`open`)."""
        self._thread = threading.Thread(target=self._loop, name="runbook-follow", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.store is not None:
            self.store.close()

    def _loop(self) -> None:
        assert self.store is not None
        version = -1
        next_tick = time.monotonic() + self.interval
        while not self._stop.is_set():
            frame = None
            try:
                changed = False
                while not self._stop.is_set() and (left := next_tick - time.monotonic()) > 0:
                    seen = self.store.wait_for_change(version, min(left, 0.5))
                    if seen != version:
                        version, changed = seen, True  # a commit by another process: show it now
                        break
                if not changed:
                    next_tick = max(next_tick + self.interval, time.monotonic())
                frame = self.refresh()
            except StoreError as e:
                if self.down_since is None:
                    self.down_since = self.clock.now()
                    print(f"runbook serve: {e}", file=sys.stderr)
                frame = self._stale()
                self._stop.wait(self.interval)
            except Exception as e:  # a bug must not end the following silently
                said = f"{type(e).__name__}: {e}"
                if said != self._said:  # once per distinct error, not once a second
                    print(f"runbook serve: internal error while following the run ({said}); "
                          "this is a bug in runbook", file=sys.stderr)
                    self._said = said
                self._stop.wait(self.interval)
            if frame is not None and not self._stop.is_set():
                self.publish(frame)

    def _stale(self) -> Frame | None:
        """The last frame, marked: the store cannot be read since ``down_since``."""
        if self.latest is None or self.down_since is None:
            return None
        latest = self.latest
        since = iso(self.down_since, latest.status["runbook"]["timezone"])
        return Frame.of(lambda lang: {**latest.get(lang).status,
                                      "store": {"reachable": False, "unreachable_since": since}})
