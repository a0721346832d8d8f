"""In a real headless Chromium, against a real gunicorn and job worker: a staff member imports a
20,000-row CSV, watches its progress on the job's page (updated by static/js/job.js, no reload)
and sees the outcome when it ends; axe-core audits both states and the fieldwork page."""
import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Response

from .factories import make_survey
from .staff_helpers import PASSWORD, make_user
from .test_browser_resident import audit
from .test_jobs import responses_csv

pytestmark = pytest.mark.sqlite_leg  # the pages in a browser: the same on both databases


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/staff/$"))


def test_a_large_import_shows_its_progress_then_its_outcome(real_server, job_worker, app, page, tmp_path):
    survey = make_survey()
    base = real_server.base_url
    sign_in(page, base, make_user("editor").email)

    page.goto(f"{base}/staff/surveys/{survey.id}/responses")
    big = tmp_path / "paper-forms.csv"
    big.write_bytes(responses_csv(20_000))
    page.get_by_label("Responses (CSV, UTF-8)").set_input_files(str(big))
    page.get_by_role("button", name="Check and import").click()
    page.wait_for_url(re.compile(r".*/staff/jobs/\d+$"))
    job_page = page.url
    # The page itself is not reloaded while the job runs: the script updates it.
    phase = page.locator("#job-phase")
    deadline = time.monotonic() + 60  # (the CSP forbids wait_for_function's evaluated string)
    while not re.search(r"Checking rows: [1-9][0-9,]* of 20,000", phase.text_content() or ""):
        assert time.monotonic() < deadline, phase.text_content()
        time.sleep(0.1)
    value = page.eval_on_selector("#job-progress", "bar => [bar.value, bar.max]")
    assert value[1] == 20_000 and 0 < value[0] <= 20_000, value
    audit(page, "staff-import-running")
    page.goto(job_page)  # audit() resized the page; come back to the same job
    page.get_by_text("Imported 20,000 responses").wait_for(timeout=120_000)
    audit(page, "staff-import-done")
    assert db.session.scalar(select(func.count()).select_from(Response)) == 20_000
    page.get_by_role("link", name=survey.title).click()
    expect(page.get_by_text("20,000 imported")).to_be_visible()  # waits for the page the click opens
    audit(page, "staff-fieldwork")


def test_the_analysis_runs_in_the_background_and_shows_its_stages(real_server, job_worker, app, page):
    """Weighting page, "Run the analysis now": the job's page names each stage as the worker
    reaches it (a survey of 20,000 responses, so that there is time to see one), then the outcome
    with the way to the draft; axe on both."""
    from survey_app.cli import create_demo_survey

    survey = create_demo_survey(responses=20_000, seed=7)
    base = real_server.base_url
    sign_in(page, base, make_user("analyst").email)
    page.goto(f"{base}/staff/surveys/{survey.id}/weighting")
    page.get_by_role("button", name="Run the analysis now").click()
    page.wait_for_url(re.compile(r".*/staff/jobs/\d+$"))
    job_page = page.url
    phase = page.locator("#job-phase")
    seen, audited = set(), False
    deadline = time.monotonic() + 120
    while not page.get_by_text("Review the draft and publish it").is_visible():
        assert time.monotonic() < deadline, phase.text_content() if phase.count() else page.content()[:500]
        if phase.count():
            text = phase.text_content() or ""
            seen.update(stage for stage in ("Loading the responses", "Weighting and estimating",
                                            "Drawing the charts") if stage in text)
            if seen and not audited:
                audit(page, "staff-analysis-running")
                audited = True
                page.goto(job_page)
        time.sleep(0.1)
    assert seen, "no stage of the analysis was shown while it ran"
    expect(page.get_by_text("Analysed 20,000 responses")).to_be_visible()
    audit(page, "staff-analysis-done")

    # Then publishing, also a job: from the draft's page, its steps, then the version's address.
    page.get_by_role("link", name="Review the draft and publish it").click()
    page.get_by_role("button", name="Publish as version 1").click()
    page.wait_for_url(re.compile(r".*/staff/jobs/\d+$"))
    expect(page.get_by_role("heading", name="Publishing the results")).to_be_visible()
    expect(page.get_by_text("Published version 1.")).to_be_visible(timeout=60_000)
    audit(page, "staff-publish-done")
    address = page.get_by_role("link", name=re.compile(r"results.[a-z0-9-]+.v1$"))
    assert address.get_attribute("href").endswith(f"/results/{survey.slug}/v1")
    page.goto(f"{base}/results/{survey.slug}/v1")
    expect(page.get_by_role("heading", level=1)).to_contain_text(survey.title)


def test_an_admin_backs_up_a_survey_and_downloads_it(real_server, job_worker, app, page):
    """The survey page's backup button, as an admin: the job's page, then the file to download."""
    from survey_app.cli import create_demo_survey

    survey = create_demo_survey(responses=3_000, seed=9)
    base = real_server.base_url
    sign_in(page, base, make_user("admin").email)
    page.goto(f"{base}/staff/surveys/{survey.id}")
    page.get_by_role("button", name="Back up the survey with every response").click()
    page.wait_for_url(re.compile(r".*/staff/jobs/\d+$"))
    expect(page.get_by_role("heading", name="Backup of the survey")).to_be_visible()
    expect(page.get_by_text("The backup holds the survey and its 3,000 responses")).to_be_visible(timeout=60_000)
    audit(page, "staff-backup-done")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the backup").click()
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert len(lines) == 3_001 and download.value.suggested_filename.startswith(f"{survey.slug}-backup-")
