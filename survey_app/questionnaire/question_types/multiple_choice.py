"""Multiple choice: any number of options, as checkboxes, stored as a bit mask of the chosen
codes (code c sets bit c-1; codes 1 to 31). With ``other``, the last option is "Other (please
specify)" and its box's text is stored beside the mask."""
from __future__ import annotations

import numpy as np

from ..types import MAX_MULTI_OPTION_CODE, MULTI, NOT_AN_OPTION, AnswerRefused, multi_bit
from .base import QuestionType, only_columns, require
from .choice import (
    OPTIONS,
    check_random_order,
    option_id,
    option_ids_for_codes,
    options_from_form,
    options_to_form,
    shuffled,
)

OTHER_LENGTH = 200  # characters of an "Other (please specify)" answer


class MultipleChoice(QuestionType):
    name = "multiple_choice"
    label = "Multiple choice"
    kind = MULTI
    options_source = "listed"
    widget = "choices"
    several_answers = True
    value_is_code = False
    browser_answer = "several"
    chart = "option_bars"
    chart_words = ("multi_axis", "bar_multi")
    settings_groups = (OPTIONS,)

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        if "other" in merged:
            require(isinstance(merged["other"], bool), f"{path}.other",
                    "must be true or false (true: the last option is \"Other (please specify)\")")
        check_random_order(merged, path)
        return merged

    def options_in_order(self, question, seed):
        return shuffled(question, seed, keep_last=1 if question.config.get("other") else 0)

    def item_settings(self, form, existing_options) -> dict:
        item = {"options": options_from_form(form, existing_options)}
        config = {"other": True} if form.other.data else {}
        if form.random_order.data:
            config["random_order"] = True
        if config:
            item["config"] = config
        return item

    def fill_settings(self, form, question) -> None:
        options_to_form(form, question)
        form.other.data = bool((question.config or {}).get("other"))
        form.random_order.data = bool((question.config or {}).get("random_order"))

    def option_code_rule(self, code: int) -> str | None:
        if 1 <= code <= MAX_MULTI_OPTION_CODE:
            return None
        return f"must be 1 to {MAX_MULTI_OPTION_CODE} in a multiple-choice question"

    @staticmethod
    def other_name(question) -> str:
        return f"q_{question.code}_other"

    def field_names(self, question) -> list[str]:
        return [f"q_{question.code}"] + ([self.other_name(question)] if question.config.get("other") else [])

    def form_fields(self, question, hidden: bool) -> dict:
        from wtforms import SelectMultipleField, StringField
        from wtforms.validators import Optional

        from ...forms import fields

        presence = fields.RequiredChoice() if question.required else Optional()
        validators = [Optional()] if hidden else [presence, fields.OneOfOptions(o.id for o in question.options)]
        result = {f"q_{question.code}": SelectMultipleField(
            question.text, description=question.help_text, coerce=option_id, validate_choice=False,
            validators=validators)}
        if question.config.get("other"):
            result[self.other_name(question)] = StringField(
                fields.PLEASE_SPECIFY, filters=[fields.printable],
                validators=[Optional()] if hidden else [fields.TextLength(OTHER_LENGTH)])
        return result

    def posted_value(self, question, formdata):
        codes = {str(o.id): o.code for o in question.options}
        chosen = [codes[v] for v in formdata.getlist(f"q_{question.code}") if v in codes]
        return chosen or None

    def answer(self, question, form):
        from ...forms.fields import AnswerValue

        chosen = list(form[f"q_{question.code}"].data or [])
        other = ""
        if question.config.get("other"):
            # "Other (please specify)" is the last option; writing in the box chooses it.
            other = (form[self.other_name(question)].data or "").strip()
            if other and question.options and question.options[-1].id not in chosen:
                chosen.append(question.options[-1].id)
        if not chosen:
            return None
        codes = {o.id: o.code for o in question.options}
        mask = 0
        for option in chosen:
            mask |= multi_bit(codes[option])
        return AnswerValue(question.id, value=mask, text=other or None)

    def check_stored(self, question, value, number, text) -> None:
        only_columns(value, number, text, "value", "text")
        allowed = sum(multi_bit(o.code) for o in question.options if 1 <= o.code <= MAX_MULTI_OPTION_CODE)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value & ~allowed:
            raise AnswerRefused(NOT_AN_OPTION, f"{value!r} is not a combination of the question's options")
        if text is not None and not isinstance(text, str):
            raise AnswerRefused(NOT_AN_OPTION, "its \"other\" text is not text")

    def shown(self, question, answer, may_read_text: bool) -> tuple[str, bool]:
        chosen = [o.label for o in question.options if (answer.value or 0) & multi_bit(o.code)]
        text = "; ".join(chosen) or f"code {answer.value}"
        if answer.text:
            if not may_read_text:
                return text, True
            text += f" (other: {answer.text})"
        return text, False

    def unusable(self, question, values, answered) -> dict:
        allowed = sum(multi_bit(c) for c, _ in question.options if 1 <= c <= MAX_MULTI_OPTION_CODE)
        valid = (values > 0) & (values < 2 ** 31) & ((values & ~np.int64(allowed)) == 0)
        return {NOT_AN_OPTION: answered & ~valid}

    def estimated_options(self, question) -> list[int]:
        return [code for code, _ in question.options]  # every option, "other" included

    def summary(self, data, question, base):
        from ...analysis import estimates

        return estimates.column_summary(data, question, base, estimates.multiple_choice_table)

    def linearise(self, frame, design, question, groupings):
        from ...analysis import estimates

        return estimates.mask_estimates(frame, design, question, groupings)

    def count_tables(self, records, n_groups):
        """One table per option: respondents choosing it and not, by group."""
        percent = [r for r in records if r["statistic"] == "percent"]
        chosen = np.array([r["count"] for r in percent], dtype=np.int64).reshape(n_groups, -1)
        base = np.array([r["n"] for r in percent], dtype=np.int64).reshape(n_groups, -1)
        return [np.column_stack([chosen[:, o], base[:, o] - chosen[:, o]]) for o in range(chosen.shape[1])]

    def hidden(self, record, g, option_position, protections):
        return bool(protections[option_position[record["option"]]].cells[g].any())

    def protected_units(self, options):
        return list(range(len(options)))

    def released(self, records, group_pos, options, unit, top, item):
        cells = np.full((len(group_pos), 2), np.nan)
        rows, tops = np.full(len(group_pos), np.nan), np.full(len(group_pos), np.nan)
        for record in records:
            g = group_pos.get(record.get("group"))
            if g is None or record.get("statistic") != "percent" or record.get("option") != options[unit]:
                continue
            shown = not record.get("suppressed") and record.get("estimate") is not None
            n, count = record.get("n"), record.get("count")
            if shown and count is not None and n is not None:
                cells[g] = [count, n - count]
            if n is not None:
                rows[g] = n
        return cells, rows, tops

    def frame_column(self, values, usable, question):
        """A nullable Int32 bit mask (bit code - 1 per option); an empty mask is no answer."""
        import pandas as pd

        return pd.arrays.IntegerArray(values, mask=values == 0)

    def synthetic(self, question, synthesis):
        positive = [o.code for o in question.options if o.code > 0]
        values = np.zeros(synthesis.n, dtype=np.int64)
        for code in positive:
            values[synthesis.rng.random(synthesis.n) < 0.3] |= multi_bit(code)
        values[values == 0] = multi_bit(positive[0])
        return "values", values

    def import_columns(self, question) -> list[str]:
        return [question.code] + ([f"{question.code}_other"] if question.config.get("other") else [])

    def import_formdata(self, question, values):
        formdata, problems = [], []
        raw = values.get(question.code, "").strip()
        if raw:
            chosen, refused = option_ids_for_codes(question, raw, separator=";")
            formdata += [(f"q_{question.code}", option) for option in chosen]
            problems += [(question.code, p) for p in refused]
        other = values.get(f"{question.code}_other", "").strip()
        if other and question.config.get("other"):
            formdata.append((self.other_name(question), other))
        return formdata, problems


TYPE = MultipleChoice()
