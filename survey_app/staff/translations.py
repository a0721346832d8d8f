"""Translating a survey's own text: each distinct text once, for each language we offer.

Rules (coverage, where a text appears, the phrasebook) live in questionnaire/translation.py.
"""
from __future__ import annotations

import hashlib

from flask import abort, flash, redirect, render_template, request, url_for

from .. import audit
from ..extensions import db
from ..forms.staff import ConfirmForm
from ..i18n import LANGUAGES
from ..questionnaire import translation
from . import bp, confirmation
from .access import permission_required
from .survey_lookup import audit_target, survey_or_404


def _key(original: str) -> str:
    """A form field name for an original text (stable while the text stays the same)."""
    return "t-" + hashlib.sha256(original.encode()).hexdigest()[:16]


def _language(survey, language: str) -> str:
    if language not in LANGUAGES or language == (survey.default_language or "en"):
        abort(404)
    return language


@bp.route("/surveys/<int:survey_id>/translations/<language>", methods=["GET", "POST"])
@permission_required("design")
def translations(survey_id: int, language: str):
    survey = survey_or_404(survey_id)
    language = _language(survey, language)
    form = ConfirmForm()
    typed = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            flash("The form had expired; your translations are still below. Save again.", "error")
            typed = {key: value for key, value in request.form.items() if key.startswith("t-")}
        else:
            action = request.form.get("action", "save")
            if action == "prefill":
                changed = translation.prefill(survey, language)
                message = f"Filled in {changed} place(s) from the standard wording. Review them, then save."
            elif action == "clear" and not confirmation.confirmed():
                done = translation.coverage(survey, language).done
                return confirmation.ask(
                    f"Remove the whole {LANGUAGES[language]} translation?",
                    [f"All {done} translated texts of “{survey.title}” in {LANGUAGES[language]} will be deleted: "
                     "questions, answers, pages and messages. The survey's own wording is not touched.",
                     "This cannot be undone. To keep a copy first, export the survey (its definition holds "
                     "every translation)."],
                    f"Remove the {LANGUAGES[language]} translation",
                    url_for(".translations", survey_id=survey.id, language=language), {"action": "clear"})
            elif action == "clear":
                changed = translation.translate(survey, language, {e["original"]: "" for e in
                                                                   translation.texts(survey, language)})
                message = f"Removed the {LANGUAGES[language]} translation ({changed} place(s))."
            else:
                wanted = {}
                for entry in translation.texts(survey, language):
                    key = _key(entry["original"])
                    if key in request.form:
                        wanted[entry["original"]] = request.form[key][:10_000]
                changed = translation.translate(survey, language, wanted)
                message = f"Saved: {changed} place(s) changed."
            if changed:
                audit.record("survey.translate", audit_target(survey), language=language, step=action, places=changed)
                db.session.commit()
            flash(message, "info")
            return redirect(url_for(".translations", survey_id=survey.id, language=language), code=303)
    entries = translation.texts(survey, language)
    for entry in entries:
        entry["key"] = _key(entry["original"])
        if entry["key"] in typed:
            entry["translation"] = typed[entry["key"]]
    return render_template("staff/translations.html", survey=survey, language=language,
                           language_name=LANGUAGES[language], entries=entries, form=form,
                           coverage=translation.coverage(survey, language),
                           has_phrasebook=language in translation.PHRASEBOOKS), (400 if typed else 200)
