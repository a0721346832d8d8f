"""Published themes of what residents wrote (survey_app/analysis/themes.py): each theme's weighted
share of the coded answers and its SE, overall and by district, equal svy's mean of the theme's
0/1 indicator after the same raking; the results, open data and Spanish page carry them under
the same disclosure control as every other figure."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import polars as pl
import pytest
import svy
from sqlalchemy import select

from survey_app import publishing, written_coding
from survey_app.analysis.frame import load_codebook, load_survey_data
from survey_app.analysis.pipeline import analyze_survey, read_results
from survey_app.analysis.themes import NO_THEME, with_themes
from survey_app.analysis.variance import Design
from survey_app.analysis.weighting import rake
from survey_app.analysis.estimates import estimate_item
from survey_app.extensions import db
from survey_app.models import Answer, Question, Survey
from survey_app.synthetic import PROBLEM_THEMES

from .staff_helpers import make_user
from .test_weighting import DEMO_MARGINS

REL = 1e-9
# The demo's written answers by the starter codebook's theme labels, as a person would code them.
THEMES = PROBLEM_THEMES


@pytest.fixture
def coded(app):
    from survey_app.cli import create_demo_survey

    survey = create_demo_survey(responses=3000, seed=5)
    question = db.session.scalar(select(Question).where(Question.survey_id == survey.id,
                                                        Question.code == "top_problem"))
    written_coding.add_starter_codebook(question)
    numbers = {t.label: t.number for t in written_coding.themes(question)}
    coder = make_user("editor")
    answers = db.session.execute(select(Answer.response_id, Answer.text).where(Answer.question_id == question.id)
                                 .order_by(Answer.response_id)).all()
    rng = np.random.default_rng(3)
    coded_ids = [r for r, _ in answers if rng.random() < 0.8]  # a fifth not coded yet: left out of the base
    texts = dict(answers)
    for response_id in coded_ids:
        written_coding.code_answer(question, response_id, [numbers[label] for label in THEMES[texts[response_id]]],
                                   coder)
    return survey, question, numbers, set(coded_ids), texts


def test_theme_shares_and_ses_equal_svy_on_the_theme_indicators(coded):
    survey, question, numbers, coded_ids, texts = coded
    with db.engine.connect() as connection:
        codebook = load_codebook(connection, survey.slug)
        data = with_themes(connection, load_survey_data(connection, codebook))
    item = data.codebook.question("top_problem_themes")
    assert [label for _, label in item.options][-1] == "No theme" and item.options[-1][0] == NO_THEME
    weights = rake(data.frame, DEMO_MARGINS, data.codebook)
    design = Design.from_weights(weights)
    ours = estimate_item(data.frame, design, item, by="district", codebook=data.codebook).to_dict("records")
    overall = estimate_item(data.frame, design, item, codebook=data.codebook).to_dict("records")

    # The reference: a 0/1 indicator per theme for each coded respondent (missing otherwise),
    # built from the codings directly, through svy after the same raking.
    ids = data.frame.index.to_numpy()
    indicator = {}
    for label, number in list(numbers.items()) + [("No theme", NO_THEME)]:
        mentions = {r for r in coded_ids if (label in THEMES[texts[r]]) or (number == NO_THEME and not THEMES[texts[r]])}
        indicator[number] = np.array([(1.0 if r in mentions else 0.0) if r in coded_ids else np.nan for r in ids])
    columns = {v: c for v, c in weights.categories.items()}
    columns["group"] = data.frame["district"].astype("float64").to_numpy()
    columns["_w"] = np.ones(len(ids))
    for number, values in indicator.items():
        columns[f"t{number}"] = values
    sample = svy.Sample(pl.DataFrame(columns).fill_nan(None), svy.Design(wgt="_w"))
    raked = sample.weighting.rake(controls=weights.controls, tol=1e-12, max_iter=1000)
    checked = 0
    for number in indicator:
        if number not in [code for code, _ in item.options]:
            continue
        theirs = raked.estimation.mean(f"t{number}", drop_nulls=True).to_polars().row(0, named=True)
        got = next(r for r in overall if r["statistic"] == "percent" and r["option"] == number)
        assert got["estimate"] == pytest.approx(100 * theirs["est"], rel=REL)
        assert got["se"] == pytest.approx(100 * theirs["se"], rel=REL)
        assert got["n"] == len(coded_ids)
        for record in raked.estimation.mean(f"t{number}", by="group", drop_nulls=True).to_polars().iter_rows(named=True):
            got = next(r for r in ours if r["statistic"] == "percent" and r["option"] == number
                       and r["group"] == int(record["group"]))
            assert got["estimate"] == pytest.approx(100 * record["est"], rel=REL, abs=1e-12)
            assert got["se"] == pytest.approx(100 * record["se"], rel=REL, abs=1e-12)
            checked += 1
    assert checked >= 9 * 4  # every theme used, in every district


def test_published_themes_with_coding_in_the_methodology_open_data_and_spanish(coded, app):
    survey, question, numbers, coded_ids, texts = coded
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    results = read_results(app.config["GENERATED_DIR"], survey.slug)
    item = next(q for q in results["questions"] if q["code"] == "top_problem_themes")
    assert item["kind"] == "multi" and item["text"] == question.text
    assert item["coding"]["coded"] == len(coded_ids) and item["coding"]["answered"] == len(texts)
    assert item["coding"]["coders"] == 1 and item["coding"]["double_coded"] == 0
    drugs = next(r for r in item["estimates"]["overall"] if r["option"] == numbers["Drugs"])
    assert 5 < drugs["estimate"] < 25 and not drugs.get("suppressed")
    # Police conduct: nobody mentions it; Other: likewise. A share of 0 is shown (no respondent
    # is described by it), the same rule as an option nobody chose.
    # Spanish: the codebook's translated labels; English and Spanish pages both exist.
    spanish = results["translations"]["es"]
    es_item = spanish["items"]["top_problem_themes"]
    assert es_item["labels"][str(numbers["Drugs"])] == "Drogas" and es_item["labels"][str(NO_THEME)] == "Ningún tema"

    snapshot = publishing.publish(survey, app.config["GENERATED_DIR"])
    rows = list(csv.DictReader(io.StringIO((publishing.snapshot_dir(app.config["GENERATED_DIR"], snapshot)
                                            / "data.csv").read_text("utf-8"))))
    themed = [r for r in rows if r["item_code"] == "top_problem_themes"]
    assert {r["option_label"] for r in themed} >= {"Drugs", "Property crime", "No theme"}
    assert {r["group_variable"] for r in themed} >= {"", "district"}
    page = app.test_client().get(f"/results/{survey.slug}").get_data(as_text=True)
    assert "Property crime" in page and f"{len(coded_ids):,} of {len(texts):,} written answers coded" in page
    assert "Written answers coded into themes" in page and "No sample was coded a second time" in page
    assert "Percent mentioning each theme by group" in page
    assert not any(words in page for words in THEMES)  # the words residents wrote never appear
    document = json.loads(app.test_client().get(f"/results/{survey.slug}/v1/data.json").get_data())
    assert "Drug dealing near the park" not in json.dumps(document)


def test_a_theme_in_a_small_group_is_hidden(app):
    """Disclosure control as for every item: a district with fewer coded answers than the
    minimum cell size shows none of its theme shares."""
    from survey_app.cli import create_demo_survey

    survey = create_demo_survey(responses=200, seed=8)
    question = db.session.scalar(select(Question).where(Question.survey_id == survey.id,
                                                        Question.code == "top_problem"))
    written_coding.add_starter_codebook(question)
    coder = make_user("editor")
    district = db.session.scalar(select(Question).where(Question.survey_id == survey.id, Question.code == "district"))
    in_district = {r: v for r, v in db.session.execute(select(Answer.response_id, Answer.value)
                                                         .where(Answer.question_id == district.id))}
    answers = db.session.scalars(select(Answer.response_id).where(Answer.question_id == question.id)).all()
    few = [r for r in answers if in_district.get(r) == 1][:3]  # 3 coded answers in district 1
    rest = [r for r in answers if in_district.get(r) != 1]
    for response_id in few + rest:
        written_coding.code_answer(question, response_id, [2], coder)
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    item = next(q for q in read_results(app.config["GENERATED_DIR"], survey.slug)["questions"]
                if q["code"] == "top_problem_themes")
    by_district = next(b for b in item["estimates"]["breakdowns"] if b["variable"] == "district")
    small = [r for r in by_district["rows"] if r["group"] == 1]
    assert small and all(r.get("suppressed") and r.get("estimate") is None for r in small)
    assert any(not r.get("suppressed") for r in by_district["rows"] if r["group"] != 1)


def test_the_demo_comes_with_coded_answers_a_second_coding_and_published_themes(app, runner):
    assert runner.invoke(args=["seed-demo", "--responses", "600"]).exit_code == 0
    assert runner.invoke(args=["analyze", "community-trust"]).exit_code == 0
    item = next(q for q in read_results(app.config["GENERATED_DIR"], "community-trust")["questions"]
                if q["code"] == "top_problem_themes")
    coding = item["coding"]
    assert 0.8 * coding["answered"] <= coding["coded"] <= 0.9 * coding["answered"]
    assert coding["double_coded"] == 60 and 0.5 < coding["kappa_mean"] < 1
    shown = [r for r in item["estimates"]["overall"] if not r.get("suppressed")]
    assert len(shown) >= 8


def test_the_coding_summary_counted_by_hand():
    """Four answers coded twice: two the coders themed alike, two differently, of which one was
    settled; one main coding whose coder is not on record."""
    from survey_app.analysis.themes import coding_summary

    by_role = {"main": {1: ([1], 7), 2: ([1, 2], 7), 3: ([2], 8), 4: ([], 7), 5: ([1], None)},
               "check": {1: ([1], 9), 2: ([2, 1], 9), 3: ([1], 9), 4: ([2], 9), 6: (None, None)},
               "final": {3: ([1, 2], 7)}}
    summary = coding_summary([(1, "Speeding"), (2, "Drugs")], by_role, answered=9)
    assert (summary["coded"], summary["coders"], summary["unrecorded"]) == (5, 2, 1)
    assert (summary["double_coded"], summary["disagreed"], summary["settled"]) == (4, 2, 1)
    # Speeding: both yes 2 (1, 2), first only 0, second only 1 (3), neither 1 (4): observed .75,
    # chance .5 x .75 + .5 x .25 = .5, kappa .5.
    assert summary["agreement"][0]["kappa"] == pytest.approx(0.5)


def test_the_methodology_says_how_many_answers_the_coders_themed_differently(app, runner):
    assert runner.invoke(args=["seed-demo", "--responses", "600"]).exit_code == 0
    assert runner.invoke(args=["analyze", "community-trust"]).exit_code == 0
    coding = next(q for q in read_results(app.config["GENERATED_DIR"], "community-trust")["questions"]
                  if q["code"] == "top_problem_themes")["coding"]
    assert coding["disagreed"] > 0 and coding["settled"] == 0 and coding["unrecorded"] == coding["coded"]
    survey = db.session.scalar(select(Survey).where(Survey.slug == "community-trust"))
    publishing.publish(survey, app.config["GENERATED_DIR"])
    page = " ".join(app.test_client().get("/results/community-trust").get_data(as_text=True).split())
    assert (f"They gave {coding['disagreed']} of them different themes; none was settled yet, so the first "
            "coder’s themes are used.") in page
    assert f"Who coded {coding['coded']:,} answers is not on record." in page
    assert "Written answers are never published." in page and "Residents’ own words are never published." in page


def test_a_theme_without_a_spanish_name_is_flagged_before_the_results_go_out_in_english_only(coded, app, client):
    from .staff_helpers import sign_in

    survey, question, numbers, coded_ids, texts = coded
    noise = written_coding.add_theme(question, "Noise")  # no Spanish name
    sign_in(client, "editor@city.example")  # the fixture's coder
    book = " ".join(client.get(f"/staff/surveys/{survey.id}/written/top_problem/codebook").get_data(as_text=True).split())
    assert "No name in Español yet for 1 theme: “Noise”." in book
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    results = read_results(app.config["GENERATED_DIR"], survey.slug)
    assert "es" not in results["translations"]
    [doubt] = [d for d in results["methodology"]["doubts"] if d["kind"] == "untranslated"]
    assert doubt["language"] == "es" and doubt["missing"] == 1 and not doubt["public"]
    assert "published in English only, not in Spanish" in doubt["message"]
    assert f"the theme “Noise” of “{question.text}”" in doubt["message"]
    publisher = app.test_client()
    sign_in(publisher, make_user("admin").email)
    staff = publisher.get(f"/staff/surveys/{survey.id}/results").get_data(as_text=True)
    assert "Check before publishing" in staff and "published in English only, not in Spanish" in staff

    written_coding.change_theme(question, noise, "Noise", {"es": "Ruido"})
    assert "No name in" not in client.get(f"/staff/surveys/{survey.id}/written/top_problem/codebook").get_data(as_text=True)
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    results = read_results(app.config["GENERATED_DIR"], survey.slug)
    assert "es" in results["translations"]
    assert not [d for d in results["methodology"]["doubts"] if d["kind"] == "untranslated"]
