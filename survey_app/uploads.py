"""Uploads within their documented limits, and files parsed so that hostile input gets words.

The app takes small requests (``MAX_CONTENT_LENGTH``, 256 KB: a survey page); a few staff views
take a file. Their limit must be in force before anything reads the body, and the CSRF check
reads the form before any view runs: so a view declares its limit (``upload_limit``) and a hook
registered ahead of the CSRF check (``init_app``) applies it to the request. (Raising it inside
the view came too late: a 0.9 MB CSV import got 413 under an 8 MB limit.)

``parse_json`` refuses, in words, what makes Python's parser fail in other ways than a syntax
error: nesting deeper than the interpreter's recursion limit, integers of more than 4,300
digits. CSV readers refuse a cell over 128 KB (``csv.Error``), which the importers report.
"""
from __future__ import annotations

import json
from typing import Any

from flask import current_app, request


class ParseRefused(ValueError):
    """A file that cannot be read; the message is for the person who sent it."""


def upload_limit(max_bytes: int):
    """Decorator for a view that takes a file: requests up to ``max_bytes`` (plus room for the
    rest of the form) are read; larger ones get 413 before anything is parsed."""

    def decorate(view):
        view.upload_limit = max_bytes + 64 * 1024
        return view

    return decorate


def init_app(app) -> None:
    """Call before csrf.init_app: the limit must be set before the CSRF check reads the form."""

    @app.before_request
    def apply_upload_limit():
        from flask_login import current_user

        view = current_app.view_functions.get(request.endpoint)
        limit = getattr(view, "upload_limit", None)
        # Staff uploads only: an anonymous request keeps the small limit (it is refused anyway).
        if limit and current_user.is_authenticated:
            request.max_content_length = limit


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseRefused(f"not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise ParseRefused("nested too deeply to be a survey definition (lists or objects inside each other "
                           "hundreds of times)") from None
    except ValueError:  # an integer with more digits than Python converts
        raise ParseRefused("holds a number with thousands of digits; no setting or code is that long") from None
