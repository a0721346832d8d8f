"""Staff accounts: creation, password checks with throttling, and role rules.

Passwords are hashed with Werkzeug's scrypt (``generate_password_hash``'s
default: N=32768, r=8, p=1, a random salt per hash), a memory-hard scheme.
Throttling is per account, not per address (we keep no addresses): after
MAX_FAILURES consecutive wrong passwords the account is locked for
LOCK_MINUTES, doubling for every further run of failures, and a correct
password during the lock is refused like a wrong one. An unknown email gets
the same answer as a wrong password, after the same hashing work, so that the
login form does not tell which emails have accounts.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .models import STAFF_ROLES, StaffUser, utcnow

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A hash of a random password, checked when the email is unknown so that both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0123456789")

# What each role may do. Admins may do everything. Residents' written answers (read_text) and
# removing a response (remove_responses) are for editors and admins, not analysts.
PERMISSIONS = {
    "admin": {"manage_staff", "read_audit", "design", "collect", "analyse", "publish", "read_text",
              "remove_responses"},
    "editor": {"design", "collect", "read_text", "remove_responses"},
    "analyst": {"collect", "analyse", "publish"},
}


class AccountError(ValueError):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(email: str, name: str, password: str, role: str) -> StaffUser:
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email):
        raise AccountError(f"'{email}' is not an email address.")
    if role not in STAFF_ROLES:
        raise AccountError(f"The role must be one of {', '.join(STAFF_ROLES)}.")
    if not (name or "").strip():
        raise AccountError("A name is required.")
    check_password_rules(password)
    if db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)) is not None:
        raise AccountError(f"There is already an account for {email}.")
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)


@dataclass
class LoginResult:
    user: StaffUser | None
    message: str = ""


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def authenticate(email: str, password: str, now: dt.datetime | None = None) -> LoginResult:
    """The user if the email and password match an active, unlocked account; otherwise why not."""
    now = now or utcnow()
    wrong = "The email or password is not right."
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return LoginResult(None, wrong)
    locked_until = _aware(user.locked_until)
    if locked_until and now < locked_until:
        minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
        return LoginResult(None, f"Too many failed attempts: this account is locked for {minutes} more "
                                 "minute(s). Try again later or ask an administrator.")
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins += 1
        if user.failed_logins % MAX_FAILURES == 0:
            runs = user.failed_logins // MAX_FAILURES
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES * 2 ** (runs - 1))
        db.session.commit()
        return LoginResult(None, wrong)
    if not user.active:
        return LoginResult(None, "This account has been deactivated. Ask an administrator.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.commit()
    return LoginResult(user)


def can(user, permission: str) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_active
                and permission in PERMISSIONS.get(user.role, set()))
