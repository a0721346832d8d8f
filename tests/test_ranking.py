"""The ranking question type (questionnaire/question_types/ranking.py), added as one module: its
definition, the resident's select boxes and their checks, storage, CSV import, the staff form,
the share ranking each option first and each option's mean rank with linearised SEs (by hand, by
the reference influence functions after raking, and by svy), disclosure control of the whole
rank table, and the published page and open data."""
from __future__ import annotations

import csv
import html
import io
import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
import svy
from sqlalchemy import select

from survey_app.analysis.disclosure import Release, protect_whole
from survey_app.analysis.estimates import estimate_item
from survey_app.analysis.frame import QuestionInfo
from survey_app.analysis.variance import Design
from survey_app.analysis.weighting import rake, unweighted
from survey_app.extensions import db
from survey_app.models import Answer
from survey_app.questionnaire.definition import DefinitionError, definition_from_survey, survey_from_definition
from survey_app.questionnaire.question_types.ranking import TYPE, pack, places, unpack

from .factories import add_response, make_survey, option_id, submit
from .reference_survey import domain_mean_plain
from .staff_helpers import make_user, post, sign_in
from .test_weighting import DEMO_MARGINS

OPTIONS = ["Speeding and traffic", "Burglary", "Drugs", "Violence", "Youth"]
RANKING = {"slug": "priorities", "title": "Priorities", "pages": [{"title": "P", "questions": [
    {"code": "priority", "type": "ranking", "text": "What should the police focus on? Rank up to three.",
     "required": True, "config": {"ranks": 3},
     "options": [{"code": c, "label": label} for c, label in enumerate(OPTIONS, start=1)]},
    {"code": "district", "type": "dropdown", "text": "District?", "construct": "demographics",
     "options": [{"code": 1, "label": "North"}, {"code": 2, "label": "South"}]},
]}]}


def _with(**question) -> dict:
    first = {**RANKING["pages"][0]["questions"][0], **question}
    return {**RANKING, "pages": [{"title": "P", "questions": [first]}]}


# --- the definition and storage ----------------------------------------------------------------

def test_a_ranking_is_defined_by_its_options_and_how_many_places():
    survey = survey_from_definition(RANKING)
    question = survey.questions[0]
    assert question.config == {"ranks": 3} and [o.code for o in question.options] == [1, 2, 3, 4, 5]
    exported = definition_from_survey(survey)["pages"][0]["questions"][0]
    assert exported["config"]["ranks"] == 3 and len(exported["options"]) == 5
    for config, message in (({"ranks": 6}, "asks for 6 places but the question has 5 options"),
                            ({"ranks": 1}, "must be a whole number from 2 to 7"),
                            ({"ranks": 3, "other": True}, "no \"Other"),
                            ({"ranks": 3, "ordered": "first_high"}, "no order of their own")):
        with pytest.raises(DefinitionError, match=message):
            survey_from_definition(_with(config=config))
    with pytest.raises(DefinitionError, match="must be 1 to 15 in a ranking question"):
        survey_from_definition(_with(options=[{"code": 1, "label": "A"}, {"code": 16, "label": "B"}]))
    with pytest.raises(DefinitionError, match="must be 1 to 15"):  # no "don't know": a resident skips instead
        survey_from_definition(_with(options=[{"code": 1, "label": "A"}, {"code": 2, "label": "B"},
                                              {"code": -1, "label": "Don't know"}]))


def test_rankings_pack_into_a_32_bit_value_and_back():
    assert pack([3, 1, 5]) == 3 + 16 * 1 + 256 * 5 and unpack(pack([3, 1, 5])) == [3, 1, 5]
    assert pack([15] * 7) < 2 ** 31  # the longest ranking fits the signed 32-bit column
    assert places(np.array([pack([3, 1, 5]), pack([2])]), [1, 2, 3, 4, 5], 3).tolist() == [
        [2, 4, 1, 4, 3], [4, 1, 4, 4, 4]]  # not ranked: 3 + 1


def test_stored_rankings_are_checked_one_by_one_and_for_a_whole_column_alike():
    survey = survey_from_definition(RANKING)
    question = survey.questions[0]
    good = [pack([3, 1, 5]), pack([2]), pack([5, 4])]
    bad = [pack([3, 0, 1]), pack([1, 1]), pack([1, 2, 3, 4]), pack([6]), -1, 2 ** 31 - 1]
    for value in good:
        TYPE.check_stored(question, value, None, None)
    for value in bad:
        with pytest.raises(Exception, match="not"):
            TYPE.check_stored(question, value, None, None)
    info = QuestionInfo(1, "priority", "ranking", "P?", "p", tuple((o.code, o.label) for o in question.options),
                        {"ranks": 3}, None, False)
    values = np.array(good + bad, dtype=np.int64)
    refused = TYPE.unusable(info, values, np.ones(len(values), dtype=bool))["not_an_option"]
    assert refused.tolist() == [False] * len(good) + [True] * len(bad)


# --- the resident --------------------------------------------------------------------------------

def _ids(survey, *codes):
    return [option_id(survey, "priority", c) if c else "" for c in codes]


def test_a_resident_ranks_three_and_the_codes_are_stored_in_order(client, app):
    survey = make_survey(RANKING)
    reply = submit(client, survey, {"q_priority": _ids(survey, 3, 1, 5), "q_district": option_id(survey, "district", 1)})
    assert reply.status_code == 303
    values = sorted(a.value for a in db.session.scalars(select(Answer)))
    assert pack([3, 1, 5]) in values


def test_fewer_places_are_fine_and_the_empty_ones_are_ignored(client, app):
    survey = make_survey(RANKING)
    assert submit(client, survey, {"q_priority": _ids(survey, 4, None, None)}).status_code == 303
    assert [a.value for a in db.session.scalars(select(Answer))] == [4]


@pytest.mark.parametrize("codes, message", [
    ((2, 2, None), "Please choose each answer only once."),
    ((2, None, 3), "Please fill in your choices in order, from the first, without leaving a gap."),
    ((None, None, None), "Please choose at least your first choice."),
])
def test_a_wrong_ranking_is_explained_and_the_choices_are_kept(client, app, codes, message):
    survey = make_survey(RANKING)
    reply = submit(client, survey, {"q_priority": _ids(survey, *codes)})
    assert reply.status_code == 422
    page = html.unescape(reply.get_data(as_text=True))
    assert message in page and 'href="#q_priority-first"' in page
    chosen = [c for c in codes if c]
    for code in chosen:  # each choice is still selected in its place
        assert f'value="{option_id(survey, "priority", code)}" data-code="{code}" selected' in page
    assert db.session.scalar(select(Answer.value)) is None


def test_a_forged_post_with_more_places_or_foreign_options_is_refused(client, app):
    survey = make_survey(RANKING)
    for forged in (_ids(survey, 1, 2, 3, 4), _ids(survey, 1) + ["999999"], ["x"]):
        reply = submit(client, survey, {"q_priority": forged})
        assert reply.status_code == 422 and "Please choose one of the answers listed." in html.unescape(
            reply.get_data(as_text=True))
    assert db.session.scalar(select(Answer.value)) is None


def test_the_widget_has_a_labelled_select_per_place(client, app):
    survey = make_survey(RANKING)
    sign_in(client, make_user("editor").email)
    page = client.get(f"/staff/surveys/{survey.id}/preview").get_data(as_text=True)
    block = page[page.index('data-question="priority"'):page.index('data-question="district"')]
    assert block.count("<select") == 3 and block.count('name="q_priority"') == 3
    for place, label in (("first", "1st choice"), ("2", "2nd choice"), ("3", "3rd choice")):
        assert f'<label for="q_priority-{place}">{label}</label>' in block
    assert "Choose up to 3, your first choice first." in block


def test_csv_import_takes_codes_in_rank_order(client, app):
    survey = make_survey(RANKING)
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/responses"
    reply = post(client, f"{path}/import", {"file": (io.BytesIO(b"priority,district\n3;1;5,1\n2;2,1\n1;9,2\n"),
                                                     "ranks.csv")}, token_page=path, content_type="multipart/form-data")
    page = html.unescape(client.get(reply.location).get_data(as_text=True))
    assert "Nothing was imported: 2 problems" in page and "'9' is not an answer code" in page
    assert "Please choose each answer only once." in page
    reply = post(client, f"{path}/import", {"file": (io.BytesIO(b"priority,district\n3;1;5,1\n2,2\n"), "ranks.csv")},
                 token_page=path, content_type="multipart/form-data")
    assert "Imported 2 responses" in client.get(reply.location).get_data(as_text=True)
    question = survey.questions[0].id
    assert sorted(a.value for a in db.session.scalars(select(Answer).where(Answer.question_id == question))) == [
        2, pack([3, 1, 5])]


def test_staff_create_a_ranking_question(client, app):
    survey = make_survey(status="draft")
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/questions/new"
    form = client.get(path).get_data(as_text=True)
    assert "<legend>Ranking</legend>" in form and 'name="ranks"' in form
    fields = {"type": "ranking", "code": "focus", "text": "Rank what matters", "ranks": "2",
              "options": "Traffic\nBurglary\nDrugs", "page_id": str(survey.pages[0].id), "construct": ""}
    reply = post(client, path, {**fields, "other": "y"}, token_page=path)
    assert reply.status_code == 422 and "neither \"Other (please specify)\"" in html.unescape(reply.get_data(as_text=True))
    reply = post(client, path, fields, token_page=path)
    assert reply.status_code == 303, reply.get_data(as_text=True)[:2000]
    db.session.expire_all()
    focus = next(q for q in survey.questions if q.code == "focus")
    assert focus.config == {"ranks": 2} and [o.label for o in focus.options] == ["Traffic", "Burglary", "Drugs"]


# --- estimates -----------------------------------------------------------------------------------

def _info(ranks=3, n_options=5):
    return QuestionInfo(1, "priority", "ranking", "Priorities?", "p",
                        tuple((c, f"option {c}") for c in range(1, n_options + 1)), {"ranks": ranks}, None, False)


def _frame(rankings, **others):
    values = np.array([pack(r) for r in rankings], dtype=np.int32)
    return pd.DataFrame({"priority": pd.arrays.IntegerArray(values, mask=values == 0), **others})


def test_share_first_and_mean_rank_with_their_standard_errors_by_hand():
    rankings = [[3, 1, 5], [3, 2], [1], [2, 3, 1], [3, 1, 2], [5, 4, 3], [], [1, 3]]  # [] skipped the question
    question = _info()
    table = estimate_item(_frame(rankings), Design.from_weights(unweighted(len(rankings))), question)
    answered = [r for r in rankings if r]
    n, everyone = len(answered), len(rankings)

    def by_hand(y):  # a mean over those who answered; the skipper is outside the domain
        y = np.asarray(y, dtype=float)
        return y.mean(), math.sqrt(everyone / (everyone - 1) * np.sum((y - y.mean()) ** 2)) / n

    for code in range(1, 6):
        first = [1.0 if r[0] == code else 0.0 for r in answered]
        rank = [r.index(code) + 1 if code in r else 4 for r in answered]  # not ranked: 3 + 1
        got = table[(table["statistic"] == "percent") & (table["option"] == code)].iloc[0]
        estimate, se = by_hand(first)
        assert (got["estimate"], got["count"], got["n"]) == (pytest.approx(100 * estimate), sum(first), n)
        assert got["se"] == pytest.approx(100 * se, rel=1e-12, abs=1e-12)
        got = table[(table["statistic"] == "mean_rank") & (table["option"] == code)].iloc[0]
        estimate, se = by_hand(rank)
        assert got["estimate"] == pytest.approx(estimate, rel=1e-12) and got["se"] == pytest.approx(se, rel=1e-12)
        assert got["lci"] < got["estimate"] < got["uci"]
    shares = table[table["statistic"] == "percent"]["estimate"]
    assert shares.sum() == pytest.approx(100.0)  # everyone who answered ranked one option first
    # Every resident's places are 1..3 and 4 for each of the two others: the mean ranks add up to 1+2+3+4+4
    # for those who ranked three, less for those who ranked fewer (their unranked options all count 4).
    means = table[table["statistic"] == "mean_rank"]["estimate"]
    assert means.sum() == pytest.approx(np.mean([sum(range(1, len(r) + 1)) + 4 * (5 - len(r)) for r in answered]))


def test_after_raking_they_equal_the_reference_influence_functions_and_svy(demo):  # noqa: F811
    weights = rake(demo.frame, DEMO_MARGINS, demo.codebook)
    design = Design.from_weights(weights)
    rng = np.random.default_rng(11)
    n = len(demo.frame)
    district = demo.frame["district"].astype("float64").to_numpy()
    rankings = []
    for i in range(n):  # North favours option 1; some rank fewer than three; some skip
        k = 0 if rng.random() < 0.05 else int(rng.choice([1, 2, 3], p=[0.1, 0.2, 0.7]))
        appeal = rng.gumbel(size=5) + np.where(np.arange(5) == 0, 1.0 if district[i] == 1 else -0.5, 0.0)
        rankings.append([int(c) + 1 for c in np.argsort(-appeal)[:k]])
    frame = _frame(rankings, district=demo.frame["district"])
    question = _info()
    ours = pd.concat([estimate_item(frame, design, question),
                      estimate_item(frame, design, question, by="district", codebook=demo.codebook)])
    answered = np.array([bool(r) for r in rankings])
    checked = 0
    data = {v: c for v, c in weights.categories.items()}
    data["_w"] = np.ones(n)
    data["group"] = district
    for code in range(1, 6):
        first = np.where(answered, [1.0 if r and r[0] == code else 0.0 for r in rankings], np.nan)
        rank = np.where(answered, [r.index(code) + 1 if code in r else 4 for r in rankings], np.nan)
        data[f"first_{code}"], data[f"rank_{code}"] = first, rank
        for statistic, y, scale in (("percent", first, 100.0), ("mean_rank", rank, 1.0)):
            for group in (None, 1, 2):
                in_group = np.ones(n, dtype=bool) if group is None else district == group
                estimate, se = domain_mean_plain(y, in_group, weights.values, weights.categories)
                got = ours[(ours["statistic"] == statistic) & (ours["option"] == code)
                           & (ours["group"].isna() if group is None else ours["group"] == group)].iloc[0]
                assert got["estimate"] == pytest.approx(estimate * scale, rel=1e-9)
                assert got["se"] == pytest.approx(se * scale, rel=1e-9), (statistic, code, group, got["n"], in_group.sum())
                checked += 1
    assert checked == 30
    # svy, the reference implementation (R's rake + svymean), on the same indicators and places.
    sample = svy.Sample(pl.DataFrame(data).fill_nan(None), svy.Design(wgt="_w"))
    raked = sample.weighting.rake(controls=weights.controls, tol=1e-12, max_iter=1000)
    for code in (1, 4):
        for statistic, column, scale in (("percent", f"first_{code}", 100.0), ("mean_rank", f"rank_{code}", 1.0)):
            theirs = raked.estimation.mean(column, by="group", drop_nulls=True).to_polars()
            for record in theirs.iter_rows(named=True):
                got = ours[(ours["statistic"] == statistic) & (ours["option"] == code)
                           & (ours["group"] == int(record["group"]))].iloc[0]
                assert got["estimate"] == pytest.approx(record["est"] * scale, rel=1e-9)
                assert got["se"] == pytest.approx(record["se"] * scale, rel=1e-9)


# --- disclosure control ----------------------------------------------------------------------------

def test_the_whole_rank_table_is_published_whole_or_not_at_all():
    overall = np.array([30, 20, 10, 0])
    groups = np.array([[20, 10, 10, 0], [10, 10, 0, 0]])
    o, g = protect_whole(overall, groups, 10)
    assert not o.cells.any() and not g.cells.any() and not g.mean.any()
    small = np.array([[20, 10, 7, 0], [10, 10, 3, 0]])
    o, g = protect_whole(overall, small, 10)
    assert not o.mean[0] and g.mean.all() and g.cells.all() and not g.rows.any()  # groups hidden, n kept
    o, g = protect_whole(np.array([30, 20, 5, 0]), groups, 10)
    assert o.mean[0] and g.mean.all()  # the groups are never shown without their sum
    o, g = protect_whole(overall, groups, 10, blocked_groups=True)
    assert not o.mean[0] and g.mean.all()
    # An earlier version showed the table; a count that moved by 1 to 9 since hides it now.
    before = Release(n_responses=57, cells=groups.astype(float), rows=np.array([np.nan, np.nan]),
                     tops=np.full(2, np.nan), overall=overall.astype(float), total=np.nan, overall_top=np.nan)
    moved = np.array([[20, 10, 13, 0], [10, 10, 0, 0]])
    o, g = protect_whole(overall + [0, 0, 3, 0], moved, 10, [before])
    assert o.mean[0] and g.mean.all()
    # ... and so does a group's n that moved by 1 to 9, even when every cell moved by 10 or more.
    shifted = np.array([[30, 0, 20, 0], [10, 10, 0, 0]])  # group 1: 40 -> 50 people in a 2-option table
    o, g = protect_whole(np.array([40, 10, 20, 0]), shifted, 10, [before], row_sizes=2)
    assert g.mean.all()
    # An option added since a version that showed the table: the tables no longer compare, so not shown.
    wider = Release(n_responses=57, cells=np.full((2, 6), 10.0), rows=np.full(2, np.nan), tops=np.full(2, np.nan),
                    overall=np.full(6, 20.0), total=np.nan, overall_top=np.nan)
    o, g = protect_whole(overall, groups, 10, [wider])
    assert o.mean[0] and g.mean.all()


def _published(app, survey, responses):
    from survey_app import publishing
    from survey_app.analysis.pipeline import analyze_survey

    for ranking, district in responses:
        add_response(survey, priority=pack(ranking), district=district)
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    publishing.publish(survey, app.config["GENERATED_DIR"])


def test_a_ranking_from_responses_to_the_published_page_and_open_data(client, app):
    survey = make_survey(RANKING)
    # 20 residents of each of six patterns, all in the North (the South has none): every count of
    # the rank table is 0 or at least 20, so everything is shown.
    patterns = [[1, 2, 3], [1, 3, 2], [2, 1, 3], [3, 1], [1], [2, 3, 1]]
    responses = [(pattern, 1) for pattern in patterns for _ in range(20)]
    _published(app, survey, responses)
    page = html.unescape(client.get("/results/priorities").get_data(as_text=True))
    assert "the percent who ranked each answer first, and its mean rank (1 is first; an answer a person did " \
           "not rank counts as 4)" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/results/priorities/v1/data.csv").get_data(as_text=True))))
    overall = {(r["statistic"], r["option_code"]): r for r in rows
               if r["item_code"] == "priority" and r["group_variable"] == ""}
    first = {c: sum(p[0] == c for p, _ in responses) / len(responses) for c in range(1, 6)}
    mean_rank = {c: np.mean([p.index(c) + 1 if c in p else 4 for p, _ in responses]) for c in range(1, 6)}
    for code in range(1, 6):
        assert float(overall[("percent", str(code))]["estimate"]) == pytest.approx(100 * first[code])
        assert float(overall[("mean_rank", str(code))]["estimate"]) == pytest.approx(mean_rank[code])
        assert overall[("mean_rank", str(code))]["item_kind"] == "ranking"
    assert f"<td>{mean_rank[1]:.2f}</td>" in page
    chart = client.get("/results/priorities").get_data(as_text=True)
    assert "Bar chart of first choices" in html.unescape(chart)


def test_mean_ranks_by_group_are_hidden_together_when_one_count_is_small(client, app):
    from survey_app.analysis.differencing import check_draft, load_public_results

    survey = make_survey(RANKING)
    # North: 30 rank [1, 2], 20 rank [2, 1]; South: 27 rank [1, 2] and 3 rank [1, 3] (a count of 3:
    # option 3 in second place in the South).
    responses = [([1, 2], 1)] * 30 + [([2, 1], 1)] * 20 + [([1, 2], 2)] * 27 + [([1, 3], 2)] * 3
    _published(app, survey, responses)
    with db.engine.connect() as connection:
        public = load_public_results(connection, survey.id, app.config["GENERATED_DIR"])
    item = next(q for q in public[-1]["questions"] if q["code"] == "priority")
    overall = [r for r in item["estimates"]["overall"] if r["statistic"] == "mean_rank"]
    assert all(r["suppressed"] for r in overall)  # overall, option 3 in second place: 3 people
    by_district = item["estimates"]["breakdowns"][0]["rows"]
    ranks = [r for r in by_district if r["statistic"] == "mean_rank"]
    assert ranks and all(r["suppressed"] and r["estimate"] is None and r["counts"] == [None] * 4 for r in ranks)
    shown = [r for r in by_district if r["statistic"] == "percent" and r["option"] == 1]
    assert [r["estimate"] for r in shown] == [pytest.approx(60.0), pytest.approx(100.0)]  # first choices stay
    assert check_draft(public[-1], public[:-1]) == []
