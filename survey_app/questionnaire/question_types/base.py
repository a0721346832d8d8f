"""What every question type is asked, and the answers of a type that asks nothing special.

A question type is one class in one module of this package (``scale.py``, ``numeric.py``...),
registered by name (``__init__.py``). Shared code reaches a type only through the registry:
``question_type(question.type).form_fields(question, ...)``, never ``if question.type == ...``.
Modelled on Indico's survey fields (``indico/web/fields/base.py``): one class per type that
knows its definition, its settings, its resident widget and its answers.

Plain Python: the analysis imports this package and must not pull in Flask or WTForms, so a
type imports its form fields inside the methods that build them (from ``forms/fields.py``).
"""
from __future__ import annotations

from typing import Any

from ..types import CODE_PATTERN, DONT_KNOW, MISSING_CODES, PREFER_NOT_TO_SAY, AnswerRefused, NOT_AN_OPTION

MISSING_NAMES = {"dont_know": DONT_KNOW, "prefer_not_to_say": PREFER_NOT_TO_SAY}
OPTION_LABEL_LENGTH = 300


class DefinitionError(ValueError):
    """A definition is invalid; ``path`` names the field at fault."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def require(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise DefinitionError(path, message)


def whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_options(options: Any, path: str, code_rule=None) -> list[tuple[int, str]]:
    """Options as a definition lists them: (code, label) pairs, at least two, codes unique and
    whole; ``code_rule(code)`` returns a message when a type allows fewer codes."""
    require(isinstance(options, list) and len(options) >= 2, path, "needs at least two options")
    seen: set[int] = set()
    checked = []
    for i, option in enumerate(options):
        opath = f"{path}[{i}]"
        require(isinstance(option, dict), opath, "must be an object")
        code = option.get("code")
        require(whole(code), f"{opath}.code", "must be a whole number")
        require(code not in seen, f"{opath}.code", f"duplicates code {code}")
        problem = (code_rule or _positive_or_missing)(code)
        require(problem is None, f"{opath}.code", problem or "")
        seen.add(code)
        label = option.get("label", "")
        require(isinstance(label, str), f"{opath}.label", "must be text")
        require(label.strip(), f"{opath}.label", "is required")
        require(len(label) <= OPTION_LABEL_LENGTH, f"{opath}.label", f"is longer than {OPTION_LABEL_LENGTH} characters")
        checked.append((code, label))
    return checked


def _positive_or_missing(code: int) -> str | None:
    if code > 0 or code in MISSING_CODES:
        return None
    return f"must be positive, or {DONT_KNOW} (don't know) or {PREFER_NOT_TO_SAY} (prefer not to say)"


def check_code(code: Any, path: str) -> str:
    require(isinstance(code, str) and bool(CODE_PATTERN.match(code)), path,
            "must start with a lowercase letter and use only a-z, 0-9 and _ (at most 64)")
    return code


def new_code(code: Any, codes: set[str], path: str) -> str:
    """A valid question code not yet used in the survey, added to ``codes``."""
    check_code(code, path)
    require(code not in codes, path, f"duplicates question code {code!r}")
    codes.add(code)
    return code


def only_columns(value, number, text, *columns: str) -> None:
    """Refuse a stored answer that fills a column this type does not store."""
    for name, column in (("value", value), ("number", number), ("text", text)):
        if name not in columns and column is not None:
            raise AnswerRefused(NOT_AN_OPTION, f"has a {name} ({column!r}), which this kind of question does not store")


class SettingsGroup:
    """Some of the settings on the staff question form, shown together under ``legend``; the
    types that use them list the group (``QuestionType.settings_groups``). ``fields`` makes
    the WTForms fields (imported there: this package is plain Python)."""

    def __init__(self, key: str, legend: str, fields):
        self.key, self.legend, self._fields = key, legend, fields

    def fields(self) -> dict:
        return self._fields()


class QuestionType:
    """A question type. Subclasses set the class attributes and override what differs."""

    name: str = ""
    label: str = ""  # as staff read it in the designer ("5-point scale")
    kind: str = ""  # how the analysis treats its answers (types.CATEGORICAL, ORDINAL, ...)
    default_config: dict = {}
    # Options: listed in the definition ("listed"), made from the config ("generated"), or none.
    options_source: str = "none"
    stores_answers: bool = True  # False: a group whose rows answer for it (matrix)
    widget: str = ""  # the resident's widget: templates/question_types/<widget>.html
    # Options whose share is reported as the favourable end ("percent_agree"): the top two of a
    # 5-point scale, 7 to 10 of a 0-10 scale; empty for types without an ordered scale.
    top_codes: tuple[int, ...] = ()
    several_answers: bool = False  # the widget takes several options (checkboxes)
    # Whether ``answer.value`` holds one option's code (False: a combination, e.g. a bit mask).
    value_is_code: bool = True
    # How the browser's display logic (static/js/logic.js) reads an answer off the widget:
    # "one" (a checked radio's code), "several" (checked boxes' codes), "select", "number", "text".
    browser_answer: str = "text"
    ordered_points: bool = False  # options are points of a scale, non-answers set apart
    choices_class: str = ""  # how the widget lays its options out (static/style.css): "scale", "points"

    # --- the definition (questionnaire/definition.py) ------------------------------------------

    def check_config(self, config: dict, path: str) -> dict:
        """The question's settings merged with the defaults; DefinitionError if any is wrong."""
        require(isinstance(config, dict), path, "must be an object")
        return {**self.default_config, **config}

    def options_from_definition(self, item: dict, config: dict, path: str) -> list[tuple[int, str]]:
        """The (code, label) options of a question defined by ``item`` (its config checked)."""
        if self.options_source == "listed":
            return check_options(item.get("options"), f"{path}.options", self.option_code_rule)
        if "options" in item:
            reason = ("its options come from its config" if self.options_source == "generated"
                      else f"a {self.name} question has no options")
            raise DefinitionError(f"{path}.options", reason)
        return self.generated_options(config) if self.options_source == "generated" else []

    def option_code_rule(self, code: int) -> str | None:
        """A message if ``code`` cannot be an option code of this type."""
        return _positive_or_missing(code)

    def generated_options(self, config: dict) -> list[tuple[int, str]]:
        return []

    def rows_from_definition(self, item: dict, config: dict, codes: set[str], path: str) -> list[dict]:
        """Questions of their own that this one groups (a matrix's statements); most have none."""
        require("rows" not in item, f"{path}.rows", f"a {self.name} question has no rows")
        return []

    def condition_target(self, options: list[tuple[int, str]]) -> dict:
        """What a display condition on a later item may test of this question."""
        return {"type": self.name, "options": [code for code, _ in options]}

    def exports_options(self) -> bool:
        return self.options_source == "listed"

    def locked_settings(self, before: dict, after: dict) -> list[str]:
        """Why a change of settings from ``before`` to ``after`` would misread the answers already
        stored (one reason each; empty if it would not)."""
        return []

    # --- its settings on the staff question form (forms/staff.py) -------------------------------

    settings_groups: tuple = ()

    def item_settings(self, form, existing_options) -> dict:
        """The definition's "config", "options" and "rows" as the staff form sets them."""
        return {}

    def fill_settings(self, form, question) -> None:
        """Put the question's settings into the staff form."""

    # --- the resident's form (forms/response.py) ------------------------------------------------

    def options_in_order(self, question, seed) -> list:
        """The options in the order this resident sees them; ``seed(question)`` gives the resident's
        own seed (None on staff pages, which show the order as defined), asked only by a type that
        shuffles. Stored answers never depend on the order."""
        return list(question.options)

    def field_names(self, question) -> list[str]:
        """The names of its form fields (those ``form_fields`` makes, without making them)."""
        return [f"q_{question.code}"] if self.stores_answers else []

    def form_fields(self, question, hidden: bool) -> dict:
        """The WTForms fields for this question by name (its own ``q_<code>`` first). A hidden
        question (display logic) keeps its fields, unchecked, so the page can show it again."""
        return {}

    def posted_value(self, question, formdata):
        """The posted answer as display logic sees it (codes, a number, text); None if none."""
        return None

    def answer(self, question, form):
        """The validated form's answer to store (a forms.response.AnswerValue), or None."""
        return None

    # --- stored answers ---------------------------------------------------------------------------

    def check_stored(self, question, value, number, text) -> None:
        """Raise AnswerRefused unless this stored answer makes sense for the question."""
        raise AnswerRefused(NOT_AN_OPTION, "this question stores no answers of its own")

    def shown(self, question, answer, may_read_text: bool) -> tuple[str, bool]:
        """A stored answer in words for the staff response page, and whether written text was
        withheld from this reader."""
        return _label(question, answer.value), False

    # --- its column in the analysis frame (analysis/frame.py) ----------------------------------

    # Which column of ``answer`` holds its answers: "value" (codes, masks), "number", or "text"
    # (written answers are counted, never loaded).
    stored_in: str = "value"

    def unusable(self, question, values, answered) -> dict:
        """Stored answers (``values``, one per resident, where ``answered``) that no estimate may
        use, by reason (types.NOT_FINITE, OUT_OF_RANGE, NOT_AN_OPTION): what ``check_stored``
        refuses, checked for a whole column at once."""
        return {}

    def frame_column(self, values, usable, question):
        """The frame's column of this question from the stored ``values`` of those ``usable``."""
        raise NotImplementedError(f"{self.name} questions have no column in the analysis frame")

    # --- its estimates and summary (analysis/estimates.py) --------------------------------------

    def estimated_options(self, question) -> list[int]:
        """The options that get a percentage: the substantive ones (not "don't know")."""
        return [code for code, _ in question.options if code not in MISSING_CODES]

    def summary(self, data, question, base: dict) -> dict:
        """What the results show of the question beside its estimates (counts, table, summary)."""
        raise NotImplementedError(f"{self.name} questions have no summary")

    # Its chart on the results page (analysis/charts.py): "option_bars" (the percent choosing each
    # option), "means" (the mean overall and by group), or None.
    chart: str | None = None
    # The words of its chart (analysis/charts.PHRASES): its axis, and what kind of bar chart it is.
    chart_words: tuple[str, str] = ("percent_axis", "bar")
    # How the public page tabulates its figures (templates/results/survey.html): "options" (the
    # percent per option, a scale's mean), "ranks" (share first and mean rank per option).
    results_table: str = "options"
    # Its statistics with one estimate per option (the others have one per group).
    per_option_statistics: tuple[str, ...] = ("percent",)
    # The statistic compared between groups of a breakdown (its gaps), if any.
    headline_statistic: str | None = None
    # Whether its answers split residents into groups for breakdowns and weighting (with the
    # demographics construct): one answer among unordered options.
    breaks_down: bool = False

    def index_points(self, question) -> list[int] | None:
        """Its answer codes from least to most favourable, if it can be scored into an index
        (analysis/indices.py spreads them evenly over 0-100); None if it cannot. ``question``
        is the analysis's codebook entry (options as (code, label) pairs)."""
        return None

    def protect_summary(self, summary: dict, estimates: list[dict], hide_missing: bool, earlier: list[dict],
                        k: int) -> None:
        """Hide in its summary what disclosure control hides (analysis/pipeline.py): figures that
        go with a hidden estimate, non-answer counts with ``hide_missing``."""

    def protected_units(self, options: list) -> list[int]:
        """Its protected tables (``count_tables``), by position: one, or one per option."""
        return [0]

    def released(self, records: list[dict], group_pos: dict, options: list, unit: int, top, item: dict) -> tuple:
        """What a published version's estimate ``records`` of this item (``item``: the item as that
        version published it) reveal about protected table ``unit`` (analysis/differencing.py): cells (groups x cells), group n and
        favourable-end counts, NaN where hidden."""
        raise NotImplementedError(f"{self.name} questions publish no estimates")

    def has_estimates(self) -> bool:
        return self.stored_in in ("value", "number")

    def count_tables(self, records: list[dict], n_groups: int) -> list:
        """The unweighted counts disclosure control protects (groups x cells), one table per
        protected unit, from the item's estimate records (analysis/breakdowns.py)."""
        raise NotImplementedError(f"{self.name} questions have no estimates")

    def protect_unit(self, unit: int, protect, whole):
        """The protection of protected table ``unit`` of one breakdown (analysis/breakdowns.py):
        ``protect()`` applies the rule cell by cell, as for any table; ``whole()`` publishes the
        table whole or not at all. Units are protected in order."""
        return protect()

    def hidden(self, record: dict, g: int, option_position: dict, protections: list) -> bool:
        """Whether disclosure control hides this estimate record of group ``g``."""
        raise NotImplementedError(f"{self.name} questions have no estimates")

    def linearise(self, frame, design, question, groupings: list) -> list[dict]:
        """Its weighted estimates, linearised (analysis/variance.py), by statistic, for every
        group of each grouping (``analysis/estimates.Grouping``: each respondent's group index,
        -1 for none), one dict per grouping."""
        return [{} for _ in groupings]

    # --- CSV import (response_import.py) -----------------------------------------------------------

    def import_columns(self, question) -> list[str]:
        """The CSV columns of this question (its code, and any of its own such as ``_other``)."""
        return [question.code]

    def import_formdata(self, question, values: dict[str, str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """A CSV row's cells for this question as form data (name, value) for the resident's form,
        and problems (column, message)."""
        raw = values.get(question.code, "").strip()
        return ([(f"q_{question.code}", raw)] if raw else []), []

    # --- synthetic answers (synthetic.py: the demo, tests and benchmarks) --------------------------

    def synthetic(self, question, synthesis) -> tuple[str, object]:
        """Made-up answers for ``synthesis.n`` residents: ("values", option codes or masks),
        ("numbers", floats) or ("texts", strings or None). Who skipped it is applied after."""
        raise NotImplementedError(f"{self.name} questions make no synthetic answers")

    # --- translations (questionnaire/translation.py) ------------------------------------------

    def translatable_fields(self) -> tuple[str, ...]:
        return ("text", "help_text")


def _label(question, code) -> str:
    return next((o.label for o in question.options if o.code == code), f"code {code}")
