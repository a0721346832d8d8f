"""Two-factor sign-in for staff (two_factor.py): enrolment with a QR code, codes that work once,
recovery codes, wrong codes counted like wrong passwords, a site that requires it, audited."""
from __future__ import annotations

import html
import re
import time

import pyotp
import pytest
from sqlalchemy import select

from survey_app import two_factor
from survey_app.accounts import MAX_FAILURES, authenticate, complete_second_factor
from survey_app.extensions import db
from survey_app.models import AuditEntry, StaffUser

from .http_browser import Browser
from .staff_helpers import PASSWORD, make_user, post, sign_in


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(browser: Browser) -> tuple[str, list[str]]:
    """Set up two-factor sign-in as a person would: read the key off the page, type a code."""
    page = browser.get("/staff/account/two-factor")
    assert page.status == 200 and page.header("Cache-Control") == "no-store"
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    assert "<svg" in page.text and "style=" not in page.text.split("<svg", 1)[1].split("</svg>", 1)[0]
    done = browser.submit("/staff/account/two-factor", {"action": "enable", "code": code_at(secret)})
    assert done.status == 200 and "Your recovery codes" in done.text
    codes = re.findall(r"<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>", done.text)
    assert len(codes) == two_factor.RECOVERY_CODES
    return secret, codes


def password_step(base_url: str, email: str) -> Browser:
    browser = Browser(base_url)
    reply = browser.submit("/staff/login", {"email": email, "password": PASSWORD, "next": ""})
    assert reply.status == 302 and reply.location == "/staff/login/code"
    assert browser.get("/staff/").status == 302  # not signed in by the password alone
    return browser


def test_enrol_then_sign_in_with_a_code_that_works_once(real_server, app):
    user = make_user("editor")
    browser = Browser(real_server.base_url)
    assert browser.submit("/staff/login", {"email": user.email, "password": PASSWORD, "next": ""}).status == 302
    secret, _ = enrol(browser)
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).totp_secret == secret
    first = password_step(real_server.base_url, user.email)
    wrong = first.submit("/staff/login/code", {"code": "000000" if code_at(secret, 1) != "000000" else "111111"})
    assert wrong.status == 401 and "That code is not right" in html.unescape(wrong.text)
    code = code_at(secret, 1)  # the next step's code (the one typed at enrolment is spent)
    ok = first.submit("/staff/login/code", {"code": code})
    assert ok.status == 302 and ok.location == "/staff/" and first.get("/staff/").status == 200
    again = password_step(real_server.base_url, user.email)
    assert again.submit("/staff/login/code", {"code": code}).status == 401  # a code works once


def test_a_recovery_code_signs_in_once(real_server, app):
    user = make_user("editor")
    browser = Browser(real_server.base_url)
    browser.submit("/staff/login", {"email": user.email, "password": PASSWORD, "next": ""})
    _, codes = enrol(browser)
    first = password_step(real_server.base_url, user.email)
    assert first.submit("/staff/login/code", {"code": codes[3].lower()}).status == 302  # forgiving about case
    second = password_step(real_server.base_url, user.email)
    assert second.submit("/staff/login/code", {"code": codes[3]}).status == 401
    assert two_factor.recovery_codes_left(db.session.get(StaffUser, user.id)) == two_factor.RECOVERY_CODES - 1


def test_wrong_codes_count_like_wrong_passwords(app):
    user = make_user("editor")
    user.totp_secret = secret = two_factor.new_secret()
    db.session.commit()
    for _ in range(MAX_FAILURES):
        pending = authenticate(user.email, PASSWORD)
        assert pending.second_factor == user.id and pending.user is None
        assert complete_second_factor(user.id, "123456" if code_at(secret) != "123456" else "654321").user is None
    # Paused now: neither the password step nor the right code lets in, so the password alone
    # does not buy unlimited guesses at six digits.
    assert authenticate(user.email, PASSWORD).second_factor is None
    assert complete_second_factor(user.id, code_at(secret)).user is None


@pytest.fixture
def real_server_env():
    return {"TWO_FACTOR_REQUIRED": "Admins"}


def test_a_site_can_require_it_for_admins(real_server, app):
    make_user("admin")
    make_user("editor")
    admin = Browser(real_server.base_url)
    admin.submit("/staff/login", {"email": "admin@city.example", "password": PASSWORD, "next": ""})
    for path in ("/staff/", "/staff/users", "/staff/audit"):
        reply = admin.get(path)
        assert reply.status == 302 and reply.location == "/staff/account/two-factor", path
    assert "requires two-factor sign-in for your account" in admin.get("/staff/account/two-factor").text
    enrol(admin)
    assert admin.get("/staff/users").status == 200
    editor = Browser(real_server.base_url)
    editor.submit("/staff/login", {"email": "editor@city.example", "password": PASSWORD, "next": ""})
    assert editor.get("/staff/").status == 200  # editors may, but need not


def test_turning_it_off_and_an_admins_reset_are_audited(app, client):
    admin = make_user("admin")
    sign_in(client, admin.email)
    secret = client.get("/staff/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', secret).group(1).replace(" ", "")
    post(client, "/staff/account/two-factor", {"action": "enable", "code": code_at(secret)},
         token_page="/staff/account/two-factor")
    refused = post(client, "/staff/account/two-factor", {"action": "disable", "password": "not it"},
                   token_page="/staff/account/two-factor")
    assert refused.status_code == 422 and db.session.get(StaffUser, admin.id).totp_secret
    off = post(client, "/staff/account/two-factor", {"action": "disable", "password": PASSWORD},
               token_page="/staff/account/two-factor")
    assert off.status_code == 303 and db.session.get(StaffUser, admin.id).totp_secret is None
    editor = make_user("editor")
    editor.totp_secret = two_factor.new_secret()
    db.session.commit()
    assert post(client, f"/staff/users/{editor.id}/two-factor", token_page="/staff/users").status_code == 303
    db.session.expire_all()
    assert db.session.get(StaffUser, editor.id).totp_secret is None
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert {"staff.two_factor_on", "staff.two_factor_off", "staff.two_factor_reset"} <= set(actions)


def test_an_unknown_requirement_is_refused(app):
    from survey_app import create_app

    with pytest.raises(RuntimeError, match="TWO_FACTOR_REQUIRED"):
        create_app({"TWO_FACTOR_REQUIRED": "sometimes", "SECRET_KEY": "k" * 64, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_secret_being_set_up_is_kept_on_the_server_not_in_the_session_cookie(app, client):
    from flask import Flask

    user = make_user("editor")
    sign_in(client, user.email)
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert db.session.get(StaffUser, user.id).totp_pending == secret
    reader = Flask("reader")
    reader.secret_key = app.config["SECRET_KEY"]
    cookie = client.get_cookie("session").value
    assert secret not in str(reader.session_interface.get_signing_serializer(reader).loads(cookie))
    # The same secret on the next visit, until a code confirms it.
    again = client.get("/staff/account/two-factor").get_data(as_text=True)
    assert secret.encode() and re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', again).group(1).replace(" ", "") == secret
