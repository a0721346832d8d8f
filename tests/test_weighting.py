"""Raking: reproduces the margins, equals a plain IPF, and explains what it cannot do."""
import numpy as np
import pytest

from survey_app.analysis.weighting import NOT_REPORTED, Margin, Weights, WeightingError, rake, unweighted
from survey_app.questionnaire.demo import DEMO_POPULATION

from .reference_survey import rake_plain

DEMO_MARGINS = [Margin(variable, population, source) for variable, source, population in DEMO_POPULATION]


def weighted_counts(weights: Weights, variable: str) -> dict:
    codes = weights.categories[variable]
    return {int(c): float(weights.values[codes == c].sum()) for c in np.unique(codes)}


def test_raking_reproduces_every_margin(demo):
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    assert weights.weighted and weights.n == 3000
    assert weights.values.sum() == pytest.approx(200_000, rel=1e-10)
    for variable, control in weights.controls.items():
        achieved = weighted_counts(weights, variable)
        assert set(achieved) == set(control)
        for code, target in control.items():
            assert achieved[code] == pytest.approx(target, rel=1e-8), (variable, code)


def test_non_reporters_keep_their_sample_share(demo):
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    age = weights.categories["age_band"]
    share = np.mean(age == NOT_REPORTED)
    assert 0 < share < 0.05  # the generator has about 2% "prefer not to say"
    assert weights.controls["age_band"][NOT_REPORTED] == pytest.approx(200_000 * share)
    # The reporters are raked to the census shares.
    reported = 200_000 * (1 - share)
    assert weighted_counts(weights, "age_band")[6] == pytest.approx(reported * 30_000 / 200_000, rel=1e-8)


def test_raking_equals_a_plain_ipf(demo):
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    plain = rake_plain(weights.categories, weights.controls)
    assert np.max(np.abs(weights.values - plain) / plain) < 1e-9


def test_raking_corrects_the_sample_skew(demo):
    # The generator over-represents older residents; weighting must pull the youngest up.
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    youngest = weights.categories["age_band"] == 1
    assert weights.values[youngest].mean() > 1.5 * weights.values[~youngest].mean()


def test_category_without_respondents_is_a_clear_error(demo):
    frame = demo.frame[demo.frame["district"] != 5]
    with pytest.raises(WeightingError, match="No respondent is in district = 'Central'.*Combine it"):
        rake(frame, DEMO_MARGINS, demo.codebook)


def test_respondent_category_missing_from_the_margins_is_a_clear_error(demo):
    margins = [Margin("district", {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0})]
    with pytest.raises(WeightingError, match="no figure for 'Central'"):
        rake(demo.frame, margins, demo.codebook)


@pytest.mark.parametrize("margins, message", [
    ([], "No population margins"),
    ([Margin("nope", {1: 5.0})], "'nope' is not a question"),
    ([Margin("district", {1: 0.0})], "add up to zero"),
    ([Margin("district", {1: 5.0, 2: -1.0, 3: 1, 4: 1, 5: 1})], "negative"),
    ([DEMO_MARGINS[0], DEMO_MARGINS[0]], "twice"),
])
def test_bad_margins_are_refused(demo, margins, message):
    with pytest.raises(WeightingError, match=message):
        rake(demo.frame, margins, demo.codebook)


def test_margins_with_different_totals_are_used_as_shares(demo):
    margins = [DEMO_MARGINS[0], Margin("gender", {1: 1010.0, 2: 970.0, 3: 20.0})]  # shares, not counts
    weights = rake(demo.frame, margins, demo.codebook)
    assert weights.total_mismatch == pytest.approx(1 - 2000 / 200_000)
    assert weights.values.sum() == pytest.approx(200_000)


def test_design_effect_and_effective_sample_size_by_hand():
    weights = Weights(values=np.array([1.0, 1.0, 2.0, 4.0]), weighted=True)
    # n * sum(w^2) / sum(w)^2 = 4 * 22 / 64; effective n = 64 / 22
    assert weights.design_effect == pytest.approx(4 * 22 / 64)
    assert weights.effective_n == pytest.approx(64 / 22)
    assert unweighted(7).design_effect == pytest.approx(1.0)
    assert unweighted(7).effective_n == pytest.approx(7.0)


def test_trimming_caps_weights_and_keeps_the_margins(demo):
    untrimmed = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    cap = 2.5
    assert untrimmed.values.max() / untrimmed.values.mean() > cap  # so the cap has work to do
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook, trim=cap)
    assert weights.values.max() / weights.values.mean() <= cap * 1.001
    assert weights.n_trimmed > 0 and weights.design_effect < untrimmed.design_effect
    for variable, control in weights.controls.items():
        achieved = weighted_counts(weights, variable)
        for code, target in control.items():
            assert achieved[code] == pytest.approx(target, rel=1e-8)
    # The same alternation written plainly: cap at 2.5 x mean, rake again from the capped weights.
    plain = rake_plain(weights.categories, weights.controls)
    while plain.max() > cap * plain.mean() * 1.001:
        plain = rake_plain(weights.categories, weights.controls,
                           start=np.minimum(plain, cap * plain.mean()))
    assert np.max(np.abs(weights.values - plain) / plain) < 1e-8
    summary = weights.summary()
    assert summary["trim"] == cap and summary["variables"] == [m.variable for m in DEMO_MARGINS]


def test_impossible_trimming_is_a_clear_error(demo):
    with pytest.raises(WeightingError, match="more than 1"):
        rake(demo.frame, DEMO_MARGINS, demo.codebook, trim=1.0)
    # A cap this tight cannot hold together with the margins: an error, not a silent misfit.
    with pytest.raises(WeightingError, match="cannot be kept under 1.2 times the mean"):
        rake(demo.frame, DEMO_MARGINS, demo.codebook, trim=1.2)


def _svy_rake_respondents(categories, controls, start):
    """svy raking every respondent as a row of its own: what ``rake`` did before it raked cells."""
    import polars as pl
    import svy

    sample = svy.Sample(pl.DataFrame({**categories, "_w": start}), svy.Design(wgt="_w"))
    raked = sample.weighting.rake(controls=controls, tol=1e-13, max_iter=1000, wgt_name="_r")
    return raked.data["_r"].to_numpy()


def test_raking_the_cells_equals_svy_raking_the_respondents(demo):
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    reference = _svy_rake_respondents(weights.categories, weights.controls, np.ones(weights.n))
    assert np.max(np.abs(weights.values - reference) / reference) < 1e-9
    # Trimmed: each raking starts from capped weights that differ between cells.
    trimmed = rake(demo.frame, DEMO_MARGINS, demo.codebook, trim=3.0)
    assert trimmed.n_trimmed > 0
    start = np.minimum(weights.values, 3.0 * weights.values.mean())
    from survey_app.analysis.weighting import _rake_from

    ours, _ = _rake_from(start, weights.categories, weights.controls)
    reference = _svy_rake_respondents(weights.categories, weights.controls, start)
    assert np.max(np.abs(ours - reference) / reference) < 1e-9


def test_cells_number_the_cross_classification_in_code_order():
    from survey_app.analysis.weighting import cell_index, dense_rank

    rng = np.random.default_rng(5)
    categories = {"a": rng.choice([3, 1, NOT_REPORTED], 5000), "b": rng.choice([7, 2, 5, 9], 5000),
                  "c": rng.choice([1, 2], 5000)}
    # By hand: every respondent's tuple of codes, ranked among the distinct tuples present.
    tuples = list(zip(*(categories[v].tolist() for v in "abc")))
    order = {t: k for k, t in enumerate(sorted(set(tuples)))}
    assert cell_index(categories, 5000).tolist() == [order[t] for t in tuples]
    # Values spread too widely for a table go through a sort, with the same answer.
    wide = np.array([10**15, 5, 10**15, -3, 5], dtype=np.int64)
    assert dense_rank(wide)[0].tolist() == [2, 1, 2, 0, 1] and dense_rank(wide)[1] == 3
    assert cell_index({}, 4).tolist() == [0, 0, 0, 0]
