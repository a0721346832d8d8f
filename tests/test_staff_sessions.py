"""Staff sessions that end, passwords that are hard to guess, and sign-in throttling that holds
under concurrency and cannot lock an owner out (accounts.py), replayed over HTTP against a real
gunicorn (2 workers) where the outside test attacked."""
from __future__ import annotations

import concurrent.futures
import html

import pytest
from sqlalchemy import select

from survey_app import accounts
from survey_app.accounts import MAX_FAILURES, REFUSED, AccountError, authenticate, check_password_rules
from survey_app.extensions import db
from survey_app.models import AuditEntry, StaffDevice, StaffUser

from .http_browser import Browser
from .staff_helpers import PASSWORD, make_user, post, sign_in

NEW_PASSWORD = "violet tramway under seven lanterns"


def signed_in(base_url: str, email: str, password: str = PASSWORD) -> Browser:
    browser = Browser(base_url)
    reply = browser.submit("/staff/login", {"email": email, "password": password, "next": ""})
    assert reply.status == 302 and reply.location == "/staff/", reply.status
    return browser


def can_open(browser: Browser, path: str = "/staff/") -> bool:
    return browser.get(path).status == 200


def refresh(user: StaffUser) -> StaffUser:
    db.session.expire_all()
    return db.session.get(StaffUser, user.id)


def test_a_saved_session_cookie_is_dead_after_signing_out(real_server, app):
    make_user("admin")
    browser = signed_in(real_server.base_url, "admin@city.example")
    saved = dict(browser.cookies)
    assert can_open(browser, "/staff/users")
    assert browser.submit("/staff/logout", {}, token_from="/staff/").status == 302
    thief = Browser(real_server.base_url)
    thief.cookies = saved  # the cookie as it was before signing out
    reply = thief.get("/staff/users")
    assert reply.status == 302 and reply.location == "/staff/login"


def test_a_password_change_ends_every_other_session_and_keeps_this_one(real_server, app):
    user = make_user("editor")
    here, elsewhere = (signed_in(real_server.base_url, user.email) for _ in range(2))
    assert can_open(elsewhere)
    reply = here.submit("/staff/account/password", {"current": PASSWORD, "new": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD})
    assert reply.status == 303
    assert can_open(here) and not can_open(elsewhere)
    assert not can_open(Browser(real_server.base_url))
    signed_in(real_server.base_url, user.email, NEW_PASSWORD)
    assert [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))].count(
        "staff.password_change") == 1


@pytest.mark.parametrize("change", [{"role": "analyst", "active": "y"}, {"role": "editor"}])
def test_a_role_change_or_disabling_ends_the_accounts_sessions(real_server, app, change):
    make_user("admin")
    editor = make_user("editor")
    admin = signed_in(real_server.base_url, "admin@city.example")
    theirs = signed_in(real_server.base_url, editor.email)
    assert can_open(theirs, "/staff/")
    assert admin.submit(f"/staff/users/{editor.id}", change, token_from="/staff/users").status == 303
    assert theirs.get("/staff/").status == 302  # signed out on both workers
    assert can_open(admin, "/staff/users")


def test_an_admin_forces_a_reset_and_the_owner_must_choose_a_new_password_first(real_server, app):
    make_user("admin")
    editor = make_user("editor")
    theirs = signed_in(real_server.base_url, editor.email)
    admin = signed_in(real_server.base_url, "admin@city.example")
    temporary = "paper lantern ochre nine"
    reply = admin.submit(f"/staff/users/{editor.id}/password", {"temporary": temporary}, token_from="/staff/users")
    assert reply.status == 303
    assert theirs.get("/staff/").status == 302  # ended
    assert refresh(editor).must_change_password
    again = Browser(real_server.base_url)
    first = again.submit("/staff/login", {"email": editor.email, "password": temporary, "next": "/staff/"})
    assert first.status == 302 and first.location == "/staff/account/password"
    assert again.get("/staff/").location == "/staff/account/password"  # nothing else until it is done
    assert "An administrator has reset your password" in html.unescape(again.get("/staff/account/password").text)
    done = again.submit("/staff/account/password", {"current": temporary, "new": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD})
    assert done.status == 303 and can_open(again)
    assert not refresh(editor).must_change_password


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "password1234", "qwertyuiopasdf", "letmein12345",
                                      "editor@city.example", "Editor Person 1"])
def test_common_breached_and_personal_passwords_are_refused(app, client, password):
    with pytest.raises(AccountError, match="harder to guess"):
        check_password_rules(password, ("editor@city.example", "Editor Person"))
    make_user("editor")
    sign_in(client, "editor@city.example")
    reply = post(client, "/staff/account/password", {"current": PASSWORD, "new": password, "confirm": password},
                 token_page="/staff/account/password")
    assert reply.status_code == 422 and "harder to guess" in html.unescape(reply.get_data(as_text=True))


def test_twelve_parallel_wrong_passwords_all_count_and_the_right_one_is_then_refused(real_server, app):
    user = make_user("editor")

    def attempt(password):
        return Browser(real_server.base_url).submit(
            "/staff/login", {"email": user.email, "password": password, "next": ""}).status

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(attempt, [f"wrong guess {n}" for n in range(12)]))
    assert statuses == [401] * 12
    stored = refresh(user)
    # Each failure counted until the pause began with the fifth; those after it were not checked against
    # the count at all (the 15 tried before a lock, with a count of 5, are gone).
    assert stored.failed_logins == MAX_FAILURES and stored.locked_until is not None
    assert attempt(PASSWORD) == 401


def test_known_unknown_and_paused_accounts_answer_alike_after_the_same_work(app, client, monkeypatch):
    user = make_user("editor")
    for _ in range(MAX_FAILURES):
        authenticate(user.email, "wrong")
    checks = []
    real_check = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: checks.append(1) or real_check(*a))
    answers = {}
    for name, email, password in (("paused, right password", user.email, PASSWORD),
                                  ("unknown", "nobody@city.example", PASSWORD)):
        checks.clear()
        reply = sign_in(client, email, password)
        answers[name] = (reply.status_code, REFUSED in html.unescape(reply.get_data(as_text=True)), len(checks))
    assert answers["paused, right password"] == answers["unknown"] == (401, True, 1)


def test_an_attacker_cannot_lock_the_owner_out_of_their_own_browser(real_server, app):
    owner = make_user("editor")
    browser = signed_in(real_server.base_url, owner.email)  # the owner's usual browser keeps its device cookie
    assert "staff_device" in browser.cookies
    assert browser.submit("/staff/logout", {}, token_from="/staff/").status == 302
    attacker = Browser(real_server.base_url)
    for n in range(3 * MAX_FAILURES):
        attacker.submit("/staff/login", {"email": owner.email, "password": f"guess {n}", "next": ""})
    assert refresh(owner).locked_until is not None  # unknown browsers are paused ...
    stranger = Browser(real_server.base_url)
    assert stranger.submit("/staff/login", {"email": owner.email, "password": PASSWORD, "next": ""}).status == 401
    # ... the owner's own browser is not
    back = browser.submit("/staff/login", {"email": owner.email, "password": PASSWORD, "next": ""})
    assert back.status == 302 and can_open(browser)


def test_a_stolen_device_cookie_gets_its_own_pause(app):
    owner = make_user("editor")
    token = authenticate(owner.email, PASSWORD).device_token
    for _ in range(MAX_FAILURES):
        assert authenticate(owner.email, "wrong", token).user is None
    assert authenticate(owner.email, PASSWORD, token).user is None  # that browser is paused now
    assert authenticate(owner.email, PASSWORD).user is not None  # the account is not
    device = db.session.scalar(select(StaffDevice).where(StaffDevice.user_id == owner.id))
    assert device.failed_logins == MAX_FAILURES and token not in device.token_hash


def test_a_session_left_open_is_no_way_around_the_throttling(app, client):
    """Asking for the current password again (to change it, or to turn two-factor sign-in off)
    counts failures like sign-in does, and a pause refuses even the right one."""
    user = make_user("editor")
    sign_in(client, user.email)
    for n in range(MAX_FAILURES):
        wrong = post(client, "/staff/account/password", {"current": f"guess {n}", "new": NEW_PASSWORD,
                                                         "confirm": NEW_PASSWORD}, token_page="/staff/account/password")
        assert wrong.status_code == 422
    right = post(client, "/staff/account/password", {"current": PASSWORD, "new": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD}, token_page="/staff/account/password")
    assert right.status_code == 422 and "paused after repeated attempts" in html.unescape(right.get_data(as_text=True))
    # Counted on this browser (it signed in, so it is a known one), and its sign-ins are paused too.
    db.session.expire_all()
    device = db.session.scalar(select(StaffDevice).where(StaffDevice.user_id == user.id))
    assert device.failed_logins == MAX_FAILURES and device.locked_until is not None
    token = client.get_cookie("staff_device", path="/staff").value
    assert authenticate(user.email, PASSWORD, token).user is None
