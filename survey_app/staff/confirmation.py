"""One click never deletes: a removal first shows what will be lost and asks (templates/staff/confirm.html).

A removal's POST without ``confirmed=yes`` answers this page, which posts the same form again with
it. Works without JavaScript; the way back keeps everything as it was.
"""
from __future__ import annotations

from flask import render_template, request

from ..forms.staff import ConfirmForm


def confirmed() -> bool:
    return request.form.get("confirmed") == "yes"


def ask(title: str, lost: list[str], button: str, back: str, fields: dict | None = None):
    """The page that asks; ``lost``: what will be lost, in sentences; ``fields``: the form's own
    values to post again (besides its token)."""
    return render_template("staff/confirm.html", title=title, lost=lost, button=button, back=back,
                           action=request.path + (f"?{request.query_string.decode()}" if request.query_string else ""),
                           fields=fields or {}, form=ConfirmForm())
