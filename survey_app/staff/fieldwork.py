"""Fieldwork: responses so far, invitation codes, paper and phone entry, and CSV import.

Thin views: codes are made in invitations.py, imports checked in response_import.py, and a
keyed-in response goes through the resident's own form and responses.store_response, and is
counted in the day's data-entry tally (audit.tally_data_entry), never logged one by one.
"""
from __future__ import annotations

import base64

from flask import Response as FlaskResponse
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from .. import audit, invitations, jobs, response_import, written_answers
from ..accounts import can
from ..extensions import db
from ..links import public_url
from ..forms.response import answers_from_form, build_response_form, field_name, hidden_questions
from ..forms.staff import InvitationForm, ResponseImportForm
from ..i18n import LANGUAGES
from ..models import Job, Response, ResponseDraft
from ..questionnaire import translation
from ..responses import store_response
from ..uploads import upload_limit
from . import bp
from .access import permission_required
from .survey_lookup import audit_target, survey_or_404

ENTRY_MODES = ("paper", "phone")
MAX_CSV_BYTES = 8 * 1024 * 1024


def _counts(survey):
    by_mode = dict(db.session.execute(select(Response.mode, func.count()).where(Response.survey_id == survey.id)
                                      .group_by(Response.mode)).all())
    by_language = dict(db.session.execute(select(Response.language, func.count())
                                          .where(Response.survey_id == survey.id)
                                          .group_by(Response.language)).all())
    drafts = db.session.scalar(select(func.count()).select_from(ResponseDraft)
                               .where(ResponseDraft.survey_id == survey.id))
    return by_mode, by_language, drafts


def _page(survey, invitation_form=None, import_form=None, status=200):
    by_mode, by_language, drafts = _counts(survey)
    return render_template(
        "staff/fieldwork.html", survey=survey, by_mode=by_mode, by_language=by_language, drafts=drafts,
        batches=invitations.batches(survey), invitation_form=invitation_form or InvitationForm(count=500),
        import_form=import_form or ResponseImportForm(), entry_modes=ENTRY_MODES,
        imports=db.session.scalars(select(Job).where(Job.survey_id == survey.id, Job.kind == "import")
                                   .order_by(Job.id.desc()).limit(5)).all(),
        languages=LANGUAGES, may_remove=can(current_user, "remove_responses"),
        written=written_answers.text_questions(survey) if can(current_user, "read_text") else []), status


@bp.get("/surveys/<int:survey_id>/responses")
@permission_required("collect")
def responses(survey_id: int):
    return _page(survey_or_404(survey_id))


@bp.post("/surveys/<int:survey_id>/invitations")
@permission_required("collect")
def generate_invitations(survey_id: int):
    """Make a batch of codes and hand them over once: a printable sheet with the CSV attached."""
    survey = survey_or_404(survey_id)
    form = InvitationForm()
    if not form.validate_on_submit():
        return _page(survey, invitation_form=form, status=422)
    try:
        batch, codes = invitations.generate(survey, form.count.data)
    except invitations.InvitationError as error:
        form.count.errors = [str(error)]
        return _page(survey, invitation_form=form, status=422)
    audit.record("invitations.generate", audit_target(survey), batch=batch, count=len(codes))
    db.session.commit()
    survey_url = public_url("respond.survey", slug=survey.slug)
    csv_text = invitations.codes_csv(codes, survey_url, batch)
    response = FlaskResponse(render_template(
        "staff/invitation_sheet.html", survey=survey, batch=batch, codes=codes, survey_url=survey_url,
        csv_href="data:text/csv;charset=utf-8;base64," + base64.b64encode(csv_text.encode()).decode(),
        csv_name=f"{survey.slug}-invitations-batch-{batch}.csv"))
    # The codes exist only in this page: never cache it anywhere.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/surveys/<int:survey_id>/responses/new/<mode>", methods=["GET", "POST"])
@permission_required("collect")
def enter_response(survey_id: int, mode: str):
    """Key in a paper form or a phone interview: the resident's own form, all pages at once."""
    survey = survey_or_404(survey_id)
    if mode not in ENTRY_MODES:
        abort(404)
    if survey.status == "draft":
        flash("Open the survey before entering responses.", "error")
        return redirect(url_for(".responses", survey_id=survey.id), code=303)
    languages = translation.available_languages(survey, LANGUAGES)
    language = request.values.get("language", languages[0])
    if language not in languages:
        language = languages[0]
    hidden = hidden_questions(survey, request.form) if request.method == "POST" else frozenset()
    form = build_response_form(survey, hidden)()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                store_response(survey.id, answers_from_form(survey, form, hidden), mode=mode, language=language)
                # How many each staff member keyed in that day, never which response nor when: the
                # audit log stays apart from the answers (audit.py).
                audit.tally_data_entry(audit_target(survey), mode)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            flash(f"Stored the {mode} response. The form is empty again for the next one.", "info")
            return redirect(url_for(".enter_response", survey_id=survey.id, mode=mode, language=language),
                            code=303)
        status = 400 if form.csrf_token.errors else 422
    return render_template("respond/survey.html", survey=survey, form=form, field_name=field_name,
                           token_expired=bool(form.csrf_token.errors), entry_mode=mode, entry_language=language,
                           entry_languages=languages,
                           action=url_for(".enter_response", survey_id=survey.id, mode=mode)), status


@bp.post("/surveys/<int:survey_id>/responses/import")
@upload_limit(MAX_CSV_BYTES)
@permission_required("collect")
def import_responses(survey_id: int):
    survey = survey_or_404(survey_id)
    form = ResponseImportForm()
    if not form.validate_on_submit():
        return _page(survey, import_form=form, status=422)
    if survey.status == "draft":
        form.file.errors = ["Open the survey before importing responses."]
        return _page(survey, import_form=form, status=422)
    data = form.file.data.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        form.file.errors = [f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB; split it."]
        return _page(survey, import_form=form, status=422)
    try:
        job = jobs.submit("import", survey_id=survey.id, created_by_id=current_user.id, payload=data,
                          params={"filename": (form.file.data.filename or "")[:200]},
                          active_key=f"import:{survey.id}")
    except jobs.JobAlreadyActive as active:
        form.file.errors = [Markup('An import into this survey is still running: wait for it to finish '
                                   '(<a href="{}">see its progress</a>), then import this file.')
                            .format(url_for(".job", job_id=active.job_id))]
        return _page(survey, import_form=form, status=409)
    return redirect(url_for(".job", job_id=job.id), code=303)


@bp.get("/surveys/<int:survey_id>/responses/template.csv")
@permission_required("collect")
def import_template(survey_id: int):
    survey = survey_or_404(survey_id)
    return FlaskResponse(response_import.template_csv(survey), mimetype="text/csv",
                         headers={"Content-Disposition": f'attachment; filename="{survey.slug}-import-template.csv"'})
