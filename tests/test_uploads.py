"""Uploads within their documented limits, and malformed files answered in words, never with a
500: replayed against a real gunicorn (the outside test's reproductions)."""
from __future__ import annotations

import html

from .factories import make_survey
from .http_browser import Browser
from .staff_helpers import PASSWORD, finished_job_page, make_user


def staff(real_server, role: str = "admin") -> Browser:
    make_user(role)
    browser = Browser(real_server.base_url)
    reply = browser.submit("/staff/login", {"email": f"{role}@city.example", "password": PASSWORD, "next": ""})
    assert reply.status == 302
    return browser


def responses_csv(rows: int, comment: str) -> bytes:
    header = "trust,district,contact,kinds,years,comment\n"
    return (header + "".join(f"4,2,1,1;3,12,{comment}\n" for _ in range(rows))).encode()


def test_a_responses_file_under_the_8_mb_limit_is_read_not_refused_as_too_large(real_server, job_worker, app):
    survey = make_survey()
    browser = staff(real_server)
    data = responses_csv(7, "x" * 120_000)  # 0.84 MB: each comment too long for the question
    assert 800_000 < len(data) < 1_000_000
    reply = browser.submit(f"/staff/surveys/{survey.id}/responses/import", {},
                           token_from=f"/staff/surveys/{survey.id}/responses", files={"file": ("big.csv", data)})
    assert reply.status == 303, reply.status  # taken, and checked in the background
    _states, reply = finished_job_page(browser, reply.location)
    page = html.unescape(reply.text)  # its problems named, nothing stored
    assert "Nothing was imported: 7 problems" in page and "Please shorten your answer to 20 characters" in page
    too_big = browser.submit(f"/staff/surveys/{survey.id}/responses/import", {},
                             token_from=f"/staff/surveys/{survey.id}/responses",
                             files={"file": ("huge.csv", b"q_trust\n" + b"4\n" * 4_300_000)})
    assert too_big.status == 413 and "That was too much data" in html.unescape(too_big.text)


def test_a_cell_over_128_kb_is_a_message_not_a_server_error(real_server, job_worker, app):
    survey = make_survey()
    browser = staff(real_server)
    reply = browser.submit(f"/staff/surveys/{survey.id}/responses/import", {},
                           token_from=f"/staff/surveys/{survey.id}/responses",
                           files={"file": ("cell.csv", b'comment\n"' + b"y" * 200_000 + b'"\n')})
    assert reply.status == 303, reply.status
    _states, reply = finished_job_page(browser, reply.location)
    assert reply.status == 200 and "cannot be read as CSV" in html.unescape(reply.text)
    margins = browser.submit(f"/staff/surveys/{survey.id}/weighting/csv", {},
                             token_from=f"/staff/surveys/{survey.id}/weighting",
                             files={"file": ("margins.csv", b'variable,category,population,source\ndistrict,"'
                                             + b"z" * 200_000 + b'",10,x\n')})
    assert margins.status == 422 and "cannot be read as CSV" in html.unescape(margins.text)


def test_json_nested_40000_deep_or_with_a_5000_digit_number_is_a_message(real_server, app):
    browser = staff(real_server)
    for content, words in ((b"[" * 40_000 + b"]" * 40_000, "nested too deeply"),
                           (b'{"slug": "x", "title": "X", "min_cell_size": ' + b"7" * 5_000 + b', "pages": []}',
                            "thousands of digits")):
        reply = browser.submit("/staff/surveys/import", {}, files={"file": ("survey.json", content)})
        assert reply.status == 422, reply.status
        assert words in html.unescape(reply.text)


def test_a_display_condition_nested_too_deeply_is_a_message(real_server, app):
    survey = make_survey(status="draft")
    browser = staff(real_server)
    page_id = survey.pages[0].id
    reply = browser.submit(f"/staff/surveys/{survey.id}/pages/{page_id}", {
        "title": "Views", "display_condition": "[" * 2_400 + "]" * 2_400}, token_from=f"/staff/surveys/{survey.id}")
    assert reply.status == 303  # back to the survey page, the reason shown there
    assert "nested too deeply" in html.unescape(browser.get(reply.location).text)


def test_only_signed_in_staff_may_send_a_large_body(real_server, app):
    survey = make_survey()
    anonymous = Browser(real_server.base_url)
    reply = anonymous.request("POST", f"/staff/surveys/{survey.id}/responses/import",
                              files={"file": ("big.csv", responses_csv(7, "x" * 120_000))})
    assert reply.status == 413  # the app's small default limit, before anything reads the body


def test_a_response_id_beyond_64_bits_is_not_found_not_a_server_error(real_server, app):
    survey = make_survey()
    browser = staff(real_server)
    assert browser.get(f"/staff/surveys/{survey.id}/responses/{2 ** 64}").status == 404
    assert browser.get(f"/staff/surveys/{survey.id}/responses/{2 ** 63 - 1}").status == 404
