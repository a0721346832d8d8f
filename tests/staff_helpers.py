"""Helpers for tests of the staff pages: accounts, signing in, posting forms with their CSRF token."""
from __future__ import annotations

import re

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
