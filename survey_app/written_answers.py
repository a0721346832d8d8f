"""What residents wrote: the written answers to one question, for staff allowed to read them
(``accounts.PERMISSIONS``: "read_text", editors and admins).

Read here and on a response's own page only: never on a public page, in the open data or in
results.json (the analysis never loads them; it counts them), and never in a log. The words
searched for travel in the form's body, not in the page's address, which access logs and
browser histories keep; the pages are not cached.

Filters are the stored responses' (``response_review.ResponseFilters``: mode, language, dates,
each demographic group); the search finds the words anywhere in an answer, upper or lower case
alike (on SQLite for unaccented letters only: its LIKE folds ASCII case), with % and _ taken
literally.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select

from .extensions import db
from .models import Answer, Question, Response, Survey
from .questionnaire.question_types import question_type
from .response_review import ResponseFilters

PAGE_SIZE = 25
MAX_SEARCH = 200


def text_questions(survey: Survey) -> list[Question]:
    """The survey's questions whose answers are written text, in questionnaire order."""
    return [q for q in survey.questions if question_type(q.type).stored_in == "text"]


def other_waves(survey: Survey, question: Question) -> list[Survey]:
    """The series' other waves that ask the same written question (by its code), by wave: the
    same question read wave by wave."""
    if survey.series is None:
        return []
    return [other for other in survey.series.surveys if other.id != survey.id
            and any(q.code == question.code for q in text_questions(other))]


@dataclass(frozen=True)
class Written:
    response_id: int
    submitted_on: dt.date
    mode: str
    language: str
    text: str
    search: str = ""

    def pieces(self) -> list[tuple[str, bool]]:
        """The text in pieces, each marked whether it is what was searched for (to highlight)."""
        if not self.search:
            return [(self.text, False)]
        parts = re.split(f"({re.escape(self.search)})", self.text, flags=re.IGNORECASE)
        return [(part, i % 2 == 1) for i, part in enumerate(parts) if part]


@dataclass(frozen=True)
class WrittenPage:
    answers: list[Written]
    page: int
    pages: int
    total: int  # answers matching the filters and the search
    answered: int  # everyone who wrote an answer to the question


def clean_search(raw: str | None) -> str:
    return " ".join((raw or "").split())[:MAX_SEARCH]


def _like(words: str) -> str:
    """A LIKE pattern finding ``words`` anywhere, with LIKE's own wildcards taken literally."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def written_page(survey: Survey, question: Question, page: int = 1, filters: ResponseFilters | None = None,
                 search: str = "") -> WrittenPage:
    """One page of the question's written answers matching the filters and the search, newest
    date first (response ids are random: they only break ties)."""
    written = [Answer.question_id == question.id, Answer.text.is_not(None), Answer.text != ""]
    where = written + (filters or ResponseFilters()).conditions(survey)
    search = clean_search(search)
    if search:
        where.append(Answer.text.ilike(_like(search), escape="\\"))

    def count(conditions) -> int:
        return db.session.scalar(select(func.count()).select_from(Answer)
                                 .join(Response, Response.id == Answer.response_id).where(*conditions))

    answered = count(written + [Response.survey_id == survey.id])
    total = count(where)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        select(Answer.response_id, Response.submitted_on, Response.mode, Response.language, Answer.text)
        .join(Response, Response.id == Answer.response_id).where(*where)
        .order_by(Response.submitted_on.desc(), Response.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return WrittenPage([Written(*row, search=search) for row in rows], page, pages, total, answered)
