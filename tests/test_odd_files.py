"""Odd files and big inputs (issue 8, items 7 and 11): what is not a regular file, what is too
big, what is encoded otherwise, and plans or scripts big enough to hit a limit. Each is refused
with one message that names the real problem and its figure, exit 2, never a hang."""

from __future__ import annotations

import codecs
import os
import resource
import subprocess
import sys
import time

import pytest

from runbook.cli import main
from runbook.format import loader
from runbook.format import plan as plan_module
from runbook.format.files import MAX_BYTES
from runbook.format.loader import LoadError, load_text, parse_yaml
from tests.test_bad_input import BASE, ROOT, assert_clean, check, expect, pos, write


def run_limited(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    """`python -m runbook ARGS` with 1 GB of address space and a timeout: a hang or a read until
    memory runs out fails the test instead of the machine."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "runbook", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout, preexec_fn=limit)


# -- what is not a regular file --------------------------------------------------------------


def test_a_named_pipe_is_refused_at_once(tmp_path, capsys):
    fifo = tmp_path / "night.yaml"
    os.mkfifo(fifo)
    proc = run_limited("check", str(fifo), timeout=15)  # before: blocked until killed
    assert proc.returncode == 2 and proc.stdout == ""
    assert_clean(proc.stderr, fifo)
    expect(proc.stderr, fifo, None, "is a named pipe (FIFO), not a file",
           "reads only regular files")
    link = tmp_path / "link.yaml"
    link.symlink_to(fifo)
    code = main(["check", str(link)])
    assert code == 2 and "named pipe" in capsys.readouterr().err


def test_dev_zero_is_refused_without_reading_it():
    proc = run_limited("check", "/dev/zero", timeout=15)  # before: read until memory ran out
    assert proc.returncode == 2, proc.stderr
    expect(proc.stderr, "/dev/zero", None, "is a character device, not a file")


def test_a_huge_file_is_refused_after_reading_no_more_than_the_limit(tmp_path, capsys):
    big = tmp_path / "night.yaml"
    with open(big, "wb") as f:
        f.write(BASE.encode())
        f.truncate(4 << 30)  # sparse: 4 GB that a full read would hold in memory
    began = time.perf_counter()
    code = main(["check", str(big)])
    err = capsys.readouterr().err
    assert code == 2 and time.perf_counter() - began < 2.0
    expect(err, big, None, f"larger than {MAX_BYTES >> 20} MB, the most runbook reads")


# -- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_read(tmp_path, capsys, codec):
    mark = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
            "utf-32-le": codecs.BOM_UTF32_LE}[codec]
    path = write(tmp_path, mark + BASE.encode(codec))
    code = main(["check", str(path), "--samples", "500"])
    out, err = capsys.readouterr()
    assert code == 0, err  # before: "binary file (it contains NUL bytes)"
    assert "Swap the faulty SAN port" in out


def test_an_error_in_a_utf16_file_has_its_line_and_column(tmp_path, capsys):
    text = BASE.replace("kind: comms", "kind: comm")
    path, err = check(tmp_path, capsys, codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    expect(err, path, pos(text, "comm\n"), "did you mean 'comms'?")


def test_utf16_without_a_mark_is_named_as_such(tmp_path, capsys):
    path, err = check(tmp_path, capsys, BASE.encode("utf-16-le"))
    expect(err, path, None, "looks like UTF-16 text without a byte-order mark",
           "save the file as UTF-8")


# -- big plans: limits named with their figures ----------------------------------------------


def plan_text(n: int, dense: bool = False) -> str:
    lines = ["runbook: 1", "title: Big", "timezone: Asia/Seoul", "window:",
             "  start: 2026-11-25T00:00", "  announced_resume: 2026-11-26T00:00", "steps:"]
    for i in range(n):
        after = f", after: [{', '.join(f's{j}' for j in range(i))}]" if dense else ""
        lines.append(f"  - {{id: s{i}, title: S{i}, estimate: 1m{after}}}")
    return "\n".join(lines) + "\n"


def test_values_written_out_are_not_counted_as_an_alias_bomb(monkeypatch):
    # before, every value counted: a 30,000-step plan (~270,000 values, not one alias) or a
    # 100,000-event script was "an alias bomb"; now only what aliases repeat counts
    monkeypatch.setattr(loader, "MAX_ALIAS_VALUES", 1_000)
    assert len(load_text(plan_text(300), "big.yaml").plan.steps) == 300  # ~2,700 values
    reused = "x: &x [" + ", ".join(["v"] * 600) + "]\ny: *x\n"
    assert len(parse_yaml(reused, "ok.yaml").data["y"]) == 600
    with pytest.raises(LoadError, match="repeat more than 1,000 values"):
        parse_yaml(reused + "z: *x\n", "bomb.yaml")


def test_a_dense_graph_is_refused_for_its_links_with_the_limit(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(plan_module, "MAX_LINKS", 1_000)  # 60 steps each after every step above
    text = plan_text(60, dense=True)
    path, err = check(tmp_path, capsys, text)
    message = expect(err, path, pos(text, "{id: s45,")[0],  # where the count passes 1,000
                     "the steps have 1,770 `after` links in all; runbook handles up to 1,000",
                     "name only the steps each one directly waits for")
    assert "alias" not in message


def test_too_many_steps_are_refused_with_the_limit(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(plan_module, "MAX_STEPS", 50)
    text = plan_text(51)
    path, err = check(tmp_path, capsys, text)
    expect(err, path, pos(text, "{id: s50"), "the runbook has 51 steps (contingencies included); "
           "runbook handles up to 50", "split the plan")


def test_the_real_graph_limits():
    assert plan_module.MAX_STEPS == 55_000 and plan_module.MAX_LINKS == 200_000


def test_an_alias_bomb_is_still_one():
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 8):
        text += f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 10)}]\n"
    with pytest.raises(LoadError, match=r"aliases \(\*name\) here repeat more than 200,000 values"):
        parse_yaml(text, "bomb.yaml")


def test_the_file_name_cannot_drive_the_terminal(tmp_path, capsys):
    path = tmp_path / "x\x1b]0;pwned\x07.yaml"
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "\x1b" not in err and "\x07" not in err
    assert "x\\x1b]0;pwned\\x07.yaml: error: no such file" in err
