"""The resident's form, built fresh for each questionnaire.

``build_response_form`` makes a new FlaskForm subclass per survey (one field
per question, named ``q_<code>``), so no shared class is ever mutated and the
form never queries the database. Choice fields post option *ids*, checked
against the question's own options, and are stored as the option's *code*.

Each field has exactly one error message at a time, written for a resident;
WTForms' built-in choice validation is switched off because it adds a second,
technical message ("Not a valid choice", "could not coerce").
"""
from __future__ import annotations

from flask_wtf import FlaskForm

from ..models import Question, Survey
from ..questionnaire import logic
from ..questionnaire.question_types import question_type
# Re-exported: what stores answers and what tests check them by.
from .fields import REQUIRED_MESSAGE, AnswerValue, NumberInRange  # noqa: F401


def field_name(question: Question) -> str:
    return f"q_{question.code}"


def page_questions(page) -> list[Question]:
    """The questions on a page that take answers (a matrix's rows, not the matrix), in order."""
    return [q for q in sorted(page.questions, key=lambda q: q.position) if question_type(q.type).stores_answers]


def field_names(questions) -> list[str]:
    """The form fields of these questions (with their own, e.g. "please specify" boxes)."""
    return [name for question in questions for name in question_type(question.type).field_names(question)]


def build_response_form(survey: Survey, hidden: frozenset[str] = frozenset(),
                        questions: list[Question] | None = None) -> type[FlaskForm]:
    """The form class for ``questions`` (default: the whole survey).

    Questions in ``hidden`` (display logic) keep a field, so that the page can show them
    again if the resident changes an earlier answer, but with no checks at all: what is
    posted for them is neither validated, required nor stored (see ``answers_from_form``).
    """
    attributes = {}
    for question in (survey.questions if questions is None else questions):
        attributes.update(question_type(question.type).form_fields(question, question.code in hidden))
    return type("ResponseForm", (FlaskForm,), attributes)


def display_state(survey: Survey, formdata) -> tuple[frozenset[str], dict]:
    """What display logic makes of the posted answers: the codes of the hidden questions, and the
    answers it sees (codes, not option ids; None for hidden or unanswered questions).

    A question is shown when its page's condition and its own hold, evaluated on the answers
    to earlier questions that are themselves shown (in questionnaire order).
    """
    answers: dict = {}
    hidden = set()
    page_shown: dict[int, bool] = {}
    for question in sorted(survey.questions, key=lambda q: q.position):
        page = question.page
        if page.id not in page_shown:
            page_shown[page.id] = logic.evaluate(page.display_condition, answers)
        shown = page_shown[page.id] and logic.evaluate(question.display_condition, answers)
        if question.parent is not None and question.parent.code in hidden:
            shown = False  # a matrix row goes with its matrix
        if shown:
            answers[question.code] = question_type(question.type).posted_value(question, formdata)
        else:
            hidden.add(question.code)
            answers[question.code] = None
    return frozenset(hidden), answers


def hidden_questions(survey: Survey, formdata) -> frozenset[str]:
    """Codes of the questions display logic hides, given what was posted."""
    return display_state(survey, formdata)[0]


def known_answers(answers: dict, exclude=()) -> dict:
    """The answers the browser needs to evaluate a page's conditions on earlier pages
    (``exclude``: the page's own questions, which the browser reads from the form)."""
    return {code: value for code, value in answers.items() if code not in exclude and value is not None}


def visible_pages(survey: Survey, hidden: frozenset[str]) -> list[int]:
    """Indices (in ``survey.pages``) of the pages with at least one question display logic shows."""
    return [i for i, page in enumerate(survey.pages)
            if any(q.code not in hidden for q in page_questions(page))]


def answers_from_form(survey: Survey, form: FlaskForm, hidden: frozenset[str] = frozenset()) -> list[AnswerValue]:
    """The answers of a validated form, ready to store; unanswered and hidden questions are left out."""
    answers = []
    for question in survey.questions:
        if question.code not in hidden:
            answer = question_type(question.type).answer(question, form)
            if answer is not None:
                answers.append(answer)
    return answers
