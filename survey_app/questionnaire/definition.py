"""Survey definitions as plain data (the future JSON import/export format).

A definition is a dict::

    {"slug": "community-trust", "title": "...", "introduction": "...",
     "consent_text": "...", "thank_you_text": "...", "min_cell_size": 10,
     "pages": [{"title": "...", "questions": [
         {"code": "trust_overall", "type": "scale", "text": "...",
          "required": true, "config": {"scale": "agreement", "missing": ["dont_know"]},
          "construct": "overall_trust"},
         {"code": "district", "type": "dropdown", "text": "...",
          "options": [{"code": 1, "label": "North"}, ...]},
         {"code": "years_in_city", "type": "numeric", "text": "...",
          "config": {"min": 0, "max": 100, "decimals": 0}}]}]}

``survey_from_definition`` checks everything before building anything and
names the field at fault (``pages[1].questions[2].options``), so a bad
definition never half-creates a survey.
"""
from __future__ import annotations

from typing import Any

from ..models import AnswerOption, Page, Question, Survey
from . import logic, settings
from .types import (
    CODE_PATTERN,
    DEFAULT_NUMBER_RANGE,
    DONT_KNOW,
    MAX_MULTI_OPTION_CODE,
    MISSING_CODES,
    MULTI,
    NUMBER_LIMIT,
    ORDERINGS,
    PREFER_NOT_TO_SAY,
    QUESTION_TYPES,
    SCALES,
    plain_number,
    question_type,
    scale_options,
)

SURVEY_TEXT_FIELDS = ("title", "introduction", "consent_text", "thank_you_text")
MISSING_NAMES = {"dont_know": DONT_KNOW, "prefer_not_to_say": PREFER_NOT_TO_SAY}
MAX_TEXT_LENGTH = settings.MAX_TEXT_LENGTH


class DefinitionError(ValueError):
    """A definition is invalid; ``path`` names the field at fault."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _require(condition: bool, path: str, message: str) -> None:
    if not condition:
        raise DefinitionError(path, message)


def _text(data: dict, key: str, path: str, required: bool = False, limit: int | None = None) -> str:
    value = data.get(key, "")
    _require(isinstance(value, str), f"{path}.{key}", "must be text")
    _require(not required or value.strip(), f"{path}.{key}", "is required")
    _require(limit is None or len(value) <= limit, f"{path}.{key}", f"is longer than {limit} characters")
    return value


def _setting(definition: dict, name: str, default: Any) -> Any:
    """A survey setting, by the one rule every way in uses (questionnaire/settings.py)."""
    try:
        return settings.check(name, definition.get(name, default))
    except settings.SettingRefused as refused:
        raise DefinitionError(name, refused.message) from None


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_config(qtype: str, config: dict, path: str) -> dict:
    _require(isinstance(config, dict), path, "must be an object")
    merged = {**question_type(qtype).default_config, **config}
    if qtype in ("scale", "matrix"):
        _require(merged["scale"] in SCALES, f"{path}.scale", f"must be one of {', '.join(SCALES)}")
        missing = merged.get("missing", ["dont_know"])
        _require(
            isinstance(missing, list) and all(m in MISSING_NAMES for m in missing),
            f"{path}.missing",
            f"must be a list drawn from {', '.join(MISSING_NAMES)}",
        )
        merged["missing"] = missing
    elif qtype == "numeric":
        low, high, decimals = merged["min"], merged["max"], merged["decimals"]
        for key in ("min", "max"):
            value = merged[key]
            _require(
                value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)),
                f"{path}.{key}",
                "must be a number",
            )
            # Finite and within reach (see types.NUMBER_LIMIT); empty takes the default bound.
            _require(value is None or abs(value) <= NUMBER_LIMIT, f"{path}.{key}",  # NaN compares false
                     f"must be a number from -{plain_number(NUMBER_LIMIT)} to {plain_number(NUMBER_LIMIT)}, "
                     f"or empty for the default ({' to '.join(plain_number(b) for b in DEFAULT_NUMBER_RANGE)})")
        _require(low is None or high is None or low <= high, path, "min must not exceed max")
        _require(_int(decimals) and 0 <= decimals <= 6, f"{path}.decimals", "must be 0 to 6")
    elif qtype in ("single_choice", "dropdown") and "ordered" in merged:
        _require(
            merged["ordered"] in ORDERINGS,
            f"{path}.ordered",
            f"must be one of {', '.join(ORDERINGS)} (which end of the options is the favourable one)",
        )
    elif qtype == "multiple_choice" and "other" in merged:
        _require(isinstance(merged["other"], bool), f"{path}.other",
                 "must be true or false (true: the last option is \"Other (please specify)\")")
    elif qtype == "text":
        limit = merged["max_length"]
        _require(
            _int(limit) and 1 <= limit <= MAX_TEXT_LENGTH,
            f"{path}.max_length",
            f"must be a whole number from 1 to {MAX_TEXT_LENGTH}",
        )
    return merged


def _check_options(qtype: str, options: Any, path: str) -> list[tuple[int, str]]:
    _require(isinstance(options, list) and len(options) >= 2, path, "needs at least two options")
    seen: set[int] = set()
    checked = []
    for i, option in enumerate(options):
        opath = f"{path}[{i}]"
        _require(isinstance(option, dict), opath, "must be an object")
        code = option.get("code")
        _require(_int(code), f"{opath}.code", "must be a whole number")
        _require(code not in seen, f"{opath}.code", f"duplicates code {code}")
        if question_type(qtype).kind == MULTI:
            _require(
                1 <= code <= MAX_MULTI_OPTION_CODE,
                f"{opath}.code",
                f"must be 1 to {MAX_MULTI_OPTION_CODE} in a multiple-choice question",
            )
        else:
            _require(
                code > 0 or code in MISSING_CODES,
                f"{opath}.code",
                f"must be positive, or {DONT_KNOW} (don't know) or {PREFER_NOT_TO_SAY} (prefer not to say)",
            )
        seen.add(code)
        checked.append((code, _text(option, "label", opath, required=True, limit=300)))
    return checked


def _check_rows(item: dict, config: dict, codes: set[str], path: str) -> list[dict]:
    """A matrix's statements: each a scale question of its own, on the matrix's scale."""
    rows = item.get("rows")
    _require(isinstance(rows, list) and len(rows) >= 2, f"{path}.rows", "a matrix needs at least two statements")
    options = scale_options(config["scale"], tuple(MISSING_NAMES[m] for m in config["missing"]))
    checked = []
    for r, row in enumerate(rows):
        rpath = f"{path}.rows[{r}]"
        _require(isinstance(row, dict), rpath, "must be an object")
        code = row.get("code")
        _require(isinstance(code, str) and bool(CODE_PATTERN.match(code)), f"{rpath}.code",
                 "must start with a lowercase letter and use only a-z, 0-9 and _ (at most 64)")
        _require(code not in codes, f"{rpath}.code", f"duplicates question code {code!r}")
        codes.add(code)
        reverse = row.get("reverse_coded", False)
        _require(isinstance(reverse, bool), f"{rpath}.reverse_coded", "must be true or false")
        construct = row.get("construct", item.get("construct"))
        _require(construct is None or isinstance(construct, str), f"{rpath}.construct", "must be text")
        checked.append(dict(code=code, text=_text(row, "text", rpath, required=True, limit=MAX_TEXT_LENGTH),
                            required=bool(item.get("required", False)), config=dict(config),
                            construct=construct, reverse_coded=reverse, options=list(options),
                            translations=_translations(row, rpath, ("text",), options)))
    return checked


LANGUAGE_PATTERN_LENGTH = (2, 8)


def _translations(item: dict, path: str, fields: tuple[str, ...], options: list | None = None) -> dict:
    """``{"es": {"text": "...", "options": {"1": "..."}}}``: staff translations of this item's text.

    Returned as {language: {field: text}} plus, when ``options`` is given, {"options": {code: label}}.
    """
    value = item.get("translations", {})
    tpath = f"{path}.translations"
    _require(isinstance(value, dict), tpath, "must be an object of languages")
    codes = {str(code) for code, _ in (options or [])}
    checked = {}
    for language, texts in value.items():
        low, high = LANGUAGE_PATTERN_LENGTH
        _require(isinstance(language, str) and language.isalpha() and language.islower()
                 and low <= len(language) <= high, f"{tpath}", f"{language!r} is not a language code like 'es'")
        _require(isinstance(texts, dict), f"{tpath}.{language}", "must be an object")
        entry: dict = {}
        for key, text in texts.items():
            if key == "options" and options is not None:
                _require(isinstance(text, dict), f"{tpath}.{language}.options", "must map option codes to labels")
                labels = {}
                for code, label in text.items():
                    _require(str(code) in codes, f"{tpath}.{language}.options", f"{code!r} is not an option code here")
                    _require(isinstance(label, str), f"{tpath}.{language}.options.{code}", "must be text")
                    if label.strip():
                        labels[str(code)] = label
                if labels:
                    entry["options"] = labels
                continue
            _require(key in fields, f"{tpath}.{language}.{key}",
                     f"cannot be translated here; translatable: {', '.join(fields + (('options',) if options is not None else ()))}")
            _require(isinstance(text, str) and len(text) <= MAX_TEXT_LENGTH, f"{tpath}.{language}.{key}", "must be text")
            if text.strip():
                entry[key] = text
        if entry:
            checked[language] = entry
    return checked


def _split(translations: dict) -> tuple[dict, dict[str, dict]]:
    """Item translations without their options, and {option code: {language: {"label": ...}}}."""
    own, by_option = {}, {}
    for language, entry in translations.items():
        fields = {k: v for k, v in entry.items() if k != "options"}
        if fields:
            own[language] = fields
        for code, label in entry.get("options", {}).items():
            by_option.setdefault(code, {})[language] = {"label": label}
    return own, by_option


def _option_translations(question) -> dict:
    """The export form of a question's and its options' translations (see ``_translations``)."""
    merged = {language: dict(fields) for language, fields in (question.translations or {}).items()}
    for option in question.options:
        for language, fields in (option.translations or {}).items():
            if fields.get("label"):
                merged.setdefault(language, {}).setdefault("options", {})[str(option.code)] = fields["label"]
    return merged


def _condition(item: dict, earlier: dict[str, dict], path: str) -> dict | None:
    condition = item.get("display_condition")
    if condition is None:
        return None
    try:
        logic.check(condition, earlier, f"{path}.display_condition")
    except logic.ConditionError as error:
        path_part, _, message = str(error).partition(": ")
        raise DefinitionError(path_part, message) from None
    return condition


def survey_from_definition(definition: dict, allow_empty_pages: bool = False) -> Survey:
    """Build (unsaved) ORM objects for a survey; raise DefinitionError before building if invalid.

    ``allow_empty_pages``: for a survey being edited, pages (and the survey) may have no
    questions yet; a survey must have questions on every page to open.
    """
    _require(isinstance(definition, dict), "definition", "must be an object")
    slug = _setting(definition, "slug", "")
    min_cell = _setting(definition, "min_cell_size", 10)
    pages = definition.get("pages")
    _require(isinstance(pages, list) and (pages or allow_empty_pages), "pages", "needs at least one page")

    # First pass: validate everything, collecting plain values.
    codes: set[str] = set()
    earlier: dict[str, dict] = {}  # what display conditions may refer to: the questions so far
    checked_pages = []
    for p, page in enumerate(pages):
        ppath = f"pages[{p}]"
        _require(isinstance(page, dict), ppath, "must be an object")
        page_condition = _condition(page, earlier, ppath)
        questions = page.get("questions")
        _require(isinstance(questions, list) and (questions or allow_empty_pages), f"{ppath}.questions",
                 "needs at least one question")
        checked_questions = []
        for q, item in enumerate(questions):
            qpath = f"{ppath}.questions[{q}]"
            _require(isinstance(item, dict), qpath, "must be an object")
            code = item.get("code")
            _require(
                isinstance(code, str) and bool(CODE_PATTERN.match(code)),
                f"{qpath}.code",
                "must start with a lowercase letter and use only a-z, 0-9 and _ (at most 64)",
            )
            _require(code not in codes, f"{qpath}.code", f"duplicates question code {code!r}")
            codes.add(code)
            qtype = item.get("type")
            _require(qtype in QUESTION_TYPES, f"{qpath}.type", f"must be one of {', '.join(QUESTION_TYPES)}")
            config = _check_config(qtype, item.get("config", {}), f"{qpath}.config")
            rows = []
            if qtype == "matrix":
                rows = _check_rows(item, config, codes, qpath)
                options = []
                _require("options" not in item, f"{qpath}.options", "a matrix's options come from its config.scale")
            elif qtype == "scale":
                options = scale_options(config["scale"], tuple(MISSING_NAMES[m] for m in config["missing"]))
                _require("options" not in item, f"{qpath}.options", "a scale's options come from its config.scale")
            elif question_type(qtype).has_options:
                options = _check_options(qtype, item.get("options"), f"{qpath}.options")
            else:
                _require("options" not in item, f"{qpath}.options", f"a {qtype} question has no options")
                options = []
            required = item.get("required", False)
            _require(isinstance(required, bool), f"{qpath}.required", "must be true or false")
            reverse = item.get("reverse_coded", False)
            _require(isinstance(reverse, bool), f"{qpath}.reverse_coded", "must be true or false")
            construct = item.get("construct")
            _require(construct is None or isinstance(construct, str), f"{qpath}.construct", "must be text")
            condition = _condition(item, earlier, qpath)
            if qtype == "matrix":
                for row in rows:  # the rows are what later conditions can refer to
                    earlier[row["code"]] = {"type": "scale", "options": [c for c, _ in row["options"]]}
            else:
                earlier[code] = {"type": qtype, "options": [c for c, _ in options]}
            checked_questions.append(
                dict(
                    code=code,
                    type=qtype,
                    text=_text(item, "text", qpath, required=True, limit=MAX_TEXT_LENGTH),
                    help_text=_text(item, "help_text", qpath, limit=MAX_TEXT_LENGTH),
                    required=required,
                    config=config,
                    construct=construct,
                    reverse_coded=reverse,
                    display_condition=condition,
                    options=options,
                    rows=rows,
                    translations=_translations(item, qpath, ("text", "help_text"),
                                               options if qtype != "matrix" else None),
                )
            )
        checked_pages.append((_text(page, "title", ppath, limit=200), page_condition, checked_questions,
                              _translations(page, ppath, ("title",))))

    survey_translations = _translations(definition, "definition", SURVEY_TEXT_FIELDS)
    survey = Survey(
        slug=slug,
        title=_setting(definition, "title", ""),
        introduction=_setting(definition, "introduction", ""),
        consent_text=_setting(definition, "consent_text", ""),
        thank_you_text=_setting(definition, "thank_you_text", ""),
        min_cell_size=min_cell,
        status="draft",
        translations=survey_translations,
    )
    position = 0
    for page_position, (title, page_condition, questions, page_translations) in enumerate(checked_pages):
        page = Page(position=page_position, title=title, translations=page_translations,
                    display_condition=page_condition)
        survey.pages.append(page)
        for spec in questions:
            rows = spec.pop("rows")
            options = spec.pop("options")
            own, by_option = _split(spec.pop("translations"))
            question = Question(position=position, translations=own, **spec)
            question.options = [
                AnswerOption(position=i, code=code, label=label, translations=by_option.get(str(code), {}))
                for i, (code, label) in enumerate(options)
            ]
            page.questions.append(question)
            survey.questions.append(question)
            position += 1
            for row in rows:
                row_options = row.pop("options")
                row_own, row_by_option = _split(row.pop("translations"))
                child = Question(position=position, translations=row_own, type="scale", help_text="",
                                 display_condition=None, parent=question, **row)
                child.options = [AnswerOption(position=i, code=code, label=label,
                                              translations=row_by_option.get(str(code), {}))
                                 for i, (code, label) in enumerate(row_options)]
                page.questions.append(child)
                survey.questions.append(child)
                position += 1
    return survey


def definition_from_survey(survey: Survey) -> dict:
    """The definition a survey was (or could have been) built from."""
    pages = []
    for page in survey.pages:
        questions = []
        for question in page.questions:
            if question.parent_id is not None or question.parent is not None:
                continue  # a matrix row: written inside its matrix
            item: dict[str, Any] = {"code": question.code, "type": question.type, "text": question.text}
            if question.help_text:
                item["help_text"] = question.help_text
            if question.required:
                item["required"] = True
            if question.construct:
                item["construct"] = question.construct
            if question.reverse_coded:
                item["reverse_coded"] = True
            if question.config:
                item["config"] = dict(question.config)
            if question.display_condition:
                item["display_condition"] = question.display_condition
            if question.type not in ("scale", "matrix") and question.options:
                item["options"] = [{"code": o.code, "label": o.label} for o in question.options]
            if _option_translations(question):
                item["translations"] = _option_translations(question)
            if question.type == "matrix":
                item["rows"] = []
                for row in sorted(question.rows, key=lambda q: q.position):
                    entry = {"code": row.code, "text": row.text}
                    if row.construct and row.construct != question.construct:
                        entry["construct"] = row.construct
                    if row.reverse_coded:
                        entry["reverse_coded"] = True
                    if _option_translations(row):
                        entry["translations"] = _option_translations(row)
                    item["rows"].append(entry)
            questions.append(item)
        entry = {"title": page.title, "questions": questions}
        if page.display_condition:
            entry["display_condition"] = page.display_condition
        if page.translations:
            entry["translations"] = page.translations
        pages.append(entry)
    result = {
        "slug": survey.slug,
        "title": survey.title,
        "introduction": survey.introduction,
        "consent_text": survey.consent_text,
        "thank_you_text": survey.thank_you_text,
        "min_cell_size": survey.min_cell_size,
        "pages": pages,
    }
    if survey.translations:
        result["translations"] = survey.translations
    return result
