"""The published results page in headless Chromium: charts load, axe-core finds nothing, screenshots."""
import os

import pytest

from survey_app import publishing
from survey_app.analysis.pipeline import analyze_survey
from survey_app.cli import create_demo_survey
from survey_app.extensions import db

from .conftest import SCREENSHOTS
from .test_browser_resident import audit

pytestmark = pytest.mark.sqlite_leg  # the pages in a browser: the same on both databases


def test_results_page_renders_its_charts_and_passes_the_audit(page, live_server, app):
    from survey_app import written_coding, written_quotes
    from survey_app.written_answers import masks_of

    from .staff_helpers import make_user

    survey = create_demo_survey(responses=1500, seed=3)
    written_coding.code_demo_answers(survey)  # the themes of what residents wrote, and a quote
    question = next(q for q in survey.questions if q.code == "top_problem")
    from survey_app.models import Answer

    response_id, words = db.session.execute(db.select(Answer.response_id, Answer.text).where(
        Answer.question_id == question.id, Answer.text.like("%stop sign%"))).first()
    masks_of(question, [(response_id, words, "en")])
    written_quotes.approve(survey, question, response_id, words, make_user("editor"))
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    publishing.publish(survey, app.config["GENERATED_DIR"])

    page.goto(f"{live_server}/results/")
    assert page.get_by_role("link", name="Community Trust in Policing").is_visible()
    audit(page, "results-index")

    page.goto(f"{live_server}/results/community-trust")
    assert page.get_by_role("heading", name="Results: Community Trust in Policing").is_visible()
    images = page.locator("figure img")
    assert images.count() >= 15
    page.wait_for_load_state("networkidle")
    # Every chart loaded (an SVG that failed would have no natural size) and has its alternative.
    loaded = page.evaluate("""() => Array.from(document.querySelectorAll('figure img')).map(
        img => [img.complete && img.naturalWidth > 0, (img.getAttribute('alt') || '').length])""")
    assert all(ok and alt > 20 for ok, alt in loaded), loaded
    chart_at_its_own_address(page, live_server + images.first.get_attribute("src"))
    page.get_by_text("By district").first.click()  # a breakdown opens
    themes = page.locator("#top_problem_themes")
    assert themes.get_by_role("heading").inner_text() == question.text
    assert "written answers coded" in themes.inner_text() and "Property crime" in themes.inner_text()
    assert "Drivers run the stop sign" in themes.locator("blockquote").inner_text()  # the approved quote
    assert "only the few quotes below are published" in themes.inner_text()
    assert "never published" not in page.locator("main").inner_text()
    themes.get_by_text("By district").click()
    assert themes.get_by_role("table").nth(1).get_by_role("columnheader").count() == 6  # theme + five districts
    audit(page, "results-page")
    for width in (375, 1280):  # the themes section alone, to look at
        page.set_viewport_size({"width": width, "height": 900})
        themes.screenshot(path=os.path.join(SCREENSHOTS, f"results-themes-{width}.png"))
    # The printout: navigation hidden, every breakdown open.
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details:not([open])").count() == 0
    assert page.locator(".site-header").is_hidden()
    page.emulate_media(media="screen")

    page.goto(f"{live_server}/results/community-trust?lang=es")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Resultados: Confianza de la comunidad en la policía").is_visible()
    page.wait_for_load_state("networkidle")
    loaded = page.evaluate("""() => Array.from(document.querySelectorAll('figure img')).map(
        img => img.complete && img.naturalWidth > 0 && img.getAttribute('src').includes('/charts/es/'))""")
    assert loaded and all(loaded)
    audit(page, "results-page-es")

    page.goto(f"{live_server}/results/open-data")
    audit(page, "results-open-data")


def chart_at_its_own_address(page, url: str) -> None:
    """A chart's SVG opened on its own renders as on the page (the site's policy blocks inline
    style, which matplotlib draws with: the chart was black), with no policy violation."""
    import base64
    import os
    from io import BytesIO

    from PIL import Image

    from .conftest import SCREENSHOTS

    violations = []
    alone = page.context.new_page()  # a tab of its own, as a reader opening the chart would
    alone.on("console", lambda message: violations.append(message.text)
             if "Content Security Policy" in message.text else None)
    alone.goto(url)
    alone.wait_for_load_state("networkidle")
    assert not violations, violations
    # Straight from the DevTools protocol: Playwright's screenshot waits on document fonts, which
    # an SVG document opened on its own never reports ready here (it timed out).
    shot = base64.b64decode(alone.context.new_cdp_session(alone).send("Page.captureScreenshot", {"format": "png"})["data"])
    with open(os.path.join(SCREENSHOTS, "results-chart-alone.png"), "wb") as handle:
        handle.write(shot)
    picture = Image.open(BytesIO(shot)).convert("RGB").resize((160, 112))
    colours = picture.getcolors(160 * 112)
    share = {name: sum(n for n, rgb in colours if test(rgb)) / (160 * 112) for name, test in (
        ("black", lambda rgb: max(rgb) < 40),
        ("white", lambda rgb: min(rgb) > 235),
        ("blue", lambda rgb: rgb[2] > 120 and rgb[2] - rgb[0] > 60))}  # the house blue of the bars
    assert share["black"] < 0.05 and share["white"] > 0.5 and share["blue"] > 0.02, share
    alone.close()
