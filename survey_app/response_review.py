"""Staff review of stored responses: a page of the list, one response with its answers, removal.

Removal is for a response entered by mistake, a test, or one clearly not genuine. It deletes the
response and its answers for good, in one transaction with an audit entry that says who removed
it, why, and the response's survey, mode, language and date, never its answers. Nothing is
cached: the counts, the next analysis and the next published version leave it out at once
(published versions keep the figures they showed, and the rule across versions treats it as a
change; a quote of its words is taken out of them, written_quotes.take_out).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import delete, func, select

from . import audit, written_masking
from .analysis import frame_cache
from .extensions import db
from .models import Answer, Question, Response, Survey, WrittenQuote
from .questionnaire.question_types import question_type
from .questionnaire.types import AnswerRefused

PAGE_SIZE = 50
MAX_REASON = 1000


class RemovalRefused(ValueError):
    """The removal form is incomplete; the message is for the staff member."""


@dataclass(frozen=True)
class ResponsePage:
    responses: list[Response]
    page: int
    pages: int
    total: int  # responses matching the filters
    everyone: int  # responses of the survey


@dataclass
class ResponseFilters:
    """What the list is narrowed to (all optional): mode, language, dates, and an answer to each
    question tagged as demographics (district, age band...) by its code. ``problems`` says, in
    words, which filter could not be read (that one is left out, the others apply)."""

    mode: str = ""
    language: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    groups: dict[str, int] | None = None  # question code -> option code
    problems: list[str] | None = None

    @classmethod
    def from_args(cls, args, survey: Survey, modes, languages) -> "ResponseFilters":
        from .population import weighting_variables

        found = cls(groups={}, problems=[])
        if args.get("mode", "") in modes:
            found.mode = args["mode"]
        if args.get("language", "") in languages:
            found.language = args["language"]
        for name, label in (("since", "From"), ("until", "To")):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    setattr(found, name, dt.date.fromisoformat(raw))
                except ValueError:
                    found.problems.append(f"{label}: “{raw}” is not a date; write it as YYYY-MM-DD, e.g. 2026-11-30.")
        if found.since and found.until and found.since > found.until:
            found.problems.append(f"From ({found.since.isoformat()}) is after To ({found.until.isoformat()}): no "
                                  "response could match, so neither date is used. Swap them or change one.")
            found.since = found.until = None
        for code, variable in weighting_variables(survey).items():
            raw = args.get(f"g_{code}", "")
            if raw and raw.lstrip("-").isdigit() and int(raw) in {c for c, _ in variable.options}:
                found.groups[code] = int(raw)
        return found

    def active(self) -> bool:
        return bool(self.mode or self.language or self.since or self.until or self.groups)

    def conditions(self, survey: Survey) -> list:
        """SQL conditions on ``Response`` for the survey's responses these filters keep."""
        where = [Response.survey_id == survey.id]
        if self.mode:
            where.append(Response.mode == self.mode)
        if self.language:
            where.append(Response.language == self.language)
        if self.since:
            where.append(Response.submitted_on >= self.since)
        if self.until:
            where.append(Response.submitted_on <= self.until)
        questions = {q.code: q.id for q in survey.questions}
        for code, value in (self.groups or {}).items():
            where.append(Response.id.in_(select(Answer.response_id).where(Answer.question_id == questions[code],
                                                                          Answer.value == value)))
        return where

    def as_args(self) -> dict:
        """The filters as the list's address carries them (for the pages' links)."""
        args = {"mode": self.mode, "language": self.language,
                "since": self.since.isoformat() if self.since else "", "until": self.until.isoformat() if self.until else "",
                **{f"g_{code}": value for code, value in (self.groups or {}).items()}}
        return {key: value for key, value in args.items() if value != ""}


def response_page(survey: Survey, page: int = 1, filters: ResponseFilters | None = None) -> ResponsePage:
    """One page of a survey's responses matching ``filters``, newest date first (ids are random:
    they only break ties)."""
    where = (filters or ResponseFilters()).conditions(survey)
    everyone = db.session.scalar(select(func.count()).select_from(Response).where(Response.survey_id == survey.id))
    total = db.session.scalar(select(func.count()).select_from(Response).where(*where)) if len(where) > 1 else everyone
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        select(Response).where(*where)
        .order_by(Response.submitted_on.desc(), Response.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return ResponsePage(list(rows), page, pages, total, everyone)


def find_response(survey: Survey, response_id: int) -> Response | None:
    return db.session.scalar(select(Response).where(Response.id == response_id, Response.survey_id == survey.id))


@dataclass(frozen=True)
class ShownAnswer:
    question: Question
    shown: str | None  # what the staff member reads; None for withheld free text
    withheld: bool = False  # written text this role may not read
    refused: str = ""  # why the analysis leaves this answer out ("" if it does not)
    masked: bool = False  # a written answer whose personal details were masked (see its masking page)


def answers_shown(survey: Survey, response: Response, may_read_text: bool) -> list[ShownAnswer]:
    """The response's answers in questionnaire order, as words; written text only if ``may_read_text``,
    and then with personal details masked as on the reading page (the masks staff kept for a
    written question; found now for an "other" written beside a choice)."""
    from .written_answers import masks_of, text_questions  # it builds on this module's filters

    stored = {a.question_id: a for a in db.session.scalars(select(Answer).where(Answer.response_id == response.id))}
    written = {q.id for q in text_questions(survey)}
    shown = []
    for question in sorted(survey.questions, key=lambda q: q.position):
        answer = stored.get(question.id)
        kind = question_type(question.type)
        if not kind.stores_answers or answer is None:
            continue
        refused = ""
        try:
            kind.check_stored(question, answer.value, answer.number, answer.text)
        except AnswerRefused as problem:
            refused = str(problem)
        if may_read_text and answer.text:
            if question.id in written:
                spans = masks_of(question, [(response.id, answer.text, response.language)])[response.id]
            else:
                spans = written_masking.find(answer.text, response.language)
            answer = SimpleNamespace(value=answer.value, number=answer.number,
                                     text=written_masking.masked(answer.text, spans))
        text, withheld = kind.shown(question, answer, may_read_text)
        shown.append(ShownAnswer(question, text, withheld, refused, masked=question.id in written and may_read_text))
    return shown


def answer_count(response: Response) -> int:
    return db.session.scalar(select(func.count()).select_from(Answer).where(Answer.response_id == response.id))


def remove_response(survey: Survey, response: Response, reason: str, user=None) -> None:
    """Delete a response and its answers with an audit entry, committed together (RemovalRefused
    without a reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise RemovalRefused("Give the reason for removing this response (for example: a test, entered twice, "
                             "clearly not genuine).")
    if len(reason) > MAX_REASON:
        raise RemovalRefused(f"Shorten the reason to {MAX_REASON:,} characters (it is {len(reason):,} now).")
    submitted_on: dt.date = response.submitted_on
    from . import written_quotes  # it builds on the reading pages, which build on this module

    quoted = db.session.scalars(select(WrittenQuote).where(WrittenQuote.response_id == response.id)).all()
    for quote in quoted:
        written_quotes.take_out(survey, quote)  # a removed response's words leave what is public too
    try:
        audit.record("response.remove", f"survey {survey.slug}", user=user, reason=reason, mode=response.mode,
                     language=response.language, submitted_on=submitted_on.isoformat())
        db.session.execute(delete(Answer).where(Answer.response_id == response.id))
        db.session.execute(delete(Response).where(Response.id == response.id))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    frame_cache.forget(current_app.config["GENERATED_DIR"], survey.slug)  # nothing of it stays behind
    if quoted:
        written_quotes.settle(survey)
