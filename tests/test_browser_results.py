"""The published results page in headless Chromium: charts load, axe-core finds nothing, screenshots."""
from survey_app import publishing
from survey_app.analysis.pipeline import analyze_survey
from survey_app.cli import create_demo_survey
from survey_app.extensions import db

from .test_browser_resident import audit


def test_results_page_renders_its_charts_and_passes_the_audit(page, live_server, app):
    survey = create_demo_survey(responses=1500, seed=3)
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
    page.get_by_text("By district").first.click()  # a breakdown opens
    audit(page, "results-page")
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
