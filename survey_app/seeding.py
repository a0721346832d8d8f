"""Seeding a database with generated responses in bulk: the demo (``flask seed-demo``), tests
and benchmarks, up to millions of responses.

Takes a plain SQLAlchemy connection and a batch from ``synthetic.generate_responses``. The
responses get random ids as every response does (``responses.insert_responses``); their
answers go in by the fastest path each database has: on PostgreSQL streamed with COPY, an
order of magnitude faster than batched INSERTs for millions of rows; elsewhere the DB-API's
executemany with plain tuples. Submissions from residents, staff and imports are stored by
``responses``, never here.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy.engine import Connection

from .models import Question, Survey
from .responses import insert_responses
from .synthetic import NOT_ANSWERED, SyntheticResponses

ANSWER_COLUMNS = ("response_id", "question_id", "value", "number", "text")


def _answer_rows(questions: list[Question], batch: SyntheticResponses, response_ids: np.ndarray):
    for question in questions:
        if question.code in batch.values:
            values = batch.values[question.code]
            keep = values != NOT_ANSWERED
            yield from zip(response_ids[keep].tolist(), [question.id] * int(keep.sum()),
                           values[keep].tolist(), [None] * int(keep.sum()), [None] * int(keep.sum()))
        elif question.code in batch.numbers:
            numbers = batch.numbers[question.code]
            keep = ~np.isnan(numbers)
            count = int(keep.sum())
            yield from zip(response_ids[keep].tolist(), [question.id] * count, [None] * count,
                           numbers[keep].tolist(), [None] * count)
        elif question.code in batch.texts:
            for response_id, text in zip(response_ids.tolist(), batch.texts[question.code]):
                if text is not None:
                    yield (response_id, question.id, None, None, text)


def insert_synthetic_responses(connection: Connection, survey: Survey, batch: SyntheticResponses,
                               mode: str = "web", chunk: int = 50_000) -> int:
    """Insert a batch of synthetic responses; returns how many responses were stored."""
    response_ids = []
    for start in range(0, batch.n, chunk):
        rows = [
            {"survey_id": survey.id, "submitted_on": day, "mode": mode, "language": "en"}
            for day in batch.submitted_on[start:start + chunk]
        ]
        response_ids.extend(insert_responses(connection, rows))
    ids = np.asarray(response_ids, dtype=np.int64)
    insert_answers(connection, list(survey.questions), batch, ids)
    return len(ids)


def insert_answers(connection: Connection, questions: list[Question], batch: SyntheticResponses,
                   response_ids: np.ndarray) -> None:
    """Insert a batch's answers, question by question, for responses already stored with
    ``response_ids`` (in the batch's order)."""
    rows = _answer_rows(questions, batch, response_ids)
    dbapi = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with dbapi.cursor() as cursor:
            with cursor.copy(f"COPY answer ({', '.join(ANSWER_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        placeholders = ", ".join(marker for _ in ANSWER_COLUMNS)
        statement = f"INSERT INTO answer ({', '.join(ANSWER_COLUMNS)}) VALUES ({placeholders})"
        cursor = dbapi.cursor()
        cursor.executemany(statement, rows)
        cursor.close()
