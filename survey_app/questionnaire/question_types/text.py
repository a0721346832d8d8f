"""Free text: what a resident writes, up to ``max_length`` characters (one line, or several
with ``multiline``), stored in ``answer.text``; control characters are removed on the way in.
Only roles allowed to read written answers see it."""
from __future__ import annotations

from ..settings import MAX_TEXT_LENGTH
from ..types import NOT_AN_OPTION, TEXT, AnswerRefused
from .base import QuestionType, SettingsGroup, only_columns, require, whole


def _text_fields() -> dict:
    from wtforms import BooleanField, IntegerField
    from wtforms.validators import NumberRange, Optional

    return {
        "max_length": IntegerField("Longest answer (characters)", default=500,
                                   validators=[Optional(), NumberRange(min=1, max=MAX_TEXT_LENGTH)]),
        "multiline": BooleanField("Long answer (several lines)", default=True),
    }


TEXT_SETTINGS = SettingsGroup("text", "Free text", _text_fields)


class Text(QuestionType):
    name = "text"
    label = "Free text"
    kind = TEXT
    default_config = {"max_length": 500, "multiline": True}
    widget = "text"
    stored_in = "text"
    settings_groups = (TEXT_SETTINGS,)

    def item_settings(self, form, existing_options) -> dict:
        return {"config": {"max_length": form.max_length.data or 500, "multiline": bool(form.multiline.data)}}

    def fill_settings(self, form, question) -> None:
        config = question.config or {}
        form.max_length.data = config.get("max_length", 500)
        form.multiline.data = config.get("multiline", True)

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        limit = merged["max_length"]
        require(whole(limit) and 1 <= limit <= MAX_TEXT_LENGTH, f"{path}.max_length",
                f"must be a whole number from 1 to {MAX_TEXT_LENGTH}")
        return merged

    def form_fields(self, question, hidden: bool) -> dict:
        from wtforms import StringField, TextAreaField
        from wtforms.validators import Optional

        from ...forms import fields

        field_class = TextAreaField if question.config.get("multiline", True) else StringField
        validators = ([Optional()] if hidden else
                      [fields.RequiredText() if question.required else Optional(),
                       fields.TextLength(question.config.get("max_length", 500))])
        return {f"q_{question.code}": field_class(question.text, description=question.help_text,
                                                  filters=[fields.printable], validators=validators)}

    def posted_value(self, question, formdata):
        return (formdata.get(f"q_{question.code}") or "").strip() or None

    def answer(self, question, form):
        from ...forms.fields import AnswerValue

        text = (form[f"q_{question.code}"].data or "").strip()
        return AnswerValue(question.id, text=text) if text else None

    def synthetic(self, question, synthesis):
        picks = synthesis.rng.integers(0, len(synthesis.problems), synthesis.n)
        wrote = synthesis.answered & (synthesis.rng.random(synthesis.n) < 0.35)
        limit = (question.config or {}).get("max_length", 500)
        return "texts", [synthesis.problems[i][:limit] if w else None for i, w in zip(picks, wrote)]

    def summary(self, data, question, base):
        from ...analysis import estimates

        return estimates.text_summary(data, question, base)

    def check_stored(self, question, value, number, text) -> None:
        only_columns(value, number, text, "text")
        if not isinstance(text, str) or not text.strip():
            raise AnswerRefused(NOT_AN_OPTION, "has no text")

    def shown(self, question, answer, may_read_text: bool) -> tuple[str, bool]:
        return (answer.text, False) if may_read_text else (None, True)


TYPE = Text()
