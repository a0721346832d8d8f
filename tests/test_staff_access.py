"""Staff accounts: sign-in, throttling, roles on every staff URL, audit log, create-admin."""
import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from survey_app.accounts import MAX_FAILURES, REFUSED, authenticate
from survey_app.extensions import db
from survey_app.models import AuditEntry, StaffUser

from .factories import make_survey
from .staff_helpers import PASSWORD, csrf_token, make_user, post, sign_in


def staff_rules(app):
    """Every staff URL with its methods, ids filled in with 1."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("staff.") and rule.endpoint not in ("staff.login", "staff.login_code"):
            path = re.sub(r"<int(\([^)]*\))?:[a-z_]+>", "1", rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, path


def test_password_is_hashed_with_scrypt(app):
    user = make_user("editor")
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash


def test_sign_in_and_out(client, app):
    make_user("editor")
    response = sign_in(client, "Editor@City.example")  # email is case-insensitive
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert "Signed in as Editor Person (editor)" in client.get("/staff/").get_data(as_text=True)
    response = post(client, "/staff/logout")
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 302  # signed out: back to sign-in


def test_wrong_password_and_unknown_email_get_the_same_answer(client, app):
    make_user("editor")
    wrong = sign_in(client, "editor@city.example", "not the password")
    unknown = sign_in(client, "nobody@city.example", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert REFUSED in html.unescape(response.get_data(as_text=True))


def test_throttling_pauses_sign_in_from_unknown_browsers_after_repeated_failures(app):
    user = make_user("editor")
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
    for _ in range(MAX_FAILURES):
        assert authenticate(user.email, "wrong", now=now).user is None
    paused = authenticate(user.email, PASSWORD, now=now + dt.timedelta(minutes=1))
    assert paused.user is None and paused.message == REFUSED  # the same words as a wrong password
    assert authenticate(user.email, PASSWORD, now=now + dt.timedelta(minutes=16)).user == user
    db.session.refresh(user)
    assert user.failed_logins == 0 and user.locked_until is None
    # Without a success in between, each further run of failures pauses for twice as long.
    for _ in range(MAX_FAILURES):
        authenticate(user.email, "wrong", now=now)
    later = now + dt.timedelta(minutes=16)  # the first pause is over
    for _ in range(MAX_FAILURES):
        authenticate(user.email, "wrong", now=later)
    assert authenticate(user.email, PASSWORD, now=later + dt.timedelta(minutes=29)).user is None
    assert authenticate(user.email, PASSWORD, now=later + dt.timedelta(minutes=31)).user == user


def test_deactivated_account_cannot_sign_in(app):
    user = make_user("analyst")
    user.active = False
    db.session.commit()
    assert "deactivated" in authenticate(user.email, PASSWORD).message


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_no_open_redirect_after_sign_in(client, app, target):
    make_user("editor")
    response = sign_in(client, "editor@city.example", next_=target)
    assert response.headers["Location"] == "/staff/"


def test_local_next_is_followed(client, app):
    make_user("editor")
    survey = make_survey()
    response = sign_in(client, "editor@city.example", next_=f"/staff/surveys/{survey.id}")
    assert response.headers["Location"] == f"/staff/surveys/{survey.id}"


def test_anonymous_visitor_is_sent_to_sign_in_from_every_staff_url(client, app):
    make_survey()
    checked = 0
    for endpoint, method, path in staff_rules(app):
        response = client.open(path, method=method)
        # GET: a redirect to sign-in; POST: the same (CSRF is checked after sign-in, in the view).
        assert response.status_code in (302, 400), (endpoint, method, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/staff/login"), (endpoint, method)
        checked += 1
    assert checked > 20


def test_anonymous_post_with_token_is_sent_to_sign_in(client, app):
    survey = make_survey()
    token = csrf_token(client)
    response = client.post(f"/staff/surveys/{survey.id}/status", data={"status": "closed", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")
    db.session.refresh(survey)
    assert survey.status == "open"


ANALYST_REFUSED = ["staff.new_survey", "staff.new_from_template", "staff.settings", "staff.set_status",
                   "staff.start_next_wave", "staff.import_survey", "staff.new_page", "staff.edit_page",
                   "staff.remove_page", "staff.new_question", "staff.edit_question", "staff.remove_question",
                   "staff.move", "staff.question_bank", "staff.new_bank_item", "staff.users", "staff.update_user",
                   "staff.audit_log"]


def test_analyst_cannot_edit_and_editor_cannot_administer(client, app):
    survey = make_survey()
    make_user("analyst")
    sign_in(client, "analyst@city.example")
    token = csrf_token(client, "/staff/")
    for endpoint, method, path in staff_rules(app):
        if endpoint not in ANALYST_REFUSED:
            continue
        path = path.replace("/surveys/1", f"/surveys/{survey.id}")
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (endpoint, method)
    # What an analyst may do: read the survey and preview it, and is offered no editing.
    page = client.get(f"/staff/surveys/{survey.id}").get_data(as_text=True)
    assert "Preview as a resident sees it" in page
    assert "Edit<span" not in page and "Start next wave" not in page and "Add a question" not in page
    assert client.get(f"/staff/surveys/{survey.id}/preview").status_code == 200
    post(client, "/staff/logout")

    make_user("editor")
    sign_in(client, "editor@city.example")
    assert client.get("/staff/users").status_code == 403
    assert client.get("/staff/audit").status_code == 403
    page = client.get(f"/staff/surveys/{survey.id}").get_data(as_text=True)
    assert "Start next wave" in page and "Accounts</a>" not in page


def test_admin_manages_accounts_and_every_change_is_audited(client, app):
    admin = make_user("admin")
    sign_in(client, admin.email)
    response = post(client, "/staff/users", {"email": "new@city.example", "name": "New Analyst",
                                             "role": "analyst", "password": "long enough password"},
                    token_page="/staff/users")
    assert response.status_code == 303
    new = db.session.scalar(select(StaffUser).where(StaffUser.email == "new@city.example"))
    assert new.role == "analyst"
    duplicate = post(client, "/staff/users", {"email": "NEW@city.example", "name": "Again", "role": "editor",
                                              "password": "long enough password"}, token_page="/staff/users")
    assert duplicate.status_code == 422 and "There is already an account" in duplicate.get_data(as_text=True)
    short = post(client, "/staff/users", {"email": "x@city.example", "name": "X", "role": "editor",
                                          "password": "short"}, token_page="/staff/users")
    assert short.status_code == 422
    post(client, f"/staff/users/{new.id}", {"role": "editor", "active": "y"}, token_page="/staff/users")
    db.session.refresh(new)
    assert new.role == "editor"
    # An admin cannot lock themself out.
    post(client, f"/staff/users/{admin.id}", {"role": "editor", "active": "y"}, token_page="/staff/users")
    db.session.refresh(admin)
    assert admin.role == "admin"
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.user_email, e.action) for e in entries] == [
        ("admin@city.example", "staff.login"),
        ("admin@city.example", "staff.create"),
        ("admin@city.example", "staff.update"),
    ]
    assert entries[2].details == {"role": ["analyst", "editor"]} and entries[2].target == "staff new@city.example"
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "staff.update" in page and "new@city.example" in page


def test_create_admin_command(runner, app):
    result = runner.invoke(args=["create-admin", "--email", "Chief@City.example", "--name", "Chief"],
                           input="a long admin password\na long admin password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "chief@city.example"))
    assert user.role == "admin"
    again = runner.invoke(args=["create-admin", "--email", "chief@city.example", "--name", "Chief",
                                "--password", "a long admin password"])
    assert again.exit_code != 0 and "already an account" in again.output
    weak = runner.invoke(args=["create-admin", "--email", "b@city.example", "--name", "B", "--password", "short"])
    assert weak.exit_code != 0 and "at least 12 characters" in weak.output


PLACEHOLDERS = {"<mode>": "paper", "<language>": "es", "<path:filename>": "chart.svg"}


def test_every_staff_route_declares_who_may_use_it_and_refuses_every_other_role(app):
    """Walks every registered staff route: each says which permission it needs, and each role
    without that permission gets 403 on every method (GET and POST, with a valid CSRF token)."""
    from survey_app.accounts import PERMISSIONS
    from survey_app.models import STAFF_ROLES

    survey = make_survey()
    for role in STAFF_ROLES:
        make_user(role)
    declared = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff.") or rule.endpoint in ("staff.login", "staff.login_code", "staff.logout"):
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "permission"), f"{rule.endpoint} has no access decorator"
        declared[rule.endpoint] = view.permission
    assert len(declared) > 30
    refused = 0
    for role in STAFF_ROLES:
        client = app.test_client()
        sign_in(client, f"{role}@city.example")
        token = csrf_token(client, "/staff/")
        for endpoint, method, path in staff_rules(app):
            if endpoint == "staff.logout":
                continue
            permission = declared[endpoint]
            if permission is None or permission in PERMISSIONS[role]:
                continue
            path = path.replace("/surveys/1", f"/surveys/{survey.id}")
            for placeholder, value in PLACEHOLDERS.items():
                path = path.replace(placeholder, value)
            response = client.open(path, method=method, data={"csrf_token": token})
            assert response.status_code == 403, (role, endpoint, method, response.status_code)
            refused += 1
    assert refused > 30
    db.session.refresh(survey)
    assert survey.status == "open"  # nothing a refused request asked for happened


def test_every_staff_address_of_a_survey_that_does_not_exist_is_a_404(app):
    """staff/survey_lookup.py: an id that names no survey is a 404 on every staff route that takes
    one, for an admin (who may use them all), on every method."""
    make_survey()
    make_user("admin")
    client = app.test_client()
    sign_in(client, "admin@city.example")
    token = csrf_token(client, "/staff/")
    checked = 0
    for endpoint, method, path in staff_rules(app):
        if not path.startswith("/staff/surveys/1/") and path != "/staff/surveys/1":
            continue
        path = path.replace("/surveys/1", "/surveys/424242", 1)
        for placeholder, value in PLACEHOLDERS.items():
            path = path.replace(placeholder, value)
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 404, (endpoint, method, response.status_code)
        checked += 1
    assert checked > 30
