"""A background job's page: its progress while it runs (updated by static/js/job.js from the
JSON view), then what came of it."""
from __future__ import annotations

from flask import abort, current_app, jsonify, render_template
from flask_login import current_user

from .. import jobs
from ..accounts import can
from ..extensions import db
from ..models import Job
from ..response_import import ImportReport
from . import bp
from .access import staff_required


def _job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None:
        abort(404)
    if not can(current_user, jobs.KINDS[job.kind].permission):
        abort(403)
    return job


def _state(job: Job) -> dict:
    stalled_after = current_app.config["JOB_STALLED_AFTER_SECONDS"]
    return {"status": job.status, "done": job.done, "total": job.total, "phase": job.phase,
            "finished": jobs.finished(job), "no_worker": jobs.waiting_too_long(job, stalled_after)}


@bp.get("/jobs/<int:job_id>")
@staff_required
def job(job_id: int):
    job = _job(job_id)
    return render_template("staff/job.html", job=job, kind=jobs.KINDS[job.kind], state=_state(job),
                           import_report=ImportReport.from_dict)


@bp.get("/jobs/<int:job_id>/state")
@staff_required
def job_state(job_id: int):
    response = jsonify(_state(_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
