"""The wiring of `runbook run`, `watch` and `demo`: bad input is one line and exit code 2."""

from __future__ import annotations

from runbook.cli import main


def test_demo_refuses_a_speed_that_is_not_positive(capsys):
    assert main(["demo", "--speed", "0"]) == 2
    assert capsys.readouterr().err.strip() == "runbook: --speed must be positive, got 0"


def test_watch_without_a_store_says_where_it_looked(tmp_path, capsys):
    assert main(["watch", "--db", str(tmp_path / "none.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"runbook: no store at {tmp_path / 'none.db'}") and "Traceback" not in err


def test_watch_of_an_unknown_run_names_the_runs_there(tmp_path, capsys):
    from runbook.store import Store

    with Store(tmp_path / "runs.db"):
        pass
    assert main(["watch", "nope", "--db", str(tmp_path / "runs.db")]) == 2
    assert "no runs yet" in capsys.readouterr().err


def test_run_of_a_missing_runbook_is_unusable_input(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.yaml"), "--db", str(tmp_path / "runs.db")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
