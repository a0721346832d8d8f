"""Invitations (single use, also under concurrency; no link to answers), privacy of the response
tables, paper/phone entry, CSV import (all or nothing, every problem named), translations."""
import base64
import csv
import html
import io
import re
import threading

import pytest
from sqlalchemy import Date, DateTime, func, inspect, select

from survey_app import access_codes, invitations
from survey_app.extensions import db
from survey_app.models import Answer, AuditEntry, Invitation, Response, ResponseDraft, Survey
from survey_app.questionnaire import translation

from .factories import CSRF_PATTERN, make_survey, post_page, start, submit, valid_answers
from .staff_helpers import make_user, post, sign_in


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def invitation_survey(n=3):
    survey = make_survey(access_mode="invitation")
    _, codes = invitations.generate(survey, n)
    db.session.commit()
    return survey, codes


# --- Invitations ----------------------------------------------------------------------------

def test_codes_are_random_hashed_and_forgiving_to_type():
    codes = {access_codes.new_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(c) == 12 and set(c) <= set(access_codes.ALPHABET) for c in codes)
    code = "7KQ2M9XD4HRT"
    assert access_codes.display(code) == "7KQ2-M9XD-4HRT"
    for typed in ("7kq2-m9xd-4hrt", " 7KQ2 M9XD 4HRT ", "7KQ2–M9XD–4HRT"):
        assert access_codes.normalise(typed) == code
    assert access_codes.normalise("0OIl-0000-0000") == "0011" + "0" * 8  # O is 0, I and L are 1
    assert access_codes.normalise("7KQ2-M9XD-4HR") is None and access_codes.normalise("7KQ2-M9XD-4HRU") is None
    assert access_codes.code_hash(code) != code and len(access_codes.code_hash(code)) == 64


def test_invitation_code_answers_once(client, app):
    survey, codes = invitation_survey()
    assert {i.code_hash for i in db.session.scalars(select(Invitation))} == {access_codes.code_hash(c) for c in codes}
    welcome = text(client.get("/s/small"))
    assert "Your invitation code" in welcome
    # Wrong, malformed: explained, the typed code kept.
    token = CSRF_PATTERN.search(welcome).group(1)
    for typed, message in (("ABCD-EFGH-JKMN", "could not find that code"), ("12", "has 12 letters and numbers")):
        response = client.post("/s/small/start", data={"csrf_token": token, "code": typed})
        assert response.status_code == 422 and message in text(response) and f'value="{typed}"' in text(response)
    response = submit(client, survey, valid_answers(survey), code=codes[0].lower())
    assert response.headers["Location"].endswith("/s/small/thanks")
    assert count(Response) == 1
    assert db.session.scalar(select(Invitation).where(
        Invitation.code_hash == access_codes.code_hash(codes[0]))).used is True
    # The same code again, from any browser: refused with the reason.
    other = app.test_client()
    response = start(other, survey, codes[0])
    assert response.status_code == 422 and "already been used" in text(response)
    # Open-link duplicate protection is not what limits invitation surveys: the next code works here.
    assert submit(client, survey, valid_answers(survey), code=codes[1]).status_code == 303
    assert count(Response) == 2 and [b.used for b in invitations.batches(survey)] == [2]


def test_invitation_code_resumes_in_the_same_browser_and_asks_for_the_resume_code_elsewhere(client, app):
    # The invitation code is in staff's mail-merge file: it opens the survey but not the saved
    # answers, which are sealed with the draft's own resume code (tests/test_draft_privacy.py).
    survey, codes = invitation_survey()
    start(client, survey, codes[0])
    post_page(client, survey, 1, valid_answers(survey))
    other = app.test_client()
    response = start(other, survey, codes[0])
    assert response.status_code == 200 and "started on another device" in text(response)
    assert other.get_cookie("draft-%d" % survey.id) is None
    assert count(ResponseDraft) == 1
    # The first browser continues without typing the code again, and with it.
    assert "Continue where you left off" in text(client.get("/s/small"))
    assert start(client, survey).headers["Location"].endswith("/s/small/page/2")
    assert start(client, survey, codes[0]).headers["Location"].endswith("/s/small/page/2")


def test_invitation_code_submits_once_under_concurrent_requests(app):
    survey, codes = invitation_survey(1)
    data = valid_answers(survey)
    clients = [app.test_client() for _ in range(6)]
    forms = []
    start(clients[0], survey, codes[0])
    resume_code = clients[0].get_cookie("draft-%d" % survey.id).value
    for client in clients:  # six devices with the same codes, each at the last page
        client.set_cookie("draft-%d" % survey.id, resume_code)
        post_page(client, survey, 1, data)
        token = CSRF_PATTERN.search(client.get("/s/small/page/2").get_data(as_text=True)).group(1)
        forms.append({"csrf_token": token, "action": "next", "q_years": "12"})
    db.session.remove()
    barrier = threading.Barrier(len(clients))
    statuses = []

    def press(client, form):
        barrier.wait()
        statuses.append(client.post("/s/small/page/2", data=form).status_code)

    threads = [threading.Thread(target=press, args=pair) for pair in zip(clients, forms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(statuses) == 6 and all(s in (303, 409) for s in statuses), statuses
    assert count(Response) == 1 and count(ResponseDraft) == 0
    assert db.session.scalar(select(Invitation)).used is True


def test_an_invitation_used_meanwhile_refuses_the_submit_and_keeps_the_draft(client, app):
    # E.g. the letter's paper form was keyed in while the resident was still answering online.
    survey, codes = invitation_survey(1)
    data = valid_answers(survey)
    start(client, survey, codes[0])
    post_page(client, survey, 1, data)
    token = CSRF_PATTERN.search(client.get("/s/small/page/2").get_data(as_text=True)).group(1)
    db.session.scalar(select(Invitation)).used = True
    db.session.commit()
    response = client.post("/s/small/page/2", data={"csrf_token": token, "action": "next", "q_years": "12"})
    assert response.status_code == 409
    assert "already" in html.unescape(response.get_data(as_text=True))
    db.session.rollback()
    assert count(Response) == 0 and count(Answer) == 0
    assert count(ResponseDraft) == 1  # the whole submit was undone, not only the response
    assert db.session.scalar(select(Invitation)).used is True


def test_an_invitation_used_by_another_transaction_during_the_submit_stores_nothing(client, app):
    # Another transaction (a paper form keyed in) marks the invitation used and commits while
    # the submit waits for it (PostgreSQL: the invitation's row lock; SQLite: the database's
    # write lock): the submit must then store nothing and keep the draft.
    from sqlalchemy import text as sql

    survey, codes = invitation_survey(1)
    data = valid_answers(survey)
    start(client, survey, codes[0])
    post_page(client, survey, 1, data)
    token = CSRF_PATTERN.search(client.get("/s/small/page/2").get_data(as_text=True)).group(1)
    db.session.commit()
    db.session.remove()
    with db.engine.connect() as other:
        other.execute(sql("UPDATE invitation SET used = true"))  # locked until this commits
        statuses = []
        post = threading.Thread(target=lambda: statuses.append(client.post(
            "/s/small/page/2", data={"csrf_token": token, "action": "next", "q_years": "12"}).status_code))
        post.start()
        post.join(timeout=1.0)
        assert post.is_alive(), "the submit waits for the other transaction's row lock"
        other.commit()
    post.join(timeout=30)
    assert statuses == [409]
    assert count(Response) == 0 and count(Answer) == 0 and count(ResponseDraft) == 1
    assert db.session.scalar(select(Invitation)).used is True


def test_no_link_between_a_response_and_its_invitation_or_its_sender(client, app):
    survey, codes = invitation_survey()
    submit(client, survey, valid_answers(survey), code=codes[0])
    inspector = inspect(db.engine)
    allowed = {"response": {"id", "survey_id", "submitted_on", "mode", "language"},
               "answer": {"response_id", "question_id", "value", "number", "text"},
               "invitation": {"id", "survey_id", "code_hash", "batch", "created_at", "used"}}
    for table, columns in allowed.items():
        assert {c["name"] for c in inspector.get_columns(table)} == columns, table
    # No time of day with a response (a date only), and no key joins invitations to responses.
    types = {c["name"]: c["type"] for c in inspector.get_columns("response")}
    assert isinstance(types["submitted_on"], Date) and not isinstance(types["submitted_on"], DateTime)
    for table in ("response", "answer"):
        assert all(fk["referred_table"] != "invitation" for fk in inspector.get_foreign_keys(table))
    assert all(fk["referred_table"] != "response" for fk in inspector.get_foreign_keys("invitation"))
    # The draft that linked them while answering is gone; the stored invitation says only "used".
    assert count(ResponseDraft) == 0
    used = db.session.scalars(select(Invitation).where(Invitation.used.is_(True))).all()
    assert len(used) == 1 and used[0].created_at is not None  # created when the batch was made, not used


def test_invitation_batches_are_made_by_staff_and_shown_once(client, app):
    survey = make_survey(access_mode="invitation")
    user = make_user("editor")
    sign_in(client, user.email)
    page = client.get(f"/staff/surveys/{survey.id}/responses")
    assert page.status_code == 200 and "Make a batch of codes" in text(page)
    refused = post(client, f"/staff/surveys/{survey.id}/invitations", {"count": "0"},
                   token_page=f"/staff/surveys/{survey.id}/responses")
    assert refused.status_code == 422 and "between 1 and 20,000" in text(refused)
    response = post(client, f"/staff/surveys/{survey.id}/invitations", {"count": "25"},
                    token_page=f"/staff/surveys/{survey.id}/responses")
    sheet = text(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    printed = re.findall(r'class="code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<', sheet)
    assert len(printed) == 25 == count(Invitation)
    encoded = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', sheet).group(1)
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(encoded).decode())))
    assert [r["code"] for r in rows] == printed and {r["survey_url"] for r in rows} == {"http://localhost/s/small"}
    # Stored as hashes only; the audit log says how many, never which.
    stored = {i.code_hash for i in db.session.scalars(select(Invitation))}
    assert stored == {access_codes.code_hash(access_codes.normalise(c)) for c in printed}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "invitations.generate")).one()
    assert entry.details == {"batch": 1, "count": 25} and printed[0] not in str(entry.details)
    assert "Batches so far" in text(client.get(f"/staff/surveys/{survey.id}/responses"))


def test_codes_only_for_invitation_surveys(app):
    survey = make_survey()
    with pytest.raises(invitations.InvitationError, match="open link"):
        invitations.generate(survey, 5)
    with pytest.raises(invitations.InvitationError, match="between 1 and"):
        invitations.generate(make_survey(slug="inv", access_mode="invitation"), invitations.MAX_BATCH + 1)
    assert count(Invitation) == 0


# --- Paper and phone entry ------------------------------------------------------------------

def test_staff_enter_a_paper_response_with_its_mode(client, app):
    survey = make_survey()
    user = make_user("analyst")
    sign_in(client, user.email)
    path = f"/staff/surveys/{survey.id}/responses/new/paper"
    form = text(client.get(path))
    assert "Entering a paper response" in form and "I trust the police." in form and "Any contact?" in form
    bad = post(client, path, {"q_years": "300"}, token_page=path)
    assert bad.status_code == 422 and "Please answer this question." in text(bad) and count(Response) == 0
    response = post(client, path, valid_answers(survey), token_page=path)
    assert response.status_code == 303
    stored = db.session.scalars(select(Response)).one()
    assert stored.mode == "paper" and len(stored.answers) == 6
    assert client.get(f"/staff/surveys/{survey.id}/responses/new/carrier-pigeon").status_code == 404
    client.post("/staff/logout", data={"csrf_token": CSRF_PATTERN.search(form).group(1)})
    assert app.test_client().get(path).status_code == 302  # anonymous: to the sign-in page


# --- CSV import -----------------------------------------------------------------------------

def upload(client, survey, content: bytes):
    """Import ``content``: the job's page once the job has run (in the request, in tests)."""
    path = f"/staff/surveys/{survey.id}/responses"
    response = post(client, f"{path}/import", {"file": (io.BytesIO(content), "responses.csv")}, token_page=path,
                    content_type="multipart/form-data")
    assert response.status_code == 303 and re.fullmatch(r"/staff/jobs/\d+", response.location), response.location
    return client.get(response.location)


@pytest.fixture
def analyst(client, app):
    user = make_user("analyst")
    sign_in(client, user.email)
    return user


def test_csv_import_with_errors_stores_nothing_and_names_each(client, app, analyst):
    survey = make_survey()
    content = ("trust,district,contact,kinds,years,comment,mode,submitted_on\n"
               "4,2,1,1;3,12,fine,paper,2026-01-05\n"          # line 2: good
               "9,2,,,,,,\n"                                   # line 3: not a code
               ",2,,,,,,\n"                                    # line 4: required trust empty
               "4,2,,,abc,,,\n"                                # line 5: not a number
               "4,2,,1;7,,,fax,2999-01-01\n"                   # line 6: option 7, mode, future date
               "4,2\n").encode()                               # line 7: short row
    response = upload(client, survey, content)
    page = text(response)
    assert response.status_code == 200 and "Nothing was imported: 7 problems in 6 rows" in page
    problems = re.findall(r"<tr><td>(\d+|–)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    found = {(line, column) for line, column, _ in problems}
    assert found == {("3", "trust"), ("4", "trust"), ("5", "years"), ("6", "kinds"), ("6", "mode"),
                     ("6", "submitted_on"), ("7", "–")}
    messages = {(line, column): message for line, column, message in problems}
    assert messages[("3", "trust")].startswith("'9' is not an answer code of this question; use 1 (Strongly disagree)")
    assert messages[("4", "trust")] == "Required, but empty"
    assert messages[("5", "years")] == "Please enter a whole number from 0 to 100."
    assert "has 2 values but the header has 8 columns" in messages[("7", "–")]
    assert count(Response) == 0 and count(Answer) == 0


def test_csv_import_checks_the_header_and_the_encoding(client, app, analyst):
    survey = make_survey()
    page = text(upload(client, survey, b"trust,district,shoe_size,trust\n4,2,44,4\n"))
    assert "Not a question code of this survey" in page and "shoe_size" in page and "appears twice" in page
    page = text(upload(client, survey, "trust,district\n4,2\n".encode("utf-16")))
    assert "not UTF-8" in page
    assert count(Response) == 0


def test_csv_import_stores_every_row_in_one_go(client, app, analyst):
    survey = make_survey()
    template = client.get(f"/staff/surveys/{survey.id}/responses/template.csv").get_data(as_text=True)
    assert template.strip() == "trust,district,contact,kinds,years,comment,mode,language,submitted_on"
    content = ("\ufefftrust,district,kinds,years,comment,mode,submitted_on\r\n"
               "4,2,1;3,12,Street lights,paper,2026-01-05\r\n"
               "-1,1,,,,phone,\r\n"
               ",,,,,,\r\n").encode()  # a blank line is skipped
    response = upload(client, survey, content)
    assert "Imported 2 responses" in text(response)
    rows = db.session.scalars(select(Response).order_by(Response.mode)).all()  # ids are random: paper, phone
    assert [(r.mode, str(r.submitted_on)) for r in rows][0] == ("paper", "2026-01-05") and rows[1].mode == "phone"
    values = {(a.response_id, a.question_id): a for r in rows for a in r.answers}
    trust = next(q for q in survey.questions if q.code == "trust")
    kinds = next(q for q in survey.questions if q.code == "kinds")
    assert values[(rows[0].id, trust.id)].value == 4 and values[(rows[1].id, trust.id)].value == -1
    assert values[(rows[0].id, kinds.id)].value == 0b101
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "responses.import")).one()
    assert entry.details["count"] == 2


# --- Translations ---------------------------------------------------------------------------

def test_translation_coverage_counts_each_text_once_everywhere_it_appears(app):
    survey = make_survey(status="draft")
    total = translation.coverage(survey, "es").total
    originals = [e["original"] for e in translation.texts(survey, "es")]
    assert len(originals) == len(set(originals)) == total
    assert "Strongly agree" in originals  # once, though every scale question has it
    assert translation.unfinished(survey, ["es"]) == []
    changed = translation.translate(survey, "es", {"Strongly agree": "Muy de acuerdo"})
    assert changed == 1
    cover = translation.coverage(survey, "es")
    assert cover.started and not cover.complete and cover.done == 1
    assert [c.language for c in translation.unfinished(survey, ["es"])] == ["es"]
    assert translation.available_languages(survey, ["en", "es"]) == ["en"]
    translation.translate(survey, "es", {o: f"ES {o}" for o in originals})
    assert translation.coverage(survey, "es").complete
    assert translation.available_languages(survey, ["en", "es"]) == ["en", "es"]
    translation.translate(survey, "es", {o: "" for o in originals})
    assert not translation.coverage(survey, "es").started


def test_a_survey_cannot_open_half_translated(client, app):
    survey = make_survey(status="draft")
    user = make_user("editor")
    sign_in(client, user.email)
    path = f"/staff/surveys/{survey.id}/translations/es"
    page = text(client.get(path))
    assert "0 of" in page and "Not started" in page
    key = re.search(r'<label class="question-label" for="(t-[0-9a-f]{16})">I trust the police\.</label>', page).group(1)
    assert post(client, path, {key: "Confío en la policía.", "action": "save"}, token_page=path).status_code == 303
    status_path = f"/staff/surveys/{survey.id}/status"
    refused = post(client, status_path, {"status": "open"}, token_page=f"/staff/surveys/{survey.id}")
    assert refused.status_code == 303
    assert "cannot open with a language half-translated" in text(client.get(f"/staff/surveys/{survey.id}"))
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).status == "draft"
    # Finish it (every text), and it opens; residents get Spanish.
    page = text(client.get(path))
    keys = re.findall(r'for="(t-[0-9a-f]{16})"', page)
    post(client, path, {**{k: f"ES {i}" for i, k in enumerate(keys)}, "action": "save"}, token_page=path)
    post(client, status_path, {"status": "open"}, token_page=f"/staff/surveys/{survey.id}")
    db.session.expire_all()
    assert db.session.get(Survey, survey.id).status == "open"
    resident = app.test_client()
    assert '<html lang="es">' in text(resident.get("/s/small?lang=es"))
