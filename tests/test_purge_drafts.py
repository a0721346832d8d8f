"""Unfinished answers really go: after DRAFT_DAYS days (`flask purge-drafts`, run by a scheduler),
and at once when a survey closes (issue 18, item 7)."""
from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select

from survey_app import drafts
from survey_app.extensions import db
from survey_app.models import ResponseDraft, utcnow

from .factories import make_survey, post_page, start, valid_answers
from .staff_helpers import make_user, post, sign_in


def draft_in(app, survey, days_ago: int = 0) -> int:
    """A draft of ``survey`` with page 1 answered, last saved ``days_ago`` days ago; its id."""
    browser = app.test_client()
    start(browser, survey)
    post_page(browser, survey, 1, valid_answers(survey), action="save")
    db.session.expire_all()
    draft = db.session.scalars(select(ResponseDraft).order_by(ResponseDraft.id.desc())).first()
    draft.saved_on = utcnow().date() - dt.timedelta(days=days_ago)
    db.session.commit()
    return draft.id


def drafts_left() -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(ResponseDraft.id)))


def test_purge_drafts_deletes_expired_drafts_and_those_of_closed_surveys(app, runner):
    open_survey = make_survey()
    closed = make_survey(slug="closed")
    past_date = make_survey(slug="past-date")
    later = make_survey(slug="later", closes_at=utcnow() + dt.timedelta(days=3))
    kept = {draft_in(app, open_survey), draft_in(app, open_survey, days_ago=drafts.DRAFT_DAYS),
            draft_in(app, later)}
    expired = draft_in(app, open_survey, days_ago=drafts.DRAFT_DAYS + 1)
    of_closed = {draft_in(app, closed), draft_in(app, past_date)}
    closed.status = "closed"  # e.g. closed while this command was not yet scheduled
    past_date.closes_at = utcnow() - dt.timedelta(minutes=1)  # closed by its date, by nobody
    db.session.commit()
    assert drafts_left() == kept | {expired} | of_closed
    result = runner.invoke(args=["purge-drafts"])
    assert result.exit_code == 0, result.output
    assert "Deleted 3 unfinished drafts" in result.output
    assert ("vacuumed response_draft" in result.output) == (db.engine.dialect.name == "postgresql")
    assert drafts_left() == kept
    again = runner.invoke(args=["purge-drafts"])
    assert "Deleted 0 unfinished drafts" in again.output and drafts_left() == kept


def test_closing_a_survey_deletes_its_drafts_at_once(client, app):
    survey = make_survey()
    other = make_survey(slug="other")
    doomed = {draft_in(app, survey), draft_in(app, survey)}
    kept = {draft_in(app, other)}
    assert drafts_left() == doomed | kept
    make_user("admin")
    sign_in(client, "admin@city.example")
    closed = post(client, f"/staff/surveys/{survey.id}/status", {"status": "closed"})
    assert closed.status_code == 303
    assert drafts_left() == kept



def test_the_daily_run_leaves_no_transaction_id_pairing_an_invitation_or_a_tally_with_a_response(app, runner):
    """PostgreSQL stamps the rows of one transaction with one id (xmin): the used invitation and the
    response it stored share one, as do a keyed-in response and the day's tally, until purge-drafts
    writes those rows again in one transaction."""
    import pytest
    from sqlalchemy import text

    from survey_app import invitations

    from .factories import submit

    if db.engine.dialect.name != "postgresql":
        pytest.skip("transaction ids on rows are PostgreSQL's")
    survey = make_survey(access_mode="invitation", status="draft")
    _, codes = invitations.generate(survey, 2)
    survey.status = "open"
    db.session.commit()
    assert submit(app.test_client(), survey, valid_answers(survey), code=codes[0]).status_code == 303
    staff = app.test_client()
    sign_in(staff, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/responses/new/paper"
    assert post(staff, path, valid_answers(survey), token_page=path).status_code == 303
    # A CSV import's job ends in the transaction that stores its responses (times to the second).
    imported = post(staff, f"/staff/surveys/{survey.id}/responses/import",
                    {"file": (io.BytesIO(b"trust,district\n4,2\n"), "paper.csv")},
                    token_page=f"/staff/surveys/{survey.id}/responses", content_type="multipart/form-data")
    assert imported.status_code == 303

    def pairs():
        db.session.rollback()
        return db.session.execute(text(
            "SELECT (SELECT count(*) FROM invitation i JOIN response r ON i.xmin = r.xmin), "
            "(SELECT count(*) FROM audit_entry a JOIN response r ON a.xmin = r.xmin), "
            "(SELECT count(*) FROM job j JOIN response r ON j.xmin = r.xmin)")).one()

    assert pairs() == (1, 2, 1)  # the links the daily run must break (the test fails without it)
    result = runner.invoke(args=["purge-drafts"])
    assert result.exit_code == 0 and "Rewrote used invitations" in result.output
    assert pairs() == (0, 0, 0)
