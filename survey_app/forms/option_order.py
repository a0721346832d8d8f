"""Whose random order of options a page shows (``QuestionType.options_in_order``).

A question set to ``random_order`` shows its options in an order of the resident's own: drawn
from the resume code this browser holds for the survey (its draft cookie), keyed with the site's
secret, so that it is the same on every page, reload and device the resident answers from, and
nothing of the code can be read back from the order. Nothing is stored: the answer is the
option's code whatever the order. Staff pages (preview, paper and phone entry) show the order as
defined, so that staff keying in a paper form find the options where the paper has them.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app, has_request_context, request


def option_order_seed(question) -> bytes | None:
    if not has_request_context() or request.blueprint != "respond":
        return None
    from ..respond.routes import _draft_cookie

    code = request.cookies.get(_draft_cookie(question.survey))
    if not code:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"option-order:" + code.encode(), hashlib.sha256).digest()
