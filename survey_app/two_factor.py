"""Two-factor sign-in for staff: time-based one-time codes (TOTP, RFC 6238, with pyotp) from an
authenticator app, and single-use recovery codes for a lost phone.

Enrolment: the page shows a new secret as a QR code (segno, SVG drawn with attributes only, so
the pages' content security policy holds) and as text; it is stored only once the staff member
has typed a code it produced. Then RECOVERY_CODES codes are shown once; only their hashes are
kept. A code is accepted for the current 30-second step or the one before or after (clocks
drift), and only once: the step it matched is stored by a conditional UPDATE, so a code seen
over someone's shoulder, or sent twice at once, does not sign in a second time.

A site may require it (``TWO_FACTOR_REQUIRED``: "none", "admins" or "all"); a staff member
it applies to who has not enrolled is sent to enrol before anything else.
"""
from __future__ import annotations

import hashlib
import secrets

import pyotp
import segno
from sqlalchemy import or_, update

from .extensions import db
from .models import RecoveryCode, StaffUser

ISSUER = "Community survey staff"
RECOVERY_CODES = 10
REQUIREMENTS = ("none", "admins", "all")


def required_for(user: StaffUser, requirement: str) -> bool:
    return requirement == "all" or (requirement == "admins" and user.role == "admin")


def new_secret() -> str:
    return pyotp.random_base32()


def enrolment_qr_svg(user: StaffUser, secret: str) -> str:
    """The otpauth:// address of the secret as an inline SVG QR code."""
    address = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    # Sized by the page (a viewBox, no fixed width): it shrinks to fit a 320 px screen.
    return segno.make(address, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff", omitsize=True,
                                                      title="QR code for your authenticator app")


def spaced(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _normal(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isalnum()).upper()


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = _normal(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(_from_timestamp(now))
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _from_timestamp(now: float):
    import datetime as dt

    return dt.datetime.fromtimestamp(now, dt.timezone.utc)


def use_code(user_id: int, secret: str, code: str, now: float) -> bool:
    """A current TOTP code not used before, or an unused recovery code: True, and it is used up."""
    step = _matching_step(secret, code, now)
    users = StaffUser.__table__
    if step is not None:
        return bool(db.session.execute(
            update(users).where(users.c.id == user_id,
                                or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step))
            .values(totp_last_step=step)).rowcount)
    codes = RecoveryCode.__table__
    return bool(db.session.execute(
        update(codes).where(codes.c.user_id == user_id, codes.c.code_hash == _hash(_normal(code)),
                            codes.c.used.is_(False)).values(used=True)).rowcount)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def enable(user: StaffUser, secret: str, code: str, now: float) -> list[str] | None:
    """Store the secret if ``code`` is one of its current codes (that code is then spent), with a
    new set of recovery codes; the codes, to show once. None if the code does not fit."""
    step = _matching_step(secret, code, now)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_last_step = step
    user.totp_pending = None
    return new_recovery_codes(user)


def new_recovery_codes(user: StaffUser) -> list[str]:
    """Replace the account's recovery codes by RECOVERY_CODES new ones (10 characters each)."""
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789") for _ in range(10))
             for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code), used=False) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def pending_secret(user: StaffUser) -> str:
    """The secret being set up for ``user`` (made and stored on first use; not committed)."""
    if not user.totp_pending:
        user.totp_pending = new_secret()
    return user.totp_pending


def disable(user: StaffUser) -> None:
    user.totp_secret = None
    user.totp_pending = None
    user.totp_last_step = None
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))


def recovery_codes_left(user: StaffUser) -> int:
    from sqlalchemy import func, select

    return db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id, RecoveryCode.used.is_(False))) or 0
