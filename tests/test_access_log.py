"""gunicorn's access log (when turned on) writes no line for a resident's request: no time, no
path, for the welcome page, Start, the pages saved and the one that submits."""
import time

import pytest

from .factories import make_survey, valid_answers
from .http_browser import Browser


@pytest.fixture
def real_server_env():
    return {"GUNICORN_ACCESS_LOG": "-"}


def test_the_access_log_has_no_line_for_a_resident_request(real_server, app):
    survey = make_survey()
    resident = Browser(real_server.base_url)
    assert resident.get("/s/small").status == 200
    started = resident.submit("/s/small/start", {}, token_from="/s/small")
    assert started.status == 303 and started.location.endswith("/page/1")
    answers = valid_answers(survey)
    first = resident.submit("/s/small/page/1", {k: answers[k] for k in ("q_trust", "q_district", "q_contact")})
    assert first.status == 303 and first.location.endswith("/page/2")
    last = resident.submit("/s/small/page/2", {k: answers[k] for k in ("q_kinds", "q_years", "q_comment")})
    assert last.status == 303 and last.location.endswith("/thanks")
    staff = Browser(real_server.base_url)
    assert staff.get("/staff/login").status == 200
    assert staff.get("/results/").status == 200
    deadline = time.monotonic() + 10
    while '"GET /results/ HTTP/1.1" 200' not in real_server.log() and time.monotonic() < deadline:
        time.sleep(0.1)  # each worker writes its lines when it gets to them
    log = real_server.log()
    assert '"GET /staff/login HTTP/1.1" 200' in log and '"GET /results/ HTTP/1.1" 200' in log  # it is on
    assert "/s/small" not in log
