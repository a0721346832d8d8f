"""In a real headless Chromium: an editor builds a small survey from the question bank, previews it
(display logic hiding and showing a question as a resident answers) and opens it."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Survey

from .conftest import screenshot
from .staff_helpers import PASSWORD, make_user
from .test_browser_resident import audit

pytestmark = pytest.mark.sqlite_leg  # the pages in a browser: the same on both databases


def test_editor_builds_previews_and_opens_a_survey(app, live_server, page):
    editor = make_user("editor")
    page.goto(f"{live_server}/staff/")
    assert "/staff/login" in page.url  # not signed in: sent to sign-in
    page.get_by_label("Email").fill(editor.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/staff/$"))

    blank = page.get_by_role("group", name="Or start a blank survey")
    blank.get_by_label("Title").fill("Neighbourhood pulse")
    blank.get_by_label("Web address name").fill("pulse")
    page.get_by_role("button", name="Create blank survey").click()
    page.wait_for_url(re.compile(r".*/staff/surveys/\d+"))

    page.get_by_role("link", name="Add questions from the question bank").click()
    page.get_by_label("Overall, I trust the police in my city.").check()
    page.get_by_label("In the past 12 months, have you had any contact with the police in the city?").check()
    page.get_by_label("How satisfied were you with the way the police handled it?").check()
    page.get_by_role("button", name="Add the chosen questions").click()
    page.wait_for_url(re.compile(r".*/staff/surveys/\d+"))
    assert page.get_by_text("Added 3 question(s) from the bank.").is_visible()

    # Show the satisfaction question only to those who had contact.
    survey = db.session.scalar(select(Survey).where(Survey.slug == "pulse"))
    satisfaction = next(q for q in survey.questions if q.code == "contact_satisfaction")
    page.goto(f"{live_server}/staff/surveys/{survey.id}/questions/{satisfaction.id}")
    # With the rule builder, no JSON: the question, the test, the answer.
    page.get_by_label("Only when the rules below hold").check()
    rule = page.get_by_role("group", name="Rule 1")
    rule.get_by_label("Question").select_option("contact_12m")
    rule.get_by_label("Test").select_option("is")
    rule.get_by_label("Answers (for").select_option(label="Yes")
    audit(page, "staff-logic-builder")
    page.get_by_role("button", name="Save question").click()
    page.wait_for_url(re.compile(r".*/staff/surveys/\d+"))
    expect(page.get_by_text("Shown only when “In the past 12 months, have you had any contact with the police "
                            "in the city?” is “Yes”.")).to_be_visible()

    page.get_by_role("link", name="Preview as a resident sees it").click()
    assert page.get_by_text("This is what residents see").is_visible()
    question = page.locator('[data-question="contact_satisfaction"]')
    expect(question).to_be_hidden()  # nothing answered yet (once logic.js, deferred, has run)
    page.get_by_label("Yes").check()
    assert question.is_visible()
    page.get_by_label("No", exact=True).check()
    assert question.is_hidden()
    screenshot(page, "designer-preview-1280")

    page.goto(f"{live_server}/staff/surveys/{survey.id}")
    page.get_by_label("Status", exact=True).select_option("open")
    page.get_by_role("button", name="Change status").click()
    assert page.get_by_text("The survey is now open.").is_visible()
    page.goto(f"{live_server}/s/pulse")
    assert page.get_by_role("heading", name="Neighbourhood pulse").is_visible()
    page.get_by_role("button", name="Start the survey").click()
    assert page.get_by_text("Overall, I trust the police in my city.").is_visible()
    db.session.expire_all()
    assert db.session.scalar(select(Survey.status).where(Survey.slug == "pulse")) == "open"
