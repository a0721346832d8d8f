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


def question(survey: Survey, code: str):
    return next(q for q in survey.questions if q.code == code)


def option_id(survey: Survey, code: str, option_code: int) -> int:
    return next(o.id for o in question(survey, code).options if o.code == option_code)


def add_response(survey: Survey, **answers) -> Response:
    """Store one response given as code=value (option code, list of codes, number or text)."""
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


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
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


def submit(client, survey: Survey, data: dict, token: str | None = "fetch"):
    """POST the resident form like a browser: with the page's own CSRF token unless told otherwise."""
    path = f"/s/{survey.slug}"
    form = dict(data)
    if token == "fetch":
        form["csrf_token"] = csrf_token(client, path)
    elif token is not None:
        form["csrf_token"] = token
    return client.post(path, data=form)
