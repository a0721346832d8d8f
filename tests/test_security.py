"""Security headers, cookie flags, the reverse proxy, upload limits."""
import io

from survey_app import create_app

from .conftest import make_test_config
from .factories import make_survey, start
from .staff_helpers import make_user, post, sign_in


def test_every_response_carries_the_security_headers(client, app):
    make_survey()
    for path in ("/", "/s/small", "/results/", "/staff/login", "/static/style.css", "/nothing-here"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS
    https = client.get("/", base_url="https://surveys.example")
    assert https.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_have_no_inline_script_or_style(client, app):
    survey = make_survey()
    start(client, survey)
    for path in ("/", "/s/small", "/s/small/page/1", "/s/small/privacy"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "<script " not in page.replace('<script src=', '')
        assert " style=" not in page and "<style" not in page and "onclick" not in page.lower()


def test_cookies_are_httponly_samesite_and_secure_in_production(app, database_url, tmp_path):
    make_survey()
    config = make_test_config(database_url, tmp_path / "generated")
    config.update(SURVEY_ENV="production", TESTING=False, PUBLIC_BASE_URL="https://surveys.example.gov")
    production = create_app(config)
    client = production.test_client()
    response = start(client, app_survey := make_survey(slug="prod"))
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("HttpOnly" in c and "SameSite=Lax" in c and "Secure" in c for c in cookies), cookies
    assert app_survey.slug == "prod"
    sign = production.test_client()
    make_user("admin")
    login = sign_in(sign, "admin@city.example")
    set_cookies = [c for c in login.headers.getlist("Set-Cookie") if "Max-Age=0" not in c]  # not deletions
    assert set_cookies and all("Secure" in c and "HttpOnly" in c for c in set_cookies), set_cookies


def test_behind_the_proxy_the_forwarded_scheme_and_address_are_used(app, database_url, tmp_path):
    config = make_test_config(database_url, tmp_path / "generated")
    config.update(TRUSTED_PROXIES=1)
    proxied = create_app(config)
    response = proxied.test_client().get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" in response.headers
    # Without a trusted proxy the same headers are ignored (anyone could send them).
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def test_uploads_are_limited_in_size_and_type(client, app):
    survey = make_survey(status="draft")
    sign_in(client, make_user("admin").email)
    wrong_type = post(client, "/staff/surveys/import", {"file": (io.BytesIO(b"{}"), "survey.exe")},
                      token_page="/staff/surveys/import", content_type="multipart/form-data")
    assert wrong_type.status_code in (200, 422) and "Choose a .json file" in wrong_type.get_data(as_text=True)
    huge = post(client, "/staff/surveys/import", {"file": (io.BytesIO(b"x" * (3 * 1024 * 1024)), "s.json")},
                token_page="/staff/surveys/import", content_type="multipart/form-data")
    assert huge.status_code == 413
    base = f"/staff/surveys/{survey.id}/responses"
    survey.status = "open"
    from survey_app.extensions import db
    db.session.commit()
    wrong = post(client, f"{base}/import", {"file": (io.BytesIO(b"trust\n4\n"), "data.xlsx")}, token_page=base,
                 content_type="multipart/form-data")
    assert wrong.status_code == 422 and "Choose a .csv file" in wrong.get_data(as_text=True)
    margins = post(client, f"/staff/surveys/{survey.id}/weighting/csv",
                   {"file": (io.BytesIO(b"variable,category,population\n"), "margins.pdf")},
                   token_page=f"/staff/surveys/{survey.id}/weighting", content_type="multipart/form-data")
    assert margins.status_code == 422 and "Choose a .csv file" in margins.get_data(as_text=True)


def test_session_cookies_follow_the_secret_key_and_its_fallbacks(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "es"
    interface = app.session_interface
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)  # made once

    old = app.secret_key
    try:
        # Key rotated with the old one as a fallback: the old cookie still opens.
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = "rotated-" + "k" * 40, [old]
        with client.session_transaction() as session:
            assert session.get("lang") == "es"
            session["lang"] = "en"  # signed again, with the new key
        # Fallback withdrawn: cookies signed with the old key are refused, the new one opens.
        app.config["SECRET_KEY_FALLBACKS"] = None
        with client.session_transaction() as session:
            assert session.get("lang") == "en"
        stale = app.test_client()
        app.secret_key = old
        with stale.session_transaction() as session:
            session["lang"] = "es"
        app.secret_key = "rotated-" + "k" * 40
        with stale.session_transaction() as session:
            assert "lang" not in session
    finally:
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = old, None
