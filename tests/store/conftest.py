"""Store locations for the tests that run against every backend.

``backend`` is parametrised: ``sqlite`` (a file in tmp_path) and ``postgres`` (a fresh database
in a PostgreSQL server). The server is ``$RUNBOOK_TEST_PG`` (an admin URL) when given, else a
throw-away cluster this session starts (tests/helpers/pg_cluster.py). Without PostgreSQL the
postgres cases skip with the reason, except in CI (``CI`` or ``RUNBOOK_REQUIRE_PG`` set, as
.ci/run does), where they fail: CI must run them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.pg_cluster import Cluster, ClusterError, admin_execute, with_database


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") or os.environ.get("RUNBOOK_REQUIRE_PG"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster this test session controls (start, stop, restart).

    Its directory is its own (not pytest's basetemp, which other pytest sessions of the same user
    prune while this one runs); a unix socket path must also stay under ~100 characters."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="runbook-pg-")))
    try:
        cluster.start()
    except ClusterError as e:
        shutil.rmtree(cluster.base, ignore_errors=True)
        _unavailable(str(e))
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def pg_admin(request: pytest.FixtureRequest) -> str:
    """An admin URL of a PostgreSQL server: $RUNBOOK_TEST_PG, or this session's cluster."""
    if url := os.environ.get("RUNBOOK_TEST_PG"):
        return url
    return request.getfixturevalue("pg_cluster").url("postgres")


def fresh_database(admin: str) -> tuple[str, str]:
    name = f"rb_{uuid.uuid4().hex[:12]}"
    admin_execute(admin, f'CREATE DATABASE "{name}"')
    return name, with_database(admin, name)


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    name, url = fresh_database(pg_admin)
    yield url
    admin_execute(pg_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store location on each backend: a SQLite path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "runs.db")
    return request.getfixturevalue("pg_url")
