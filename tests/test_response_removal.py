"""Stored responses: the list, one response, removal by editors and admins (issue 18 item 2), and
data-entry auditing that points at no response and carries no time finer than the date (item 4)."""
import datetime as dt
import html
import io
import json
import re

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, AuditEntry, Response
from survey_app.responses import store_response

from .factories import add_response, make_survey, option_id
from .staff_helpers import make_user, post, sign_in


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def survey(app):
    return make_survey()


def a_response(survey) -> int:
    return add_response(survey, trust=4, district=2, kinds=[1, 3], years=12, comment="Street lights")


def fieldwork_count(client, survey, mode="web") -> int:
    page = page_text(client.get(f"/staff/surveys/{survey.id}/responses"))
    return int(re.search(rf'<th scope="row">{mode}</th><td>(\d+)</td>', page)[1])


# --- The list and one response ------------------------------------------------------------------

def test_the_list_is_paged_newest_date_first(client, survey):
    first = dt.date(2026, 10, 1)
    for day in range(55):
        store_response(survey.id, [], "paper" if day % 2 else "web", "en", submitted_on=first + dt.timedelta(days=day))
    db.session.commit()
    sign_in(client, make_user("analyst").email)
    page_one = page_text(client.get(f"/staff/surveys/{survey.id}/responses/list"))
    dates = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td>", page_one)
    assert len(dates) == 50 and dates == sorted(dates, reverse=True) and dates[0] == "2026-11-24"
    assert "Page 1 of 2" in page_one and "Responses 1–50 of 55" in page_one
    page_two = page_text(client.get(f"/staff/surveys/{survey.id}/responses/list?page=2"))
    assert re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td>", page_two) == ["2026-10-05", "2026-10-04", "2026-10-03",
                                                                     "2026-10-02", "2026-10-01"]
    # Each row links to its response with the id as it is (random, large).
    ids = {str(i) for i in db.session.scalars(select(Response.id))}
    linked = set(re.findall(rf"/staff/surveys/{survey.id}/responses/(\d+)\"", page_one + page_two))
    assert linked == ids


def test_written_answers_are_for_editors_and_admins_only(client, survey):
    response_id = a_response(survey)
    path = f"/staff/surveys/{survey.id}/responses/{response_id}"
    sign_in(client, make_user("analyst").email)
    shown = page_text(client.get(path))
    assert "Agree" in shown and "South" in shown and "Phone; Car" in shown and "12" in shown
    assert "Street lights" not in shown and "Written answers are shown to editors and admins only" in shown
    assert "Remove this response" not in shown
    post(client, "/staff/logout")
    for role in ("editor", "admin"):
        sign_in(client, make_user(role).email)
        shown = page_text(client.get(path))
        assert "Street lights" in shown and "Remove this response" in shown
        post(client, "/staff/logout")


def test_another_surveys_response_is_not_found_here(client, survey):
    other = make_survey(slug="other")
    response_id = a_response(other)
    sign_in(client, make_user("editor").email)
    assert client.get(f"/staff/surveys/{survey.id}/responses/{response_id}").status_code == 404
    assert client.get(f"/staff/surveys/{survey.id}/responses/{response_id}/remove").status_code == 404


# --- Removal -----------------------------------------------------------------------------------------

def test_an_analyst_may_not_remove_a_response(client, survey):
    response_id = a_response(survey)
    sign_in(client, make_user("analyst").email)
    path = f"/staff/surveys/{survey.id}/responses/{response_id}/remove"
    assert client.get(path).status_code == 403
    assert post(client, path, {"reason": "test"}).status_code == 403
    assert count(Response) == 1


def test_removal_needs_a_reason_and_csrf(client, survey):
    response_id = a_response(survey)
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/responses/{response_id}/remove"
    confirm = page_text(client.get(path))
    assert "deletes this response and its 5 answers for good" in confirm
    for reason in ("", "   "):
        refused = post(client, path, {"reason": reason}, token_page=path)
        assert refused.status_code == 422 and "Give the reason for removing this response" in page_text(refused)
    too_long = post(client, path, {"reason": "x" * 1001}, token_page=path)
    assert too_long.status_code == 422 and "x" * 1001 in page_text(too_long)  # what was typed is kept
    assert client.post(path, data={"reason": "a test"}).status_code == 400  # no CSRF token
    assert count(Response) == 1 and count(AuditEntry, AuditEntry.action == "response.remove") == 0


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_removal_deletes_the_response_audited_without_its_answers(client, survey, role):
    keep = add_response(survey, trust=2, district=1)
    response_id = a_response(survey)
    db.session.execute(Response.__table__.update().where(Response.id == response_id).values(
        mode="paper", language="es", submitted_on=dt.date(2026, 11, 3)))
    db.session.commit()
    user = make_user(role)
    sign_in(client, user.email)
    assert fieldwork_count(client, survey, "paper") == 1 and fieldwork_count(client, survey, "web") == 1
    path = f"/staff/surveys/{survey.id}/responses/{response_id}/remove"
    done = post(client, path, {"reason": "Keyed in twice by mistake"}, token_page=path)
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/staff/surveys/{survey.id}/responses/list")
    db.session.expire_all()
    assert db.session.scalars(select(Response.id)).all() == [keep]
    assert count(Answer, Answer.response_id == response_id) == 0
    assert fieldwork_count(client, survey, "paper") == 0 and fieldwork_count(client, survey, "web") == 1
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "response.remove")).one()
    assert entry.user_email == user.email and entry.target == "survey small"
    assert entry.details == {"reason": "Keyed in twice by mistake", "mode": "paper", "language": "es",
                             "submitted_on": "2026-11-03"}
    stored = json.dumps(entry.details)
    assert "Street lights" not in stored and str(response_id) not in stored
    assert client.get(f"/staff/surveys/{survey.id}/responses/{response_id}").status_code == 404


def test_a_removed_response_leaves_the_next_analysis(runner, client, app, survey):
    for i in range(12):
        add_response(survey, trust=4, district=1 + i % 3, years=10)
    odd = add_response(survey, trust=1, district=1, years=99)
    assert "Analysed 'small': 13 responses" in runner.invoke(args=["analyze", "small"]).output
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}/responses/{odd}/remove"
    assert post(client, path, {"reason": "A test by the survey team"}, token_page=path).status_code == 303
    assert "Analysed 'small': 12 responses" in runner.invoke(args=["analyze", "small"]).output


# --- Data-entry auditing (item 4) ------------------------------------------------------------------

def test_data_entry_is_tallied_per_day_with_no_response_and_no_time(client, survey):
    editor = make_user("editor")
    sign_in(client, editor.email)
    answers = {"q_trust": option_id(survey, "trust", 4), "q_district": option_id(survey, "district", 2)}
    for mode, times in (("paper", 3), ("phone", 2)):
        path = f"/staff/surveys/{survey.id}/responses/new/{mode}"
        for _ in range(times):
            assert post(client, path, answers, token_page=path).status_code == 303
    path = f"/staff/surveys/{survey.id}/responses"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True))[1]
    csv_file = (io.BytesIO(b"trust,district,mode\n4,2,paper\n3,1,phone\n5,3,\n"), "batch.csv")
    assert client.post(f"{path}/import", data={"csrf_token": token, "file": csv_file},
                       content_type="multipart/form-data").status_code == 303
    assert count(Response) == 8
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("responses.%"))
                                 .order_by(AuditEntry.id)).all()
    today = dt.datetime.now(dt.timezone.utc).date()
    assert [(e.action, e.details) for e in entries] == [
        ("responses.enter", {"mode": "paper", "count": 3}),
        ("responses.enter", {"mode": "phone", "count": 2}),
        ("responses.import", {"count": 3, "file": "batch.csv"}),
    ]
    response_ids = {str(i) for i in db.session.scalars(select(Response.id))}
    for entry in entries:
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=dt.timezone.utc)
        assert at == dt.datetime.combine(today, dt.time.min, tzinfo=dt.timezone.utc)  # the day, not the time
        assert entry.user_email == editor.email
        assert not response_ids & set(re.findall(r"\d+", json.dumps(entry.details) + entry.target))
    # The audit page reads well: the day, and what was done, in words.
    post(client, "/staff/logout")
    sign_in(client, make_user("admin").email)
    log = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page_text(client.get("/staff/audit"))))
    assert f"{today.isoformat()} (day)" in log
    assert "3 paper responses keyed in that day" in log and "2 phone responses keyed in that day" in log
    assert "3 responses imported from “batch.csv”" in log


def test_the_tally_is_per_staff_member(client, survey):
    answers = {"q_trust": option_id(survey, "trust", 4), "q_district": option_id(survey, "district", 2)}
    path = f"/staff/surveys/{survey.id}/responses/new/paper"
    ana, ben = make_user("editor", "ana@city.example"), make_user("analyst", "ben@city.example")
    for user, times in ((ana, 2), (ben, 1), (ana, 1)):
        sign_in(client, user.email)
        for _ in range(times):
            assert post(client, path, answers, token_page=path).status_code == 303
        post(client, "/staff/logout")
    tallies = {e.user_email: e.details["count"] for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "responses.enter"))}
    assert tallies == {"ana@city.example": 3, "ben@city.example": 1}
    assert count(AuditEntry, AuditEntry.action == "responses.enter") == 2  # one entry each, not one per response


def test_the_list_filters_by_mode_language_dates_and_district(client, survey):
    first = dt.date(2026, 10, 1)
    for day in range(30):
        mode, language = ("paper" if day % 3 == 0 else "web"), ("es" if day % 5 == 0 else "en")
        store_response(survey.id, [], mode, language, submitted_on=first + dt.timedelta(days=day))
    db.session.commit()
    north = [add_response(survey, district=1) for _ in range(4)]  # today, web, English
    sign_in(client, make_user("analyst").email)
    path = f"/staff/surveys/{survey.id}/responses/list"
    listed = page_text(client.get(f"{path}?mode=paper&since=2026-10-05&until=2026-10-20"))
    dates = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d)</td><td>(\w+)</td>", listed)
    expected = [(str(first + dt.timedelta(days=d)), "paper") for d in range(29, -1, -1)
                if d % 3 == 0 and dt.date(2026, 10, 5) <= first + dt.timedelta(days=d) <= dt.date(2026, 10, 20)]
    assert dates == expected and f"{len(expected)} of 34 responses match." in listed
    assert len(re.findall(r"<tr><td>", page_text(client.get(f"{path}?language=es")))) == 6
    district = page_text(client.get(f"{path}?g_district=1"))
    assert "4 of 34 responses match." in district
    assert set(re.findall(rf"/responses/(\d+)\"", district)) == {str(i) for i in north}
    # A date that cannot be read is said in words; the other filters still apply; paging keeps them.
    bad = page_text(client.get(f"{path}?mode=web&since=30/11/2026"))
    assert "From: “30/11/2026” is not a date; write it as YYYY-MM-DD" in bad and "of 34 responses match." in bad
    assert 'value="30/11/2026"' in bad
    crossed = page_text(client.get(f"{path}?mode=paper&since=2026-10-20&until=2026-10-05"))
    assert "From (2026-10-20) is after To (2026-10-05): no response could match, so neither date is used." in crossed
    assert "10 of 34 responses match." in crossed  # the paper ones, whatever their date
    for day in range(40):  # more than a page of web responses: the pages' links keep the filter
        store_response(survey.id, [], "web", "en", submitted_on=first)
    db.session.commit()
    many = page_text(client.get(f"{path}?mode=web&g_district=2"))
    assert "0 of 74 responses match." in many and "No response matches these filters." in many
    many = page_text(client.get(f"{path}?mode=web"))
    nav = re.search(r'<nav aria-label="Pages of responses">.*?</nav>', many, re.S)[0]
    assert "Page 1 of 2" in nav and "mode=web" in nav and "page=2" in nav
