"""flask export / flask import: a survey and its responses survive the round trip exactly."""
import json
import math

from sqlalchemy import select

from survey_app import create_app, invitations, publishing, written_coding, written_quotes
from survey_app.written_answers import answer_of, mask_more, masks_of
from survey_app.analysis.pipeline import analyze_survey
from survey_app.cli import create_demo_survey
from survey_app.extensions import db
from survey_app.models import Survey
from survey_app.questionnaire import translation

from .conftest import fresh_database, make_test_config
from .factories import add_response, make_survey
from .staff_helpers import make_user


def test_export_then_import_into_a_fresh_database_loses_nothing(app, runner, tmp_path):
    survey = create_demo_survey(responses=700, seed=8)  # margins, Spanish, every question type
    survey.access_mode = "invitation"
    invitations.generate(survey, 5)
    db.session.commit()
    speeding = add_response(survey, top_problem="Speeding on Elm Street, call Ana at 312-555-0142", years_in_city=3,
                            contact_type=[1, 3])
    # What staff did with the written answers goes along: codebook, codings (and their coders),
    # a second coding, masks a person changed, a quote.
    written_coding.code_demo_answers(survey)
    question = next(q for q in survey.questions if q.code == "top_problem")
    editor = make_user("editor")
    written_coding.code_answer(question, speeding, [1], editor, suggested=[1, 3])
    masks_of(question, [(speeding, "Speeding on Elm Street, call Ana at 312-555-0142", "en")])
    answer, _ = answer_of(question, speeding)
    mask_more(question, answer, "en", "Ana", "name", editor)
    written_quotes.approve(survey, question, speeding, "Speeding on Elm Street", editor)
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    publishing.publish(survey, app.config["GENERATED_DIR"])
    backup = tmp_path / "community-trust.jsonl"
    result = runner.invoke(args=["export", "community-trust", str(backup)])
    assert result.exit_code == 0 and "701 responses" in result.output
    original = backup.read_text("utf-8").splitlines()
    assert len(original) == 702

    from flask_migrate import upgrade
    (tmp_path / "fresh").mkdir()
    with fresh_database(tmp_path / "fresh") as url:
        other = create_app(make_test_config(url, tmp_path / "generated2"))
        with other.app_context():
            upgrade()
            make_user("editor")  # the coder's account, known here by the same email
            restored = other.test_cli_runner().invoke(args=["import", str(backup)])
            assert restored.exit_code == 0 and "701 responses" in restored.output, restored.output
            again = tmp_path / "again.jsonl"
            assert other.test_cli_runner().invoke(args=["export", "community-trust", str(again)]).exit_code == 0
            second = again.read_text("utf-8").splitlines()
            first_header, second_header = json.loads(original[0]), json.loads(second[0])
            first_header.pop("exported_at"), second_header.pop("exported_at")
            assert first_header == second_header
            assert sorted(original[1:]) == sorted(second[1:])  # every response and every answer
            assert first_header["codebooks"]["top_problem"][1]["label"] == "Drugs"
            written = [json.loads(line)["written"]["top_problem"] for line in second[1:] if '"written"' in line]
            assert sum("check" in w.get("codings", {}) for w in written) == 60
            mine = next(w for w in written if w.get("quote"))
            assert mine["quote"] == {"text": "Speeding on Elm Street", "approved_by": "editor@city.example"}
            assert mine["codings"]["main"] == {"themes": [1], "suggested": [1, 3], "coder": "editor@city.example"}
            assert [span[2:] for span in mine["mask"]["spans"]] == [["name", "staff"], ["phone", "found"]]
            copy = db.session.scalar(select(Survey).where(Survey.slug == "community-trust"))
            assert translation.coverage(copy, "es").complete
            # The restored data gives the same analysis.
            with db.engine.connect() as connection:
                rerun = analyze_survey(connection, "community-trust", tmp_path / "generated3").results
            db.session.remove()
            db.engine.dispose()
    with db.engine.connect() as connection:
        first = analyze_survey(connection, "community-trust", tmp_path / "generated4").results
    for key in ("indices", "questions"):
        for a, b in zip(rerun[key], first[key]):
            assert same(a, b), diff(a, b)


def same(a, b) -> bool:
    """Equal, floats to 1e-7 (relative, or absolute near zero): rows come back in another
    physical order, so sums run in another order and raking (which stops when every margin is
    within a relative 1e-10) lands a hair apart; a figure near zero, such as a gap's bound,
    then differs by about 1e-9 on a scale of 0 to 100."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-7) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        # chart_alt rounds the figures: a raked 48.5% may print as 48% or 49% (compared above as numbers)
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a if k != "chart_alt")
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def test_import_refuses_a_damaged_file_and_stores_nothing(app, runner, tmp_path):
    survey = make_survey()
    add_response(survey, trust=4, district=1)
    backup = tmp_path / "small.jsonl"
    runner.invoke(args=["export", "small", str(backup)])
    lines = backup.read_text("utf-8").splitlines()
    assert runner.invoke(args=["import", str(backup)]).exit_code == 1  # the slug exists here
    db.session.delete(db.session.scalar(select(Survey)))
    db.session.commit()
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text(lines[0] + "\n" + lines[1].replace('"trust"', '"no_such_question"') + "\n", "utf-8")
    result = runner.invoke(args=["import", str(damaged)])
    assert result.exit_code == 1 and "Nothing was restored" in result.output and "no_such_question" in result.output
    assert db.session.scalar(select(Survey)) is None
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("not json\n", "utf-8")
    assert "not a survey backup" in runner.invoke(args=["import", str(garbage)]).output


def diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k in b and not same(a[k], b[k]):
                return diff(a[k], b[k], f"{path}.{k}")
        return path, set(a) ^ set(b)
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if not same(x, y):
                return diff(x, y, f"{path}[{i}]")
        return path, len(a), len(b)
    return path, a, b
