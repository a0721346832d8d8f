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

from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, StopValidation, ValidationError

from ..models import Question, Survey
from ..questionnaire import logic
from ..questionnaire.types import AnswerRefused, check_number, multi_bit, number_bounds

REQUIRED_MESSAGE = _l("Please answer this question.")
OTHER_LENGTH = 200  # characters of an "Other (please specify)" answer
CHOICE_MESSAGE = _l("Please choose one of the answers listed.")


@dataclass(frozen=True)
class AnswerValue:
    """What one answered question stores (see ``models.Answer``)."""

    question_id: int
    value: int | None = None
    number: float | None = None
    text: str | None = None


def field_name(question: Question) -> str:
    return f"q_{question.code}"


def _option_id(raw):
    """Coerce a posted option id; garbage becomes None for the validator to reject."""
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


class OneOfOptions:
    def __init__(self, option_ids):
        self.option_ids = frozenset(option_ids)

    def __call__(self, form, field):
        values = field.data if isinstance(field.data, list) else [field.data]
        if not values or any(v not in self.option_ids for v in values):
            raise StopValidation(CHOICE_MESSAGE)


class RequiredChoice:
    """InputRequired for checkbox groups: at least one box ticked."""

    def __call__(self, form, field):
        if not field.raw_data:
            raise StopValidation(REQUIRED_MESSAGE)


class RequiredText:
    """InputRequired for text: something besides spaces (and control characters, which the
    field's filter has removed), since only that is stored."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if not (field.data or "").strip():
            raise StopValidation(REQUIRED_MESSAGE)


class NumberInRange:
    """A number typed by a resident, checked by the question type's one rule (``types.check_number``:
    finite, within the question's bounds or the default ones, at most its decimals)."""

    def __init__(self, low, high, decimals):
        self.config = {"min": low, "max": high, "decimals": decimals}
        self.decimals = decimals

    def describe(self) -> str:
        low, high = (format_decimal(bound) for bound in number_bounds(self.config))
        if self.decimals == 0:
            return _("a whole number from %(low)s to %(high)s", low=low, high=high)
        return _("a number with at most %(decimals)s decimals from %(low)s to %(high)s",
                 decimals=self.decimals, low=low, high=high)

    def hint(self) -> str:
        """What the page says under the question, before anything is typed."""
        return _("Enter %(what)s.", what=self.describe())

    def parse(self, text: str) -> float | None:
        try:
            return check_number(text, self.config)
        except AnswerRefused:
            return None

    def __call__(self, form, field):
        if self.parse(field.data or "") is None:
            raise ValidationError(_("Please enter %(what)s.", what=self.describe()))


class NumberField(StringField):
    """A numeric question's box; ``rule`` gives the page its hint."""

    def __init__(self, label=None, validators=None, rule: NumberInRange | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.rule = rule


# Control characters other than tab and line breaks cannot be typed; they arrive only in a
# crafted or garbled post, and PostgreSQL refuses NUL in a text column outright (the
# fuzz test found it: a server error instead of a stored response).
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r") | {0x7F: None}


def printable(value):
    """A text answer without control characters (WTForms filter)."""
    return value.translate(_CONTROL) if isinstance(value, str) else value


class TextLength:
    def __init__(self, limit):
        self.limit = limit

    def __call__(self, form, field):
        if len(field.data or "") > self.limit:
            raise ValidationError(
                _("Please shorten your answer to %(limit)s characters (it is %(length)s now).",
                  limit=self.limit, length=len(field.data)))


def number_rule(question: Question) -> NumberInRange:
    config = question.config
    return NumberInRange(config.get("min"), config.get("max"), config.get("decimals", 0))


CHOICE_FIELDS = {
    "single_choice": RadioField,
    "scale": RadioField,
    "dropdown": SelectField,
    "multiple_choice": SelectMultipleField,
}


def _presence(question: Question):
    return InputRequired(REQUIRED_MESSAGE) if question.required else Optional()


def build_field(question: Question) -> Field:
    """The WTForms field for one question."""
    label = question.text
    description = question.help_text
    if question.type in CHOICE_FIELDS:
        # Options are rendered by the template and checked by OneOfOptions, so
        # the field gets no ``choices`` of its own.
        if question.type == "multiple_choice":
            presence = RequiredChoice() if question.required else Optional()
        else:
            presence = _presence(question)
        return CHOICE_FIELDS[question.type](
            label,
            description=description,
            coerce=_option_id,
            validate_choice=False,
            validators=[presence, OneOfOptions(o.id for o in question.options)],
        )
    if question.type == "numeric":
        rule = number_rule(question)
        return NumberField(label, description=description, validators=[_presence(question), rule], rule=rule)
    if question.type == "text":
        field_class = TextAreaField if question.config.get("multiline", True) else StringField
        return field_class(
            label,
            description=description,
            filters=[printable],
            validators=[RequiredText() if question.required else Optional(),
                        TextLength(question.config.get("max_length", 500))],
        )
    raise ValueError(f"no form field for question type {question.type!r}")


def page_questions(page) -> list[Question]:
    """The questions on a page that take answers (a matrix's rows, not the matrix), in order."""
    return [q for q in sorted(page.questions, key=lambda q: q.position) if q.type != "matrix"]


def field_names(questions) -> list[str]:
    """The form fields of these questions (with their "please specify" boxes)."""
    names = []
    for question in questions:
        names.append(field_name(question))
        if question.type == "multiple_choice" and question.config.get("other"):
            names.append(field_name(question) + "_other")
    return names


def build_response_form(survey: Survey, hidden: frozenset[str] = frozenset(),
                        questions: list[Question] | None = None) -> type[FlaskForm]:
    """The form class for ``questions`` (default: the whole survey).

    Questions in ``hidden`` (display logic) keep a field, so that the page can show them
    again if the resident changes an earlier answer, but with no checks at all: what is
    posted for them is neither validated, required nor stored (see ``answers_from_form``).
    """
    attributes = {}
    for question in (survey.questions if questions is None else questions):
        if question.type == "matrix":
            continue  # a matrix has no answer of its own: its rows are scale questions
        field = build_field(question)
        if question.code in hidden:
            field.kwargs["validators"] = [Optional()]
        attributes[field_name(question)] = field
        if question.type == "multiple_choice" and question.config.get("other"):
            attributes[field_name(question) + "_other"] = StringField(
                _l("Please specify"), filters=[printable],
                validators=[Optional()] if question.code in hidden else [TextLength(OTHER_LENGTH)])
    return type("ResponseForm", (FlaskForm,), attributes)


def _posted_value(question: Question, formdata):
    """A question's posted answer as display logic sees it (codes, not ids); None if none or invalid."""
    name = field_name(question)
    codes = {str(o.id): o.code for o in question.options}
    if question.type == "multiple_choice":
        chosen = [codes[v] for v in formdata.getlist(name) if v in codes]
        return chosen or None
    raw = (formdata.get(name) or "").strip()
    if not raw:
        return None
    if question.type in ("single_choice", "scale", "dropdown"):
        return codes.get(raw)
    if question.type == "numeric":
        return number_rule(question).parse(raw)
    return raw


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
            answers[question.code] = None if question.type == "matrix" else _posted_value(question, formdata)
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
        if question.code in hidden or question.type == "matrix":
            continue
        field = form[field_name(question)]
        codes = {o.id: o.code for o in question.options}
        if question.type in ("single_choice", "scale", "dropdown"):
            if field.data is not None:
                answers.append(AnswerValue(question.id, value=codes[field.data]))
        elif question.type == "multiple_choice":
            chosen = list(field.data or [])
            other = ""
            if question.config.get("other"):
                # "Other (please specify)" is the last option; writing in the box chooses it.
                other = (form[field_name(question) + "_other"].data or "").strip()
                if other and question.options and question.options[-1].id not in chosen:
                    chosen.append(question.options[-1].id)
            if chosen:
                mask = 0
                for option_id in chosen:
                    mask |= multi_bit(codes[option_id])
                answers.append(AnswerValue(question.id, value=mask, text=other or None))
        elif question.type == "numeric":
            if field.data and field.data.strip():
                answers.append(AnswerValue(question.id, number=number_rule(question).parse(field.data)))
        elif question.type == "text":
            text = (field.data or "").strip()
            if text:
                answers.append(AnswerValue(question.id, text=text))
    return answers
