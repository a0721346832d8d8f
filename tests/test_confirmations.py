"""Nothing is lost by one click (issue: staff experience): removing a translation, a question or a
page first says what will be lost and asks; only the confirmed post removes; the way back keeps it."""
from __future__ import annotations

import html

from survey_app.extensions import db
from survey_app.models import Page, Question
from survey_app.questionnaire import translation

from .factories import make_spanish_demo, make_survey
from .staff_helpers import make_user, post, sign_in


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_removing_a_translation_asks_first_and_says_how_much_goes(client, app):
    survey = make_spanish_demo()
    before = translation.coverage(survey, "es").done
    assert before > 50
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/translations/es"
    page = text(client.get(path))
    # The button is apart from "Save the translation", in a form of its own.
    save_form = page[:page.index("Save the translation")]
    assert 'value="clear"' not in save_form[save_form.rindex("<form"):]
    asked = post(client, path, {"action": "clear"}, token_page=path)
    assert asked.status_code == 200
    asked_text = text(asked)
    assert "Remove the whole Español translation?" in asked_text
    assert f"All {before} translated texts" in asked_text and "Cancel, keep it" in asked_text
    db.session.expire_all()
    assert translation.coverage(survey, "es").done == before  # nothing gone yet
    done = post(client, path, {"action": "clear", "confirmed": "yes"}, token_page=path)
    assert done.status_code == 303
    db.session.expire_all()
    assert translation.coverage(survey, "es").done == 0


def test_deleting_a_question_or_a_page_asks_first(client, app):
    survey = make_survey(status="draft")
    sign_in(client, make_user("editor").email)
    question = survey.questions[0]
    path = f"/staff/surveys/{survey.id}/questions/{question.id}/delete"
    asked = post(client, path)
    assert asked.status_code == 200
    assert f"The question “{question.text}” ({question.code}) will be deleted, with its" in text(asked)
    assert db.session.get(Question, question.id) is not None
    assert post(client, path, {"confirmed": "yes"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Question, question.id) is None
    empty = Page(survey_id=survey.id, position=9, title="Spare")
    db.session.add(empty)
    db.session.commit()
    path = f"/staff/surveys/{survey.id}/pages/{empty.id}/delete"
    assert "Delete the page “Spare”?" in text(post(client, path))
    assert db.session.get(Page, empty.id) is not None
    assert post(client, path, {"confirmed": "yes"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Page, empty.id) is None


def test_the_residents_error_summary_reads_as_sentences_in_every_language(client, app):
    """'...in my neighbourhood.: Please answer this question.' had a stray colon: a question that
    ends a sentence is followed by the message as the next one; one that does not, by a colon."""
    from .factories import submit

    survey = make_survey({"slug": "words", "title": "Words", "pages": [{"title": "P", "questions": [
        {"code": "trust", "type": "scale", "text": "I trust the police in my neighbourhood.", "required": True},
        {"code": "focus", "type": "single_choice", "text": "What matters most?", "required": True,
         "options": [{"code": 1, "label": "Speed"}, {"code": 2, "label": "Respect"}]},
        {"code": "district", "type": "dropdown", "text": "District", "required": True,
         "options": [{"code": 1, "label": "North"}, {"code": 2, "label": "South"}]},
    ]}]})
    page = text(submit(client, survey, {}))
    assert "I trust the police in my neighbourhood. Please answer this question." in page
    assert "What matters most? Please answer this question." in page
    assert "District: Please answer this question." in page
    assert ".:" not in page and "?:" not in page


def test_any_survey_can_be_duplicated_as_a_survey_of_its_own(client, app):
    from sqlalchemy import func, select

    from survey_app.analysis.weighting import Margin
    from survey_app.models import PopulationMargin, Response, Survey
    from survey_app.population import save_margins
    from survey_app.questionnaire.definition import definition_from_survey

    from .factories import add_response

    survey = make_spanish_demo()
    save_margins(survey, [Margin("district", {1: 10.0, 2: 20.0, 3: 30.0, 4: 40.0, 5: 50.0}, "Census")])
    add_response(survey, trust_overall=4)
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}"
    taken = post(client, f"{path}/duplicate", {"title": survey.title, "slug": "copy-of-trust"}, token_page=path)
    assert taken.status_code == 303 and "dup_slug=copy-of-trust" in taken.location
    page = text(client.get(taken.location))
    assert "The survey was not duplicated. Title: a survey called" in page and 'value="copy-of-trust"' in page
    done = post(client, f"{path}/duplicate", {"title": "Trust in the North 2027", "slug": "north-2027"}, token_page=path)
    assert done.status_code == 303
    copy_ = db.session.scalar(select(Survey).where(Survey.slug == "north-2027"))
    original, copied = definition_from_survey(survey), definition_from_survey(copy_)
    assert copied["pages"] == original["pages"] and copy_.series_id is None and copy_.status == "draft"
    assert translation.coverage(copy_, "es").done >= translation.coverage(survey, "es").done - 1  # all but the title
    assert db.session.scalar(select(func.count()).select_from(Response).where(Response.survey_id == copy_.id)) == 0
    assert [(m.variable, m.population) for m in db.session.scalars(
        select(PopulationMargin).where(PopulationMargin.survey_id == copy_.id))][:1] == [("district", 10.0)]


def test_the_preview_shows_one_page_in_a_residents_language_at_phone_width(client, app):
    survey = make_spanish_demo()
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/preview"
    page = text(client.get(f"{path}?page=2&lang=es&width=phone"))
    assert '<html lang="es">' in page and 'class="phone-frame"' in page
    second = survey.pages[1]
    spanish_title = (second.translations or {}).get("es", {}).get("title")
    assert f'<h2 id="page-2">{spanish_title}</h2>' in page and 'id="page-1"' not in page
    assert "page 2 of" in page and '<strong aria-current="page">Español</strong>' in page
    # Checking one page asks only for that page's questions.
    first = text(client.get(f"{path}?page=1"))
    assert 'id="page-2"' not in first
    staff_page = text(client.get(f"/staff/surveys/{survey.id}"))
    assert '<html lang="en">' in staff_page  # other staff pages stay in English


def test_display_conditions_read_in_words_and_a_typo_says_what_to_write(client, app):
    from survey_app.questionnaire.logic import describe

    questions = {"contact_12m": ("Any contact in the past 12 months?", {1: "Yes", 2: "No"}),
                 "years": ("Years in the city?", {})}
    assert describe({"question": "contact_12m", "in": [1]}, questions) == "“Any contact in the past 12 months?” is “Yes”"
    assert describe({"any": [{"question": "years", "min": 5}, {"not": {"question": "contact_12m", "answered": True}}]},
                    questions) == "(“Years in the city?” is at least 5 or not “Any contact in the past 12 months?” is answered)"
    survey = make_spanish_demo()
    sign_in(client, make_user("editor").email)
    page = text(client.get(f"/staff/surveys/{survey.id}"))
    assert "Shown only when “In the past 12 months, have you had any contact with the police in the city?” is “Yes”." in page
    from .staff_helpers import question_form

    question = next(q for q in survey.questions if q.display_condition)
    path = f"/staff/surveys/{survey.id}/questions/new"
    typo = post(client, path, question_form(display_condition="contact_12m = yes", page_id=str(survey.pages[0].id)),
                token_page=path)
    assert typo.status_code == 422
    assert 'Write it like {"question": "contact_12m", "in": [1]}' in text(typo)
    later = post(client, path, question_form(code="early", display_condition='{"question": "nowhere", "in": [1]}',
                                             page_id=str(survey.pages[0].id)), token_page=path)
    assert "is not a question before this one (a condition can only use answers given earlier" in text(later)
    assert question.display_condition
