"""Alert hooks: a command (an argument list, never a shell) and apprise URLs.

Every hook runs in a daemon thread with a time limit, so a hook that fails or hangs never blocks
or crashes a run; the engine collects failures with :meth:`Notifier.failures` and records them.
The alert reaches a command as environment variables (``RUNBOOK_LEVEL``, ``RUNBOOK_MESSAGE``, ...,
and the customer notice for the level as ``RUNBOOK_NOTICE``), and ``{notice}``, ``{level}`` or
``{message}`` inside an argument of the command are replaced by the same texts.

Alerts seconds apart are one page: an alert waits up to :data:`HOLD_S` before its hooks run, and
an alert stamped within :data:`COALESCE_S` of a waiting one replaces it (AT RISK then DECIDE NOW
three seconds later pages once, with DECIDE NOW). :meth:`Notifier.wait` sends a waiting alert at
once. A simulated run's alerts are stamped minutes apart and are never merged.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbook.format.model import Notify


@dataclass(frozen=True)
class HookFailure:
    hook: str
    error: str
    level: str


def alert_env(alert: dict[str, Any]) -> dict[str, str]:
    """RUNBOOK_* variables for one alert (values are text; missing ones are empty), with the
    customer notice for its level as ``RUNBOOK_NOTICE`` and ``RUNBOOK_NOTICE_LANG``."""
    keys = ("level", "message", "at", "p_on_time", "p50", "p90", "decision_deadline",
            "announced_resume", "run", "runbook")
    env = {f"RUNBOOK_{k.upper()}": "" if alert.get(k) is None else str(alert[k]) for k in keys}
    notice = alert.get("notice") or {}
    env["RUNBOOK_NOTICE"] = str(notice.get("text", ""))
    env["RUNBOOK_NOTICE_LANG"] = str(notice.get("lang", ""))
    return env


ARGV_FIELDS = ("notice", "level", "message")


def alert_argv(argv: list[str], alert: dict[str, Any]) -> list[str]:
    """The hook's argument list with ``{notice}``, ``{level}`` and ``{message}`` replaced in each
    argument (plain text replacement, one argument stays one argument: never a shell)."""
    notice = alert.get("notice") or {}
    fields = {"notice": str(notice.get("text", "")), "level": str(alert.get("level", "")),
              "message": str(alert.get("message", ""))}
    out = []
    for arg in argv:
        for name in ARGV_FIELDS:
            arg = arg.replace("{" + name + "}", fields[name])
        out.append(arg)
    return out


HOLD_S = 3.0  # real seconds an alert waits for a worse one before its hooks run
COALESCE_S = 5.0  # alerts stamped this close together are one page


def _instant(alert: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(alert.get("at")))
    except ValueError:
        return None


class Notifier:
    def __init__(self, config: Notify | None, *, hold_s: float = HOLD_S) -> None:
        self.config = config
        self.hold_s = hold_s
        self._failures: queue.Queue[HookFailure] = queue.Queue()
        self._notices: queue.Queue[dict[str, str]] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._pending: dict[str, Any] | None = None
        self._timer: threading.Timer | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.config and (self.config.command or self.config.urls))

    def send(self, alert: dict[str, Any]) -> None:
        """Queue ``alert``; its hooks run in the background within ``hold_s``. Returns at once."""
        cfg = self.config
        if cfg is None or (cfg.levels is not None and alert.get("level") not in cfg.levels):
            return
        with self._lock:
            pending = self._pending
            if pending is not None:
                a, b = _instant(pending), _instant(alert)
                if a is not None and b is not None and abs((b - a).total_seconds()) <= COALESCE_S:
                    self._pending = alert  # the newer one replaces it: one page
                    return
                self._flush_locked()
            self._pending = alert
            if self.hold_s <= 0:
                self._flush_locked()
                return
            self._timer = threading.Timer(self.hold_s, self._flush)
            self._timer.daemon = True
            self._timer.start()

    def _flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        alert, self._pending = self._pending, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if alert is not None:
            self._fire(alert)

    def _fire(self, alert: dict[str, Any]) -> None:
        cfg = self.config
        assert cfg is not None
        jobs = []
        if cfg.command:
            jobs.append(("command " + cfg.command[0], lambda: self._command(cfg.command, alert)))
        for url in cfg.urls:
            jobs.append((_redact(url), lambda url=url: self._apprise(url, alert)))
        notice = alert.get("notice")
        if jobs and notice:
            self._notices.put({"level": str(notice.get("level", alert.get("level", ""))),
                               "lang": str(notice.get("lang", "")),
                               "text": str(notice.get("text", ""))})
        for name, job in jobs:
            t = threading.Thread(target=self._guard, args=(name, job, alert), daemon=True,
                                 name=f"runbook-hook {name}")
            t.start()
            self._threads.append(t)
        self._threads = [t for t in self._threads if t.is_alive()]

    def _guard(self, name: str, job: Any, alert: dict[str, Any]) -> None:
        try:
            error = job()
        except Exception as e:  # a hook must never take the run down
            error = f"{type(e).__name__}: {e}"
        if error:
            self._failures.put(HookFailure(name, error, str(alert.get("level", ""))))

    def _command(self, argv: list[str], alert: dict[str, Any]) -> str | None:
        assert self.config is not None
        timeout = self.config.timeout
        env = {**os.environ, **alert_env(alert)}
        try:
            proc = subprocess.Popen(alert_argv(argv, alert), env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    start_new_session=True, shell=False)
        except OSError as e:
            return f"cannot start {argv[0]!r}: {e.strerror or e}"
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            proc.wait()
            return f"timed out after {timeout:g}s and was killed"
        if proc.returncode != 0:
            tail = (err or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            return f"exited with status {proc.returncode}" + (f": {tail[0][:200]}" if tail[0] else "")
        return None

    def _apprise(self, url: str, alert: dict[str, Any]) -> str | None:
        assert self.config is not None
        try:
            import apprise
        except ImportError:
            return "apprise is not installed: pip install 'runbook[notify]'"
        result: list[bool] = []

        def go() -> None:
            a = apprise.Apprise()
            if not a.add(url):
                result.append(False)
                return
            title = f"runbook {alert.get('runbook', '')}: {str(alert.get('level', '')).upper()}"
            body = str(alert.get("message", ""))
            notice = alert.get("notice") or {}
            if notice.get("text"):
                body += f"\n\nCustomer notice ({notice.get('lang', '')}): {notice['text']}"
            result.append(bool(a.notify(title=title, body=body)))

        worker = threading.Thread(target=go, daemon=True)
        worker.start()
        worker.join(self.config.timeout)
        if worker.is_alive():
            return f"timed out after {self.config.timeout:g}s"
        if not result or not result[0]:
            return "notification was not delivered (bad URL or the service refused it)"
        return None

    def notices_sent(self) -> list[dict[str, str]]:
        """Customer notices handed to the hooks since the last call (level, lang, text)."""
        out = []
        while True:
            try:
                out.append(self._notices.get_nowait())
            except queue.Empty:
                return out

    def failures(self) -> list[HookFailure]:
        out = []
        while True:
            try:
                out.append(self._failures.get_nowait())
            except queue.Empty:
                return out

    def wait(self, timeout: float | None = None) -> None:
        """Send a waiting alert now, and wait for hooks still running (at most their own time
        limit plus ``timeout``)."""
        self._flush()
        limit = (self.config.timeout if self.config else 0) + (timeout or 1.0)
        for t in self._threads:
            t.join(limit)


def _redact(url: str) -> str:
    """A URL fit for a log: scheme and host only (tokens stay secret)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/..." if rest else scheme
