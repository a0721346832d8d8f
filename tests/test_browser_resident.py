"""A resident in headless Chromium: the demo survey in Spanish, page by page with display logic,
Back, finish later and resume on another device; an axe-core audit of every resident page, and
screenshots at 375 px and 1280 px (instance/screenshots/)."""
import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from survey_app import invitations
from survey_app.extensions import db
from survey_app.models import Answer, Question, Response

from .conftest import screenshot
from .factories import make_spanish_demo, make_survey

pytestmark = pytest.mark.sqlite_leg  # the pages in a browser: the same on both databases

# WCAG 2.0 and 2.1, levels A and AA, plus axe's best practices (landmarks, headings).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


# Links, buttons and fields whose boxes (each line's box, for a link broken across lines) cross
# another's by more than a pixel or two: one drawn over the other, as a wrapped button over its
# neighbour was. Nested controls (a link in a label) and hidden ones (1 px) do not count.
OVERLAPPING_CONTROLS = """() => {
  const controls = Array.from(document.querySelectorAll('a[href], button, input, select, textarea, summary'))
    .filter(el => el.checkVisibility({visibilityProperty: true}));  // not in a closed <details>, not hidden
  const boxes = [];
  for (const el of controls) {
    for (const r of el.getClientRects()) {
      if (r.width > 2 && r.height > 2) boxes.push([el, r]);
    }
  }
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, r] = boxes[i], [b, q] = boxes[j];
      if (a === b || a.contains(b) || b.contains(a)) continue;
      const w = Math.min(r.right, q.right) - Math.max(r.left, q.left);
      const h = Math.min(r.bottom, q.bottom) - Math.max(r.top, q.top);
      if (w > 2 && h > 2) found.push([a.outerHTML.slice(0, 80), b.outerHTML.slice(0, 80)]);
    }
  }
  return found.slice(0, 5);
}"""


def audit(page, name: str) -> None:
    """No axe-core violations on the page as it is now; then screenshots at phone and desktop width,
    with no controls drawn over one another at either, and no sideways scrolling at 320 px (WCAG
    1.4.10, reflow: what 400% zoom of 1280 px gives)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                  for v in results.response["violations"]]
    assert violations == [], f"{name}: {violations}"
    for width in (375, 1280):
        screenshot(page, f"{name}-{width}", width=width)
        page.set_viewport_size({"width": width, "height": 900})
        overlaps = page.evaluate(OVERLAPPING_CONTROLS)
        assert overlaps == [], f"{name}: controls drawn over one another at {width}px: {overlaps}"
    page.set_viewport_size({"width": 320, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{name}: scrolls sideways by {overflow}px at 320px"
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def spanish_demo(app):
    return make_spanish_demo()


def choose(page, legend: str, label: str) -> None:
    page.get_by_role("group", name=re.compile(re.escape(legend))).get_by_label(label, exact=True).check()


def test_resident_answers_in_spanish_goes_back_and_resumes_later(page, chromium, live_server, spanish_demo):
    base = f"{live_server}/s/community-trust"
    page.goto(f"{base}?lang=es")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.get_by_role("heading", name="Confianza de la comunidad en la policía").is_visible()
    audit(page, "resident-welcome-es")
    page.get_by_role("button", name="Comenzar la encuesta").click()

    # Page 1: submitting empty shows the error summary, focused, in Spanish.
    assert page.get_by_text("Página 1 de 4").is_visible()
    audit(page, "resident-page-es")
    page.get_by_role("button", name="Siguiente").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "Hay 8 problemas con sus respuestas" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    audit(page, "resident-page-errors-es")
    # The summary's links lead to the fields.
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "q_trust_overall-first"
    # Keyboard: arrow keys move along a radio group.
    page.keyboard.press("ArrowDown")
    assert page.locator("#q_trust_overall-first").is_checked() is False
    for legend in ("En general, confío", "Confío en que la policía", "La policía trata con respeto",
                   "La policía se toma el tiempo", "La policía toma decisiones", "Cuando la policía actúa",
                   "La policía trata a las personas de forma distinta", "La policía hace un buen trabajo al atender"):
        choose(page, legend, "De acuerdo")
    page.get_by_role("button", name="Siguiente").click()

    # Page 2.
    assert page.get_by_text("Página 2 de 4").is_visible()
    choose(page, "durante el día", "Muy seguro/a")
    choose(page, "de noche", "Algo inseguro/a")
    choose(page, "Si viera que se comete un delito", "Muy de acuerdo")
    choose(page, "Colaboraría con la policía", "De acuerdo")
    page.get_by_role("button", name="Siguiente").click()

    # Page 3: display logic in the browser, then Back keeps the answers.
    assert page.get_by_text("Página 3 de 4").is_visible()
    kinds = page.get_by_role("group", name=re.compile("Qué tipo de contacto"))
    expect(kinds).to_be_hidden()  # waits for logic.js, which runs deferred after the page loads
    choose(page, "En los últimos 12 meses", "Sí")
    assert kinds.is_visible()
    choose(page, "En los últimos 12 meses", "No")
    assert kinds.is_hidden()
    choose(page, "En los últimos 12 meses", "Sí")
    kinds.get_by_label("Llamé a la policía para pedir ayuda o para denunciar algo").check()
    choose(page, "Qué tan satisfecho", "Satisfecho/a")
    audit(page, "resident-page-logic-es")
    page.get_by_role("button", name="Atrás").click()
    assert page.get_by_text("Página 2 de 4").is_visible()
    assert page.get_by_role("group", name=re.compile("de noche")).get_by_label("Algo inseguro/a").is_checked()
    page.get_by_role("button", name="Siguiente").click()
    assert page.get_by_role("group", name=re.compile("En los últimos 12 meses")).get_by_label("Sí").is_checked()
    assert kinds.get_by_label("Llamé a la policía para pedir ayuda o para denunciar algo").is_checked()

    # Finish later: the code, then another device.
    page.get_by_role("button", name="Guardar y terminar más tarde").click()
    assert page.get_by_role("heading", name="Sus respuestas están guardadas").is_visible()
    audit(page, "resident-saved-es")
    code = page.locator(".resume-code strong").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)

    other_device = chromium.new_context(viewport={"width": 375, "height": 800}, locale="es-MX")
    try:
        phone = other_device.new_page()
        phone.set_default_timeout(15_000)
        phone.goto(f"{base}/resume")
        assert phone.locator("html").get_attribute("lang") == "es"  # the phone's language
        phone.get_by_label("Su código para retomar").fill("nada")
        phone.get_by_role("button", name="Continuar").click()
        assert phone.locator(".error-summary").is_visible()
        audit(phone, "resident-resume-error-es")
        phone.get_by_label("Su código para retomar").fill(code.lower())
        phone.get_by_role("button", name="Continuar").click()
        assert phone.get_by_text("Página 3 de 4").is_visible()
        assert phone.get_by_role("group", name=re.compile("En los últimos 12 meses")).get_by_label("Sí").is_checked()
        phone.get_by_role("button", name="Siguiente").click()
        assert phone.get_by_text("Página 4 de 4").is_visible()
        phone.get_by_label(re.compile("En qué distrito policial vive")).select_option(label="Este")
        choose(phone, "Cuántos años tiene", "35-44")
        choose(phone, "Cuál es su género", "Mujer")
        choose(phone, "Qué grupo lo", "Prefiero no decirlo")
        phone.get_by_label(re.compile("Cuántos años ha vivido en la ciudad")).fill("12")
        audit(phone, "resident-last-page-es")
        phone.get_by_role("button", name="Enviar mis respuestas").click()
        assert phone.get_by_role("heading", name="Gracias").is_visible()
        audit(phone, "resident-thanks-es")
        # This browser has answered: the survey says so instead of starting again.
        phone.goto(base)
        assert phone.get_by_role("heading", name="Usted ya respondió").is_visible()
        audit(phone, "resident-answered-es")
    finally:
        other_device.close()

    db.session.expire_all()
    stored = db.session.scalars(select(Response)).one()
    assert (stored.language, stored.mode) == ("es", "web")
    codes = dict(db.session.execute(select(Question.code, Answer.value).join(Answer)
                                    .where(Answer.response_id == stored.id)).all())
    assert codes["trust_overall"] == 4 and codes["safe_night"] == 3 and codes["contact_12m"] == 1
    assert codes["contact_type"] == 0b1 and codes["contact_satisfaction"] == 4 and codes["district"] == 3
    assert codes["race_ethnicity"] == -2


def test_every_other_resident_page_passes_an_accessibility_audit(page, live_server, spanish_demo):
    invited = make_survey(slug="invited", title="Invited survey", access_mode="invitation")
    invitations.generate(invited, 1)
    make_survey(slug="closed", title="Closed survey", status="closed")
    make_survey(slug="later", title="Later survey",
                opens_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=5))
    db.session.commit()
    for name, path in (("home", "/"), ("home-es", "/?lang=es"), ("privacy", "/s/community-trust/privacy"),
                       ("privacy-invitation-es", "/s/invited/privacy?lang=es"), ("welcome-invitation", "/s/invited"),
                       ("closed", "/s/closed"), ("not-open", "/s/later"), ("not-found", "/s/nothing-here"),
                       ("resume", "/s/community-trust/resume")):
        page.goto(live_server + path)
        audit(page, f"resident-{name}")
    # The invitation page with a wrong code: the error is announced and linked to the field.
    page.goto(f"{live_server}/s/invited")
    page.get_by_label("Your invitation code").fill("AAAA-BBBB-CCCC")
    page.get_by_role("button", name="Start the survey").click()
    assert "could not find that code" in page.locator(".error-summary").inner_text()
    assert page.get_by_label("Your invitation code").input_value() == "AAAA-BBBB-CCCC"
    audit(page, "resident-welcome-invitation-error")


def test_an_expired_page_keeps_what_was_typed(page, live_server, app):
    make_survey()
    page.goto(f"{live_server}/s/small")
    page.get_by_role("button", name="Start the survey").click()
    page.get_by_role("group", name=re.compile("I trust the police")).get_by_label("Agree", exact=True).check()
    page.get_by_label(re.compile("District")).select_option(label="South")
    page.get_by_role("button", name="Next").click()
    page.get_by_label(re.compile("Anything else")).fill("Lights out")
    # The session (and with it the form's security token) ends, e.g. the browser was restarted.
    page.context.clear_cookies(name="session")
    page.get_by_role("button", name="Submit my answers").click()
    assert page.get_by_role("heading", name="Please press the button again").is_visible()
    assert page.get_by_label(re.compile("Anything else")).input_value() == "Lights out"
    audit(page, "resident-page-expired")
    page.get_by_role("button", name="Submit my answers").click()
    assert page.get_by_role("heading", name="Thank you").is_visible()
    db.session.expire_all()
    assert len(db.session.scalars(select(Response)).all()) == 1


def test_the_audit_catches_what_it_should(page, live_server, spanish_demo):
    """The audit is not a formality: a page with an unlabelled field and an image without a text
    alternative fails it (so the passes above mean something)."""
    page.goto(f"{live_server}/s/community-trust/privacy")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<img src="/static/none.png"><input type="text" name="x">');
    }""")
    with pytest.raises(AssertionError) as failure:
        audit(page, "deliberately-broken")
    assert "image-alt" in str(failure.value) and "label" in str(failure.value)
