"""In a real headless Chromium: a resident answers a 0-10 scale on a phone, a later question
shown only for low scores appears and goes as the answer changes (static/js/logic.js reads the
widget the type names), and axe-core finds nothing on the page."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer

from .factories import make_survey
from .test_browser_resident import audit

pytestmark = pytest.mark.sqlite_leg  # the pages in a browser: the same on both databases

SCORE_FOLLOW_UP = {"slug": "score", "title": "Trust score", "pages": [{"title": "Your view", "questions": [
    {"code": "trust_score", "type": "scale_0_10", "text": "How much do you trust the police, 0 to 10?",
     "required": True, "config": {"low_label": "Not at all", "high_label": "Completely", "dont_know": True}},
    {"code": "why_low", "type": "text", "text": "What would raise your trust?",
     "display_condition": {"question": "trust_score", "in": [0, 1, 2, 3, 4]}},
]}]}


def test_a_resident_answers_a_0_10_scale_and_display_logic_follows(app, live_server, page):
    make_survey(SCORE_FOLLOW_UP)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server}/s/score")
    page.get_by_role("button", name="Start the survey").click()
    follow_up = page.locator('[data-question="why_low"]')
    expect(follow_up).to_be_hidden()  # waits for logic.js, which runs deferred after the page loads
    group = page.get_by_role("group", name=re.compile("How much do you trust"))
    group.get_by_label("2", exact=True).check()
    assert follow_up.is_visible()
    group.get_by_label("10 – Completely").check()
    assert follow_up.is_hidden()
    group.get_by_label("0 – Not at all").check()
    assert follow_up.is_visible()
    audit(page, "resident-0-10-scale")
    page.get_by_label("What would raise your trust?").fill("Faster answers when we call")
    page.get_by_role("button", name=re.compile("Submit|Send")).click()
    page.wait_for_url(re.compile(r".*/thanks$"))
    assert sorted(a.value for a in db.session.scalars(select(Answer)) if a.value is not None) == [0]


RANKING = {"slug": "rank", "title": "Priorities", "pages": [{"title": "What matters", "questions": [
    {"code": "priority", "type": "ranking", "text": "What should the police focus on?", "required": True,
     "config": {"ranks": 3}, "options": [{"code": c, "label": label} for c, label in enumerate(
         ["Speeding and traffic", "Burglary", "Drugs", "Violence", "Youth"], start=1)]},
]}]}


def test_a_resident_ranks_on_a_phone_with_the_select_boxes(app, live_server, page):
    from survey_app.questionnaire.question_types.ranking import pack

    make_survey(RANKING)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server}/s/rank")
    page.get_by_role("button", name="Start the survey").click()
    group = page.get_by_role("group", name=re.compile("What should the police focus on"))
    group.get_by_label("1st choice").select_option(label="Drugs")
    group.get_by_label("2nd choice").select_option(label="Drugs")  # twice: refused in words
    page.get_by_role("button", name=re.compile("Submit|Send")).click()
    expect(page.locator(".error-summary")).to_contain_text("Please choose each answer only once.")
    assert group.get_by_label("1st choice").input_value() != ""  # the choices are kept
    audit(page, "resident-ranking-error")
    page.locator(".error-summary a").first.click()
    expect(group.get_by_label("1st choice")).to_be_focused()
    group.get_by_label("2nd choice").select_option(label="Speeding and traffic")
    group.get_by_label("3rd choice").select_option(label="Youth")
    audit(page, "resident-ranking")
    page.get_by_role("button", name=re.compile("Submit|Send")).click()
    page.wait_for_url(re.compile(r".*/thanks$"))
    assert [a.value for a in db.session.scalars(select(Answer))] == [pack([3, 1, 5])]
