"""Publishing results: review the draft page, publish a version, withdraw one with a notice.

Rules and files live in survey_app/publishing.py; the public pages in results/routes.py.
"""
from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from sqlalchemy import select

from .. import audit, jobs, publishing
from ..analysis.pipeline import CHARTS_DIR, read_results
from ..extensions import db
from ..forms.staff import ConfirmForm
from ..models import Job, Snapshot
from ..results.routes import results_page
from ..security import as_chart
from . import bp
from .access import permission_required
from .jobs import start_survey_results_job
from .survey_lookup import audit_target, survey_or_404


@bp.get("/surveys/<int:survey_id>/results")
@permission_required("publish")
def results(survey_id: int):
    survey = survey_or_404(survey_id)
    draft = read_results(current_app.config["GENERATED_DIR"], survey.slug)
    busy = db.session.scalar(select(Job).where(Job.active_key == jobs.results_key(survey.id)))
    return render_template("staff/results.html", survey=survey, draft=draft, versions=publishing.versions(survey),
                           form=ConfirmForm(), refusal=_refusal(survey, draft), hidden=_hidden(survey, draft),
                           busy=busy)


def _hidden(survey, draft) -> dict | None:
    """Figures hidden in the draft and in the newest public version, for staff to weigh publishing now."""
    if draft is None:
        return None
    newest = next(iter(publishing.public_results(survey, current_app.config["GENERATED_DIR"])[-1:]), None)
    hidden, total = publishing.hidden_figures(draft)
    return {"draft": hidden, "total": total, "newest": publishing.hidden_figures(newest)[0] if newest else None,
            "newest_version": newest["version"] if newest else None}


def _refusal(survey, draft) -> str | None:
    if draft is None:
        return None
    return publishing.publish_refusal(survey, current_app.config["GENERATED_DIR"], draft, second_look=False)


@bp.get("/surveys/<int:survey_id>/results/draft")
@permission_required("publish")
def results_draft(survey_id: int):
    survey = survey_or_404(survey_id)
    draft = read_results(current_app.config["GENERATED_DIR"], survey.slug)
    if draft is None:
        flash("There is no analysis to review yet: run it on the weighting and analysis page.", "error")
        return redirect(url_for(".results", survey_id=survey.id), code=303)
    versions = publishing.versions(survey)
    body, status = results_page(
        survey, None, versions, draft_results=draft,
        chart_url=lambda name: url_for(".results_draft_chart", survey_id=survey.id, filename=name))
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/surveys/<int:survey_id>/results/draft/charts/<path:filename>")
@permission_required("publish")
def results_draft_chart(survey_id: int, filename: str):
    survey = survey_or_404(survey_id)
    response = as_chart(send_from_directory(Path(current_app.config["GENERATED_DIR"]) / survey.slug / CHARTS_DIR,
                                            filename))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/surveys/<int:survey_id>/results/publish")
@permission_required("publish")
def publish_results(survey_id: int):
    """Publish the draft as a background job (publishing_job.py) and show its page."""
    survey = survey_or_404(survey_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return start_survey_results_job("publish", survey)


@bp.post("/surveys/<int:survey_id>/results/v<int:version>/withdraw")
@permission_required("publish")
def withdraw_results(survey_id: int, version: int):
    survey = survey_or_404(survey_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    snapshot = db.session.scalar(select(Snapshot).where(Snapshot.survey_id == survey.id, Snapshot.version == version))
    if snapshot is None:
        abort(404)
    notice = request.form.get("notice", "")
    try:
        publishing.withdraw(snapshot, notice)
    except publishing.PublishError as error:
        flash(f"Version {version}: {error}", "error")
        draft = read_results(current_app.config["GENERATED_DIR"], survey.slug)
        return render_template("staff/results.html", survey=survey, draft=draft, refusal=_refusal(survey, draft),
                               hidden=_hidden(survey, draft),
                               versions=publishing.versions(survey), form=ConfirmForm(), typed={version: notice}), 422
    audit.record("results.withdraw", audit_target(survey), version=version, notice=snapshot.withdrawal_notice)
    db.session.commit()
    flash(f"Withdrew version {version}; its page now shows your notice.", "info")
    return redirect(url_for(".results", survey_id=survey.id), code=303)
