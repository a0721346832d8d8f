"""The analysis engine on real-sized data and doubtful inputs: raking converges at a million and
ten million respondents (a relative tolerance, reachable in floating point), accepts what R's
rake() accepts and refuses only what cannot be met; no unweighted figure is published under a
weighted name; doubtful inputs (margins whose totals disagree, an index whose items do not hang
together) are said to staff, in the CLI and, where it matters, to readers."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from survey_app.analysis import doubts, weighting
from survey_app.analysis.weighting import Margin, WeightingError, margin_errors, rake, rake_tolerance
from survey_app.extensions import db

from .factories import add_response, make_survey
from .reference_survey import rake_plain
from .test_weighting import DEMO_MARGINS

BIG_MARGINS = [Margin("district", {1: 150_000, 2: 180_000, 3: 220_000, 4: 160_000, 5: 140_000, 6: 150_000}),
               Margin("age_band", {1: 250_000, 2: 230_000, 3: 200_000, 4: 170_000, 5: 150_000}),
               Margin("gender", {1: 490_000, 2: 495_000, 3: 15_000})]


def skewed_sample(n: int, seed: int) -> pd.DataFrame:
    """Respondents far from the population: too old, too many from district 1, 2% not giving age."""
    rng = np.random.default_rng(seed)
    district = rng.choice(np.arange(1, 7), n, p=[0.35, 0.25, 0.15, 0.1, 0.1, 0.05])
    age = rng.choice(np.array([1, 2, 3, 4, 5, -2]), n, p=[0.05, 0.1, 0.15, 0.25, 0.43, 0.02])
    gender = rng.choice(np.arange(1, 4), n, p=[0.42, 0.56, 0.02])
    return pd.DataFrame({"district": pd.Categorical(district), "age_band": pd.Categorical(age),
                         "gender": pd.Categorical(gender)})


def _check_margins(weights) -> None:
    """Every margin met, counted here independently of the code under test."""
    for variable, control in weights.controls.items():
        codes = weights.categories[variable]
        for code, target in control.items():
            achieved = float(np.sum(weights.values, where=codes == code))
            assert abs(achieved - target) <= 1e-9 * target, (variable, code, achieved, target)


@pytest.mark.sqlite_leg  # no database in it
@pytest.mark.parametrize("n", [1_000_000, 10_000_000])
def test_raking_converges_at_a_million_and_ten_million_respondents(n):
    weights = rake(skewed_sample(n, seed=n % 97), BIG_MARGINS)
    assert weights.rake_error <= rake_tolerance(n)
    _check_margins(weights)
    assert weights.values.sum() == pytest.approx(1_000_000, rel=1e-9)


def test_the_tolerance_is_relative_and_reachable_at_any_size():
    assert rake_tolerance(3_000) == weighting.RAKE_TOLERANCE == 1e-10
    # Above about 450,000 respondents, n machine epsilons (the worst-case error of summing n weights).
    assert rake_tolerance(10_000_000) == pytest.approx(10_000_000 * np.finfo(float).eps)
    # Where an absolute 1e-12 failed (1.35e-12 at a million), the relative tolerance holds.
    assert rake_tolerance(1_000_000) > 1.4e-12


def test_raking_equals_a_plain_ipf_on_a_skewed_sample():
    frame = skewed_sample(20_000, seed=3)
    weights = rake(frame, BIG_MARGINS)
    plain = rake_plain(weights.categories, weights.controls)
    assert np.max(np.abs(weights.values - plain) / plain) < 1e-9


def test_weights_within_one_person_are_used_as_r_accepts_them_and_staff_are_told(demo, monkeypatch):
    # Three rounds of IPF: short of the tolerance, but every category within one person of its target.
    monkeypatch.setattr(weighting, "RAKE_MAX_ITERATIONS", 3)
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    relative, absolute = margin_errors(weights.values, weights.categories, weights.controls)
    assert weights.rake_error == relative > rake_tolerance(weights.n) and absolute < 1.0
    found = doubts.doubts(weights.totals, (weights.rake_error, rake_tolerance(weights.n)), [])
    assert [d["kind"] for d in found] == ["rake_error"] and "R's rake() accepts" in found[0]["message"]
    # One round leaves categories more than a person off: refused, saying what to do.
    monkeypatch.setattr(weighting, "RAKE_MAX_ITERATIONS", 1)
    with pytest.raises(WeightingError, match="still .* from its population figure.*combine categories"):
        rake(demo.frame, DEMO_MARGINS, demo.codebook)


def test_margins_with_different_totals_do_not_depend_on_their_order(demo):
    gender = Margin("gender", {1: 98_000.0, 2: 96_000.0, 3: 1_000.0})  # 195,000 against 200,000
    first = rake(demo.frame, [DEMO_MARGINS[0], gender], demo.codebook)
    second = rake(demo.frame, [gender, DEMO_MARGINS[0]], demo.codebook)
    assert np.allclose(first.values, second.values, rtol=1e-9)
    assert first.values.sum() == pytest.approx(200_000) and first.total_mismatch == pytest.approx(0.025)
    doubt = doubts.margin_totals(first.totals)
    assert doubt["public"] and "2.5% apart" in doubt["message"] and "the largest, 200,000" in doubt["message"]
    assert doubts.margin_totals({"district": 200_000, "gender": 199_900}) is None  # 0.05%: rounding


def test_an_index_whose_items_do_not_hang_together_is_flagged():
    assert doubts.index_alpha({"code": "index_trust", "label": "Trust", "alpha": 0.82}) is None
    middling = doubts.index_alpha({"code": "index_trust", "label": "Trust", "alpha": 0.62})
    assert middling and not middling["public"]  # staff only
    negative = doubts.index_alpha({"code": "index_trust", "label": "Trust", "alpha": -0.11})
    assert negative["public"] and "reverse-coded" in negative["message"] and "-0.11" in negative["message"]


RAKED = {"slug": "raked", "title": "Raked", "min_cell_size": 10, "pages": [{"title": "P", "questions": [
    {"code": "trust", "type": "scale", "text": "I trust the police.", "construct": "trust"},
    {"code": "fair", "type": "scale", "text": "They treat people fairly.", "construct": "trust"},
    {"code": "district", "type": "dropdown", "text": "District?", "construct": "demographics",
     "options": [{"code": 1, "label": "North"}, {"code": 2, "label": "South"}]},
    {"code": "gender", "type": "single_choice", "text": "Gender?", "construct": "demographics",
     "options": [{"code": 1, "label": "Woman"}, {"code": 2, "label": "Man"}]},
]}]}


def _raked_survey(app):
    """North all trust the police (5), half the South does; the sample is 3/4 North, the population
    half and half (a district table of 100,000 people, a gender table of 97,000). The two items of
    the trust index run opposite ways (North 5 and 3 on average, South 3 and 5): a negative alpha."""
    from survey_app.population import save_margins

    survey = make_survey(RAKED)
    for i in range(90):
        add_response(survey, trust=5, fair=1 + 4 * (i % 2), district=1, gender=1 + (i // 2) % 2)
    for i in range(30):
        add_response(survey, trust=1 + 4 * (i % 2), fair=5, district=2, gender=1 + (i // 2) % 2)
    save_margins(survey, [Margin("district", {1: 50_000.0, 2: 50_000.0}, "census"),
                          Margin("gender", {1: 48_500.0, 2: 48_500.0}, "survey of the year before")])
    return survey


def test_no_unweighted_figure_is_published_under_a_weighted_name(app, client):
    from survey_app import publishing
    from survey_app.analysis.pipeline import analyze_survey

    survey = _raked_survey(app)
    with db.engine.connect() as connection:
        run = analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    trust = next(q for q in run.results["questions"] if q["code"] == "trust")
    summary = trust["summary"]
    assert "mean" not in summary and "percent_agree" not in summary
    # Unweighted: 90 fives and 15 fives of 120 -> 105/120 agree; raked: North and South count alike.
    assert summary["unweighted_percent_agree"] == pytest.approx(100 * 105 / 120)
    weighted = next(r for r in trust["estimates"]["overall"] if r["statistic"] == "percent_agree")
    assert weighted["estimate"] == pytest.approx(100 * (1.0 + 0.5) / 2)
    assert all("percent" not in row and "unweighted_percent" in row for row in trust["table"])
    publishing.publish(survey, app.config["GENERATED_DIR"])
    data = json.loads(client.get("/results/raked/v1/data.json").get_data(as_text=True))
    published = next(q for q in data["results"]["questions"] if q["code"] == "trust")
    assert set(published["summary"]) == {"n_valid", "n_dont_know", "n_prefer_not_to_say", "unweighted_mean",
                                         "unweighted_percent_agree"}


def test_doubtful_inputs_are_said_to_staff_in_the_cli_and_to_readers(app, client, runner):
    from survey_app import publishing

    from .staff_helpers import make_user, sign_in

    survey = _raked_survey(app)  # margins of 100,000 and 97,000 people; an index with a negative alpha
    result = runner.invoke(args=["analyze", survey.slug])
    assert result.exit_code == 0, result.output
    assert "Warning: The population tables add up to different totals (district 100,000; gender 97,000)" in result.output
    assert "Cronbach's alpha of -" in result.output and "reverse-coded" in result.output
    sign_in(client, make_user("analyst").email)
    page = client.get(f"/staff/surveys/{survey.id}/weighting").get_data(as_text=True)
    assert 'id="totals-doubt"' in page and "3.0% apart" in page
    page = client.get(f"/staff/surveys/{survey.id}/results").get_data(as_text=True)
    assert "Check before publishing" in page and "reverse-coded" in page and "The results page says so" in page
    publishing.publish(survey, app.config["GENERATED_DIR"])
    public = client.get(f"/results/{survey.slug}").get_data(as_text=True)
    assert "add up to different totals, 3% apart" in public
    assert "Read this score with caution:" in public


def test_charts_drawn_by_two_processes_are_the_same_files_as_drawn_one_by_one(app, tmp_path):
    import copy

    from survey_app.analysis.pipeline import build_results, draw_charts
    from survey_app.analysis.frame import load_codebook, load_survey_data
    from survey_app.cli import create_demo_survey
    import datetime as dt

    survey = create_demo_survey(responses=200, seed=3)
    with db.engine.connect() as connection:
        data = load_survey_data(connection, load_codebook(connection, survey.slug))
    results = build_results(data, dt.datetime(2026, 12, 1))
    one, two = copy.deepcopy(results), copy.deepcopy(results)
    draw_charts(one, tmp_path / "one", processes=1)
    draw_charts(two, tmp_path / "two", processes=2)
    assert one == two and any(q.get("chart") for q in one["questions"])
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert len(files) > 20
    for name in files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_a_closed_waves_frame_is_read_from_its_copy_while_nothing_changed(app, monkeypatch):
    from survey_app.analysis import frame as frame_module
    from survey_app.analysis import frame_cache
    from survey_app.analysis.frame import load_codebook, load_survey_data
    from survey_app.models import Question, Response
    from survey_app.response_review import remove_response

    survey = _raked_survey(app)
    generated = app.config["GENERATED_DIR"]
    copy_path = frame_cache._path(generated, survey.slug)

    def load():
        with db.engine.connect() as connection:
            return frame_cache.load(connection, load_codebook(connection, survey.slug), generated)

    load()
    assert not copy_path.exists()  # open: every submission changes it
    survey.status = "closed"
    db.session.commit()
    first = load()
    assert copy_path.exists()
    with db.engine.connect() as connection:
        fresh = load_survey_data(connection, load_codebook(connection, survey.slug))
    pd.testing.assert_frame_equal(first.frame, fresh.frame)

    def refuse(*args, **kwargs):
        raise AssertionError("the database was read although the copy is current")

    monkeypatch.setattr(frame_cache, "load_survey_data", refuse)
    again = load()
    pd.testing.assert_frame_equal(again.frame, fresh.frame)
    assert again.text_counts == fresh.text_counts and again.left_out == fresh.left_out
    monkeypatch.setattr(frame_cache, "load_survey_data", frame_module.load_survey_data)

    # A response added (a late paper form keyed in), a question reworded, a response removed:
    # each is read from the database again.
    add_response(survey, trust=1, fair=1, district=2, gender=1)
    assert len(load().frame) == 121
    db.session.get(Question, survey.questions[0].id).text = "I trust the police in my area."
    db.session.commit()
    assert load().codebook.questions[0].text == "I trust the police in my area."
    response = db.session.scalars(select_first_response(survey)).first()
    remove_response(survey, response, "entered twice")
    assert not copy_path.exists()  # at once: the removed answers do not stay behind in the copy
    assert len(load().frame) == 120


def select_first_response(survey):
    from sqlalchemy import select

    from survey_app.models import Response

    return select(Response).where(Response.survey_id == survey.id).limit(1)
