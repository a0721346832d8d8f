"""Storing submitted responses: one resident's submission, or a batch of them (an import).

``store_response`` is how one response reaches the database (web submissions through
``drafts.submit``, keyed-in ones through ``record_response``, CSV imports through
``store_responses`` from ``response_import``): the response and all its answers, in the
caller's transaction, so together or not at all. (Generated responses for the demo, tests
and benchmarks are stored in bulk by ``seeding``.)

Every path gives a response a random 63-bit id (``new_response_id``), never the next number
of a sequence: ids that follow the order of submission, set beside a server's access log or
an audit entry, would tell when each response came in. A random id that is already taken
(one chance in about 10^18 per response already stored) is drawn again: the insert skips a
taken id instead of failing, so no submission is lost to it.
"""
from __future__ import annotations

import secrets

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from .extensions import db
from .forms.response import AnswerValue
from .models import Answer, Response, Survey, utcnow

ID_ATTEMPTS = 5  # random ids drawn before giving up (each taken with a chance of ~10^-18)
MAX_RESPONSE_ID = 2**63 - 1  # what a signed 64-bit column holds


def new_response_id() -> int:
    """A random response id, 1 to MAX_RESPONSE_ID."""
    return secrets.randbelow(MAX_RESPONSE_ID) + 1


class ResponseIdsExhausted(RuntimeError):
    """Every random id drawn was taken: something is wrong with the random source."""


# Built once: building a statement costs more than running it on SQLite (measured 60 us of
# 80 us for a small SELECT), and the compiled form is cached per statement object.
# INSERT ... ON CONFLICT (id) DO NOTHING RETURNING id: the same SQL on SQLite and PostgreSQL,
# made by each dialect's own construct (the generic insert() has no ON CONFLICT).
_INSERT_RESPONSES = {
    name: dialect.insert(Response.__table__).on_conflict_do_nothing(index_elements=["id"])
    .returning(Response.__table__.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}
_INSERT_ANSWERS = insert(Answer.__table__)


def insert_responses(connection: Connection, rows: list[dict]) -> list[int]:
    """Insert response rows (survey_id, submitted_on, mode, language) with random ids; their
    ids, in the order of ``rows``. An id already taken is drawn again for that row alone."""
    statement = _INSERT_RESPONSES[connection.dialect.name]
    ids = _distinct_ids(len(rows))
    waiting = list(range(len(rows)))
    for _ in range(ID_ATTEMPTS):
        batch = [{**rows[i], "id": ids[i]} for i in waiting]
        if len(batch) == 1:  # one response (every submission): no executemany machinery
            stored = set(connection.execute(statement, batch[0]).scalars())
        else:
            stored = set(connection.execute(statement, batch).scalars())
        waiting = [i for i in waiting if ids[i] not in stored]
        if not waiting:
            return ids
        for i, fresh in zip(waiting, _distinct_ids(len(waiting), avoid=set(ids))):
            ids[i] = fresh
    raise ResponseIdsExhausted(f"{len(waiting)} response(s) found no free random id")


def _distinct_ids(n: int, avoid: set[int] = frozenset()) -> list[int]:
    """``n`` different random ids, none in ``avoid``."""
    if n == 1 and not avoid:
        return [new_response_id()]
    chosen: dict[int, None] = {}  # an insertion-ordered set
    for _ in range(ID_ATTEMPTS * n):
        candidate = new_response_id()
        if candidate not in avoid:
            chosen[candidate] = None
            if len(chosen) == n:
                return list(chosen)
    raise ResponseIdsExhausted("the random source keeps repeating itself")


def store_response(survey_id: int, answers: list[AnswerValue], mode: str = "web", language: str = "en",
                   submitted_on=None) -> int:
    """Insert a response and its answers in the session's transaction (not committed); its id.

    Two Core statements (the answers as one executemany), not the ORM unit of work, which for
    one response and its answers spent more time sorting out the flush than the database spent
    storing the rows (bench/load.py's submit request). The row keeps the date only (today
    unless given), never the time or the sender, and a random id.
    """
    connection = db.session.connection()
    (response_id,) = insert_responses(connection, [{
        "survey_id": survey_id, "submitted_on": submitted_on or utcnow().date(), "mode": mode,
        "language": language}])
    if answers:
        connection.execute(_INSERT_ANSWERS, [
            {"response_id": response_id, "question_id": a.question_id, "value": a.value, "number": a.number,
             "text": a.text} for a in answers])
    return response_id


STORE_BATCH = 1000  # responses per insert when storing many (an import)


def store_responses(survey_id: int, rows: list[tuple[list[AnswerValue], str, str, object]]) -> int:
    """Insert many responses, each ``(answers, mode, language, submitted_on)``, in the session's
    transaction (not committed), a batch at a time; how many. Same rows as ``store_response``."""
    connection = db.session.connection()
    for start in range(0, len(rows), STORE_BATCH):
        batch = rows[start:start + STORE_BATCH]
        ids = insert_responses(connection, [
            {"survey_id": survey_id, "submitted_on": day or utcnow().date(), "mode": mode, "language": language}
            for _answers, mode, language, day in batch])
        answers = [{"response_id": response_id, "question_id": a.question_id, "value": a.value,
                    "number": a.number, "text": a.text}
                   for response_id, (row_answers, *_rest) in zip(ids, batch) for a in row_answers]
        if answers:
            connection.execute(_INSERT_ANSWERS, answers)
    return len(rows)


def record_response(survey: Survey, answers: list[AnswerValue], mode: str = "web",
                    language: str = "en") -> int:
    """Store one submission atomically; the response's id."""
    try:
        response_id = store_response(survey.id, answers, mode, language)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return response_id
