"""`runbook serve` on the command line: the extra, the token rule, unusable input, Textual kept out."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from runbook import cli
from runbook.engine.clock import ManualClock
from runbook.engine.run import Actor, new_run
from runbook.store import Store
from tests.conftest import ROOT, START
from tests.web.test_status import runbook


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "runs.db"
    with Store(path) as store:
        new_run(store, runbook(), ManualClock(START), Actor("kim", "h"), samples=1_000)
    return path


@pytest.fixture
def captured(monkeypatch):
    """Stand in for the server: record what cmd_serve would serve with."""
    calls: list[dict] = []

    def fake_serve(location, run, **kw):
        calls.append({"location": location, "run": run, **kw})

    monkeypatch.setattr("runbook.web.server.serve", fake_serve)
    monkeypatch.delenv("RUNBOOK_SERVE_TOKEN", raising=False)
    return calls


def test_without_the_extra_it_says_how_to_install_it(monkeypatch, capsys, db):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # import fails as if not installed
    assert cli.main(["serve", "--db", str(db)]) == 2
    assert "pip install 'runbook[serve]'" in capsys.readouterr().err


def test_loopback_needs_no_token(captured, db):
    assert cli.main(["serve", "--db", str(db)]) == 0
    assert captured[0]["host"] == "127.0.0.1" and captured[0]["port"] == 8080
    assert captured[0]["token"] is None and captured[0]["run"] is None


def test_any_other_address_gets_a_generated_token_printed(captured, db):
    assert cli.main(["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "9000"]) == 0
    token = captured[0]["token"]
    assert token and len(token) >= 32 and captured[0]["token_printed"] is True
    assert cli.main(["serve", "--db", str(db), "--host", "0.0.0.0"]) == 0
    assert captured[1]["token"] != token  # a new one each start


def test_a_token_from_a_file_or_the_environment(captured, db, tmp_path, monkeypatch):
    secret = tmp_path / "token"
    secret.write_text("file-token-0123456789abcdef\n")
    assert cli.main(["serve", "--db", str(db), "--host", "0.0.0.0", "--token-file",
                     str(secret)]) == 0
    assert captured[-1]["token"] == "file-token-0123456789abcdef"
    assert captured[-1]["token_printed"] is False
    monkeypatch.setenv("RUNBOOK_SERVE_TOKEN", "env-token-0123456789abcdef")
    assert cli.main(["serve", "--db", str(db)]) == 0  # given: required even on loopback
    assert captured[-1]["token"] == "env-token-0123456789abcdef"
    import os

    assert "RUNBOOK_SERVE_TOKEN" not in os.environ  # not handed on to the watch processes


@pytest.mark.parametrize(("args", "message"), [
    (["--token-file", "/nonexistent/token"], "cannot read the token file"),
    (["--port", "70000"], "--port must be between 0 and 65535"),
])
def test_unusable_options_exit_2(captured, db, capsys, args, message):
    assert cli.main(["serve", "--db", str(db), *args]) == 2
    assert message in capsys.readouterr().err
    assert not captured


def test_a_short_token_is_refused(captured, db, tmp_path, capsys):
    short = tmp_path / "token"
    short.write_text("abc\n")
    assert cli.main(["serve", "--db", str(db), "--token-file", str(short)]) == 2
    assert "too short" in capsys.readouterr().err


def test_no_store_and_a_busy_port_are_one_line_and_exit_2(tmp_path, db, capsys):
    assert cli.main(["serve", "--db", str(tmp_path / "none.db")]) == 2
    assert "no store at" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--db", str(db), "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_server_does_not_import_textual():
    code = ("import sys, runbook.web.server, runbook.web.tui, runbook.commands; "
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_page_files_are_package_data_and_exist():
    import re
    import tomllib

    from runbook.web import tui

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "web/static/*" in config["tool"]["setuptools"]["package-data"]["runbook"]
    assert "aiohttp" not in " ".join(config["project"]["dependencies"])  # `pip install .` stays small
    extras = config["project"]["optional-dependencies"]
    for needed in ("aiohttp", "textual-serve"):
        assert any(d.startswith(needed) for d in extras["serve"]), needed
        assert any(d.startswith(needed) for d in extras["test"]), needed
    pages = (ROOT / "runbook" / "web" / "page.py").read_text() + tui.PAGE
    names = re.findall(r'"/static/([\w.-]+)"', pages)
    assert {"status.css", "status.js", "tui.css", "favicon.svg"} <= set(names)
    for name in names:
        assert (ROOT / "runbook" / "web" / "static" / name).is_file(), name
