"""Number: a count, a year, an amount, typed; checked by the one number rule
(``types.check_number``: finite, within the question's bounds or 0 to 1,000,000, at most its
decimals) and stored as a float in ``answer.number``."""
from __future__ import annotations

import math

import numpy as np

from ..types import (
    DEFAULT_NUMBER_RANGE,
    NOT_FINITE,
    OUT_OF_RANGE,
    NOT_A_NUMBER,
    NUMBER_LIMIT,
    NUMERIC,
    AnswerRefused,
    check_number,
    number_bounds,
    plain_number,
)
from .base import QuestionType, SettingsGroup, only_columns, require, whole


def _number_fields() -> dict:
    from wtforms import IntegerField, StringField
    from wtforms.validators import NumberRange, Optional

    return {
        "minimum": StringField("Smallest allowed number", validators=[Optional()],
                               description=f"Empty: {plain_number(DEFAULT_NUMBER_RANGE[0])} (or "
                                           f"-{plain_number(NUMBER_LIMIT)} if the largest is below it)."),
        "maximum": StringField("Largest allowed number", validators=[Optional()],
                               description=f"Empty: {plain_number(DEFAULT_NUMBER_RANGE[1])} (or "
                                           f"{plain_number(NUMBER_LIMIT)} if the smallest is above it). Bounds go up "
                                           f"to ±{plain_number(NUMBER_LIMIT)}; residents see the range under the box."),
        "decimals": IntegerField("Decimals allowed", default=0, validators=[Optional(), NumberRange(min=0, max=6)]),
    }


NUMBERS = SettingsGroup("numbers", "Numbers", _number_fields)


def _typed_number(text: str | None, label: str):
    from ..editing import EditRefused

    if text is None or not str(text).strip():
        return None
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        raise EditRefused(f"{label}: '{text}' is not a number") from None
    return int(value) if value.is_integer() else value


class Numeric(QuestionType):
    name = "numeric"
    label = "Number"
    kind = NUMERIC
    default_config = {"min": None, "max": None, "decimals": 0}
    widget = "number"
    browser_answer = "number"
    stored_in = "number"
    headline_statistic = "mean"
    chart = "means"

    def estimated_options(self, question) -> list[int]:
        return []

    def count_tables(self, records, n_groups):
        """One table: respondents answering, by group."""
        return [np.array([r["n"] for r in records], dtype=np.int64).reshape(n_groups, 1)]

    def hidden(self, record, g, option_position, protections):
        return bool(protections[0].cells[g, 0])

    def unusable(self, question, values, answered) -> dict:
        """Not finite, or outside the question's bounds; decimals beyond its own are harmless here."""
        low, high = number_bounds(question.config)
        finite = np.isfinite(values)
        with np.errstate(invalid="ignore"):
            outside = finite & ((values < low) | (values > high))
        return {NOT_FINITE: answered & ~finite, OUT_OF_RANGE: answered & outside}

    def summary(self, data, question, base):
        from ...analysis import estimates

        return estimates.column_summary(data, question, base, summary=lambda series, _: estimates.numeric_summary(series))

    def released(self, records, group_pos, options, unit, top, item):
        """A mean's table is who answered (an index publishes its mean the same way)."""
        cells = np.full((len(group_pos), 1), np.nan)
        rows, tops = np.full(len(group_pos), np.nan), np.full(len(group_pos), np.nan)
        for record in records:
            g = group_pos.get(record.get("group"))
            if g is None or record.get("statistic") != "mean":
                continue
            n = record.get("n")
            if not record.get("suppressed") and record.get("estimate") is not None and n is not None:
                cells[g, 0] = n
            if n is not None:
                rows[g] = n
        return cells, rows, tops

    def protect_summary(self, summary, estimates, hide_missing, earlier, k):
        from ...analysis.pipeline import protect_number_summary

        protect_number_summary(summary, estimates, earlier, k)

    def linearise(self, frame, design, question, groupings):
        from ...analysis import estimates

        return estimates.number_estimates(frame, design, question, groupings)

    def frame_column(self, values, usable, question):
        return values  # float64, NaN where not answered
    settings_groups = (NUMBERS,)

    def item_settings(self, form, existing_options) -> dict:
        return {"config": {"min": _typed_number(form.minimum.data, "smallest allowed number"),
                           "max": _typed_number(form.maximum.data, "largest allowed number"),
                           "decimals": form.decimals.data or 0}}

    def fill_settings(self, form, question) -> None:
        config = question.config or {}
        form.minimum.data = "" if config.get("min") is None else plain_number(config["min"]).replace(",", "")
        form.maximum.data = "" if config.get("max") is None else plain_number(config["max"]).replace(",", "")
        form.decimals.data = config.get("decimals", 0)

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        low, high, decimals = merged["min"], merged["max"], merged["decimals"]
        for key in ("min", "max"):
            value = merged[key]
            require(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)),
                    f"{path}.{key}", "must be a number")
            # Finite and within reach (see types.NUMBER_LIMIT); empty takes the default bound.
            require(value is None or abs(value) <= NUMBER_LIMIT, f"{path}.{key}",  # NaN compares false
                    f"must be a number from -{plain_number(NUMBER_LIMIT)} to {plain_number(NUMBER_LIMIT)}, "
                    f"or empty for the default ({' to '.join(plain_number(b) for b in DEFAULT_NUMBER_RANGE)})")
        require(low is None or high is None or low <= high, path, "min must not exceed max")
        require(whole(decimals) and 0 <= decimals <= 6, f"{path}.decimals", "must be 0 to 6")
        return merged

    @staticmethod
    def rule(question):
        from ...forms.fields import NumberInRange

        config = question.config
        return NumberInRange(config.get("min"), config.get("max"), config.get("decimals", 0))

    def form_fields(self, question, hidden: bool) -> dict:
        from wtforms.validators import Optional

        from ...forms import fields

        rule = self.rule(question)
        validators = [Optional()] if hidden else [fields.presence(question.required), rule]
        return {f"q_{question.code}": fields.NumberField(question.text, description=question.help_text,
                                                         validators=validators, rule=rule)}

    def posted_value(self, question, formdata):
        raw = (formdata.get(f"q_{question.code}") or "").strip()
        return self.rule(question).parse(raw) if raw else None

    def answer(self, question, form):
        from ...forms.fields import AnswerValue

        data = form[f"q_{question.code}"].data
        if not (data and data.strip()):
            return None
        return AnswerValue(question.id, number=self.rule(question).parse(data))

    def synthetic(self, question, synthesis):
        config = question.config or {}
        low = 0.0 if config.get("min") is None else float(config["min"])
        high = low + 100.0 if config.get("max") is None else float(config["max"])
        values = synthesis.rng.uniform(low, high, synthesis.n)
        return "numbers", np.clip(np.round(values, config.get("decimals", 0)), low, high)

    def check_stored(self, question, value, number, text) -> None:
        only_columns(value, number, text, "number")
        if isinstance(number, bool) or not isinstance(number, (int, float)):  # stored: never text
            raise AnswerRefused(NOT_A_NUMBER, f"{number!r} is not a number")
        check_number(number, question.config or {})

    def shown(self, question, answer, may_read_text: bool) -> tuple[str, bool]:
        number, decimals = answer.number, (question.config or {}).get("decimals", 0)
        plain = number is not None and math.isfinite(number) and abs(number) < 1e15
        return (f"{number:,.{decimals}f}" if plain else repr(number)), False


TYPE = Numeric()
