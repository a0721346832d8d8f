"""The analysts' weighting page: margins by form or CSV (nothing stored on error), trimming, running
the analysis; editors may not."""
import html
import io
import json
import re

import pytest
from sqlalchemy import func, select

from survey_app.cli import create_demo_survey
from survey_app.extensions import db
from survey_app.models import AuditEntry, PopulationMargin
from survey_app.questionnaire.demo import DEMO_POPULATION

from .staff_helpers import make_user, post, sign_in


def margins_of(survey):
    rows = db.session.scalars(select(PopulationMargin).where(PopulationMargin.survey_id == survey.id)).all()
    return {(r.variable, r.category_code): r.population for r in rows}


def district_form(**changes):
    figures = dict(zip(range(1, 6), DEMO_POPULATION[0][2].values()))
    data = {"use_district": "y", "src_district": "Census 2020"}
    data.update({f"m_district_{code}": f"{value:,.0f}" for code, value in figures.items()})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_analyst_enters_margins_by_form_and_runs_the_analysis(client, app):
    survey = create_demo_survey(responses=400, seed=3)
    db.session.execute(PopulationMargin.__table__.delete())
    db.session.commit()
    make_user("analyst")
    sign_in(client, "analyst@city.example")
    path = f"/staff/surveys/{survey.id}/weighting"
    page = client.get(path).get_data(as_text=True)
    assert "Which police district do you live in?" in page and "Weight on district" in page
    # A blank and a bad figure: nothing is stored, both are named, and what was typed stays.
    bad = post(client, path, district_form(m_district_2="", m_district_3="lots", trim="0.5"), token_page=path)
    text = html.unescape(bad.get_data(as_text=True))
    assert bad.status_code == 422
    assert "district = 'South': enter the population figure" in text
    assert "district = 'East': 'lots' is not a number." in text
    assert 'value="lots"' in text and margins_of(survey) == {}
    good = post(client, path, district_form(trim="4"), token_page=path)
    assert good.status_code == 303
    assert margins_of(survey)[("district", 1)] == 44_000
    db.session.refresh(survey)
    assert survey.weight_trim == 4.0
    ran = post(client, f"/staff/surveys/{survey.id}/analyze", token_page=path)
    assert ran.status_code == 303 and "/staff/jobs/" in ran.location  # a background job (run at once in tests)
    outcome = html.unescape(client.get(ran.location).get_data(as_text=True))
    assert re.search(r"Analysed [\d,]+ responses \(weighted\)\.", outcome), outcome[:2000]
    with open(f"{app.config['GENERATED_DIR']}/{survey.slug}/results.json") as handle:
        results = json.load(handle)
    assert results["weighted"] and results["methodology"]["weighting"]["variables"] == ["district"]
    assert results["methodology"]["weighting"]["trim"] == 4.0
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-3:] == ["survey.weight_trim", "margins.save", "analysis.run"]


def test_csv_upload_with_errors_stores_nothing(client, app):
    survey = create_demo_survey(responses=100, seed=3)
    before = margins_of(survey)
    make_user("analyst")
    sign_in(client, "analyst@city.example")
    path = f"/staff/surveys/{survey.id}/weighting"
    bad = post(client, f"{path}/csv", {"file": (io.BytesIO(b"variable,category,population\ndistrict,Nowhere,5\n"),
                                                "m.csv")}, token_page=path, content_type="multipart/form-data")
    assert bad.status_code == 422
    assert "Row 2, column category: 'Nowhere' is not an option of district" in html.unescape(
        bad.get_data(as_text=True))
    assert margins_of(survey) == before
    csv = "variable,category,population,source\n" + "".join(
        f"gender,{label},{n},ACS\n" for label, n in (("Woman", 50), ("Man", 48), ("Non-binary or another gender", 2)))
    good = post(client, f"{path}/csv", {"file": (io.BytesIO(csv.encode()), "m.csv")}, token_page=path,
                content_type="multipart/form-data")
    assert good.status_code == 303
    assert margins_of(survey) == {("gender", 1): 50, ("gender", 2): 48, ("gender", 3): 2}


def test_a_weighting_error_is_explained_and_keeps_the_results(client, app):
    survey = create_demo_survey(responses=60, seed=3)  # too few for the demo's five-category margins
    make_user("analyst")
    sign_in(client, "analyst@city.example")
    path = f"/staff/surveys/{survey.id}/weighting"
    response = post(client, f"/staff/surveys/{survey.id}/analyze", token_page=path)
    assert response.status_code == 303
    outcome = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "The results were not updated" in outcome and "No respondent is in" in outcome


def test_editor_cannot_weight(client, app):
    survey = create_demo_survey(responses=10, seed=3)
    make_user("editor")
    sign_in(client, "editor@city.example")
    assert client.get(f"/staff/surveys/{survey.id}/weighting").status_code == 403
    assert "Weighting and analysis" not in client.get(f"/staff/surveys/{survey.id}").get_data(as_text=True)


def test_only_questions_tagged_as_demographics_are_offered_for_weighting(client, app):
    """An attitude item with one answer among options (contact, a single choice) is not offered,
    by the page or by a margins file; the district (demographics) is."""
    from survey_app.population import parse_margins_csv, weighting_variables

    from .factories import make_survey
    from .staff_helpers import make_user, sign_in

    survey = make_survey()
    assert list(weighting_variables(survey)) == ["district"]
    sign_in(client, make_user("analyst").email)
    page = client.get(f"/staff/surveys/{survey.id}/weighting").get_data(as_text=True)
    assert 'name="use_district"' in page and 'name="use_contact"' not in page
    with pytest.raises(ValueError):
        parse_margins_csv("variable,category,population,source\ncontact,Yes,100,x\ncontact,No,200,x\n", survey)


def test_one_analysis_per_survey_at_a_time(client, app):
    """A second press while an analysis of the survey is running shows that one, starts nothing."""
    from survey_app import jobs
    from survey_app.models import Job

    survey = create_demo_survey(responses=30, seed=3)
    running = Job(kind="analysis", survey_id=survey.id, status="running", done=1, total=5, attempts=1,
                  phase="Weighting and estimating", params={}, active_key=jobs.results_key(survey.id))
    db.session.add(running)
    db.session.commit()
    make_user("analyst")
    sign_in(client, "analyst@city.example")
    path = f"/staff/surveys/{survey.id}/weighting"
    again = post(client, f"/staff/surveys/{survey.id}/analyze", token_page=path)
    assert again.status_code == 303 and again.location.endswith(f"/staff/jobs/{running.id}")
    page = html.unescape(client.get(again.location).get_data(as_text=True))
    assert "An analysis of this survey is already running" in page and "Weighting and estimating: 1 of 5." in page
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1
