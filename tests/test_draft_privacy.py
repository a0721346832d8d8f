"""Answers in progress: readable only with their resume code, never left beside a code in the
database files after submitting, and never put aside by a code someone else sent (issue 18,
items 3 and 5), replayed over HTTP against gunicorn."""
from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select, text

from survey_app import access_codes, create_app, drafts, invitations
from survey_app.extensions import db
from survey_app.models import Invitation, Response, ResponseDraft

from .conftest import make_test_config
from .factories import make_survey, valid_answers
from .http_browser import Browser
from .raw_database_files import postgres_file, postgres_wal_records, sqlite_pages, sqlite_table_pages

PAGE_1 = ("q_trust", "q_district", "q_contact")
PAGE_2 = ("q_kinds", "q_years", "q_comment")
CODE_SHOWN = re.compile(r"<strong>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</strong>")


def invitation_survey(n: int = 2):
    survey = make_survey(access_mode="invitation")
    _, codes = invitations.generate(survey, n)
    db.session.commit()
    return survey, codes


def fields(survey, names, **changes) -> dict:
    answers = valid_answers(survey)
    return {**{name: answers[name] for name in names}, **changes}


def secret_text() -> str:
    """A free-text answer no other row of any test holds (the comment takes up to 20 characters)."""
    return "Zq" + secrets.token_hex(7)


def test_a_submitted_invitation_draft_leaves_no_answer_beside_a_code(real_server, app, database_url):
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:  # full-page images from here on: the WAL then holds whole pages of every table touched
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CHECKPOINT"))
            start_lsn = connection.execute(text("SELECT checkpoint_lsn::text FROM pg_control_checkpoint()")).scalar_one()
    survey, codes = invitation_survey()
    invitation_hash = access_codes.code_hash(access_codes.normalise(codes[0]))
    secret = secret_text()

    resident = Browser(real_server.base_url)
    started = resident.submit("/s/small/start", {"code": codes[0]}, token_from="/s/small")
    assert started.status == 303 and started.location.endswith("/s/small/page/1")
    resume_code = resident.cookies[f"draft-{survey.id}"]
    assert resume_code != access_codes.normalise(codes[0])  # the draft's own code, not the letter's
    resume_hash = access_codes.draft_token(resume_code)
    assert resident.submit("/s/small/page/1", fields(survey, PAGE_1, action="next")).status == 303
    saved = resident.submit("/s/small/page/2", fields(survey, PAGE_2, q_comment=secret, action="save"))
    assert saved.status == 303 and saved.location.endswith("/s/small/saved")
    assert access_codes.display(resume_code) in resident.get("/s/small/saved").text

    # The saved draft, as the database holds it: the resume code's hash, sealed bytes, no answer.
    db.session.remove()
    draft = db.session.scalars(select(ResponseDraft)).one()
    assert draft.token_hash == resume_hash and draft.invitation_id is not None
    assert secret.encode() not in draft.sealed_answers and b"q_comment" not in draft.sealed_answers
    assert drafts.unseal(draft, resume_code)["q_comment"] == [secret]
    with pytest.raises(drafts.DraftUnreadable):
        drafts.unseal(draft, access_codes.normalise(codes[0]))  # the letter's code does not open it
    db.session.remove()

    done = resident.submit("/s/small/page/2", fields(survey, PAGE_2, q_comment=secret, action="next"))
    assert done.status == 303 and done.location.endswith("/s/small/thanks")
    assert db.session.scalar(select(Response.id)) is not None
    assert db.session.scalar(select(Invitation.used).where(Invitation.code_hash == invitation_hash)) is True
    db.session.remove()

    hashes = [invitation_hash.encode(), resume_hash.encode()]
    if postgres:
        _postgres_files_hold_no_answer_beside_a_code(secret.encode(), hashes, start_lsn)
    else:
        _sqlite_files_hold_no_answer_beside_a_code(database_url.removeprefix("sqlite:///"), secret.encode(), hashes)


def _sqlite_files_hold_no_answer_beside_a_code(path: str, secret: bytes, hashes: list[bytes]) -> None:
    pages = sqlite_pages(path)
    owners = sqlite_table_pages(path)
    holding = [page for page in pages if secret in page.data]
    assert holding, "the answer is stored somewhere: the scan must find it"
    for page in holding:
        assert not any(h in page.data for h in hashes), f"{page.where} holds the answer beside a code's hash"
        # Index b-tree pages (0x0a leaf, 0x02 interior): the answer table (WITHOUT ROWID). A draft
        # row lives in a table b-tree page (0x0d), with its invitation id and code hash.
        assert page.kind in (0x0A, 0x02), f"{page.where} (type {page.kind:#x}) holds the answer"
        if page.where.startswith("main"):
            assert owners.get(page.number) == "answer", f"{page.where} ({owners.get(page.number)})"
    draft_pages = {n for n, name in owners.items() if "response_draft" in name}
    assert draft_pages and not any(secret in p.data for p in pages
                                   if p.where.startswith("main") and p.number in draft_pages)


def _postgres_files_hold_no_answer_beside_a_code(secret: bytes, hashes: list[bytes], start_lsn: str) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CHECKPOINT"))  # the heap files as of now, on disk
        end_lsn = connection.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
        database = connection.execute(text(
            "SELECT oid FROM pg_database WHERE datname = current_database()")).scalar_one()
        draft_relations = {(database, node) for node in connection.execute(text(
            "SELECT pg_relation_filenode(c.oid) FROM pg_class c WHERE c.oid = 'response_draft'::regclass "
            "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'response_draft'::regclass) "
            "OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = 'response_draft'::regclass)")).scalars()
            if node}
        for relation in ("response_draft", "uq_response_draft_token_hash", "ix_response_draft_saved_on"):
            assert secret not in postgres_file(connection, relation), relation  # dead rows included
        answer_heap = postgres_file(connection, "answer")
        pages = [answer_heap[i:i + 8192] for i in range(0, len(answer_heap), 8192)]
        assert any(secret in page for page in pages)
        for page in pages:
            assert not (secret in page and any(h in page for h in hashes))
        records = postgres_wal_records(connection, start_lsn, end_lsn)
    holding = [r for r in records if secret in r.data]
    assert holding, "the answer's insert is in the WAL: the scan must find it"
    for record in holding:
        assert not any(h in record.data for h in hashes), f"WAL record at {record.lsn:X} holds a code's hash"
        assert not record.relations & draft_relations, f"WAL record at {record.lsn:X} is the draft table's"


# --- Item 5: a resume link never takes over the draft in progress ------------------------------

def test_a_resume_link_does_not_take_over_the_draft_in_progress(real_server, app):
    survey = make_survey()
    # The attacker starts a draft, saves it, and sends its resume link.
    attacker = Browser(real_server.base_url)
    assert attacker.submit("/s/small/start", {}, token_from="/s/small").status == 303
    assert attacker.submit("/s/small/page/1", fields(survey, PAGE_1, action="save")).status == 303
    saved = attacker.get("/s/small/saved").text
    attacker_code = CODE_SHOWN.search(saved).group(1)
    link = re.search(r'href="(http://[^"]+)"', saved[saved.index("Resume link"):]).group(1)
    assert link.endswith(f"/s/small/resume#{attacker_code}")  # the code never in a path a log keeps

    # The resident is answering in their own browser, on page 2 with page 1 answered.
    resident = Browser(real_server.base_url)
    assert resident.submit("/s/small/start", {}, token_from="/s/small").status == 303
    own_code = resident.cookies[f"draft-{survey.id}"]
    mine = fields(survey, PAGE_1, q_trust=valid_answers(survey)["q_trust"], action="next")
    assert resident.submit("/s/small/page/1", mine).location.endswith("/page/2")

    # Links of the old form (the code in the path) open nothing: the code moves after '#'.
    old = resident.get(f"/s/small/resume/{attacker_code}")
    assert old.status == 303 and old.header("Location").endswith(f"/s/small/resume#{attacker_code}")
    assert old.header("Cache-Control") == "no-store"
    assert resident.cookies[f"draft-{survey.id}"] == own_code
    # The link's page only shows the form (the browser's script fills it in); the resident submits it.
    form = resident.get("/s/small/resume")
    assert form.status == 200 and "js/resume.js" in form.text and attacker_code not in form.text
    asked = resident.post("/s/small/resume", {"csrf_token": form.csrf_token(), "code": attacker_code})
    assert asked.status == 200 and "You already have answers in progress" in asked.text
    assert "Keep mine" in asked.text and "page 2 of 2" in asked.text and "page 1 of 2" in asked.text
    assert resident.cookies[f"draft-{survey.id}"] == own_code  # nothing replaced until the resident chooses
    assert access_codes.display(own_code) in asked.text  # their own code, to come back to if they switch

    # "Keep mine": the resident goes on in their own draft, and submits their own answers.
    keep = re.search(r'<a class="button" href="([^"]+)">Keep mine', asked.text).group(1)
    assert keep.endswith("/s/small/page/2")
    done = resident.submit("/s/small/page/2", fields(survey, PAGE_2, q_comment="resident's own", action="next"))
    assert done.status == 303 and done.location.endswith("/thanks")
    # The attacker's draft saw none of it: still on page 1, and what it holds is what they typed.
    db.session.remove()
    left = db.session.scalars(select(ResponseDraft)).one()
    assert left.token_hash == access_codes.draft_token(access_codes.normalise(attacker_code))
    assert "q_comment" not in drafts.unseal(left, access_codes.normalise(attacker_code))


def test_open_the_other_is_the_residents_own_choice(real_server, app):
    survey = make_survey()
    phone = Browser(real_server.base_url)  # the resident's own draft, saved on their phone
    phone.submit("/s/small/start", {}, token_from="/s/small")
    phone.submit("/s/small/page/1", fields(survey, PAGE_1, action="next"))
    phone_code = phone.cookies[f"draft-{survey.id}"]
    laptop = Browser(real_server.base_url)  # a draft just started on the laptop
    laptop.submit("/s/small/start", {}, token_from="/s/small")
    laptop_code = laptop.cookies[f"draft-{survey.id}"]
    asked = laptop.submit("/s/small/resume", {"code": access_codes.display(phone_code)})
    assert "Open the other answers" in asked.text and laptop.cookies[f"draft-{survey.id}"] == laptop_code
    chosen = laptop.post("/s/small/resume", {"csrf_token": asked.csrf_token(), "code": phone_code, "choice": "other"})
    assert chosen.status == 303 and chosen.location.endswith("/s/small/page/2")
    assert laptop.cookies[f"draft-{survey.id}"] == phone_code
    # A browser without a draft of its own is not asked.
    fresh = Browser(real_server.base_url)
    direct = fresh.submit("/s/small/resume", {"code": phone_code})
    assert direct.status == 303 and direct.location.endswith("/s/small/page/2")


def test_an_invitation_code_does_not_open_answers_saved_elsewhere(real_server, app):
    survey, codes = invitation_survey()
    secret = secret_text()
    first = Browser(real_server.base_url)
    first.submit("/s/small/start", {"code": codes[0]}, token_from="/s/small")
    first.submit("/s/small/page/1", fields(survey, PAGE_1, action="next"))
    first.submit("/s/small/page/2", fields(survey, PAGE_2, q_comment=secret, action="save"))
    resume_code = first.cookies[f"draft-{survey.id}"]

    # Someone with the letter's code (a mail-merge file, an opened envelope) on another device.
    other = Browser(real_server.base_url)
    refused = other.submit("/s/small/start", {"code": codes[0]}, token_from="/s/small")
    assert refused.status == 200 and "started on another device" in refused.text
    assert secret not in refused.text and f"draft-{survey.id}" not in other.cookies
    assert other.get("/s/small/page/2").status == 303  # nothing to show
    # The resume code from "finish later" opens them.
    resumed = other.submit("/s/small/resume", {"code": resume_code}, token_from="/s/small/resume")
    assert resumed.status == 303 and resumed.location.endswith("/s/small/page/2")
    assert secret in other.get("/s/small/page/2").text

    # Without it the resident may start again: the sealed answers are deleted, not handed over.
    third = Browser(real_server.base_url)
    elsewhere = third.submit("/s/small/start", {"code": codes[0]}, token_from="/s/small")
    again = third.post("/s/small/start", {"csrf_token": elsewhere.csrf_token(), "code": codes[0], "choice": "restart"})
    assert again.status == 303 and again.location.endswith("/s/small/page/1")
    assert secret not in third.get("/s/small/page/2").text
    db.session.remove()
    assert db.session.scalar(select(ResponseDraft.sealed_answers)) is None  # a new, empty draft
    assert first.get("/s/small/page/2").status == 303  # the old code opens nothing any more


def test_an_invitation_code_typed_in_a_browser_with_another_draft_asks_first(client, app):
    from .factories import CSRF_PATTERN, start

    survey, codes = invitation_survey()
    start(client, survey, codes[0])
    own = client.get_cookie(f"draft-{survey.id}").value
    asked = start(client, survey, codes[1])  # e.g. a second letter in the same household
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "starts the survey afresh" in page
    assert client.get_cookie(f"draft-{survey.id}").value == own
    token = CSRF_PATTERN.search(page).group(1)
    started = client.post("/s/small/start", data={"csrf_token": token, "code": codes[1], "choice": "other"})
    assert started.status_code == 303 and client.get_cookie(f"draft-{survey.id}").value != own
    assert db.session.scalar(select(db.func.count()).select_from(ResponseDraft)) == 2  # the first is kept


def test_sealed_answers_are_bound_to_their_code_and_survey(app):
    survey = make_survey()
    code = access_codes.new_code()
    sealed = drafts.seal(code, survey.id, {"q_comment": ["private"]})
    assert b"private" not in sealed and drafts.seal(code, survey.id, {}) is None
    assert sealed != drafts.seal(code, survey.id, {"q_comment": ["private"]})  # a fresh nonce each save
    draft = ResponseDraft(id=1, survey_id=survey.id, sealed_answers=sealed)
    assert drafts.unseal(draft, code) == {"q_comment": ["private"]}
    with pytest.raises(drafts.DraftUnreadable):
        drafts.unseal(draft, access_codes.new_code())
    with pytest.raises(drafts.DraftUnreadable):  # copied into another survey's draft
        drafts.unseal(ResponseDraft(id=2, survey_id=survey.id + 1, sealed_answers=sealed), code)
    # The key is not the lookup token, nor derived from what the database holds.
    assert access_codes.answers_key(code).hex() not in access_codes.draft_token(code)


def test_a_resume_code_is_found_by_a_keyed_hash_that_a_database_copy_cannot_test_guesses_against(app):
    """A plain SHA-256 of a 60-bit code lets someone with the database test each guess against every
    draft at once; the stored token is an HMAC under a key derived from SECRET_KEY, kept nowhere in
    the database, and the sealing key is salted with it too."""
    import hashlib

    code = access_codes.new_code()
    token = access_codes.draft_token(code)
    assert token != hashlib.sha256(code.encode()).hexdigest() and len(token) == 64
    key = access_codes.answers_key(code)
    other_site = create_app({**make_test_config(app.config["SQLALCHEMY_DATABASE_URI"], app.config["GENERATED_DIR"]),
                             "SECRET_KEY": "another-site-" + "k" * 40})
    with other_site.app_context():
        assert access_codes.draft_token(code) != token and access_codes.answers_key(code) != key
