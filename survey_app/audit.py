"""The audit log: every staff action that changes data, with who did it and when.

Views call ``record`` in the same transaction as the change, so an entry
exists exactly when the change does. Entries are never updated or deleted
through the application. Residents' answers never appear here.
"""
from __future__ import annotations

from flask_login import current_user

from .extensions import db
from .models import AuditEntry


def record(action: str, target: str = "", user=None, **details) -> AuditEntry:
    """Add an entry to the session (the caller commits it with the change)."""
    actor = user if user is not None else current_user
    entry = AuditEntry(
        user_id=getattr(actor, "id", None),
        user_email=getattr(actor, "email", "system") or "system",
        action=action,
        target=target,
        details={key: value for key, value in details.items() if value is not None},
    )
    db.session.add(entry)
    return entry
