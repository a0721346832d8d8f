"""Ranking: the resident puts up to N of the question's M options in order ("rank up to three
of these priorities"), one select box per place ("1st choice", "2nd choice"...), which works
without JavaScript and with a keyboard or screen reader.

Stored in ``answer.value`` as the ranked option codes, first choice in the lowest four bits:
``code_1 + 16 * code_2 + 256 * code_3 ...``. So option codes are 1 to 15 and at most 7 places
(28 bits, inside the signed 32-bit column on every backend); no "don't know" (a resident who
cannot rank skips the question).

Estimates, per option (``analysis/estimates.ranking_estimates``): the percent of those who
answered who ranked it first, and its mean rank, where an option the resident did not rank
counts as rank N + 1 (just below the places asked for), so every option has a rank for every
resident who answered and the mean ranks are comparable.

Disclosure: the first choices are one table like a single choice's (they add up to the n). The
mean ranks rest on the whole table of how many residents put each option at each place (with
N = 2, a mean rank and a first-choice count give the second-place count exactly), so they are
published for a table (everyone, or every group of a breakdown) whole or not at all
(``disclosure.protect_whole``).
"""
from __future__ import annotations

import numpy as np

from ..types import NOT_AN_OPTION, RANKING, AnswerRefused
from .base import QuestionType, SettingsGroup, only_columns, require, whole
from .choice import OPTIONS, check_random_order, option_id, option_ids_for_codes, options_from_form, options_to_form, shuffled

BITS = 4  # per place
MAX_CODE = 2 ** BITS - 1  # option codes 1 to 15
MAX_RANKS = 7  # places: 7 x 4 bits stay below the sign bit of a 32-bit integer
DEFAULT_RANKS = 3


def pack(codes) -> int:
    """Ranked option codes (first choice first) as the stored value."""
    return sum(int(code) << (BITS * place) for place, code in enumerate(codes))


def unpack(value: int) -> list[int]:
    """The stored value as ranked option codes, first choice first (a 0 inside means a gap)."""
    codes = []
    while value > 0:
        codes.append(value & MAX_CODE)
        value >>= BITS
    return codes


def places(values: np.ndarray, codes: list[int], ranks: int) -> np.ndarray:
    """For packed answers, each option's place (1 to ``ranks``; ``ranks + 1`` where not ranked),
    one row per answer, one column per option of ``codes``."""
    values = np.asarray(values, dtype=np.int64)
    out = np.full((len(values), len(codes)), ranks + 1, dtype=np.int64)
    for place in range(ranks):
        at_place = (values >> (BITS * place)) & MAX_CODE
        for column, code in enumerate(codes):
            out[at_place == code, column] = place + 1
    return out


def _fields() -> dict:
    from wtforms import IntegerField
    from wtforms.validators import Optional

    return {"ranks": IntegerField(f"How many places to rank (2 to {MAX_RANKS}, at most the number of options)",
                                  default=DEFAULT_RANKS, validators=[Optional()])}


SETTINGS = SettingsGroup("ranking", "Ranking", _fields)


class Ranking(QuestionType):
    name = "ranking"
    label = "Ranking"
    kind = RANKING
    default_config = {"ranks": DEFAULT_RANKS}
    options_source = "listed"
    widget = "ranking"
    browser_answer = "ranking"
    value_is_code = False
    chart = "option_bars"
    chart_words = ("first_axis", "bar_first")
    results_table = "ranks"
    per_option_statistics = ("percent", "mean_rank")
    settings_groups = (OPTIONS, SETTINGS)

    # --- the definition ------------------------------------------------------------------------

    def check_config(self, config: dict, path: str) -> dict:
        merged = super().check_config(config, path)
        require(whole(merged["ranks"]) and 2 <= merged["ranks"] <= MAX_RANKS, f"{path}.ranks",
                f"must be a whole number from 2 to {MAX_RANKS} (how many places a resident ranks)")
        require("other" not in merged, f"{path}.other", "a ranking question has no \"Other (please specify)\"")
        require("ordered" not in merged, f"{path}.ordered", "a ranking question's options have no order of their own")
        check_random_order(merged, path)
        return merged

    def options_from_definition(self, item, config, path):
        options = super().options_from_definition(item, config, path)
        require(config["ranks"] <= len(options), f"{path}.config.ranks",
                f"asks for {config['ranks']} places but the question has {len(options)} options")
        return options

    def option_code_rule(self, code: int) -> str | None:
        return None if 1 <= code <= MAX_CODE else f"must be 1 to {MAX_CODE} in a ranking question"

    def condition_target(self, options):
        return None  # display logic does not test a ranking

    def locked_settings(self, before: dict, after: dict) -> list[str]:
        if before.get("ranks", DEFAULT_RANKS) != after.get("ranks", DEFAULT_RANKS):
            return ["how many places it ranks cannot change"]
        return []

    # --- its settings on the staff form --------------------------------------------------------

    def item_settings(self, form, existing_options) -> dict:
        from ..editing import EditRefused

        if form.other.data or form.ordered.data:
            raise EditRefused("a ranking question takes neither \"Other (please specify)\" nor ordered options: "
                              "untick \"Other\" and set \"Ordered options\" to \"Not ordered\"")
        config = {"ranks": form.ranks.data if form.ranks.data is not None else DEFAULT_RANKS}
        if form.random_order.data:
            config["random_order"] = True
        return {"options": options_from_form(form, existing_options), "config": config}

    def fill_settings(self, form, question) -> None:
        options_to_form(form, question)
        form.ranks.data = self.ranks(question)
        form.random_order.data = bool((question.config or {}).get("random_order"))

    @staticmethod
    def ranks(question) -> int:
        return int((question.config or {}).get("ranks", DEFAULT_RANKS))

    # --- the resident's form -------------------------------------------------------------------

    def options_in_order(self, question, seed):
        return shuffled(question, seed)

    def form_fields(self, question, hidden: bool) -> dict:
        from wtforms import SelectMultipleField
        from wtforms.validators import Optional

        from ...forms import fields

        validators = [Optional()] if hidden else [
            fields.Ranked({o.id for o in question.options}, self.ranks(question), question.required)]
        # One select box per place, all named q_<code>: the browser posts them in page order,
        # empty ones included, so the field's data is the places in order (None: empty).
        return {f"q_{question.code}": SelectMultipleField(
            question.text, description=question.help_text, coerce=option_id, validate_choice=False,
            validators=validators)}

    def posted_value(self, question, formdata):
        return None  # display logic does not test a ranking

    def answer(self, question, form):
        from ...forms.fields import AnswerValue

        chosen = [option for option in (form[f"q_{question.code}"].data or []) if option is not None]
        if not chosen:
            return None
        codes = {o.id: o.code for o in question.options}
        return AnswerValue(question.id, value=pack(codes[option] for option in chosen))

    # --- stored answers ------------------------------------------------------------------------

    def check_stored(self, question, value, number, text) -> None:
        only_columns(value, number, text, "value")
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2 ** (BITS * MAX_RANKS):
            raise AnswerRefused(NOT_AN_OPTION, f"{value!r} is not a ranking of the question's options")
        ranked = unpack(value)
        codes = {o.code for o in question.options}
        if len(ranked) > self.ranks(question) or len(set(ranked)) != len(ranked) or not set(ranked) <= codes:
            raise AnswerRefused(NOT_AN_OPTION, f"{value!r} ranks {ranked}, which is not up to "
                                               f"{self.ranks(question)} different options of the question")

    def shown(self, question, answer, may_read_text: bool) -> tuple[str, bool]:
        labels = {o.code: o.label for o in question.options}
        return "; ".join(f"{place}. {labels.get(code, f'code {code}')}"
                         for place, code in enumerate(unpack(answer.value or 0), start=1)), False

    # --- the analysis ----------------------------------------------------------------------------

    def unusable(self, question, values, answered) -> dict:
        values = np.asarray(values, dtype=np.int64)
        codes = np.array([o_code for o_code, _ in question.options], dtype=np.int64)
        ranks = self.ranks(question)
        valid = (values > 0) & (values < 2 ** (BITS * ranks))
        seen = np.zeros((len(values), len(codes)), dtype=np.int64)
        for place in range(ranks):
            code = (values >> (BITS * place)) & MAX_CODE
            # Each place holds one of the question's codes, or is empty with nothing after it.
            valid &= np.isin(code, codes) | (values >> (BITS * place) == 0)
            seen += code[:, None] == codes[None, :]
        valid &= (seen <= 1).all(axis=1)
        return {NOT_AN_OPTION: answered & ~valid}

    def frame_column(self, values, usable, question):
        """A nullable Int32 of the packed rankings; 0 is no answer."""
        import pandas as pd

        values = np.where(usable, values, 0).astype(np.int32)
        return pd.arrays.IntegerArray(values, mask=values == 0)

    def estimated_options(self, question) -> list[int]:
        return [code for code, _ in question.options]

    def summary(self, data, question, base):
        from ...analysis import estimates

        return {**estimates.column_summary(data, question, base, estimates.first_choice_table),
                "ranks": self.ranks(question)}

    def linearise(self, frame, design, question, groupings):
        from ...analysis import estimates

        return estimates.ranking_estimates(frame, design, question, groupings, self.ranks(question))

    def protected_units(self, options: list) -> list[int]:
        return [0, 1]  # the first choices; every option at every place

    def count_tables(self, records, n_groups):
        """The first choices by group (groups x options), and every option's count at every place
        and unranked (groups x options * (N + 1)), from the mean-rank records' ``counts``."""
        first = [r["count"] for r in records if r["statistic"] == "percent"]
        whole_table = [r["counts"] for r in records if r["statistic"] == "mean_rank"]
        return [np.array(first, dtype=np.int64).reshape(n_groups, -1),
                np.array(whole_table, dtype=np.int64).reshape(n_groups, -1)]

    def protect_unit(self, unit, protect, whole):
        """The first choices as any table; the mean ranks whole or not at all, and not while
        anything of the first choices is hidden (``protect``/``whole``: breakdowns.item_estimates)."""
        return protect() if unit == 0 else whole()

    def hidden(self, record, g, option_position, protections):
        if record["statistic"] == "percent":
            return bool(protections[0].cells[g, option_position[record["option"]]])
        return bool(protections[1].mean[g])

    def released(self, records, group_pos, options, unit, top, item):
        # The whole table has a cell per option and place, and unranked; it tells no group's n
        # (unit 0 holds those).
        width = len(options) if unit == 0 else len(options) * (int(item["ranks"]) + 1)
        cells = np.full((len(group_pos), width), np.nan)
        rows, tops = np.full(len(group_pos), np.nan), np.full(len(group_pos), np.nan)
        option_pos = {code: i for i, code in enumerate(options)}
        for record in records:
            g = group_pos.get(record.get("group"))
            if g is None or record.get("option") not in option_pos:
                continue
            shown = not record.get("suppressed") and record.get("estimate") is not None
            if unit == 0 and record.get("n") is not None:
                rows[g] = record["n"]
            o = option_pos[record["option"]]
            if unit == 0 and record.get("statistic") == "percent" and shown and record.get("count") is not None:
                cells[g, o] = record["count"]
            elif unit == 1 and record.get("statistic") == "mean_rank" and shown and record.get("counts"):
                per_option = len(record["counts"])
                cells[g, o * per_option:(o + 1) * per_option] = record["counts"]
        return cells, rows, tops

    # --- CSV import ------------------------------------------------------------------------------

    def import_formdata(self, question, values):
        """A cell of option codes in rank order, separated by semicolons ("3;1;5")."""
        raw = values.get(question.code, "").strip()
        if not raw:
            return [], []
        chosen, problems = option_ids_for_codes(question, raw, separator=";")
        return [(f"q_{question.code}", option) for option in chosen], [(question.code, p) for p in problems]

    # --- synthetic answers -----------------------------------------------------------------------

    def synthetic(self, question, synthesis):
        """Each resident ranks 1 to N options, drawn by preferences that favour earlier options."""
        codes = np.array([code for code, _ in question.options], dtype=np.int64)
        ranks = self.ranks(question)
        appeal = -np.log(np.arange(1, len(codes) + 1)) + synthesis.rng.gumbel(size=(synthesis.n, len(codes)))
        order = np.argsort(-appeal, axis=1)
        how_many = np.where(synthesis.rng.random(synthesis.n) < 0.8, ranks, synthesis.rng.integers(1, ranks + 1, synthesis.n))
        values = np.zeros(synthesis.n, dtype=np.int64)
        for place in range(ranks):
            values |= np.where(place < how_many, codes[order[:, place]] << (BITS * place), 0)
        return "values", values


TYPE = Ranking()
