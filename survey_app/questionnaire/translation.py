"""Translations of a survey's own text (title, introduction, pages, questions, answer options).

Each translatable row keeps its translations beside the original, e.g. a question's
``translations = {"es": {"text": "...", "help_text": "..."}}``. Staff translate each distinct
English text once ("Strongly agree" appears under every scale question but is translated
once) and ``translate`` writes it to every place it appears.

A language is *complete* when every text of the survey has a translation; a survey offers
residents its own language plus its complete translations, and it cannot open while a
translation is started but unfinished (``unfinished``). Plain Python: no Flask.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models import Survey
from .phrasebook_es import PHRASEBOOK_ES

PHRASEBOOKS = {"es": PHRASEBOOK_ES}
SURVEY_FIELDS = ("title", "introduction", "consent_text", "thank_you_text")


@dataclass(frozen=True)
class Slot:
    """One place a text appears: ``item.field`` (its English is ``original``)."""

    item: object
    field: str
    original: str
    where: str


def slots(survey: Survey) -> list[Slot]:
    """Every non-empty text of the survey a resident can see, in questionnaire order."""
    found = [Slot(survey, name, getattr(survey, name), "survey") for name in SURVEY_FIELDS
             if getattr(survey, name)]
    for number, page in enumerate(survey.pages, start=1):
        if page.title:
            found.append(Slot(page, "title", page.title, f"page {number}"))
        for question in sorted(page.questions, key=lambda q: q.position):
            where = f"question {question.code}"
            found.append(Slot(question, "text", question.text, where))
            if question.help_text:
                found.append(Slot(question, "help_text", question.help_text, where))
            for option in question.options:
                found.append(Slot(option, "label", option.label, where))
    return found


def _translated(slot: Slot, language: str) -> str:
    return ((slot.item.translations or {}).get(language) or {}).get(slot.field, "").strip()


def texts(survey: Survey, language: str) -> list[dict]:
    """Each distinct original text once, with its translation (the first found) and where it appears."""
    merged: dict[str, dict] = {}
    for slot in slots(survey):
        entry = merged.setdefault(slot.original, {"original": slot.original, "translation": "", "where": []})
        if not entry["translation"]:
            entry["translation"] = _translated(slot, language)
        if slot.where not in entry["where"]:
            entry["where"].append(slot.where)
    return list(merged.values())


@dataclass(frozen=True)
class Coverage:
    language: str
    done: int
    total: int
    missing: tuple[str, ...]  # originals without a translation, in order

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def started(self) -> bool:
        return self.done > 0


def coverage(survey: Survey, language: str) -> Coverage:
    """How many distinct texts are translated; a text counts only if every place it appears is."""
    originals: dict[str, bool] = {}
    for slot in slots(survey):
        originals[slot.original] = originals.get(slot.original, True) and bool(_translated(slot, language))
    missing = tuple(text for text, done in originals.items() if not done)
    return Coverage(language, len(originals) - len(missing), len(originals), missing)


def available_languages(survey: Survey, languages) -> list[str]:
    """The survey's own language first, then each of ``languages`` it is completely translated into."""
    original = survey.default_language or "en"
    return [original] + [lang for lang in languages if lang != original and coverage(survey, lang).complete]


def unfinished(survey: Survey, languages) -> list[Coverage]:
    """Translations that are started but not complete (these keep a survey from opening)."""
    original = survey.default_language or "en"
    found = []
    for lang in languages:
        if lang == original:
            continue
        cover = coverage(survey, lang)
        if cover.started and not cover.complete:
            found.append(cover)
    return found


def translate(survey: Survey, language: str, translations: dict[str, str]) -> int:
    """Set the translation of each original text in ``translations`` wherever it appears
    (an empty translation removes it). Returns how many places changed."""
    changed = 0
    for slot in slots(survey):
        if slot.original not in translations:
            continue
        new = (translations[slot.original] or "").strip()
        if new == _translated(slot, language):
            continue
        all_languages = dict(slot.item.translations or {})
        fields = dict(all_languages.get(language) or {})
        if new:
            fields[slot.field] = new
        else:
            fields.pop(slot.field, None)
        if fields:
            all_languages[language] = fields
        else:
            all_languages.pop(language, None)
        slot.item.translations = all_languages  # a new dict: SQLAlchemy sees the JSON change
        changed += 1
    return changed


def prefill(survey: Survey, language: str) -> int:
    """Fill untranslated texts that are standard wording (bank, scales, demo) from the phrasebook."""
    phrasebook = PHRASEBOOKS.get(language, {})
    wanted = {s.original: phrasebook.get(s.original, s.original) for s in slots(survey)
              if (s.original in phrasebook or s.original.strip().isdigit())  # a scale's points read alike
              and not _translated(s, language)}
    return translate(survey, language, wanted)
