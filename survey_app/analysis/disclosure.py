"""Disclosure control: no published figure rests on, or reveals, fewer than k respondents.

The rule, as the methodology states it (k is the survey's minimum cell size,
10 by default):

1. Primary suppression. A group with fewer than k respondents who answered
   is not shown at all (not even its n). Within a shown group, an option
   chosen by 1 to k - 1 respondents is not shown. A zero is shown, as public
   health agencies do (CDC WONDER, ONS suppress counts of 1-9, not 0).
   Percentages count as counts: unweighted, p * n is the count.
2. Complementary suppression. Published totals tie cells together: the
   options of a group add up to its n; the top-two-box share ("percent
   agreeing") adds up the top two options and, subtracted from 100, the
   others; a column adds up over groups (plus the respondents in no group)
   to the overall figure; the groups' n add up to the overall n. Whenever a
   published total ties together exactly one hidden cell, or hidden cells
   that add up to 1 to k - 1, the smallest other cell in that total (a
   non-zero one if there is one) is hidden too, until no total gives a hidden
   cell away. If a total has nothing left to hide, the total itself goes
   (the whole group, or its "percent agreeing").
3. A group's mean of a scale is hidden whenever any of its options is
   hidden: the mean is one more equation on the hidden cells.
4. Free text is never output (the frame does not even load it).

Respondents who did not report the breakdown variable are a row that is
never published; we assume an adversary could know its counts (the
conservative case), so they never hide a cell: an option's column over the
groups is treated as an exact published total whenever the overall count
of that option is published.

Tests audit the result with linear programming: for every hidden small
cell, the published figures must leave more than one value possible.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_MIN_CELL_SIZE = 10


@dataclass
class Protection:
    """What to hide in a groups-by-options table of counts."""

    cells: np.ndarray  # (G, O) bool: option cell hidden
    rows: np.ndarray  # (G,) bool: whole group hidden, n included
    top: np.ndarray  # (G,) bool: "percent agreeing" hidden
    mean: np.ndarray  # (G,) bool: mean hidden
    # Published totals of the enclosing table that this table cannot protect on its own:
    # the caller hides them there (see protect_breakdown).
    unsafe_columns: np.ndarray  # (O,) bool
    unsafe_total: bool = False


def is_small(count, k: int) -> np.ndarray:
    count = np.asarray(count)
    return (count >= 1) & (count < k)


def _gives_away(values: np.ndarray, hidden: np.ndarray, k: int) -> bool:
    """Whether a published total over these cells gives a hidden one away.

    Safe when nothing non-zero is hidden in it, or when at least two non-zero
    cells are hidden and they add up to k or more. Hidden zeros do not count
    as cover: a total of zero pins them down.
    """
    hidden_values = values[hidden]
    covering = int((hidden_values > 0).sum())
    return covering > 0 and (covering < 2 or hidden_values.sum() < k)


def _cover(values: np.ndarray, hidden: np.ndarray) -> int | None:
    """Index of the smallest non-zero published cell of a total, None if there is none."""
    candidates = [(values[i], i) for i in range(len(values)) if not hidden[i] and values[i] > 0]
    return min(candidates)[1] if candidates else None


def protect_table(counts, k: int = DEFAULT_MIN_CELL_SIZE, *, top=None, column_published=None,
                  total_published: bool = False, forced=None, forced_rows=None) -> Protection:
    """Primary and complementary suppression for one table.

    counts: (G, O) unweighted counts, groups by options (a group's n is its row sum).
    top: option indices of the "percent agreeing" boxes, for scales (None otherwise).
    column_published: (O,) whether each option's overall count is public
        (default: none is, as for the overall table itself).
    total_published: whether the overall n is public (ties the groups' n together).
    forced, forced_rows: (G, O) cells and (G,) groups to hide from the start
        (asked for by an enclosing table).
    """
    counts = np.asarray(counts, dtype=np.int64)
    n_groups, n_options = counts.shape
    column_published = (np.zeros(n_options, dtype=bool) if column_published is None
                        else np.asarray(column_published, dtype=bool))
    totals = counts.sum(axis=1)

    rows = totals < k  # a group of 0 has nothing to show and is "hidden" too
    if forced_rows is not None:
        rows |= np.asarray(forced_rows, dtype=bool)
    hidden = is_small(counts, k) | rows[:, None]
    if forced is not None:
        hidden |= np.asarray(forced, dtype=bool)
    top_set = [] if top is None else list(top)
    bottom_set = [o for o in range(n_options) if o not in top_set]
    top_hidden = rows.copy() if top_set else np.ones(n_groups, dtype=bool)
    unsafe_columns = np.zeros(n_options, dtype=bool)
    unsafe_total = False

    def hide_row(g):
        rows[g] = True
        hidden[g, :] = True
        top_hidden[g] = True

    changed = True
    while changed:
        changed = False
        # A group's options add up to its n; with "percent agreeing" published, the top
        # boxes add up to it and the others to its complement. The narrower totals come
        # first: a cell hidden there usually covers the whole row as well.
        for g in np.flatnonzero(~rows):
            lines = [top_set, bottom_set] if not top_hidden[g] else []
            for options in lines + [list(range(n_options))]:
                values, line_hidden = counts[g, options], hidden[g, options]
                if not _gives_away(values, line_hidden, k):
                    continue
                pick = _cover(values, line_hidden)
                if pick is not None:
                    hidden[g, options[pick]] = True
                elif len(options) < n_options:
                    top_hidden[g] = True  # nothing left to hide: drop "percent agreeing"
                else:
                    hide_row(g)
                changed = True
                break
        # An option's column adds up, with the respondents in no group, to its overall count.
        for o in np.flatnonzero(column_published & ~unsafe_columns):
            values, line_hidden = counts[:, o], hidden[:, o]
            if not _gives_away(values, line_hidden, k):
                continue
            pick = _cover(values, line_hidden)
            if pick is None:
                unsafe_columns[o] = True
            else:
                hidden[pick, o] = True
            changed = True
        # The groups' n add up to the overall n.
        if total_published and not unsafe_total and _gives_away(totals, rows, k):
            pick = _cover(totals, rows)
            if pick is None:
                unsafe_total = True
            else:
                hide_row(pick)
            changed = True
    mean_hidden = hidden.any(axis=1) | rows
    return Protection(cells=hidden, rows=rows, top=top_hidden, mean=mean_hidden,
                      unsafe_columns=unsafe_columns, unsafe_total=unsafe_total)


def _equations(counts, overall: Protection, groups: Protection, top) -> tuple[np.ndarray, np.ndarray]:
    """Every equality the published figures give about the groups' cells (as an adversary sees them).

    The counts of respondents in no group are assumed known, so an overall
    figure is an exact total over the groups' cells.
    """
    n_groups, n_options = counts.shape
    rows = []

    def total(mask):
        rows.append(mask.ravel().astype(np.float64))

    unit = np.zeros((n_groups, n_options), dtype=bool)
    for g in range(n_groups):
        for o in range(n_options):
            if not groups.cells[g, o]:
                one = unit.copy()
                one[g, o] = True
                total(one)
        line = unit.copy()
        if not groups.rows[g]:
            line[g, :] = True
            total(line)
        if top and not groups.top[g]:
            line = unit.copy()
            line[g, top] = True
            total(line)
    for o in range(n_options):
        if not overall.cells[0, o] and not overall.rows[0]:
            column = unit.copy()
            column[:, o] = True
            total(column)
    if not overall.rows[0]:
        total(~unit)
        if top and not overall.top[0]:
            block = unit.copy()
            block[:, top] = True
            total(block)
    a = np.array(rows).reshape(-1, counts.size)
    return a, a @ counts.ravel().astype(np.float64)


def _pinned(a, b, objective) -> bool:
    """Whether the equalities (with counts >= 0) leave the objective only one value."""
    from scipy.optimize import linprog

    bounds = [(0, None)] * len(objective)
    kwargs = {"A_eq": a, "b_eq": b} if len(b) else {}
    low = linprog(objective, bounds=bounds, **kwargs)
    high = linprog(-objective, bounds=bounds, **kwargs)
    if low.status != 0 or high.status not in (0, 3):  # 3: unbounded above, which is safe
        return True  # cannot tell: treat as given away
    return high.status == 0 and (-high.fun) - low.fun < 0.5


def exposed(counts, overall: Protection, groups: Protection, k: int, top=None) -> list:
    """Hidden small figures that the published ones pin down: ("cell", g, o), ("row", g) or ("overall", o)."""
    counts = np.asarray(counts, dtype=np.int64)
    n_groups, n_options = counts.shape
    targets = []
    for g in range(n_groups):
        for o in range(n_options):
            if groups.cells[g, o] and is_small(counts[g, o], k):
                targets.append((("cell", g, o), np.eye(1, counts.size, g * n_options + o)[0]))
        if groups.rows[g] and is_small(counts[g].sum(), k):
            mask = np.zeros(counts.shape)
            mask[g, :] = 1
            targets.append((("row", g), mask.ravel()))
    column_sums = counts.sum(axis=0)
    for o in range(n_options):
        if overall.cells[0, o] and is_small(column_sums[o], k):
            mask = np.zeros(counts.shape)
            mask[:, o] = 1
            targets.append((("overall", o), mask.ravel()))
    if not targets:
        return []
    a, b = _equations(counts, overall, groups, top)
    return [name for name, objective in targets if _pinned(a, b, objective)]


def protect_breakdown(overall_counts, group_counts, k: int = DEFAULT_MIN_CELL_SIZE,
                      top=None) -> tuple[Protection, Protection]:
    """Protect an item's overall table and one breakdown of it together.

    The overall figures are the column totals of the breakdown. The rules
    above cover one total at a time; several totals together can still pin a
    cell down (two rows and two columns, say). So the result is audited by
    linear programming, as tau-Argus's audit does: for every hidden small
    figure, the smallest and largest value the published figures allow. A
    figure with one possible value gets one more cell hidden beside it (the
    smallest non-zero published one in its row, else in its column, else its
    whole group or the overall figure goes) and the rules run again, until
    nothing is given away. Tables here are a few groups by a few options, so
    each audit is a handful of small linear programmes.
    """
    overall_counts = np.asarray(overall_counts, dtype=np.int64)[None, :]
    group_counts = np.asarray(group_counts, dtype=np.int64)
    forced_overall = np.zeros_like(overall_counts, dtype=bool)
    hide_all = np.zeros(1, dtype=bool)
    forced = np.zeros_like(group_counts, dtype=bool)
    forced_rows = np.zeros(len(group_counts), dtype=bool)
    while True:
        overall = protect_table(overall_counts, k, top=top, forced=forced_overall, forced_rows=hide_all)
        groups = protect_table(group_counts, k, top=top, forced=forced, forced_rows=forced_rows,
                               column_published=~overall.cells[0] & ~overall.rows[0],
                               total_published=not overall.rows[0])
        if groups.unsafe_total and not overall.rows[0]:
            hide_all[0] = True
            continue
        if (groups.unsafe_columns & ~overall.cells[0]).any():
            forced_overall[0] |= groups.unsafe_columns
            continue
        leaks = exposed(group_counts, overall, groups, k, top)
        if not leaks:
            return overall, groups
        leak = leaks[0]
        if leak[0] == "cell":
            _, g, o = leak
            row = _cover(group_counts[g], groups.cells[g])
            column = _cover(group_counts[:, o], groups.cells[:, o])
            if row is not None:
                forced[g, row] = True
            elif column is not None:
                forced[column, o] = True
            else:
                forced_rows[g] = True
        elif leak[0] == "row":
            pick = _cover(group_counts.sum(axis=1), groups.rows)
            if pick is None:
                hide_all[0] = True
            else:
                forced_rows[pick] = True
        else:
            _, o = leak
            pick = _cover(overall_counts[0], overall.cells[0])
            if pick is None:
                hide_all[0] = True
            else:
                forced_overall[0, pick] = True
