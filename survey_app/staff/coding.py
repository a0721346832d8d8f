"""Coding what residents wrote (thin views over written_coding.py): a written question's
codebook, coding its answers one at a time (with suggestions and keyboard shortcuts), the blind
second coding of a sample, and the agreement between coders. For staff allowed to read what
residents wrote ("read_text"); answers are shown masked."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import written_coding as coding
from .. import written_masking
from .. import written_quotes as quoting
from ..forms.staff import ConfirmForm
from ..i18n import LANGUAGES
from ..questionnaire import translation
from ..written_answers import masks_of
from . import bp
from .access import permission_required
from .survey_lookup import survey_or_404
from .written import _question

NO_STORE = {"Cache-Control": "no-store"}
EXPIRED = "The form had expired: nothing was changed. Please try again."


NONE_TICKED = "Tick at least one theme; if none fits, use the “no theme” button."


def _numbers() -> list[str]:
    """The themes ticked; CodingRefused for "Save" with none (an answer fitting no theme is said
    so with its own button, never by a stray Enter)."""
    ticked = request.form.getlist("theme")
    if not ticked and request.form.get("action") != "none":
        raise coding.CodingRefused(NONE_TICKED)
    return [] if request.form.get("action") == "none" else ticked


def _masked(question, to_code) -> str:
    spans = masks_of(question, [(to_code.response_id, to_code.text, to_code.language)])[to_code.response_id]
    return written_masking.masked(to_code.text, spans)


def _other_languages(survey) -> dict[str, str]:
    default = survey.default_language or "en"
    return {code: name for code, name in LANGUAGES.items() if code != default}


@bp.route("/surveys/<int:survey_id>/written/<code>/codebook", methods=["GET", "POST"])
@permission_required("read_text")
def codebook(survey_id: int, code: str):
    survey = survey_or_404(survey_id)
    question = _question(survey, code)
    form = ConfirmForm()
    here = url_for(".codebook", survey_id=survey.id, code=code)
    error, typed, confirm = None, {}, None
    if request.method == "POST":
        action = request.form.get("action")
        theme = next((t for t in coding.themes(question) if str(t.id) == request.form.get("theme_id")), None)
        translations = {lang: request.form.get(f"label_{lang}", "") for lang in _other_languages(survey)}
        if not form.validate_on_submit():
            error = EXPIRED
        elif action in ("change", "remove") and theme is None:
            error = "That theme is no longer in the codebook (someone removed it): here it is as it is now."
        else:
            try:
                if action == "starter":
                    added = coding.add_starter_codebook(question, current_user)
                    flash(f"Added the {added} suggested themes; rename, translate or remove any of them.", "info")
                elif action == "add":
                    theme = coding.add_theme(question, request.form.get("label", ""), translations, current_user)
                    coded = coding.progress(question).coded
                    flash(f"Added the theme “{theme.label}”." + (
                        f" {coded:,} answer{' was' if coded == 1 else 's were'} coded before it existed and "
                        "do not have it: search the answers for words that go with it and give it to those "
                        "found at once, or the results will show it as mentioned by almost no one."
                        if coded else ""), "info")
                elif action == "change":
                    coding.change_theme(question, theme, request.form.get("label", ""), translations, current_user)
                    flash(f"Saved the theme “{theme.label}”.", "info")
                elif action == "remove" and request.form.get("confirmed") != "yes":
                    confirm = (theme, coding.uses_of(question, theme))
                elif action == "remove":
                    label, lost = theme.label, coding.remove_theme(question, theme, current_user)
                    flash(f"Removed the theme “{label}”; {lost} coded answer{'' if lost == 1 else 's'} lost it.",
                          "info")
                if confirm is None:
                    return redirect(here, code=303)
            except coding.CodingRefused as refused:
                error, typed = str(refused), request.form
                if action == "change":  # which of the themes, as the page numbers them
                    number = next(i for i, t in enumerate(coding.themes(question), start=1) if t.id == theme.id)
                    error = f"Theme {number} (“{theme.label}”): {error}"
    themes = coding.themes(question)
    offered = translation.available_languages(survey, _other_languages(survey))[1:]
    unnamed = {LANGUAGES[lang]: [t.label for t in themes if not t.translations.get(lang)] for lang in offered}
    return render_template("staff/codebook.html", survey=survey, question=question, themes=themes,
                           unnamed={name: labels for name, labels in unnamed.items() if labels},
                           starter=coding.starter_codebook(question), progress=coding.progress(question),
                           languages=_other_languages(survey), form=form, error=error, typed=typed,
                           confirm=confirm, max_themes=coding.MAX_THEMES, quotes=quoting.quotes(question),
                           max_quotes=quoting.MAX_QUOTES), 422 if error else 200, NO_STORE


@bp.route("/surveys/<int:survey_id>/written/<code>/coding", methods=["GET", "POST"])
@permission_required("read_text")
def coding_page(survey_id: int, code: str):
    """One answer at a time: tick its themes (keys 1-9), save and go on to the next."""
    survey = survey_or_404(survey_id)
    question = _question(survey, code)
    form = ConfirmForm()
    here = url_for(".coding_page", survey_id=survey.id, code=code)
    error = None
    if request.method == "POST":
        response_id = int(request.form["response_id"]) if request.form.get("response_id", "").isdigit() else None
        if not form.validate_on_submit():
            error = EXPIRED
        elif response_id is None:
            abort(400)
        elif request.form.get("action") == "skip":
            return redirect(url_for(".coding_page", survey_id=survey.id, code=code, after=response_id), code=303)
        else:
            suggested = [n for n in request.form.getlist("suggested") if n.isdigit()]
            try:
                coding.code_answer(question, response_id, _numbers(), current_user, suggested=suggested)
                return redirect(url_for(".coding_page", survey_id=survey.id, code=code, after=response_id), code=303)
            except coding.CodingRefused as refused:
                error = str(refused)
    after, chosen = request.args.get("after", ""), request.args.get("response", "")
    to_code = None
    if error and response_id is not None:  # the same answer again, with what was ticked: nothing lost
        to_code = coding.answer_to_code(question, response_id)
    elif chosen.isdigit():  # one answer again (from the reading page), with its themes ticked
        to_code = coding.answer_to_code(question, int(chosen))
        if to_code is None:
            abort(404)
    to_code = to_code or coding.next_to_code(question, int(after) if after.isdigit() else None)
    ticked = set()
    if error and to_code and to_code.response_id == response_id:
        ticked = {int(n) for n in request.form.getlist("theme") if n.isdigit()}
    elif to_code:
        ticked = set(coding.themes_given(question, [to_code.response_id]).get(to_code.response_id) or [])
    themes = coding.themes(question)
    suggestions = coding.suggestions(question, _masked(question, to_code)) if to_code and themes else []
    return render_template("staff/coding.html", survey=survey, question=question, themes=themes, form=form,
                           to_code=to_code, text=_masked(question, to_code) if to_code else None,
                           suggestions=dict(suggestions), progress=coding.progress(question), error=error,
                           action=here, check=False, ticked=ticked), 422 if error else 200, NO_STORE


@bp.route("/surveys/<int:survey_id>/written/<code>/check", methods=["GET", "POST"])
@permission_required("read_text")
def coding_check(survey_id: int, code: str):
    """The blind second coding: draw a random sample, then code it without seeing the first coding."""
    survey = survey_or_404(survey_id)
    question = _question(survey, code)
    form = ConfirmForm()
    here = url_for(".coding_check", survey_id=survey.id, code=code)
    error = None
    if request.method == "POST":
        if not form.validate_on_submit():
            error = EXPIRED
        else:
            try:
                if request.form.get("action") == "sample":
                    size = request.form.get("size", "")
                    drawn = coding.draw_sample(question, int(size) if size.isdigit() else 0, current_user)
                    flash(f"Drew {drawn} coded answer{'' if drawn == 1 else 's'} at random for a second coder.", "info")
                else:
                    response_id = request.form.get("response_id", "")
                    coding.check_answer(question, int(response_id) if response_id.isdigit() else -1, _numbers(),
                                        current_user)
                return redirect(here, code=303)
            except coding.CodingRefused as refused:
                error = str(refused)
    to_code = coding.next_to_check(question, current_user)
    ticked = set()
    if error and to_code and request.form.get("response_id") == str(to_code.response_id):
        ticked = {int(n) for n in request.form.getlist("theme") if n.isdigit()}  # what was ticked is not lost
    return render_template("staff/coding.html", survey=survey, question=question, themes=coding.themes(question),
                           form=form, to_code=to_code, text=_masked(question, to_code) if to_code else None,
                           suggestions={}, progress=coding.progress(question), agreement=coding.agreement(question),
                           error=error, action=here, check=True, ticked=ticked), 422 if error else 200, NO_STORE


@bp.route("/surveys/<int:survey_id>/written/<code>/agreement", methods=["GET", "POST"])
@permission_required("read_text")
def coding_agreement(survey_id: int, code: str):
    """Agreement per theme (Cohen's kappa) and the disagreements to settle."""
    survey = survey_or_404(survey_id)
    question = _question(survey, code)
    form = ConfirmForm()
    error = None
    if request.method == "POST":
        response_id = request.form.get("response_id", "")
        if not form.validate_on_submit():
            error = EXPIRED
        else:
            try:
                coding.settle(question, int(response_id) if response_id.isdigit() else -1, _numbers(), current_user)
                flash("Settled: the results use the themes you agreed on.", "info")
                return redirect(url_for(".coding_agreement", survey_id=survey.id, code=code), code=303)
            except coding.CodingRefused as refused:
                error = str(refused)
    result = coding.agreement(question)
    texts = {}
    if result.disagreements:
        from ..written_answers import answer_of

        for response_id, *_ in result.disagreements:
            found = answer_of(question, response_id)
            if found:
                answer, response = found
                texts[response_id] = written_masking.masked(
                    answer.text, masks_of(question, [(response_id, answer.text, response.language)])[response_id])
    return render_template("staff/coding_agreement.html", survey=survey, question=question, result=result,
                           themes={t.number: t for t in coding.themes(question)}, texts=texts, form=form,
                           error=error), 422 if error else 200, NO_STORE
