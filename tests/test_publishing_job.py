"""Publishing as a background job (survey_app/publishing_job.py): the version's files and its row
land together or not at all, the public pages follow the commit, and a survey's analysis and its
publication never run at once (issue 22 item 3)."""
from __future__ import annotations

import html
import logging
from pathlib import Path

from sqlalchemy import func, select, update

from survey_app import jobs, publishing, publishing_job
from survey_app.extensions import db
from survey_app.models import Job, Snapshot
from survey_app.results import static_pages

from .staff_helpers import make_user, post, sign_in
from .test_results import analysed_survey


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def published_folders(app, survey) -> list[str]:
    """Every entry under the survey's published folder but the pages (finished or half-made versions)."""
    folder = Path(app.config["GENERATED_DIR"]) / publishing.PUBLISHED_DIR / survey.slug
    return sorted(p.name for p in folder.iterdir() if p.name != static_pages.PAGES_DIR) if folder.exists() else []


def pages(app, survey) -> list[str]:
    folder = static_pages.survey_pages_dir(app.config["GENERATED_DIR"], survey)
    return sorted(p.name for p in folder.glob("*.html")) if folder.exists() else []


def snapshots(survey) -> list[int]:
    db.session.expire_all()
    return db.session.scalars(select(Snapshot.version).where(Snapshot.survey_id == survey.id)).all()


def publish_job(survey, user=None) -> Job:
    """Submit the survey's publication; the tests' queue runs it inside the call."""
    job = jobs.submit("publish", survey_id=survey.id, created_by_id=user.id if user else None,
                      active_key=jobs.results_key(survey.id))
    db.session.expire_all()
    return db.session.get(Job, job.id)


def test_a_run_taken_over_before_its_commit_leaves_no_version_behind(app, monkeypatch):
    """The files are in place before the row commits; a run whose commit does not happen takes
    them away, so the run that takes the job over publishes the same version, once."""
    survey = analysed_survey(app)
    real_end = jobs._end
    ends = []

    def taken_over_meanwhile(token, job_id, status, result, error=None):
        # The files are in place now, with the row flushed, and this run is about to commit; it
        # finds its claim gone (another worker judged it stalled: on SQLite that worker's claim
        # waits for this transaction, so the claim's loss is what _end reports).
        ends.append((status, published_folders(app, survey)))
        return False

    monkeypatch.setattr(jobs, "_end", taken_over_meanwhile)
    job = publish_job(survey)
    assert ends == [("done", ["v1"])] and job.status == "running"  # not ended by this run
    assert snapshots(survey) == [] and published_folders(app, survey) == [] and pages(app, survey) == []

    monkeypatch.setattr(jobs, "_end", real_end)
    db.session.execute(update(Job).where(Job.id == job.id).values(status="queued", claim=None))
    db.session.commit()
    jobs.run(job.id)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status == "done" and job.result == {"version": 1}
    assert snapshots(survey) == [1] and published_folders(app, survey) == ["v1"]
    assert "v1.en.html" in pages(app, survey) and "current.en.html" in pages(app, survey)


def test_a_run_that_fails_after_its_files_are_in_place_takes_them_away(app, monkeypatch, caplog):
    survey = analysed_survey(app)

    def audit_fails(*args, **kwargs):
        raise RuntimeError("audit table locked")

    monkeypatch.setattr(publishing_job.audit, "record", audit_fails)
    with caplog.at_level(logging.ERROR, logger="survey_app.jobs"):
        job = publish_job(survey)
    assert job.status == "failed" and job.error == jobs.UNEXPECTED
    assert snapshots(survey) == [] and published_folders(app, survey) == [] and pages(app, survey) == []
    assert "audit table locked" in caplog.text


def test_pages_written_after_the_commit_and_a_failure_there_does_not_undo_the_version(app, monkeypatch, caplog):
    survey = analysed_survey(app)
    seen = []

    def refresh_that_fails(survey, generated_dir=None):
        seen.append(db.session.scalar(select(func.count()).select_from(Snapshot)
                                      .where(Snapshot.survey_id == survey.id)))
        with db.engine.connect() as other:  # committed: another connection sees the row
            seen.append(other.scalar(select(func.count()).select_from(Snapshot.__table__)))
        raise OSError("disk full")

    monkeypatch.setattr(publishing, "refresh_pages", refresh_that_fails)
    with caplog.at_level(logging.ERROR, logger="survey_app.jobs"):
        job = publish_job(survey)
    assert seen == [1, 1]
    assert job.status == "done" and snapshots(survey) == [1] and published_folders(app, survey) == ["v1"]
    assert "disk full" in caplog.text
    # The public page is written on its first visit (the route's own repair).
    monkeypatch.undo()
    assert app.test_client().get("/results/small/v1").status_code == 200 and "v1.en.html" in pages(app, survey)


def test_staff_publish_shows_progress_then_the_address_and_refusals_in_words(client, app):
    survey = analysed_survey(app)
    analyst = make_user("analyst")
    sign_in(client, analyst.email)
    base = f"/staff/surveys/{survey.id}/results"
    reply = post(client, f"{base}/publish", {}, token_page=base)
    assert reply.status_code == 303 and reply.location.startswith("/staff/jobs/")
    job = db.session.get(Job, int(reply.location.rsplit("/", 1)[1]))
    assert (job.kind, job.status, job.done, job.total, job.phase) == ("publish", "done", 2, 2, "Finished")
    page = text(client.get(reply.location))
    assert "<h1>Publishing the results</h1>" in page and "Published version 1." in page
    assert "/results/small/v1" in page and "Back to the draft and its versions" in page

    # Publishing again at once: the same draft is no news, but two versions of the same figures
    # are allowed; a draft of a survey with no analysis is refused in words, nothing published.
    from .factories import make_survey
    bare = make_survey(slug="bare", title="No analysis yet")
    reply = post(client, f"/staff/surveys/{bare.id}/results/publish", {}, token_page=base)
    page = text(client.get(reply.location))
    assert "The results were not published" in page and "run the analysis first" in page
    assert snapshots(bare) == []


def test_publishing_waits_while_the_analysis_of_the_survey_runs(client, app):
    survey = analysed_survey(app)
    running = Job(kind="analysis", survey_id=survey.id, status="running", done=2, total=5, attempts=1,
                  phase="Weighting and estimating", params={}, active_key=jobs.results_key(survey.id))
    db.session.add(running)
    db.session.commit()
    sign_in(client, make_user("analyst").email)
    base = f"/staff/surveys/{survey.id}/results"
    page = text(client.get(base))
    assert "The analysis is running" in page and f"/staff/jobs/{running.id}" in page
    reply = post(client, f"{base}/publish", {}, token_page=base)
    assert reply.status_code == 303 and reply.location == f"/staff/jobs/{running.id}"
    page = text(client.get(reply.location))
    assert "An analysis of this survey is already running" in page and "Nothing new was started" in page
    assert db.session.scalar(select(func.count()).select_from(Job)) == 1 and snapshots(survey) == []

    # And the analysis waits while a publication runs.
    db.session.execute(update(Job).where(Job.id == running.id).values(kind="publish", phase="Writing the files"))
    db.session.commit()
    reply = post(client, f"/staff/surveys/{survey.id}/analyze", {}, token_page=f"/staff/surveys/{survey.id}/weighting")
    assert reply.location == f"/staff/jobs/{running.id}"
    assert "This survey's results are being published" in text(client.get(reply.location))
