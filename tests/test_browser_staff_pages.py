"""In a real headless Chromium, as an editor: the survey page's buttons and links do not overlap at
desktop or phone width, number inputs are full size, and removing a translation goes through a
page that says what will be lost, both passing axe (WCAG 2.1 AA)."""
import re

import pytest
from playwright.sync_api import expect

from .factories import make_spanish_demo
from .staff_helpers import PASSWORD, make_user
from .test_browser_resident import audit

pytestmark = pytest.mark.sqlite_leg  # the pages in a browser: the same on both databases


def _sign_in(page, live_server, email):
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/staff/$"))


def _overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def test_the_survey_page_lays_out_without_overlaps_and_removal_asks(app, live_server, page):
    survey = make_spanish_demo()
    _sign_in(page, live_server, make_user("editor").email)
    # The dashboard: making a survey from the template asks for its title and web address.
    template = page.get_by_role("group", name=re.compile("template"))
    expect(template.get_by_label("Title")).to_have_value(re.compile(r"Community Trust in Policing \d{4}"))
    audit(page, "staff-dashboard")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/staff/surveys/{survey.id}")
        button = page.get_by_role("link", name="Preview as a resident sees it").bounding_box()
        for link in page.locator("main a").all():
            box = link.bounding_box()
            if box and link.inner_text() != "Preview as a resident sees it":
                assert not _overlap(button, box), (width, link.inner_text())
        size = page.get_by_label("Minimum cell size for published figures").bounding_box()
        assert size["width"] >= 100 and size["height"] >= 40, size
    audit(page, "staff-survey")
    page.goto(f"{live_server}/staff/surveys/{survey.id}/translations/es")
    page.locator("summary", has_text="Remove this translation").click()
    page.get_by_role("button", name="Remove the whole translation…").click()
    expect(page.get_by_role("heading", name="Remove the whole Español translation?")).to_be_visible()
    expect(page.locator("#what-is-lost")).to_contain_text("translated texts")
    audit(page, "staff-confirm-removal")
    page.goto(f"{live_server}/staff/surveys/{survey.id}/preview?page=1&lang=es&width=phone")
    expect(page.locator(".phone-frame h1")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "es"
    audit(page, "staff-preview-phone-es")
    page.goto(f"{live_server}/staff/surveys/{survey.id}/translations/es")
    page.locator("summary", has_text="Remove this translation").click()
    page.get_by_role("button", name="Remove the whole translation…").click()
    page.get_by_role("link", name="Cancel, keep it").click()
    page.wait_for_url(re.compile(r".*/translations/es$"))
    expect(page.locator(".untranslated")).to_have_count(0)  # nothing was removed


def test_the_responses_list_filters_and_passes_axe(app, live_server, page):
    from survey_app.cli import create_demo_survey

    survey = create_demo_survey(responses=120, seed=5)
    _sign_in(page, live_server, make_user("analyst").email)
    page.goto(f"{live_server}/staff/surveys/{survey.id}/responses/list")
    page.get_by_label("Mode").select_option("web")
    page.get_by_label("Which police district do you live in?").select_option(label="North")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#matching")).to_contain_text("of 120 responses match.")
    audit(page, "staff-responses-filtered")


def test_the_question_form_shows_the_settings_of_the_chosen_type(app, live_server, page):
    from .factories import make_survey

    survey = make_survey(status="draft")
    _sign_in(page, live_server, make_user("editor").email)
    page.goto(f"{live_server}/staff/surveys/{survey.id}/questions/new?type=scale")
    ranking = page.locator("fieldset.type-settings", has_text="How many places to rank")
    scale = page.locator("fieldset.type-settings", has=page.locator("legend", has_text=re.compile(r"^Scale")))
    expect(ranking).to_be_hidden()  # once the form's script (deferred) has run
    expect(scale).to_be_visible()
    page.get_by_label("Type").select_option("ranking")
    expect(ranking).to_be_visible()
    expect(page.get_by_label("How many places to rank (2 to 7, at most the number of options)")).to_have_value("3")
    audit(page, "staff-question-ranking")
