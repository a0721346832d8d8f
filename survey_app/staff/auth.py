"""Sign in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from .. import audit
from ..accounts import authenticate
from ..extensions import db
from ..forms.staff import ConfirmForm, LoginForm
from . import bp
from .access import staff_required


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site, never another host (no open redirect)."""
    default = url_for("staff.dashboard")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        result = authenticate(form.email.data, form.password.data)
        if result.user is not None:
            login_user(result.user)
            audit.record("staff.login", f"staff {result.user.email}", user=result.user)
            db.session.commit()
            return redirect(safe_next(form.next.data))
        form.password.errors.append(result.message)
        status = 401
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
@staff_required
def logout():
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash("You have signed out.", "info")
    return redirect(url_for("staff.login"))
