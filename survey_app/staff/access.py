"""Who may do what: decorators for staff views, and the user loader."""
from __future__ import annotations

from functools import wraps

from flask import abort, session
from flask_login import current_user, login_required, login_user

from ..accounts import can
from ..extensions import db, login_manager
from ..models import StaffUser


SESSION_VERSION = "staff_session_version"


@login_manager.user_loader
def load_user(user_id: str):
    """The signed-in account, if it is active and this session is not one that has been ended
    (signed out, new password, new role, disabled: accounts.end_sessions)."""
    try:
        user = db.session.get(StaffUser, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or not user.active or session.get(SESSION_VERSION) != user.session_version:
        return None
    return user


def sign_in(user: StaffUser) -> None:
    """Start this browser's session for ``user`` (Flask-Login) with the account's session version."""
    session.clear()  # nothing of an earlier session carries over
    login_user(user)
    session[SESSION_VERSION] = user.session_version


def permission_required(permission: str):
    """Signed in (else sent to sign-in) and allowed ``permission`` (else 403)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)
        wrapped.permission = permission  # what the route test checks every role against
        return wrapped
    return decorator


def staff_required(view):
    """Any signed-in staff member."""
    wrapped = login_required(view)
    wrapped.permission = None
    return wrapped
