"""The operator's screen in Korean (``--lang ko``): layout snapshots on a fixed clock.

Hangul takes two terminal cells: the header keeps the level word whole, the steps table's columns
line up under their headings, and the timeline's labels and markers keep their columns, at 80x24,
60 columns and on a wide terminal. The same moments as test_tui_snapshots.py; update with
``pytest tests/tui/test_tui_snapshots_ko.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from runbook import i18n
from runbook.engine.run import Session
from runbook.format.cells import width
from runbook.store import Store
from runbook.tui.launch import operator_app, watch_app
from tests.tui.conftest import quiet
from tests.tui.test_tui_snapshots import played, shown  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("korean")


@pytest.fixture
def korean():
    i18n.set_language("ko")
    yield
    i18n.set_language("en")


def test_on_track_at_80x24(snap_compare, played):  # noqa: F811
    app = quiet(operator_app(played(12), False, interval=None))
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown(app))


def test_decide_now_with_the_banner_at_80x24(snap_compare, played):  # noqa: F811
    app = quiet(operator_app(played(35.5), False, interval=None))
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown(app))


def test_sixty_columns(snap_compare, played):  # noqa: F811
    app = quiet(operator_app(played(35.5), False, interval=None))
    assert snap_compare(app, terminal_size=(60, 24), run_before=shown(app))


def test_contingency_running_on_a_wide_terminal(snap_compare, played):  # noqa: F811
    app = quiet(operator_app(played(47), False, interval=None))
    assert snap_compare(app, terminal_size=(160, 44), run_before=shown(app))


def test_resumed_on_a_wide_terminal(snap_compare, played):  # noqa: F811
    app = quiet(operator_app(played(75), False, interval=None))
    assert snap_compare(app, terminal_size=(140, 36), run_before=shown(app))


def test_watch_mode(snap_compare, played, tmp_path):  # noqa: F811
    engine = played(30)
    ro = Store(tmp_path / "runs.db", readonly=True)
    try:
        app = quiet(watch_app(Session(ro, ro.resolve(None), engine.clock), interval=None))
        assert snap_compare(app, terminal_size=(100, 30), run_before=shown(app))
    finally:
        ro.close()


def test_help(snap_compare, played):  # noqa: F811
    app = quiet(operator_app(played(12), False, interval=None))
    assert snap_compare(app, terminal_size=(100, 44), run_before=shown(app),
                        press=["question_mark"])


def test_trigger_asks_first(snap_compare, played):  # noqa: F811
    app = quiet(operator_app(played(35.5), False, interval=None))
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown(app), press=["c"])


@pytest.mark.parametrize("size", [(60, 24), (80, 24), (120, 30)])
async def test_the_header_keeps_the_level_word_and_fits_the_line(played, size):  # noqa: F811
    """Measured in cells: the middle of the header never pushes the Korean level word off."""
    app = quiet(operator_app(played(35.5), False, interval=None))
    async with app.run_test(size=size) as pilot:
        snap = app.refresh_now()
        await pilot.pause()
        assert snap.word == "즉시 결정"
        header = app.main.query_one("#header")
        level = app.main.query_one("#level")
        assert level.region.right <= header.region.right
        assert level.region.width == width(f" {snap.word} ")
        assert width(snap.header_text(size[0])) + width(snap.word) + 2 + 8 <= size[0]


async def test_the_steps_table_lines_up_in_cells(played):  # noqa: F811
    """Every cell of a column is as wide as its heading's column, Hangul counted twice."""
    app = quiet(operator_app(played(35.5), False, interval=None))
    async with app.run_test(size=(80, 24)) as pilot:
        app.refresh_now()
        await pilot.pause()
        table = app.main.table
        columns = table.ordered_columns
        for y in range(table.size.height):  # every line drawn: the heading, then the rows
            strip = table.render_line(y)
            assert strip.cell_length == table.size.width
            x = 0
            for k, column in enumerate(columns):
                drawn = strip.crop(x + 1, x + 1 + column.width).text  # inside the padding
                assert cell_len(drawn) == column.width
                whole = (column.label if y == 0 else
                         table.get_row_at(table.scroll_offset.y + y - 1)[k]).plain
                shown = drawn.strip()
                assert shown == whole.strip() or (shown.endswith("…") and
                                                  whole.startswith(shown[:-1])), (shown, whole)
                x += column.get_render_width(table)
