"""`runbook run` on a store that is there but empty (a database just made with `createdb`, an
empty file): it starts the run and creates the store, as it does where there is no file yet, not
refuse with "not initialised ... or start a run first" (which is what it was doing)."""

from __future__ import annotations

from pathlib import Path

from runbook.store import Store
from tests.test_cli_start import STORY, run, screen, today  # noqa: F401  (fixtures)


def test_run_starts_on_an_empty_store(capsys, backend: str, today, screen) -> None:  # noqa: F811
    if not backend.startswith("postgresql"):
        Path(backend).touch()  # an empty file where the store goes
    code, _, err = run(capsys, "run", STORY, "--db", backend, "--start", "now", "--operator", "kim")
    assert code == 0, err
    assert len(screen) == 1 and not screen[0].resumed
    with Store(backend, readonly=True) as s:
        (info,) = s.runs()
    assert info.id == screen[0].engine.run_id
    code, _, err = run(capsys, "run", STORY, "--db", backend)  # and the next operator joins it
    assert code == 0, err
    assert screen[-1].resumed and screen[-1].engine.run_id == info.id
