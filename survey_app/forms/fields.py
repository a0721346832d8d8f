"""WTForms building blocks of the resident's form that the question types use (each type
builds its own fields from these: questionnaire/question_types/). Each field has exactly one
error message at a time, written for a resident."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import InputRequired, Optional, StopValidation, ValidationError

from ..questionnaire.types import AnswerRefused, check_number, number_bounds

REQUIRED_MESSAGE = _l("Please answer this question.")
CHOICE_MESSAGE = _l("Please choose one of the answers listed.")
PLEASE_SPECIFY = _l("Please specify")


@dataclass(frozen=True)
class AnswerValue:
    """What one answered question stores (see ``models.Answer``)."""

    question_id: int
    value: int | None = None
    number: float | None = None
    text: str | None = None


def presence(required: bool):
    return InputRequired(REQUIRED_MESSAGE) if required else Optional()


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


class Ranked:
    """A ranking's select boxes, one per place, posted in order (None: left empty): options of the
    question, each at most once, the places filled from the first without a gap."""

    def __init__(self, option_ids, ranks: int, required: bool):
        self.option_ids, self.ranks, self.required = frozenset(option_ids), ranks, required

    def __call__(self, form, field):
        places = list(field.data or [])
        raw = [v for v in (field.raw_data or []) if v != ""]
        chosen = [p for p in places if p is not None]
        if len(places) > self.ranks or len(chosen) != len(raw) or any(p not in self.option_ids for p in chosen):
            raise StopValidation(CHOICE_MESSAGE)
        if not chosen:
            if self.required:
                raise StopValidation(_("Please choose at least your first choice."))
            raise StopValidation()  # nothing to store, nothing wrong
        if None in places and any(p is not None for p in places[places.index(None):]):
            raise StopValidation(_("Please fill in your choices in order, from the first, without leaving a gap."))
        if len(set(chosen)) != len(chosen):
            raise StopValidation(_("Please choose each answer only once."))


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
