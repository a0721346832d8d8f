"""What residents wrote: the written answers to one question, for staff allowed to read them
(``accounts.PERMISSIONS``: "read_text", editors and admins).

Read here and on a response's own page only: never on a public page, in the open data or in
results.json (the analysis never loads them; it counts them), and never in a log. The words
searched for travel in the form's body, not in the page's address, which access logs and
browser histories keep; the pages are not cached.

Shown masked (written_masking.py: names, phone numbers, addresses... as "[name]"), the masks
found once per answer and kept in ``WrittenMask``; staff see what each mask hides on the
answer's masking page, unmask a false alarm or mask more (audited, without the words).

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
from sqlalchemy.exc import IntegrityError

from . import audit, written_masking
from .extensions import db
from .models import Answer, Question, Response, Survey, WrittenMask
from .written_masking import Span
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
    text: str  # masked
    search: str = ""
    masks: int = 0  # how many spans are masked

    def pieces(self) -> list[tuple[str, bool]]:
        """The text in pieces, each marked whether it is what was searched for (to highlight)."""
        if not self.search:
            return [(self.text, False)]
        parts = re.split(f"({re.escape(self.search)})", self.text, flags=re.IGNORECASE)
        return [(part, i % 2 == 1) for i, part in enumerate(parts) if part]

    @property
    def found_in_mask(self) -> bool:
        """Searched for, but the words found are masked here (the search reads the words as written)."""
        return bool(self.search) and not any(found for _, found in self.pieces())


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


def _where(survey: Survey, question: Question, filters: ResponseFilters | None, search: str) -> list:
    where = [Answer.question_id == question.id, Answer.text.is_not(None), Answer.text != ""]
    where += (filters or ResponseFilters()).conditions(survey)
    if search:
        where.append(Answer.text.ilike(_like(search), escape="\\"))
    return where


def matching_ids(survey: Survey, question: Question, filters: ResponseFilters | None, search: str) -> list[int]:
    """The responses whose answer the page's filters and search find (coding them in bulk)."""
    return db.session.scalars(select(Answer.response_id).join(Response, Response.id == Answer.response_id)
                              .where(*_where(survey, question, filters, clean_search(search)))).all()


def written_page(survey: Survey, question: Question, page: int = 1, filters: ResponseFilters | None = None,
                 search: str = "") -> WrittenPage:
    """One page of the question's written answers matching the filters and the search, newest
    date first (response ids are random: they only break ties)."""
    written = [Answer.question_id == question.id, Answer.text.is_not(None), Answer.text != ""]
    search = clean_search(search)
    where = _where(survey, question, filters, search)

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
    masks = masks_of(question, [(row.response_id, row.text, row.language) for row in rows])
    return WrittenPage([Written(row.response_id, row.submitted_on, row.mode, row.language,
                                written_masking.masked(row.text, masks[row.response_id]), search=search,
                                masks=len(masks[row.response_id])) for row in rows],
                       page, pages, total, answered)


# --- masks ------------------------------------------------------------------------------------

def masks_of(question: Question, answers: list[tuple[int, str, str]]) -> dict[int, list[Span]]:
    """The masked spans of each answer ((response id, text, language)), found now for answers
    never masked or masked by older rules and never edited by staff, and kept (committed)."""
    ids = [response_id for response_id, _, _ in answers]
    kept = {row.response_id: row for row in db.session.scalars(
        select(WrittenMask).where(WrittenMask.question_id == question.id, WrittenMask.response_id.in_(ids)))}
    spans, changed = {}, False
    for response_id, text, language in answers:
        row = kept.get(response_id)
        if row is not None and (row.edited or row.rules >= written_masking.RULES):
            spans[response_id] = [Span.from_row(r) for r in row.spans]
            continue
        spans[response_id] = written_masking.find(text, language)
        if row is None:
            db.session.add(WrittenMask(question_id=question.id, response_id=response_id, edited=False,
                                       rules=written_masking.RULES, spans=[s.as_row() for s in spans[response_id]]))
        else:
            row.spans, row.rules = [s.as_row() for s in spans[response_id]], written_masking.RULES
        changed = True
    if changed:
        try:
            db.session.commit()
        except IntegrityError:  # another request masked them at the same moment: same rules, same spans
            db.session.rollback()
    return spans


class MaskRefused(ValueError):
    pass


def answer_of(question: Question, response_id: int) -> tuple[Answer, Response] | None:
    row = db.session.execute(select(Answer, Response).join(Response, Response.id == Answer.response_id)
                             .where(Answer.question_id == question.id, Answer.response_id == response_id,
                                    Answer.text.is_not(None))).first()
    return (row[0], row[1]) if row else None


def _mask_row(question: Question, answer: Answer, language: str) -> WrittenMask:
    masks_of(question, [(answer.response_id, answer.text, language)])
    return db.session.get(WrittenMask, (question.id, answer.response_id))


def unmask(question: Question, answer: Answer, language: str, start: int, end: int, user=None) -> Span:
    """Take a mask off (a false alarm); audited with its kind, never the words."""
    row = _mask_row(question, answer, language)
    spans = [Span.from_row(r) for r in row.spans]
    span = next((s for s in spans if (s.start, s.end) == (start, end)), None)
    if span is None:
        raise MaskRefused("That mask is no longer there (someone changed this answer's masks): here they are now.")
    row.spans = [s.as_row() for s in spans if s is not span]
    row.edited = True
    audit.record("written.unmask", f"survey {question.survey.slug}", user=user, question=question.code,
                 response=answer.response_id,
                 kind=span.kind, found_by=span.by)
    db.session.commit()
    return span


def mask_more(question: Question, answer: Answer, language: str, words: str, kind: str, user=None) -> int:
    """Mask every place ``words`` occur in the answer as ``kind``; how many places. Audited with
    the kind and the count, never the words."""
    if kind not in written_masking.KINDS:
        raise MaskRefused("Choose what the words are (a name, a phone number...).")
    if not " ".join((words or "").split()):
        raise MaskRefused("Type the words to mask, as they are written in the answer.")
    added = written_masking.staff_span(answer.text, words, kind)
    if not added:
        raise MaskRefused("Those words are not in this answer: type them as they are written (upper or lower "
                          "case does not matter).")
    row = _mask_row(question, answer, language)
    row.spans = [s.as_row() for s in written_masking.merge([Span.from_row(r) for r in row.spans] + added)]
    row.edited = True
    audit.record("written.mask", f"survey {question.survey.slug}", user=user, question=question.code,
                 response=answer.response_id,
                 kind=kind, places=len(added))
    db.session.commit()
    return len(added)
