"""What the one-answer choice types share (single choice, dropdown, the scales): the resident
picks one option, stored as the option's code in ``answer.value``."""
from __future__ import annotations

import hashlib
import random

import numpy as np

from ..types import NOT_AN_OPTION, AnswerRefused
from .base import QuestionType, SettingsGroup, only_columns


def _options_fields() -> dict:
    from wtforms import BooleanField, SelectField, TextAreaField
    from wtforms.fields.choices import SelectChoice
    from wtforms.validators import Length, Optional

    return {
        "options": TextAreaField("Answer options, or a matrix's statements, one per line (\"code | label\"; "
                                 "a new line without a code gets one; a matrix statement may end with \"| reversed\")",
                                 validators=[Optional(), Length(max=20_000)]),
        "ordered": SelectField("Ordered options", choices=[SelectChoice("", "Not ordered"),
                                                           SelectChoice("first_high", "First is most favourable"),
                                                           SelectChoice("last_high", "Last is most favourable")],
                               validate_choice=False),
        "other": BooleanField("Add \"Other (please specify)\""),
        "random_order": BooleanField("Show the options in a random order to each resident (lists without an "
                                     "order, against the pull of the first options; never for ordered options)"),
    }


OPTIONS = SettingsGroup("options", "Options", _options_fields)


def option_positions(values: np.ndarray, question) -> np.ndarray:
    """Each stored value's position among the question's options, -1 for a value that is none of
    them. Through a table over the options' codes (a handful of small integers): one pass over
    the answers, where a search or ``np.isin`` per value took 0.4 s a question at ten million."""
    codes = np.array([code for code, _ in question.options], dtype=np.int64)
    position = np.full(len(values), -1, dtype=np.int64)
    if len(codes) == 0:
        return position
    low, high = int(codes.min()), int(codes.max())
    table = np.full(high - low + 1, -1, dtype=np.int64)
    table[codes - low] = np.arange(len(codes))
    inside = (values >= low) & (values <= high)
    position[inside] = table[values[inside] - low]
    return position


def check_random_order(merged: dict, path: str) -> None:
    from .base import require

    if "random_order" in merged:
        require(isinstance(merged["random_order"], bool), f"{path}.random_order", "must be true or false")
        require(not (merged["random_order"] and merged.get("ordered")), f"{path}.random_order",
                "ordered options keep their order: set ordered or random_order, not both")


def shuffled(question, seed, keep_last: int = 0) -> list:
    """The question's options in this resident's own random order when it asks for one: the same
    on every page and device of the resident (the seed comes from the resident's code), the
    non-answers ("don't know", "prefer not to say") and the last ``keep_last`` options after."""
    options = list(question.options)
    if not (question.config or {}).get("random_order"):
        return options
    seed = seed(question)
    if seed is None:
        return options
    fixed = [o for o in options if o.code < 0]
    fixed_tail = options[len(options) - keep_last:] if keep_last else []
    moving = [o for o in options if o not in fixed and o not in fixed_tail]
    rng = random.Random(hashlib.sha256(seed + question.code.encode()).digest())
    rng.shuffle(moving)
    return moving + fixed_tail + fixed


def options_from_form(form, existing_options) -> list[dict]:
    from ..editing import options_from_lines

    return options_from_lines(form.options.data, existing_options)


def options_to_form(form, question) -> None:
    form.options.data = "\n".join(f"{o.code} | {o.label}" for o in question.options)


def option_id(raw):
    """A posted option id as an int; garbage becomes None for the validator to refuse."""
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def option_ids_for_codes(question, raw: str, separator: str | None = None) -> tuple[list[str], list[str]]:
    """CSV cell of option codes (one, or several split by ``separator``) as posted option ids,
    and a message for each part that is no option code of the question."""
    ids = {o.code: str(o.id) for o in question.options}
    parts = [p.strip() for p in raw.split(separator)] if separator else [raw.strip()]
    chosen, problems = [], []
    for part in parts:
        if not part:
            continue
        try:
            code = int(part)
        except ValueError:
            code = None
        if code not in ids:
            shown = [f"{o.code} ({o.label})" for o in question.options[:8]]
            more = ", ..." if len(question.options) > 8 else ""
            problems.append(f"'{part}' is not an answer code of this question; use {', '.join(shown)}{more}")
            continue
        chosen.append(ids[code])
    return chosen, problems


class OneChoice(QuestionType):
    """One option of several; a subclass names its widget and where its options come from."""

    options_source = "listed"
    field_class_name = "RadioField"  # of wtforms
    browser_answer = "one"
    chart = "option_bars"
    settings_groups = (OPTIONS,)

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        check_random_order(merged, path)
        return merged

    def options_in_order(self, question, seed):
        return shuffled(question, seed)

    def item_settings(self, form, existing_options) -> dict:
        item = {"options": options_from_form(form, existing_options)}
        if form.random_order.data:
            item["config"] = {"random_order": True}
        return item

    def fill_settings(self, form, question) -> None:
        options_to_form(form, question)
        form.random_order.data = bool((question.config or {}).get("random_order"))

    def form_fields(self, question, hidden: bool) -> dict:
        import wtforms
        from wtforms.validators import Optional

        from ...forms import fields

        validators = ([Optional()] if hidden else
                      [fields.presence(question.required), fields.OneOfOptions(o.id for o in question.options)])
        # The template renders the options and OneOfOptions checks them, so the field has no choices.
        field = getattr(wtforms, self.field_class_name)(question.text, description=question.help_text,
                                                        coerce=option_id, validate_choice=False,
                                                        validators=validators)
        return {f"q_{question.code}": field}

    def posted_value(self, question, formdata):
        raw = (formdata.get(f"q_{question.code}") or "").strip()
        return {str(o.id): o.code for o in question.options}.get(raw)

    def answer(self, question, form):
        from ...forms.fields import AnswerValue

        chosen = form[f"q_{question.code}"].data
        if chosen is None:
            return None
        return AnswerValue(question.id, value={o.id: o.code for o in question.options}[chosen])

    def check_stored(self, question, value, number, text) -> None:
        only_columns(value, number, text, "value")
        codes = {o.code for o in question.options}
        if isinstance(value, bool) or not isinstance(value, int) or value not in codes:
            raise AnswerRefused(NOT_AN_OPTION, f"{value!r} is not an answer code of the question "
                                               f"({', '.join(str(c) for c in sorted(codes))})")

    def unusable(self, question, values, answered) -> dict:
        return {NOT_AN_OPTION: answered & (option_positions(values, question) < 0)}

    def summary(self, data, question, base):
        from ...analysis import estimates

        return estimates.column_summary(data, question, base, estimates.frequency_table,
                                        estimates.scale_summary if self.ordered_points else None)

    def protect_summary(self, summary, estimates, hide_missing, earlier, k):
        if self.ordered_points:
            from ...analysis.pipeline import protect_scale_summary

            protect_scale_summary(summary, estimates, hide_missing)

    def linearise(self, frame, design, question, groupings):
        from ...analysis import estimates

        return estimates.option_estimates(frame, design, question, groupings,
                                          top_codes=self.top_codes if self.ordered_points else None)

    def count_tables(self, records, n_groups):
        """One table: respondents choosing each option, by group."""
        percent = [r for r in records if r["statistic"] == "percent"]
        return [np.array([r["count"] for r in percent], dtype=np.int64).reshape(n_groups, -1)]

    def hidden(self, record, g, option_position, protections):
        protection = protections[0]
        if record["statistic"] == "percent":
            return bool(protection.cells[g, option_position[record["option"]]])
        if record["statistic"] == "mean":  # one more equation on the hidden cells
            return bool(protection.mean[g])
        return bool(protection.top[g])  # percent_agree

    def released(self, records, group_pos, options, unit, top, item):
        cells = np.full((len(group_pos), len(options)), np.nan)
        rows, tops = np.full(len(group_pos), np.nan), np.full(len(group_pos), np.nan)
        option_pos = {code: i for i, code in enumerate(options)}
        for record in records:
            g = group_pos.get(record.get("group"))
            if g is None:
                continue
            shown = not record.get("suppressed") and record.get("estimate") is not None
            n, count, statistic = record.get("n"), record.get("count"), record.get("statistic")
            if statistic == "percent" and record.get("option") in option_pos:
                if shown and count is not None:
                    cells[g, option_pos[record["option"]]] = count
                if n is not None:
                    rows[g] = n
            elif statistic == "percent_agree" and top and shown and count is not None:
                tops[g] = count
        return cells, rows, tops

    def frame_column(self, values, usable, question):
        """A Categorical over the question's options (int8 codes underneath; ordered for a
        scale); "don't know" and "prefer not to say" stay in as their codes to be counted."""
        import pandas as pd

        categories = np.array([code for code, _ in question.options], dtype=np.int64)
        position = option_positions(values, question)
        codes = np.where(usable, position, -1).astype(np.int8 if len(categories) < 127 else np.int16)
        return pd.Categorical.from_codes(codes, categories=categories, ordered=self.ordered_points)

    def synthetic(self, question, synthesis):
        positive = [o.code for o in question.options if o.code > 0]
        return "values", synthesis.rng.choice(np.asarray(positive), size=synthesis.n)

    def import_formdata(self, question, values):
        raw = values.get(question.code, "").strip()
        if not raw:
            return [], []
        chosen, problems = option_ids_for_codes(question, raw)
        return [(f"q_{question.code}", option) for option in chosen], [(question.code, p) for p in problems]
