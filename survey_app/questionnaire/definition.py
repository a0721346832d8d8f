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
from .question_types import QUESTION_TYPES, question_type
from .question_types.base import DefinitionError, new_code, require as _require

SURVEY_TEXT_FIELDS = ("title", "introduction", "consent_text", "thank_you_text")
MAX_TEXT_LENGTH = settings.MAX_TEXT_LENGTH

__all__ = ["DefinitionError", "definition_from_survey", "survey_from_definition"]


def text_of(data: dict, key: str, path: str, required: bool = False, limit: int | None = None) -> str:
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


LANGUAGE_PATTERN_LENGTH = (2, 8)


def translations_of(item: dict, path: str, fields: tuple[str, ...], options: list | None = None) -> dict:
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


def _optiontranslations_of(question) -> dict:
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
            code = new_code(item.get("code"), codes, f"{qpath}.code")
            qtype = item.get("type")
            _require(qtype in QUESTION_TYPES, f"{qpath}.type", f"must be one of {', '.join(QUESTION_TYPES)}")
            kind = question_type(qtype)
            config = kind.check_config(item.get("config", {}), f"{qpath}.config")
            rows = kind.rows_from_definition(item, config, codes, qpath)
            options = kind.options_from_definition(item, config, qpath)
            required = item.get("required", False)
            _require(isinstance(required, bool), f"{qpath}.required", "must be true or false")
            reverse = item.get("reverse_coded", False)
            _require(isinstance(reverse, bool), f"{qpath}.reverse_coded", "must be true or false")
            construct = item.get("construct")
            _require(construct is None or isinstance(construct, str), f"{qpath}.construct", "must be text")
            condition = _condition(item, earlier, qpath)
            for row in rows:  # a group's rows are what later conditions can refer to
                earlier[row["code"]] = question_type(row["type"]).condition_target(row["options"])
            if kind.condition_target(options) is not None:
                earlier[code] = kind.condition_target(options)
            checked_questions.append(
                dict(
                    code=code,
                    type=qtype,
                    text=text_of(item, "text", qpath, required=True, limit=MAX_TEXT_LENGTH),
                    help_text=text_of(item, "help_text", qpath, limit=MAX_TEXT_LENGTH),
                    required=required,
                    config=config,
                    construct=construct,
                    reverse_coded=reverse,
                    display_condition=condition,
                    options=options,
                    rows=rows,
                    translations=translations_of(item, qpath, kind.translatable_fields(),
                                                 options if kind.stores_answers else None),
                )
            )
        checked_pages.append((text_of(page, "title", ppath, limit=200), page_condition, checked_questions,
                              translations_of(page, ppath, ("title",))))

    survey_translations = translations_of(definition, "definition", SURVEY_TEXT_FIELDS)
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
                child = Question(position=position, translations=row_own, help_text="",
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
            kind = question_type(question.type)
            if kind.exports_options() and question.options:
                item["options"] = [{"code": o.code, "label": o.label} for o in question.options]
            if _optiontranslations_of(question):
                item["translations"] = _optiontranslations_of(question)
            if question.rows:
                item["rows"] = []
                for row in sorted(question.rows, key=lambda q: q.position):
                    entry = {"code": row.code, "text": row.text}
                    if row.construct and row.construct != question.construct:
                        entry["construct"] = row.construct
                    if row.reverse_coded:
                        entry["reverse_coded"] = True
                    if _optiontranslations_of(row):
                        entry["translations"] = _optiontranslations_of(row)
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
