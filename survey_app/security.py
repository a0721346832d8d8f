"""HTTP hardening: security headers on every response, secure cookies in production, and the
client address as the reverse proxy reports it.

- Content-Security-Policy: everything from our own origin; no inline script or style, no
  plugins, no framing by anyone (``frame-ancestors 'none'``), forms post only to us. The pages
  are built for it: scripts are files (static/js/logic.js reads data attributes) and there is
  no style attribute. Chart files are the exception (``as_chart``): matplotlib's SVG draws
  with style attributes, so a chart opened at its own address may use inline style, and
  nothing else (no script, no fetch). (The invitation sheet's CSV is a ``data:`` download link: a link, which
  the policy does not govern.)
- Referrer-Policy ``no-referrer``: a resume link carries a resume code in its path, and no
  address of ours should leave in a Referer header.
- HSTS when the request came over HTTPS (directly or, behind the proxy, X-Forwarded-Proto).
- In production (``SURVEY_ENV=production``) cookies are Secure unless configured otherwise.
- ``TRUSTED_PROXIES`` (default 0; 1 behind nginx) makes Werkzeug's ProxyFix trust that many
  X-Forwarded-* hops, so the rate limits see the resident's address and HTTPS is recognised.
"""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# A chart's SVG opened at its own address is a document of its own, and matplotlib draws with
# style attributes, which the pages' policy blocks (the chart rendered black). Charts get this
# policy instead: inline style only, nothing else at all: no script, no fetch, no framing.
CHART_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
_HEADERS = [(name.lower(), name, value) for name, value in HEADERS.items()]


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer made once per secret key.

    Flask builds a new URLSafeTimedSerializer to open and again to save every session, and
    itsdangerous tests each new one by serialising an empty dict: 2% of the instructions of a
    resident's submission (valgrind, bench/load.py's flow). The serializer keeps no state
    between calls, so one per key (and fallback keys) serves every request and thread.
    """

    def __init__(self):
        self._serializer = (None, None)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made_for, serializer = self._serializer
        if made_for != keys:
            serializer = super().get_signing_serializer(app)
            self._serializer = (keys, serializer)
        return serializer


def init_app(app) -> None:
    app.session_interface = SessionInterface()
    if app.config.get("SURVEY_ENV") == "production":  # production is served over HTTPS only
        for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", "RESIDENT_COOKIE_SECURE"):
            app.config[key] = True
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)

    @app.after_request
    def security_headers(response):
        from flask import request

        # The ones a view has not set itself, added in one go (a setdefault per header took
        # twice as long: 33 against 16 us per response).
        present = {name.lower() for name in response.headers.keys()}
        response.headers.extend([(name, value) for key, name, value in _HEADERS if key not in present])
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def as_chart(response):
    """A chart file's response, with the policy under which its SVG renders on its own."""
    response.headers["Content-Security-Policy"] = CHART_CONTENT_SECURITY_POLICY
    return response
