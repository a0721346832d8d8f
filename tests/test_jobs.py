"""Background jobs (survey_app/jobs.py): a run holds its job by a claim, finishes it exactly
once, and a job whose worker died is taken over; a 100,000-row import finishes outside the
request with its progress on the page (issue 19 item 6), replayed against a real gunicorn and
a real `flask jobs worker`, which is killed mid-job and started again."""
from __future__ import annotations

import datetime as dt
import html
import time

import pytest
from sqlalchemy import func, select, update

from survey_app import jobs
from survey_app.extensions import db
from survey_app.models import Answer, AuditEntry, Job, Response

from .factories import make_survey
from .http_browser import Browser
from .staff_helpers import PASSWORD, finished_job_page, make_user

STALLED_AFTER = 3.0  # seconds: short, so that a takeover happens within a test


@pytest.fixture
def real_server_env() -> dict:
    return {"JOB_STALLED_AFTER_SECONDS": str(STALLED_AFTER)}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def responses_csv(rows: int) -> bytes:
    lines = ["trust,district,contact,kinds,years,comment,mode,submitted_on"]
    lines += [f"{1 + i % 5},{1 + i % 3},{1 + i % 2},1;3,{i % 90},,paper,2026-01-05" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def import_job(survey, payload: bytes, user=None) -> Job:
    """A queued import job stored without running it (the app's queue runs jobs at once in tests)."""
    job = Job(kind="import", survey_id=survey.id, created_by_id=user.id if user else None, payload=payload,
              params={"filename": "test.csv"}, status="queued", done=0, attempts=0, phase="Waiting",
              active_key=f"import:{survey.id}")
    db.session.add(job)
    db.session.commit()
    return job


def reload(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


# --- claims, exactly once, takeover -------------------------------------------------------------

def test_a_job_is_claimed_by_one_run_only(app):
    job = import_job(make_survey(), responses_csv(3))
    first = jobs.claim(job.id)
    assert first is not None and jobs.claim(job.id) is None  # held, heartbeat fresh
    assert reload(job.id).status == "running" and reload(job.id).attempts == 1


def test_a_stalled_run_is_taken_over_and_only_the_new_run_may_finish_it(app):
    survey = make_survey()
    job = import_job(survey, responses_csv(4))
    old = jobs.claim(job.id)
    jobs.Progress(job.id, old)(1, 4, "Checking rows")  # alive
    db.session.execute(update(Job).where(Job.id == job.id)
                       .values(heartbeat_at=jobs.utcnow() - dt.timedelta(seconds=app.config["JOB_STALLED_AFTER_SECONDS"] + 1)))
    db.session.commit()
    new = jobs.claim(job.id)
    assert new not in (None, old) and reload(job.id).attempts == 2
    with pytest.raises(jobs.JobTakenOver):  # the old run's next progress report stops it
        jobs.Progress(job.id, old)(2, 4, "Storing")
    assert jobs._end(old, job.id, "done", {"stale": True}) is False  # nor can it finish the job
    db.session.rollback()
    assert jobs._end(new, job.id, "done", {"stored": 4}) is True
    db.session.commit()
    job = reload(job.id)
    assert (job.status, job.result, job.payload, job.active_key, job.claim) == ("done", {"stored": 4}, None, None, None)


def test_a_run_that_lost_its_claim_stores_nothing(app, monkeypatch):
    """The import's responses and the job's end are one transaction: a run that no longer holds
    the job (taken over while it stored) leaves no response behind."""
    survey = make_survey()
    job = import_job(survey, responses_csv(5))
    real_end = jobs._end

    def taken_over_meanwhile(token, job_id, status, result, error=None):
        with db.engine.begin() as connection:  # another run claims it (a separate transaction)
            connection.execute(update(Job.__table__).where(Job.id == job_id).values(claim="someone-else"))
        return real_end(token, job_id, status, result, error)

    monkeypatch.setattr(jobs, "_end", taken_over_meanwhile)
    job_id = job.id
    jobs.run(job_id)
    assert count(Response) == 0 and count(Answer) == 0
    assert reload(job_id).status == "running" and reload(job_id).claim == "someone-else"


def test_a_job_that_fails_says_so_and_keeps_nothing(app, monkeypatch):
    survey = make_survey()
    job = import_job(survey, responses_csv(2))

    def broken(job, progress):
        from survey_app.responses import store_responses
        store_responses(job.survey_id, [([], "paper", "en", None)])  # written, then the handler fails
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(jobs, "_handler", lambda kind: broken)
    job_id = job.id
    jobs.run(job_id)
    job = reload(job_id)
    assert job.status == "failed" and job.error == jobs.UNEXPECTED
    assert job.payload is None and job.active_key is None and count(Response) == 0


def test_one_active_job_per_key(app):
    survey = make_survey()
    survey_id, first = survey.id, import_job(survey, responses_csv(1)).id
    with pytest.raises(jobs.JobAlreadyActive) as refused:
        jobs.submit("import", survey_id=survey_id, payload=b"x", active_key=f"import:{survey_id}")
    assert refused.value.job_id == first and count(Job) == 1
    jobs.run(first)  # finished: the key is free again
    jobs.submit("import", survey_id=survey_id, payload=responses_csv(1), active_key=f"import:{survey_id}")
    assert count(Job) == 2 and count(Response) == 2


def test_recovery_queues_stalled_jobs_again_and_fails_those_started_too_often(app):
    survey, other = make_survey(), make_survey(slug="other")
    stalled = import_job(survey, responses_csv(3)).id
    worn = import_job(other, responses_csv(3)).id
    long_ago = jobs.utcnow() - dt.timedelta(hours=1)
    db.session.execute(update(Job).where(Job.id == stalled)
                       .values(status="running", claim="dead-worker", attempts=1, heartbeat_at=long_ago))
    db.session.execute(update(Job).where(Job.id == worn)
                       .values(status="running", claim="dead-worker", attempts=jobs.MAX_ATTEMPTS, heartbeat_at=long_ago))
    db.session.commit()
    assert jobs.recover_stalled() == [stalled]  # queued again, and (in tests) run at once
    stalled, worn = reload(stalled), reload(worn)
    assert stalled.status == "done" and stalled.result["stored"] == 3 and stalled.attempts == 2
    assert worn.status == "failed" and "started 3 times" in worn.error and worn.payload is None
    assert count(Response) == 3


def test_the_job_page_is_for_staff_allowed_to_start_such_a_job(app, client):
    from .staff_helpers import sign_in

    survey = make_survey()
    job = import_job(survey, responses_csv(1))
    assert client.get(f"/staff/jobs/{job.id}").status_code == 302  # anonymous: to sign-in
    sign_in(client, make_user("analyst").email)
    page = client.get(f"/staff/jobs/{job.id}")
    assert page.status_code == 200 and "Waiting for the job worker" in page.get_data(as_text=True)
    assert client.get(f"/staff/jobs/{job.id}/state").get_json()["status"] == "queued"
    assert client.get("/staff/jobs/999999").status_code == 404


# --- over HTTP, with a real worker --------------------------------------------------------------

def staff(real_server) -> Browser:
    make_user("editor")
    browser = Browser(real_server.base_url)
    assert browser.submit("/staff/login", {"email": "editor@city.example", "password": PASSWORD, "next": ""}).status == 302
    return browser


def upload(browser, survey, data: bytes, name: str = "responses.csv"):
    return browser.submit(f"/staff/surveys/{survey.id}/responses/import", {},
                          token_from=f"/staff/surveys/{survey.id}/responses", files={"file": (name, data)})


def test_a_100000_row_import_finishes_in_the_background_with_progress(real_server, job_worker, app):
    survey = make_survey()
    browser = staff(real_server)
    data = responses_csv(100_000)
    started = time.monotonic()
    reply = upload(browser, survey, data)
    assert reply.status == 303 and time.monotonic() - started < 10  # the request only hands the file over
    states, page = finished_job_page(browser, reply.location, timeout=600)
    counted = [s["done"] for s in states if s["status"] == "running" and s["total"] == 100_000]
    assert any(0 < done < 100_000 for done in counted), states[:5]  # progress seen on the way
    assert counted == sorted(counted)
    text = html.unescape(page.text)
    assert "Imported 100,000 responses" in text, job_worker.log()[-2000:]
    assert count(Response) == 100_000
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "responses.import")).one()
    assert entry.details["count"] == 100_000 and entry.details["file"] == "responses.csv"
    fieldwork = html.unescape(browser.get(f"/staff/surveys/{survey.id}/responses").text)
    assert "100,000 imported" in fieldwork
    # A second import while none is active is taken; the payload of the first is gone.
    assert db.session.scalar(select(Job.payload).where(Job.survey_id == survey.id)) is None


def test_an_import_survives_its_worker_being_killed(real_server, job_worker, app):
    survey = make_survey()
    browser = staff(real_server)
    rows = 12_000
    reply = upload(browser, survey, responses_csv(rows))
    assert reply.status == 303
    job_id = int(reply.location.rsplit("/", 1)[1])
    deadline = time.monotonic() + 120
    while reload(job_id).done < 2_000:  # well into checking the rows
        assert time.monotonic() < deadline, job_worker.log()[-2000:]
        time.sleep(0.05)
    job_worker.kill()
    assert reload(job_id).status == "running" and count(Response) == 0
    # While no worker runs, a second import into the survey is refused in words.
    refused = upload(browser, survey, responses_csv(1))
    assert refused.status == 409 and "still running" in html.unescape(refused.text)
    time.sleep(STALLED_AFTER + 0.5)  # the dead run's heartbeat is now stale
    job_worker.start()  # a new worker takes the job over at its start
    states, page = finished_job_page(browser, reply.location, timeout=300)
    assert f"Imported {rows:,} responses" in html.unescape(page.text), job_worker.log()[-3000:]
    job = reload(job_id)
    assert job.attempts == 2 and count(Response) == rows  # exactly once


def test_a_job_no_worker_picks_up_says_so(real_server, app):
    survey = make_survey()
    browser = staff(real_server)
    reply = upload(browser, survey, responses_csv(2))
    assert reply.status == 303
    page = html.unescape(browser.get(reply.location).text)
    assert "Waiting for the job worker" in page
    db.session.execute(update(Job).values(created_at=jobs.utcnow() - dt.timedelta(seconds=STALLED_AFTER + 1)))
    db.session.commit()
    state = browser.get(reply.location + "/state")
    assert '"no_worker":true' in state.text.replace(" ", "")


def test_the_queue_can_be_redis_for_several_servers(app):
    """JOB_QUEUE_URL=redis://...: the message goes through a real Redis and a worker's consumer
    runs it (REDIS_URL as in tests/test_scale_out.py)."""
    from .test_scale_out import redis_or_skip

    app.config["JOB_QUEUE_URL"] = redis_or_skip()
    huey = jobs.make_queue(app)
    huey.flush()
    app.extensions["jobs"] = huey
    survey = make_survey()
    job_id = jobs.submit("import", survey_id=survey.id, payload=responses_csv(4)).id
    assert type(huey).__name__ == "RedisHuey" and huey.pending_count() == 1 and reload(job_id).status == "queued"
    task = huey.dequeue()
    huey.execute(task)
    assert reload(job_id).status == "done" and count(Response) == 4 and huey.pending_count() == 0


def test_flask_jobs_list_shows_what_is_queued_and_running(app, runner):
    survey = make_survey()
    assert "No job is queued or running." in runner.invoke(args=["jobs", "list"]).output
    job_id = import_job(survey, responses_csv(2)).id
    output = runner.invoke(args=["jobs", "list"]).output
    assert f"{job_id}\tqueued\tImport of responses\t{survey.slug}" in output
    jobs.run(job_id)
    assert "No job is queued or running." in runner.invoke(args=["jobs", "list"]).output
    assert f"{job_id}\tdone\tImport of responses" in runner.invoke(args=["jobs", "list", "--all"]).output


def test_a_failed_job_says_so_on_its_page(app, client, monkeypatch):
    from .staff_helpers import sign_in

    survey = make_survey()
    job_id = import_job(survey, responses_csv(2)).id
    monkeypatch.setattr(jobs, "_handler", lambda kind: (_ for _ in ()).throw(RuntimeError("boom")))
    jobs.run(job_id)
    sign_in(client, make_user("editor").email)
    page = client.get(f"/staff/jobs/{job_id}").get_data(as_text=True)
    assert "The job did not finish" in page and "nothing of it was stored" in page
    assert client.get(f"/staff/jobs/{job_id}/state").get_json()["finished"] is True
