"""Response ids are random 63-bit integers on every way in, so that their order says nothing about
the order of submission (issue 18, item 4); a taken id is drawn again, never a lost submission."""
from __future__ import annotations

import itertools

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from survey_app import create_app, responses, seeding
from survey_app.extensions import db
from survey_app.forms.response import AnswerValue
from survey_app.models import Answer, Response, ResponseDraft
from survey_app.synthetic import generate_responses

from .conftest import fresh_database, make_test_config
from .factories import add_response, make_survey, question, submit, valid_answers
from .http_browser import Browser

TOP = 2**63 - 1


def stored_ids() -> set[int]:
    db.session.remove()
    return set(db.session.scalars(select(Response.id)))


def test_successive_submissions_get_ids_that_do_not_follow_their_order(real_server, app):
    survey = make_survey()
    answers = valid_answers(survey)
    in_order = []
    for _ in range(8):
        before = stored_ids()
        resident = Browser(real_server.base_url)
        resident.submit("/s/small/start", {}, token_from="/s/small")
        resident.submit("/s/small/page/1", {k: answers[k] for k in ("q_trust", "q_district", "q_contact")})
        done = resident.submit("/s/small/page/2", {k: answers[k] for k in ("q_kinds", "q_years", "q_comment")})
        assert done.status == 303 and done.location.endswith("/thanks")
        (new,) = stored_ids() - before
        in_order.append(new)
    assert all(1 <= i <= TOP for i in in_order)
    # Sorted by chance: 1 in 8! (40,320). Ids of a sequence would be sorted every time.
    assert in_order != sorted(in_order)
    assert max(in_order) - min(in_order) > 2**32  # spread over the 63 bits, not a shuffled counter


def taken_first(monkeypatch, taken: int, times: int = 1):
    """The next ``times`` ids drawn are ``taken``; then random again."""
    drawn = itertools.chain([taken] * times, iter(responses.new_response_id, None))
    monkeypatch.setattr(responses, "new_response_id", lambda: next(drawn))


def test_a_resident_submission_that_draws_a_taken_id_is_stored_under_another(client, app, monkeypatch):
    # The INSERT skips the taken id (ON CONFLICT DO NOTHING) and draws again, on both databases.
    survey = make_survey()
    existing = add_response(survey, trust=4)
    taken_first(monkeypatch, existing, times=2)
    response = submit(client, survey, valid_answers(survey))
    assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
    db.session.remove()
    ids = set(db.session.scalars(select(Response.id)))
    assert len(ids) == 2 and existing in ids
    assert db.session.scalar(select(func.count()).select_from(ResponseDraft)) == 0
    (new,) = ids - {existing}
    comment = db.session.scalar(select(Answer.text).where(Answer.response_id == new, Answer.text.is_not(None)))
    assert comment == "Street lights"
    # The response that had the id keeps its own answers only.
    assert db.session.scalar(select(func.count()).select_from(Answer).where(Answer.response_id == existing)) == 1


def test_keyed_in_and_bulk_responses_draw_again_too(app, monkeypatch):
    survey = make_survey()
    existing = add_response(survey, trust=4)
    taken_first(monkeypatch, existing)
    keyed = responses.record_response(survey, [AnswerValue(question(survey, "trust").id, 2, None, None)], "paper")
    assert keyed != existing
    taken_first(monkeypatch, existing)
    batch = generate_responses(survey.questions, 30, seed=4)
    with db.engine.begin() as connection:
        assert seeding.insert_synthetic_responses(connection, survey, batch) == 30
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 32
    orphans = db.session.scalar(select(func.count()).select_from(Answer).where(
        Answer.response_id.not_in(select(Response.id))))
    assert orphans == 0


def test_an_id_source_that_only_repeats_fails_loudly(app, monkeypatch):
    import pytest

    survey = make_survey()
    existing = add_response(survey, trust=4)
    monkeypatch.setattr(responses, "new_response_id", lambda: existing)
    with pytest.raises(responses.ResponseIdsExhausted):
        responses.record_response(survey, [AnswerValue(question(survey, "trust").id, 2, None, None)])
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1


def test_the_migration_gives_stored_responses_random_ids_and_keeps_their_answers(tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app(make_test_config(url, tmp_path / "generated"))
        with app.app_context():
            upgrade(revision="d7a3f9c2e5b1")
            survey = make_survey()  # the tables a response needs are as they were at that revision
            comment = question(survey, "comment").id
            with db.engine.begin() as connection:
                for n in range(1, 6):
                    connection.execute(text("INSERT INTO response (survey_id, submitted_on, mode, language) "
                                            f"VALUES ({survey.id}, '2026-01-0{n}', 'web', 'en')"))
                connection.execute(text(f"INSERT INTO answer (response_id, question_id, text) "
                                        f"SELECT id, {comment}, 'answer of ' || submitted_on FROM response"))
                connection.execute(text(
                    "INSERT INTO response_draft (survey_id, token_hash, answers, page, furthest, language, saved_on) "
                    f"VALUES ({survey.id}, 'h', '{{\"q_comment\": [\"half\"]}}', 0, 0, 'en', '2026-01-05')"))
                before = dict(connection.execute(text("SELECT id, submitted_on FROM response")).all())
            upgrade()
            with db.engine.connect() as connection:
                after = dict(connection.execute(text("SELECT id, submitted_on FROM response")).all())
                pairs = connection.execute(text(
                    "SELECT r.submitted_on, a.text FROM answer a JOIN response r ON r.id = a.response_id")).all()
                drafts_left = connection.execute(text("SELECT COUNT(*) FROM response_draft")).scalar_one()
            assert sorted(map(str, after.values())) == sorted(map(str, before.values()))
            assert not set(after) & set(before) and all(1 <= i <= TOP for i in after)
            assert sorted((str(d), t) for d, t in pairs) == sorted((str(d), f"answer of {d}") for d in before.values())
            assert drafts_left == 0  # answers in progress cannot be sealed without their codes
            downgrade(revision="d7a3f9c2e5b1")  # back to a sequence: ids 1 to n, answers with them
            with db.engine.begin() as connection:
                assert sorted(connection.execute(text("SELECT id FROM response")).scalars()) == [1, 2, 3, 4, 5]
                pairs = connection.execute(text(
                    "SELECT r.submitted_on, a.text FROM answer a JOIN response r ON r.id = a.response_id")).all()
                assert sorted((str(d), t) for d, t in pairs) == sorted(
                    (str(d), f"answer of {d}") for d in before.values())
                connection.execute(text("INSERT INTO response (survey_id, submitted_on, mode, language) "
                                        f"VALUES ({survey.id}, '2026-01-06', 'web', 'en')"))
                assert connection.execute(text("SELECT MAX(id) FROM response")).scalar_one() == 6
            db.session.remove()
            db.engine.dispose()
