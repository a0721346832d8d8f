"""Sign in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.security import check_password_hash

from .. import audit
from ..accounts import AccountError, authenticate, end_sessions, set_password
from ..extensions import db
from ..forms.staff import ConfirmForm, LoginForm, PasswordChangeForm
from . import bp
from .access import sign_in, staff_required

DEVICE_COOKIE = "staff_device"  # accounts.py: a browser its account has signed in from
DEVICE_DAYS = 365


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
        result = authenticate(form.email.data, form.password.data, request.cookies.get(DEVICE_COOKIE))
        if result.user is not None:
            sign_in(result.user)
            audit.record("staff.login", f"staff {result.user.email}", user=result.user)
            db.session.commit()
            target = (url_for("staff.password") if result.user.must_change_password
                      else safe_next(form.next.data))
            response = redirect(target)
            response.set_cookie(DEVICE_COOKIE, result.device_token, max_age=DEVICE_DAYS * 86400, path="/staff",
                                httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
            return response
        form.password.errors.append(result.message)
        status = 401
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
@staff_required
def logout():
    if ConfirmForm().validate_on_submit():
        end_sessions(current_user)  # a copy of this session's cookie must not sign anyone in either
        audit.record("staff.logout", f"staff {current_user.email}")
        db.session.commit()
        logout_user()
        session.clear()
        flash("You have signed out.", "info")
    return redirect(url_for("staff.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@staff_required
def password():
    """Change one's own password (the current one asked again); every other session ends."""
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        if not check_password_hash(current_user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
            status = 422
        else:
            try:
                set_password(current_user, form.new.data)
            except AccountError as error:
                form.new.errors.append(str(error))
                status = 422
            else:
                audit.record("staff.password_change", f"staff {current_user.email}")
                db.session.commit()
                sign_in(current_user._get_current_object())  # this browser carries on; the others have ended
                flash("Your password has been changed. Any other session of your account has been signed out.",
                      "info")
                return redirect(url_for("staff.dashboard"), code=303)
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("staff/password.html", form=form,
                           forced=current_user.must_change_password), status


@bp.before_app_request
def password_first():
    """After an admin's forced reset, the account can do nothing until its owner has chosen a
    new password (signing out aside)."""
    if (request.blueprint == "staff" and current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in ("staff.password", "staff.logout")):
        return redirect(url_for("staff.password"))
