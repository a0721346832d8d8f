"""What residents wrote: staff allowed to read written answers find them by words, date, mode,
language and demographic group, page by page, each with its whole response one click away; the
words searched never travel in an address; roles without the right see nothing of it."""
import html
import re

import pytest

from survey_app.forms.response import AnswerValue
from survey_app.responses import record_response

from .factories import make_survey, question
from .staff_helpers import make_user, sign_in, token_from

WORDS = [  # (district, mode, language, what was written)
    (1, "web", "en", "Speeding on Elm Street every night"),
    (1, "paper", "en", "Cars SPEEDING near the school"),
    (2, "web", "es", "Exceso de velocidad en la avenida"),
    (2, "web", "en", "Nothing: I feel safe"),
    (3, "phone", "en", "Broken street lights, 100% of them on my block"),
    (3, "web", "en", "The lights_out report line never answers"),
]


@pytest.fixture
def written(app):
    survey = make_survey()
    ids = []
    for district, mode, language, words in WORDS:
        ids.append(record_response(survey, [AnswerValue(question(survey, "trust").id, value=4),
                                            AnswerValue(question(survey, "district").id, value=district),
                                            AnswerValue(question(survey, "comment").id, text=words)],
                                   mode=mode, language=language))
    record_response(survey, [AnswerValue(question(survey, "trust").id, value=2)])  # wrote nothing
    survey.response_ids = ids
    return survey


def _shown(reply) -> list[str]:
    page = html.unescape(reply.get_data(as_text=True))
    return [re.sub(r"<[^>]+>", "", quote) for quote in re.findall(r"<blockquote[^>]*>(.*?)</blockquote>", page, re.S)]


def _search(client, survey, **fields):
    path = f"/staff/surveys/{survey.id}/written/comment"
    token = token_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields}, follow_redirects=True)


def test_an_editor_reads_every_written_answer_newest_first(client, written):
    sign_in(client, make_user("editor").email)
    reply = client.get(f"/staff/surveys/{written.id}/written/comment")
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    assert sorted(_shown(reply)) == sorted(words for *_, words in WORDS)  # the one who wrote nothing is not listed
    page = reply.get_data(as_text=True)
    assert "6 written answers" in page
    for response_id in written.response_ids:  # each with its whole response one click away
        assert f"/staff/surveys/{written.id}/responses/{response_id}" in page
    fieldwork = client.get(f"/staff/surveys/{written.id}/responses").get_data(as_text=True)
    assert f"/staff/surveys/{written.id}/written/comment" in fieldwork


@pytest.mark.parametrize("fields, expected", [
    ({"search": "speeding"}, [0, 1]),  # upper or lower case alike
    ({"search": "  street  "}, [0, 4]),  # spaces around the words do not count
    ({"search": "100%"}, [4]),  # LIKE's wildcards are taken literally
    ({"search": "lights_out"}, [5]),
    ({"search": "%"}, [4]),
    ({"g_district": "2"}, [2, 3]),
    ({"mode": "paper"}, [1]),
    ({"language": "es"}, [2]),
    ({"g_district": "3", "search": "lights"}, [4, 5]),
    ({"search": "nobody wrote this"}, []),
])
def test_search_and_filters_find_exactly_the_answers(client, written, fields, expected):
    sign_in(client, make_user("editor").email)
    reply = _search(client, written, **fields)
    assert reply.status_code == 200
    assert sorted(_shown(reply)) == sorted(WORDS[i][3] for i in expected)
    page = reply.get_data(as_text=True)
    assert f"{len(expected)} of 6 answers match." in page
    if fields.get("search", "").strip() and expected:
        assert "<mark>" in page  # the words found are highlighted


def test_answers_come_page_by_page_keeping_the_search(client, app):
    from survey_app.written_answers import PAGE_SIZE

    survey = make_survey()
    for i in range(PAGE_SIZE + 5):
        record_response(survey, [AnswerValue(question(survey, "trust").id, value=3),
                                 AnswerValue(question(survey, "district").id, value=1),
                                 AnswerValue(question(survey, "comment").id, text=f"Potholes, note {i}")])
    record_response(survey, [AnswerValue(question(survey, "trust").id, value=3),
                             AnswerValue(question(survey, "district").id, value=1),
                             AnswerValue(question(survey, "comment").id, text="Noise at night")])
    sign_in(client, make_user("admin").email)
    first = _search(client, survey, search="potholes")
    second = _search(client, survey, search="potholes", page="2")
    seen = _shown(first) + _shown(second)
    assert len(_shown(first)) == PAGE_SIZE and len(seen) == PAGE_SIZE + 5
    assert sorted(seen) == sorted(f"Potholes, note {i}" for i in range(PAGE_SIZE + 5))
    assert 'name="page" value="2"' in first.get_data(as_text=True) and "Page 2 of 2" in second.get_data(as_text=True)


def test_the_words_searched_never_travel_in_an_address(client, written):
    sign_in(client, make_user("editor").email)
    page = client.get(f"/staff/surveys/{written.id}/written/comment").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*id="written-filters"', page)
    assert form.group(1) == "post" and "?" not in form.group(2)
    reply = _search(client, written, search="Elm")
    assert [r.headers["Location"] for r in reply.history] == [f"/staff/surveys/{written.id}/written/comment"]
    assert "Elm" not in reply.request.url and "1 of 6 answers match" in reply.get_data(as_text=True)


@pytest.mark.parametrize("role", ["analyst"])
def test_roles_without_the_right_see_no_written_answer(client, written, role):
    sign_in(client, make_user(role).email)
    assert client.get(f"/staff/surveys/{written.id}/written/comment").status_code == 403
    fieldwork = client.get(f"/staff/surveys/{written.id}/responses").get_data(as_text=True)
    assert "/written/" not in fieldwork and "Elm Street" not in fieldwork


def test_only_written_questions_have_the_page(client, written):
    sign_in(client, make_user("editor").email)
    assert client.get(f"/staff/surveys/{written.id}/written/trust").status_code == 404
    assert client.get(f"/staff/surveys/{written.id}/written/nonexistent").status_code == 404
    assert client.get(f"/staff/surveys/{written.id + 999}/written/comment").status_code == 404


def test_the_same_question_in_the_other_waves_is_one_click_away(client, app):
    from survey_app.extensions import db
    from survey_app.models import SurveySeries

    series = SurveySeries(name="Trust series")
    db.session.add(series)
    db.session.commit()
    waves = [make_survey(slug=f"wave-{n}", series_id=series.id, wave=n) for n in (1, 2, 3)]
    for n, survey in enumerate(waves, start=1):
        record_response(survey, [AnswerValue(question(survey, "trust").id, value=3),
                                 AnswerValue(question(survey, "district").id, value=1),
                                 AnswerValue(question(survey, "comment").id, text=f"Said in wave {n}")])
    sign_in(client, make_user("editor").email)
    reply = client.get(f"/staff/surveys/{waves[1].id}/written/comment")
    page = reply.get_data(as_text=True)
    assert _shown(reply) == ["Said in wave 2"]  # this wave's answers only
    assert "wave 2 of “Trust series”" in html.unescape(page)
    for other in (waves[0], waves[2]):
        assert f'href="/staff/surveys/{other.id}/written/comment"' in page
    assert f'href="/staff/surveys/{waves[1].id}/written/comment">wave' not in page  # not to itself
