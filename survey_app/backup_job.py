"""A survey's backup from the staff pages, as a background job (``jobs.KINDS["backup"]``): the
file ``flask export`` writes (backup.py: the definition, settings, margins, invitation hashes and
every response with its answers, free text included), which at a hundred thousand responses takes
longer than a request may. Admins only: it holds everything residents wrote.

The file is written under ``GENERATED_DIR/exports/`` (shared by the app servers and the worker,
never served by the web server in front: only the app's download view gives it out, to the admin
who started the job), readable by the app's user alone, and removed a day after the job ended
(``remove_expired``, every hour by the job worker); the job's page says so."""
from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from . import audit, backup
from .extensions import db
from .models import Response, StaffUser, as_utc, utcnow

EXPORTS_DIR = "exports"
KEEP_FOR = dt.timedelta(days=1)
PROGRESS_EVERY = 1_000  # lines


def exports_dir() -> Path:
    return Path(current_app.config["GENERATED_DIR"]) / EXPORTS_DIR


def backup_file(job) -> Path | None:
    """The finished backup of ``job``, if it is still kept."""
    name = (job.result or {}).get("file")
    if job.kind != "backup" or job.status != "done" or not name:
        return None
    path = exports_dir() / name
    return path if path.is_file() else None


def expires_at(job) -> dt.datetime | None:
    return as_utc(job.finished_at) + KEEP_FOR if job.finished_at else None


def run_job(job, progress) -> dict:
    """Write the job's survey's backup; what the job's page shows: how many responses, its size."""
    survey = job.survey
    slug = survey.slug
    total = db.session.scalar(select(func.count()).select_from(Response).where(Response.survey_id == survey.id))
    folder = exports_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{job.id}-{secrets.token_hex(8)}.jsonl"
    part = folder / f".{name}.part"
    progress.on_rollback(lambda: part.unlink(missing_ok=True))
    progress.on_rollback(lambda: (folder / name).unlink(missing_ok=True))
    written = -1
    # 0o600: the file holds every answer; only the app's own user may read it.
    with os.fdopen(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        for written, line in enumerate(backup.export_lines(survey)):
            out.write(line + "\n")
            if written % PROGRESS_EVERY == 0:
                progress(written, total, "Writing the responses")
    progress(written, total, "Writing the responses")
    part.rename(folder / name)
    creator = db.session.get(StaffUser, job.created_by_id) if job.created_by_id else None
    audit.record("survey.backup", f"survey {slug}", user=creator, responses=written)
    return {"responses": written, "bytes": (folder / name).stat().st_size, "file": name}


def remove_expired(now: dt.datetime | None = None) -> list[str]:
    """Remove backups whose job ended more than KEEP_FOR ago, and files no finished job names
    (left by a run that was cut short); the names removed."""
    from .models import Job

    folder = exports_dir()
    if not folder.is_dir():
        return []
    now = now or utcnow()
    kept = {(job.result or {}).get("file") for job in db.session.scalars(
        select(Job).where(Job.kind == "backup", Job.status == "done", Job.finished_at >= now - KEEP_FOR))}
    running = {str(job_id) for job_id in db.session.scalars(
        select(Job.id).where(Job.kind == "backup", Job.status.in_(("queued", "running"))))}
    removed = []
    for path in folder.iterdir():
        job_id = path.name.lstrip(".").split("-", 1)[0]
        if path.name in kept or job_id in running:
            continue
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed
