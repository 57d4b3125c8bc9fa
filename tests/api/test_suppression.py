"""Small-cell suppression: cells under 11 hidden, and no margin total minus the visible cells
reveals a hidden one."""

from __future__ import annotations

from collections import defaultdict

import ibis
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from payvider.api.suppression import suppress_small_cells


def run(rows: list[dict], margins, dims=("month", "line")) -> list[dict]:
    t = ibis.memtable(pa.Table.from_pylist(rows))
    out = suppress_small_cells(t, "members", dims, margins).to_pyarrow().to_pylist()
    return sorted(out, key=lambda r: (r["month"], r["line"]))


def test_primary_and_complementary_cells_hand_computed():
    # Month 1: A=50, B=5, C=20, total 75. B < 11 is hidden; alone, 75 - 50 - 20 = 5 would give it
    # away, so the smallest visible cell (C=20) is hidden too: 75 - 50 = 25 = B + C.
    # Month 2: A=40, B=4, C=6: two small cells hide each other (50 - 40 = 10 = B + C).
    # Month 3: all >= 11, nothing hidden.
    rows = [
        {"month": 1, "line": "A", "members": 50, "dollars": 500},
        {"month": 1, "line": "B", "members": 5, "dollars": 50},
        {"month": 1, "line": "C", "members": 20, "dollars": 200},
        {"month": 2, "line": "A", "members": 40, "dollars": 400},
        {"month": 2, "line": "B", "members": 4, "dollars": 40},
        {"month": 2, "line": "C", "members": 6, "dollars": 60},
        {"month": 3, "line": "A", "members": 11, "dollars": 110},
        {"month": 3, "line": "B", "members": 12, "dollars": 120},
    ]
    out = run(rows, [("month",)])
    hidden = {(r["month"], r["line"]) for r in out if r["suppressed"]}
    assert hidden == {(1, "B"), (1, "C"), (2, "B"), (2, "C")}
    for r in out:
        if r["suppressed"]:
            assert r["members"] is None and r["dollars"] is None
        else:
            assert r["dollars"] == 10 * r["members"]
    # The row totals minus the visible cells: 25 and 10, each the sum of two hidden cells.
    totals = {1: 75, 2: 50}
    for month, total in totals.items():
        visible = sum(r["members"] for r in out if r["month"] == month and not r["suppressed"])
        assert total - visible in (5 + 20, 4 + 6)


def test_complementary_cell_protected_in_a_second_margin():
    # Margins: months (rows) and lines (columns). (1, B)=5 is hidden; the month margin hides the
    # smallest other cell of month 1, (1, C)=12. Column C then has one hidden cell, so its
    # smallest visible cell (2, C)=13 is hidden, and so on until every margin with a hidden cell
    # has at least two.
    rows = [
        {"month": 1, "line": "A", "members": 50, "dollars": 1},
        {"month": 1, "line": "B", "members": 5, "dollars": 1},
        {"month": 1, "line": "C", "members": 12, "dollars": 1},
        {"month": 2, "line": "A", "members": 40, "dollars": 1},
        {"month": 2, "line": "B", "members": 30, "dollars": 1},
        {"month": 2, "line": "C", "members": 13, "dollars": 1},
    ]
    out = run(rows, [("month",), ("line",)])
    check_margins(rows, out, [("month",), ("line",)])
    assert {(r["month"], r["line"]) for r in out if r["suppressed"]} == {
        (1, "B"),
        (1, "C"),
        (2, "B"),
        (2, "C"),
    }


def check_margins(rows, out, margins) -> None:
    """Every cell under 11 is hidden, and no margin has exactly one hidden cell (then the
    margin total minus the visible cells would equal it)."""
    truth = {(r["month"], r["line"]): r["members"] for r in rows}
    for r in out:
        if truth[(r["month"], r["line"])] < 11:
            assert r["suppressed"]
    for margin in margins:
        groups = defaultdict(list)
        for r in out:
            groups[tuple(r[c] for c in margin)].append(r)
        for cells in groups.values():
            hidden = [r for r in cells if r["suppressed"]]
            total = sum(truth[(r["month"], r["line"])] for r in cells)
            visible = sum(r["members"] for r in cells if not r["suppressed"])
            if len(hidden) == 1:
                raise AssertionError(
                    f"total {total} - visible {visible} reveals the hidden cell {hidden[0]}"
                )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=1, max_value=40), min_size=2, max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_no_margin_reveals_a_hidden_cell(grid):
    width = min(len(r) for r in grid)
    rows = [
        {"month": m, "line": f"L{j}", "members": grid[m][j], "dollars": 1}
        for m in range(len(grid))
        for j in range(width)
    ]
    out = run(rows, [("month",)])
    check_margins(rows, out, [("month",)])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(min_value=1, max_value=40), min_size=4, max_size=4),
        min_size=2,
        max_size=4,
    )
)
def test_no_row_or_column_margin_reveals_a_hidden_cell(grid):
    rows = [
        {"month": m, "line": f"L{j}", "members": grid[m][j], "dollars": 1}
        for m in range(len(grid))
        for j in range(4)
    ]
    out = run(rows, [("month",), ("line",)])
    check_margins(rows, out, [("month",), ("line",)])
