"""Breakdowns: every item by every demographic group, gaps, and disclosure control on the output."""
import json

import numpy as np
import pandas as pd
import pytest

from survey_app.analysis.breakdowns import breakdown_variables, groupings, item_estimates
from survey_app.analysis.estimates import estimate_item, group_gap
from survey_app.analysis.frame import Codebook, QuestionInfo
from survey_app.analysis.variance import Design
from survey_app.analysis.weighting import rake, unweighted
from survey_app.questionnaire.question_types.scale import scale_options

from .test_weighting import DEMO_MARGINS

K = 10
DISTRICTS = ((1, "North"), (2, "South"), (3, "East"), (4, "West"))


def small_survey(sizes, seed=0):
    """One scale item and a district breakdown with the given group sizes."""
    rng = np.random.default_rng(seed)
    district = QuestionInfo(1, "district", "dropdown", "District", "p", DISTRICTS, {}, "demographics", False)
    trust = QuestionInfo(2, "trust", "scale", "Trust", "p", tuple(scale_options("agreement")), {}, "overall_trust",
                         False)
    codes = np.repeat([c for c, _ in DISTRICTS], sizes)
    answers = rng.choice([1, 2, 3, 4, 5], size=len(codes), p=[0.1, 0.15, 0.2, 0.35, 0.2])
    frame = pd.DataFrame({
        "trust": pd.Categorical(answers, categories=[c for c, _ in trust.options], ordered=True),
        "district": pd.Categorical(codes, categories=[c for c, _ in DISTRICTS]),
    })
    return frame, Codebook(1, "small", "Small", K, (trust, district)), trust


def published_counts(result):
    rows = result["overall"] + [r for b in result["breakdowns"] for r in b["rows"]]
    return [r["count"] for r in rows if r["count"] is not None], [r["n"] for r in rows if r["n"] is not None]


def test_small_district_is_hidden_with_a_complementary_one():
    frame, codebook, trust = small_survey([60, 45, 4, 30])
    design = Design.from_weights(unweighted(len(frame)))
    result = item_estimates(frame, design, trust, codebook, K)
    [district] = result["breakdowns"]
    hidden_groups = [g["code"] for g in district["groups"] if g["suppressed"]]
    # East (4 respondents) is hidden; so is West, the next smallest, or the overall n would give East away.
    assert hidden_groups == [3, 4]
    for row in district["rows"]:
        if row["group"] in (3, 4):
            assert row["suppressed"] and row["estimate"] is None and row["n"] is None
    assert not any(r["suppressed"] for r in result["overall"] if r["statistic"] == "mean")
    # Gaps only between shown groups.
    assert {(g["first"], g["second"]) for g in district["gaps"]} == {(1, 2)}
    counts, ns = published_counts(result)
    assert not any(1 <= c < K for c in counts) and all(n >= K for n in ns)


def test_published_figures_equal_the_estimator(app):
    frame, codebook, trust = small_survey([300, 250, 200, 150], seed=3)
    design = Design.from_weights(unweighted(len(frame)))
    result = item_estimates(frame, design, trust, codebook, K)
    direct = estimate_item(frame, design, trust, by="district", codebook=codebook)
    [district] = result["breakdowns"]
    for row in district["rows"]:
        if row["suppressed"]:
            continue
        match = direct[(direct["group"] == row["group"]) & (direct["statistic"] == row["statistic"])
                       & ((direct["option"] == row["option"]) if row["option"] is not None
                          else direct["option"].isna())]
        assert row["estimate"] == pytest.approx(float(match["estimate"].iloc[0]), rel=1e-12)
        assert row["se"] == pytest.approx(float(match["se"].iloc[0]), rel=1e-12)
    gap = next(g for g in district["gaps"] if (g["first"], g["second"]) == (1, 4))
    expected = group_gap(frame, design, trust, "district", 1, 4, "percent_agree", codebook=codebook)
    assert gap["estimate"] == pytest.approx(expected["estimate"], rel=1e-12)
    assert gap["se"] == pytest.approx(expected["se"], rel=1e-12)
    for g in district["gaps"]:
        assert g["significant"] == (g["p_value"] < 0.05)
        assert g["significant"] == (g["lci"] > 0 or g["uci"] < 0)


def test_every_item_of_the_demo_survey_weighted(demo):
    frame, codebook = demo.frame, demo.codebook
    weights = rake(frame, DEMO_MARGINS, codebook)
    design = Design.from_weights(weights)
    cache = groupings(frame, codebook)
    assert [q.code for q in breakdown_variables(codebook)] == ["district", "age_band", "gender", "race_ethnicity"]
    for question in codebook.questions:
        if question.kind == "text":
            with pytest.raises(ValueError):
                item_estimates(frame, design, question, codebook, K, cache)
            continue
        result = item_estimates(frame, design, question, codebook, K, cache)
        json.dumps(result)  # JSON-ready
        counts, ns = published_counts(result)
        assert not any(1 <= c < K for c in counts), question.code
        assert all(n >= K for n in ns), question.code
        by = [b["variable"] for b in result["breakdowns"]]
        assert question.code not in by and len(by) == (3 if question.code in
                                                          ("district", "age_band", "gender", "race_ethnicity") else 4)
        # Weighted overall estimates are those of the estimator, untouched where shown.
        direct = estimate_item(frame, design, question)
        shown = [r for r in result["overall"] if not r["suppressed"]]
        assert shown
        for row, (_, expected) in zip(result["overall"], direct.iterrows()):
            if not row["suppressed"]:
                assert row["estimate"] == pytest.approx(expected["estimate"], rel=1e-12)


def _numbers(value):
    """Every number in a result, in order (None for a hidden one), to compare two results."""
    if isinstance(value, dict):
        return [n for key in sorted(value) for n in [key] + _numbers(value[key])]
    if isinstance(value, list):
        return [n for item in value for n in _numbers(item)]
    return [value]


@pytest.mark.parametrize("margins", ["all four", "district only"])
def test_estimates_read_off_the_cells_equal_a_pass_per_group(demo, margins):
    """Groups that follow the design's cells (a breakdown by a weighting variable) are estimated
    from sums by cell shared by the item's groupings; the same estimates, SEs and suppression
    as a pass over the respondents per grouping, which any other breakdown takes."""
    frame, codebook = demo.frame, demo.codebook
    chosen = DEMO_MARGINS if margins == "all four" else [m for m in DEMO_MARGINS if m.variable == "district"]
    design = Design.from_weights(rake(frame, chosen, codebook))
    by_rows = groupings(frame, codebook)
    by_cells = groupings(frame, codebook, design)
    weighting = {m.variable for m in chosen}
    assert all(g.of_cell is None for g in by_rows.values())
    assert {code for code, g in by_cells.items() if g.of_cell is not None} == weighting
    compared = 0
    for question in codebook.questions:
        if question.kind == "text":
            continue
        fast = _numbers(item_estimates(frame, design, question, codebook, K, by_cells))
        slow = _numbers(item_estimates(frame, design, question, codebook, K, by_rows))
        assert len(fast) == len(slow)
        for a, b in zip(fast, slow):
            if isinstance(a, float) and isinstance(b, float):
                assert a == pytest.approx(b, rel=1e-9, abs=1e-12), question.code
            else:
                assert a == b, question.code
        compared += len(fast)
    assert compared > 10_000
