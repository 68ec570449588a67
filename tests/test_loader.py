"""The runbook loader on good input (DESIGN §1): defaults, durations, times, ids, anchors, lines,
and the JSON Schema (`runbook schema`, committed as runbook.schema.json)."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.format.durations import parse_duration
from runbook.format.loader import Loaded, load_runbook, load_text
from runbook.format.plan import MAIN
from runbook.format.times import iso

ROOT = Path(__file__).resolve().parent.parent

BASE = textwrap.dedent("""\
    runbook: 1
    title: Swap the faulty SAN port
    timezone: Asia/Seoul
    window:
      start: 2026-11-25T00:00
      announced_resume: 2026-11-25T01:00
    steps:
      - id: notice
        title: Post the maintenance notice
        kind: comms
        estimate: 2m
      - id: stop-db
        title: Stop the database
        estimate: {optimistic: 3m, likely: 5m, pessimistic: 12m}
      - id: swap
        title: Swap the port
        estimate: 10m
      - id: reopen
        title: Reopen the channels
        estimate: 2m
    contingencies:
      - id: rollback
        title: Restore service on the old path
        steps:
          - id: restore
            title: Restore the old path
            estimate: 8m
          - id: reopen-rb
            title: Reopen after the rollback
            estimate: 2m
    """)


def variant(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def load(text: str = BASE) -> Loaded:
    return load_text(text, "night.yaml")


def ids(loaded: Loaded, indices) -> list[str]:
    return [loaded.plan.steps[i].id for i in indices]


def preds(loaded: Loaded, step_id: str) -> list[str]:
    return ids(loaded, loaded.plan.by_id[step_id].preds)


def seoul(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=9)


# -- defaults --------------------------------------------------------------------------------


def test_after_defaults_to_the_step_above_within_each_path():
    loaded = load()
    assert preds(loaded, "notice") == []
    assert preds(loaded, "stop-db") == ["notice"]
    assert preds(loaded, "swap") == ["stop-db"]
    assert preds(loaded, "reopen") == ["swap"]
    assert preds(loaded, "restore") == []  # a contingency starts on its own
    assert preds(loaded, "reopen-rb") == ["restore"]
    assert loaded.plan.paths == {MAIN: (0, 1, 2, 3), "rollback": (4, 5)}


def test_empty_after_means_free_to_start_and_a_list_is_kept():
    text = variant("    title: Swap the port\n", "    title: Swap the port\n    after: []\n")
    text = variant("    title: Reopen the channels\n",
                   "    title: Reopen the channels\n    after: [swap, notice, swap]\n", text)
    loaded = load(text)
    assert preds(loaded, "swap") == []
    assert preds(loaded, "reopen") == ["swap", "notice"]  # duplicates dropped, order kept


def test_resumes_service_defaults_to_the_last_step_of_each_path():
    loaded = load()
    plan = loaded.plan
    assert ids(loaded, [plan.resume[MAIN], plan.resume["rollback"]]) == ["reopen", "reopen-rb"]
    assert [s.id for s in plan.steps if s.resumes_service] == ["reopen", "reopen-rb"]


def test_resumes_service_can_be_moved_to_another_step():
    text = variant("    title: Swap the port\n", "    title: Swap the port\n    resumes_service: true\n")
    loaded = load(text)
    assert [s.id for s in loaded.plan.steps if s.resumes_service] == ["swap", "reopen-rb"]


def test_single_estimate_is_widened_by_the_default_spread():
    swap = load().plan.by_id["swap"]  # median 10m; P10 0.5x, P90 1.8x (docs/forecast.md)
    assert (swap.optimistic, swap.likely, swap.pessimistic) == (300.0, 600.0, 1080.0)
    assert swap.single is True


def test_single_estimate_uses_the_policy_spread():
    text = variant("timezone: Asia/Seoul\n", "timezone: Asia/Seoul\npolicy:\n"
                   "  spread: {optimistic: 0.5, pessimistic: 3}\n")
    swap = load(text).plan.by_id["swap"]
    assert (swap.optimistic, swap.likely, swap.pessimistic, swap.single) == (300, 600, 1800, True)


def test_three_point_estimate_is_kept_as_written():
    stop = load().plan.by_id["stop-db"]
    assert (stop.optimistic, stop.likely, stop.pessimistic, stop.single) == (180, 300, 720, False)


def test_degenerate_estimate_is_allowed():
    text = variant("{optimistic: 3m, likely: 5m, pessimistic: 12m}",
                   "{optimistic: 5m, likely: 5m, pessimistic: 5m}")
    stop = load(text).plan.by_id["stop-db"]
    assert (stop.optimistic, stop.likely, stop.pessimistic) == (300, 300, 300)


def test_policy_defaults():
    policy = load().plan.policy
    assert policy.confidence == 0.8
    assert (policy.decision_lead, policy.outage_report_after, policy.report_due_within) == (
        300, 600, 86400)
    assert (policy.spread.optimistic, policy.spread.pessimistic) == (0.5, 1.8)


def test_kind_defaults_to_task():
    plan = load().plan
    assert (plan.by_id["notice"].kind, plan.by_id["swap"].kind) == ("comms", "task")


# -- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("PT5M", 300), ("1h 30m", 5400),
     ("PT1H30M", 5400), ("0s", 0), ("2.5m", 150), ("1d", 86400)],
)
def test_durations(written, seconds):
    assert parse_duration(written) == seconds
    text = variant("estimate: 10m", f"estimate: {written}")
    assert load(text).plan.by_id["swap"].likely == seconds


# -- times -----------------------------------------------------------------------------------


def test_naive_times_are_local_to_the_runbook_time_zone():
    plan = load().plan
    assert plan.start == seoul(0) and plan.announced == seoul(1)
    assert iso(plan.start, plan.timezone) == "2026-11-25T00:00:00+09:00"
    assert plan.hard_deadline is None


def test_naive_times_follow_dst_in_the_time_zone():
    text = variant("timezone: Asia/Seoul", "timezone: America/New_York")
    text = variant("start: 2026-11-25T00:00", "start: 2026-11-01T00:30", text)
    text = variant("announced_resume: 2026-11-25T01:00", "announced_resume: 2026-11-01T03:00", text)
    plan = load(text).plan
    assert plan.start == datetime(2026, 11, 1, 4, 30, tzinfo=UTC)  # EDT, -04:00
    assert plan.announced == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)  # EST, -05:00


def test_times_with_an_offset_are_the_same_instant():
    text = variant("start: 2026-11-25T00:00", "start: 2026-11-24T16:00+01:00")
    text = variant("announced_resume: 2026-11-25T01:00", "announced_resume: 2026-11-24T16:00Z", text)
    text = variant("  announced_resume", "  hard_deadline: 2026-11-25T06:00+09:00\n  announced_resume",
                   text)
    plan = load(text).plan
    assert plan.start == seoul(0)
    assert plan.announced == seoul(1)
    assert plan.hard_deadline == seoul(6)


def test_an_offset_resolves_an_ambiguous_local_time():
    text = variant("timezone: Asia/Seoul", "timezone: America/New_York")
    text = variant("start: 2026-11-25T00:00", "start: 2026-11-01T01:30-05:00", text)
    text = variant("announced_resume: 2026-11-25T01:00", "announced_resume: 2026-11-01T03:00", text)
    start = load(text).plan.start
    utc = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    # the instant, and it compares with other zones (PEP 495 makes a zone-aware time in the
    # repeated hour unequal to, and neither before nor after, any time in another zone)
    assert start == utc and start < utc + timedelta(seconds=1) and start > utc - timedelta(seconds=1)
    assert iso(start, "America/New_York") == "2026-11-01T01:30:00-05:00"


BERLIN_FALL_BACK = variant("announced_resume: 2026-11-25T01:00", "announced_resume: 2026-10-25T04:00",
                           variant("start: 2026-11-25T00:00", "start: 2026-10-25T01:30",
                                   variant("timezone: Asia/Seoul", "timezone: Europe/Berlin")))


def test_window_times_order_and_subtract_as_instants_across_a_dst_fall_back():
    # 01:30 CEST to 04:00 CET is 3h30m, not the 2h30m the wall clocks differ by; 02:10 CET comes
    # after 02:50 CEST although the wall clock reads earlier (same-zone datetimes compare by wall)
    text = variant("announced_resume", "hard_deadline: 2026-10-25T02:10+01:00\n  announced_resume",
                   BERLIN_FALL_BACK.replace("2026-10-25T04:00", "2026-10-25T02:50+02:00"))
    plan = load(text).plan
    assert (plan.announced - plan.start) == timedelta(hours=1, minutes=20)
    assert plan.hard_deadline > plan.announced
    assert (plan.hard_deadline - plan.announced) == timedelta(minutes=20)
    assert (load(BERLIN_FALL_BACK).plan.announced - plan.start) == timedelta(hours=3, minutes=30)
    # an offset added to a window time is an instant: 100 minutes in is after 80 minutes in
    assert plan.start + timedelta(minutes=100) > plan.start + timedelta(minutes=80)


# -- ids -------------------------------------------------------------------------------------


def test_id_defaults_to_the_file_stem(tmp_path):
    path = tmp_path / "san-port-swap.yaml"
    path.write_text(BASE)
    assert load_runbook(path).plan.id == "san-port-swap"


def test_id_from_the_file_wins_over_the_stem(tmp_path):
    path = tmp_path / "copy of plan.yaml"
    path.write_text(variant("runbook: 1\n", "runbook: 1\nid: night-swap\n"))
    assert load_runbook(path).plan.id == "night-swap"


# -- YAML conveniences -----------------------------------------------------------------------


def test_anchors_aliases_and_merge_keys():
    text = textwrap.dedent("""\
        runbook: 1
        title: Drill
        timezone: UTC
        window: {start: 2026-11-25T00:00, announced_resume: 2026-11-25T02:00}
        steps:
          - &dba
            id: stop-db
            title: Stop the database
            owner: dba
            kind: task
            estimate: &slow {optimistic: 5m, likely: 10m, pessimistic: 30m}
          - &net {id: port, title: Swap port, owner: network, kind: check, estimate: 1m}
          - <<: [*net, *dba]     # earlier mappings win: owner network, kind check
            id: start-db
            title: Start the database
            estimate: *slow
          - <<: *dba
            id: verify
            title: Verify
            owner: app-ops       # own keys win over merged ones
        """)
    plan = load(text).plan
    start, verify = plan.by_id["start-db"], plan.by_id["verify"]
    assert (start.owner, start.kind, start.pessimistic) == ("network", "check", 1800)
    assert (verify.owner, verify.kind, verify.likely) == ("app-ops", "task", 600)
    assert [s.id for s in plan.steps] == ["stop-db", "port", "start-db", "verify"]


def test_windows_line_endings_and_a_bom():
    loaded = load_text("\ufeff" + BASE.replace("\n", "\r\n"), "night.yaml")
    assert loaded.plan.by_id["swap"].likely == 600
    assert loaded.line_of(("steps", 2)) == 15


# -- line numbers ----------------------------------------------------------------------------


def test_line_of_points_at_keys_values_and_steps():
    loaded = load()
    lines = BASE.splitlines()

    def line_with(fragment: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if fragment in line)

    assert loaded.line_of(("window", "start")) == line_with("start: 2026")
    assert loaded.line_of(("steps", 1)) == line_with("- id: stop-db")
    assert loaded.line_of(("steps", 1, "estimate")) == line_with("pessimistic: 12m")
    assert loaded.line_of(("steps", 1, "estimate", "likely")) == line_with("pessimistic: 12m")
    assert loaded.line_of(("contingencies", 0, "steps", 1, "title")) == line_with("after the rollback")
    assert loaded.line_of(("steps", 3, "after")) == line_with("- id: reopen")  # default: its step
    assert loaded.line_of(loaded.plan.by_id["restore"].loc) == line_with("- id: restore")


# -- the JSON Schema -------------------------------------------------------------------------


def schema_output(capsys) -> str:
    code = main(["schema"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    return out


def test_schema_is_json_with_the_step_keys(capsys):
    schema = json.loads(schema_output(capsys))
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert {"runbook", "title", "timezone", "window", "steps"} <= set(schema["required"])
    step = schema["$defs"]["Step"]
    assert list(step["properties"]) == ["id", "title", "kind", "owner", "estimate", "after",
                                        "command", "check", "notes", "resumes_service"]
    assert step["additionalProperties"] is False


def test_committed_schema_is_up_to_date(capsys):
    committed = (ROOT / "runbook.schema.json").read_text(encoding="utf-8")
    assert committed == schema_output(capsys), (
        "runbook.schema.json is stale: run `runbook schema > runbook.schema.json`")


def test_examples_point_editors_at_the_committed_schema():
    for path in sorted((ROOT / "runbooks").glob("*.yaml")):
        if ".events" in path.name:
            continue
        assert path.read_text().startswith(
            "# yaml-language-server: $schema=../runbook.schema.json"), path.name
