"""The Spanish catalogue covers every piece of interface text, compiled; standard wording is translated."""
import os

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from survey_app.i18n import LANGUAGES
from survey_app.questionnaire import bank, translation
from survey_app.questionnaire.definition import survey_from_definition
from survey_app.questionnaire.demo import COMMUNITY_TRUST
from survey_app.questionnaire.phrasebook_es import PHRASEBOOK_ES
from survey_app.questionnaire.types import MISSING_LABELS, SCALES

ROOT = os.path.join(os.path.dirname(__file__), "..")
CATALOGUES = os.path.join(ROOT, "survey_app", "translations")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def source_messages() -> set:
    with open(os.path.join(ROOT, "babel.cfg")) as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _, _, message, _, _ in extract_from_dir(ROOT, method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalogue(language: str):
    with open(os.path.join(CATALOGUES, language, "LC_MESSAGES", "messages.po"), "rb") as po:
        return read_po(po, locale=language)


def test_every_interface_text_is_translated_into_every_language():
    messages = source_messages()
    assert len(messages) > 80  # the extraction found the templates and the code
    assert "Save and finish later" in messages and "Please answer this question." in messages
    for language in LANGUAGES:
        if language == "en":
            continue
        po = catalogue(language)
        ids = {m.id for m in po if m.id}
        assert messages - ids == set(), f"{language}: not in the catalogue (run make translations-update)"
        for message in po:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(s.strip() for s in strings), f"{language}: untranslated {message.id!r}"
            assert not message.fuzzy, f"{language}: fuzzy {message.id!r}"
        # Placeholders (%(name)s) match between English and the translation.
        assert [(m.id, errors) for m, errors in po.check()] == []


def _key(message):
    return tuple(message.id) if message.pluralizable else message.id


def _text(message):
    return tuple(message.string) if message.pluralizable else message.string


def test_the_compiled_catalogue_matches_the_translations():
    for language in LANGUAGES:
        if language == "en":
            continue
        path = os.path.join(CATALOGUES, language, "LC_MESSAGES", "messages.mo")
        assert os.path.exists(path), "run `make translations` (make test does)"
        with open(path, "rb") as mo:
            compiled = {_key(m): _text(m) for m in read_mo(mo) if m.id}
        assert compiled == {_key(m): _text(m) for m in catalogue(language) if m.id}


def test_standard_wording_has_spanish():
    texts = set()
    for item in bank.built_in_items():
        texts.add(item["text"])
        texts.update(o["label"] for o in item.get("options", []))
    for labels in SCALES.values():
        texts.update(labels)
    texts.update(MISSING_LABELS.values())
    assert texts - set(PHRASEBOOK_ES) == set()
    survey = survey_from_definition(COMMUNITY_TRUST)
    assert translation.prefill(survey, "es") > 0
    assert translation.coverage(survey, "es").complete


def test_translations_travel_with_the_definition_and_bad_ones_are_named():
    import copy

    import pytest

    from survey_app.questionnaire.definition import DefinitionError, definition_from_survey

    survey = survey_from_definition(COMMUNITY_TRUST)
    translation.prefill(survey, "es")
    exported = definition_from_survey(survey)
    first = exported["pages"][0]["questions"][0]
    assert first["translations"]["es"]["text"] == "En general, confío en la policía de mi ciudad."
    assert first["translations"]["es"]["options"]["-1"] == "No sé"
    again = survey_from_definition(exported)
    assert translation.coverage(again, "es").complete
    assert definition_from_survey(again) == exported
    for change, path in (
        (lambda d: d["pages"][0]["questions"][0]["translations"]["es"].update(colour="rojo"),
         "pages[0].questions[0].translations.es.colour"),
        (lambda d: d["pages"][0]["questions"][0]["translations"]["es"]["options"].update({"9": "x"}),
         "pages[0].questions[0].translations.es.options"),
        (lambda d: d["pages"][1].update(translations={"ES!": {"title": "x"}}), "pages[1].translations"),
        (lambda d: d.update(translations={"es": {"title": 5}}), "definition.translations.es.title"),
    ):
        broken = copy.deepcopy(exported)
        change(broken)
        with pytest.raises(DefinitionError) as error:
            survey_from_definition(broken)
        assert error.value.path == path


def test_templates_translate_in_the_requests_language_and_follow_a_change_of_it(app):
    from flask import render_template_string, session
    from flask_babel import refresh

    page = "{{ _('Start the survey') }} | {{ _('Results') }}"
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        assert render_template_string(page) == "Comenzar la encuesta | Resultados"
        session["lang"] = "en"
        refresh()  # what a change of language in the middle of a request must be followed by
        assert render_template_string(page) == "Start the survey | Results"
    with app.test_request_context("/"):  # a new request starts from its own language
        assert render_template_string(page) == "Start the survey | Results"
