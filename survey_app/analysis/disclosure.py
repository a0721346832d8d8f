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

The code's own audit (``exposed``, ``version_leaks``) asks the same question
another way: a figure has one possible value exactly when it is a
combination of the published equations and of the counts that are 0 at
every solution (``_affine_hull``), so each audit is a few LPs and one
projection per figure instead of two LPs per figure.
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
                  total_published: bool = False, forced=None, forced_rows=None, forced_top=None) -> Protection:
    """Primary and complementary suppression for one table.

    counts: (G, O) unweighted counts, groups by options (a group's n is its row sum).
    top: option indices of the "percent agreeing" boxes, for scales (None otherwise).
    column_published: (O,) whether each option's overall count is public
        (default: none is, as for the overall table itself).
    total_published: whether the overall n is public (ties the groups' n together).
    forced, forced_rows, forced_top: (G, O) cells, (G,) groups and (G,) "percent agreeing"
        to hide from the start (asked for by an enclosing table, or by an earlier version).
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
    if forced_top is not None:
        top_hidden |= np.asarray(forced_top, dtype=bool)
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
    hull = _affine_hull(a, b, counts.size)
    if hull is None:  # cannot tell: treat as given away
        return [name for name, _ in targets]
    return [name for name, objective in targets if hull.constant(objective)]


def protect_breakdown(overall_counts, group_counts, k: int = DEFAULT_MIN_CELL_SIZE,
                      top=None, earlier=(), n_responses: int | None = None,
                      whole_rows: bool = False) -> tuple[Protection, Protection]:
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
    each audit is a few small linear programmes and one projection per figure
    (``_affine_hull``).

    earlier: what the survey's earlier public versions published about this
    same table (``Release``, oldest first); ``n_responses`` is the survey's N
    now. With them, the result must also pass the differencing rule
    (``version_leaks``): whatever the new version would let anyone work out
    together with them gets more hidden in the new version, the same way.
    whole_rows: a group's figures are published as one record (multiple
    choice: chosen and not chosen), so a group shows its cells only if none is hidden.
    """
    overall_counts = np.asarray(overall_counts, dtype=np.int64)[None, :]
    group_counts = np.asarray(group_counts, dtype=np.int64)
    forced_overall = np.zeros_like(overall_counts, dtype=bool)
    hide_all = np.zeros(1, dtype=bool)
    forced_overall_top = np.zeros(1, dtype=bool)
    forced = np.zeros_like(group_counts, dtype=bool)
    forced_rows = np.zeros(len(group_counts), dtype=bool)
    forced_top = np.zeros(len(group_counts), dtype=bool)

    def hide(figure: tuple) -> None:
        kind = figure[0]
        if kind == "cell":
            forced[figure[1], figure[2]] = True
        elif kind == "row":
            forced_rows[figure[1]] = True
        elif kind == "top":
            forced_top[figure[1]] = True
        elif kind == "overall":
            forced_overall[0, figure[1]] = True
        elif kind == "overall_top":
            forced_overall_top[0] = True
        else:  # the item's n
            hide_all[0] = True

    # Primary differencing: a figure an earlier version published that moved by 1 to k - 1 is not
    # published again (the audit below would find each of them, one pass at a time).
    now = _true_figures(overall_counts[0], group_counts, top)
    for release in earlier:
        for name, value in published_figures(release).items():
            if name in now and is_small(abs(now[name] - value), k):
                hide(name)
    while True:
        overall = protect_table(overall_counts, k, top=top, forced=forced_overall, forced_rows=hide_all,
                                forced_top=forced_overall_top)
        groups = protect_table(group_counts, k, top=top, forced=forced, forced_rows=forced_rows,
                               forced_top=forced_top,
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
            if not earlier:
                return overall, groups
            new = release_of(overall_counts[0], group_counts, overall, groups, top, n_responses or 0,
                             whole_rows=whole_rows)
            changes = version_leaks(list(earlier) + [new], k, top)
            if not changes:
                return overall, groups
            # One figure against each leak found, all in one pass (fewer passes, each an audit).
            figures = {_figure_to_hide(change, new, top) for change in changes}
            if None in figures:  # nothing of the table left to hide: nothing of it is published
                return _everything_hidden(overall, groups)
            for figure in figures:
                hide(figure)
            continue
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


def protect_whole(overall_counts, group_counts, k: int = DEFAULT_MIN_CELL_SIZE, earlier=(), *,
                  blocked_overall: bool = False, blocked_groups: bool = False,
                  row_sizes: int = 1) -> tuple[Protection, Protection]:
    """Protect a table whose figures are published whole or not at all (a ranking's mean ranks,
    which together tell every count of its table): the overall row, and the breakdown's groups
    together, are published only if every count in them is 0 or at least k and none moved by
    1 to k - 1 since an earlier version that published it (``earlier``: ``Release``s, NaN where
    a version published nothing); nor are the groups when the overall row is not (it is their
    sum with the respondents in no group). Changes are checked cell by cell and for the sums
    that mean a number of people: a group's n (each of its ``row_sizes`` equal parts adds up to
    it), and the total over groups.

    ``blocked_overall`` / ``blocked_groups``: another table of the item hid something there, and
    these figures would tell it. A group's n is never hidden here (``rows``): it is the item's
    other tables' to protect. Unlike ``protect_breakdown`` nothing is hidden cell by cell, so no
    audit is needed: a published table has no small count, and every count it tells is published.
    """
    overall_counts = np.asarray(overall_counts, dtype=np.int64).reshape(1, -1)
    group_counts = np.asarray(group_counts, dtype=np.int64).reshape(-1, overall_counts.shape[1])

    def people(counts: np.ndarray) -> np.ndarray:
        """Per row: each cell, then the row's n (its cells / row_sizes)."""
        return np.column_stack([counts, counts.sum(axis=1) / row_sizes])

    def safe(counts: np.ndarray, earlier_counts: list[np.ndarray]) -> bool:
        if is_small(counts, k).any():
            return False
        now = people(counts.astype(np.float64))
        for then in earlier_counts:
            if np.isnan(then).all():
                continue  # that version showed nothing of this table
            if then.shape != counts.shape:
                return False  # the table changed shape since (an option added): not comparable, not shown
            change = np.abs(now - people(then))
            if is_small(change[~np.isnan(change)], k).any():
                return False
        return True

    overall_ok = not blocked_overall and safe(overall_counts, [r.overall.reshape(1, -1) for r in earlier])
    groups_ok = (overall_ok and not blocked_groups and safe(group_counts, [r.cells for r in earlier])
                 and safe(group_counts.sum(axis=0, keepdims=True),
                          [r.cells.sum(axis=0, keepdims=True) for r in earlier]))

    def protection(counts: np.ndarray, shown: bool) -> Protection:
        n = len(counts)
        return Protection(cells=np.full(counts.shape, not shown), rows=np.zeros(n, dtype=bool),
                          top=np.ones(n, dtype=bool), mean=np.full(n, not shown),
                          unsafe_columns=np.zeros(counts.shape[1], dtype=bool))

    return protection(overall_counts, overall_ok), protection(group_counts, groups_ok)


def _true_figures(overall_counts, group_counts, top) -> dict:
    """The values of every figure a version of this table could publish (see ``published_figures``)."""
    n_groups, n_options = group_counts.shape
    out = {("cell", g, o): int(group_counts[g, o]) for g in range(n_groups) for o in range(n_options)}
    out.update({("row", g): int(group_counts[g].sum()) for g in range(n_groups)})
    out.update({("overall", o): int(overall_counts[o]) for o in range(n_options)})
    out[("total",)] = int(overall_counts.sum())
    if top:
        out.update({("top", g): int(group_counts[g, top].sum()) for g in range(n_groups)})
        out[("overall_top",)] = int(overall_counts[top].sum())
    return out


def _everything_hidden(overall: Protection, groups: Protection) -> tuple[Protection, Protection]:
    def hidden(p: Protection) -> Protection:
        n = len(p.rows)
        return Protection(cells=np.ones_like(p.cells), rows=np.ones(n, dtype=bool), top=np.ones(n, dtype=bool),
                          mean=np.ones(n, dtype=bool), unsafe_columns=p.unsafe_columns, unsafe_total=p.unsafe_total)
    return hidden(overall), hidden(groups)


# Differencing between published versions
# ----------------------------------------
#
# Every published version of a survey stays public (a withdrawn one too: it was public once),
# so an adversary holds all of them at once. The difference between two versions is itself a
# table, of the respondents who came (or went) in between, and it must pass the same rule as
# any table (statistical agencies' differencing rule): no count of 1 to k - 1 respondents in
# it may be published or worked out, overall or in any group or cell.
#
# The survey's N is published in every version, so a change of N by 1 to k - 1 would give the
# newcomers away in every table at once: publishing is refused then (``responses_needed``).
# Past that, each table (an item's overall row and one breakdown of it) is audited with every
# earlier version at once, by linear programming over the counts of all versions: variables
# are each version's cells (groups by options, plus one row for the respondents in no group,
# whose counts are never published), constraints are what each version publishes, and
# targets are the change of every cell, group n, "percent agreeing" (and its complement),
# overall count and item n between the new version and each earlier one. Versions are linked
# as a careful adversary would link them: where N grew from one version to another, every
# cell is assumed to have grown or stayed (responses added only; where N fell, shrunk or
# stayed), which is true in the usual case and pins far more down than versions taken one at
# a time; where the published figures contradict that (responses were removed as well), the
# adversary sees it and drops that link (see ``_system``). A change
# pinned to 1 to k - 1 (either way) gets one more figure of the new version hidden, the
# smallest published one that it rests on, and the whole protection runs again. The audit
# also looks at what the versions together pin down about an earlier version's own hidden
# cells or the change between two earlier versions, when the new version is what pins it.


@dataclass
class Release:
    """What one published version says about one table, as unweighted counts; NaN where nothing is.

    The table is an item's overall row and one breakdown of it (no groups for the item on its
    own). Options are the item's estimated options; for multiple choice one option's
    (chosen, not chosen); for numbers and indices one column (answered).
    """

    n_responses: int  # the survey's N in that version: which way responses moved
    cells: np.ndarray  # (G, O)
    rows: np.ndarray  # (G,) a group's n
    tops: np.ndarray  # (G,) a group's count in the top boxes ("percent agreeing")
    overall: np.ndarray  # (O,)
    total: float  # the item's n
    overall_top: float


def release_of(overall_counts, group_counts, overall: Protection, groups: Protection, top,
               n_responses: int, whole_rows: bool = False) -> Release:
    """The release of a table that ``protect_breakdown`` protected (what its records will publish)."""
    overall_counts = np.asarray(overall_counts, dtype=np.float64).reshape(-1)
    group_counts = np.asarray(group_counts, dtype=np.float64)
    cell_hidden = groups.cells | groups.rows[:, None]
    if whole_rows:
        cell_hidden = cell_hidden | cell_hidden.any(axis=1, keepdims=True)
    overall_hidden = overall.cells[0] | overall.rows[0]
    if whole_rows:
        overall_hidden = overall_hidden | overall_hidden.any()
    no_top = np.full(len(group_counts), np.nan)
    tops = no_top if not top else np.where(groups.top | groups.rows, np.nan, group_counts[:, top].sum(axis=1))
    return Release(
        n_responses=int(n_responses),
        cells=np.where(cell_hidden, np.nan, group_counts),
        rows=np.where(groups.rows, np.nan, group_counts.sum(axis=1)),
        tops=tops,
        overall=np.where(overall_hidden, np.nan, overall_counts),
        total=np.nan if overall.rows[0] else float(overall_counts.sum()),
        overall_top=(np.nan if not top or overall.top[0] or overall.rows[0]
                     else float(overall_counts[top].sum())))


_RANK = {"cell": 0, "top": 1, "row": 2, "overall": 3, "overall_top": 4, "total": 5}


def figure_masks(n_groups: int, n_options: int, top=None) -> dict:
    """Every count the rule protects, by name, as a mask over (groups + 1) x options cells.

    Row ``n_groups`` holds the respondents in no group. Names: ("cell", g, o), ("row", g),
    ("top", g), ("bottom", g), ("overall", o), ("total",), ("overall_top",), ("overall_bottom",).
    """
    shape = (n_groups + 1, n_options)
    masks = {}

    def add(name, rows=slice(None), columns=slice(None)):
        mask = np.zeros(shape, dtype=bool)
        mask[rows, columns] = True
        masks[name] = mask
        return mask

    for g in range(n_groups + 1):
        for o in range(n_options):
            add(("cell", g, o), g, o)
        add(("row", g), g)
        if top:
            add(("top", g), g, list(top))
            masks[("bottom", g)] = masks[("row", g)] & ~masks[("top", g)]
    for o in range(n_options):
        add(("overall", o), slice(None), o)
    add(("total",))
    if top:
        add(("overall_top",), slice(None), list(top))
        masks[("overall_bottom",)] = ~masks[("overall_top",)]
    return masks


def published_figures(release: Release) -> dict:
    """The release's published counts by figure name (see ``figure_masks``)."""
    n_groups, n_options = release.cells.shape
    out = {}
    for g in range(n_groups):
        for o in range(n_options):
            if not np.isnan(release.cells[g, o]):
                out[("cell", g, o)] = float(release.cells[g, o])
        if not np.isnan(release.rows[g]):
            out[("row", g)] = float(release.rows[g])
        if not np.isnan(release.tops[g]):
            out[("top", g)] = float(release.tops[g])
    for o in range(n_options):
        if not np.isnan(release.overall[o]):
            out[("overall", o)] = float(release.overall[o])
    if not np.isnan(release.total):
        out[("total",)] = float(release.total)
    if not np.isnan(release.overall_top):
        out[("overall_top",)] = float(release.overall_top)
    return out


def version_leaks(releases: list[Release], k: int, top=None) -> list[tuple]:
    """What the versions together pin to 1 to k - 1 that needs the last (new) one to be pinned.

    ``releases``: one table's releases, oldest first, the new version last (see the
    section comment above). Returns ("change", i, j, figure) for the change of a figure from
    version i to version j (positions in ``releases``) and ("count", i, figure) for a hidden
    figure of one version, in the order found.
    """
    return _leaks(releases, k, top, involving_last=True)


def _system(releases: list[Release], masks: dict):
    """The counts of all versions as an adversary sees them: the ``_Hull`` of their polyhedron.

    Published figures are equations; a link between versions i < j (where N moved) says every
    cell moved the way N did: step * (x[j] - x[i]) - s = 0 with slacks s >= 0. Links are taken
    as a careful adversary would: all of them if the figures allow, else one by one, nearest
    versions first, each kept if the figures still allow it. Returns None only if the figures
    contradict each other (which one survey's releases never do).
    """
    n_cells = next(iter(masks.values())).size
    n_versions = len(releases)
    rows, values = [], []
    for v, release in enumerate(releases):
        for name, value in published_figures(release).items():
            row = np.zeros(n_versions * n_cells)
            row[v * n_cells:(v + 1) * n_cells] = masks[name].ravel()
            rows.append(row)
            values.append(value)
    a_published = np.array(rows).reshape(-1, n_versions * n_cells)
    b_published = np.array(values, dtype=np.float64)
    pairs = sorted(((i, j) for i in range(n_versions) for j in range(i + 1, n_versions)
                    if releases[j].n_responses != releases[i].n_responses), key=lambda p: (p[1] - p[0], p))

    def with_links(links):
        if not links:
            return a_published, b_published
        n_slacks = len(links) * n_cells
        a = np.zeros((len(b_published) + n_slacks, n_versions * n_cells + n_slacks))
        a[:len(b_published), :n_versions * n_cells] = a_published
        row = len(b_published)
        for i, j in links:
            step = np.sign(releases[j].n_responses - releases[i].n_responses)
            for c in range(n_cells):
                a[row, i * n_cells + c] = -step
                a[row, j * n_cells + c] = step
                a[row, n_versions * n_cells + row - len(b_published)] = -1
                row += 1
        return a, np.concatenate([b_published, np.zeros(n_slacks)])

    hull = _affine_hull(*with_links(pairs), n_versions * n_cells) if pairs else None
    if hull is not None:
        return hull
    links = []
    for pair in pairs:
        if _feasible(*with_links(links + [pair])):
            links.append(pair)
    return _affine_hull(*with_links(links), n_versions * n_cells)


def _feasible(a: np.ndarray, b: np.ndarray) -> bool:
    from scipy.optimize import linprog

    if not len(b):
        return True
    return linprog(np.zeros(a.shape[1]), A_eq=a, b_eq=b, bounds=(0, None), method="highs").status == 0


def _affine_hull(a: np.ndarray, b: np.ndarray, n_counts: int):
    """The functionals constant on {x >= 0, a x = b} (``_Hull``), None if it is empty.

    A functional is constant on a polyhedron exactly when it lies in the row space of its
    equations together with its implicit equalities (the variables that are 0 at every
    point). Those are found by linear programming, as in Freund, Roundy and Todd (1985):
    maximise sum(t) with 0 <= t <= 1 and t <= x over the variables not yet seen positive;
    every variable positive in the answer can be positive, and an optimum of 0 proves the
    rest are always 0. Then every target is one projection, instead of two LPs each.
    Variables past ``n_counts`` are slacks, which no target involves: an equation with a slack
    that can be positive says nothing about the counts, and one whose slack is always 0
    is an equation of counts; so the rows are over the counts alone (a smaller matrix).
    """
    from scipy.optimize import linprog

    n = a.shape[1]
    remaining = np.ones(n, dtype=bool)
    point = None
    while remaining.any():
        m = int(remaining.sum())
        a_ub = np.zeros((m, n + m))  # t_j - x_j <= 0
        a_ub[np.arange(m), np.flatnonzero(remaining)] = -1
        a_ub[np.arange(m), n + np.arange(m)] = 1
        a_eq = np.hstack([a, np.zeros((len(b), m))]) if len(b) else None
        result = linprog(np.concatenate([np.zeros(n), -np.ones(m)]), A_ub=a_ub, b_ub=np.zeros(m),
                         A_eq=a_eq, b_eq=b if len(b) else None,
                         bounds=[(0, None)] * n + [(0, 1)] * m, method="highs")
        if result.status != 0:
            return None
        x = result.x[:n]
        point = x if point is None else point
        positive = remaining & (x > 1e-9)
        if -result.fun < 1e-9 or not positive.any():
            break
        remaining &= ~positive
    free_slack = ~remaining[n_counts:]
    equations = a[~(a[:, n_counts:][:, free_slack] != 0).any(axis=1), :n_counts] if len(a) else a[:, :n_counts]
    zeros = np.eye(n_counts)[remaining[:n_counts]]
    return _Hull(*_reduced_rows(np.vstack([equations, zeros])), point[:n_counts])


@dataclass
class _Hull:
    """The functionals constant on a polyhedron: reduced row echelon rows and their pivot columns."""

    rows: np.ndarray
    pivots: list
    point: np.ndarray  # one point of it

    def constant(self, objective: np.ndarray) -> bool:
        """Whether the objective takes one value only (it is a combination of the rows)."""
        residual = objective - (objective[self.pivots][:, None] * self.rows).sum(axis=0)
        return bool(np.abs(residual).max() <= 1e-7) if len(residual) else True


def _reduced_rows(m: np.ndarray) -> tuple[np.ndarray, list]:
    """Gauss-Jordan elimination with partial pivoting, in plain elementwise numpy: these matrices
    are small, and LAPACK's threads cost far more than the arithmetic on a busy server."""
    m = np.array(m, dtype=np.float64)
    pivots = []
    r = 0
    for c in range(m.shape[1]):
        if r == len(m):
            break
        column = np.abs(m[r:, c])
        i = int(column.argmax()) if len(column) else 0
        if not len(column) or column[i] < 1e-9:
            continue
        m[[r, r + i]] = m[[r + i, r]]
        m[r] /= m[r, c]
        factors = m[:, c].copy()
        factors[r] = 0
        m -= factors[:, None] * m[r][None, :]
        pivots.append(c)
        r += 1
    return m[:r], pivots


def _leaks(releases: list[Release], k: int, top, involving_last: bool) -> list[tuple]:
    n_groups, n_options = releases[-1].cells.shape
    masks = figure_masks(n_groups, n_options, top)
    n_cells = (n_groups + 1) * n_options
    n_versions = len(releases)
    figures = [published_figures(r) for r in releases]
    # Counts of the respondents in no group are never published, and one version's own
    # protection already treats them as known: only their changes are targets here.
    own = [name for name in masks if not (len(name) > 1 and name[0] in ("cell", "row", "top", "bottom")
                                          and name[1] == n_groups)]
    targets = []
    last = n_versions - 1
    for i in range(n_versions):
        for j in range(i + 1, n_versions):
            targets += [(("change", i, j, name), i, j, name) for name in masks]
    for i in range(n_versions):
        # A published figure is not small (one version's own rule): only hidden ones are targets.
        targets += [(("count", i, name), None, i, name) for name in own if name not in figures[i]]
    system = None
    found = []
    for label, i, j, name in targets:
        if i is not None and name in figures[i] and name in figures[j]:
            value = figures[j][name] - figures[i][name]  # published in both: known exactly
        else:
            if system is None:
                system = _system(releases, masks)
                if system is None:  # contradictory releases: assume the worst
                    return [("inconsistent", last, ("total",))]
            objective = np.zeros(n_versions * n_cells)
            objective[j * n_cells:(j + 1) * n_cells] += masks[name].ravel()
            if i is not None:
                objective[i * n_cells:(i + 1) * n_cells] -= masks[name].ravel()
            if not system.constant(objective):
                continue  # more than one value possible
            value = round(float((objective * system.point).sum()))
        if 1 <= abs(value) < k:
            found.append(label)
    if involving_last:
        # What the earlier versions pin down without the new one is not its doing (and it
        # cannot undo it): only what needs the new version counts.
        earlier_only = [f for f in found if _versions_of(f)[-1] != last]
        if earlier_only:
            before = set(_leaks(releases[:-1], k, top, involving_last=False)) if last > 0 else set()
            found = [f for f in found if _versions_of(f)[-1] == last or f not in before]
    return found


def _versions_of(label: tuple) -> tuple:
    return label[1:-1]


def _figure_to_hide(leak: tuple, new: Release, top) -> tuple | None:
    """The published figure of the new version to hide next against a leak: the figure itself
    if it is published, else the smallest published one over the same respondents."""
    name = leak[-1]
    n_groups, n_options = new.cells.shape
    masks = figure_masks(n_groups, n_options, top)
    published = published_figures(new)
    if name in published:
        return name
    overlapping = [(_RANK[f[0]], value == 0, value, f) for f, value in published.items()
                   if (masks[f] & masks[name]).any()]
    return min(overlapping)[3] if overlapping else None
