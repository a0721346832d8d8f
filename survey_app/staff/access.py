"""Who may do what: decorators for staff views, and the user loader."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..accounts import can
from ..extensions import db, login_manager
from ..models import StaffUser


@login_manager.user_loader
def load_user(user_id: str):
    try:
        user = db.session.get(StaffUser, int(user_id))
    except (TypeError, ValueError):
        return None
    return user if user is not None and user.active else None


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
