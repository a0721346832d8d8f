"""Invitation codes for a random sample of addresses: generate, count, and hand over once.

Codes are generated in batches (one per mailing). Only their hashes are stored, so the codes
themselves exist once, in what ``generate`` returns: the staff page turns that into a CSV (for
a mail-merge) and a printable sheet in the same response, and they cannot be shown again.
That is deliberate: the list that says which code went to which address stays with the
mailing, outside this system, and the database can never join it to the answers (see
``drafts.submit``: an invitation is marked used, with no date and no response).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from . import access_codes, spreadsheet_csv
from .extensions import db
from .models import Invitation, Survey, utcnow

MAX_BATCH = 20_000


class InvitationError(ValueError):
    pass


@dataclass(frozen=True)
class Batch:
    number: int
    created_on: str
    total: int
    used: int


def generate(survey: Survey, count: int) -> tuple[int, list[str]]:
    """Make ``count`` new codes for the survey in a new batch; returns (batch number, codes).

    Not committed: the caller commits (with its audit entry) once the codes are in hand.
    """
    if not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        raise InvitationError(f"Ask for between 1 and {MAX_BATCH:,} codes at a time.")
    if survey.access_mode != "invitation":
        raise InvitationError("This survey takes an open link. Switch its access to invitation codes "
                              "(in its settings, while it is a draft) before generating codes.")
    codes: set[str] = set()
    while len(codes) < count:  # a repeat within a batch is as likely as guessing a code: never
        codes.add(access_codes.new_code())
    ordered = sorted(codes)
    number = (db.session.scalar(select(func.max(Invitation.batch)).where(Invitation.survey_id == survey.id))
              or 0) + 1
    now = utcnow()
    db.session.execute(insert(Invitation), [
        {"survey_id": survey.id, "code_hash": access_codes.code_hash(code), "batch": number,
         "created_at": now, "used": False} for code in ordered])
    return number, ordered


def batches(survey: Survey) -> list[Batch]:
    rows = db.session.execute(
        select(Invitation.batch, func.min(Invitation.created_at), func.count(),
               func.count().filter(Invitation.used.is_(True)))
        .where(Invitation.survey_id == survey.id).group_by(Invitation.batch).order_by(Invitation.batch)).all()
    return [Batch(number, created.strftime("%Y-%m-%d") if created else "", total, used)
            for number, created, total, used in rows]


def codes_csv(codes: list[str], survey_url: str, batch: int) -> str:
    """One row per code: what a mail-merge needs (the code as printed, the address to type it in)."""
    out = io.StringIO()
    writer = spreadsheet_csv.writer(out, lineterminator="\r\n")
    writer.writerow(["batch", "code", "survey_url"])
    for code in codes:
        writer.writerow([batch, access_codes.display(code), survey_url])
    return out.getvalue()
