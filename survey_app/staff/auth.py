"""Sign in and out."""
from __future__ import annotations

from urllib.parse import urlsplit

import time

from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from markupsafe import Markup

from .. import audit, two_factor
from ..accounts import (
    AccountError,
    authenticate,
    complete_second_factor,
    confirm_identity,
    end_sessions,
    set_password,
)
from ..extensions import db
from ..forms.staff import CodeForm, ConfirmForm, LoginForm, PasswordChangeForm, TwoFactorOffForm
from . import bp
from .access import sign_in, staff_required

DEVICE_COOKIE = "staff_device"  # accounts.py: a browser its account has signed in from
DEVICE_DAYS = 365
SECOND_STEP = "staff_second_step"  # the session's note that the password was right
SECOND_STEP_SECONDS = 300
NOT_CONFIRMED = ("That is not your password, or this browser is paused after repeated attempts (try again in a "
                 "few minutes).")


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
        if result.second_factor is not None:
            session.clear()
            session[SECOND_STEP] = {"user": result.second_factor, "at": time.time(), "next": form.next.data or ""}
            return redirect(url_for("staff.login_code"))
        if result.user is not None:
            return _signed_in(result, form.next.data)
        form.password.errors.append(result.message)
        status = 401
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("staff/login.html", form=form), status


def _signed_in(result, next_: str):
    sign_in(result.user)
    audit.record("staff.login", f"staff {result.user.email}", user=result.user)
    db.session.commit()
    response = redirect(url_for("staff.password") if result.user.must_change_password else safe_next(next_))
    response.set_cookie(DEVICE_COOKIE, result.device_token, max_age=DEVICE_DAYS * 86400, path="/staff",
                        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """Sign-in's second step for accounts with two-factor sign-in (within SECOND_STEP_SECONDS of
    the password)."""
    pending = session.get(SECOND_STEP)
    if not pending or time.time() - pending.get("at", 0) > SECOND_STEP_SECONDS:
        session.pop(SECOND_STEP, None)
        flash("Please sign in again.", "info")
        return redirect(url_for("staff.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        result = complete_second_factor(pending["user"], form.code.data, request.cookies.get(DEVICE_COOKIE))
        if result.user is not None:
            return _signed_in(result, pending.get("next"))
        form.code.errors.append(result.message)
        status = 401
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("staff/login_code.html", form=form), status


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
        if not confirm_identity(current_user, password=form.current.data,
                                device_token=request.cookies.get(DEVICE_COOKIE)):
            form.current.errors.append(NOT_CONFIRMED)
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
def password_and_second_factor_first():
    """After an admin's forced reset, the account can do nothing until its owner has chosen a new
    password; where the site requires two-factor sign-in, nothing until it is set up (signing
    out aside)."""
    if request.blueprint != "staff" or not current_user.is_authenticated:
        return None
    if current_user.must_change_password and request.endpoint not in ("staff.password", "staff.logout"):
        return redirect(url_for("staff.password"))
    if (not current_user.totp_secret and request.endpoint not in ("staff.two_factor", "staff.logout")
            and two_factor.required_for(current_user, current_app.config["TWO_FACTOR_REQUIRED"])):
        return redirect(url_for("staff.two_factor"))
    return None


@bp.route("/account/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@staff_required
def two_factor_page():
    """Set up, renew the recovery codes of, or turn off two-factor sign-in."""
    user = current_user._get_current_object()
    required = two_factor.required_for(user, current_app.config["TWO_FACTOR_REQUIRED"])
    code_form, off_form = CodeForm(), TwoFactorOffForm()
    action = request.form.get("action")
    status = 200
    if request.method == "POST" and action == "enable" and not user.totp_secret and code_form.validate_on_submit():
        codes = two_factor.enable(user, user.totp_pending or "", code_form.code.data, time.time())
        if codes is None:
            code_form.code.errors.append("That code does not match. Scan the QR code again, or type the key, and "
                                         "enter the code the app shows now.")
            status = 422
        else:
            audit.record("staff.two_factor_on", f"staff {user.email}")
            db.session.commit()
            return _recovery_codes_page(codes)
    elif request.method == "POST" and action == "recovery" and user.totp_secret and code_form.validate_on_submit():
        if confirm_identity(user, code=code_form.code.data, device_token=request.cookies.get(DEVICE_COOKIE)):
            codes = two_factor.new_recovery_codes(user)
            audit.record("staff.recovery_codes", f"staff {user.email}")
            db.session.commit()
            return _recovery_codes_page(codes)
        code_form.code.errors.append("That code is not right, has been used already, or this browser is paused "
                                     "after repeated attempts.")
        status = 422
    elif request.method == "POST" and action == "disable" and user.totp_secret and off_form.validate_on_submit():
        if required:
            flash("This site requires two-factor sign-in for your account: it cannot be turned off.", "error")
            return redirect(url_for("staff.two_factor"), code=303)
        if not confirm_identity(user, password=off_form.password.data,
                                device_token=request.cookies.get(DEVICE_COOKIE)):
            off_form.password.errors.append(NOT_CONFIRMED)
            status = 422
        else:
            two_factor.disable(user)
            audit.record("staff.two_factor_off", f"staff {user.email}")
            db.session.commit()
            flash("Two-factor sign-in is off for your account.", "info")
            return redirect(url_for("staff.two_factor"), code=303)
    elif request.method == "POST":
        status = 400 if code_form.csrf_token.errors else 422
    context = {"user": user, "required": required, "code_form": code_form, "off_form": off_form}
    if user.totp_secret:
        context["codes_left"] = two_factor.recovery_codes_left(user)
    else:
        secret = two_factor.pending_secret(user)
        db.session.commit()
        context.update(secret=two_factor.spaced(secret), qr=Markup(two_factor.enrolment_qr_svg(user, secret)))
    response = make_response(render_template("staff/two_factor.html", **context), status)
    response.headers["Cache-Control"] = "no-store"  # a secret, or codes, on the page
    return response


def _recovery_codes_page(codes: list[str]):
    response = make_response(render_template("staff/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response
