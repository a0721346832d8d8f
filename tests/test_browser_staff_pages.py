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


# Staff routes that are not pages a person reads: files, a JSON state, a chart image; the second
# sign-in step (needs a half-finished sign-in: audited in test_two_factor's browser walk); a job's
# page (audited while an import, an analysis, a publication and a backup run, tests/test_browser_jobs.py).
NOT_PAGES = {"staff.export_survey", "staff.import_template", "staff.job_state", "staff.results_draft_chart",
             "staff.login_code", "staff.job", "staff.login", "staff.download_backup"}


def test_every_staff_page_passes_axe_at_phone_and_desktop_width(app, live_server, page):
    """Every page staff can open, as an administrator (who sees them all), on a survey with
    responses, a translation and draft results: axe (WCAG 2.1 AA), no sideways scrolling at
    320 px, screenshots at 375 and 1280. A staff page added later without a visit here fails."""
    from survey_app.analysis.pipeline import analyze_survey
    from survey_app.extensions import db
    from survey_app.models import Question, Response

    from survey_app.cli import create_demo_survey

    survey = with_responses = create_demo_survey(responses=150, seed=3)  # in English and Spanish
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    question = db.session.scalars(db.select(Question).where(Question.survey_id == survey.id)).first()
    response = db.session.scalars(db.select(Response).where(Response.survey_id == with_responses.id)).first()
    from survey_app import written_coding
    from survey_app.models import Answer

    written_coding.code_demo_answers(with_responses)  # the codebook, codings and a second coding to show
    written = db.session.scalars(db.select(Answer.response_id).join(Question).where(
        Question.survey_id == with_responses.id, Question.code == "top_problem")).first()
    page.goto(f"{live_server}/staff/login")
    audit(page, "staff-all-login")
    _sign_in(page, live_server, make_user("admin").email)
    visits = {
        "staff.dashboard": "/staff/",
        "staff.password": "/staff/account/password",
        "staff.two_factor": "/staff/account/two-factor",
        "staff.audit_log": "/staff/audit",
        "staff.users": "/staff/users",
        "staff.new_bank_item": "/staff/bank/new",
        "staff.import_survey": "/staff/surveys/import",
        "staff.survey": f"/staff/surveys/{survey.id}",
        "staff.question_bank": f"/staff/surveys/{survey.id}/bank",
        "staff.preview": f"/staff/surveys/{survey.id}/preview",
        "staff.edit_question": f"/staff/surveys/{survey.id}/questions/{question.id}",
        "staff.new_question": f"/staff/surveys/{survey.id}/questions/new",
        "staff.translations": f"/staff/surveys/{survey.id}/translations/es",
        "staff.responses": f"/staff/surveys/{with_responses.id}/responses",
        "staff.response_list": f"/staff/surveys/{with_responses.id}/responses/list",
        "staff.response_detail": f"/staff/surveys/{with_responses.id}/responses/{response.id}",
        "staff.remove_response": f"/staff/surveys/{with_responses.id}/responses/{response.id}/remove",
        "staff.enter_response": f"/staff/surveys/{with_responses.id}/responses/new/paper",
        "staff.weighting": f"/staff/surveys/{with_responses.id}/weighting",
        "staff.results": f"/staff/surveys/{with_responses.id}/results",
        "staff.results_draft": f"/staff/surveys/{with_responses.id}/results/draft",
        "staff.written_answers": f"/staff/surveys/{with_responses.id}/written/top_problem",
        "staff.written_masks": f"/staff/surveys/{with_responses.id}/written/top_problem/{written}/masks",
        "staff.codebook": f"/staff/surveys/{with_responses.id}/written/top_problem/codebook",
        "staff.coding_page": f"/staff/surveys/{with_responses.id}/written/top_problem/coding",
        "staff.coding_check": f"/staff/surveys/{with_responses.id}/written/top_problem/check",
        "staff.coding_agreement": f"/staff/surveys/{with_responses.id}/written/top_problem/agreement",
    }
    staff_pages = {rule.endpoint for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("staff.") and "GET" in rule.methods}
    assert staff_pages - NOT_PAGES == set(visits), "a staff page is neither audited here nor listed in NOT_PAGES"
    for endpoint, path in visits.items():
        page.goto(f"{live_server}{path}")
        expect(page.locator("main h1")).to_be_visible()
        assert page.url.endswith(path), (endpoint, page.url)  # the page itself, not a redirect
        audit(page, "staff-all-" + endpoint.removeprefix("staff.").replace("_", "-"))


def test_reading_what_residents_wrote_searching_and_filtering(app, live_server, page):
    """An editor opens the written answers from the fieldwork page, searches a word and narrows
    to one district, as a staff member would; the words found are marked; axe on the result."""
    from survey_app.cli import create_demo_survey

    survey = create_demo_survey(responses=300, seed=11)
    _sign_in(page, live_server, make_user("editor").email)
    page.goto(f"{live_server}/staff/surveys/{survey.id}/responses")
    page.get_by_role("link", name="What is the most important safety problem in your neighbourhood?").click()
    expect(page.get_by_role("heading", name="What residents wrote")).to_be_visible()
    page.get_by_label("Which police district do you live in?").select_option(label="North")
    page.get_by_role("button", name="Show").click()
    first = page.locator(".written-answers blockquote").first.inner_text()  # an answer from the North
    word = max(re.findall(r"[A-Za-z]+", re.sub(r"\[\w+\]", "", first)), key=len)  # not a mask's [name]
    page.get_by_label("Answers containing").fill(word)
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#matching")).to_contain_text("answers match.")
    assert word.lower() in page.locator(".written-answers mark").first.inner_text().lower()
    assert word not in page.url  # posted: the words stay out of the address
    audit(page, "staff-written-answers-searched")


def test_coding_a_batch_as_a_staff_member_would(app, live_server, page):
    """An editor starts the codebook from the bank's suggestion, codes answers one after another
    with the keyboard (a number ticks a theme, Enter saves and shows the next), codes a search's
    answers in bulk, then finds each answer's themes on the reading page; axe on each page."""
    from survey_app import written_coding
    from survey_app.cli import create_demo_survey
    from survey_app.extensions import db
    from survey_app.models import Question

    survey = create_demo_survey(responses=300, seed=12)
    question = db.session.scalar(db.select(Question).where(Question.survey_id == survey.id,
                                                           Question.code == "top_problem"))
    _sign_in(page, live_server, make_user("editor").email)
    page.goto(f"{live_server}/staff/surveys/{survey.id}/written/top_problem")
    page.get_by_role("link", name="Codebook").click()
    page.get_by_role("button", name="Start from the suggested codebook").click()
    expect(page.get_by_label("Theme 1", exact=True)).to_have_value("Speeding and traffic")
    expect(page.get_by_label("Theme 2", exact=True)).to_have_value("Drugs")
    audit(page, "staff-codebook")

    page.get_by_role("link", name="Code answers").click()
    expect(page.get_by_role("heading", name="Code answers")).to_be_visible()
    audit(page, "staff-coding")
    coded = []
    for _ in range(5):
        answer = page.locator("#answer-text").inner_text()
        response_id = int(page.locator("input[name=response_id]").get_attribute("value"))
        # The keys work once coding.js has run (it is deferred; Enter's new page may still be loading).
        expect(page.locator("form[data-coding][data-keys-ready]")).to_be_attached()
        page.locator("body").press("2")  # Drugs
        page.locator("body").press("8")  # Lighting and environment
        expect(page.get_by_label("Drugs")).to_be_checked()
        page.keyboard.press("Enter")
        expect(page.locator("input[name=response_id]")).not_to_have_value(str(response_id))
        coded.append((response_id, answer))
    # Enter on a link follows it: the answer on the page is not saved by it.
    waiting = int(page.locator("input[name=response_id]").get_attribute("value"))
    expect(page.locator("form[data-coding][data-keys-ready]")).to_be_attached()
    page.locator("body").press("2")
    page.get_by_role("navigation", name="This written question").get_by_role("link", name="Codebook").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Codebook")).to_be_visible()
    numbers = {t.label: t.number for t in written_coding.themes(question)}
    db.session.expire_all()
    given = written_coding.effective_codings(question.id)
    assert [given.get(r) for r, _ in coded] == [sorted([numbers["Drugs"], numbers["Lighting and environment"]])] * 5
    assert waiting not in given
    page.go_back()

    # In bulk: every answer that mentions "speeding", as Speeding and traffic.
    page.get_by_role("link", name="Read the answers").click()
    page.get_by_label("Answers containing").fill("speeding")
    page.get_by_role("button", name="Show").click()
    found = page.locator("#matching").inner_text()
    # Back from an answer's whole response: the same search, not a form to send again.
    page.locator(".written-answers").get_by_role("link", name=re.compile("^The whole response")).first.click()
    expect(page.get_by_role("heading", name=re.compile("^Response of"))).to_be_visible()
    page.go_back()
    expect(page.locator("#matching")).to_have_text(found)
    page.get_by_label("Give them the theme").select_option(label="Speeding and traffic")
    page.get_by_role("button", name=re.compile(r"^Code all \d+")).click()
    expect(page.get_by_role("group", name="Give “Speeding and traffic” to the answers found?")).to_be_visible()
    audit(page, "staff-written-bulk-confirm")
    page.get_by_role("button", name=re.compile(r"^Give “Speeding and traffic” to [\d,]+ answers")).click()
    expect(page.get_by_text(re.compile(r"Gave “Speeding and traffic” to"))).to_be_visible()
    expect(page.locator(".written-answers").get_by_text("Themes: Speeding and traffic").first).to_be_visible()
    audit(page, "staff-written-coded")
    db.session.expire_all()
    speeding = [r for r, themes in written_coding.effective_codings(question.id).items()
                if numbers["Speeding and traffic"] in themes]
    assert len(speeding) == int(found.split()[0].replace(",", ""))
