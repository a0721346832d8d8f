"""Indices: item scoring, reverse coding, the more-than-half rule, Cronbach's alpha, index estimates."""
import math

import numpy as np
import pandas as pd
import pytest

from survey_app.analysis import variance
from survey_app.analysis.estimates import estimate_item
from survey_app.analysis.frame import Codebook, QuestionInfo
from survey_app.analysis.indices import (
    add_indices,
    cronbach_alpha,
    define_indices,
    index_scores,
    item_scores,
)
from survey_app.analysis.weighting import unweighted
from survey_app.questionnaire.question_types.scale import scale_options

AGREE = tuple(scale_options("agreement"))
SAFE = ((1, "Very safe"), (2, "Somewhat safe"), (3, "Somewhat unsafe"), (4, "Very unsafe"))


def question(code, construct, kind="scale", reverse=False, options=AGREE, config=None):
    return QuestionInfo(id=abs(hash(code)) % 10_000, code=code, type=kind, text=code, page="p",
                        options=options, config=config or {}, construct=construct, reverse_coded=reverse)


def frame_of(columns, questions):
    data = {}
    for q in questions:
        values = columns[q.code]
        data[q.code] = pd.Categorical(values, categories=[c for c, _ in q.options])
    return pd.DataFrame(data)


TRUST = [question("t1", "overall_trust"), question("t2", "overall_trust"),
         question("t3", "overall_trust", reverse=True)]


def test_item_scores_by_hand():
    q = TRUST[0]
    scores = item_scores(pd.Series(pd.Categorical([1, 2, 3, 4, 5, -1, None], categories=[1, 2, 3, 4, 5, -1])), q)
    assert scores[:5].tolist() == [0, 25, 50, 75, 100]
    assert np.isnan(scores[5]) and np.isnan(scores[6])  # "don't know" and skipped are missing
    reversed_ = item_scores(pd.Series(pd.Categorical([1, 5], categories=[1, 2, 3, 4, 5])), TRUST[2])
    assert reversed_.tolist() == [100, 0]


def test_ordered_single_choice_first_option_high():
    q = question("safe", "safety", kind="single_choice", options=SAFE, config={"ordered": "first_high"})
    scores = item_scores(pd.Series(pd.Categorical([1, 2, 3, 4], categories=[1, 2, 3, 4])), q)
    assert scores.tolist() == pytest.approx([100, 200 / 3, 100 / 3, 0])
    unordered = question("district", "safety", kind="single_choice", options=SAFE)
    codebook = Codebook(1, "s", "S", 10, (q, unordered, question("safe2", "safety", kind="single_choice",
                                                                  options=SAFE, config={"ordered": "last_high"})))
    [safety] = define_indices(codebook)
    assert [i.code for i in safety.items] == ["safe", "safe2"]  # the unordered item is not scored


def test_more_than_half_rule_and_mean_not_sum():
    frame = frame_of({"t1": [5, 5, 4, None, 1], "t2": [4, None, None, None, 1],
                      "t3": [1, 2, None, 3, -1]}, TRUST)
    [trust] = define_indices(Codebook(1, "s", "S", 10, tuple(TRUST)))
    assert trust.min_items == 2
    scores = index_scores(frame, trust)
    # Row 1: 100, 75, reversed 1 -> 100: mean 91.67. Row 2: 100 and reversed 2 -> 75: 87.5.
    # Row 3: one item of three: no score. Row 4: one item: none. Row 5: 0, 0 ("don't know" left out): 0.
    assert scores[0] == pytest.approx((100 + 75 + 100) / 3)
    assert scores[1] == pytest.approx(87.5)
    assert np.isnan(scores[2]) and np.isnan(scores[3])
    assert scores[4] == 0


def test_cronbach_alpha_two_ways():
    rng = np.random.default_rng(4)
    latent = rng.normal(size=200)
    matrix = np.column_stack([latent + rng.normal(scale=s, size=200) for s in (0.5, 0.8, 1.0, 1.5)]) * 20
    matrix[rng.random(matrix.shape) < 0.05] = np.nan
    alpha, n = cronbach_alpha(matrix.T)
    complete = matrix[~np.isnan(matrix).any(axis=1)]
    assert n == len(complete)
    # Second method: from the covariance matrix, alpha = k * mean covariance / (mean variance
    # + (k - 1) * mean covariance).
    cov = np.cov(complete, rowvar=False)
    k = cov.shape[0]
    mean_var = np.trace(cov) / k
    mean_cov = (cov.sum() - np.trace(cov)) / (k * (k - 1))
    assert alpha == pytest.approx(k * mean_cov / (mean_var + (k - 1) * mean_cov), rel=1e-12)


def test_cronbach_alpha_by_hand():
    # Two items, three people: item variances 1 and 1, totals 2, 4, 6 with variance 4:
    # alpha = 2 * (1 - 2/4) = 1.
    matrix = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    assert cronbach_alpha(matrix.T) == (pytest.approx(1.0), 3)
    # Uncorrelated items: totals' variance is the sum of the item variances: alpha 0.
    matrix = np.array([[1.0, 1.0], [1.0, 3.0], [3.0, 1.0], [3.0, 3.0]])
    assert cronbach_alpha(matrix.T)[0] == pytest.approx(0.0)
    assert cronbach_alpha(np.array([[1.0, 2.0]]).T)[0] is None  # one respondent


def test_index_estimate_is_the_mean_of_scores_with_its_se():
    rng = np.random.default_rng(9)
    n = 400
    columns = {q.code: rng.integers(1, 6, size=n).astype(float) for q in TRUST}
    columns["t2"][rng.random(n) < 0.3] = np.nan
    frame = frame_of(columns, TRUST)
    codebook = Codebook(1, "s", "S", 10, tuple(TRUST))
    frame, described = add_indices(frame, codebook)
    [info] = described
    scores = frame["index_overall_trust"].dropna().to_numpy()
    design = variance.Design.from_weights(unweighted(n))
    table = estimate_item(frame, design, info["question"])
    [row] = table.to_dict("records")
    assert row["estimate"] == pytest.approx(scores.mean(), rel=1e-12)
    assert row["se"] == pytest.approx(scores.std(ddof=1) / math.sqrt(len(scores)), rel=1e-9)
    assert row["n"] == len(scores)
    assert info["alpha"] == pytest.approx(cronbach_alpha(
        np.column_stack([item_scores(frame[q.code], q) for q in TRUST]).T)[0])


def test_demo_survey_indices(demo):
    """The demo questionnaire yields trust, fair-treatment, safety and cooperation indices."""
    frame, described = add_indices(demo.frame, demo.codebook)
    codes = [d["code"] for d in described]
    assert codes == ["index_overall_trust", "index_fair_treatment", "index_safety", "index_cooperation"]
    fair = described[1]
    assert [i["code"] for i in fair["items"] if i["reverse_coded"]] == ["equal_treatment"]
    # The synthetic items share a latent trait: the items hang together.
    assert all(d["alpha"] > 0.5 for d in described)
    trust = frame["index_overall_trust"]
    assert trust.dropna().between(0, 100).all()
    # Two items: a score needs both ("don't know" on either leaves it missing).
    both = demo.frame["trust_overall"].isin([1, 2, 3, 4, 5]) & demo.frame["trust_do_right"].isin([1, 2, 3, 4, 5])
    assert (trust.notna() == both).all() and 0 < (~both).sum() < len(both)
