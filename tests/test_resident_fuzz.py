"""Property-based tests (Hypothesis): random and malformed posts to the resident endpoints never
cause a server error and never store a partial or invalid response."""
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Answer, Response

from .factories import CSRF_PATTERN, make_survey, start

FIELDS = ["q_trust", "q_district", "q_contact", "q_kinds", "q_years", "q_comment", "csrf_token", "action", "code",
          "q_kinds_other", "x", ""]
ACTIONS = ["next", "back", "save", "language:es", "language:xx", "language:", "submit", "", "nonsense"]
values = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.digits + "-.,e", max_size=12),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
    st.sampled_from(["", " ", "NaN", "inf", "-0", "1e400", "\x00", "🙂" * 5, "<script>", "9" * 400]),
)
payloads = st.dictionaries(st.sampled_from(FIELDS), st.one_of(values, st.lists(values, max_size=4)), max_size=8)

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def stored_responses_are_whole(survey) -> None:
    """Every stored response has its required answers and only valid values (never a part of one)."""
    questions = {q.id: q for q in survey.questions}
    required = {q.id for q in survey.questions if q.required}
    for response in db.session.scalars(select(Response)):
        answers = {a.question_id: a for a in db.session.scalars(select(Answer).where(Answer.response_id == response.id))}
        assert required <= set(answers), "a response without its required answers"
        for question_id, answer in answers.items():
            question = questions[question_id]
            codes = {o.code for o in question.options}
            if question.type in ("scale", "single_choice", "dropdown"):
                assert answer.value in codes
            elif question.type == "multiple_choice":
                assert answer.value and answer.value < 2 ** max(codes)
            elif question.type == "numeric":
                assert 0 <= answer.number <= 100 and answer.number == int(answer.number)
            elif question.type == "text":
                assert 0 < len(answer.text) <= 20


@FUZZ
@given(first=payloads, second=payloads, real_token=st.booleans())
def test_random_page_posts_never_fail_or_store_part_of_a_response(app, first, second, real_token):
    survey = _survey()
    client = app.test_client()
    start(client, survey)
    for number, payload in ((1, first), (2, second)):
        form = dict(payload)
        if real_token:
            page = client.get(f"/s/small/page/{number}")
            match = CSRF_PATTERN.search(page.get_data(as_text=True))
            if match:
                form["csrf_token"] = match.group(1)
        response = client.post(f"/s/small/page/{number}", data=form)
        assert response.status_code < 500, (number, form, response.status_code)
    stored_responses_are_whole(survey)


@FUZZ
@given(body=st.binary(max_size=600), content_type=st.sampled_from([
    "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=xyz",
    "text/plain", "application/json", ""]), path=st.sampled_from(["/s/small/start", "/s/small/resume",
                                                                 "/s/small/page/1", "/s/small/page/2"]))
def test_malformed_bodies_never_fail(app, body, content_type, path):
    survey = _survey()
    client = app.test_client()
    start(client, survey)
    response = client.post(path, data=body, content_type=content_type)
    assert response.status_code < 500, (path, content_type, body[:60])
    stored_responses_are_whole(survey)


def _survey():
    from survey_app.models import Survey

    survey = db.session.scalar(select(Survey).where(Survey.slug == "small"))
    return survey if survey is not None else make_survey()


@FUZZ
@given(changes=payloads, drop=st.sets(st.sampled_from(["q_trust", "q_district", "q_years", "q_kinds"])))
def test_nearly_valid_answers_are_stored_whole_or_not_at_all(app, changes, drop):
    from .factories import valid_answers

    survey = _survey()
    data = {k: v for k, v in valid_answers(survey).items() if k not in drop}
    data.update({k: v for k, v in changes.items() if k.startswith("q_")})
    client = app.test_client()
    before = db.session.scalar(select(db.func.count()).select_from(Response))
    start(client, survey)
    finished = False
    for number, names in ((1, {"q_trust", "q_district", "q_contact"}), (2, {"q_kinds", "q_years", "q_comment",
                                                                          "q_kinds_other"})):
        token = CSRF_PATTERN.search(client.get(f"/s/small/page/{number}").get_data(as_text=True))
        if token is None:
            break
        form = {k: v for k, v in data.items() if k in names}
        response = client.post(f"/s/small/page/{number}", data={**form, "csrf_token": token.group(1), "action": "next"})
        assert response.status_code < 500
        finished = response.headers.get("Location", "").endswith("/thanks")
        if response.status_code != 303:
            break
    after = db.session.scalar(select(db.func.count()).select_from(Response))
    assert after == before + (1 if finished else 0)
    stored_responses_are_whole(survey)
