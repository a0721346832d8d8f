"""The synthetic generator: deterministic, valid, and with the group differences it promises."""
import numpy as np
import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Response
from survey_app.questionnaire.definition import survey_from_definition
from survey_app.questionnaire.demo import COMMUNITY_TRUST
from survey_app.seeding import insert_synthetic_responses
from survey_app.synthetic import NOT_ANSWERED, generate_responses

from .factories import make_survey


@pytest.fixture(scope="module")
def demo_questions():
    return survey_from_definition(COMMUNITY_TRUST).questions


@pytest.fixture(scope="module")
def big(demo_questions):
    return generate_responses(demo_questions, 20_000, seed=7)


def test_same_seed_same_data_other_seed_other_data(demo_questions):
    a = generate_responses(demo_questions, 500, seed=1)
    b = generate_responses(demo_questions, 500, seed=1)
    c = generate_responses(demo_questions, 500, seed=2)
    for code in a.values:
        assert np.array_equal(a.values[code], b.values[code])
    assert np.array_equal(a.numbers["years_in_city"], b.numbers["years_in_city"], equal_nan=True)
    assert a.texts == b.texts and a.submitted_on == b.submitted_on
    assert not np.array_equal(a.values["trust_overall"], c.values["trust_overall"])


def test_every_answer_is_one_the_question_offers(demo_questions, big):
    for question in demo_questions:
        codes = {o.code for o in question.options}
        if question.type == "multiple_choice":
            masks = big.values[question.code]
            assert (masks[masks != NOT_ANSWERED] < (1 << max(codes))).all()
        elif question.type == "numeric":
            numbers = big.numbers[question.code]
            numbers = numbers[~np.isnan(numbers)]
            assert ((numbers >= 0) & (numbers <= 100) & (numbers == np.round(numbers))).all()
        elif question.type == "text":
            assert all(t is None or len(t) <= 500 for t in big.texts[question.code])
        else:
            values = big.values[question.code]
            assert set(np.unique(values[values != NOT_ANSWERED])) <= codes, question.code
            if question.required:
                assert (values != NOT_ANSWERED).all(), question.code


def test_contact_follow_ups_only_for_those_with_contact(big):
    no_contact = big.values["contact_12m"] == 2
    assert (big.values["contact_satisfaction"][no_contact] == NOT_ANSWERED).all()
    assert (big.values["contact_type"][no_contact] == NOT_ANSWERED).all()
    assert 0.15 < (~no_contact).mean() < 0.35  # about a fifth to a third had contact


def mean_trust(big, where):
    values = big.values["trust_overall"][where]
    return values[values > 0].mean()


def test_groups_differ_plausibly(big):
    district, race, age = big.values["district"], big.values["race_ethnicity"], big.values["age_band"]
    # Districts: North (1) trusts more than South (2), by far more than sampling noise (~0.03).
    assert mean_trust(big, district == 1) - mean_trust(big, district == 2) > 0.4
    # Black residents (3) report less trust than White residents (2); the young less than the old.
    assert mean_trust(big, race == 2) - mean_trust(big, race == 3) > 0.4
    assert mean_trust(big, age == 6) - mean_trust(big, age == 1) > 0.4
    # A reverse-coded item runs the other way.
    high = big.values["trust_overall"] == 5
    unequal = big.values["equal_treatment"]
    assert unequal[high & (unequal > 0)].mean() < unequal[(big.values["trust_overall"] == 1) & (unequal > 0)].mean()
    # Night feels less safe than day (higher code = less safe).
    assert big.values["safe_night"].mean() > big.values["safe_day"].mean() + 0.3
    # Every answer on the 4-point safety scale occurs, "very safe" (1) included.
    for code in ("safe_day", "safe_night"):
        assert set(np.unique(big.values[code])) == {1, 2, 3, 4}


def test_bulk_insert_stores_exactly_what_was_generated(app):
    from survey_app.questionnaire.demo import COMMUNITY_TRUST as demo

    survey = make_survey(demo)
    batch = generate_responses(survey.questions, 250, seed=3)
    with db.engine.begin() as connection:
        assert insert_synthetic_responses(connection, survey, batch, chunk=100) == 250
    expected_answers = (
        sum(int((v != NOT_ANSWERED).sum()) for v in batch.values.values())
        + sum(int((~np.isnan(v)).sum()) for v in batch.numbers.values())
        + sum(sum(t is not None for t in texts) for texts in batch.texts.values())
    )
    assert db.session.scalar(select(func.count()).select_from(Response)) == 250
    assert db.session.scalar(select(func.count()).select_from(Answer)) == expected_answers
    # Response ids are random (not in insertion order): the dates compared as a multiset.
    dates = db.session.scalars(select(Response.submitted_on)).all()
    assert sorted(dates) == sorted(batch.submitted_on)
