"""Background jobs: work too long for a request (a CSV import of 100,000 rows), run by a worker
process with its progress on the staff page.

Library: huey (MIT, https://huey.readthedocs.io), chosen because one small library covers both
ways this app is run. On the embedded default its queue is a SQLite file in ``instance/``
(``SqliteHuey``), so ``make demo`` and ``make test`` need no server; with several app servers
it is Redis (``RedisHuey``, ``JOB_QUEUE_URL=redis://...``), which production already has for
shared rate limits. RQ and Dramatiq need Redis or RabbitMQ even for a demo; procrastinate
needs PostgreSQL. Start the worker with ``flask jobs worker``.

What the queue holds is only a job's id. The ``Job`` row in the app's database is the truth:
status, progress, result and the input. Each run *claims* the row (a random token, written
only if the job is queued, or running with a heartbeat older than ``JOB_STALLED_AFTER_SECONDS``)
and then writes progress and its outcome only while it still holds the claim: the handler's
writes, the job marked done and the claim check are one transaction. So a job whose worker
was killed is taken over by the next worker (``recover_stalled``, at a worker's start and
every minute), a duplicate message is harmless, and no job's work is committed twice.

A handler (``KINDS``) gets the job and a ``Progress`` and returns the result to keep (a dict
for the page); it writes through ``db.session`` and never commits. It reports progress only
before its first write: progress goes through its own short transaction, which on SQLite
would wait for the handler's write transaction. What a handler does outside the database
(files put in place) it undoes in ``progress.on_rollback(step)``, run before the rollback when
its run does not commit (an error, or the job taken over); what may only follow the commit it
leaves to ``progress.after_commit(step)`` (publishing: the public pages).
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import Job, as_utc, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # runs a job may start (a worker killed under it) before it is failed
PROGRESS_INTERVAL = 0.5  # seconds between progress writes, at most
UNEXPECTED = "The job stopped on an unexpected error; nothing of it was stored. The error is in the worker's log."


@dataclass(frozen=True)
class Kind:
    """What a kind of job is: who may see it, how to name it, what runs it, and how its page ends."""

    label: str  # "Import of responses"
    permission: str  # accounts.PERMISSIONS entry needed to start and to see it
    handler: str  # "module:function" under survey_app, imported when the job runs
    back: str  # the staff page its page links back to (an endpoint taking survey_id)
    outcome: str  # the template that shows what came of it (templates/staff/)


KINDS: dict[str, Kind] = {
    "import": Kind("Import of responses", "collect", "response_import:run_job", "staff.responses",
                   "staff/_import_outcome.html"),
    "analysis": Kind("Analysis", "analyse", "analysis_job:run_job", "staff.weighting",
                     "staff/_analysis_outcome.html"),
    "publish": Kind("Publishing the results", "publish", "publishing_job:run_job", "staff.results",
                    "staff/_publish_outcome.html"),
    "backup": Kind("Backup of the survey", "backup", "backup_job:run_job", "staff.survey",
                   "staff/_backup_outcome.html"),
}


def results_key(survey_id: int) -> str:
    """The active key of a survey's analysis and publishing jobs: one of them at a time, so that two
    analyses do not race to write the draft, nor a publication copy a draft being rewritten."""
    return f"results:{survey_id}"


class JobTakenOver(Exception):
    """This run no longer holds its job (it was judged stalled and another run took it)."""


class JobAlreadyActive(Exception):
    """A job with the same active key (e.g. an analysis of the same survey) is queued or running."""

    def __init__(self, job_id: int):
        super().__init__(job_id)
        self.job_id = job_id


# --- the queue ---------------------------------------------------------------------------------

def make_queue(app):
    """The huey instance for ``app``'s JOB_QUEUE_URL, with the tasks that run jobs."""
    from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

    url = app.config["JOB_QUEUE_URL"]
    if url == "immediate":  # tests: a job runs inside the call that submits it
        huey = MemoryHuey("survey-jobs", immediate=True)
    elif url.startswith("sqlite:///"):
        huey = SqliteHuey("survey-jobs", filename=url[len("sqlite:///"):])
    elif url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey("survey-jobs", url=url)
    else:
        raise ValueError(f"JOB_QUEUE_URL {url!r}: use sqlite:///<file>, redis://<host>:<port>/<db> or immediate")

    @huey.task(name="run_job")
    def run_task(job_id: int) -> None:
        with app.app_context():
            run(job_id)

    @huey.periodic_task(crontab(minute="*"), name="recover_stalled")
    def recover_task() -> None:
        with app.app_context():
            recover_stalled()

    @huey.periodic_task(crontab(minute="7"), name="remove_expired_backups")
    def remove_backups_task() -> None:
        from .backup_job import remove_expired

        with app.app_context():
            removed = remove_expired()
            db.session.remove()
        if removed:
            log.info("removed expired backups: %s", removed)

    huey.run_job = run_task
    return huey


def init_app(app) -> None:
    app.config["JOB_STALLED_AFTER_SECONDS"] = float(app.config["JOB_STALLED_AFTER_SECONDS"])
    app.extensions["jobs"] = make_queue(app)


def _queue():
    from flask import current_app

    return current_app.extensions["jobs"]


# --- submitting and reading --------------------------------------------------------------------

def submit(kind: str, *, survey_id: int | None = None, created_by_id: int | None = None,
           payload: bytes | None = None, params: dict | None = None, active_key: str | None = None) -> Job:
    """Store a new job, commit, and queue it; the job. With ``active_key``, refuses (JobAlreadyActive,
    carrying the active job's id) while another job with that key is queued or running."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, survey_id=survey_id, created_by_id=created_by_id, payload=payload,
              params=params or {}, active_key=active_key, status="queued", done=0, attempts=0, phase="Waiting")
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        active = db.session.scalar(select(Job.id).where(Job.active_key == active_key))
        if active is None:
            raise
        raise JobAlreadyActive(active) from None
    _queue().run_job(job.id)
    return job


def finished(job: Job) -> bool:
    return job.status in ("done", "failed")


def waiting_too_long(job: Job, stalled_after: float, now: dt.datetime | None = None) -> bool:
    """Queued for longer than a worker would take to pick it up: is a worker running?"""
    now = now or utcnow()
    return job.status == "queued" and as_utc(job.created_at) < now - dt.timedelta(seconds=stalled_after)


# --- running -----------------------------------------------------------------------------------

def _stalled_after() -> dt.timedelta:
    from flask import current_app

    return dt.timedelta(seconds=current_app.config["JOB_STALLED_AFTER_SECONDS"])


def claim(job_id: int) -> str | None:
    """Take the job for this run: a token, or None if it is finished or another live run holds it."""
    token = secrets.token_hex(16)
    now = utcnow()
    with db.engine.begin() as connection:
        taken = connection.execute(
            update(Job.__table__)
            .where(Job.id == job_id, Job.attempts < MAX_ATTEMPTS,
                   or_(Job.status == "queued",
                       (Job.status == "running") & (Job.heartbeat_at < now - _stalled_after())))
            .values(status="running", claim=token, attempts=Job.attempts + 1, heartbeat_at=now,
                    started_at=now, phase="Starting")
        ).rowcount
    return token if taken == 1 else None


class Progress:
    """How far a run has got, written to its job row in a short transaction of its own (so the
    staff page sees it at once), at most every PROGRESS_INTERVAL seconds. Raises JobTakenOver
    when the run no longer holds the job, so that a stale run stops early."""

    def __init__(self, job_id: int, token: str):
        self.job_id = job_id
        self.token = token
        self._written_at = 0.0
        self._phase = None
        self.undo_steps: list[Callable[[], None]] = []
        self.after_commit_steps: list[Callable[[], None]] = []

    def on_rollback(self, step: Callable[[], None]) -> None:
        """Run ``step`` if this run's transaction is rolled back (before the rollback)."""
        self.undo_steps.append(step)

    def after_commit(self, step: Callable[[], None]) -> None:
        """Run ``step`` once this run's transaction is committed."""
        self.after_commit_steps.append(step)

    def _run(self, steps: list[Callable[[], None]], what: str) -> None:
        for step in reversed(steps) if what == "undo" else steps:
            try:
                step()
            except Exception:  # noqa: BLE001 - the job's outcome is settled; the rest still runs
                log.exception("job %s: a step to %s failed", self.job_id, what)

    def __call__(self, done: int, total: int | None = None, phase: str | None = None) -> None:
        now = time.monotonic()
        if phase == self._phase and now - self._written_at < PROGRESS_INTERVAL and done != total:
            return
        values = {"done": done, "total": total, "heartbeat_at": utcnow()}
        if phase is not None:
            values["phase"] = phase
        with db.engine.begin() as connection:
            held = connection.execute(update(Job.__table__).where(Job.id == self.job_id, Job.claim == self.token)
                                      .values(**values)).rowcount
        if held != 1:
            raise JobTakenOver(self.job_id)
        self._written_at, self._phase = now, phase


def _handler(kind: str) -> Callable:
    import importlib

    module, function = KINDS[kind].handler.split(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), function)


def _end(token: str, job_id: int, status: str, result: dict | None, error: str | None = None) -> bool:
    """Mark the job ended in the session's transaction if this run still holds it."""
    now = utcnow()
    held = db.session.execute(
        update(Job.__table__).where(Job.id == job_id, Job.claim == token)
        .values(status=status, result=result, error=error, payload=None, active_key=None, claim=None,
                finished_at=now, heartbeat_at=now, phase="Finished" if status == "done" else "Stopped")
    ).rowcount
    return held == 1


def run(job_id: int) -> None:
    """Run one job if it can be claimed: its handler's writes and its end in one transaction."""
    token = claim(job_id)
    if token is None:
        return
    job = db.session.get(Job, job_id)
    heartbeat = Heartbeat(job_id, token, _stalled_after().total_seconds() / 4)
    heartbeat.start()
    progress = Progress(job_id, token)

    def roll_back() -> None:
        progress._run(progress.undo_steps, "undo")
        db.session.rollback()

    try:
        result = _handler(job.kind)(job, progress)
        if _end(token, job_id, "done", result):
            db.session.commit()
            progress._run(progress.after_commit_steps, "follow the commit")
        else:
            roll_back()
            log.warning("job %s was taken over by another run; this run's work is discarded", job_id)
    except JobTakenOver:
        roll_back()
        log.warning("job %s was taken over by another run; this run stopped", job_id)
    except Exception:
        roll_back()
        log.exception("job %s (%s) failed", job_id, job.kind)
        if _end(token, job_id, "failed", None, UNEXPECTED):
            db.session.commit()
    finally:
        heartbeat.stop()
        db.session.remove()


class Heartbeat(threading.Thread):
    """Says the run is alive every ``interval`` seconds while the handler works between progress
    reports (a long computation), so that only a run whose worker stopped looks stalled. On
    SQLite a beat waits while the handler writes; a beat that cannot be written is skipped."""

    def __init__(self, job_id: int, token: str, interval: float):
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id, self.token, self.interval = job_id, token, interval
        self.engine = db.engine
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                with self.engine.begin() as connection:
                    connection.execute(update(Job.__table__).where(Job.id == self.job_id, Job.claim == self.token)
                                       .values(heartbeat_at=utcnow()))
            except Exception:  # noqa: BLE001 - a missed beat only risks a needless takeover, which is safe
                log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def recover_stalled() -> list[int]:
    """Queue again every job whose worker stopped under it (running, no heartbeat for
    JOB_STALLED_AFTER_SECONDS) or whose message may be lost (queued that long); fail those that
    have been started MAX_ATTEMPTS times. The ids queued again."""
    cutoff = utcnow() - _stalled_after()
    stalled = db.session.scalars(select(Job).where(or_(
        (Job.status == "running") & (Job.heartbeat_at < cutoff),
        (Job.status == "queued") & (Job.created_at < cutoff)))).all()
    again = []
    for job in stalled:
        if job.attempts >= MAX_ATTEMPTS:
            failed = db.session.execute(
                update(Job.__table__).where(Job.id == job.id, Job.status == job.status, Job.attempts == job.attempts)
                .values(status="failed", payload=None, active_key=None, claim=None, finished_at=utcnow(),
                        phase="Stopped", error=f"The job was started {job.attempts} times and each time its "
                                               "worker stopped before it finished (restarted, or out of memory). "
                                               "Nothing of it was stored; try a smaller file, or ask IT to look "
                                               "at the worker.")).rowcount
            db.session.commit()
            if failed:
                log.warning("job %s failed after %s attempts", job.id, job.attempts)
        else:
            again.append(job.id)
    db.session.remove()
    for job_id in again:
        _queue().run_job(job_id)
    if again:
        log.info("queued stalled jobs again: %s", again)
    return again


def worker(app, threads: int) -> None:
    """Run huey's consumer for ``app`` until stopped (SIGINT finishes running jobs first, SIGTERM
    does not; a job cut short is taken over by the next worker)."""
    huey = app.extensions["jobs"]
    with app.app_context():
        recover_stalled()
    consumer = huey.create_consumer(workers=threads, worker_type="thread", periodic=True,
                                    check_worker_health=True)
    consumer.run()
