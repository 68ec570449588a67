"""Guards the snapshots only show at one size: at any width the status, plan, taken and variance
columns are never cut (the title gives way, and at 60 columns goes), and nothing the app says becomes a toast over the
steps (everything goes to the message line)."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.widgets._toast import Toast

from tests.tui.conftest import press

KEPT = ("status", "plan", "taken", "var")  # columns that must never be cut


def cut_cells(app) -> list[tuple[str, str, int]]:
    """(column, cell, column width) for every cell of a kept column wider than its column."""
    table = app.main.table
    cut = []
    for key in KEPT:
        column = table.columns[key]
        for row in range(table.row_count):
            text = str(table.get_cell_at((row, table.get_column_index(key))))
            if cell_len(text) > column.width:
                cut.append((key, text, column.width))
    return cut


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_plan_taken_and_variance_are_never_cut(rig, width):
    app = rig.operator()
    async with app.run_test(size=(width, 30)) as pilot:
        app.refresh_now()
        await pilot.pause()
        await press(pilot, "space")  # prep starts ...
        rig.clock.advance(14 * 60 + 37)  # ... and runs 8m37s over its likely 3m
        app.refresh_now()
        await pilot.pause()
        await press(pilot, "d")
        app.refresh_now()
        await pilot.pause()
        text = [str(c) for c in app.main.table.get_row_at(0)]
        assert any(t.startswith("+") and t.endswith("!") for t in text)  # a late variance shown
        assert cut_cells(app) == []


async def test_a_toast_request_goes_to_the_message_line(rig):
    app = rig.operator()
    async with app.run_test(size=(100, 30)) as pilot:
        app.refresh_now()
        await pilot.pause()
        app.notify("vendor case INC-42 [opened]", title="Desk", severity="warning")
        await pilot.pause()
        assert not app.query(Toast)  # no toast anywhere over the screen
        line = str(app.main.query_one("#message").render())
        assert "Desk: vendor case INC-42 [opened]" in line
