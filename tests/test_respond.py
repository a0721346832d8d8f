"""The resident flow: render, validate, store atomically, and explain every refusal."""
import datetime as dt
import html
import re

import pytest
from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from survey_app.extensions import db
from survey_app.forms.response import AnswerValue, NumberInRange
from survey_app.models import Answer, Response
from survey_app.responses import record_response

from .factories import (
    CSRF_PATTERN,
    count_rows,
    csrf_token,
    make_survey,
    option_id,
    page_fields,
    question,
    start,
    submit,
    valid_answers,
)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def stored_answers() -> dict[int, Answer]:
    return {a.question_id: a for a in db.session.scalars(select(Answer))}


def test_form_renders_every_question_type_accessibly(client, app):
    survey = make_survey()
    welcome = page_text(client.get("/s/small"))
    assert "Start the survey" in welcome and 'name="csrf_token"' in welcome
    assert start(client, survey).headers["Location"].endswith("/s/small/page/1")
    page = page_text(client.get("/s/small/page/1"))
    assert 'name="csrf_token"' in page
    assert "Page 1 of 2" in page and '<progress max="2" value="1"' in page
    # Choice groups are fieldsets with a legend; the required mark is in words.
    assert re.search(r"<legend>I trust the police\.\s*<span class=\"required\">\(required\)</span></legend>", page)
    for code in ("trust", "contact"):
        for option in question(survey, code).options:
            assert f'type="radio" name="q_{code}" value="{option.id}"' in page
    # "Don't know" is kept apart from the scale points.
    scale, apart = page.split('class="choices choices-apart"')
    assert "Strongly agree" in scale and "Don't know" not in scale.split("I trust the police")[1]
    assert "Don't know" in apart.split("</fieldset>")[0]
    assert '<select name="q_district" id="q_district-first"' in page
    assert "q_kinds" not in page  # page 2's questions are on page 2
    client.post("/s/small/page/1", data={"csrf_token": CSRF_PATTERN.search(page).group(1), "action": "next",
                                         "q_trust": option_id(survey, "trust", 4),
                                         "q_district": option_id(survey, "district", 1)})
    page = page_text(client.get("/s/small/page/2"))
    assert "Page 2 of 2" in page and "Submit my answers" in page and ">Back</button>" in page
    assert page.count('type="checkbox" name="q_kinds"') == 3
    assert 'name="q_years" id="q_years-first" class="input-number"' in page and 'inputmode="numeric"' in page
    assert '<textarea name="q_comment"' in page and "Up to 20 characters." in page
    # Every single control has a label pointing at it.
    for name in ("q_years", "q_comment"):
        assert f'<label class="question-label" for="{name}-first">' in page


def test_valid_submission_is_stored_once_and_thanked(client, app):
    survey = make_survey()
    response = submit(client, survey, valid_answers(survey))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/s/small/thanks")
    assert "Thanks from the test survey." in page_text(client.get(response.headers["Location"]))

    stored = db.session.scalars(select(Response)).all()
    assert len(stored) == 1
    assert stored[0].survey_id == survey.id
    assert stored[0].mode == "web"
    assert stored[0].submitted_on == dt.datetime.now(dt.timezone.utc).date()
    answers = stored_answers()
    assert answers[question(survey, "trust").id].value == 4  # the option's code, not its id
    assert answers[question(survey, "district").id].value == 2
    assert answers[question(survey, "contact").id].value == 1
    assert answers[question(survey, "kinds").id].value == 0b101  # codes 1 and 3
    assert answers[question(survey, "years").id].number == 12.0
    assert answers[question(survey, "comment").id].text == "Street lights"
    assert all(a.response_id == stored[0].id for a in answers.values())


def test_optional_questions_may_be_left_blank(client, app):
    survey = make_survey()
    data = {"q_trust": option_id(survey, "trust", -1), "q_district": option_id(survey, "district", 1),
            "q_years": "  ", "q_comment": "   "}
    assert submit(client, survey, data).status_code == 303
    answers = stored_answers()
    assert set(answers) == {question(survey, "trust").id, question(survey, "district").id}
    assert answers[question(survey, "trust").id].value == -1  # "don't know" stored as its own code


def test_a_response_with_every_question_left_blank_is_stored_without_answers(client, app):
    from survey_app.questionnaire.definition import survey_from_definition

    survey = survey_from_definition({"slug": "blank", "title": "All optional", "pages": [
        {"title": "One", "questions": [{"code": "why", "type": "text", "text": "Why?"},
                                       {"code": "age", "type": "numeric", "text": "Age?"}]}]})
    survey.status = "open"
    db.session.add(survey)
    db.session.commit()
    assert submit(client, survey, {"q_why": " ", "q_age": ""}).status_code == 303
    assert count_rows() == (1, 0)


def test_control_characters_are_dropped_from_text_answers(client, app):
    # PostgreSQL refuses NUL in a text column: posting one gave a server error (found by
    # tests/test_resident_fuzz.py). Characters that cannot be typed are removed; tab and
    # line breaks are kept.
    survey = make_survey()
    data = {**valid_answers(survey), "q_comment": "Street\x00 lights\x07\r\nnow\x7f"}
    assert submit(client, survey, data).status_code == 303
    assert stored_answers()[question(survey, "comment").id].text == "Street lights\r\nnow"


def test_required_text_needs_more_than_spaces(client, app):
    from survey_app.questionnaire.definition import survey_from_definition

    survey = survey_from_definition({"slug": "said", "title": "Say it", "pages": [
        {"title": "One", "questions": [{"code": "why", "type": "text", "text": "Why?", "required": True}]}]})
    survey.status = "open"
    db.session.add(survey)
    db.session.commit()
    for blank in ("   ", "\x00\x00", " \x01 "):
        response = submit(app.test_client(), survey, {"q_why": blank})
        assert response.status_code == 422, repr(blank)
        assert "Please answer this question." in page_text(response)
    assert count_rows() == (0, 0)
    assert submit(app.test_client(), survey, {"q_why": " Because\x00 "}).status_code == 303
    assert stored_answers()[question(survey, "why").id].text == "Because"


def bad_inputs(survey):
    """(description, changes to valid answers, field at fault, message)."""
    trust_option = option_id(survey, "trust", 4)
    return [
        ("missing required scale", {"q_trust": None}, "q_trust", "Please answer this question."),
        ("missing required dropdown", {"q_district": ""}, "q_district", "Please answer this question."),
        ("option id from another question", {"q_trust": option_id(survey, "district", 1)}, "q_trust",
         "Please choose one of the answers listed."),
        ("option of another question in a dropdown", {"q_district": trust_option}, "q_district",
         "Please choose one of the answers listed."),
        ("not an option id at all", {"q_contact": "yes"}, "q_contact", "Please choose one of the answers listed."),
        ("foreign option among checkboxes", {"q_kinds": [option_id(survey, "kinds", 1), trust_option]}, "q_kinds",
         "Please choose one of the answers listed."),
        ("number above the maximum", {"q_years": "101"}, "q_years", "Please enter a whole number from 0 to 100."),
        ("number below the minimum", {"q_years": "-1"}, "q_years", "Please enter a whole number from 0 to 100."),
        ("decimals where whole numbers are asked", {"q_years": "12.5"}, "q_years",
         "Please enter a whole number from 0 to 100."),
        ("words instead of a number", {"q_years": "twelve"}, "q_years", "Please enter a whole number from 0 to 100."),
        ("not a finite number", {"q_years": "NaN"}, "q_years", "Please enter a whole number from 0 to 100."),
        ("over-long text", {"q_comment": "x" * 21}, "q_comment",
         "Please shorten your answer to 20 characters (it is 21 now)."),
    ]


def test_each_bad_input_gets_a_field_error_keeps_answers_and_stores_nothing(app):
    survey = make_survey()
    for description, changes, field, message in bad_inputs(survey):
        client = app.test_client()  # a new resident each time
        data = {**valid_answers(survey), **changes}
        data = {k: v for k, v in data.items() if v is not None}
        response = submit(client, survey, data)
        page = page_text(response)
        assert response.status_code == 422, description
        # The message sits next to its field and in the summary, linked to the field.
        assert f'<p class="error-message" id="{field}-error"><span class="visually-hidden">Error:</span> {message}</p>' in page, description
        assert f'href="#{field}-first"' in page, description
        assert 'There is a problem with your answers' in page, description
        # Every answer already given on the page is still there.
        on_page = set(page_fields(survey, 1 if field in page_fields(survey, 1) else 2))
        if field != "q_district" and "q_district" in on_page:
            assert re.search(rf'<option value="{data["q_district"]}"[^>]* selected>', page), description
        if "q_comment" in on_page:
            expected = "x" * 21 if field == "q_comment" else "Street lights"
            assert expected + "</textarea>" in page, description
        if field != "q_years" and "q_years" in on_page:
            assert 'value="12"' in page, description
        assert count_rows() == (0, 0), description


def test_several_errors_are_all_listed(client, app):
    survey = make_survey()
    page = page_text(submit(client, survey, {"q_years": "500"}))
    assert "There are 2 problems with your answers" in page
    for field in ("q_trust", "q_district"):
        assert f'href="#{field}-first"' in page
    assert count_rows() == (0, 0)


@pytest.mark.parametrize("token", [None, "forged-token", "ImFiYyI.Zm9yZ2Vk.c2lnbmF0dXJl"])
def test_missing_or_forged_csrf_token_is_refused_with_answers_kept(client, app, token):
    survey = make_survey()
    response = submit(client, survey, valid_answers(survey), token=token)  # the last page's token is bad
    page = page_text(response)
    assert response.status_code == 400
    assert "Please press the button again" in page and "This page had expired" in page
    assert "Street lights</textarea>" in page
    kinds = option_id(survey, "kinds", 3)
    assert re.search(rf'value="{kinds}" id="q_kinds-{kinds}"[^>]*\s+checked>', page)
    assert count_rows() == (0, 0)
    # The page carries a fresh, valid token: submitting again works.
    fresh = CSRF_PATTERN.search(page).group(1)
    form = {k: v for k, v in valid_answers(survey).items() if k in page_fields(survey, 2)}
    response = client.post("/s/small/page/2", data={**form, "csrf_token": fresh, "action": "next"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
    assert count_rows()[0] == 1


def test_token_from_another_session_is_refused(client, app):
    survey = make_survey()
    other = app.test_client()
    token = csrf_token(other, "/s/small")
    assert submit(client, survey, valid_answers(survey), token=token).status_code == 400
    assert count_rows() == (0, 0)


def test_unknown_survey_is_a_clear_404(client, app):
    for response in (client.get("/s/no-such-survey"), client.post("/s/no-such-survey/start"),
                     client.get("/s/no-such-survey/page/1")):
        assert response.status_code == 404
        assert "Page not found" in page_text(response)


def test_draft_survey_looks_unknown_to_the_public(client, app):
    make_survey(status="draft")
    for path in ("/s/small", "/s/small/page/1", "/s/small/privacy", "/s/small/resume"):
        assert client.get(path).status_code == 404, path
    assert client.post("/s/small/start", data={}).status_code == 404
    assert count_rows() == (0, 0)


def test_closed_survey_is_a_clear_410_and_takes_nothing(client, app):
    survey = make_survey()
    token = csrf_token(client, "/s/small")
    survey.status = "closed"
    db.session.commit()
    response = client.get("/s/small")
    assert response.status_code == 410
    assert "This survey is closed" in page_text(response)
    for path in ("/s/small/start", "/s/small/page/1"):
        response = client.post(path, data={**valid_answers(survey), "csrf_token": token})
        assert response.status_code == 410, path
    assert count_rows() == (0, 0)


def test_survey_past_its_end_date_is_closed(client, app):
    survey = make_survey(closes_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    assert survey.availability() == "closed"
    assert client.get("/s/small").status_code == 410


def test_survey_before_its_start_date_says_when_it_opens(client, app):
    opens = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    make_survey(opens_at=opens)
    response = client.get("/s/small")
    assert response.status_code == 403
    assert f"It opens on {format_date(opens, 'long', locale='en')}" in page_text(response)


def test_oversized_post_is_refused_clearly(client, app):
    survey = make_survey()
    response = submit(client, survey, {**valid_answers(survey), "q_comment": "x" * 300_000})
    assert response.status_code == 413
    assert "That was too much data" in page_text(response)
    assert count_rows() == (0, 0)


def test_a_failing_answer_rolls_back_the_whole_submission(app):
    survey = make_survey()
    good = AnswerValue(question(survey, "trust").id, value=4)
    missing_question = AnswerValue(question_id=987654, value=1)
    with pytest.raises(IntegrityError):
        record_response(survey, [good, missing_question])
    assert count_rows() == (0, 0)
    record_response(survey, [good])  # the session is usable again
    assert count_rows() == (1, 1)


def test_home_lists_open_surveys_only(client, app):
    make_survey(title="Open one")
    make_survey(slug="drafty", title="Draft one", status="draft")
    page = page_text(client.get("/"))
    assert "Open one" in page and "Draft one" not in page


@pytest.mark.parametrize("text, decimals, expected", [
    ("12", 0, 12.0), (" 7 ", 0, 7.0), ("2,5", 1, 2.5), ("2.50", 1, None), ("1e2", 0, 100.0),
    ("", 0, None), ("inf", 0, None), ("-0", 0, 0.0),
])
def test_number_parsing(text, decimals, expected):
    assert NumberInRange(0, 100, decimals).parse(text) == expected
