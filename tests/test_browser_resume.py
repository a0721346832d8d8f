"""Resume links in headless Chromium: the code after '#' is put into the form by resume.js (and
taken out of the address bar), the resident presses Continue, and a browser with answers of its
own is asked which to keep; an invitation's answers saved elsewhere ask for their resume code.
axe-core audits and screenshots of each page (instance/screenshots/)."""
import re
from urllib.parse import urlsplit

import pytest

from survey_app import invitations
from survey_app.extensions import db

from .factories import make_survey
from .test_browser_resident import audit

pytestmark = pytest.mark.sqlite_leg  # the pages in a browser: the same on both databases


def answer_first_page(page) -> None:
    page.get_by_role("group", name=re.compile("I trust the police")).get_by_label("Agree", exact=True).check()
    page.get_by_label(re.compile("District")).select_option(label="South")


def test_a_resume_link_fills_the_form_and_asks_before_replacing_a_draft(page, chromium, live_server, app):
    make_survey()
    base = f"{live_server}/s/small"
    other = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        sender = other.new_page()
        sender.goto(base)
        sender.get_by_role("button", name="Start the survey").click()
        sender.get_by_role("button", name="Save and finish later").click()
        link = sender.locator("a[href*='/resume#']").get_attribute("href")
        code = sender.locator(".resume-code strong").inner_text()
        assert link.endswith(f"/s/small/resume#{code}")
    finally:
        other.close()

    # The resident is on page 2 of their own answers when they open the link.
    page.goto(base)
    page.get_by_role("button", name="Start the survey").click()
    answer_first_page(page)
    page.get_by_role("button", name="Next").click()
    assert page.get_by_text("Page 2 of 2").is_visible()
    address = urlsplit(link)  # the site's public address (PUBLIC_BASE_URL): here, the live server
    page.goto(f"{live_server}{address.path}#{address.fragment}")
    assert page.get_by_label("Your resume code").input_value() == code
    assert "#" not in page.url  # taken out of the address bar and the history
    audit(page, "resident-resume-link")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", name="You already have answers in progress").is_visible()
    audit(page, "resident-choose-draft")
    page.get_by_role("link", name="Keep mine").click()
    assert page.get_by_text("Page 2 of 2").is_visible()


def test_an_invitation_started_elsewhere_asks_for_the_resume_code(page, chromium, live_server, app):
    survey = make_survey(access_mode="invitation")
    _, codes = invitations.generate(survey, 1)
    db.session.commit()
    base = f"{live_server}/s/small"
    first = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        laptop = first.new_page()
        laptop.goto(base)
        laptop.get_by_label("Your invitation code").fill(codes[0])
        laptop.get_by_role("button", name="Start the survey").click()
        answer_first_page(laptop)
        laptop.get_by_role("button", name="Save and finish later").click()
        resume_code = laptop.locator(".resume-code strong").inner_text()
        audit(laptop, "resident-saved-invitation")
    finally:
        first.close()
    page.goto(base)
    page.get_by_label("Your invitation code").fill(codes[0])
    page.get_by_role("button", name="Start the survey").click()
    assert page.get_by_role("heading", name=re.compile("started on another device")).is_visible()
    audit(page, "resident-invitation-elsewhere")
    page.get_by_label("Your resume code").fill(resume_code)
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("group", name=re.compile("I trust the police")).get_by_label(
        "Agree", exact=True).is_checked()
