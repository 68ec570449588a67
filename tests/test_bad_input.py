"""Every malformed runbook exits 2 with one short message on stderr (issue 2, item 6).

Each test writes one bad variant of a small valid runbook to a temporary file, runs the real CLI
(`runbook.cli.main(["check", FILE])`) and asserts the exit code and the message: it names the
file, the line and column where there is one, says what is wrong and what to do, and carries no
traceback or pydantic wording. A few cases also run the real process (`python -m runbook check`)
to prove that nothing escapes as a traceback and that stderr stays short.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from runbook.cli import main

ROOT = Path(__file__).resolve().parent.parent

BASE = textwrap.dedent("""\
    runbook: 1
    title: Swap the faulty SAN port
    timezone: Asia/Seoul
    window:
      start: 2026-11-25T00:00
      announced_resume: 2026-11-25T01:00
      hard_deadline: 2026-11-25T06:00
    steps:
      - id: notice
        title: Post the maintenance notice
        kind: comms
        estimate: 2m
      - id: stop-db
        title: Stop the database
        owner: dba
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

FORBIDDEN = ("Traceback", "Input should be", "For further information", "errors.pydantic.dev",
             "validation error for", "yaml.", "Error:")


# -- helpers ---------------------------------------------------------------------------------


def variant(old: str, new: str, text: str = BASE) -> str:
    """``text`` with the one occurrence of ``old`` replaced (fails loudly if it is not unique)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def pos(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """1-based line and column of the ``nth`` occurrence of ``needle`` in ``text``."""
    at = -1
    for _ in range(nth):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def write(tmp_path: Path, content: str | bytes, name: str = "night.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def assert_clean(err: str, path: Path | str) -> None:
    """A few short lines, each naming the file, none with Python or pydantic internals."""
    lines = err.rstrip("\n").splitlines()
    assert 1 <= len(lines) <= 5, err
    for line in lines:
        assert line.startswith(f"{path}:"), line
        assert ": error: " in line, line
        assert len(line) < 300 + len(str(path)), line
        for word in FORBIDDEN:
            assert word not in line, f"{word!r} in {line!r}"


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes,
          name: str = "night.yaml") -> tuple[Path, str]:
    """Run `runbook check` on ``content``; assert exit 2, nothing on stdout, a clean stderr."""
    path = write(tmp_path, content, name)
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert_clean(err, path)
    return path, err


def first(err: str) -> str:
    return err.splitlines()[0]


def expect(err: str, path: Path, where: tuple[int, int] | int | None, *phrases: str) -> str:
    """The first message is at ``where`` (line, column), or line only, or no line; it says each
    of ``phrases``. Returns the message after ``error: ``."""
    line = first(err)
    if where is None:
        prefix = f"{path}: error: "
    elif isinstance(where, int):
        prefix = f"{path}:{where}:"
    else:
        prefix = f"{path}:{where[0]}:{where[1]}: error: "
    assert line.startswith(prefix), f"{line!r} does not start with {prefix!r}"
    message = line.split(": error: ", 1)[1]
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"
    return message


def run_process(path: Path | str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """The real program, as an operator runs it: exit 2, empty stdout, a short stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "runbook", "check", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr) < 600, proc.stderr
    assert_clean(proc.stderr, path)
    return proc


# -- YAML itself -----------------------------------------------------------------------------


def test_yaml_syntax_error(tmp_path, capsys):
    text = variant("  start: 2026-11-25T00:00", "  start: [2026-11-25T00:00")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (6, 19), "invalid YAML", "check the indentation and quoting")
    assert run_process(path).stderr == err


def test_tabs_used_for_indentation(tmp_path, capsys):
    text = variant("    title: Swap the port", "\ttitle: Swap the port")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "\ttitle"), "tab", "indent with spaces")


def test_duplicate_key_in_a_mapping(tmp_path, capsys):
    text = variant("    owner: dba\n", "    owner: dba\n    owner: storage\n")
    path, err = check(tmp_path, capsys, text)
    msg = expect(err, path, pos(text, "owner", nth=2), "'owner' appears twice",
                 f"first on line {pos(text, 'owner')[0]}", "keep one")
    assert msg.startswith("steps[1]: ")


def test_multiple_yaml_documents(tmp_path, capsys):
    text = BASE + "---\nrunbook: 1\n"
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "---"), "more than one YAML document", "remove the ---")


def test_undefined_alias(tmp_path, capsys):
    text = variant("title: Swap the port", "title: *swap-title")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "*swap-title"), "*swap-title refers to no anchor", "&swap-title")


def test_key_that_is_a_list(tmp_path, capsys):
    text = variant("    owner: dba\n", "    ? [owner, team]\n    : dba\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[owner"), "steps[1]: a key must be plain text")


def test_python_tag_is_refused(tmp_path, capsys):
    text = variant("title: Swap the port", "title: !!python/object/apply:os.system [ls]")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "!!python"), "steps[2].title:",
           "YAML tag !!python/object/apply:os.system is not allowed", "remove the tag")


# -- unknown keys: each suggests the nearest known key ---------------------------------------


def test_unknown_key_at_top_level(tmp_path, capsys):
    text = variant("title: Swap the faulty", "titel: Swap the faulty")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (2, 1), "top level: unknown key 'titel'", "did you mean 'title'?")
    assert "missing" not in err  # the misspelt key is reported once, not also as missing


def test_unknown_key_in_window(tmp_path, capsys):
    text = variant("  announced_resume:", "  announced_resum:")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (6, 3), "window: unknown key 'announced_resum'",
           "did you mean 'announced_resume'?")
    assert len(err.splitlines()) == 1


def test_unknown_key_in_a_step(tmp_path, capsys):
    text = variant("    owner: dba", "    ownr: dba")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "ownr"), "steps[1]: unknown key 'ownr'", "did you mean 'owner'?")


def test_unknown_key_in_an_estimate(tmp_path, capsys):
    text = variant("optimistic: 3m", "optimstic: 3m")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "optimstic"), "steps[1].estimate: unknown key 'optimstic'",
           "did you mean 'optimistic'?")
    assert len(err.splitlines()) == 1


def test_unknown_key_like_no_known_key_lists_them(tmp_path, capsys):
    text = variant("    owner: dba", "    colour: blue")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "colour"), "unknown key 'colour'",
           "known keys: id, title, kind, owner, estimate, after")


# -- wrong types -----------------------------------------------------------------------------


def test_title_is_a_list(tmp_path, capsys):
    text = variant("title: Swap the faulty SAN port", "title: [swap, port]")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[swap"), "title: expected text, got a list")


def test_estimate_is_a_list(tmp_path, capsys):
    text = variant("estimate: 10m", "estimate: [5m, 10m, 20m]")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[5m"), "steps[2].estimate: expected a duration, got a list",
           "write a duration like 90s, 5m")


def test_steps_is_a_mapping(tmp_path, capsys):
    text = variant("steps:\n  - id: notice\n", "steps:\n  notice:\n    id: notice\n")
    text = text[: text.index("  - id: stop-db")]  # steps: {notice: {...}} and nothing else
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "notice:"), "steps: expected a list, got a mapping")


def test_confidence_is_text(tmp_path, capsys):
    text = variant("timezone: Asia/Seoul\n", "timezone: Asia/Seoul\npolicy:\n  confidence: high\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "high"), "policy.confidence: expected a number, got 'high'")


def test_step_id_is_a_number(tmp_path, capsys):
    text = variant("id: swap", "id: 2026")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "2026\n"), "steps[2].id: expected text, got 2026",
           "put it in quotes")


def test_empty_title(tmp_path, capsys):
    text = variant("title: Swap the port", "title: ''")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "''"), "steps[2].title: must not be empty")


def test_number_out_of_range(tmp_path, capsys):
    text = variant("timezone: Asia/Seoul\n",
                   "timezone: Asia/Seoul\npolicy:\n  spread: {optimistic: 2, pessimistic: 3}\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "2,"), "policy.spread.optimistic: must be at most 1", "got 2")


def test_infinite_spread(tmp_path, capsys):
    text = variant("timezone: Asia/Seoul\n",
                   "timezone: Asia/Seoul\npolicy:\n  spread: {pessimistic: .inf}\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, ".inf"), "policy.spread.pessimistic: must be a finite number")


# -- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("5 minutes", ["'5 minutes' is not a duration", "did you mean '5m'?"]),
        ("abc", ["'abc' is not a duration", "write a duration like 90s, 5m, 1h30m or PT5M"]),
        ("-5m", ["'-5m' is negative", "a duration is zero or more"]),
        ("5", ["5 has no unit", "write 5m for minutes or 5s for seconds"]),
        ("1:30", ["'1:30' is not a duration", "write a duration like"]),
        ("P1M", ["'P1M' uses years or months", "no fixed length"]),
        ("999999h", ["'999999h' is longer than a year", "check the unit"]),
        ("", ["expected a duration, got nothing", "write a duration like"]),
    ],
    ids=["words", "abc", "negative", "bare-number", "base-60", "months", "huge", "empty"],
)
def test_bad_duration(tmp_path, capsys, written, says):
    text = variant("estimate: 10m", f"estimate: {written}")
    path, err = check(tmp_path, capsys, text)
    line, column = pos(text, f"estimate: {written}\n")
    where = (line, column + len("estimate: ")) if written else line  # an empty value: line only
    expect(err, path, where, "steps[2].estimate: ", *says)


def test_bad_duration_in_policy(tmp_path, capsys):
    text = variant("timezone: Asia/Seoul\n", "timezone: Asia/Seoul\npolicy:\n  decision_lead: soon\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "soon"), "policy.decision_lead: 'soon' is not a duration")


# -- times and time zones --------------------------------------------------------------------


def test_bad_time_zone_name(tmp_path, capsys):
    text = variant("timezone: Asia/Seoul", "timezone: Asia/Seol")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (3, 11), "unknown time zone 'Asia/Seol'", "did you mean 'Asia/Seoul'?",
           "IANA name")


def test_time_zone_city_only(tmp_path, capsys):
    text = variant("timezone: Asia/Seoul", "timezone: new york")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (3, 11), "unknown time zone 'new york'", "did you mean 'America/New_York'?")


def new_york(start: str) -> str:
    text = variant("timezone: Asia/Seoul", "timezone: America/New_York")
    return variant("start: 2026-11-25T00:00", f"start: {start}", text)


def test_ambiguous_local_time_at_dst_end(tmp_path, capsys):
    text = new_york("2026-11-01T01:30")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (5, 10), "window.start: 2026-11-01T01:30 happens twice in America/New_York",
           "-04:00 (first) or -05:00 (second)")


def test_missing_local_time_at_dst_start(tmp_path, capsys):
    text = new_york("2026-03-08T02:30")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (5, 10), "window.start: 2026-03-08T02:30 does not exist in America/New_York",
           "pick another time or write an explicit offset")


def test_ambiguous_time_names_the_field(tmp_path, capsys):
    text = variant("timezone: Asia/Seoul", "timezone: America/New_York")
    text = variant("start: 2026-11-25T00:00", "start: 2026-11-01T00:30", text)
    text = variant("announced_resume: 2026-11-25T01:00", "announced_resume: 2026-11-01T01:15", text)
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (6, 21), "window.announced_resume: 2026-11-01T01:15 happens twice")


def test_time_that_is_not_a_time(tmp_path, capsys):
    text = variant("start: 2026-11-25T00:00", "start: tomorrow")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (5, 10), "window.start: 'tomorrow' is not an ISO 8601 time",
           "write it like 2026-11-25T00:00")


# -- the step graph --------------------------------------------------------------------------


def test_cycle_names_the_steps(tmp_path, capsys):
    text = variant("    kind: comms\n", "    kind: comms\n    after: [swap]\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[swap]"), "cycle: notice -> swap -> stop-db -> notice",
           "remove one of these `after` links")


def test_step_waits_for_itself(tmp_path, capsys):
    text = variant("    title: Swap the port\n", "    title: Swap the port\n    after: [swap]\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[swap]"), "'swap' cannot wait for itself")


def test_unknown_after_id(tmp_path, capsys):
    text = variant("    title: Swap the port\n", "    title: Swap the port\n    after: [stop-dbb]\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[stop-dbb]"), "steps[2].after:",
           "waits for unknown step 'stop-dbb'", "did you mean 'stop-db'?")


def test_duplicate_step_ids(tmp_path, capsys):
    text = variant("id: swap", "id: stop-db")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "stop-db", nth=2), "steps[2].id: step id 'stop-db' is used twice",
           "first at steps[1]", "rename one")
    assert len(err.splitlines()) == 1  # no follow-on noise about the duplicate's `after`


def test_duplicate_step_id_across_a_contingency(tmp_path, capsys):
    text = variant("id: restore", "id: swap")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "swap", nth=2),
           "contingencies[0].steps[0].id: step id 'swap' is used twice", "first at steps[2]",
           "contingencies included")
    assert len(err.splitlines()) == 1


def test_after_points_into_another_path(tmp_path, capsys):
    text = variant("        title: Restore the old path\n",
                   "        title: Restore the old path\n        after: [swap]\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[swap]"), "'restore' (contingency 'rollback') cannot wait for "
           "'swap' (main steps)", "`after` stays within one path")


def test_estimates_out_of_order(tmp_path, capsys):
    text = variant("optimistic: 3m, likely: 5m", "optimistic: 10m, likely: 5m")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "{optimistic"), "steps[1].estimate: needs optimistic <= likely "
           "<= pessimistic, got 10m / 5m / 12m")


def test_estimates_adding_up_to_years(tmp_path, capsys):
    text = variant("estimate: 10m", "estimate: 300d")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "300d"), "steps[2].estimate:", "more than a year",
           "largest is 'swap'", "check the units")


def test_two_steps_resume_service(tmp_path, capsys):
    text = variant("    title: Reopen the channels\n",
                   "    title: Reopen the channels\n    resumes_service: true\n")
    text = variant("    kind: comms\n", "    kind: comms\n    resumes_service: true\n", text)
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "true", nth=2), "only one step per path can resume service",
           "notice, reopen")


# -- the window ------------------------------------------------------------------------------


def test_announced_resume_before_start(tmp_path, capsys):
    text = variant("announced_resume: 2026-11-25T01:00", "announced_resume: 2026-11-24T23:00")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (6, 21), "announced_resume (2026-11-24 23:00) must be after window.start "
           "(2026-11-25 00:00)", "fix one of the two times")


def test_hard_deadline_before_announced_resume(tmp_path, capsys):
    text = variant("hard_deadline: 2026-11-25T06:00", "hard_deadline: 2026-11-25T00:45")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (7, 18), "hard_deadline (2026-11-25 00:45) must be after announced_resume "
           "(2026-11-25 01:00)")


@pytest.mark.parametrize("year", ["0001", "9999"])
def test_a_window_in_year_1_or_9999_is_named_not_a_crash(tmp_path, capsys, year):
    text = BASE.replace("2026-11-25", f"{year}-01-01")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (5, 10), f"window.start: {year}-01-01T00:00: year {year} is out of range "
           "(1970-8999)", "check the date")
    run_process(path)


def test_a_window_longer_than_30_days_is_refused_with_the_bound(tmp_path, capsys):
    text = variant("hard_deadline: 2026-11-25T06:00", "hard_deadline: 2027-11-25T06:00")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (7, 18), "hard_deadline (2027-11-25 06:00) is 365 days after window.start "
           "(2026-11-25 00:00)", "windows of up to 30 days", "check the dates")

# -- the shape of the file -------------------------------------------------------------------


def test_empty_file(tmp_path, capsys):
    path, err = check(tmp_path, capsys, "")
    expect(err, path, (1, 1), "the file is empty", "starts with `runbook: 1`")


def test_whitespace_and_comments_only(tmp_path, capsys):
    path, err = check(tmp_path, capsys, "\n   \n# the plan goes here\n\t\n")
    expect(err, path, (1, 1), "only comments and blank lines", "starts with `runbook: 1`")


def test_list_at_top_level(tmp_path, capsys):
    path, err = check(tmp_path, capsys, "- runbook: 1\n- title: Swap\n")
    expect(err, path, (1, 1), "the top level is a list", "a mapping", "`runbook: 1`")


def test_scalar_at_top_level(tmp_path, capsys):
    path, err = check(tmp_path, capsys, "# notes\nswap the port at midnight\n")
    expect(err, path, (2, 1), "the top level is a single value ('swap the port at midnight')",
           "a mapping")


def test_unsupported_format_version(tmp_path, capsys):
    text = variant("runbook: 1", "runbook: 2")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (1, 10), "format version 2 is not supported", "reads version 1",
           "`runbook: 1`")


def test_missing_format_version(tmp_path, capsys):
    text = variant("runbook: 1\n", "")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (1, 1), "the format version is missing", "add `runbook: 1`")


def test_missing_required_key(tmp_path, capsys):
    text = BASE[: BASE.index("window:")] + BASE[BASE.index("steps:"):]
    path, err = check(tmp_path, capsys, text)
    expect(err, path, (1, 1), "top level: required key 'window' is missing; add it")


def test_empty_steps(tmp_path, capsys):
    text = BASE[: BASE.index("steps:")] + "steps: []\n"
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[]"), "steps: needs at least one step", "add one")


def test_empty_contingency_steps(tmp_path, capsys):
    text = BASE[: BASE.index("    steps:\n      - id: restore")] + "    steps: []\n"
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "[]"), "contingencies[0].steps: needs at least one step")


def test_unknown_kind(tmp_path, capsys):
    text = variant("kind: comms", "kind: comm")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "comm\n"), "steps[0].kind: 'comm' is not one of 'task'",
           "did you mean 'comms'?")


# -- bytes that are not a runbook ------------------------------------------------------------


def test_not_utf8(tmp_path, capsys):
    text = variant("title: Swap the port", "title: Caf\xe9 port swap")
    path, err = check(tmp_path, capsys, text.encode("latin-1"))
    expect(err, path, pos(text, "\xe9"), "not UTF-8 text (byte 0xe9)", "save the file as UTF-8")
    run_process(path)


def test_png_file(tmp_path, capsys):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"
    path, err = check(tmp_path, capsys, png, name="diagram.yaml")
    expect(err, path, 3, "binary file", "a runbook is YAML text")
    run_process(path)


def test_nul_bytes(tmp_path, capsys):
    path, err = check(tmp_path, capsys, BASE.encode() + b"\x00" * 16)
    expect(err, path, (33, 1), "binary file (it contains NUL bytes)")


def test_bom_with_an_error_keeps_line_numbers(tmp_path, capsys):
    text = variant("kind: comms", "kind: comm")
    path, err = check(tmp_path, capsys, "\ufeff" + text)
    expect(err, path, pos(text, "comm\n"), "did you mean 'comms'?")


def test_utf8_bom_otherwise_valid_loads(tmp_path, capsys):
    path = write(tmp_path, "\ufeff" + BASE)
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Swap the faulty SAN port" in out


# -- hostile YAML: refuse fast, never hang ---------------------------------------------------


def laughs(levels: int = 10, width: int = 10) -> str:
    """The "billion laughs": each level is ``width`` aliases of the level before."""
    names = [f"l{i}" for i in range(levels)]
    text = f"{names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]\n"
    for prev, name in zip(names, names[1:], strict=False):
        text += f"{name}: &{name} [{', '.join([f'*{prev}'] * width)}]\n"
    return text


def test_billion_laughs_is_refused_fast(tmp_path, capsys):
    text = laughs()  # 10**10 values if expanded
    began = time.perf_counter()
    path, err = check(tmp_path, capsys, text)
    assert time.perf_counter() - began < 2.0
    expect(err, path, pos(text, "&l5"), "repeat more than 200,000 values",
           "alias bomb", "refusing to read")
    began = time.perf_counter()
    run_process(path, timeout=20)
    assert time.perf_counter() - began < 10.0  # interpreter start-up included


def test_merge_key_bomb_is_refused_fast(tmp_path, capsys):
    text = "m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n"
    for i in range(1, 12):
        text += f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}]}}\n"
    began = time.perf_counter()
    path, err = check(tmp_path, capsys, text)
    assert time.perf_counter() - began < 2.0
    expect(err, path, pos(text, "[*m4"), "alias bomb", "refusing to read")


def test_recursive_alias(tmp_path, capsys):
    text = variant("    owner: dba\n", "    owner: &me\n      <<: *me\n")
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "&me"), "contains an alias (*name) to itself", "remove the alias")


def test_deep_nesting_bomb(tmp_path, capsys):
    text = "runbook: " + "[" * 100_000 + "]" * 100_000 + "\n"
    began = time.perf_counter()
    path, err = check(tmp_path, capsys, text)
    assert time.perf_counter() - began < 2.0
    expect(err, path, 1, "nested too deeply", "a runbook is only a few levels deep")
    run_process(path, timeout=20)


def test_nesting_deeper_than_a_runbook_needs(tmp_path, capsys):
    text = "runbook: " + "[" * 150 + "]" * 150 + "\n"
    path, err = check(tmp_path, capsys, text)
    expect(err, path, 1, "nested more than 100 levels deep")


# -- paths that are not files ----------------------------------------------------------------


def test_directory(tmp_path, capsys):
    code = main(["check", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert_clean(err, tmp_path)
    expect(err, tmp_path, None, "is a directory", "give the path of a runbook .yaml file")


def test_missing_file(tmp_path, capsys):
    path = tmp_path / "no-such-runbook.yaml"
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert_clean(err, path)
    expect(err, path, None, "no such file", "check the path")
    assert run_process(path).stderr == err
