"""Results in the survey's other languages: the staff's translations of questions and answers,
applied to the analysis output so that the published page and its charts exist in each.

A language is included only when every text the results show has a translation (the survey's
title, each question and each answer label), the same rule that decides whether residents may
answer in it; otherwise the results are in English only. Index names come from the phrasebook.
Plain Python on a SQLAlchemy connection: no Flask.
"""
from __future__ import annotations

import copy
import json

from babel import Locale
from sqlalchemy import text
from sqlalchemy.engine import Connection

from ..questionnaire.phrasebook_es import PHRASEBOOK_ES
from .charts import PHRASES
from .themes import NO_THEME, NO_THEME_LABEL, SUFFIX

PHRASEBOOKS = {"es": PHRASEBOOK_ES}
# How a breakdown variable is named in a heading ("By district"); others use their question.
VARIABLE_NAMES = {
    "en": {"district": "district", "age_band": "age", "gender": "gender", "race_ethnicity": "race or ethnicity"},
    "es": {"district": "distrito", "age_band": "edad", "gender": "género", "race_ethnicity": "raza u origen étnico"},
}


def _json(value) -> dict:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else dict(value)


def load_content(connection: Connection, survey_id: int) -> dict[str, dict]:
    """{language: {"title": ..., "questions": {code: {"text": ..., "labels": {"1": ...}}}}} from the database."""
    content: dict[str, dict] = {}
    survey = _json(connection.execute(text("SELECT translations FROM survey WHERE id = :s"),
                                      {"s": survey_id}).scalar_one())
    for language, fields in survey.items():
        content.setdefault(language, {"title": None, "questions": {}})["title"] = fields.get("title")
    for code, translations in connection.execute(
            text("SELECT code, translations FROM question WHERE survey_id = :s"), {"s": survey_id}):
        for language, fields in _json(translations).items():
            entry = content.setdefault(language, {"title": None, "questions": {}})["questions"]
            entry.setdefault(code, {"labels": {}})["text"] = fields.get("text")
    for code, option_code, translations in connection.execute(
            text("SELECT q.code, o.code, o.translations FROM answer_option o JOIN question q ON q.id = o.question_id "
                 "WHERE q.survey_id = :s"), {"s": survey_id}):
        for language, fields in _json(translations).items():
            entry = content.setdefault(language, {"title": None, "questions": {}})["questions"]
            if fields.get("label"):
                entry.setdefault(code, {"labels": {}})["labels"][str(option_code)] = fields["label"]
    # The themes of a written question (themes.py): its text, the codebook's translated labels.
    for code, number, translations in connection.execute(
            text("SELECT q.code, t.number, t.translations FROM theme t JOIN question q ON q.id = t.question_id "
                 "WHERE q.survey_id = :s"), {"s": survey_id}):
        for language, label in _json(translations).items():
            if label:
                entry = content.setdefault(language, {"title": None, "questions": {}})["questions"]
                entry.setdefault(code + SUFFIX, {"labels": {}})["labels"][str(number)] = label
    for language, fields in content.items():
        for code in [c for c in fields["questions"] if c.endswith(SUFFIX)]:
            written = fields["questions"].get(code[:-len(SUFFIX)]) or {}
            fields["questions"][code]["text"] = written.get("text")
            no_theme = PHRASEBOOKS.get(language, {}).get(NO_THEME_LABEL)
            if no_theme:
                fields["questions"][code]["labels"][str(NO_THEME)] = no_theme
    return content


def _missing(results: dict, content: dict) -> list[str]:
    """What the results show that has no translation in ``content``, in words (English)."""
    missing = [] if content.get("title") else ["the survey's title"]
    questions = content["questions"]
    for item in results["questions"]:
        entry = questions.get(item["code"]) or {}
        if not entry.get("text"):
            missing.append(f"the question “{item['text']}”")
        labels = item.get("labels") or {}
        kind = "theme" if item["code"].endswith(SUFFIX) else "answer"
        missing += [f"the {kind} “{label}” of “{item['text']}”" for code, label in labels.items()
                    if str(code) not in entry.get("labels", {})]
    return missing


def _complete(results: dict, content: dict) -> bool:
    return not _missing(results, content)


def untranslated(results: dict, content_by_language: dict[str, dict]) -> list[dict]:
    """A doubt (doubts.py) for each language the survey is offered in (its title is translated)
    whose results would be in English only, saying what to translate."""
    found = []
    for language, content in sorted(content_by_language.items()):
        if language not in PHRASES or language == "en" or not content.get("title"):
            continue
        missing = _missing(results, content)
        if missing:
            shown = "; ".join(missing[:5]) + (f"; and {len(missing) - 5} more" if len(missing) > 5 else "")
            name = Locale.parse(language).get_display_name("en")
            found.append({"kind": "untranslated", "public": False, "language": language, "missing": len(missing),
                          "message": f"These results will be published in English only, not in {name}, "
                                     f"until these have a translation: {shown}. Add them on the survey's "
                                     "translation page (a theme's on its codebook page) and run the analysis "
                                     "again."})
    return found


def _group_labels(results: dict, content: dict) -> dict[str, dict[str, str]]:
    """Breakdown groups are answers to a demographic question: their labels, translated."""
    groups = {}
    for item in results["questions"]:
        for breakdown in item.get("estimates", {}).get("breakdowns") or []:
            labels = (content["questions"].get(breakdown["variable"]) or {}).get("labels", {})
            groups[breakdown["variable"]] = {str(g["code"]): labels.get(str(g["code"]), g["label"])
                                             for g in breakdown["groups"]}
    return groups


def translate(results: dict, content_by_language: dict[str, dict]) -> dict[str, dict]:
    """The ``translations`` block of the results: for each complete language, every item's wording."""
    block = {}
    for language, content in sorted(content_by_language.items()):
        if language not in PHRASES or language == "en" or not _complete(results, content):
            continue
        phrasebook = PHRASEBOOKS.get(language, {})
        items = {}
        for item in results["questions"]:
            entry = content["questions"][item["code"]]
            items[item["code"]] = {"text": entry["text"], "labels": dict(entry.get("labels", {}))}
        for index in results["indices"]:
            label = phrasebook.get(index["label"], index["label"])
            items[index["code"]] = {"text": label, "labels": {}}
        groups = _group_labels(results, content)
        variables = {variable: VARIABLE_NAMES.get(language, {}).get(variable)
                     or content["questions"].get(variable, {}).get("text") or variable for variable in groups}
        block[language] = {"title": content["title"], "items": items, "groups": groups, "variables": variables}
    return block


def localized_item(item: dict, language_block: dict) -> dict:
    """A copy of a results item with its wording, answer labels and group names in the language."""
    localized = copy.deepcopy(item)
    words = language_block["items"].get(item["code"], {})
    localized["text"] = words.get("text") or item["text"]
    if "label" in localized:
        localized["label"] = localized["text"]
    if item.get("labels"):
        localized["labels"] = {code: words.get("labels", {}).get(code, label) for code, label in item["labels"].items()}
    for breakdown in localized.get("estimates", {}).get("breakdowns") or []:
        names = language_block["groups"].get(breakdown["variable"], {})
        for group in breakdown["groups"]:
            group["label"] = names.get(str(group["code"]), group["label"])
    return localized
