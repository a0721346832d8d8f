"""Published results pages as files (survey_app/results/static_pages.py), rendered at publishing in
every language, re-rendered when a version is added or withdrawn, and served by a real nginx with
the repository's own site configuration (deploy/nginx/), without the app."""
from __future__ import annotations

import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from survey_app import publishing
from survey_app.extensions import db
from survey_app.i18n import LANGUAGES
from survey_app.results import static_pages
from survey_app.security import HEADERS

from .factories import add_response
from .test_results import analyse, published_survey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import load  # noqa: E402
import nginx_front  # noqa: E402


@pytest.fixture
def spanish_survey(app):
    from survey_app.cli import create_demo_survey

    survey = create_demo_survey(responses=120, seed=4)  # the demo is in English and Spanish
    analyse(app, survey)
    publishing.publish(survey, app.config["GENERATED_DIR"])
    return survey


def _files(app, survey) -> dict[str, bytes]:
    folder = static_pages.survey_pages_dir(app.config["GENERATED_DIR"], survey)
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.html"))}


def test_publishing_writes_every_version_page_in_every_language(app, client, spanish_survey):
    files = _files(app, spanish_survey)
    assert set(files) == {"current.en.html", "current.es.html", "v1.en.html", "v1.es.html"}
    assert b'<html lang="es">' in files["v1.es.html"] and b'<html lang="en">' in files["v1.en.html"]
    assert files["current.es.html"] == files["v1.es.html"]
    # What the app gives an anonymous visitor is the file, byte for byte, in the visitor's language.
    assert client.get("/results/community-trust").get_data() == files["v1.en.html"]
    spanish = client.get("/results/community-trust/v1", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert spanish.get_data() == files["v1.es.html"]
    # Nothing per visitor in them: no token, no cookie, no staff navigation.
    for body in files.values():
        assert b"csrf_token" not in body and b"Sign out" not in body


def test_a_new_version_and_a_withdrawal_rewrite_the_pages(app, client):
    survey = published_survey(app)  # English only
    generated = app.config["GENERATED_DIR"]
    first = _files(app, survey)
    assert set(first) == {"current.en.html", "v1.en.html"}
    for i in range(30):
        add_response(survey, trust=1, district=1)
    analyse(app, survey)
    second = publishing.publish(survey, generated)
    files = _files(app, survey)
    assert set(files) == {"current.en.html", "v1.en.html", "v2.en.html"}
    assert files["current.en.html"] == files["v2.en.html"] != files["v1.en.html"]
    assert b'href="/results/small/v2"' in files["v1.en.html"]  # version 1's page now lists version 2
    publishing.withdraw(second, "A coding error; corrected figures will follow.")
    files = _files(app, survey)
    assert set(files) == {"current.en.html", "v1.en.html"}  # the withdrawn version's page is the app's (410)
    assert b"withdrawn" in files["v1.en.html"] and files["current.en.html"] == files["v1.en.html"]
    assert client.get("/results/small/v2").status_code == 410


def test_a_survey_back_in_draft_has_no_page_files(app, client):
    from .staff_helpers import make_user, post, sign_in

    survey = make_survey_without_responses(app)
    assert _files(app, survey)
    sign_in(client, make_user("editor").email)
    path = f"/staff/surveys/{survey.id}"
    reply = post(client, f"{path}/status", {"status": "draft"}, token_page=path)
    assert reply.status_code == 303
    assert _files(app, survey) == {}


def make_survey_without_responses(app):
    """Published with no response (the page says there is nothing to show yet): still a draft-able survey."""
    from .factories import make_survey

    survey = make_survey()
    analyse(app, survey)
    publishing.publish(survey, app.config["GENERATED_DIR"])
    return survey


def test_the_nginx_language_map_knows_every_language_the_app_offers():
    config = (nginx_front.SITE / "survey.conf").read_text("utf-8")
    listed = re.search(r"\(\?<survey_first>([a-z|]+)\)", config)[1].split("|")
    assert sorted(listed) == sorted(LANGUAGES)


def test_the_nginx_page_headers_are_the_apps():
    lines = (nginx_front.SITE / "survey_page_headers").read_text("utf-8").splitlines()
    given = dict(re.match(r'add_header (\S+) "(.*)" always;', line).groups() for line in lines
                 if line.startswith("add_header"))
    assert {name: given[name] for name in HEADERS} == HEADERS


@pytest.fixture
def nginx_installed():
    """Debian's nginx; without it these tests are skipped with the reason, unless REQUIRE_NGINX=1
    (CI sets it: .ci/run installs nginx), which turns the skip into a failure."""
    import os
    import shutil

    if not shutil.which(nginx_front.NGINX):
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail("nginx is required (REQUIRE_NGINX=1) but is not installed")
        pytest.skip("no nginx (apt-get install nginx-light); CI installs it and runs these tests")


def _get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_nginx_serves_the_pages_without_the_app(app, spanish_survey, tmp_path, nginx_installed):
    """The app is not running at all: nginx answers the pages from their files, in the visitor's
    language, with the app's headers; what needs the app fails (502), as it should."""
    files = _files(app, spanish_survey)
    port = load.free_port()
    nginx = nginx_front.start(load.free_port(), port, app.config["GENERATED_DIR"], tmp_path / "nginx")
    try:
        base = f"http://127.0.0.1:{port}"
        status, headers, body = _get(f"{base}/results/community-trust")
        assert (status, body) == (200, files["current.en.html"])
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        for name, value in HEADERS.items():
            assert headers[name] == value, name
        assert headers["Cache-Control"] == "public, max-age=300" and headers["Vary"] == "Cookie, Accept-Language"
        for accept, expected in (("es-ES,es;q=0.9,en;q=0.8", "current.es.html"), ("fr-FR,fr;q=0.9,es;q=0.5", "current.es.html"),
                                 ("en-GB,en;q=0.9,es;q=0.8", "current.en.html"), ("de", "current.en.html")):
            assert _get(f"{base}/results/community-trust", {"Accept-Language": accept})[2] == files[expected], accept
        assert _get(f"{base}/results/community-trust/v1", {"Accept-Language": "es"})[2] == files["v1.es.html"]
        # Everything else is the app's: here, gone.
        assert _get(f"{base}/results/community-trust?lang=es")[0] == 502
        assert _get(f"{base}/results/community-trust", {"Cookie": "session=abc"})[0] == 502
        assert _get(f"{base}/results/community-trust/v2")[0] == 502
        assert _get(f"{base}/results/community-trust/../../../etc/passwd")[0] in (400, 404, 502)
    finally:
        nginx_front.stop(nginx)


def test_nginx_hands_the_app_what_a_file_cannot_answer(app, spanish_survey, real_server, tmp_path, nginx_installed):
    app_port = int(real_server.base_url.rsplit(":", 1)[1])
    port = load.free_port()
    nginx = nginx_front.start(app_port, port, app.config["GENERATED_DIR"], tmp_path / "nginx")
    try:
        base = f"http://127.0.0.1:{port}"
        status, headers, body = _get(f"{base}/results/community-trust?lang=es")  # a choice: the app keeps it
        assert status == 200 and b'<html lang="es">' in body
        assert any(c.startswith("session=") for c in headers.get_all("Set-Cookie"))
        assert _get(f"{base}/results/community-trust/v7")[0] == 404  # no such version: the app says so
        assert _get(f"{base}/results/")[0] == 200 and b"community-trust" in _get(f"{base}/results/")[2]
        publishing.withdraw(publishing.versions(spanish_survey)[0], "Withdrawn for a correction.")
        assert _get(f"{base}/results/community-trust/v1")[0] == 410  # no file: the app's notice
        assert _get(f"{base}/results/community-trust")[0] == 410
    finally:
        nginx_front.stop(nginx)
