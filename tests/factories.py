"""Small factories: surveys from definitions, responses, and form posts with a real CSRF token."""
from __future__ import annotations

import copy
import re

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.forms.response import AnswerValue
from survey_app.models import Answer, Response, Survey
from survey_app.questionnaire.definition import survey_from_definition
from survey_app.responses import record_response

# One question of every type, with codes chosen so that expected values are easy to write by hand.
SMALL_SURVEY = {
    "slug": "small",
    "title": "Small test survey",
    "introduction": "A survey for tests.",
    "thank_you_text": "Thanks from the test survey.",
    "min_cell_size": 10,
    "pages": [
        {
            "title": "Views",
            "questions": [
                {"code": "trust", "type": "scale", "text": "I trust the police.", "required": True,
                 "config": {"scale": "agreement", "missing": ["dont_know"]}},
                {"code": "district", "type": "dropdown", "text": "District?", "required": True,
                 "construct": "demographics",
                 "options": [{"code": 1, "label": "North"}, {"code": 2, "label": "South"},
                             {"code": 3, "label": "East"}]},
                {"code": "contact", "type": "single_choice", "text": "Any contact?",
                 "options": [{"code": 1, "label": "Yes"}, {"code": 2, "label": "No"},
                             {"code": -2, "label": "Prefer not to say"}]},
            ],
        },
        {
            "title": "More",
            "questions": [
                {"code": "kinds", "type": "multiple_choice", "text": "Which kinds?",
                 "options": [{"code": 1, "label": "Phone"}, {"code": 2, "label": "Street"},
                             {"code": 3, "label": "Car"}]},
                {"code": "years", "type": "numeric", "text": "Years in the city?",
                 "config": {"min": 0, "max": 100, "decimals": 0}},
                {"code": "comment", "type": "text", "text": "Anything else?",
                 "config": {"max_length": 20, "multiline": True}},
            ],
        },
    ],
}


def make_survey(definition: dict | None = None, status: str = "open", **changes) -> Survey:
    definition = copy.deepcopy(definition or SMALL_SURVEY)
    definition.update({k: v for k, v in changes.items() if k in ("slug", "min_cell_size")})
    survey = survey_from_definition(definition)
    survey.status = status
    for key, value in changes.items():
        if key not in ("slug", "min_cell_size"):
            setattr(survey, key, value)
    db.session.add(survey)
    db.session.commit()
    return survey


def make_spanish_demo() -> Survey:
    """The open demo questionnaire (no responses) with its reviewed Spanish filled in."""
    from survey_app.questionnaire import translation
    from survey_app.questionnaire.demo import COMMUNITY_TRUST

    survey = survey_from_definition(COMMUNITY_TRUST)
    translation.prefill(survey, "es")
    survey.status = "open"
    db.session.add(survey)
    db.session.commit()
    return survey


def question(survey: Survey, code: str):
    return next(q for q in survey.questions if q.code == code)


def option_id(survey: Survey, code: str, option_code: int) -> int:
    return next(o.id for o in question(survey, code).options if o.code == option_code)


def add_response(survey: Survey, **answers) -> int:
    """Store one response given as code=value (option code, list of codes, number or text); its id."""
    values = []
    for code, given in answers.items():
        q = question(survey, code)
        if q.type == "multiple_choice":
            values.append(AnswerValue(q.id, value=sum(1 << (c - 1) for c in given)))
        elif q.type == "numeric":
            values.append(AnswerValue(q.id, number=float(given)))
        elif q.type == "text":
            values.append(AnswerValue(q.id, text=given))
        else:
            values.append(AnswerValue(q.id, value=given))
    return record_response(survey, values)


def count_rows() -> tuple[int, int]:
    """(responses, answers) currently stored."""
    return (db.session.scalar(select(func.count()).select_from(Response)),
            db.session.scalar(select(func.count()).select_from(Answer)))


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code in (200, 422), page.status_code
    match = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert match, "form has no CSRF token"
    return match.group(1)


def valid_answers(survey: Survey) -> dict:
    """Form data answering every question of SMALL_SURVEY validly."""
    return {
        "q_trust": option_id(survey, "trust", 4),
        "q_district": option_id(survey, "district", 2),
        "q_contact": option_id(survey, "contact", 1),
        "q_kinds": [option_id(survey, "kinds", 1), option_id(survey, "kinds", 3)],
        "q_years": "12",
        "q_comment": "Street lights",
    }


def start(client, survey: Survey, code: str | None = None):
    """Press "Start the survey" on the welcome page (typing ``code`` in invitation mode)."""
    path = f"/s/{survey.slug}"
    form = {"csrf_token": csrf_token(client, path)}
    if code is not None:
        form["code"] = code
    return client.post(f"{path}/start", data=form)


def page_fields(survey: Survey, number: int) -> list[str]:
    from survey_app.forms.response import field_names, page_questions

    return field_names(page_questions(survey.pages[number - 1]))


def post_page(client, survey: Survey, number: int, data: dict, action: str = "next",
              token: str | None = "fetch"):
    """Post one page like a browser: its own fields of ``data``, the page's CSRF token and a button."""
    path = f"/s/{survey.slug}/page/{number}"
    names = set(page_fields(survey, number))
    form = {name: value for name, value in data.items() if name in names}
    form["action"] = action
    if token == "fetch":
        form["csrf_token"] = csrf_token(client, path)
    elif token is not None:
        form["csrf_token"] = token
    return client.post(path, data=form)


def submit(client, survey: Survey, data: dict, token: str | None = "fetch", code: str | None = None):
    """Answer the whole survey like a browser: start, then "Next" on every page, the last one
    with ``token`` (a real one by default). Returns the last page's response; a page that does
    not move on (an error) is returned at once."""
    response = start(client, survey, code)
    assert response.status_code == 303, response.status_code
    number = 1
    while True:
        last = number == len(survey.pages)
        response = post_page(client, survey, number, data, token=token if last else "fetch")
        location = response.headers.get("Location", "")
        if response.status_code != 303 or "/page/" not in location:
            return response
        number = int(location.rsplit("/page/", 1)[1].split("?")[0])
