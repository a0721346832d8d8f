"""Attacks from the outside test of the running app, replayed over HTTP against a real gunicorn
(the ``real_server`` fixture), as an outsider would try them."""
from __future__ import annotations

import hashlib
import re

import pytest
from flask import Flask

from .http_browser import Browser
from .staff_helpers import make_user

PUBLISHED_DEVELOPMENT_KEY = "dev-only-not-secret"  # what the app once signed sessions with by default


def forged_session(secret_key: str, user_id: int) -> str:
    """A session cookie saying ``user_id`` is signed in, signed as Flask signs with ``secret_key``;
    with Flask-Login's session identifier for the attacker's own address and no User-Agent (what
    its "strong" protection compares) and the account's session version (a small number to guess),
    which anyone can compute for themselves."""
    forger = Flask("forger")
    forger.secret_key = secret_key
    identifier = hashlib.sha512(b"b'127.0.0.1'|None").hexdigest()  # as flask_login.utils._create_identifier
    return forger.session_interface.get_signing_serializer(forger).dumps(
        {"_user_id": str(user_id), "_fresh": True, "_id": identifier, "staff_session_version": 0})


class TestNoDefaultSecret:
    @pytest.fixture
    def real_server_env(self):
        return {"SECRET_KEY": "", "SURVEY_ENV": "Development"}  # started as a developer would: no key

    def test_a_cookie_forged_with_the_once_public_key_opens_nothing(self, real_server, app):
        admin = make_user("admin")
        attacker = Browser(real_server.base_url)
        attacker.cookies["session"] = forged_session(PUBLISHED_DEVELOPMENT_KEY, admin.id)
        reply = attacker.get("/staff/users")
        assert reply.status == 302 and reply.location == "/staff/login"
        assert "Staff accounts" not in reply.text
        # ... while a cookie signed with the key the server generated for itself would (the test's
        # control: the forgery fails for its key alone).
        with open(f"{app.root_path}/../instance/secret_key") as handle:
            generated = handle.read().strip()
        attacker.cookies["session"] = forged_session(generated, admin.id)
        assert attacker.get("/staff/users").status == 200


@pytest.mark.parametrize("value", ["prod", "Prodution"])
def test_an_unknown_survey_env_stops_gunicorn_with_the_reason(value, tmp_path, database_url):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "bench"))
    import load

    env = {**load.server_env(database_url, str(tmp_path)), "SURVEY_ENV": value}
    result = subprocess.run([str(root / ".venv" / "bin" / "gunicorn"), "-c", str(root / "gunicorn.conf.py"),
                             "--bind", f"127.0.0.1:{load.free_port()}", "survey_app:create_app()"],
                            env=env, cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"SURVEY_ENV is '{value}'" in result.stdout + result.stderr


def test_a_chart_at_its_own_address_may_use_inline_style_and_nothing_else(real_server, app):
    from survey_app import publishing
    from survey_app.analysis.pipeline import analyze_survey
    from survey_app.extensions import db

    from .factories import add_response, make_survey

    survey = make_survey()
    for number in range(30):
        add_response(survey, trust=1 + number % 5, district=1 + number % 3, contact=1 + number % 2)
    with db.engine.connect() as connection:
        analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
    publishing.publish(survey, app.config["GENERATED_DIR"])
    reader = Browser(real_server.base_url)
    page = reader.get("/results/small")
    chart = re.search(r'<img[^>]+src="(/results/small/v1/charts/[^"]+\.svg)"', page.text).group(1)
    reply = reader.get(chart)
    assert reply.status == 200 and reply.header("Content-Type").startswith("image/svg+xml")
    assert reply.header("Content-Security-Policy") == (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    assert 'style="' in reply.text  # what the policy lets render
    # The pages keep the strict policy.
    assert "style-src 'self'" in page.header("Content-Security-Policy")


class TestRateLimitsPerServer:
    @pytest.fixture
    def real_server_env(self):
        return {"WEB_CONCURRENCY": "3", "START_RATE_LIMIT": "30 per hour", "RATELIMIT_STORAGE_URI": "memory://"}

    def test_three_workers_without_redis_let_the_configured_30_starts_through_not_90(self, real_server, app):
        from .factories import make_survey

        make_survey()
        statuses = []
        for _ in range(40):  # a new browser each time, from one address
            resident = Browser(real_server.base_url)
            statuses.append(resident.submit("/s/small/start", {}, token_from="/s/small").status)
        assert statuses.count(303) == 30 and statuses.count(429) == 10, statuses
        assert statuses[:30] == [303] * 30


class TestLinksFromConfiguration:
    @pytest.fixture
    def real_server_env(self):
        return {"PUBLIC_BASE_URL": "https://surveys.example.gov"}

    def test_a_forged_host_header_changes_no_link(self, real_server, app):
        from survey_app import publishing
        from survey_app.analysis.pipeline import analyze_survey
        from survey_app.extensions import db

        from .factories import add_response, make_survey

        forged = {"Host": "evil.test", "X-Forwarded-Host": "evil.test"}
        resident = Browser(real_server.base_url)
        survey = make_survey()
        token = resident.get("/s/small", headers=forged).csrf_token()
        assert resident.post("/s/small/start", {"csrf_token": token}, headers=forged).status == 303
        token = resident.get("/s/small/page/1", headers=forged).csrf_token()
        saved = resident.post("/s/small/page/1", {"csrf_token": token, "action": "save"}, headers=forged)
        page = resident.get(saved.location, headers=forged).text
        assert "https://surveys.example.gov/s/small/resume#" in page and "evil.test" not in page
        # The invitation sheet, printed for letters.
        make_user("editor")
        staff = Browser(real_server.base_url)
        staff.submit("/staff/login", {"email": "editor@city.example", "password": "correct horse battery staple",
                                      "next": ""})
        letters = make_survey(slug="letters", status="draft", access_mode="invitation")
        sheet = staff.request("POST", f"/staff/surveys/{letters.id}/invitations",
                              {"csrf_token": staff.get(f"/staff/surveys/{letters.id}/responses").csrf_token(),
                               "count": "2"}, headers=forged)
        assert sheet.status == 200 and "https://surveys.example.gov/s/letters" in sheet.text
        assert "evil.test" not in sheet.text
        # The results page's canonical link, kept per version for every later reader.
        for number in range(30):
            add_response(survey, trust=1 + number % 5, district=1 + number % 3, contact=1 + number % 2)
        with db.engine.connect() as connection:
            analyze_survey(connection, survey.slug, app.config["GENERATED_DIR"])
        # Publishing renders the page's file with the site's configuration (here the test's app
        # publishes for the server, so it takes the server's address), whatever any request says.
        app.config["PUBLIC_BASE_URL"] = real_server.env["PUBLIC_BASE_URL"]
        publishing.publish(survey, app.config["GENERATED_DIR"])
        first = Browser(real_server.base_url).get("/results/small", headers=forged).text
        later = Browser(real_server.base_url).get("/results/small").text
        for text in (first, later):
            assert '<link rel="canonical" href="https://surveys.example.gov/results/small/v1">' in text
            assert "evil.test" not in text
