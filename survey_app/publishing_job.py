"""Publishing as a background job (``jobs.KINDS["publish"]``): what ``flask publish`` does, run by
the job worker, its steps on the job's page. One at a time per survey, and never while the survey's
analysis runs (the active key ``jobs.results_key``), so a publication never copies a draft being
rewritten.

The version's files go in place before the job's transaction commits its row (the job worker
commits the job's end and the row together): if that commit does not happen (an error, or the job
taken over by another worker because this one looked stalled), the files are taken away first, so
a job run again publishes the same version once. The public pages are written after the commit.
"""
from __future__ import annotations

from flask import current_app

from . import audit, publishing
from .extensions import db


def run_job(job, progress) -> dict:
    """Publish the job's survey's draft; what the job's page shows: the version and its address,
    or why it was not published (nothing changed)."""
    from .models import StaffUser

    survey = job.survey
    generated_dir = current_app.config["GENERATED_DIR"]
    try:
        snapshot, folder = publishing.publish_uncommitted(survey, generated_dir, progress)
    except publishing.PublishError as error:
        return {"refused": str(error)}
    progress.on_rollback(lambda: publishing.remove_unpublished(folder))
    progress.after_commit(lambda: publishing.refresh_pages(survey, generated_dir))
    progress.after_commit(lambda: publishing.drop_unapproved_quotes(survey, generated_dir))  # withdrawn meanwhile
    creator = db.session.get(StaffUser, job.created_by_id) if job.created_by_id else None
    audit.record("results.publish", f"survey {survey.slug}", user=creator, version=snapshot.version)
    return {"version": snapshot.version}
