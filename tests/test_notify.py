"""Alert hooks for real: a command gets the alert as environment variables (never a shell),
a failing or hanging hook never blocks the run and is itself recorded, and apprise delivers to
a webhook on 127.0.0.1."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from runbook.engine.clock import ManualClock
from runbook.engine.notify import Notifier
from runbook.engine.run import Actor, new_run
from runbook.engine.state import ALERT, HOOK_FAILED
from runbook.format.model import Notify
from runbook.store import Store
from tests.conftest import START, make_runbook, three

ALERT_DATA = {"level": "at_risk", "message": "Resume 00:30 at risk; it's $HOME `id`",
              "p_on_time": 0.42, "runbook": "test", "run": "r1"}


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_command_hook_gets_the_alert_as_environment_not_through_a_shell(tmp_path):
    out = tmp_path / "env.json"
    script = ("import json, os, sys; json.dump({k: v for k, v in os.environ.items() "
              "if k.startswith('RUNBOOK_')} | {'argv': sys.argv[1:]}, open(sys.argv[1], 'w'))")
    n = Notifier(Notify(command=[sys.executable, "-c", script, str(out), "$HOME;", "`id`"]))
    n.send(ALERT_DATA)
    n.wait()
    data = json.loads(out.read_text())
    assert data["RUNBOOK_LEVEL"] == "at_risk"
    assert data["RUNBOOK_MESSAGE"] == ALERT_DATA["message"]  # unexpanded: no shell saw it
    assert data["RUNBOOK_P_ON_TIME"] == "0.42"
    assert data["argv"] == [str(out), "$HOME;", "`id`"]
    assert n.failures() == []


def test_a_failing_hook_is_reported(tmp_path):
    n = Notifier(Notify(command=[sys.executable, "-c", "import sys; sys.exit('boom')"]))
    n.send(ALERT_DATA)
    n.wait()
    (failure,) = n.failures()
    assert "exited with status 1: boom" in failure.error and failure.level == "at_risk"


def test_a_missing_hook_program_is_reported():
    n = Notifier(Notify(command=["/nonexistent/notify-pager"]))
    n.send(ALERT_DATA)
    n.wait()
    assert "cannot start" in n.failures()[0].error


def test_a_hanging_hook_does_not_block_and_is_killed():
    n = Notifier(Notify(command=[sys.executable, "-c", "import time; time.sleep(60)"],
                        timeout="1s"))
    t0 = time.monotonic()
    n.send(ALERT_DATA)
    assert time.monotonic() - t0 < 0.5  # send returns at once
    assert wait_for(lambda: bool(n._failures.qsize()), timeout=10)
    assert "timed out after 1s" in n.failures()[0].error
    assert time.monotonic() - t0 < 8


def test_levels_filter():
    n = Notifier(Notify(command=[sys.executable, "-c", "raise SystemExit(3)"],
                        levels=["late"]))
    n.send(ALERT_DATA)
    n.wait()
    assert n.failures() == []  # at_risk is not in the list: the hook did not run


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_port}/hook", _Hook.received
    server.shutdown()


def test_apprise_delivers_to_a_local_webhook(webhook):
    pytest.importorskip("apprise")
    url, received = webhook
    n = Notifier(Notify(urls=[url], timeout="10s"))
    n.send(ALERT_DATA)
    n.wait()
    assert n.failures() == []
    assert len(received) == 1 and "Resume 00:30 at risk" in received[0]["message"]
    assert "AT_RISK" in received[0]["title"]


def test_an_unreachable_webhook_is_reported_not_raised():
    pytest.importorskip("apprise")
    n = Notifier(Notify(urls=["json://127.0.0.1:9/nothing-listens"], timeout="5s"))
    n.send(ALERT_DATA)
    n.wait()
    (failure,) = n.failures()
    assert failure.hook == "json://127.0.0.1:9/..."  # no path or token in the log


def test_engine_records_alerts_and_hook_failures(tmp_path):
    loaded = make_runbook([{"id": "a", "estimate": three(3, 5, 8)}], announced="2026-11-25T00:10",
                          policy={"notify": {"command": [sys.executable, "-c", "exit(2)"]}})
    clock = ManualClock(START)
    with Store(tmp_path / "runs.db") as store:
        engine = new_run(store, loaded, clock, Actor("kim", "h"), samples=1_000,
                         notifier=Notifier(loaded.plan.policy.notify))
        engine.start("a")
        clock.advance(20 * 60)
        assert engine.tick().alert is not None
        engine.close()  # waits for the hook, records its failure
        types = [e.type for e in store.events(engine.run_id)]
        assert types.count(ALERT) == 1 and types.count(HOOK_FAILED) == 1
        failed = [e for e in store.events(engine.run_id) if e.type == HOOK_FAILED][0]
        assert "exited with status 2" in failed.payload["error"]


def test_worse_alerts_seconds_apart_are_one_hook_call(tmp_path):
    log = tmp_path / "calls"
    n = Notifier(Notify(command=[sys.executable, "-c",
                                 f"import os; open({str(log)!r}, 'a').write(os.environ['RUNBOOK_LEVEL'] + chr(10))"]))
    n.send({**ALERT_DATA, "level": "at_risk", "at": "2026-11-25T00:33:00+09:00"})
    n.send({**ALERT_DATA, "level": "decide_now", "at": "2026-11-25T00:33:03+09:00"})
    n.wait()
    assert log.read_text().splitlines() == ["decide_now"]
    n.send({**ALERT_DATA, "level": "late", "at": "2026-11-25T00:41:00+09:00"})  # minutes later
    n.wait()
    assert log.read_text().splitlines() == ["decide_now", "late"]


def test_alerts_minutes_apart_are_each_sent_even_when_they_arrive_together(tmp_path):
    log = tmp_path / "calls"
    n = Notifier(Notify(command=[sys.executable, "-c",
                                 f"import os; open({str(log)!r}, 'a').write(os.environ['RUNBOOK_LEVEL'] + chr(10))"]))
    n.send({**ALERT_DATA, "level": "at_risk", "at": "2026-11-25T00:12:00+09:00"})  # simulate:
    n.send({**ALERT_DATA, "level": "decide_now", "at": "2026-11-25T00:33:00+09:00"})  # no wait
    n.wait()
    assert sorted(log.read_text().splitlines()) == ["at_risk", "decide_now"]
