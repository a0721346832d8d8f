"""Helpers for tests of the staff pages: accounts, signing in, posting forms with their CSRF token."""
from __future__ import annotations

import json
import re
import time

from survey_app.accounts import create_user
from survey_app.extensions import db

PASSWORD = "correct horse battery staple"


def make_user(role: str, email: str | None = None):
    user = create_user(email or f"{role}@city.example", role.capitalize() + " Person", PASSWORD, role)
    db.session.commit()
    return user


def token_from(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def csrf_token(client, path: str = "/staff/login") -> str:
    return token_from(client.get(path).get_data(as_text=True))


def sign_in(client, email: str, password: str = PASSWORD, next_: str = ""):
    token = csrf_token(client)
    return client.post("/staff/login", data={"email": email, "password": password, "csrf_token": token,
                                             "next": next_})


def post(client, path: str, data: dict | None = None, token_page: str = "/staff/", **kwargs):
    """POST with a valid CSRF token taken from a staff page."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, token_page))
    return client.post(path, data=data, **kwargs)


def question_form(question=None, **fields):
    """The designer's question form, filled with defaults and ``fields``."""
    data = {"code": "q_new", "type": "single_choice", "text": "A new question?", "help_text": "",
            "construct": "", "scale": "agreement", "options": "Yes\nNo", "ordered": "", "minimum": "",
            "maximum": "", "decimals": "0", "max_length": "500", "display_condition": ""}
    data.update(fields)
    return data


def finished_job_page(browser, location: str, timeout: float = 120.0):
    """Follow a background job's page (``location``, /staff/jobs/<id>) over HTTP, as its page's
    script does, until the job has finished; the states seen on the way and the final page."""
    assert re.fullmatch(r"/staff/jobs/\d+", location), location
    states = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = browser.get(location + "/state")
        assert reply.status == 200, reply.status
        state = json.loads(reply.text)
        states.append(state)
        if state["finished"]:
            return states, browser.get(location)
        time.sleep(0.2)
    raise AssertionError(f"the job at {location} did not finish in {timeout} s; last state {states[-1:]}")
