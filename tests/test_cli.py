"""The app's flask commands."""
import json

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Response, Survey
from survey_app.questionnaire.demo import DEMO_SLUG


def demo_response_count():
    return db.session.scalar(select(func.count()).select_from(Response))


def test_seed_demo_creates_open_survey_with_responses(runner, app):
    result = runner.invoke(args=["seed-demo", "--responses", "40"])
    assert result.exit_code == 0, result.output
    assert "with 21 questions and 40 synthetic responses" in result.output
    survey = db.session.scalar(select(Survey).where(Survey.slug == DEMO_SLUG))
    assert survey.status == "open" and survey.availability() == "open"
    assert len(survey.questions) == 21
    assert {q.code for q in survey.questions} >= {"trust_overall", "district", "age_band", "gender", "race_ethnicity"}
    assert demo_response_count() == 40


def test_seed_demo_keeps_existing_unless_replaced(runner, app):
    runner.invoke(args=["seed-demo", "--responses", "30"])
    result = runner.invoke(args=["seed-demo", "--responses", "10"])
    assert result.exit_code == 0 and "already exists; keeping it" in result.output
    assert demo_response_count() == 30
    result = runner.invoke(args=["seed-demo", "--responses", "10", "--replace"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert demo_response_count() == 10
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 1


def test_analyze_writes_results(runner, app):
    runner.invoke(args=["seed-demo", "--responses", "60"])
    result = runner.invoke(args=["analyze", DEMO_SLUG])
    assert result.exit_code == 0, result.output
    assert "60 responses, 21 questions" in result.output
    assert "Timings: load" in result.output
    results_file = f"{app.config['GENERATED_DIR']}/{DEMO_SLUG}/results.json"
    with open(results_file) as handle:
        assert json.load(handle)["n_responses"] == 60


def test_analyze_unknown_survey_fails_clearly(runner, app):
    result = runner.invoke(args=["analyze", "no-such-survey"])
    assert result.exit_code != 0
    assert "There is no survey with the slug 'no-such-survey'" in result.output
