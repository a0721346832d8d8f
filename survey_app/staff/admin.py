"""Admin pages: staff accounts and the audit log."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from .. import audit, two_factor
from ..accounts import AccountError, create_user, end_sessions, set_password
from ..extensions import db
from ..forms.staff import ConfirmForm, NewUserForm, PasswordResetForm, UserUpdateForm
from ..models import AuditEntry, StaffUser, Survey
from . import bp
from .access import permission_required, staff_required

AUDIT_PAGE_SIZE = 100


@bp.get("/")
@staff_required
def dashboard():
    return dashboard_page()


def dashboard_page(errors: dict | None = None, values: dict | None = None, status: int = 200):
    """The staff's list of surveys and the forms that create one; ``errors`` and ``values`` by
    form ("template", "blank") when a creation was refused, so that nothing typed is lost."""
    import datetime as dt

    from ..questionnaire.demo import COMMUNITY_TRUST
    from ..questionnaire.editing import free_slug

    surveys = db.session.scalars(select(Survey).order_by(Survey.created_at.desc())).all()
    year = dt.date.today().year
    suggested = {"title": f"{COMMUNITY_TRUST['title']} {year}", "slug": free_slug(f"{COMMUNITY_TRUST['slug']}-{year}")}
    return render_template("staff/dashboard.html", surveys=surveys, errors=errors or {}, values=values or {},
                           suggested=suggested), status


@bp.route("/users", methods=["GET", "POST"])
@permission_required("manage_staff")
def users():
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data, form.name.data, form.password.data, form.role.data)
        except AccountError as error:
            form.email.errors.append(str(error))
            status = 422
        else:
            audit.record("staff.create", f"staff {user.email}", role=user.role)
            db.session.commit()
            flash(f"Account created for {user.email} ({user.role}).", "info")
            return redirect(url_for(".users"), code=303)
    elif request.method == "POST":
        status = 422
    accounts = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    return render_template("staff/users.html", form=form, accounts=accounts,
                           update_form=UserUpdateForm, reset_form=PasswordResetForm()), status


@bp.post("/users/<int:user_id>")
@permission_required("manage_staff")
def update_user(user_id: int):
    user = db.get_or_404(StaffUser, user_id)
    form = UserUpdateForm()
    if not form.validate_on_submit():
        flash("The change was not saved: the form had expired or was incomplete. Please try again.", "error")
        return redirect(url_for(".users"), code=303)
    if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
        flash("You cannot remove your own admin role or deactivate yourself; ask another admin.", "error")
        return redirect(url_for(".users"), code=303)
    changes = {}
    if form.role.data != user.role:
        changes["role"] = [user.role, form.role.data]
        user.role = form.role.data
    if form.active.data != user.active:
        changes["active"] = [user.active, form.active.data]
        user.active = form.active.data
    if form.unlock.data and (user.failed_logins or user.locked_until):
        changes["unlocked"] = True
        user.failed_logins, user.locked_until = 0, None
    if "role" in changes or "active" in changes:
        end_sessions(user)  # signed in again, the account gets what its new role allows
    if changes:
        audit.record("staff.update", f"staff {user.email}", **changes)
        db.session.commit()
        flash(f"Saved the changes to {user.email}.", "info")
    return redirect(url_for(".users"), code=303)


@bp.post("/users/<int:user_id>/password")
@permission_required("manage_staff")
def reset_password(user_id: int):
    """Force a password reset: a temporary password, every session of the account ended, and a
    new password of the owner's own choosing required at the next sign-in."""
    user = db.get_or_404(StaffUser, user_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        flash("The password was not reset: enter a temporary password (the form may have expired).", "error")
        return redirect(url_for(".users"), code=303)
    try:
        set_password(user, form.temporary.data, must_change=True)
    except AccountError as error:
        flash(f"The password of {user.email} was not reset: {error}", "error")
        return redirect(url_for(".users"), code=303)
    audit.record("staff.password_reset", f"staff {user.email}")
    db.session.commit()
    flash(f"The password of {user.email} was reset and their sessions ended. They must choose a new one when "
          "they next sign in.", "info")
    return redirect(url_for(".users"), code=303)


@bp.post("/users/<int:user_id>/two-factor")
@permission_required("manage_staff")
def reset_two_factor(user_id: int):
    """Turn off someone's two-factor sign-in (a lost phone and no recovery code): their sessions
    end; where the site requires it they must set it up again at their next sign-in."""
    user = db.get_or_404(StaffUser, user_id)
    if ConfirmForm().validate_on_submit() and user.totp_secret:
        two_factor.disable(user)
        end_sessions(user)
        audit.record("staff.two_factor_reset", f"staff {user.email}")
        db.session.commit()
        flash(f"Two-factor sign-in of {user.email} is off and their sessions ended.", "info")
    return redirect(url_for(".users"), code=303)


@bp.get("/audit")
@permission_required("read_audit")
def audit_log():
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.scalar(select(func.count()).select_from(AuditEntry))
    entries = db.session.scalars(
        select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(AUDIT_PAGE_SIZE).offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return render_template("staff/audit.html", entries=entries, page=page,
                           more=total > page * AUDIT_PAGE_SIZE, day_only=audit.DATA_ENTRY_ACTIONS)
