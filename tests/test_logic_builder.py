"""Display logic without JSON (issue: staff experience): rules chosen from the survey's questions and
answers make the same condition staff used to type, an existing condition comes back as rules, and
a rule that cannot work says what to change, keeping what was chosen."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Question
from survey_app.questionnaire.logic_builder import BuilderError, Rule, condition_from_rules, rules_from_condition

from .factories import make_survey
from .staff_helpers import make_user, post, question_form, sign_in

QUESTIONS = {"contact_12m": ("Any contact?", {1: "Yes", 2: "No"}), "kinds": ("Which kinds?", {1: "Phone", 2: "Street"}),
             "years": ("Years in the city?", {})}


@pytest.mark.parametrize("join, rules, condition", [
    ("all", [Rule("contact_12m", "is", [1])], {"question": "contact_12m", "in": [1]}),
    ("all", [Rule("contact_12m", "is_not", [2])], {"not": {"question": "contact_12m", "in": [2]}}),
    ("any", [Rule("kinds", "includes", [2, 1]), Rule("years", "at_least", number="5")],
     {"any": [{"question": "kinds", "any_of": [1, 2]}, {"question": "years", "min": 5}]}),
    ("all", [Rule("years", "at_most", number="2.5"), Rule("contact_12m", "unanswered")],
     {"all": [{"question": "years", "max": 2.5}, {"question": "contact_12m", "answered": False}]}),
])
def test_rules_make_the_condition_and_come_back_from_it(join, rules, condition):
    assert condition_from_rules(join, rules, QUESTIONS) == condition
    back_join, back = rules_from_condition(condition)
    assert condition_from_rules(back_join, back, QUESTIONS) == condition


def test_what_rules_cannot_say_stays_json_and_bad_rules_are_explained():
    assert rules_from_condition({"all": [{"any": [{"question": "years", "min": 1}]}]}) is None
    assert condition_from_rules("all", [Rule(), Rule()], QUESTIONS) is None  # empty rows: always shown
    for rule, words in ((Rule("", "is", [1]), "Rule 1: choose the question it is about."),
                        (Rule("contact_12m"), "Rule 1: choose how to compare the answer to “Any contact?”."),
                        (Rule("contact_12m", "is"), "choose at least one answer of “Any contact?”"),
                        (Rule("contact_12m", "is", [1, 9]), "must be answers of “Any contact?”"),
                        (Rule("years", "at_least", number="five"), "enter the number to compare")):
        with pytest.raises(BuilderError, match=words.replace("?", r"\?").replace("(", r"\(").replace(")", r"\)")):
            condition_from_rules("all", [rule], QUESTIONS)


def test_staff_build_a_condition_with_rules_and_see_it_in_words(client, app):
    survey = make_survey(status="draft")
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/questions/new"
    form = client.get(path).get_data(as_text=True)
    assert 'name="rules-0-question"' in form and "I trust the police." in form
    page_id = str(survey.pages[-1].id)
    fields = question_form(code="why", type="text", text="Why?", page_id=page_id, logic_mode="rules",
                           logic_join="all", **{"rules-0-question": "contact", "rules-0-test": "is",
                                                "rules-0-values": ["1"]})
    fields.pop("display_condition")
    saved = post(client, path, fields, token_page=path)
    assert saved.status_code == 303, html.unescape(saved.get_data(as_text=True))[:3000]
    why = db.session.scalar(select(Question).where(Question.code == "why"))
    assert why.display_condition == {"question": "contact", "in": [1]}
    edit = html.unescape(client.get(f"/staff/surveys/{survey.id}/questions/{why.id}").get_data(as_text=True))
    assert "Now: shown only when “Any contact?” is “Yes”." in edit
    assert 'id="logic-rules" value="rules" checked' in edit
    # An answer of another question: refused in words, the choices kept on the form.
    wrong = dict(fields, code="why2", **{"rules-0-values": ["-2"], "rules-0-question": "trust"})
    refused = post(client, path, wrong, token_page=path)
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "the answers chosen must be answers of “I trust the police.”" in text
    assert '<option value="trust" selected>' in text
