"""A background job's page: its progress while it runs (updated by static/js/job.js from the
JSON view), then what came of it."""
from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, send_file, url_for
from flask_login import current_user

from .. import audit, backup_job, jobs
from ..accounts import can
from ..extensions import db
from ..models import Job
from ..forms.staff import ConfirmForm
from ..response_import import ImportReport
from . import bp
from .access import permission_required, staff_required
from .survey_lookup import audit_target, survey_or_404


def _job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if not can(current_user, jobs.KINDS[job.kind].permission):
        abort(403)
    return job


BUSY = {"analysis": "An analysis of this survey is already running",
        "publish": "This survey's results are being published"}


def start_survey_results_job(kind: str, survey):
    """Start the survey's analysis or publication as a job and show its page; if one of them is
    already under way (one at a time: ``jobs.results_key``), show that one's page and start nothing."""
    try:
        job = jobs.submit(kind, survey_id=survey.id, created_by_id=current_user.id,
                          active_key=jobs.results_key(survey.id))
    except jobs.JobAlreadyActive as active:
        running = db.session.get(Job, active.job_id)
        flash(f"{BUSY[running.kind] if running else BUSY[kind]}: here is how far it has got. "
              "Nothing new was started.", "info")
        return redirect(url_for(".job", job_id=active.job_id), code=303)
    return redirect(url_for(".job", job_id=job.id), code=303)


def _state(job: Job) -> dict:
    stalled_after = current_app.config["JOB_STALLED_AFTER_SECONDS"]
    return {"status": job.status, "done": job.done, "total": job.total, "phase": job.phase,
            "finished": jobs.finished(job), "no_worker": jobs.waiting_too_long(job, stalled_after)}


@bp.get("/jobs/<int:job_id>")
@staff_required
def job(job_id: int):
    job = _job(job_id)
    backup = None
    if job.kind == "backup" and job.status == "done":
        backup = {"kept": backup_job.backup_file(job) is not None, "until": backup_job.expires_at(job),
                  "mine": job.created_by_id == current_user.id}
    return render_template("staff/job.html", job=job, kind=jobs.KINDS[job.kind], state=_state(job),
                           import_report=ImportReport.from_dict, backup=backup)


@bp.post("/surveys/<int:survey_id>/backup")
@permission_required("backup")
def start_backup(survey_id: int):
    """Write the survey's backup (what `flask export` writes) as a job; its page offers the file."""
    survey = survey_or_404(survey_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        job = jobs.submit("backup", survey_id=survey.id, created_by_id=current_user.id,
                          active_key=f"backup:{survey.id}:{current_user.id}")
    except jobs.JobAlreadyActive as active:
        flash("Your backup of this survey is already being written: here is how far it has got. "
              "Nothing new was started.", "info")
        return redirect(url_for(".job", job_id=active.job_id), code=303)
    return redirect(url_for(".job", job_id=job.id), code=303)


@bp.get("/jobs/<int:job_id>/backup.jsonl")
@staff_required
def download_backup(job_id: int):
    """The backup file, to the admin who started it, while it is kept (a day)."""
    job = _job(job_id)
    if job.kind != "backup":
        abort(404)
    if job.created_by_id != current_user.id:
        abort(403)
    path = backup_job.backup_file(job)
    if path is None:
        flash("That backup is no longer kept (backups are removed a day after they are written). "
              "Start a new one from the survey's page.", "error")
        return redirect(url_for(".job", job_id=job.id), code=303)
    audit.record("survey.backup_download", audit_target(job.survey), job=job.id)
    db.session.commit()
    name = f"{job.survey.slug}-backup-{job.finished_at:%Y-%m-%d}.jsonl"
    response = send_file(path, mimetype="application/x-ndjson", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<int:job_id>/state")
@staff_required
def job_state(job_id: int):
    response = jsonify(_state(_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
