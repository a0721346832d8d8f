"""Absolute links, from the configured public address, never from the request.

A request's Host header is whatever its sender writes: with ``Host: evil.test`` the resume link
and the invitation sheet once pointed residents at that host, and the results page's canonical
link (kept per version for every reader) could have too. Links that leave the page (printed in
letters, copied from the "finish later" page, canonical addresses) are made here, from
``PUBLIC_BASE_URL``.
"""
from __future__ import annotations

from flask import current_app, url_for


def public_url(endpoint: str, **values) -> str:
    """The absolute address of ``endpoint`` on the site's public address."""
    return current_app.config["PUBLIC_BASE_URL"] + url_for(endpoint, **values)


def init_app(app) -> None:
    app.jinja_env.globals["public_url"] = public_url
