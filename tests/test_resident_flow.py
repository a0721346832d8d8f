"""Residents answer page by page: Back, finish later, languages, once per browser, rate limits."""
import html
import re

import pytest
from sqlalchemy import func, select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import Response, ResponseDraft
from survey_app.questionnaire.definition import survey_from_definition
from survey_app.rate_limits import rate_limits

from .conftest import make_test_config
from .factories import (
    CSRF_PATTERN,
    count_rows,
    make_spanish_demo,
    make_survey,
    option_id,
    post_page,
    start,
    submit,
    valid_answers,
)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def responses() -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def checked(page: str, value) -> bool:
    return re.search(rf'value="{value}"[^>]*\s+checked>', page) is not None


def test_back_keeps_answers_on_both_pages(client, app):
    survey = make_survey()
    data = valid_answers(survey)
    start(client, survey)
    assert post_page(client, survey, 1, data).headers["Location"].endswith("/page/2")
    # On page 2: type something, then go Back without submitting.
    response = post_page(client, survey, 2, {"q_years": "7", "q_comment": "Half typed"}, action="back")
    assert response.status_code == 303 and response.headers["Location"].endswith("/page/1")
    page1 = text(client.get("/s/small/page/1"))
    assert checked(page1, data["q_trust"]) and checked(page1, data["q_contact"])
    assert re.search(rf'<option value="{data["q_district"]}"[^>]* selected>', page1)
    # Forward again: page 2 still holds what was typed before Back.
    post_page(client, survey, 1, data)
    page2 = text(client.get("/s/small/page/2"))
    assert 'value="7"' in page2 and "Half typed</textarea>" in page2
    assert count_rows() == (0, 0)  # nothing is a response until it is submitted


def test_pages_cannot_be_skipped(client, app):
    survey = make_survey()
    start(client, survey)
    response = client.get("/s/small/page/2")
    assert response.status_code == 302 and response.headers["Location"].endswith("/s/small/page/1")
    assert client.get("/s/small/page/9").status_code == 404


def test_without_a_draft_the_resident_is_sent_to_the_start(client, app):
    make_survey()
    response = client.get("/s/small/page/1")
    assert response.status_code == 303 and response.headers["Location"].endswith("/s/small")
    assert "were not found in this browser" in text(client.get("/s/small"))


def test_finish_later_with_the_code_on_another_device(client, app):
    survey = make_survey()
    data = valid_answers(survey)
    start(client, survey)
    post_page(client, survey, 1, data)
    response = post_page(client, survey, 2, {"q_years": "33"}, action="save")
    assert response.headers["Location"].endswith("/s/small/saved")
    saved = text(client.get("/s/small/saved"))
    code = re.search(r"<strong>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</strong>", saved).group(1)
    # The code is after the '#' of the link, a part browsers never send (no log holds it).
    link = re.search(r'href="(http://localhost/s/small/resume#[^"]+)"', saved).group(1)
    assert link.endswith("#" + code)

    # The same browser goes straight back.
    welcome = text(client.get("/s/small"))
    assert "Continue where you left off" in welcome

    # Another device: a wrong code is explained, the right one (typed loosely) continues.
    other = app.test_client()
    token = CSRF_PATTERN.search(other.get("/s/small/resume").get_data(as_text=True)).group(1)
    wrong = other.post("/s/small/resume", data={"csrf_token": token, "code": "0000-0000-0000"})
    assert wrong.status_code == 422 and "could not find answers saved with that code" in text(wrong)
    bad = other.post("/s/small/resume", data={"csrf_token": token, "code": "nope"})
    assert bad.status_code == 422 and "has 12 letters and numbers" in text(bad)
    loose = code.lower().replace("-", " ").replace("0", "o")
    response = other.post("/s/small/resume", data={"csrf_token": token, "code": loose})
    assert response.status_code == 303 and response.headers["Location"].endswith("/s/small/page/2")
    page2 = text(other.get("/s/small/page/2"))
    assert 'value="33"' in page2
    response = post_page(other, survey, 2, {"q_years": "33"})
    assert response.headers["Location"].endswith("/s/small/thanks")
    assert responses() == 1
    assert db.session.scalar(select(func.count()).select_from(ResponseDraft)) == 0
    # The code was for answers in progress: once submitted it opens nothing, on any device.
    again = app.test_client()
    token = CSRF_PATTERN.search(again.get("/s/small/resume").get_data(as_text=True)).group(1)
    assert again.post("/s/small/resume", data={"csrf_token": token, "code": code}).status_code == 422
    first = client.get("/s/small/page/2")
    assert first.status_code == 303  # the first browser's draft is gone too
    assert responses() == 1


def test_resubmitting_the_last_page_stores_once(client, app):
    survey = make_survey()
    data = valid_answers(survey)
    start(client, survey)
    post_page(client, survey, 1, data)
    token = CSRF_PATTERN.search(client.get("/s/small/page/2").get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "action": "next", "q_years": "12"}
    cookie = client.get_cookie("draft-%d" % survey.id).value
    assert client.post("/s/small/page/2", data=form).status_code == 303
    client.set_cookie("draft-%d" % survey.id, cookie)  # a double click replays the old cookie
    replay = client.post("/s/small/page/2", data=form)
    assert replay.status_code == 303 and responses() == 1


def test_open_link_takes_one_response_per_browser(client, app):
    survey = make_survey()
    assert submit(client, survey, valid_answers(survey)).status_code == 303
    again = client.get("/s/small")
    assert "You have already answered" in text(again) and "Start the survey" not in text(again)
    assert responses() == 1
    # Another browser is another resident.
    assert submit(app.test_client(), survey, valid_answers(survey)).status_code == 303
    assert responses() == 2


def test_display_logic_skips_a_whole_page_and_counts_pages(client, app):
    definition = {"slug": "paged", "title": "Paged", "pages": [
        {"title": "First", "questions": [
            {"code": "contact", "type": "single_choice", "text": "Any contact?", "required": True,
             "options": [{"code": 1, "label": "Yes"}, {"code": 2, "label": "No"}]}]},
        {"title": "About the contact", "display_condition": {"question": "contact", "in": [1]}, "questions": [
            {"code": "how", "type": "scale", "text": "How was it?", "required": True,
             "config": {"scale": "satisfaction"}}]},
        {"title": "Last", "questions": [{"code": "note", "type": "text", "text": "Anything else?"}]}]}
    survey = survey_from_definition(definition)
    survey.status = "open"
    db.session.add(survey)
    db.session.commit()
    start(client, survey)
    assert "Page 1 of 2" in text(client.get("/s/paged/page/1"))  # nothing answered yet: page 2 not shown
    response = post_page(client, survey, 1, {"q_contact": option_id(survey, "contact", 2)})
    assert response.headers["Location"].endswith("/s/paged/page/3")
    assert "Page 2 of 2" in text(client.get("/s/paged/page/3"))
    assert client.get("/s/paged/page/2").headers["Location"].endswith("/s/paged/page/3")
    # Back from page 3, change the answer: the contact page appears, and is required.
    post_page(client, survey, 3, {}, action="back")
    response = post_page(client, survey, 1, {"q_contact": option_id(survey, "contact", 1)})
    assert response.headers["Location"].endswith("/s/paged/page/2")
    assert "Page 2 of 3" in text(client.get("/s/paged/page/2"))
    missing = post_page(client, survey, 2, {})
    assert missing.status_code == 422 and "Please answer this question." in text(missing)


def test_language_switch_mid_survey_keeps_answers(client, app):
    survey = make_spanish_demo()
    slug = survey.slug
    start(client, survey)
    page = text(client.get(f"/s/{slug}/page/1"))
    assert '<html lang="en">' in page and "Overall, I trust the police in my city." in page
    assert 'value="language:es"' in page
    chosen = {"q_trust_overall": option_id(survey, "trust_overall", 4),
              "q_respect": option_id(survey, "respect", -1)}
    response = post_page(client, survey, 1, chosen, action="language:es")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/s/{slug}/page/1")
    page = text(client.get(f"/s/{slug}/page/1"))
    assert '<html lang="es">' in page
    assert "En general, confío en la policía de mi ciudad." in page and "Muy de acuerdo" in page
    assert "Página 1 de 4" in page and "Siguiente" in page and "(obligatoria)" in page
    assert checked(page, chosen["q_trust_overall"]) and checked(page, chosen["q_respect"])
    # Errors come in Spanish too, with the answers still there.
    response = post_page(client, survey, 1, chosen)
    assert response.status_code == 422
    page = text(response)
    assert "Hay 6 problemas con sus respuestas" in page and "Por favor responda esta pregunta." in page
    assert checked(page, chosen["q_trust_overall"])


def test_browser_language_is_used_only_where_the_survey_is_translated(client, app):
    make_spanish_demo()
    english_only = make_survey()
    welcome = text(client.get("/s/community-trust", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}))
    assert '<html lang="es">' in welcome and "Comenzar la encuesta" in welcome
    assert "Confianza de la comunidad en la policía" in welcome
    # No Spanish for this survey: English throughout, not a Spanish frame around English questions.
    welcome = text(client.get(f"/s/{english_only.slug}?lang=es"))
    assert '<html lang="en">' in welcome and "Start the survey" in welcome and 'hreflang="es"' not in welcome


def test_submission_records_the_language_and_nothing_else(client, app):
    survey = make_survey()
    submit(client, survey, valid_answers(survey))
    row = db.session.scalars(select(Response)).one()
    assert (row.mode, row.language) == ("web", "en")


def limited_app(database_url, tmp_path, **limits):
    config = make_test_config(database_url, tmp_path / "generated")
    config.update(limits)
    return create_app(config)


def fresh_start(app, slug="small") -> int:
    browser = app.test_client()
    token = CSRF_PATTERN.search(browser.get(f"/s/{slug}").get_data(as_text=True)).group(1)
    return browser.post(f"/s/{slug}/start", data={"csrf_token": token}).status_code


def test_starting_is_rate_limited_without_keeping_addresses(app, database_url, tmp_path):
    make_survey()
    limited = limited_app(database_url, tmp_path, START_RATE_LIMIT="2 per hour")
    storage = rate_limits.state(limited).storage
    counted = []
    count = storage.incr
    storage.incr = lambda key, *args, **kwargs: counted.append(key) or count(key, *args, **kwargs)
    client = limited.test_client()
    # New browsers from one address: a script, not a household.
    assert [fresh_start(limited) for _ in range(3)] == [303, 303, 429]
    token = CSRF_PATTERN.search(client.get("/s/small").get_data(as_text=True)).group(1)
    refused = client.post("/s/small/start", data={"csrf_token": token})
    assert refused.status_code == 429 and "Too many attempts" in text(refused)
    # When to come back: the rest of the hour's window, in seconds.
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # The counters are keyed by a keyed hash: no address in them (and the table keeps only a
    # digest of each key).
    keys = " ".join(counted)
    assert keys and "127.0.0.1" not in keys and "localhost" not in keys
    assert b"127.0.0.1" not in bytes(storage._table) and keys.split()[0].encode() not in bytes(storage._table)


def test_code_guessing_is_rate_limited(app, database_url, tmp_path):
    make_survey()
    limited = limited_app(database_url, tmp_path, CODE_RATE_LIMIT="3 per hour")
    client = limited.test_client()
    token = CSRF_PATTERN.search(client.get("/s/small/resume").get_data(as_text=True)).group(1)
    statuses = [client.post("/s/small/resume", data={"csrf_token": token, "code": "0000-0000-000%d" % i}).status_code
                for i in range(4)]
    assert statuses == [422, 422, 422, 429]


def test_several_limits_in_one_setting_each_count(app, database_url, tmp_path):
    make_survey()
    limited = limited_app(database_url, tmp_path, START_RATE_LIMIT="2 per minute; 3 per hour")
    assert [fresh_start(limited) for _ in range(3)] == [303, 303, 429]  # the minute's limit
    retry = limited.test_client()
    token = CSRF_PATTERN.search(retry.get("/s/small").get_data(as_text=True)).group(1)
    assert 0 < int(retry.post("/s/small/start", data={"csrf_token": token}).headers["Retry-After"]) <= 60


def test_only_the_limited_methods_count(app, database_url, tmp_path):
    survey = make_survey()
    limited = limited_app(database_url, tmp_path, PAGE_RATE_LIMIT="2 per hour")
    client = limited.test_client()
    start(client, survey)
    assert [client.get("/s/small/page/1").status_code for _ in range(4)] == [200] * 4  # reading is free
    data = {**valid_answers(survey), "csrf_token": CSRF_PATTERN.search(
        client.get("/s/small/page/1").get_data(as_text=True)).group(1)}
    assert [client.post("/s/small/page/1", data=data).status_code for _ in range(3)] == [303, 303, 429]


def test_unreachable_counter_store_lets_residents_through(app, database_url, tmp_path, caplog):
    # Nothing listens on port 1: every count fails. Refusing residents because the cache is
    # down would lose answers; the failure is logged instead.
    make_survey()
    limited = limited_app(database_url, tmp_path, START_RATE_LIMIT="1 per hour",
                          RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    assert [fresh_start(limited) for _ in range(3)] == [303, 303, 303]
    assert "rate-limit counters unreachable" in caplog.text


def test_a_malformed_limit_stops_the_app_at_start(database_url, tmp_path):
    with pytest.raises(ValueError):
        limited_app(database_url, tmp_path, START_RATE_LIMIT="thirty an hour")


def test_limits_can_be_switched_off(app, database_url, tmp_path):
    make_survey()
    limited = limited_app(database_url, tmp_path, START_RATE_LIMIT="1 per hour", RATELIMIT_ENABLED=False)
    assert [fresh_start(limited) for _ in range(3)] == [303, 303, 303]


def test_unfinished_answers_expire(client, app, monkeypatch):
    import datetime as dt

    from survey_app import drafts
    from survey_app.models import utcnow

    survey = make_survey()
    start(client, survey)
    post_page(client, survey, 1, valid_answers(survey), action="save")
    draft = db.session.scalars(select(ResponseDraft)).one()
    draft.saved_on = draft.saved_on - dt.timedelta(days=drafts.DRAFT_DAYS + 1)
    db.session.commit()
    assert client.get("/s/small/page/1").status_code == 303  # no longer found
    start(app.test_client(), survey)  # starting deletes nothing (flask purge-drafts does)
    assert db.session.scalar(select(func.count()).select_from(ResponseDraft)) == 2
    result = app.test_cli_runner().invoke(args=["purge-drafts"])
    assert result.exit_code == 0 and "Deleted 1 unfinished draft " in result.output
    assert [d.saved_on for d in db.session.scalars(select(ResponseDraft))] == [utcnow().date()]


# --- Every write of a resident request is in the request's transaction -----------------------
# A statement that fails after the first write of a request (a second write added later, the
# database going away) must leave nothing behind: a write made in a mode without a transaction
# would stay. Each case fails right after one write statement and looks at the rows.

class SecondStatementFailed(RuntimeError):
    pass


def fail_after(prefix: str):
    """A listener that fails right after the first statement beginning with ``prefix`` ran."""
    def fail(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(prefix):
            raise SecondStatementFailed(prefix)
    return fail


@pytest.fixture
def failing_after(app):
    from sqlalchemy import event

    listeners = []

    def install(prefix: str):
        listener = fail_after(prefix)
        event.listen(db.engine, "after_cursor_execute", listener)
        listeners.append(listener)

    yield install
    for listener in listeners:
        event.remove(db.engine, "after_cursor_execute", listener)


def test_start_stores_no_draft_when_the_request_fails_after_its_insert(client, app, failing_after):
    survey = make_survey()
    token = CSRF_PATTERN.search(client.get("/s/small").get_data(as_text=True)).group(1)
    db.session.remove()  # nothing of the test's own open: the request begins as in a server
    failing_after("INSERT INTO RESPONSE_DRAFT")
    with pytest.raises(SecondStatementFailed):
        client.post("/s/small/start", data={"csrf_token": token})
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(ResponseDraft)) == 0
    assert survey.id  # the survey itself untouched


@pytest.mark.parametrize("invited, after", [
    (False, "DELETE FROM RESPONSE_DRAFT"), (False, "INSERT INTO RESPONSE "),
    (True, "DELETE FROM RESPONSE_DRAFT"), (True, "UPDATE INVITATION"), (True, "INSERT INTO RESPONSE "),
])
def test_a_submission_that_fails_part_way_stores_nothing_and_keeps_the_draft(app, failing_after, invited, after):
    from survey_app import invitations
    from survey_app.models import Answer, Invitation

    survey = make_survey(access_mode="invitation" if invited else "open")
    client = app.test_client()
    if invited:
        _, codes = invitations.generate(survey, 1)
        db.session.commit()
        start(client, survey, codes[0])
    else:
        start(client, survey)
    data = valid_answers(survey)
    post_page(client, survey, 1, data)
    token = CSRF_PATTERN.search(client.get("/s/small/page/2").get_data(as_text=True)).group(1)
    db.session.remove()
    failing_after(after)
    with pytest.raises(SecondStatementFailed):
        client.post("/s/small/page/2", data={"csrf_token": token, "action": "next", "q_years": "12"})
    db.session.remove()
    assert responses() == 0 and db.session.scalar(select(func.count()).select_from(Answer)) == 0
    assert db.session.scalar(select(func.count()).select_from(ResponseDraft)) == 1
    if invited:
        assert db.session.scalar(select(Invitation.used)) is False


def test_a_residents_survey_and_draft_are_handed_on_as_arguments_not_left_in_g(app):
    """The views hand the survey and the browser's draft to their helpers as values (routes.Visit),
    not through ``g``, where a later request in the same app context (tests, scripts) or a helper
    reached another way could find them. After a resident's requests, ``g`` holds neither."""
    from flask import g

    from survey_app.respond.survey_cache import CachedSurvey

    survey = make_survey()
    client = app.test_client()
    start(client, survey)
    assert post_page(client, survey, 1, valid_answers(survey)).status_code == 303
    assert client.get("/s/small/page/2").status_code == 200

    def holds_resident_state(value) -> bool:
        if isinstance(value, (tuple, list)):
            return any(holds_resident_state(item) for item in value)
        return isinstance(value, (ResponseDraft, CachedSurvey))

    left = {name: value for name, value in vars(g).items() if holds_resident_state(value)}
    assert left == {}
