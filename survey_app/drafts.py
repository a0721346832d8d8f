"""Answers in progress (``ResponseDraft``) and the one transaction that turns a draft into a response.

A resident's answers are saved page by page in a draft found by the hash of a resume code
(``access_codes``) and sealed with a key derived from the same code (``seal``/``unseal``):
the code lives in the resident's browser (a cookie) or on their note, never in the database,
so a draft row, and every copy of it a database file keeps after it is deleted (SQLite's
write-ahead log, PostgreSQL's dead rows), is unreadable without it. An invitation draft has
a resume code of its own: the invitation code (which staff's mail-merge file ties to an
address) opens the survey and says which invitation submitting uses up, but cannot unlock
answers.

Submitting deletes the draft, uses up the invitation if there is one, and stores the
response, all in one transaction: the conditional DELETE and UPDATE are what make a draft and
an invitation submit at most once, also when two submits race (on PostgreSQL the second waits
for the first's row lock and then matches no row; SQLite serialises writers).

Drafts not saved for DRAFT_DAYS days, and the drafts of closed surveys, are deleted by
``purge`` (``flask purge-drafts``, run daily by a scheduler) and when staff close a survey.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Date,
    Integer,
    LargeBinary,
    String,
    and_,
    bindparam,
    delete,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from . import access_codes, responses
from .extensions import db
from .forms.response import AnswerValue
from .models import Invitation, ResponseDraft, Survey, utcnow

DRAFT_DAYS = 30  # a draft not saved for this long is deleted


class CodeRefused(Exception):
    """A code that does not open a draft; ``reason`` is 'invalid', 'unknown' or 'used'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SubmitRefused(Exception):
    """The draft was already submitted, or its invitation already used (e.g. a second device)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _today() -> dt.date:
    return utcnow().date()


def _fresh_from() -> dt.date:
    """The oldest day a draft may have been saved on and still be kept."""
    return _today() - dt.timedelta(days=DRAFT_DAYS)


def purge(now: dt.datetime | None = None) -> int:
    """Delete every expired draft and every draft of a survey no longer taking responses
    (closed by staff, or past its closing time); how many. Not committed."""
    now = now or utcnow()
    closed = [s.id for s in db.session.scalars(select(Survey).where(
        (Survey.status == "closed") | Survey.closes_at.is_not(None))) if s.availability(now) == "closed"]
    condition = ResponseDraft.saved_on < (now.date() - dt.timedelta(days=DRAFT_DAYS))
    if closed:
        condition = condition | ResponseDraft.survey_id.in_(closed)
    result = db.session.execute(delete(ResponseDraft).where(condition))
    return result.rowcount or 0


# PostgreSQL stamps every row a transaction writes with that transaction's id (the hidden xmin
# column; a deleted row keeps it in xmax until vacuum). Submitting marks the invitation used in
# the transaction that stores the response, and keying in a paper or phone response counts it
# in the day's audit tally in the same transaction: until those rows are written again, a join
# on xmin pairs an invitation (which staff's mail-merge file ties to an address), or a staff
# member's tally, with a response. Writing them all again in one transaction gives them one new
# id, and VACUUM then drops the old row versions and the deleted drafts.
_REWRITE_LINKED_ROWS = (
    "UPDATE invitation SET used = used WHERE used",
    "UPDATE audit_entry SET action = action WHERE action IN ('responses.enter', 'responses.import')",
    # An import's job ends in the transaction that stores its responses (jobs.py), and keeps its
    # times to the second: rewritten too, so that they do not date those responses.
    "UPDATE job SET status = status WHERE kind = 'import' AND status IN ('done', 'failed')",
)
VACUUMED = ("response_draft", "invitation", "audit_entry", "job")


def unlink_transaction_ids(engine) -> bool:
    """On PostgreSQL, rewrite the rows a submission or a keyed-in response wrote beside the
    response, then vacuum (see above); True if done (False: SQLite, which has no such ids)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.begin() as connection:
        for statement in _REWRITE_LINKED_ROWS:
            connection.exec_driver_sql(statement)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in VACUUMED:
            connection.exec_driver_sql(f"VACUUM {table}")
    return True


def purge_survey(survey: Survey) -> int:
    """Delete a survey's drafts (it is closing: they can never be submitted); how many. Not committed."""
    result = db.session.execute(delete(ResponseDraft).where(ResponseDraft.survey_id == survey.id))
    return result.rowcount or 0


# --- Sealed answers ---------------------------------------------------------------------------
# JSON of the answers, sealed with AES-GCM under access_codes.answers_key(code): a fresh 96-bit
# nonce per save, stored in front of the ciphertext. The draft's survey is bound in as
# associated data, so that a sealed value copied into another survey's draft does not open.

_NONCE_BYTES = 12


class DraftUnreadable(Exception):
    """The code does not unlock the draft's answers (a damaged or tampered row)."""


def seal(code: str, survey_id: int, answers: dict) -> bytes | None:
    if not answers:
        return None
    nonce = os.urandom(_NONCE_BYTES)
    plain = json.dumps(answers, separators=(",", ":")).encode()
    return nonce + AESGCM(access_codes.answers_key(code)).encrypt(nonce, plain, str(survey_id).encode())


def unseal(draft: ResponseDraft, code: str) -> dict:
    """The draft's answers by field name, unsealed with its (normalised) resume code."""
    sealed = draft.sealed_answers
    if not sealed:
        return {}
    try:
        plain = AESGCM(access_codes.answers_key(code)).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], str(draft.survey_id).encode())
    except InvalidTag:
        raise DraftUnreadable(draft.id) from None
    return json.loads(plain)


# Statements of every resident request, built once (building one costs more than running it).
_INSERT_DRAFT = insert(ResponseDraft.__table__)
# The unexpired draft a resume code opens (binds: token_hash, fresh_from).
_OPENED_BY_CODE = and_(ResponseDraft.token_hash == bindparam("token_hash"),
                       ResponseDraft.saved_on >= bindparam("fresh_from"))
_FIND_DRAFT = select(ResponseDraft).where(_OPENED_BY_CODE, ResponseDraft.survey_id == bindparam("survey_id"))
_DELETE_DRAFT = delete(ResponseDraft).where(ResponseDraft.id == bindparam("draft_id"))


# Starting from a survey this process has cached without asking whether it is still current
# (respond/routes.py): the draft is inserted only if the survey's stamp is still the one the
# cache holds, in the same statement, so that Start is one statement instead of two. No row
# inserted: the survey changed (or went), and the caller starts again the checked way.
_INSERT_DRAFT_IF_CURRENT = insert(ResponseDraft.__table__).from_select(
    ["survey_id", "token_hash", "sealed_answers", "page", "furthest", "language", "saved_on"],
    # Typed binds (PostgreSQL's driver dialect casts them; a CAST in SQLite would turn a date
    # into a number), invitation_id left to its NULL.
    select(Survey.id, *(type_coerce(bindparam(name, type_=kind), kind) for name, kind in (
        ("token_hash", String()), ("sealed_answers", LargeBinary()), ("page", Integer()), ("furthest", Integer()),
        ("language", String()), ("saved_on", Date()))))
    .where(Survey.id == bindparam("survey_id"), Survey.slug == bindparam("slug"),
           Survey.created_at == bindparam("created_at"), Survey.revision == bindparam("revision")),
).returning(ResponseDraft.id)


def start(survey: Survey, language: str, stamp: tuple | None = None) -> tuple[ResponseDraft, str] | None:
    """A new, empty draft for an open-link survey, and its resume code.

    One Core INSERT: the draft returned is not in the session (the caller reads it only to
    send the resident to its page); a later request finds it by its code. With ``stamp``
    (the survey's (created_at, revision) as the caller's cached copy has it), the draft is
    stored only if that is still the survey's stamp; None if it is not (nothing stored).
    """
    code = access_codes.new_code()
    values = {"survey_id": survey.id, "token_hash": access_codes.draft_token(code), "invitation_id": None,
              "sealed_answers": None, "page": 0, "furthest": 0, "language": language, "saved_on": _today()}
    try:
        connection = db.session.connection()
        if stamp is None:
            values["id"] = connection.execute(_INSERT_DRAFT, values).inserted_primary_key[0]
        else:
            values["id"] = connection.execute(_INSERT_DRAFT_IF_CURRENT, {
                **values, "slug": survey.slug, "created_at": stamp[0], "revision": stamp[1]}).scalar()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if values["id"] is None:
        return None
    return ResponseDraft(**values), code


# A survey's stamp (survey_cache) and the draft a resume code opens in it, in one query: each
# page a resident posts needs both.
_STAMP_AND_DRAFT = select(Survey.id, Survey.created_at, Survey.revision, ResponseDraft).outerjoin(
    ResponseDraft, and_(ResponseDraft.survey_id == Survey.id, _OPENED_BY_CODE)
).where(Survey.slug == bindparam("slug"))


def stamp_and_find(slug: str, code: str):
    """(the survey's stamp row: id, created_at, revision; the unexpired draft of that survey
    the resume code opens, or None), or None when there is no survey at ``slug``. The code
    must be a normalised one."""
    row = db.session.execute(_STAMP_AND_DRAFT, {
        "slug": slug, "token_hash": access_codes.draft_token(code), "fresh_from": _fresh_from()}).first()
    if row is None:
        return None
    return row, row.ResponseDraft


def find(survey: Survey, code: str | None) -> ResponseDraft | None:
    """The survey's unexpired draft for a resume code, if any."""
    code = access_codes.normalise(code)
    if code is None:
        return None
    return db.session.scalar(_FIND_DRAFT, {
        "token_hash": access_codes.draft_token(code), "survey_id": survey.id,
        "fresh_from": _fresh_from()})


@dataclass
class InvitationOpened:
    """What an invitation code opens: the invitation, and its unexpired draft if one was started."""

    invitation: Invitation
    draft: ResponseDraft | None


def open_invitation(survey: Survey, typed: str) -> InvitationOpened:
    """The unused invitation of ``survey`` an invitation code names; raises CodeRefused.

    An expired draft of the invitation is deleted here (the code then starts afresh).
    """
    code = access_codes.normalise(typed)
    if code is None:
        raise CodeRefused("invalid")
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.survey_id == survey.id, Invitation.code_hash == access_codes.code_hash(code)))
    if invitation is None:
        raise CodeRefused("unknown")
    if invitation.used:
        raise CodeRefused("used")
    db.session.execute(delete(ResponseDraft).where(ResponseDraft.invitation_id == invitation.id,
                                                   ResponseDraft.saved_on < _fresh_from()))
    draft = db.session.scalar(select(ResponseDraft).where(ResponseDraft.invitation_id == invitation.id))
    db.session.commit()
    return InvitationOpened(invitation, draft)


def start_invitation(survey: Survey, invitation: Invitation, language: str,
                     replace: bool = False) -> tuple[ResponseDraft, str]:
    """A new draft for an invitation, with a resume code of its own; raises StartedElsewhere if
    the invitation has a draft already, unless ``replace`` (the resident chose to start again:
    the draft no one here can read is deleted)."""
    code = access_codes.new_code()
    try:
        if replace:
            db.session.execute(delete(ResponseDraft).where(ResponseDraft.invitation_id == invitation.id))
        draft = ResponseDraft(survey_id=survey.id, token_hash=access_codes.draft_token(code),
                              invitation_id=invitation.id, sealed_answers=None, page=0, furthest=0,
                              language=language, saved_on=_today())
        db.session.add(draft)
        db.session.commit()
    except IntegrityError:  # started at the same moment elsewhere
        db.session.rollback()
        raise StartedElsewhere() from None
    except Exception:
        db.session.rollback()
        raise
    return draft, code


class StartedElsewhere(Exception):
    """The invitation has answers in progress that this browser's code does not open."""


def formdata(answers: dict) -> MultiDict:
    """Answers by field name as posted form data (what the forms and display logic read)."""
    return MultiDict([(name, value) for name, values in answers.items() for value in values])


def keep(draft: ResponseDraft, code: str, answers: dict, field_names, posted) -> dict:
    """The draft's ``answers`` (unsealed) with the values of ``field_names`` replaced by what was
    posted (an unticked box clears), sealed into the draft again with its code; returned.

    Not committed: the caller saves the page position too, then commits once.
    """
    kept = dict(answers)
    for name in field_names:
        values = [v for v in posted.getlist(name) if isinstance(v, str)]
        if any(v.strip() for v in values):
            # Empty values stay beside filled ones: a ranking's empty place keeps its position.
            kept[name] = values
        else:
            kept.pop(name, None)
    draft.sealed_answers = seal(code, draft.survey_id, kept)
    draft.saved_on = _today()
    return kept


# Uses up an invitation if no one has (binds: invitation_id).
_USE_INVITATION = (update(Invitation).where(Invitation.id == bindparam("invitation_id"), Invitation.used.is_(False))
                   .values(used=True))


def submit(survey: Survey, draft: ResponseDraft, answers: list[AnswerValue], language: str,
           mode: str = "web") -> int:
    """Store the response and delete the draft in one transaction; the response's id. Raises
    SubmitRefused if the draft was submitted already or its invitation used (nothing changes).

    The conditional DELETE and UPDATE are what make a draft and an invitation submit at most
    once when two submits race: on PostgreSQL the second waits for the first's row lock, then
    matches no row; SQLite serialises writers.
    """
    draft_id, invitation_id = draft.id, draft.invitation_id
    # The page's last changes to the draft are in ``answers`` already: the row is deleted, not
    # updated first (one statement less). The DELETE is what proves nobody submitted it meanwhile.
    db.session.expunge(draft)
    try:
        connection = db.session.connection()
        if connection.execute(_DELETE_DRAFT, {"draft_id": draft_id}).rowcount != 1:
            raise SubmitRefused("submitted")
        if invitation_id is not None and connection.execute(
                _USE_INVITATION, {"invitation_id": invitation_id}).rowcount != 1:
            raise SubmitRefused("invitation_used")  # a paper form keyed in, or another device
        response_id = responses.store_response(survey.id, answers, mode, language)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return response_id
