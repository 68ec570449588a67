"""What a wheel install carries: the demo's runbook and script, identical to the examples."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, RUNBOOKS

BUNDLED = ["san-port-swap.yaml", "san-port-swap.demo.events.yaml"]


@pytest.mark.parametrize("name", BUNDLED)
def test_the_bundled_demo_files_match_the_examples(name):
    bundled = ROOT / "runbook" / "data" / name
    assert bundled.read_text() == (RUNBOOKS / name).read_text(), (
        f"runbook/data/{name} drifted from runbooks/{name}: copy the example over it")


def test_the_schema_and_stylesheet_are_package_data():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]["runbook"]
    assert "data/*" in data and "tui/*.tcss" in data
