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


def test_seed_demo_gives_a_site_without_staff_a_demo_admin_to_sign_in_with(runner, app, client):
    """Once, on a site with no account; its password only in a file its owner alone may read;
    and it signs in. Never in production."""
    import os
    import re
    import stat

    from survey_app.models import StaffUser

    from .staff_helpers import token_from

    result = runner.invoke(args=["seed-demo", "--responses", "10"])
    kept = app.config["DEMO_ADMIN_FILE"]
    assert result.exit_code == 0 and f"Created the demo's staff account demo-admin@city.example; its password is in {kept}" \
        in result.output
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    email, password = re.fullmatch(r"Staff sign-in for the demo: (\S+), password (\S+)\n", open(kept).read()).groups()
    assert password not in result.output
    token = token_from(client.get("/staff/login").get_data(as_text=True))
    signed_in = client.post("/staff/login", data={"csrf_token": token, "email": email, "password": password})
    assert signed_in.status_code == 302 and client.get("/staff/").status_code == 200
    os.remove(kept)
    assert "Created the demo's" not in runner.invoke(args=["seed-demo", "--responses", "10"]).output  # has one now
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 1 and not os.path.exists(kept)


def test_seed_demo_makes_no_demo_admin_in_production(runner, app):
    import os

    app.config["SURVEY_ENV"] = "production"
    try:
        assert runner.invoke(args=["seed-demo", "--responses", "10"]).exit_code == 0
    finally:
        app.config["SURVEY_ENV"] = "development"
    from survey_app.models import StaffUser
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 0
    assert not os.path.exists(app.config["DEMO_ADMIN_FILE"])


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
    runner.invoke(args=["seed-demo", "--responses", "600"])
    result = runner.invoke(args=["analyze", DEMO_SLUG])
    assert result.exit_code == 0, result.output
    assert "600 responses, 21 questions, 4 indices, themes of 1 written question, weighted" in result.output
    assert "Timings: load" in result.output
    results_file = f"{app.config['GENERATED_DIR']}/{DEMO_SLUG}/results.json"
    with open(results_file) as handle:
        stored = json.load(handle)
    assert stored["n_responses"] == 600 and stored["weighted"]
    assert stored["methodology"]["weighting"]["variables"] == ["district", "age_band", "gender", "race_ethnicity"]


def test_margins_import_show_clear_and_a_weighting_error(runner, app, tmp_path):
    runner.invoke(args=["seed-demo", "--responses", "600"])
    good = tmp_path / "good.csv"
    good.write_text("variable,category,population,source\n"
                    "district,North,10,Table 1\ndistrict,South,10,\ndistrict,east,10,\n"
                    "district,4,10,\ndistrict,Central,\"1,000\",\n", "utf-8")
    result = runner.invoke(args=["margins", "import", DEMO_SLUG, str(good)])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(args=["margins", "show", DEMO_SLUG]).output
    assert shown.splitlines() == ["variable,category,population,source", "district,North,10,Table 1",
                                  "district,South,10,Table 1", "district,East,10,Table 1",
                                  "district,West,10,Table 1", "district,Central,1000,Table 1"]
    # A file with errors stores nothing and names every row and column at fault.
    bad = tmp_path / "bad.csv"
    bad.write_text("variable,category,population\ndistrict,North,ten\nshoe_size,9,5\ndistrict,Mars,4\n"
                   "district,South,-3\n", "utf-8")
    result = runner.invoke(args=["margins", "import", DEMO_SLUG, str(bad)])
    assert result.exit_code == 1
    for message in ("Row 2, column population: 'ten' is not a number",
                    "Row 3, column variable: 'shoe_size' is not a single-choice question",
                    "Row 4, column category: 'Mars' is not an option of district",
                    "Row 5, column population: -3 is negative"):
        assert message in result.output
    assert runner.invoke(args=["margins", "show", DEMO_SLUG]).output == shown
    # Analysis with impossible margins fails clearly and keeps the previous results.
    assert runner.invoke(args=["analyze", DEMO_SLUG]).exit_code == 0
    results_file = f"{app.config['GENERATED_DIR']}/{DEMO_SLUG}/results.json"
    before = open(results_file).read()
    trimmed = runner.invoke(args=["margins", "trim", DEMO_SLUG, "1.0"])
    assert trimmed.exit_code != 0 and "more than 1" in trimmed.output
    assert runner.invoke(args=["margins", "trim", DEMO_SLUG, "1.01"]).exit_code == 0
    result = runner.invoke(args=["analyze", DEMO_SLUG])
    assert result.exit_code != 0 and "were not updated" in result.output
    assert open(results_file).read() == before
    assert runner.invoke(args=["margins", "trim", DEMO_SLUG, "off"]).exit_code == 0
    runner.invoke(args=["margins", "clear", DEMO_SLUG])
    result = runner.invoke(args=["analyze", DEMO_SLUG])
    assert result.exit_code == 0 and "unweighted" in result.output


def test_analyze_unknown_survey_fails_clearly(runner, app):
    result = runner.invoke(args=["analyze", "no-such-survey"])
    assert result.exit_code != 0
    assert "There is no survey with the slug 'no-such-survey'" in result.output


def test_min_cell_size_is_set_per_survey(runner, app):
    runner.invoke(args=["seed-demo", "--responses", "600"])
    result = runner.invoke(args=["min-cell-size", DEMO_SLUG, "40"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["min-cell-size", DEMO_SLUG, "0"]).exit_code != 0
    assert runner.invoke(args=["analyze", DEMO_SLUG]).exit_code == 0
    with open(f"{app.config['GENERATED_DIR']}/{DEMO_SLUG}/results.json") as handle:
        stored = json.load(handle)
    assert stored["min_cell_size"] == 40
    counts = [r["count"] for q in stored["questions"] if "estimates" in q
              for b in q["estimates"]["breakdowns"] for r in b["rows"] if r["count"] is not None]
    assert counts and min(c for c in counts if c) >= 40
