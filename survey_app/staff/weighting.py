"""Weighting and analysis pages for analysts: population margins by form or CSV, trimming, running
the analysis. Thin views: parsing and checks are in population.py, the work in analysis/."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from .. import audit
from ..analysis import doubts
from ..extensions import db
from ..forms.staff import ConfirmForm
from ..questionnaire import settings
from ..population import (
    MarginsError,
    margins_from_form,
    parse_margins_csv,
    save_margins,
    stored_margins,
    weighting_variables,
)
from ..uploads import upload_limit
from . import bp
from .access import permission_required
from .jobs import start_survey_results_job
from .survey_lookup import audit_target, survey_or_404

MAX_CSV_BYTES = 512 * 1024


def _page(survey, errors=None, values=None, status=200):
    stored = stored_margins(survey)
    totals = doubts.margin_totals({name: sum(m["population"].values()) for name, m in stored.items()})
    return render_template("staff/weighting.html", survey=survey, variables=weighting_variables(survey),
                           stored=stored, errors=errors or [], values=values, totals_doubt=totals,
                           confirm=ConfirmForm()), status


def _audit_margins(survey, margins, via):
    audit.record("margins.save", audit_target(survey), via=via,
                 variables={m.variable: {"source": m.source, "total": sum(m.population.values())} for m in margins})


@bp.get("/surveys/<int:survey_id>/weighting")
@permission_required("analyse")
def weighting(survey_id: int):
    return _page(survey_or_404(survey_id))


@bp.post("/surveys/<int:survey_id>/weighting")
@permission_required("analyse")
def save_weighting(survey_id: int):
    survey = survey_or_404(survey_id)
    if not ConfirmForm().validate_on_submit():
        return _page(survey, ["The form had expired: nothing was saved. Please enter the figures again."],
                     request.form, 400)
    try:
        margins = margins_from_form(request.form, survey)
        try:
            trim = settings.check("weight_trim", request.form.get("trim") or "")
        except settings.SettingRefused as refused:
            raise MarginsError([f"Trimming: {refused.message}."]) from None
    except MarginsError as error:
        return _page(survey, error.errors, request.form, 422)
    save_margins(survey, margins, commit=False)
    if survey.weight_trim != trim:
        audit.record("survey.weight_trim", audit_target(survey), trim=[survey.weight_trim, trim])
        survey.weight_trim = trim
    _audit_margins(survey, margins, "form")
    db.session.commit()
    flash("Saved the population margins." if margins else "No margins: results will be unweighted.", "info")
    return redirect(url_for(".weighting", survey_id=survey.id), code=303)


@bp.post("/surveys/<int:survey_id>/weighting/csv")
@upload_limit(MAX_CSV_BYTES)
@permission_required("analyse")
def upload_margins(survey_id: int):
    survey = survey_or_404(survey_id)
    upload = request.files.get("file")
    if not ConfirmForm().validate_on_submit():
        return _page(survey, ["The form had expired: nothing was saved. Please upload the file again."], None, 400)
    if upload is None or not upload.filename:
        return _page(survey, ["Choose a CSV file to upload."], None, 422)
    if not upload.filename.lower().endswith((".csv", ".txt")):
        return _page(survey, ["Choose a .csv file (population margins)."], None, 422)
    raw = upload.read(MAX_CSV_BYTES + 1)
    try:
        if len(raw) > MAX_CSV_BYTES:
            raise MarginsError([f"The file is larger than {MAX_CSV_BYTES // 1024} KB."])
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MarginsError(["The file is not UTF-8 text; save it as CSV UTF-8 and try again."]) from None
        margins = parse_margins_csv(text, survey)
    except MarginsError as error:
        return _page(survey, error.errors, None, 422)
    save_margins(survey, margins, commit=False)
    _audit_margins(survey, margins, "csv")
    db.session.commit()
    flash(f"Saved the population margins for {', '.join(m.variable for m in margins)} from the file.", "info")
    return redirect(url_for(".weighting", survey_id=survey.id), code=303)


@bp.post("/surveys/<int:survey_id>/analyze")
@permission_required("analyse")
def run_analysis(survey_id: int):
    """Start the analysis (the same as `flask analyze`) as a background job, and show its page: it
    takes a minute at a million responses, longer than a request may."""
    survey = survey_or_404(survey_id)
    if not ConfirmForm().validate_on_submit():
        return _page(survey, ["The form had expired. Please press the button again."], None, 400)
    return start_survey_results_job("analysis", survey)
