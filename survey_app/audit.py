"""The audit log: every staff action that changes data, with who did it and when.

Views call ``record`` in the same transaction as the change, so an entry
exists exactly when the change does. Entries are never deleted through the
application. Residents' answers never appear here.

Data entry is the exception to "when": a response keeps only its date, so an entry that said
"entered by Ana at 14:02:17.431" would place it in time and tie it to her. Responses keyed in
(paper, phone) are tallied instead: one entry per staff member, survey, mode and day, stamped
at the day (00:00 UTC) and counting up through the day (``tally_data_entry``); a CSV import
is one entry with its count, stamped at the day too. None names a response.
"""
from __future__ import annotations

import datetime as dt

from flask_login import current_user
from sqlalchemy import select

from .extensions import db
from .models import AuditEntry, utcnow

# Actions whose entries carry a day, not a moment (the audit page shows the date only).
DATA_ENTRY_ACTIONS = ("responses.enter", "responses.import")


def _who(user) -> tuple[int | None, str]:
    actor = user if user is not None else current_user
    return getattr(actor, "id", None), getattr(actor, "email", "system") or "system"


def record(action: str, target: str = "", user=None, **details) -> AuditEntry:
    """Add an entry to the session (the caller commits it with the change)."""
    user_id, email = _who(user)
    entry = AuditEntry(
        user_id=user_id,
        user_email=email,
        action=action,
        target=target,
        details={key: value for key, value in details.items() if value is not None},
    )
    db.session.add(entry)
    return entry


def start_of_day(day: dt.date | None = None) -> dt.datetime:
    """The moment a data-entry entry carries: midnight UTC of its day."""
    return dt.datetime.combine(day or utcnow().date(), dt.time.min, tzinfo=dt.timezone.utc)


def tally_data_entry(target: str, mode: str, count: int = 1, user=None) -> AuditEntry:
    """Count ``count`` keyed-in responses into today's entry for this staff member, survey and mode
    (made if it is the day's first), in the caller's transaction.

    Call it after storing the response: on SQLite the transaction then already holds the write
    lock, so two staff members' tallies cannot interleave; on PostgreSQL the row is locked for
    update. Two first entries of a day made at the same instant on PostgreSQL become two rows of
    the same day, whose counts add up (the page shows both).
    """
    user_id, email = _who(user)
    day = start_of_day()
    candidates = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "responses.enter", AuditEntry.target == target,
                                 AuditEntry.user_email == email, AuditEntry.at >= day,
                                 AuditEntry.at < day + dt.timedelta(days=1))
        .order_by(AuditEntry.id).with_for_update()).all()
    entry = next((e for e in candidates if (e.details or {}).get("mode") == mode), None)
    if entry is None:
        entry = AuditEntry(user_id=user_id, user_email=email, action="responses.enter", target=target,
                           at=day, details={"mode": mode, "count": count})
        db.session.add(entry)
    else:
        entry.details = {**entry.details, "count": int(entry.details.get("count", 0)) + count}
    return entry


def record_import(target: str, count: int, file: str = "", user=None) -> AuditEntry:
    """One entry for a CSV import: how many responses, from which file, on which day (no time)."""
    entry = record("responses.import", target, user=user, count=count, file=file or None)
    entry.at = start_of_day()
    return entry
