"""Question types in one place each (questionnaire/question_types/): no code outside the
registry branches on a named type, and the 0-10 scale, added as one module, works from the
definition to the resident's form, storage, CSV import, staff settings, estimates with SEs
checked by hand, the index and the published headline."""
from __future__ import annotations

import html
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from survey_app.analysis.estimates import estimate_item
from survey_app.analysis.frame import Codebook, QuestionInfo
from survey_app.analysis.indices import item_scores
from survey_app.analysis.variance import Design
from survey_app.analysis.weighting import unweighted
from survey_app.extensions import db
from survey_app.models import Answer
from survey_app.questionnaire.definition import DefinitionError, definition_from_survey, survey_from_definition
from survey_app.questionnaire.question_types import QUESTION_TYPES, question_type

from .factories import make_survey, option_id, submit
from .reference_survey import domain_mean_plain
from .staff_helpers import make_user, post, sign_in

ROOT = Path(__file__).resolve().parent.parent / "survey_app"


def test_no_code_outside_the_registry_branches_on_a_named_question_type():
    names = "|".join(map(re.escape, QUESTION_TYPES))
    literal = rf"""['"](?:{names})['"]"""
    branch = re.compile(rf"""type\W{{0,3}}\s*(?:==|!=)\s*{literal}|{literal}\s*(?:==|!=)\s*\w*\.?type\b"""
                        rf"""|type\W{{0,3}}\s+(?:not\s+)?in\s*[\(\[][^\)\]]*{literal}""")
    found = []
    for path in list(ROOT.rglob("*.py")) + list(ROOT.rglob("*.html")) + list(ROOT.rglob("*.js")):
        if "question_types" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if branch.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


_KINDS = r"""(?:\b(?:CATEGORICAL|ORDINAL|MULTI|NUMERIC|TEXT|GROUP)\b|['"](?:categorical|ordinal|multi|numeric|text|group)['"])"""
KIND_BRANCH = re.compile(rf"""\bkind\W{{0,3}}\s*(?:==|!=)\s*{_KINDS}|\bkind\W{{0,3}}\s+(?:not\s+)?in\s*[\(\[][^\)\]]*{_KINDS}""")


def test_no_code_outside_the_registry_branches_on_a_kind_of_question_either():
    """The analysis's kinds (types.CATEGORICAL ...) are what a type is, for the analysis; shared code
    asks the type (its estimates, tables, chart...) instead of testing the kind."""
    found = []
    for path in list(ROOT.rglob("*.py")) + list(ROOT.rglob("*.html")):
        if "question_types" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if KIND_BRANCH.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
    for line in ("if question.kind == ORDINAL:", "{% if q.kind in ('numeric', 'index') %}", 'if item["kind"] != TEXT:'):
        assert KIND_BRANCH.search(line), line


def test_the_check_finds_a_branch_when_there_is_one():
    """The pattern above must recognise the branches it is meant to forbid."""
    names = "|".join(map(re.escape, QUESTION_TYPES))
    literal = rf"""['"](?:{names})['"]"""
    branch = re.compile(rf"""type\W{{0,3}}\s*(?:==|!=)\s*{literal}|{literal}\s*(?:==|!=)\s*\w*\.?type\b"""
                        rf"""|type\W{{0,3}}\s+(?:not\s+)?in\s*[\(\[][^\)\]]*{literal}""")
    for line in ('if question.type == "scale":', "{% if q.type in ('matrix', 'text') %}", 'if item["type"] != "numeric":',
                 "if 'dropdown' == question.type:"):
        assert branch.search(line), line
    assert not branch.search('if item["type"] == question.type:')


SCORE = {"slug": "scores", "title": "Scores", "pages": [{"title": "P", "questions": [
    {"code": "trust_score", "type": "scale_0_10", "text": "How much do you trust the police, 0 to 10?",
     "required": True, "construct": "overall_trust",
     "config": {"low_label": "Not at all", "high_label": "Completely", "dont_know": True}},
    {"code": "safety_score", "type": "scale_0_10", "text": "How safe do you feel, 0 to 10?",
     "construct": "overall_trust", "config": {"low_label": "Not safe", "high_label": "Very safe", "dont_know": False}},
    {"code": "district", "type": "dropdown", "text": "District?", "construct": "demographics",
     "options": [{"code": 1, "label": "North"}, {"code": 2, "label": "South"}]},
]}]}


def test_a_0_10_scale_is_defined_by_its_ends_and_keeps_its_points():
    survey = survey_from_definition(SCORE)
    trust = survey.questions[0]
    assert [(o.code, o.label) for o in trust.options][:2] == [(0, "0 – Not at all"), (1, "1")]
    assert [o.code for o in trust.options] == list(range(11)) + [-1]
    assert [o.code for o in survey.questions[1].options] == list(range(11))  # no "don't know"
    exported = definition_from_survey(survey)["pages"][0]["questions"][0]
    assert "options" not in exported and exported["config"]["high_label"] == "Completely"
    bad = {**SCORE, "pages": [{"title": "P", "questions": [{**SCORE["pages"][0]["questions"][0],
                                                           "config": {"low_label": " "}}]}]}
    with pytest.raises(DefinitionError, match=r"config\.low_label: must be words"):
        survey_from_definition(bad)
    with_options = {**SCORE, "pages": [{"title": "P", "questions": [{**SCORE["pages"][0]["questions"][0],
                                                                    "options": [{"code": 1, "label": "x"}]}]}]}
    with pytest.raises(DefinitionError, match="options come from its config"):
        survey_from_definition(with_options)


def test_a_resident_answers_0_and_it_is_stored_as_0(client, app):
    survey = make_survey(SCORE)
    response = submit(client, survey, {"q_trust_score": option_id(survey, "trust_score", 0),
                                       "q_safety_score": option_id(survey, "safety_score", 10)})
    assert response.status_code == 303
    stored = {a.question_id: a.value for a in db.session.scalars(select(Answer))}
    assert sorted(stored.values()) == [0, 10]


def test_the_0_10_widget_lays_out_eleven_points_and_dont_know_apart(client, app):
    survey = make_survey(SCORE)
    sign_in(client, make_user("editor").email)
    page = client.get(f"/staff/surveys/{survey.id}/preview").get_data(as_text=True)
    block = page[page.index('data-question="trust_score"'):page.index('data-question="safety_score"')]
    assert block.count('type="radio"') == 12 and 'class="choices points"' in block
    assert 'class="choices choices-apart"' in block  # "don't know" set apart from the points
    assert "0 – Not at all" in block and "10 – Completely" in block


def test_csv_import_takes_points_0_to_10_and_refuses_11(client, app):
    survey = make_survey(SCORE)
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/responses"
    reply = post(client, f"{path}/import", {"file": (io.BytesIO(b"trust_score,safety_score\n0,10\n11,5\n-1,0\n"),
                                                     "scores.csv")}, token_page=path, content_type="multipart/form-data")
    page = client.get(reply.location).get_data(as_text=True)
    assert "Nothing was imported: 1 problem" in page and "&#39;11&#39; is not an answer code" in page
    reply = post(client, f"{path}/import", {"file": (io.BytesIO(b"trust_score,safety_score\n0,10\n-1,0\n"),
                                                     "scores.csv")}, token_page=path, content_type="multipart/form-data")
    assert "Imported 2 responses" in client.get(reply.location).get_data(as_text=True)
    assert sorted(a.value for a in db.session.scalars(select(Answer))) == [-1, 0, 0, 10]


def test_staff_create_a_0_10_question_with_its_own_settings(client, app):
    survey = make_survey(status="draft")
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/questions/new"
    form = client.get(path).get_data(as_text=True)
    assert "<legend>0-10 scale</legend>" in form and 'name="low_label"' in form
    reply = post(client, path, {"type": "scale_0_10", "code": "score", "text": "Trust, 0 to 10?",
                                "low_label": "None", "high_label": "Total", "page_id": str(survey.pages[0].id),
                                "construct": ""}, token_page=path)
    assert reply.status_code == 303, reply.get_data(as_text=True)[:2000]
    db.session.expire_all()
    score = next(q for q in survey.questions if q.code == "score")
    assert score.config == {"low_label": "None", "high_label": "Total", "dont_know": False}
    assert [o.label for o in score.options][-1] == "10 – Total" and len(score.options) == 11


def _codebook():
    options = tuple((p, str(p)) for p in range(11)) + ((-1, "Don't know"),)
    return QuestionInfo(1, "score", "scale_0_10", "Score?", "p", options, {}, "overall_trust", False)


def test_mean_and_share_at_7_to_10_with_their_standard_errors_by_hand():
    question = _codebook()
    points = [0, 3, 5, 7, 7, 8, 9, 10, 10, 2, 6, -1]  # the last: "don't know", left out
    frame = pd.DataFrame({"score": pd.Categorical(points, categories=[c for c, _ in question.options], ordered=True)})
    table = estimate_item(frame, Design.from_weights(unweighted(len(points))), question)
    valid = np.array([p for p in points if p >= 0], dtype=float)
    n, everyone = len(valid), len(points)
    # "Don't know" is a respondent outside the domain of those answering (as R's survey's subset):
    # the linearised variance is N/(N-1) * sum of squared residuals of those answering / n^2.
    mean = table[table["statistic"] == "mean"].iloc[0]
    assert mean["estimate"] == pytest.approx(valid.mean())
    by_hand = math.sqrt(everyone / (everyone - 1) * np.sum((valid - valid.mean()) ** 2)) / n
    assert mean["se"] == pytest.approx(by_hand, rel=1e-12)
    top = table[table["statistic"] == "percent_agree"].iloc[0]
    indicator = (valid >= 7).astype(float)
    share = indicator.mean()
    assert (top["estimate"], top["count"], top["n"]) == (pytest.approx(100 * share), 6, 11)
    by_hand = math.sqrt(everyone / (everyone - 1) * np.sum((indicator - share) ** 2)) / n
    assert top["se"] == pytest.approx(100 * by_hand, rel=1e-12)
    # A second method: the reference implementation of a domain mean's influence functions.
    y = np.array([p if p >= 0 else np.nan for p in points], dtype=float)
    _, se = domain_mean_plain(y, np.ones(everyone, dtype=bool), np.ones(everyone), None)
    assert mean["se"] == pytest.approx(se, rel=1e-12)
    _, se = domain_mean_plain(np.where(np.isnan(y), np.nan, (y >= 7).astype(float)), np.ones(everyone, dtype=bool),
                              np.ones(everyone), None)
    assert top["se"] == pytest.approx(100 * se, rel=1e-12)


def test_an_index_takes_the_0_10_points_as_0_to_100():
    question = _codebook()
    series = pd.Series(pd.Categorical([0, 7, 10, -1], categories=[c for c, _ in question.options], ordered=True))
    scores = item_scores(series, question)
    assert scores[:3].tolist() == [0.0, 70.0, 100.0] and math.isnan(scores[3])


def test_the_bank_has_0_10_trust_and_safety_scores():
    from survey_app.questionnaire.bank import built_in_items

    scores = {i["code"]: i for i in built_in_items() if i["type"] == "scale_0_10"}
    assert {"trust_score", "safety_score"} <= set(scores)
    survey_from_definition({"slug": "bank", "title": "Bank", "pages": [{"title": "P", "questions": list(scores.values())}]})


def test_every_registered_type_answers_what_shared_code_asks():
    for name, kind in QUESTION_TYPES.items():
        assert question_type(name) is kind and kind.label and kind.kind
        if kind.stores_answers:
            assert kind.widget, name
            assert (ROOT / "templates" / "question_types" / f"{kind.widget}.html").exists(), name


def test_a_0_10_scale_from_responses_to_the_published_page_and_open_data(client, app):
    import csv

    from survey_app import publishing
    from survey_app.analysis.pipeline import analyze_survey

    from .factories import add_response

    survey = make_survey(SCORE)
    # Every point 0-10 chosen by 12 residents: no point below the minimum cell size of 10 (a
    # point chosen by fewer is hidden, and with it the mean, which would be one more equation on it).
    points = [(i * 7) % 11 for i in range(132)]
    for i, point in enumerate(points):
        add_response(survey, trust_score=point, safety_score=10 - point, district=1 + i % 2)
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    publishing.publish(survey, app.config["GENERATED_DIR"])
    share = 100 * sum(p >= 7 for p in points) / len(points)
    page = client.get("/results/scores").get_data(as_text=True)
    assert f"<strong>{share:.0f}%</strong> answered from “7” to “10 – Completely”" in page
    assert '<th scope="row">Mean on 0 to 10</th>' in page  # its own points, not a 5-point scale's
    assert "Percent answering 7 to 10 by group, with 95% confidence intervals" in html.unescape(page)
    rows = list(csv.DictReader(io.StringIO(client.get("/results/scores/v1/data.csv").get_data(as_text=True))))
    figures = {r["statistic"]: r for r in rows if r["item_code"] == "trust_score" and r["group_variable"] == ""}
    assert float(figures["percent_agree"]["estimate"]) == pytest.approx(share)
    assert float(figures["mean"]["estimate"]) == pytest.approx(sum(points) / len(points))
    # Both items feed the overall trust index, each on 0-100: (10 p + 10 (10 - p)) / 2 = 50 for everyone.
    index = [r for r in rows if r["item_code"] == "index_overall_trust" and r["statistic"] == "mean"]
    assert float(index[0]["estimate"]) == pytest.approx(50.0), index


def test_a_0_10_scale_from_the_bank_is_fully_prefilled_in_spanish(app):
    from survey_app.questionnaire import translation
    from survey_app.questionnaire.bank import item_by_code

    survey = make_survey({"slug": "es-scores", "title": "Scores", "pages": [{"title": "P", "questions": [
        item_by_code("trust_score"), item_by_code("safety_score")]}]})
    translation.prefill(survey, "es")
    coverage = translation.coverage(survey, "es")
    assert set(coverage.missing) == {"Scores", "P"}  # this test's own titles; every question text is done
    labels = {o.code: (o.translations or {}).get("es", {}).get("label") for o in survey.questions[0].options}
    assert labels[0] == "0 – Nada" and labels[5] == "5" and labels[10] == "10 – Totalmente" and labels[-1] == "No sé"


RANDOM = {"slug": "random", "title": "Priorities", "pages": [{"title": "P", "questions": [
    {"code": "priority", "type": "single_choice", "text": "What should the police focus on?", "required": True,
     "config": {"random_order": True},
     "options": [{"code": c, "label": label} for c, label in enumerate(
         ["Traffic", "Burglary", "Drugs", "Violence", "Youth", "Noise", "Fraud"], start=1)]
     + [{"code": -1, "label": "Don't know"}]},
    {"code": "issues", "type": "multiple_choice", "text": "Which worry you?", "config": {"random_order": True,
                                                                                       "other": True},
     "options": [{"code": c, "label": label} for c, label in enumerate(
         ["Speeding", "Theft", "Vandalism", "Litter", "Other (please specify)"], start=1)]},
    {"code": "district", "type": "dropdown", "text": "District?", "options": [{"code": 1, "label": "North"},
                                                                              {"code": 2, "label": "South"}]},
]}]}


def _order(page: str, code: str) -> list[int]:
    block = page[page.index(f'data-question="{code}"'):]
    block = block[:block.index("</fieldset>")]
    return [int(c) for c in re.findall(r'data-code="(-?\d+)"', block)]


def test_each_resident_sees_nominal_options_in_an_order_of_their_own(app):
    from .factories import start

    survey = make_survey(RANDOM)
    orders = []
    for _ in range(6):
        browser = app.test_client()
        assert start(browser, survey).status_code == 303
        page = browser.get(f"/s/{survey.slug}/page/1").get_data(as_text=True)
        order = _order(page, "priority")
        assert _order(browser.get(f"/s/{survey.slug}/page/1").get_data(as_text=True), "priority") == order  # reload
        assert sorted(order[:-1]) == list(range(1, 8)) and order[-1] == -1  # "don't know" stays last
        issues = _order(page, "issues")
        assert issues[-1] == 5 and sorted(issues) == [1, 2, 3, 4, 5]  # "other" stays last
        orders.append(tuple(order))
        # The answer is the option's code whatever its place.
        chosen = option_id(survey, "priority", order[0])
        reply = browser.post(f"/s/{survey.slug}/page/1", data={
            "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1], "action": "next",
            "q_priority": chosen})
        assert reply.status_code == 303, reply.status_code
    assert len(set(orders)) > 1  # 6 residents, 5,040 orders: the same for all would be one in 10^18
    stored = sorted(a.value for a in db.session.scalars(select(Answer)))
    assert stored == sorted(order[0] for order in orders)


def test_staff_pages_show_the_order_as_defined(client, app):
    survey = make_survey(RANDOM)
    sign_in(client, make_user("editor").email)
    page = client.get(f"/staff/surveys/{survey.id}/preview").get_data(as_text=True)
    assert _order(page, "priority") == [1, 2, 3, 4, 5, 6, 7, -1]


def test_ordered_options_and_scales_refuse_a_random_order():
    ordered = {**RANDOM, "pages": [{"title": "P", "questions": [{
        **RANDOM["pages"][0]["questions"][0], "config": {"random_order": True, "ordered": "first_high"}}]}]}
    with pytest.raises(DefinitionError, match="ordered options keep their order"):
        survey_from_definition(ordered)
    scale = {**RANDOM, "pages": [{"title": "P", "questions": [{"code": "t", "type": "scale", "text": "T?",
                                                               "config": {"random_order": True}}]}]}
    with pytest.raises(DefinitionError, match="a scale's points keep their order"):
        survey_from_definition(scale)
