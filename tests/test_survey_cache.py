"""The resident pages keep each survey loaded per process, under its revision: the database moves
the revision on every change to the questionnaire, however it is made, and every server sees the
change on its next request."""
from __future__ import annotations

import html

import pytest

from sqlalchemy import event, select

from survey_app import create_app
from survey_app.extensions import db
from survey_app.models import AnswerOption, Page, Survey
from survey_app.questionnaire import translation
from survey_app.respond.survey_cache import survey_cache

from .conftest import make_test_config
from .factories import add_response, make_survey, question, start
from .staff_helpers import make_user, post, question_form, sign_in


def revision(survey_id: int) -> int:
    return db.session.scalar(select(Survey.revision).where(Survey.id == survey_id))


def test_every_change_to_the_questionnaire_moves_the_revision(app):
    survey = make_survey()
    sid = survey.id
    steps = []

    def step(label, change):
        before = revision(sid)
        change()
        db.session.commit()
        steps.append((label, revision(sid) > before))

    step("question text", lambda: setattr(question(survey, "trust"), "text", "I trust the police here."))
    step("option label", lambda: setattr(question(survey, "district").options[0], "label", "North side"))
    step("option added", lambda: question(survey, "district").options.append(
        AnswerOption(position=9, code=4, label="West")))
    step("page added", lambda: survey.pages.append(Page(position=5, title="Extra")))
    step("question removed", lambda: db.session.delete(question(survey, "comment")))
    step("translation", lambda: translation.prefill(survey, "es"))
    step("status", lambda: setattr(survey, "status", "closed"))
    step("a response", lambda: add_response(survey, trust=4, district=1))
    step("nothing", lambda: None)
    assert steps == [("question text", True), ("option label", True), ("option added", True),
                     ("page added", True), ("question removed", True), ("translation", True), ("status", True),
                     ("a response", False), ("nothing", False)]


def test_two_editors_saving_at_once_both_count(app, database_url, tmp_path):
    survey = make_survey()
    before = revision(survey.id)
    # Two sessions change the same survey; each update adds one (the trigger: OLD.revision + 1).
    other_app = create_app(make_test_config(database_url, tmp_path / "other"))
    with other_app.app_context():
        other = db.session.get(Survey, survey.id)
        other.pages[0].title = "Views (edited elsewhere)"
        db.session.commit()
        db.engine.dispose()
    question(survey, "trust").help_text = "Think of the last year."
    db.session.commit()
    assert revision(survey.id) == before + 2


def queries_during(callable_):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = callable_()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return result, statements


def test_a_warm_resident_request_reads_no_questionnaire_tables(client, app):
    make_survey()
    assert client.get("/s/small").status_code == 200
    loads = survey_cache().loads
    page, statements = queries_during(lambda: client.get("/s/small"))
    assert page.status_code == 200 and survey_cache().loads == loads == 1
    read = " ".join(statements).lower()
    assert "from survey" in read  # the one small query: id, creation time and revision
    for table in ("from page", "from question", "from answer_option"):
        assert table not in read, (table, statements)


def test_form_classes_are_made_once_per_survey_version_and_page(app, monkeypatch):
    from survey_app.respond import survey_cache as cache_module

    from .factories import count_rows, submit, valid_answers

    made = []
    real = cache_module.build_response_form
    monkeypatch.setattr(cache_module, "build_response_form", lambda *a: made.append(a) or real(*a))
    survey = make_survey()
    for _ in range(3):
        assert submit(app.test_client(), survey, valid_answers(survey)).status_code == 303
    assert count_rows()[0] == 3
    # Two pages and the whole form (checked again on submitting), once each for three residents.
    assert len(made) == 3
    # An edit is a new version of the survey: its forms are made afresh and hold the change.
    question(survey, "district").options.append(AnswerOption(position=9, code=4, label="West"))
    db.session.commit()
    west = question(survey, "district").options[-1].id
    assert submit(app.test_client(), survey, {**valid_answers(survey), "q_district": west}).status_code == 303
    assert len(made) == 6


def test_every_server_sees_a_change_on_its_next_request(client, app, database_url, tmp_path):
    """``client`` is one server's residents; staff work on another server (another app, its own cache)."""
    survey = make_survey()
    district = question(survey, "district")
    make_user("editor")
    staff_server = create_app(make_test_config(database_url, tmp_path / "staff"))
    staff = staff_server.test_client()
    with staff_server.app_context():
        sign_in(staff, "editor@city.example")

    assert "Small test survey" in client.get("/s/small").get_data(as_text=True)
    assert start(client, survey).status_code == 303
    assert "District?" in client.get("/s/small/page/1").get_data(as_text=True)
    assert survey_cache().loads == 1

    path = f"/staff/surveys/{survey.id}/questions/{district.id}"
    with staff_server.app_context():
        fixed = post(staff, path, question_form(code="district", type="dropdown", construct="demographics",
                                                text="Which police district do you live in?",
                                                options="1 | North\n2 | South\n3 | East",
                                                page_id=district.page_id, required="y"), token_page=path)
    assert fixed.status_code == 303
    page = html.unescape(client.get("/s/small/page/1").get_data(as_text=True))
    assert "Which police district do you live in?" in page and "District?" not in page
    assert survey_cache().loads == 2

    # Spanish, once complete, is offered at once; closing is seen at once.
    assert '<html lang="es">' not in client.get("/s/small?lang=es").get_data(as_text=True)
    with staff_server.app_context():
        edited = db.session.get(Survey, survey.id)
        translation.prefill(edited, "es")
        missing = translation.coverage(edited, "es")
        if not missing.complete:  # the test survey's own wording is not in the phrasebook
            translation.translate(edited, "es", {t: f"ES {t}" for t in missing.missing})
        db.session.commit()
    assert '<html lang="es">' in client.get("/s/small?lang=es").get_data(as_text=True)
    with staff_server.app_context():
        closed = post(staff, f"/staff/surveys/{survey.id}/status", {"status": "closed"},
                      token_page=f"/staff/surveys/{survey.id}")
        assert closed.status_code == 303
        db.engine.dispose()
    assert client.get("/s/small").status_code == 410


def test_the_welcome_page_is_rendered_once_per_version_and_language_with_each_residents_token(app):
    from flask import template_rendered

    from .factories import CSRF_PATTERN, make_spanish_demo

    survey = make_spanish_demo()
    welcome = f"/s/{survey.slug}"
    rendered = []

    def record(sender, template, context, **extra):
        if template.name == "respond/welcome.html":
            rendered.append(context.get("draft"))

    template_rendered.connect(record, app)
    try:
        first, second = app.test_client(), app.test_client()
        pages = [html.unescape(browser.get(welcome).get_data(as_text=True)) for browser in (first, second)]
        tokens = [CSRF_PATTERN.search(page).group(1) for page in pages]
        assert len(rendered) == 1 and tokens[0] != tokens[1]
        assert pages[0].replace(tokens[0], "") == pages[1].replace(tokens[1], "")
        assert "csrf-token-slot" not in pages[0]
        # Each token is its own browser's: the other's is refused (the page given back with its
        # notice is rendered for this browser), its own starts.
        assert first.post(f"{welcome}/start", data={"csrf_token": tokens[1]}).status_code == 400
        assert len(rendered) == 2
        assert first.post(f"{welcome}/start", data={"csrf_token": tokens[0]}).status_code == 303
        # With a draft in the browser the page offers to continue: rendered for it alone.
        assert "Continue where you left off" in first.get(welcome).get_data(as_text=True)
        assert rendered[-1] is not None and len(rendered) == 3

        # Spanish is a page of its own, rendered once too.
        spanish = [app.test_client().get(f"{welcome}?lang=es").get_data(as_text=True) for _ in range(2)]
        assert all('<html lang="es">' in page for page in spanish) and len(rendered) == 4
        assert '<html lang="en">' in app.test_client().get(welcome).get_data(as_text=True)
        assert len(rendered) == 4

        # An edit is a new version: its page is rendered afresh, with the change.
        survey.introduction = "A new introduction for the second wave."
        db.session.commit()
        assert "A new introduction for the second wave." in app.test_client().get(welcome).get_data(as_text=True)
        assert len(rendered) == 5

        # A message waiting for this browser is shown to it, and to nobody else.
        lost = app.test_client()
        assert lost.get(f"{welcome}/page/1").status_code == 303
        assert "were not found in this browser" in html.unescape(lost.get(welcome).get_data(as_text=True))
        assert "were not found" not in app.test_client().get(welcome).get_data(as_text=True)

        # Staff signed in see their own name; residents after them do not.
        make_user("editor")
        staff = app.test_client()
        sign_in(staff, "editor@city.example")
        assert "Sign out (Editor Person)" in staff.get(welcome).get_data(as_text=True)
        assert "Sign out" not in app.test_client().get(welcome).get_data(as_text=True)
    finally:
        template_rendered.disconnect(record, app)


def _moved_elsewhere(survey_id: int, **values) -> None:
    """A change made by another server, as a bulk update: this server's cache does not hear of it
    (the database moves the revision)."""
    from sqlalchemy import update

    db.session.execute(update(Survey).where(Survey.id == survey_id).values(**values))
    db.session.commit()


def test_start_from_a_cached_survey_that_changed_meanwhile_goes_by_the_survey_as_it_is(client, app):
    from survey_app.models import ResponseDraft

    from .factories import csrf_token

    survey = make_survey()
    sid = survey.id
    token = csrf_token(client, "/s/small")  # this server caches the open survey
    _moved_elsewhere(sid, status="closed")
    closed = client.post("/s/small/start", data={"csrf_token": token})
    assert closed.status_code == 410 and "draft-" not in closed.headers.get("Set-Cookie", "")
    assert db.session.scalar(select(db.func.count(ResponseDraft.id))) == 0

    _moved_elsewhere(sid, status="open")
    loads = survey_cache().loads
    opened = client.post("/s/small/start", data={"csrf_token": token})
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/s/small/page/1")
    assert db.session.scalar(select(db.func.count(ResponseDraft.id))) == 1
    assert survey_cache().loads == loads + 1  # read afresh, not taken on trust
    assert "District?" in client.get("/s/small/page/1").get_data(as_text=True)


def test_start_is_one_statement_and_a_posted_page_reads_survey_and_draft_together(client, app, monkeypatch):
    from .factories import csrf_token

    survey = make_survey()
    token = csrf_token(client, "/s/small")
    started, statements = queries_during(lambda: client.post("/s/small/start", data={"csrf_token": token}))
    assert started.status_code == 303
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT INTO RESPONSE_DRAFT")
    assert "revision" in statements[0].lower()  # stored only if the survey is still the cached version

    from .factories import valid_answers

    first_page = {k: v for k, v in valid_answers(survey).items() if k in ("q_trust", "q_district", "q_contact")}
    answers = {"csrf_token": token, "action": "next", **first_page}
    posted, statements = queries_during(lambda: client.post("/s/small/page/1", data=answers))
    assert posted.status_code == 303 and posted.headers["Location"].endswith("/s/small/page/2")
    reads = [s.lower() for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "from survey" in reads[0] and "response_draft" in reads[0], statements
    assert any(s.lstrip().upper().startswith("UPDATE RESPONSE_DRAFT") for s in statements)


def test_a_draft_cookie_of_the_survey_that_had_an_address_opens_nothing_of_the_new_one(client, app):
    first = make_survey()
    assert start(client, first).status_code == 303
    assert "District?" in client.get("/s/small/page/1").get_data(as_text=True)
    first.slug = "small-2025"
    db.session.commit()
    second = make_survey(title="Second wave")
    assert second.slug == "small" and second.id != first.id
    # The browser's draft is the first survey's: the second's pages are not open to it...
    assert client.get("/s/small/page/1").status_code == 303
    # ...and Start begins a draft of the second (the first's draft is still there at its new address).
    assert start(client, second).status_code == 303
    assert client.get("/s/small/page/1").status_code == 200
    assert client.get("/s/small-2025/page/1").status_code == 200


def test_a_new_residents_welcome_page_may_be_a_moment_old_but_every_write_checks_at_once(client, app):
    import time

    from survey_app.models import ResponseDraft

    from .factories import csrf_token

    app.config["RESIDENT_PAGE_MAX_AGE_SECONDS"] = 60
    survey = make_survey()
    sid = survey.id
    assert client.get("/s/small").status_code == 200  # found current in the database
    page, statements = queries_during(lambda: app.test_client().get("/s/small"))
    assert page.status_code == 200 and statements == []  # the next new resident's page: from the copy

    token = csrf_token(client, "/s/small")
    _moved_elsewhere(sid, status="closed")
    assert app.test_client().get("/s/small").status_code == 200  # within the minute, the copy
    assert client.post("/s/small/start", data={"csrf_token": token}).status_code == 410  # a write asks
    assert db.session.scalar(select(db.func.count(ResponseDraft.id))) == 0
    assert app.test_client().get("/s/small").status_code == 410  # and renewed the copy

    # A browser with a draft always asks (its page offers to continue); a new resident's page
    # shows a change once the copy is older than the setting.
    _moved_elsewhere(sid, status="open", introduction="An introduction changed elsewhere.")
    assert app.test_client().get("/s/small").status_code == 410
    app.config["RESIDENT_PAGE_MAX_AGE_SECONDS"] = 1.0
    time.sleep(1.05)
    assert start(client, survey).status_code == 303  # its welcome page asked again: open
    _moved_elsewhere(sid, introduction="Changed again.")
    assert "An introduction changed elsewhere." in app.test_client().get("/s/small").get_data(as_text=True)
    with_draft = client.get("/s/small").get_data(as_text=True)
    assert "Changed again." in with_draft and "Continue where you left off" in with_draft
    assert "Changed again." in app.test_client().get("/s/small").get_data(as_text=True)  # copy renewed


def test_nothing_of_one_resident_reaches_the_welcome_page_shared_with_the_next(app):
    """The welcome page is rendered once and shared; a template that reads the request, the
    session or ``g`` (as a later change to it might) reads a blank request's, never the
    resident's, so that nothing of one resident can be served to another."""
    from flask import g, request
    from jinja2 import ChoiceLoader, DictLoader

    from .factories import CSRF_PATTERN

    reading_everything = (
        '{% extends "base.html" %}{% block content %}<p>cookie:{{ request.cookies.get("note", "") }} '
        'arg:{{ request.args.get("note", "") }} session:{{ session.get("note", "") }} host:{{ request.host }} '
        'g:{{ g.get("note", "") }}</p><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">'
        '{% endblock %}')
    app.jinja_env.loader = ChoiceLoader([DictLoader({"respond/welcome.html": reading_everything}),
                                         app.jinja_env.loader])

    @app.before_request
    def remember_note():
        g.note = request.args.get("note", "")

    make_survey()
    alice = app.test_client()
    alice.set_cookie("note", "alice-cookie")
    with alice.session_transaction() as session:
        session["note"] = "alice-session"
    first = alice.get("/s/small?note=alice-arg", headers={"Host": "alice.example"}).get_data(as_text=True)
    second = app.test_client().get("/s/small").get_data(as_text=True)
    for page in (first, second):
        assert "alice" not in page, page
        assert "host:shared.invalid" in page  # the blank request's
    assert CSRF_PATTERN.search(first).group(1) != CSRF_PATTERN.search(second).group(1)  # each their own token


# --- Every route by which a survey can change -------------------------------------------------
# The database moves the revision, so the cache is fresh however a row was changed. Each route
# below renames the survey, a page, a question and an option, adds an option and removes one;
# a resident with a draft sees all of it on their next request, and so does a new resident's
# welcome page (its RESIDENT_PAGE_MAX_AGE_SECONDS is 0 in tests; the second of grace is tested
# above, after a bulk update).

def _parts(survey) -> dict:
    district = question(survey, "district")
    return {"survey": survey.id, "page": district.page_id, "question": district.id,
            "renamed": district.options[0].id, "removed": district.options[1].id}


def by_orm(ids: dict, label: str) -> None:
    from survey_app.models import Question

    db.session.get(Survey, ids["survey"]).title = f"Survey {label}"
    db.session.get(Page, ids["page"]).title = f"Page {label}"
    district = db.session.get(Question, ids["question"])
    district.text = f"Question {label}"
    db.session.get(AnswerOption, ids["renamed"]).label = f"Option {label}"
    district.options.append(AnswerOption(position=9, code=9, label=f"Added {label}"))
    db.session.delete(db.session.get(AnswerOption, ids["removed"]))
    db.session.commit()


def by_bulk_statements(ids: dict, label: str) -> None:
    """SQLAlchemy's bulk insert(), update() and delete(): no unit of work, no flush."""
    from sqlalchemy import delete, insert, update

    from survey_app.models import Question

    db.session.execute(update(Survey).where(Survey.id == ids["survey"]).values(title=f"Survey {label}"))
    db.session.execute(update(Page).where(Page.id == ids["page"]).values(title=f"Page {label}"))
    db.session.execute(update(Question).where(Question.id == ids["question"]).values(text=f"Question {label}"))
    db.session.execute(update(AnswerOption).where(AnswerOption.id == ids["renamed"]).values(label=f"Option {label}"))
    db.session.execute(insert(AnswerOption).values(question_id=ids["question"], position=9, code=9,
                                                   label=f"Added {label}", translations={}))
    db.session.execute(delete(AnswerOption).where(AnswerOption.id == ids["removed"]))
    db.session.commit()


RAW_CHANGES = (
    "UPDATE survey SET title = 'Survey ' || :label WHERE id = :survey",
    "UPDATE page SET title = 'Page ' || :label WHERE id = :page",
    "UPDATE question SET text = 'Question ' || :label WHERE id = :question",
    "UPDATE answer_option SET label = 'Option ' || :label WHERE id = :renamed",
    "INSERT INTO answer_option (question_id, position, code, label, translations) "
    "VALUES (:question, 9, 9, 'Added ' || :label, '{}')",
    "DELETE FROM answer_option WHERE id = :removed",
)


def by_raw_sql(ids: dict, label: str) -> None:
    """Textual SQL on a connection of its own (a script, a console, another program)."""
    from sqlalchemy import text

    with db.engine.begin() as connection:
        for statement in RAW_CHANGES:
            connection.execute(text(statement), {**ids, "label": label})


def by_data_migration(ids: dict, label: str) -> None:
    """What a migration's upgrade() does: alembic's op.execute and op.bulk_insert."""
    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    with db.engine.begin() as connection:
        op = Operations(MigrationContext.configure(connection))
        for statement in RAW_CHANGES:
            if statement.startswith("INSERT"):
                options = sa.table("answer_option", *(sa.column(name) for name in (
                    "question_id", "position", "code", "label", "translations")))
                op.bulk_insert(options, [{"question_id": ids["question"], "position": 9, "code": 9,
                                          "label": f"Added {label}", "translations": "{}"}])
            else:
                op.execute(sa.text(statement).bindparams(**{
                    name: value for name, value in {**ids, "label": label}.items() if f":{name}" in statement}))


@pytest.mark.parametrize("route", [by_orm, by_bulk_statements, by_raw_sql, by_data_migration],
                         ids=lambda route: route.__name__)
def test_a_change_by_any_route_is_seen_on_the_next_request(app, route):
    survey = make_survey()
    ids = _parts(survey)
    resident = app.test_client()
    assert start(resident, survey).status_code == 303
    before = html.unescape(resident.get("/s/small/page/1").get_data(as_text=True))
    assert "Small test survey" in before and "District?" in before and "South" in before
    assert app.test_client().get("/s/small").status_code == 200
    loads = survey_cache().loads

    route(ids, "changed")

    after = html.unescape(resident.get("/s/small/page/1").get_data(as_text=True))
    for seen in ("Survey changed", "Page changed", "Question changed", "Option changed", "Added changed"):
        assert seen in after, (route.__name__, seen)
    assert "South" not in after and "District?" not in after
    assert "Survey changed" in app.test_client().get("/s/small").get_data(as_text=True)
    assert survey_cache().loads == loads + 1  # read afresh once, then kept again
