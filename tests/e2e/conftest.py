"""Fixtures for the end-to-end night: the session's PostgreSQL cluster and a fresh database on it
(tests/store), a headless Chromium (tests/web), and the programs the night needs on this machine.

Without tmux, faketime, Chromium or PostgreSQL the test skips, saying why; in CI (``CI`` or
``RUNBOOK_REQUIRE_PG`` set, as .ci/run does) it fails instead: CI must run it."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.store.conftest import pg_cluster  # noqa: F401  (fixture)
from tests.store.test_pg_processes import own_db  # noqa: F401  (fixture)
from tests.web.conftest import CHROMEDRIVER, CHROMIUM, browser  # noqa: F401  (fixture)

NEEDED = {
    "tmux": "apt-get install -y tmux",
    "faketime": "apt-get install -y faketime",
}


def _missing(reason: str) -> None:
    if os.environ.get("CI") or os.environ.get("RUNBOOK_REQUIRE_PG"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def programs() -> None:
    """tmux, faketime, Chromium and chromedriver are installed (checked before anything starts)."""
    for program, install in NEEDED.items():
        if shutil.which(program) is None:
            _missing(f"{program} is not installed ({install})")
    if not (CHROMIUM and CHROMEDRIVER):
        _missing("no chromium/chromedriver on this machine: apt-get install -y chromium "
                 "chromium-driver")
