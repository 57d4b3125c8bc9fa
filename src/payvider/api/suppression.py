"""Small-cell suppression of aggregate tables, with complementary suppression.

A cell (row) whose member count is under the threshold (11, the CMS cell-size rule) is
*primarily* suppressed: its measures become null. If that left exactly one suppressed cell among
cells that add up to a published total (a *margin*: e.g. the product lines of one month), the
total minus the visible cells would reveal it, so the smallest other cell of that margin is
suppressed too (*complementary* suppression). Passes repeat so a complementary cell chosen for one
margin is in turn protected in the others.

Everything is one Ibis expression (window functions), so it runs where the data is.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

THRESHOLD = 11
PASSES = 3


def suppress_small_cells(
    t: ir.Table,
    count_column: str,
    dimensions: Sequence[str],
    margins: Sequence[Sequence[str]] = (),
    threshold: int = THRESHOLD,
    passes: int = PASSES,
) -> ir.Table:
    """``t`` with measures (every column not in ``dimensions``) nulled in suppressed cells and a
    boolean ``suppressed`` column. ``margins`` lists column sets whose cells sum to a total."""
    flag = "_pv_suppressed"
    count = t[count_column]
    t = t.mutate(**{flag: count.isnull() | (count < threshold)})
    order = [count_column, *dimensions]
    for _ in range(passes if margins else 0):
        for margin in margins:
            w_all = ibis.window(group_by=[t[c] for c in margin])
            # Rank the cells of the margin that are still visible, smallest first.
            w_rank = ibis.window(
                group_by=[t[c] for c in margin], order_by=[t[flag], *[t[c] for c in order]]
            )
            n_suppressed = t[flag].cast("int64").sum().over(w_all)
            rank = ibis.row_number().over(w_rank)
            t = t.mutate(**{flag: t[flag] | ((n_suppressed == 1) & ~t[flag] & (rank == 0))})
    measures = [c for c in t.columns if c not in dimensions and c != flag]
    return t.mutate(
        **{c: ibis.ifelse(t[flag], ibis.null(t[c].type()), t[c]) for c in measures},
        suppressed=t[flag],
    ).drop(flag)
