"""Disclosure control: primary and complementary suppression, audited by linear programming.

The audit is a second, independent method: it writes down every equation the
published figures give an adversary (published cells, group totals, the
top-two-box sums, column totals, the overall n) and asks an LP solver for the
smallest and largest value each hidden small cell could take. A hidden cell
that has only one possible value has been given away.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from survey_app.analysis.disclosure import is_small, protect_breakdown, protect_table


def published_equations(counts, protection, top, column_totals, total_published, overall_top=False):
    """(A, b) of every equality an adversary can write about the groups' cells."""
    n_groups, n_options = counts.shape
    rows, values = [], []

    def add(cells):
        row = np.zeros(counts.size)
        for g, o in cells:
            row[g * n_options + o] = 1
        rows.append(row)
        values.append(sum(counts[c] for c in cells))

    for g in range(n_groups):
        for o in range(n_options):
            if not protection.cells[g, o]:
                add([(g, o)])
        if not protection.rows[g]:
            add([(g, o) for o in range(n_options)])
        if top and not protection.top[g]:
            add([(g, o) for o in top])
    for o in range(n_options):
        if column_totals[o]:
            add([(g, o) for g in range(n_groups)])
    if total_published:
        add([(g, o) for g in range(n_groups) for o in range(n_options)])
    if overall_top:
        add([(g, o) for g in range(n_groups) for o in top])
    return np.array(rows).reshape(-1, counts.size), np.array(values, dtype=float)


def value_range(A, b, objective):
    bounds = [(0, None)] * len(objective)
    low = linprog(objective, A_eq=A if len(b) else None, b_eq=b if len(b) else None, bounds=bounds)
    high = linprog(-objective, A_eq=A if len(b) else None, b_eq=b if len(b) else None, bounds=bounds)
    assert low.status == 0 and high.status in (0, 3)  # 3: unbounded above, which is safe
    return low.fun, (np.inf if high.status == 3 else -high.fun)


def assert_protected(counts, protection, k, top=None, column_totals=None, total_published=False,
                     overall=None):
    counts = np.asarray(counts)
    n_groups, n_options = counts.shape
    column_totals = np.zeros(n_options, bool) if column_totals is None else column_totals
    # Primary: nothing published rests on, or is, a small count.
    shown = ~protection.cells
    assert not (is_small(counts, k) & shown).any(), "a small cell is published"
    totals = counts.sum(axis=1)
    assert not ((totals < k) & ~protection.rows).any(), "a small group is published"
    if top:
        top_counts = counts[:, top].sum(axis=1)
        published_top = ~protection.top
        assert not (is_small(top_counts, k) & published_top).any()
        assert not (is_small(totals - top_counts, k) & published_top).any()
    assert (protection.mean >= protection.cells.any(axis=1)).all()
    # Complementary: no hidden small cell (or small group) is pinned down by what is published.
    overall_top = bool(top) and overall is not None and not overall.top[0]
    A, b = published_equations(counts, protection, top, column_totals, total_published, overall_top)
    if overall is not None:  # the overall table's hidden small cells are column sums here
        for o in range(n_options):
            if overall.cells[0, o] and is_small(counts[:, o].sum(), k):
                objective = np.zeros(counts.size)
                objective[o::n_options] = 1
                low, high = value_range(A, b, objective)
                assert high - low > 0.5, f"hidden overall cell {o} of\n{counts}\nis given away"
    for g in range(n_groups):
        targets = [[(g, o)] for o in range(n_options) if protection.cells[g, o] and is_small(counts[g, o], k)]
        if protection.rows[g] and is_small(totals[g], k):
            targets.append([(g, o) for o in range(n_options)])
        for cells in targets:
            objective = np.zeros(counts.size)
            for gg, o in cells:
                objective[gg * n_options + o] = 1
            low, high = value_range(A, b, objective)
            assert high - low > 0.5, f"hidden cell {cells} of\n{counts}\nis given away ({low}..{high})"


def test_by_hand_single_group():
    # Options 1..5 of one group; k = 10. 4 "strongly disagree" is small: hidden, and the
    # smallest other non-zero option (12) too, or the total would give it away.
    counts = np.array([[4, 12, 30, 50, 20]])
    p = protect_table(counts, 10)
    assert p.cells.tolist() == [[True, True, False, False, False]]
    assert not p.rows[0] and p.mean[0]


def test_zero_is_published_and_not_used_as_cover():
    counts = np.array([[0, 3, 40, 0, 25]])
    p = protect_table(counts, 10)
    assert p.cells.tolist() == [[False, True, False, False, True]]  # 25 covers 3, not a zero


def test_top_box_complement():
    # "Percent agreeing" (options 4 and 5) is published: 5 hidden in the top boxes needs a
    # second hidden cell among the top boxes; the bottom boxes need nothing.
    counts = np.array([[20, 30, 40, 5, 50]])
    p = protect_table(counts, 10, top=[3, 4])
    assert p.cells.tolist() == [[False, False, False, True, True]]
    assert not p.top[0]
    assert_protected(counts, p, 10, top=[3, 4])


def test_small_group_hidden_with_a_complementary_group():
    # Three districts; the overall n is published, so hiding only the 6-respondent district
    # would let n be recovered by subtraction: the next smallest district goes too.
    counts = np.array([[40, 60], [2, 4], [30, 25]])
    p = protect_table(counts, 10, total_published=True, column_published=np.array([True, True]))
    assert p.rows.tolist() == [False, True, True]
    assert_protected(counts, p, 10, column_totals=np.array([True, True]), total_published=True)


def test_column_total_needs_a_second_hidden_group():
    counts = np.array([[50, 7], [60, 40], [45, 30]])
    column = np.array([True, True])
    p = protect_table(counts, 10, column_published=column, total_published=True)
    assert p.cells[0, 1] and p.cells[0].sum() == 2
    assert p.cells[:, 1].sum() >= 2
    assert_protected(counts, p, 10, column_totals=column, total_published=True)


def test_k_is_per_survey():
    counts = np.array([[4, 12, 30]])
    assert protect_table(counts, 3).cells.sum() == 0
    assert protect_table(counts, 5).cells.sum() == 2
    assert protect_table(counts, 13).cells.sum() == 2


small_counts = st.integers(0, 40).map(lambda x: x if x < 25 else x * 3)


@st.composite
def tables(draw):
    n_groups = draw(st.integers(1, 5))
    n_options = draw(st.integers(2, 5))
    counts = np.array(draw(st.lists(st.lists(small_counts, min_size=n_options, max_size=n_options),
                                    min_size=n_groups, max_size=n_groups)))
    k = draw(st.integers(2, 12))
    top = draw(st.one_of(st.none(), st.just([n_options - 2, n_options - 1])))
    return counts, k, top


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_property_no_small_cell_is_published_or_given_away(table):
    counts, k, top = table
    # The overall table and the breakdown, protected together as the pipeline does; the
    # overall figures that stay published are the breakdown's column totals.
    overall, p = protect_breakdown(counts.sum(axis=0), counts, k, top=top)
    assert_protected(counts.sum(axis=0)[None, :], overall, k, top=top)
    columns = ~overall.cells[0] & ~overall.rows[0]
    assert_protected(counts, p, k, top=top, column_totals=columns, total_published=not overall.rows[0],
                     overall=overall)


@pytest.mark.parametrize("seed", range(5))
def test_larger_random_tables(seed):
    # Eight districts by a 5-point scale, a mix of small and large groups.
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.choice([3, 15, 60], size=(8, 5)))
    overall, p = protect_breakdown(counts.sum(axis=0), counts, 10, top=[3, 4])
    columns = ~overall.cells[0] & ~overall.rows[0]
    assert_protected(counts, p, 10, top=[3, 4], column_totals=columns,
                     total_published=not overall.rows[0], overall=overall)
    assert (~p.cells).sum() > 0  # something is still published
