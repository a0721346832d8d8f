"""Weighted estimates and SEs, against hand computation, a plain implementation and svy."""
import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
import svy
from scipy.stats import t as scipy_t

from survey_app.analysis.estimates import estimate_item, group_gap
from survey_app.analysis.frame import Codebook, QuestionInfo
from survey_app.analysis.variance import Design
from survey_app.analysis.weighting import rake, unweighted

from .reference_survey import domain_difference_plain, domain_mean_plain
from .test_weighting import DEMO_MARGINS

REL = 1e-9


def small_codebook():
    questions = (
        QuestionInfo(1, "trust", "scale", "Trust?", "p", ((1, "SD"), (2, "D"), (3, "N"), (4, "A"), (5, "SA"),
                                                           (-1, "Don't know")), {}, None, False),
        QuestionInfo(2, "group", "single_choice", "Group?", "p", ((1, "A"), (2, "B")), {}, None, False),
    )
    return Codebook(1, "s", "S", 10, questions)


def small_frame(trust, group):
    return pd.DataFrame({
        "trust": pd.Categorical(trust, categories=[1, 2, 3, 4, 5, -1], ordered=True),
        "group": pd.Categorical(group, categories=[1, 2]),
    })


def row(table, statistic, option=None, group=None):
    match = table[(table["statistic"] == statistic)
                  & (table["option"].isna() if option is None else table["option"] == option)
                  & (table["group"].isna() if group is None else table["group"] == group)]
    assert len(match) == 1
    return match.iloc[0]


def test_unweighted_estimates_by_hand():
    codebook = small_codebook()
    trust = [5, 4, 4, 3, 2, 5, 4, 1, 4, 5]
    frame = small_frame(trust, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    design = Design.from_weights(unweighted(10))
    table = estimate_item(frame, design, codebook.question("trust"))
    # Everyone answered: the textbook SEs, s / sqrt(n) and sqrt(p (1 - p) / (n - 1)).
    p = 4 / 10
    agree = row(table, "percent", option=4)
    assert agree["estimate"] == pytest.approx(40.0)
    assert agree["se"] == pytest.approx(100 * math.sqrt(p * (1 - p) / 9))
    assert (agree["count"], agree["n"], agree["df"]) == (4, 10, 9)
    assert row(table, "percent_agree")["count"] == 7 and row(table, "percent", option=1)["count"] == 1
    mean = row(table, "mean")
    assert mean["estimate"] == pytest.approx(3.7)
    assert mean["se"] == pytest.approx(np.std(trust, ddof=1) / math.sqrt(10))
    t = 2.2621571627409915  # qt(0.975, 9)
    assert (mean["lci"], mean["uci"]) == pytest.approx((3.7 - t * mean["se"], 3.7 + t * mean["se"]))
    top = row(table, "percent_agree")
    assert top["estimate"] == pytest.approx(70.0)
    assert top["se"] == pytest.approx(100 * math.sqrt(0.7 * 0.3 / 9))
    # Logit interval: expit(logit(0.7) -/+ t * se / (p (1 - p)))
    half = t * math.sqrt(0.7 * 0.3 / 9) / 0.21
    expected = [100 / (1 + math.exp(-(math.log(0.7 / 0.3) + s * half))) for s in (-1, 1)]
    assert [top["lci"], top["uci"]] == pytest.approx(expected)


def test_unweighted_domain_estimate_by_hand():
    codebook = small_codebook()
    frame = small_frame([5, 4, 4, 3, 2, 5, 4, 1, 4, 5], [1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    table = estimate_item(frame, Design.from_weights(unweighted(10)), codebook.question("trust"), by="group",
                          codebook=codebook)
    # Group A: 5, 4, 4, 3, 2 -> mean 3.6; influence (y - 3.6) / 5 inside A, 0 outside;
    # variance = 10 / 9 * sum(x^2) (the influences sum to zero).
    a = np.array([5, 4, 4, 3, 2.0])
    x = (a - 3.6) / 5
    mean_a = row(table, "mean", group=1)
    assert mean_a["estimate"] == pytest.approx(3.6)
    assert mean_a["se"] == pytest.approx(math.sqrt(10 / 9 * np.sum(x ** 2)))
    # The group's interval is on the design's degrees of freedom, 10 - 1 (R's degf(design), as svyby
    # and svyciprop use it), not on the group's own 5 - 1.
    assert (mean_a["n"], mean_a["df"]) == (5, 9)
    t = 2.2621571627409915  # qt(0.975, 9), not qt(0.975, 4) = 2.7764451051977987
    assert (mean_a["lci"], mean_a["uci"]) == pytest.approx((3.6 - t * mean_a["se"], 3.6 + t * mean_a["se"]),
                                                           rel=1e-9)
    top = row(table, "percent_agree", group=1)  # 4, 4, 5 of 5, 4, 4, 3, 2: 60%, logit interval on 9 df
    half = t * (top["se"] / 100) / (0.6 * 0.4)
    expected = [100 / (1 + math.exp(-(math.log(0.6 / 0.4) + side * half))) for side in (-1, 1)]
    assert [top["lci"], top["uci"]] == pytest.approx(expected, rel=1e-9)


def test_dont_know_is_missing_for_estimates():
    codebook = small_codebook()
    frame = small_frame([5, -1, 4, -1, 1, 2, 3, 4, 5, 5], [1] * 10)
    mean = row(estimate_item(frame, Design.from_weights(unweighted(10)), codebook.question("trust")), "mean")
    assert mean["estimate"] == pytest.approx((5 + 4 + 1 + 2 + 3 + 4 + 5 + 5) / 8)
    assert mean["n"] == 8


ITEMS = ["trust_overall", "equal_treatment", "safe_night", "contact_type", "contact_satisfaction",
         "years_in_city", "district"]


def plain_statistics(frame, question, option_codes):
    """(statistic, option, y) triples as plain arrays: what each estimate averages."""
    if question.kind == "numeric":
        return [("mean", None, frame[question.code].to_numpy(dtype=float))]
    if question.kind == "multi":
        masks = frame[question.code]
        answered = masks.notna().to_numpy()
        values = masks.fillna(0).to_numpy(dtype=np.int64)
        return [("percent", c, np.where(answered, ((values >> (c - 1)) & 1).astype(float), np.nan))
                for c in option_codes]
    values = frame[question.code].astype("float64").to_numpy()
    values = np.where(values > 0, values, np.nan)
    out = [("percent", c, np.where(np.isnan(values), np.nan, (values == c).astype(float))) for c in option_codes]
    if question.kind == "ordinal":
        out.append(("mean", None, values))
        out.append(("percent_agree", None, np.where(np.isnan(values), np.nan, (values >= 4).astype(float))))
    return out


@pytest.mark.parametrize("by", [None, "district", "age_band"])
def test_every_estimate_equals_the_plain_implementation(demo, by):  # noqa: F811
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    design = Design.from_weights(weights)
    groups = [None] if by is None else [c for c, _ in demo.codebook.question(by).options if c > 0]
    by_values = None if by is None else demo.frame[by].astype("float64").to_numpy()
    checked = 0
    for code in ITEMS:
        question = demo.codebook.question(code)
        table = estimate_item(demo.frame, design, question, by=by, codebook=demo.codebook)
        options = [c for c, _ in question.options if c > 0]
        for statistic, option, y in plain_statistics(demo.frame, question, options):
            scale = 100.0 if statistic.startswith("percent") else 1.0
            for group in groups:
                in_group = np.ones(len(y), bool) if group is None else by_values == group
                estimate, se = domain_mean_plain(y, in_group, weights.values, weights.categories)
                got = row(table, statistic, option, group)
                assert got["estimate"] == pytest.approx(estimate * scale, rel=REL, abs=1e-12), (code, option, group)
                assert got["se"] == pytest.approx(se * scale, rel=REL, abs=1e-12), (code, option, group)
                checked += 1
    assert checked >= 37  # every option, mean and percent agreeing of the seven items


def svy_sample(frame, weights, columns):
    data = {v: c for v, c in weights.categories.items()}
    for column in columns:
        values = frame[column].astype("float64").to_numpy()
        data[column] = np.where(values > 0, values, np.nan)
    return svy.Sample(pl.DataFrame(data).fill_nan(None), svy.Design(wgt="_w")), data


def test_estimates_equal_svy_after_raking(demo):  # noqa: F811
    """svy is the reference implementation (equal to R's rake + svymean / svyby)."""
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    design = Design.from_weights(weights)
    data = {v: c for v, c in weights.categories.items()}
    trust = demo.frame["trust_overall"].astype("float64").to_numpy()
    data["trust"] = np.where(trust > 0, trust, np.nan)
    data["agree"] = np.where(trust > 0, (trust >= 4).astype(float), np.nan)
    data["group"] = demo.frame["district"].astype("float64").to_numpy()
    data["_w"] = np.ones(len(trust))
    sample = svy.Sample(pl.DataFrame(data).fill_nan(None), svy.Design(wgt="_w"))
    raked = sample.weighting.rake(controls=weights.controls, tol=1e-12, max_iter=1000)

    ours = estimate_item(demo.frame, design, demo.codebook.question("trust_overall"), by="district",
                         codebook=demo.codebook)
    theirs = raked.estimation.mean("trust", by="group", drop_nulls=True).to_polars()
    for record in theirs.iter_rows(named=True):
        got = row(ours, "mean", group=int(record["group"]))
        for key in ("est", "se"):
            assert got[key.replace("est", "estimate")] == pytest.approx(record[key], rel=REL)
        # svy's interval uses the domain's own n - 1; ours the design's (as R's svyby with
        # degf(design)): the same estimate and SE, t on n - 1 of the whole sample.
        assert got["n"] == record["n"] and got["df"] == len(trust) - 1
        t = scipy_t.ppf(0.975, len(trust) - 1)
        assert (got["lci"], got["uci"]) == pytest.approx((record["est"] - t * record["se"],
                                                          record["est"] + t * record["se"]), rel=REL)

    overall = estimate_item(demo.frame, design, demo.codebook.question("trust_overall"))
    props = raked.estimation.prop("trust", drop_nulls=True).to_polars()
    for record in props.iter_rows(named=True):
        got = row(overall, "percent", option=int(record["trust"]))
        for key in ("est", "se"):
            assert got[key.replace("est", "estimate")] == pytest.approx(100 * record[key], rel=REL)
        # The logit interval on the design's degrees of freedom (every respondent less one; svy
        # counts only those who answered): expit(logit(p) -/+ t * se / (p (1 - p))).
        p, se = record["est"], record["se"]
        half = scipy_t.ppf(0.975, len(trust) - 1) * se / (p * (1 - p))
        expected = [100 / (1 + math.exp(-(math.log(p / (1 - p)) + side * half))) for side in (-1, 1)]
        assert [got["lci"], got["uci"]] == pytest.approx(expected, rel=REL)

    # Gap between two districts: svy's contrast of the domain means.
    by_group = raked.estimation.mean("agree", by="group", drop_nulls=True)
    contrast = by_group.contrast(svy.estd(1.0) - svy.estd(2.0)).to_polars().row(0, named=True)
    gap = group_gap(demo.frame, design, demo.codebook.question("trust_overall"), "district", 1, 2,
                    "percent_agree", codebook=demo.codebook)
    assert gap["estimate"] == pytest.approx(100 * contrast["est"], rel=REL)
    assert gap["se"] == pytest.approx(100 * contrast["se"], rel=REL)


def test_gap_equals_the_plain_implementation_and_is_significant(demo):  # noqa: F811
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    design = Design.from_weights(weights)
    gap = group_gap(demo.frame, design, demo.codebook.question("trust_overall"), "district", 1, 2, "mean",
                    codebook=demo.codebook)
    trust = demo.frame["trust_overall"].astype("float64").to_numpy()
    trust = np.where(trust > 0, trust, np.nan)
    district = demo.frame["district"].astype("float64").to_numpy()
    diff, se = domain_difference_plain(trust, district == 1, district == 2, weights.values, weights.categories)
    assert gap["estimate"] == pytest.approx(diff, rel=REL)
    assert gap["se"] == pytest.approx(se, rel=REL)
    # The generator puts North 0.75 SD above South: a real gap, far beyond noise.
    assert gap["estimate"] > 0.3 and gap["significant"] and gap["p_value"] < 0.001
    assert gap["lci"] < gap["estimate"] < gap["uci"]
