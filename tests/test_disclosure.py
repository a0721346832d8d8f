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

from survey_app.analysis.disclosure import is_small, protect_breakdown, protect_table, release_of, version_leaks


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


# --- Sequences of versions: the differencing rule -------------------------------------------
#
# The oracle below is written apart from disclosure.version_leaks: it reads what each version
# publishes straight from the protections, and asks scipy's LP solver for the smallest and
# largest value of every figure's change (two LPs per figure), where the code under test
# projects onto the constant functionals of the same polyhedron.

def figures_of(n_groups, n_options, top):
    """Every protected count as a mask over (groups + no group) x options."""
    shape = (n_groups + 1, n_options)
    out = {}
    for g in range(n_groups + 1):
        for o in range(n_options):
            m = np.zeros(shape, bool)
            m[g, o] = True
            out[("cell", g, o)] = m
        m = np.zeros(shape, bool)
        m[g] = True
        out[("row", g)] = m
        if top:
            t = np.zeros(shape, bool)
            t[g, top] = True
            out[("top", g)] = t
            out[("bottom", g)] = m & ~t
    for o in range(n_options):
        m = np.zeros(shape, bool)
        m[:, o] = True
        out[("overall", o)] = m
    out[("total",)] = np.ones(shape, bool)
    if top:
        m = np.zeros(shape, bool)
        m[:, top] = True
        out[("overall_top",)] = m
        out[("overall_bottom",)] = ~m
    return out


def what_is_published(full, overall, groups, top):
    """(mask, value) of every published count of one version; ``full`` has the no-group row last."""
    n_groups = full.shape[0] - 1
    masks = figures_of(n_groups, full.shape[1], top)
    names = []
    for g in range(n_groups):
        if groups.rows[g]:
            continue
        names.append(("row", g))
        names += [("cell", g, o) for o in range(full.shape[1]) if not groups.cells[g, o]]
        if top and not groups.top[g]:
            names.append(("top", g))
    if not overall.rows[0]:
        names.append(("total",))
        names += [("overall", o) for o in range(full.shape[1]) if not overall.cells[0, o]]
        if top and not overall.top[0]:
            names.append(("overall_top",))
    return {name: (masks[name], int(full[masks[name]].sum())) for name in names}


def assert_versions_protected(fulls, published, k, top):
    """Nothing of 1 to k - 1 is published or can be worked out from all the versions together,
    linked (cell by cell, either way) wherever that is true of the counts."""
    n_versions = len(fulls)
    shape = fulls[0].shape
    size = fulls[0].size
    masks = figures_of(shape[0] - 1, shape[1], top)
    a_eq, b_eq, a_ub = [], [], []
    for v, figures in enumerate(published):
        for mask, value in figures.values():
            row = np.zeros(n_versions * size)
            row[v * size:(v + 1) * size] = mask.ravel()
            a_eq.append(row)
            b_eq.append(value)
    for i in range(n_versions):
        for j in range(i + 1, n_versions):
            change = (fulls[j] - fulls[i]).ravel()
            for sign in (1, -1):
                if (sign * change >= 0).all():  # every cell moved one way: an adversary may assume it
                    for c in range(size):
                        row = np.zeros(n_versions * size)
                        row[i * size + c], row[j * size + c] = sign, -sign
                        a_ub.append(row)
                    break
    a_eq, b_eq = np.array(a_eq).reshape(-1, n_versions * size), np.array(b_eq, float)
    a_ub = np.array(a_ub).reshape(-1, n_versions * size)
    kwargs = dict(A_eq=a_eq if len(b_eq) else None, b_eq=b_eq if len(b_eq) else None,
                  A_ub=a_ub if len(a_ub) else None, b_ub=np.zeros(len(a_ub)) if len(a_ub) else None,
                  bounds=[(0, None)] * (n_versions * size))

    def pinned(objective):
        low = linprog(objective, **kwargs)
        high = linprog(-objective, **kwargs)
        assert low.status in (0, 3) and high.status in (0, 3)  # 3: unbounded, which is safe
        return low.status == 0 and high.status == 0 and -high.fun - low.fun < 0.5

    for i in range(n_versions):
        for j in range(i + 1, n_versions):
            for name, mask in masks.items():
                change = int(fulls[j][mask].sum() - fulls[i][mask].sum())
                if not is_small(abs(change), k):
                    continue
                if name in published[i] and name in published[j]:
                    raise AssertionError(f"{name} changed by {change} from version {i} to {j}, both published")
                objective = np.zeros(n_versions * size)
                objective[j * size:(j + 1) * size] += mask.ravel()
                objective[i * size:(i + 1) * size] -= mask.ravel()
                assert not pinned(objective), f"the change of {name} from version {i} to {j} ({change}) is given away"
    for v in range(n_versions):  # one version's own hidden small cells and groups, helped by the others
        for name, mask in masks.items():
            if name[0] not in ("cell", "row", "overall") or (name[0] != "overall" and name[1] == shape[0] - 1):
                continue
            if name in published[v] or not is_small(fulls[v][mask].sum(), k):
                continue
            objective = np.zeros(n_versions * size)
            objective[v * size:(v + 1) * size] = mask.ravel()
            assert not pinned(objective), f"{name} of version {v} ({fulls[v][mask].sum()}) is given away"


@st.composite
def version_sequences(draw):
    """A table (groups, the respondents in no group, options) and the changes between versions:
    responses added, removed, or both."""
    n_groups = draw(st.integers(1, 3))
    n_options = draw(st.integers(2, 4))
    k = draw(st.integers(3, 10))
    top = draw(st.one_of(st.none(), st.just([n_options - 2, n_options - 1])))
    cell = st.integers(0, 30).map(lambda x: x if x < 20 else x * 2)
    first = np.array(draw(st.lists(st.lists(cell, min_size=n_options, max_size=n_options),
                                   min_size=n_groups + 1, max_size=n_groups + 1)))
    first[-1] = np.minimum(first[-1], 4)  # few respondents in no group
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["add", "add", "remove", "both"]))
        change = st.integers(0, 12).map(lambda x: x if x < 9 else 3 * x)
        grid = st.lists(st.lists(change, min_size=n_options, max_size=n_options),
                        min_size=n_groups + 1, max_size=n_groups + 1)
        added = np.array(draw(grid)) if kind in ("add", "both") else np.zeros_like(first)
        removed = np.array(draw(grid)) if kind in ("remove", "both") else np.zeros_like(first)
        steps.append((added, removed))
    return first, steps, k, top


def publish_sequence(first, steps, k, top):
    """Publish the first table and each changed one that the rule on N lets through, every one
    protected against those before it, as the pipeline does; (counts, what each published)."""
    fulls, published, releases = [], [], []
    current = first
    for added, removed in [(np.zeros_like(first), np.zeros_like(first))] + steps:
        current = np.maximum(current - removed, 0) + added
        n = int(current.sum())
        earlier = [int(f.sum()) for f in fulls]
        if n < k or any(is_small(abs(n - e), k) for e in earlier):
            continue  # refused: N too small, or within k - 1 of a published version's
        groups, overall_counts = current[:-1], current.sum(axis=0)
        overall, p = protect_breakdown(overall_counts, groups, k, top=top, earlier=releases, n_responses=n)
        assert_protected(groups, p, k, top=top, column_totals=~overall.cells[0] & ~overall.rows[0],
                         total_published=not overall.rows[0], overall=overall)
        releases.append(release_of(overall_counts, groups, overall, p, top, n))
        fulls.append(current.copy())
        published.append(what_is_published(current, overall, p, top))
    return fulls, published


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(version_sequences())
def test_property_no_set_of_versions_gives_a_small_count_away(sequence):
    first, steps, k, top = sequence
    fulls, published = publish_sequence(first, steps, k, top)
    if len(fulls) > 1:
        assert_versions_protected(fulls, published, k, top)


def test_reproduction_one_more_respondent_is_hidden_or_refused():
    # Issue 18: k = 10, 40 respondents published, then one more. N moves by 1: refused.
    k, top = 10, [3, 4]
    v1 = np.array([[3, 2, 8, 12, 15], [0, 0, 0, 0, 0]])  # one group (everyone), nobody outside it
    v2 = v1.copy()
    v2[0, 3] += 1
    fulls, _ = publish_sequence(v1, [(v2 - v1, np.zeros_like(v1))], k, top)
    assert len(fulls) == 1
    # Ten more, nine agreeing and one strongly disagreeing: N moves by 10, but both changes are
    # small, so v2 hides them (and whatever would give them away); the audit finds nothing.
    v3 = v1.copy()
    v3[0, 3] += 9
    v3[0, 0] += 1
    fulls, published = publish_sequence(v1, [(v3 - v1, np.zeros_like(v1))], k, top)
    assert len(fulls) == 2
    assert ("cell", 0, 3) not in published[1] and ("cell", 0, 0) not in published[1]
    assert_versions_protected(fulls, published, k, top)


def test_version_leaks_finds_what_naive_publishing_gives_away():
    # Without the rule, v2 protected on its own publishes the changed cells: the audit sees it.
    k, top = 10, [3, 4]
    groups1 = np.array([[20, 15, 12, 30, 25], [14, 11, 16, 22, 40]])
    groups2 = groups1.copy()
    groups2[0, 3] += 3
    groups2[1, 4] += 10
    releases = []
    for groups in (groups1, groups2):
        overall, p = protect_breakdown(groups.sum(axis=0), groups, k, top=top)
        releases.append(release_of(groups.sum(axis=0), groups, overall, p, top, int(groups.sum())))
    leaks = version_leaks(releases, k, top)
    assert ("change", 0, 1, ("cell", 0, 3)) in leaks and ("change", 0, 1, ("overall", 3)) in leaks
    assert not any(name[-1] == ("cell", 1, 4) for name in leaks)  # a change of 10 is not small
    # With the rule, the same v2 gives nothing away.
    overall, p = protect_breakdown(groups2.sum(axis=0), groups2, k, top=top, earlier=releases[:1],
                                   n_responses=int(groups2.sum()))
    assert p.cells[0, 3] and version_leaks(
        [releases[0], release_of(groups2.sum(axis=0), groups2, overall, p, top, int(groups2.sum()))], k, top) == []
