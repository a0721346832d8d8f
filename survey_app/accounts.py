"""Staff accounts: creation, passwords, sign-in with throttling that holds, and role rules.

Passwords are hashed with Werkzeug's scrypt (``generate_password_hash``'s default: N=32768,
r=8, p=1, a random salt per hash), a memory-hard scheme. A new password needs at least
MIN_PASSWORD_LENGTH characters and must not be easy to guess: zxcvbn (a maintained estimator
with frequency lists of common and breached passwords, offline) must rate it at least
MIN_STRENGTH of 4, with the account's email and name counted as known words.

Throttling (the design, and why). Counting failures per account lets anyone who knows a staff
email keep its owner locked out; counting per address needs addresses, which we keep nowhere.
So, as OWASP's "device cookies" advise: a browser that has signed in to an account keeps a
random token (cookie ``staff_device``; only its hash is stored, in ``StaffDevice``). Sign-ins
from such a browser count their failures on that browser alone. Sign-ins from any other
browser count on the account: after MAX_FAILURES of them, such sign-ins are refused for
LOCK_MINUTES, doubling with every further run, at most MAX_LOCK_HOURS. An attacker can pause
sign-ins from unknown browsers, never the owner's own. Counts are single SQL statements
(``failed_logins + 1``), so parallel attempts on several servers all count; a correct password
is let in only by a statement that checks there is no lock at that moment. While a lock holds
the password is still hashed and checked, and every refusal (unknown email, wrong password,
paused) has the same words and the same work, so the form tells nobody which emails have
accounts or which are paused.

Sessions end: each session keeps the account's ``session_version`` from sign-in, and every
request compares it (staff/access.py); signing out, a new password, a new role and disabling
the account move it, which ends every session of that account on every server.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .models import STAFF_ROLES, StaffDevice, StaffUser, as_utc, utcnow

MAX_FAILURES = 5
LOCK_MINUTES = 15
MAX_LOCK_HOURS = 24
MIN_PASSWORD_LENGTH = 12
MIN_STRENGTH = 3  # zxcvbn's score: 3 "safely unguessable: moderate protection from offline attacks"
REFUSED = ("The email or password is not right, or sign-in from this browser is paused after repeated "
           "attempts. Check them and try again in a few minutes.")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A hash of a random password, checked when the email is unknown so that both paths cost the same.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0123456789")

# What each role may do. Admins may do everything. Residents' written answers (read_text) and
# removing a response (remove_responses) are for editors and admins, not analysts; a survey's
# whole backup from the staff pages (backup: every answer, free text included), for admins.
PERMISSIONS = {
    "admin": {"manage_staff", "read_audit", "design", "collect", "analyse", "publish", "read_text",
              "remove_responses", "backup"},
    "editor": {"design", "collect", "read_text", "remove_responses"},
    "analyst": {"collect", "analyse", "publish"},
}


class AccountError(ValueError):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_password_rules(password: str, known_words: tuple[str, ...] = ()) -> None:
    """Refuse a password that is short, common, breached or otherwise easy to guess."""
    from zxcvbn import zxcvbn

    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    words = [w for word in known_words if word for w in [word, *re.split(r"[@.\s_-]+", word)] if w]
    rating = zxcvbn(password[:200], user_inputs=words)  # its cost grows with length; 200 is plenty
    if rating["score"] < MIN_STRENGTH:
        reason = rating["feedback"]["warning"] or "It is too easy to guess."
        raise AccountError(f"Choose a password that is harder to guess. {reason.rstrip('.')}. A few unrelated "
                           "words together make a long password that is easy to remember.")


def create_user(email: str, name: str, password: str, role: str) -> StaffUser:
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email):
        raise AccountError(f"'{email}' is not an email address.")
    if role not in STAFF_ROLES:
        raise AccountError(f"The role must be one of {', '.join(STAFF_ROLES)}.")
    if not (name or "").strip():
        raise AccountError("A name is required.")
    check_password_rules(password, (email, name))
    if db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)) is not None:
        raise AccountError(f"There is already an account for {email}.")
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: StaffUser, password: str, must_change: bool = False) -> None:
    """A new password (checked); every session of the account ends. ``must_change``: an admin's
    temporary password, which the owner must replace at the next sign-in."""
    check_password_rules(password, (user.email, user.name))
    user.password_hash = generate_password_hash(password)
    user.must_change_password = must_change
    end_sessions(user)


def end_sessions(user: StaffUser) -> None:
    """Every session of the account ends (on every server): the version they carry is old."""
    user.session_version = (user.session_version or 0) + 1


@dataclass
class LoginResult:
    user: StaffUser | None
    message: str = ""
    device_token: str | None = None  # for the browser to keep (a new one after a first sign-in)
    # The password was right and the account has two-factor sign-in: its id, for the second step.
    second_factor: int | None = None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _not_locked(table, now: dt.datetime):
    return or_(table.c.locked_until.is_(None), table.c.locked_until <= now)


def _count_failure(table, row_id: int, now: dt.datetime) -> None:
    """One more failure, counted by the database itself (parallel attempts all count); every
    MAX_FAILURES-th starts a pause, doubling with each run."""
    count = db.session.execute(
        update(table).where(table.c.id == row_id, _not_locked(table, now))
        .values(failed_logins=table.c.failed_logins + 1).returning(table.c.failed_logins)).scalar()
    if count is not None and count % MAX_FAILURES == 0:
        minutes = min(LOCK_MINUTES * 2 ** (count // MAX_FAILURES - 1), MAX_LOCK_HOURS * 60)
        db.session.execute(update(table).where(table.c.id == row_id)
                           .values(locked_until=now + dt.timedelta(minutes=minutes)))


def _rows(where, device_token: str | None):
    """The account row matching ``where`` and, if ``device_token`` is one of its browsers', that row."""
    users, devices = StaffUser.__table__, StaffDevice.__table__
    user = db.session.execute(select(users).where(where)).first()
    device = None
    if user is not None and device_token:
        device = db.session.execute(select(devices).where(
            devices.c.token_hash == _token_hash(device_token), devices.c.user_id == user.id)).first()
    db.session.rollback()  # end the read: the writes that follow start from what is committed then
    return user, device


def _counter(user, device):
    """Where this sign-in's failures count: its browser's row if known, else the account's."""
    return (StaffDevice.__table__, device.id) if device is not None else (StaffUser.__table__, user.id)


def authenticate(email: str, password: str, device_token: str | None = None,
                 now: dt.datetime | None = None) -> LoginResult:
    """The user if the email and password match an active account and sign-in is not paused for
    this browser (``device_token``: its staff_device cookie); else the one refusal for all. An
    account with two-factor sign-in gets ``second_factor`` instead: nothing is reset until the
    second step passes too (complete_second_factor)."""
    now = now or utcnow()
    user, device = _rows(StaffUser.__table__.c.email == normalise_email(email), device_token)
    right = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    if user is None:
        # The same work as a known account's failure (a counting statement and a commit), so
        # that the time of the answer does not tell which emails have accounts.
        _count_failure(StaffUser.__table__, 0, now)
        db.session.commit()
        return LoginResult(None, REFUSED)
    counted, row_id = _counter(user, device)
    if not right:
        _count_failure(counted, row_id, now)
        db.session.commit()
        return LoginResult(None, REFUSED)
    if user.totp_secret and user.active:
        paused = as_utc((device or user).locked_until)
        if paused and paused > now:
            return LoginResult(None, REFUSED)
        return LoginResult(None, second_factor=user.id)
    return _open(user, device, device_token, now)


def complete_second_factor(user_id: int, code: str, device_token: str | None = None,
                           now: dt.datetime | None = None) -> LoginResult:
    """The second step: a code from the account's authenticator app, or one of its recovery codes.
    A wrong code counts as a failed sign-in (the same pause), so the password alone does not buy
    unlimited guesses at six digits."""
    from . import two_factor

    now = now or utcnow()
    user, device = _rows(StaffUser.__table__.c.id == user_id, device_token)
    if user is None or not user.totp_secret:
        return LoginResult(None, REFUSED)
    counted, row_id = _counter(user, device)
    paused = as_utc((device or user).locked_until)
    if (paused and paused > now) or not two_factor.use_code(user.id, user.totp_secret, code, now.timestamp()):
        db.session.rollback()
        if not (paused and paused > now):
            _count_failure(counted, row_id, now)
        db.session.commit()
        return LoginResult(None, "That code is not right, or has been used already. Type the 6-digit code your "
                                 "authenticator app shows now, or one of your recovery codes.")
    return _open(user, device, device_token, now)


def confirm_identity(user: StaffUser, password: str | None = None, code: str | None = None,
                     device_token: str | None = None, now: dt.datetime | None = None) -> bool:
    """A signed-in staff member's password (or current two-factor code) asked again before a
    change to the account. Failures count as failed sign-ins from this browser, and a pause
    refuses even the right answer: a session left open is no way around the throttling."""
    from . import two_factor

    now = now or utcnow()
    row, device = _rows(StaffUser.__table__.c.id == user.id, device_token)
    counted, row_id = _counter(row, device)
    paused = as_utc((device or row).locked_until)
    if code is not None:
        right = bool(row.totp_secret) and two_factor.use_code(row.id, row.totp_secret, code, now.timestamp())
    else:
        right = check_password_hash(row.password_hash, password or "")
    if paused and paused > now:
        db.session.rollback()
        return False
    if not right:
        db.session.rollback()
        _count_failure(counted, row_id, now)
    db.session.commit()
    return right


def _open(user, device, device_token: str | None, now: dt.datetime) -> LoginResult:
    """Let the account in, if no pause holds at this moment (a statement of its own, so that
    failures counted meanwhile by other requests are seen); its browser becomes a known one."""
    counted, row_id = _counter(user, device)
    opened = db.session.execute(update(counted).where(counted.c.id == row_id, _not_locked(counted, now))
                                .values(failed_logins=0, locked_until=None)).rowcount
    if not opened:
        db.session.rollback()
        return LoginResult(None, REFUSED)
    if not user.active:
        db.session.commit()
        return LoginResult(None, "This account has been deactivated. Ask an administrator.")
    devices = StaffDevice.__table__
    token = device_token if device is not None else secrets.token_urlsafe(32)
    if device is None:
        db.session.add(StaffDevice(user_id=user.id, token_hash=_token_hash(token), failed_logins=0,
                                   last_used_on=now.date()))
    else:
        db.session.execute(update(devices).where(devices.c.id == device.id).values(last_used_on=now.date()))
    staff = db.session.get(StaffUser, user.id)
    staff.last_login_at = now
    db.session.commit()
    return LoginResult(staff, device_token=token)


def can(user, permission: str) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_active
                and permission in PERMISSIONS.get(user.role, set()))
